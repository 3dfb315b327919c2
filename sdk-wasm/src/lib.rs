//! Sightline's browser recorder, compiled to WebAssembly and embedded in customer pages through
//! the `@sightline/browser` npm package.
//!
//! Building blocks: [`session`] keeps a session's identity across the page loads of a tab,
//! [`tape`] reads what the page's DOM walker hands over, [`intake`] every other event the page's
//! JavaScript describes, [`batcher`] turns recorded events into numbered wire batches,
//! [`transport`] decides how they are delivered, [`digits`] writes numbers without
//! `core::fmt`, [`browser`] binds them to the page, and [`recorder`] is what the npm package
//! drives.

pub mod batcher;
pub mod digits;
pub mod intake;
#[cfg(test)]
mod js_contract;
pub mod session;
pub mod tape;
pub mod transport;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod recorder;

/// A first-fit free list in place of the standard library's `dlmalloc`: about 2 KB less for
/// every page to load. The recorder's heap is a few long-lived buffers and short bursts of event
/// data, which keep the list short (`tests/browser_heap.rs` records 19 MB into a 2 MiB queue).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
