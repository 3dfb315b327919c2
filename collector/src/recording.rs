//! A whole session read back, one batch at a time, for the two services that look at every
//! event of a session: the analyzer and the support digest.
//!
//! Limits hold per batch when it arrives; a session is many batches, and a batch that
//! compresses 250:1 decodes to tens of megabytes. So a session is never decoded whole: each
//! batch is decoded, its events handed over in recorded order, and dropped before the next.
//! What the readers keep is bounded on their side (the replay core's finders keep at most so
//! many nodes, clicks and lines). And a session holds at most [`MAX_SESSION_BATCHES`] batches
//! and [`MAX_SESSION_DECODED`] bytes of decoded payload: ingest refuses what would pass them,
//! and a reading stops there (for sessions stored before the caps).

use sightline_protocol::frame::HEADER_LEN;
use sightline_protocol::{decode_batch, EventData, SessionId};

use sightline_protocol::stream::STORED_LIMITS;

use crate::store::{Store, StoreError};

/// Batches a session holds at most: a batch every 5 s for a 12-hour session is 8,640.
pub const MAX_SESSION_BATCHES: u64 = 20_000;
/// Decoded payload bytes a session holds at most: about 40 hours of a busy app's recording.
pub const MAX_SESSION_DECODED: u64 = 128 << 20;

/// What reading a session got through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The session's batches, all of them, read or not.
    pub batches: u64,
    /// Whether every batch was read; false when the session passes the caps.
    pub complete: bool,
}

/// The decoded payload length a framed batch declares in its header (0 for foreign bytes).
pub fn decoded_len(bytes: &[u8]) -> u64 {
    match bytes.get(4..HEADER_LEN) {
        Some(&[a, b, c, d]) => u64::from(u32::from_le_bytes([a, b, c, d])),
        _ => 0,
    }
}

/// Hands every event of a session to `visit` in recorded order (`(page, seq)`, then the
/// batch's own order), with its absolute time and page, one batch in memory at a time.
pub fn read_session(
    store: &dyn Store,
    project: u32,
    session: SessionId,
    mut visit: impl FnMut(u64, u32, &EventData),
) -> Result<Reading, StoreError> {
    let mut reading = Reading { batches: 0, complete: true };
    let mut decoded = 0u64;
    for entry in store.batches(project, session) {
        let (key, bytes) = entry?;
        reading.batches += 1;
        decoded = decoded.saturating_add(decoded_len(&bytes));
        if !reading.complete || reading.batches > MAX_SESSION_BATCHES || decoded > MAX_SESSION_DECODED {
            // Counted, not read.
            reading.complete = false;
            continue;
        }
        let batch = decode_batch(&bytes, &STORED_LIMITS).map_err(|e| StoreError::Corrupt {
            key: format!("batch {}/{}/{}", key.session, key.page, key.seq),
            message: e.to_string(),
        })?;
        drop(bytes);
        for event in batch.timed_events() {
            visit(event.time, batch.page, &event.event.data);
        }
    }
    Ok(reading)
}
