//! The retention sweep: removes sessions first seen longer ago than their project keeps them,
//! and tombstones of deleted sessions once no batch of theirs can still be in flight.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::api::now_ms;
use crate::projects::Projects;
use crate::store::Store;
use crate::writer::{DeleteTarget, Writer};

/// Sessions deleted per project per pass at most.
const MAX_PER_PASS: usize = 10_000;
/// Sessions per deletion command: ingest waits behind one command at a time, never a pass.
const CHUNK: usize = 100;
/// Tombstones are kept at least this long, whatever the project's retention: a page keeps what
/// it could not deliver for up to 3 days (the SDK's stash), and a batch of an erased session
/// arriving that late must still be dropped, never bring the session back.
const TOMBSTONES_AT_LEAST_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Tombstones older than this are purged: past the project's retention and past the time a
/// late batch can still arrive.
fn tombstone_cutoff(now: u64, sessions_cutoff: u64) -> u64 {
    sessions_cutoff.min(now.saturating_sub(TOMBSTONES_AT_LEAST_MS))
}

/// Removes what has expired now; returns how many sessions went.
pub fn sweep(store: &dyn Store, writer: &Writer, projects: &Projects) -> usize {
    let mut removed = 0;
    for project in projects.iter() {
        let cutoff = now_ms().saturating_sub(project.retention().as_millis() as u64);
        let expired: Result<Vec<_>, _> =
            store.listed_before(project.id, cutoff).take(MAX_PER_PASS).map(|l| l.map(|l| l.session)).collect();
        let expired = match expired {
            Ok(sessions) => sessions,
            Err(e) => {
                tracing::error!(error = %e, project = %project.config.name, "retention: listing failed");
                continue;
            }
        };
        for chunk in expired.chunks(CHUNK) {
            let target = DeleteTarget::Sessions(chunk.to_vec());
            match writer.delete(project.id, target, now_ms()).map(|rx| rx.blocking_recv()) {
                Ok(Ok(Ok(n))) => removed += n,
                Ok(Ok(Err(e))) => {
                    tracing::error!(error = %e, "retention: delete failed");
                    break;
                }
                _ => {
                    tracing::warn!("retention: the writer is busy or stopping; next pass will retry");
                    break;
                }
            }
        }
        expire_telemetry(writer, project.id, cutoff);
        if let Err(e) = store.purge_tombstones(project.id, tombstone_cutoff(now_ms(), cutoff)) {
            tracing::error!(error = %e, "retention: purging tombstones failed");
        }
    }
    if removed > 0 {
        tracing::info!(sessions = removed, "retention sweep removed expired sessions");
    }
    removed
}

/// Removes the backend records of traces first received before `cutoff`, a bounded command
/// at a time.
fn expire_telemetry(writer: &Writer, project: u32, cutoff: u64) {
    for _ in 0..MAX_PER_PASS / CHUNK {
        match writer.delete(project, DeleteTarget::TelemetryBefore(cutoff), now_ms()).map(|rx| rx.blocking_recv()) {
            Ok(Ok(Ok(0))) => return,
            Ok(Ok(Ok(n))) => tracing::info!(traces = n, "retention removed expired backend records"),
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "retention: expiring backend records failed");
                return;
            }
            _ => return,
        }
    }
}

/// The sweep running on its own thread until dropped.
pub struct Sweeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sweeper {
    /// Sweeps now and then every `interval`.
    pub fn start(store: Arc<dyn Store>, writer: Arc<Writer>, projects: Arc<Projects>, interval: Duration) -> Sweeper {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sightline-retention".into())
            .spawn(move || loop {
                sweep(store.as_ref(), &writer, &projects);
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            })
            .expect("spawning the retention thread");
        Sweeper { stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tombstones_outlive_what_a_page_may_still_send() {
        let day = 24 * 60 * 60 * 1000;
        let now = 100 * day;
        // A project keeping sessions for 1 day keeps tombstones for 7.
        assert_eq!(tombstone_cutoff(now, now - day), now - 7 * day);
        // One keeping them for 30 days keeps tombstones as long.
        assert_eq!(tombstone_cutoff(now, now - 30 * day), now - 30 * day);
    }
}
