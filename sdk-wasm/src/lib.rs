//! Sightline's browser recorder, compiled to WebAssembly and embedded in customer pages through
//! the `@sightline/browser` npm package.
//!
//! Building blocks so far: [`session`] keeps a session's identity across the page loads of a
//! tab, [`batcher`] turns recorded events into numbered wire batches, [`transport`] decides how
//! they are delivered, [`stash`] keeps what is undelivered at unload for the next page, and
//! [`browser`] binds them to the page.

pub mod batcher;
pub mod session;
pub mod stash;
pub mod transport;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod recorder;
