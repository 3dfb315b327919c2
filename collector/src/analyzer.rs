//! The analyzer: finds each session's frustration signals (rage, dead and error clicks) so the
//! session list can filter on them, and the digest's headline the list shows.
//!
//! A signal can span batches (a click in one, the silence or the error after it in the next),
//! so it is found over the whole recording, with the replay core's rules, the same ones the
//! viewer and the digest apply. A session is analysed once it has been quiet for a moment, or
//! now and then while it keeps changing (see [`PendingAnalysis`]); the counts reach its summary
//! through the writer, which keeps them only if no batch arrived since the analysis read the
//! session (a newer batch marks it for analysis again).
//!
//! A session is read one batch at a time ([`read_session`]) into the digest's [`Recording`],
//! whose replay-core finders keep bounded state, so an analysis takes bounded memory whatever
//! the recording holds. Should one still bring the process down, it can't do so twice in a row:
//! before a heavy session is analysed, a mark is made durable; a mark found at the next start
//! means that analysis never finished, and the session gets one more try, then none.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sightline_protocol::SessionId;

use crate::digest::{self, Digest, Recording};
use crate::metrics::METRICS;
use crate::recording::read_session;
use crate::store::{Store, StoreError};
use crate::summary::{Analysis, SessionSummary};
use crate::webhooks::Webhooks;
use crate::writer::{PendingAnalysis, Writer};

/// Sessions analysed per pass at most.
const PER_PASS: usize = 200;
/// Recent sessions checked at start for analyses a restart interrupted.
const RECHECKED_AT_START: usize = 10_000;
/// Sessions with more decoded payload than this are marked durably before their analysis (see
/// the module's docs); lighter ones can't bring the process down, and skip the cost of a flush.
const MARKED_ABOVE_DECODED: u64 = 8 << 20;

/// The signal counts and the digest's headline of a session's recording, and how many batches
/// they cover; and the digest, its links on `link_base`, for the webhooks.
pub fn analyse(
    store: &dyn Store,
    project: u32,
    session: SessionId,
    link_base: &str,
) -> Result<(Analysis, Digest), StoreError> {
    let mut recording = Recording::default();
    let reading = read_session(store, project, session, |time, page, data| recording.push(time, page, data))?;
    let summary = store.summary(project, session)?.unwrap_or_else(|| SessionSummary::new(session, 0));
    // The webhooks' receivers are the team's tools: the notes go with the digest.
    let digest = digest::build(store, project, &summary, recording, link_base, digest::Notes::Included)?;
    let analysis = Analysis { batches: reading.batches, signals: digest.signals, headline: digest.headline.clone() };
    Ok((analysis, digest))
}

/// The durable mark of a heavy session's analysis under way.
fn mark_name(project: u32, session: SessionId) -> String {
    format!("analysing/{project}/{session}")
}

/// What the mark says.
const STARTED: &[u8] = b"started";
const RETRYING: &[u8] = b"retrying";
const DONE: &[u8] = b"";

/// Whether to analyse the session now, marking it first when it is `heavy`: not when an
/// analysis of it was cut short twice.
fn may_analyse(store: &dyn Store, project: u32, session: SessionId, heavy: bool) -> Result<bool, StoreError> {
    let name = mark_name(project, session);
    let mark = store.meta(&name)?;
    let next = match mark.as_deref() {
        Some(RETRYING) => {
            METRICS.analysis_skipped();
            tracing::error!(%session, "analysing this session stopped the collector twice; it is not analysed again");
            return Ok(false);
        }
        Some(STARTED) => {
            tracing::warn!(%session, "analysing this session stopped the collector; trying once more");
            RETRYING
        }
        _ if heavy => STARTED,
        _ => return Ok(true),
    };
    store.set_meta(&name, next)?;
    Ok(true)
}

/// The analysis of a session ended, one way or another, without stopping the process.
fn analysed(store: &dyn Store, project: u32, session: SessionId) {
    let name = mark_name(project, session);
    if store.meta(&name).ok().flatten().is_some_and(|mark| mark != DONE) {
        let _ = store.set_meta(&name, DONE);
    }
}

