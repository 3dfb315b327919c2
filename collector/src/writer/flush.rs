//! The flusher: makes applied groups durable with one fsync for everything applied so far, and
//! only then answers their requests, and tells whoever follows a session that its batch is
//! stored.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::broadcast;

use super::{Outcome, Reply, TelemetryOutcome};
use crate::metrics::METRICS;
use crate::store::{BatchKey, Store, StoreError};

/// An applied group waiting for the flush that makes it durable.
pub(super) struct Applied {
    pub(super) replies: Vec<(Reply<Outcome>, Outcome)>,
    pub(super) telemetry: Vec<(Reply<TelemetryOutcome>, TelemetryOutcome)>,
    pub(super) stored: Vec<(BatchKey, usize, u64)>,
}

pub(super) fn flush_loop(store: Arc<dyn Store>, rx: Receiver<Applied>, durable: broadcast::Sender<BatchKey>) {
    while let Ok(first) = rx.recv() {
        let mut pending = vec![first];
        pending.extend(rx.try_iter());
        let started = Instant::now();
        // A failed flush may have made some of it durable: it is answered as not acknowledged
        // (a retry of what was stored after all is a duplicate).
        let result = store.flush();
        let batches = pending.iter().map(|a| a.stored.len()).sum();
        METRICS.flushed(started.elapsed(), batches);
        if let Err(e) = &result {
            tracing::error!(error = %e, "flush failed; the batches waiting on it are refused");
        }
        for applied in pending {
            if result.is_ok() {
                for (key, bytes, events) in applied.stored {
                    METRICS.stored(bytes, events);
                    // Nobody following is no error.
                    let _ = durable.send(key);
                }
            }
            for (reply, outcome) in applied.telemetry {
                let _ = reply.send(result.as_ref().map(|()| outcome).map_err(StoreError::not_acknowledged));
            }
            for (reply, outcome) in applied.replies {
                let answer = match &result {
                    Ok(()) => {
                        match outcome {
                            Outcome::Duplicate => METRICS.duplicate(),
                            Outcome::Dropped => METRICS.dropped(),
                            Outcome::Stored
                            | Outcome::SessionFull
                            | Outcome::Conflict
                            | Outcome::NotWriter
                            | Outcome::OverQuota
                            | Outcome::Closed => {}
                        }
                        Ok(outcome)
                    }
                    Err(e) => Err(e.not_acknowledged()),
                };
                let _ = reply.send(answer);
            }
        }
    }
}
