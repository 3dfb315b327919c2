//! Sightline's replay core: a recorded session's page rebuilt at any moment.
//!
//! [`Replay`] orders a session's events in time; [`Replay::dom_at`] rebuilds the page as it was
//! at a moment, starting from the latest keyframe before it, so seeking anywhere costs at most
//! one keyframe interval of changes; [`html::to_html`] writes the result as inert HTML for a
//! sandboxed frame. The viewer compiles this crate to wasm; tests use it natively to compare a
//! replay with the live page.

pub mod dom;
pub mod facts;
pub mod html;
pub mod stream;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use dom::{ReplayDom, ReplayNode};
pub use stream::{read_stream, StreamError};

use sightline_protocol::{Batch, EventData};

/// A session's events in the order they happened, each with its page and absolute time.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    events: Vec<(u64, u32, EventData)>,
}

impl Replay {
    /// The events of a session's batches, taken in `(page, seq)` order as the collector streams
    /// them.
    pub fn new(batches: &[Batch]) -> Replay {
        let mut ordered: Vec<&Batch> = batches.iter().collect();
        ordered.sort_by_key(|b| (b.page, b.seq));
        let events = ordered
            .into_iter()
            .flat_map(|batch| batch.timed_events().map(move |e| (e.time, batch.page, e.event.data.clone())))
            .collect();
        Replay { events }
    }

    /// The events with their times and pages, in order.
    pub fn events(&self) -> &[(u64, u32, EventData)] {
        &self.events
    }

    /// Time of the first and the last event.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((self.events.first()?.0, self.events.iter().map(|e| e.0).max()?))
    }

    /// The page as it was at `time` (ms since the epoch): the latest snapshot at or before it,
    /// with every change after that snapshot up to `time`.
    pub fn dom_at(&self, time: u64) -> ReplayDom {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        let from =
            self.events[..until].iter().rposition(|(_, _, data)| matches!(data, EventData::Snapshot(_))).unwrap_or(0);
        let mut dom = ReplayDom::new();
        for (_, _, data) in &self.events[from..until] {
            dom.apply(data);
        }
        dom
    }

    /// The page as it was after the last event.
    pub fn dom_at_end(&self) -> ReplayDom {
        self.dom_at(u64::MAX)
    }
}