/// The analyzer thread, stopped when dropped.
pub struct Analyzer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Analyzer {
    /// Starts analysing the sessions the writer marks in `pending`, after first marking recent
    /// sessions whose counts are behind (a restart forgets what was pending).
    pub fn start(
        store: Arc<dyn Store>,
        writer: Arc<Writer>,
        pending: Arc<PendingAnalysis>,
        projects: Vec<u32>,
        webhooks: Arc<Webhooks>,
    ) -> Analyzer {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sightline-analyzer".into())
            .spawn(move || {
                recheck(store.as_ref(), &pending, &projects);
                loop {
                    let due = pending.due(Instant::now(), PER_PASS);
                    let more = due.len() == PER_PASS;
                    for (project, session) in due {
                        let heavy = store
                            .summary(project, session)
                            .map(|s| s.is_some_and(|s| s.decoded_bytes > MARKED_ABOVE_DECODED));
                        match heavy.and_then(|heavy| may_analyse(store.as_ref(), project, session, heavy)) {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(e) => {
                                tracing::warn!(error = %e, %session, "reading a session's analysis mark failed");
                                pending.changed(project, session);
                                continue;
                            }
                        }
                        // A recording that trips the analysis costs its own counts, never the
                        // analysis of every other session.
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            analyse(store.as_ref(), project, session, webhooks.link_base())
                        }));
                        analysed(store.as_ref(), project, session);
                        match result {
                            Ok(Ok((analysis, digest))) => {
                                if writer.record_analysis(project, session, analysis).is_err() {
                                    pending.changed(project, session); // the queue is full: later
                                    continue;
                                }
                                if let Err(e) =
                                    webhooks.session_analysed(project, session, &digest, crate::api::now_ms())
                                {
                                    tracing::warn!(error = %e, %session, "queueing a session's webhooks failed");
                                }
                            }
                            Ok(Err(e)) => {
                                // A store error may pass: try again once the session is due again.
                                tracing::warn!(error = %e, %session, "analysing a session failed");
                                pending.changed(project, session);
                            }
                            Err(_) => tracing::error!(%session, "analysing a session panicked; it keeps no counts"),
                        }
                    }
                    // A full pass means more are due: go on after a glance at the stop signal.
                    let pause = if more { Duration::ZERO } else { Duration::from_secs(1) };
                    match stopped.recv_timeout(pause) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
            })
            .expect("spawning the analyzer thread");
        Analyzer { stop: Some(stop), thread: Some(thread) }
    }
}

fn recheck(store: &dyn Store, pending: &PendingAnalysis, projects: &[u32]) {
    for &project in projects {
        for listed in store.listed(project, None).take(RECHECKED_AT_START) {
            let Ok(listed) = listed else { break };
            if let Ok(Some(summary)) = store.summary(project, listed.session) {
                if summary.analyzed_batches < summary.batch_count {
                    pending.changed(project, listed.session);
                }
            }
        }
    }
}

impl Drop for Analyzer {
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
    fn an_analysis_that_stopped_the_process_is_tried_once_more_then_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SledStore::open(dir.path()).unwrap();
        let (light, heavy) = (SessionId([1; 16]), SessionId([2; 16]));
        assert!(may_analyse(&store, 1, light, false).unwrap());
        assert_eq!(store.meta(&mark_name(1, light)).unwrap(), None, "a light session is not marked");
        // A heavy session is marked, and the mark cleared when its analysis ends.
        assert!(may_analyse(&store, 1, heavy, true).unwrap());
        analysed(&store, 1, heavy);
        assert!(may_analyse(&store, 1, heavy, true).unwrap(), "analysed again after a clean end");
        // The process stops mid-analysis (the mark stays): one more try, then none.
        assert!(may_analyse(&store, 1, heavy, true).unwrap(), "tried once more");
        assert!(!may_analyse(&store, 1, heavy, true).unwrap(), "never a third time");
        assert!(!may_analyse(&store, 1, heavy, true).unwrap());
    }
}
