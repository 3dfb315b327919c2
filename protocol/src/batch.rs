//! The batch envelope: what makes ingest idempotent and ordered.

use serde::{Deserialize, Serialize};

use crate::{Event, SessionId, TraceKey};

/// One shipment of events from one page of one session.
///
/// `(session, page, seq)` identifies a batch: the SDK numbers each page's batches from 0 and
/// sends a retry with the same numbers, so the collector stores each batch once and replays
/// them in `(page, seq)` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The project's ingest key, as also sent in the `x-sightline-key` header or `key` query.
    pub project: String,
    /// The session this batch belongs to.
    pub session: SessionId,
    /// Index of the page load within the session, from 0; a reload or full navigation adds one.
    pub page: u32,
    /// Sequence number of this batch within its page, from 0.
    pub seq: u32,
    /// Wall-clock time (ms since the Unix epoch) that the first event's `dt` counts from.
    pub start: u64,
    /// Wall-clock time (ms since the Unix epoch) at which the SDK sent the batch, so the
    /// collector can estimate the client's clock skew.
    pub sent: u64,
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The key its requests' trace ids were derived from, when any were (see
    /// [`TraceKey::derive`]); written from protocol version 3 on. [`decode_batch`](crate::decode_batch)
    /// and [`decode_payload`](crate::decode_payload) derive those ids; deserializing a `Batch`
    /// any other way leaves them all zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_key: Option<TraceKey>,
}

/// An event with its absolute time, as produced by [`Batch::timed_events`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedEvent<'a> {
    /// Milliseconds since the Unix epoch, by the client's clock.
    pub time: u64,
    /// The event itself.
    pub event: &'a Event,
}

impl Batch {
    /// The events with absolute times: each event's `dt` counts from the one before it, the
    /// first from [`Batch::start`].
    pub fn timed_events(&self) -> impl Iterator<Item = TimedEvent<'_>> {
        let mut time = self.start;
        self.events.iter().map(move |event| {
            time = time.saturating_add(u64::from(event.dt));
            TimedEvent { time, event }
        })
    }

    /// Time of the last event (or `start` for an empty batch).
    pub fn end(&self) -> u64 {
        self.timed_events().last().map_or(self.start, |e| e.time)
    }
}
