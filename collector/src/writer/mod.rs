//! The single writer: every change to the store goes through one thread, which commits
//! ingested batches in groups: it takes whatever is queued (up to `max_group`), decides each
//! batch (new, duplicate, or of a deleted session), folds new ones into their session summaries,
//! and applies the whole group as one atomic write.
//!
//! Durability is pipelined: a second thread, the flusher, makes applied groups durable with one
//! fsync for everything applied so far and only then answers their requests. While it waits on
//! the disk, the writer prepares and applies the next group, so many requests share one flush,
//! none is acknowledged before its batch is durable, and the disk and the CPU work at once.
//!
//! Deletions go through the same queue, so they are ordered with ingest.
//!
//! - [`group`]: a group of commands, decided and applied as one write.
//! - [`cache`]: the session summaries the writer keeps in memory.
//! - [`flush`]: the flusher, which acknowledges applied groups once they are durable.
//! - [`pending`]: the sessions whose analysis is due, filled here and read by the analyzer.

mod cache;
mod flush;
mod group;
mod pending;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sightline_protocol::{SessionId, TraceId};
use tokio::sync::{broadcast, oneshot};

use crate::store::{BatchKey, Store, StoreError};
use crate::summary::{Analysis, BatchTally, Geo};

use cache::SummaryCache;
use flush::{flush_loop, Applied};
use group::Group;
pub use pending::{PendingAnalysis, MAX_WAIT, QUIET};

/// Durable batches announced to live views that have not taken them yet, at most.
const DURABLE_BACKLOG: usize = 4096;

/// A decoded batch waiting to be stored.
pub struct IngestJob {
    /// Where it goes.
    pub key: BatchKey,
    /// What its session summary needs from it.
    pub tally: BatchTally,
    /// The framed batch as received (its seal taken off), which is what gets stored.
    pub bytes: Vec<u8>,
    /// The SHA-256 of the writer secret the batch was sealed with, as hex; `None` unsealed
    /// (see `sightline_protocol::seal`).
    pub writer: Option<String>,
    /// Where the client IP places the user.
    pub geo: Geo,
    /// When the collector received it (ms since the Unix epoch).
    pub received_at: u64,
    /// The most bytes of batches its project may store, if it has a quota.
    pub quota: Option<u64>,
}

/// Backend records of one OTLP request waiting to be stored.
pub struct TelemetryJob {
    /// Project id.
    pub project: u32,
    /// The records as stored (JSON), each with its trace id.
    pub records: Vec<(TraceId, Vec<u8>)>,
    /// When the collector received them (ms since the Unix epoch).
    pub received_at: u64,
}

impl TelemetryJob {
    /// Bytes the job holds, for the writer queue's byte limit.
    fn bytes(&self) -> usize {
        self.records.iter().map(|(_, json)| json.len() + 16).sum()
    }
}

/// What became of a [`TelemetryJob`]'s records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TelemetryOutcome {
    /// Records stored.
    pub stored: usize,
    /// Records refused because their trace already holds [`MAX_RECORDS_PER_TRACE`].
    pub over_limit: usize,
    /// Records of traces whose session was deleted, dropped.
    pub deleted: usize,
}

/// What became of an ingested batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Stored,
    /// Stored before; not stored again.
    Duplicate,
    /// Its session was deleted; dropped.
    Dropped,
    /// Its session holds as much as a session may (see `recording`); not stored.
    SessionFull,
    /// A different batch is stored under its `(session, page, seq)`; not stored.
    Conflict,
    /// Its session is bound to another writer (its first batch was sealed with another
    /// secret), and it was not sealed with that one; not stored.
    NotWriter,
    /// Its project holds as many bytes as its quota allows; not stored.
    OverQuota,
    /// Its session was first seen longer ago than [`SESSION_WRITE_WINDOW_MS`]; not stored.
    Closed,
}

/// A session takes batches for this long after the collector first saw it: the SDK ends a
/// session after 12 hours and keeps what it could not send for 3 days at most. Past it, a
/// writer's secret (kept in the page's storage) writes nothing more.
pub const SESSION_WRITE_WINDOW_MS: u64 = 4 * 24 * 60 * 60 * 1000;

/// Why the writer could not take a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full.
    Full,
    /// The writer has stopped.
    Closed,
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

pub(crate) enum Command {
    Ingest(Box<IngestJob>, Reply<Outcome>),
    Telemetry(TelemetryJob, Reply<TelemetryOutcome>),
    Analysis { project: u32, session: SessionId, analysis: Analysis },
    Delete { project: u32, target: DeleteTarget, now: u64, reply: Reply<usize> },
}

/// What a deletion removes.
#[derive(Debug, Clone)]
pub enum DeleteTarget {
    /// These sessions.
    Sessions(Vec<SessionId>),
    /// Every session of a user id or email, looked up by the writer itself so that a batch
    /// identifying the user that is already queued is covered.
    User(String),
    /// The backend records of traces first received before this time (ms), up to a bounded
    /// number of records per command; answers how many traces went.
    TelemetryBefore(u64),
}

/// Handle to the writer and flusher threads.
pub struct Writer {
    queue: Mutex<Option<SyncSender<Command>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Bytes of batches queued and not yet taken by the writer.
    queued_bytes: Arc<AtomicUsize>,
    max_queued_bytes: usize,
    /// Sessions whose signal counts are behind their batches.
    pending: Arc<PendingAnalysis>,
    /// Each batch once it is durable, for live views.
    durable: broadcast::Sender<BatchKey>,
}

impl Writer {
    /// Starts the writer and flusher threads over `store`. The queue holds at most `capacity`
    /// commands and `max_queued_bytes` of batch bytes.
    pub fn start(store: Arc<dyn Store>, capacity: usize, max_queued_bytes: usize, max_group: usize) -> Writer {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let taken = queued_bytes.clone();
        let (applied_tx, applied_rx) = mpsc::channel();
        let flusher_store = store.clone();
        let pending = Arc::new(PendingAnalysis::default());
        let (durable, _) = broadcast::channel(DURABLE_BACKLOG);
        let announce = durable.clone();
        let changed = pending.clone();
        let threads = vec![
            std::thread::Builder::new()
                .name("sightline-writer".into())
                .spawn(move || write_loop(store, rx, applied_tx, max_group, &taken, &changed))
                .expect("spawning the writer thread"),
            std::thread::Builder::new()
                .name("sightline-flusher".into())
                .spawn(move || flush_loop(flusher_store, applied_rx, announce))
                .expect("spawning the flusher thread"),
        ];
        Writer {
            queue: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
            queued_bytes,
            max_queued_bytes,
            pending,
            durable,
        }
    }

    /// Every batch from now on, once it is durable. A receiver that falls more than a backlog
    /// behind is told it lagged, and reads the store again.
    pub fn durable_batches(&self) -> broadcast::Receiver<BatchKey> {
        self.durable.subscribe()
    }

    /// The sessions stored batches have changed since their last analysis.
    pub fn pending_analysis(&self) -> Arc<PendingAnalysis> {
        self.pending.clone()
    }

    /// Records what an analysis of a session found over its first `analysis.batches` batches;
    /// ignored if more have been stored since.
    pub fn record_analysis(&self, project: u32, session: SessionId, analysis: Analysis) -> Result<(), SubmitError> {
        self.send(Command::Analysis { project, session, analysis })
    }

    fn send(&self, command: Command) -> Result<(), SubmitError> {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let tx = queue.as_ref().ok_or(SubmitError::Closed)?;
        tx.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) => SubmitError::Full,
            TrySendError::Disconnected(_) => SubmitError::Closed,
        })
    }

    /// Queues a batch; the receiver yields once it is durable (or known to be a duplicate).
    pub fn ingest(&self, job: IngestJob) -> Result<oneshot::Receiver<Result<Outcome, StoreError>>, SubmitError> {
        let len = job.bytes.len();
        self.enqueue(len, |reply| Command::Ingest(Box::new(job), reply))
    }

    /// Queues backend records; the receiver yields once they are durable.
    pub fn telemetry(
        &self,
        job: TelemetryJob,
    ) -> Result<oneshot::Receiver<Result<TelemetryOutcome, StoreError>>, SubmitError> {
        let len = job.bytes();
        self.enqueue(len, |reply| Command::Telemetry(job, reply))
    }

    /// Queues a command carrying `len` bytes, within the queue's byte budget; the bytes count
    /// until the writer takes the command.
    fn enqueue<T>(
        &self,
        len: usize,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<oneshot::Receiver<Result<T, StoreError>>, SubmitError> {
        if self.queued_bytes.fetch_add(len, Ordering::AcqRel) + len > self.max_queued_bytes {
            self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SubmitError::Full);
        }
        let (reply, rx) = oneshot::channel();
        self.send(command(reply)).inspect_err(|_| {
            self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
        })?;
        Ok(rx)
    }

    /// Queues a deletion; the receiver yields, once it is durable, how many sessions existed.
    pub fn delete(
        &self,
        project: u32,
        target: DeleteTarget,
        now: u64,
    ) -> Result<oneshot::Receiver<Result<usize, StoreError>>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Delete { project, target, now, reply })?;
        Ok(rx)
    }

    /// Stops taking commands, lets both threads finish what is queued, and waits for them.
    pub fn shutdown(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        for thread in self.threads.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = thread.join();
        }
    }
}

fn write_loop(
    store: Arc<dyn Store>,
    rx: Receiver<Command>,
    flusher: Sender<Applied>,
    max_group: usize,
    queued_bytes: &AtomicUsize,
    pending: &PendingAnalysis,
) {
    let mut group = Group::default();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(command) = next.take() {
            taken += 1;
            match command {
                Command::Ingest(job, reply) => {
                    queued_bytes.fetch_sub(job.bytes.len(), Ordering::AcqRel);
                    group.add(store.as_ref(), *job, reply)
                }
                Command::Telemetry(job, reply) => {
                    queued_bytes.fetch_sub(job.bytes(), Ordering::AcqRel);
                    group.add_telemetry(store.as_ref(), job, reply)
                }
                Command::Analysis { project, session, analysis } => {
                    if let Err(e) = group.set_analysis(store.as_ref(), project, session, analysis) {
                        tracing::error!(error = %e, "reading the store failed");
                    }
                }
                Command::Delete { project, target, now, reply } => {
                    // What is pending is applied first, so the deletion sees it.
                    for (project, session) in group.apply(store.as_ref(), &flusher) {
                        pending.changed(project, session);
                    }
                    let _ = reply.send(delete(store.as_ref(), &mut group.cache, project, target, now));
                }
            }
            if taken < max_group {
                next = rx.try_recv().ok();
            }
        }
        for (project, session) in group.apply(store.as_ref(), &flusher) {
            pending.changed(project, session);
        }
    }
}

fn delete(
    store: &dyn Store,
    cache: &mut SummaryCache,
    project: u32,
    target: DeleteTarget,
    now: u64,
) -> Result<usize, StoreError> {
    let sessions = match target {
        DeleteTarget::Sessions(sessions) => sessions,
        DeleteTarget::User(user) => crate::query::sessions_of_user(store, project, &user)?,
        DeleteTarget::TelemetryBefore(before) => {
            let expired = store.expire_telemetry(project, before, EXPIRED_RECORDS_PER_COMMAND)?;
            store.flush()?;
            return Ok(expired);
        }
    };
    let mut deleted = 0;
    for session in sessions {
        cache.remove(project, session);
        deleted += usize::from(store.delete_session(project, session, now)?);
    }
    store.flush()?;
    Ok(deleted)
}

/// Backend records after which an expiry command stops (a trace is removed whole, so a
/// command removes at most this plus one trace's worth), so ingest never waits long behind one.
const EXPIRED_RECORDS_PER_COMMAND: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;
    use crate::summary::SignalCounts;

    fn job(session: SessionId, page: u32, seq: u32) -> IngestJob {
        IngestJob {
            key: BatchKey { project: 1, session, page, seq },
            tally: BatchTally { page, events: 1, ..Default::default() },
            bytes: vec![page as u8, seq as u8],
            writer: None,
            geo: Geo::default(),
            received_at: 1_000,
            quota: None,
        }
    }

    fn send(writer: &Writer, session: SessionId, page: u32, seq: u32) -> Outcome {
        writer.ingest(job(session, page, seq)).unwrap().blocking_recv().unwrap().unwrap()
    }

    #[test]
    fn a_session_takes_batches_only_from_the_writer_of_its_first_and_after_a_restart_too() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let (bound, open) = (SessionId([6; 16]), SessionId([7; 16]));
        let sealed = |writer: &Writer, session, seq, by: Option<&str>| {
            let job = IngestJob { writer: by.map(str::to_owned), ..job(session, 0, seq) };
            writer.ingest(job).unwrap().blocking_recv().unwrap().unwrap()
        };
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        assert_eq!(sealed(&writer, bound, 0, Some("aa")), Outcome::Stored);
        assert_eq!(sealed(&writer, bound, 1, None), Outcome::NotWriter, "unsealed");
        assert_eq!(sealed(&writer, bound, 1, Some("bb")), Outcome::NotWriter, "another writer");
        assert_eq!(sealed(&writer, bound, 0, Some("bb")), Outcome::NotWriter, "another writer's retry");
        assert_eq!(sealed(&writer, bound, 0, Some("aa")), Outcome::Duplicate, "the writer's retry");
        assert_eq!(sealed(&writer, bound, 1, Some("aa")), Outcome::Stored);
        // A session an older SDK started is bound to nobody.
        assert_eq!(sealed(&writer, open, 0, None), Outcome::Stored);
        assert_eq!(sealed(&writer, open, 1, Some("cc")), Outcome::Stored);
        writer.shutdown();
        // The binding is kept with the session, and holds once the cache is cold.
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        assert_eq!(sealed(&writer, bound, 2, None), Outcome::NotWriter);
        assert_eq!(sealed(&writer, bound, 2, Some("aa")), Outcome::Stored);
        writer.shutdown();
        assert_eq!(store.summary(1, bound).unwrap().unwrap().batch_count, 3);
    }

    #[test]
    fn a_session_takes_batches_for_four_days_after_its_first() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([8; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        let at = |seq, received_at| {
            let job = IngestJob { received_at, ..job(session, 0, seq) };
            writer.ingest(job).unwrap().blocking_recv().unwrap().unwrap()
        };
        assert_eq!(at(0, 1_000), Outcome::Stored);
        assert_eq!(at(1, 1_000 + SESSION_WRITE_WINDOW_MS), Outcome::Stored);
        assert_eq!(at(2, 1_001 + SESSION_WRITE_WINDOW_MS), Outcome::Closed);
        assert_eq!(at(1, 1_001 + SESSION_WRITE_WINDOW_MS), Outcome::Duplicate, "a retry is still a duplicate");
        writer.shutdown();
        assert_eq!(store.summary(1, session).unwrap().unwrap().batch_count, 2);
    }

    #[test]
    fn signal_counts_are_kept_only_if_no_batch_came_since_the_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([5; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        let clicked = |seq| {
            let mut job = job(session, 0, seq);
            job.tally.clicks = 1;
            writer.ingest(job).unwrap().blocking_recv().unwrap().unwrap()
        };
        clicked(0);
        clicked(1);
        let pending = writer.pending_analysis();
        let counts = SignalCounts { rage_clicks: 1, dead_clicks: 2, error_clicks: 3 };
        let headline = Some("POST /api/todos failed with 500".to_owned());
        // Found over both batches: kept.
        writer
            .record_analysis(1, session, Analysis { batches: 2, signals: counts, headline: headline.clone() })
            .unwrap();
        // Found over one batch, but two are stored: stale, ignored.
        let stale = Analysis { batches: 1, signals: SignalCounts { rage_clicks: 9, ..counts }, headline: None };
        writer.record_analysis(1, session, stale).unwrap();
        // A batch after them leaves the counts as they were, now behind.
        clicked(2);
        writer.shutdown();
        let summary = store.summary(1, session).unwrap().unwrap();
        assert_eq!((summary.signals, summary.analyzed_batches, summary.batch_count), (counts, 2, 3));
        assert_eq!(summary.headline, headline);
        // The session is due for analysis again (QUIET after its last batch).
        let later = std::time::Instant::now() + QUIET;
        assert_eq!(pending.due_at(later), [(1, session)]);
    }

    #[test]
    fn a_session_without_clicks_needs_no_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([6; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        send(&writer, session, 0, 0);
        send(&writer, session, 0, 1);
        let pending = writer.pending_analysis();
        writer.shutdown();
        let summary = store.summary(1, session).unwrap().unwrap();
        assert_eq!((summary.analyzed_batches, summary.batch_count), (2, 2));
        assert!(pending.due_at(std::time::Instant::now() + MAX_WAIT).is_empty());
    }

    #[test]
    fn retries_in_any_order_are_stored_once_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([3; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        let first = [(0, 0), (0, 2), (0, 1), (0, 2), (1, 0), (0, 1), (1, 0), (0, 3)];
        let outcomes: Vec<_> = first.iter().map(|&(page, seq)| send(&writer, session, page, seq)).collect();
        use Outcome::{Duplicate as D, Stored as S};
        assert_eq!(outcomes, vec![S, S, S, D, S, D, D, S]);
        writer.shutdown();

        // A new writer knows the session only from the store.
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        let again = [(0, 3), (0, 4), (1, 0), (1, 1), (0, 0)];
        let outcomes: Vec<_> = again.iter().map(|&(page, seq)| send(&writer, session, page, seq)).collect();
        assert_eq!(outcomes, vec![D, S, D, S, D]);
        writer.shutdown();

        let stored: Vec<_> = store.batches(1, session).map(|b| b.unwrap().0).map(|k| (k.page, k.seq)).collect();
        assert_eq!(stored, vec![(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0), (1, 1)]);
        assert_eq!(store.summary(1, session).unwrap().unwrap().batch_count, 7);
    }

    #[test]
    fn a_full_cache_never_loses_a_summary_the_group_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let mut group = Group::with_cache(SummaryCache::new(1));
        let (flusher, applied) = mpsc::channel();
        let sessions: Vec<SessionId> = (1..=3).map(|i| SessionId([i; 16])).collect();
        for round in 0..2 {
            for session in &sessions {
                let (reply, _) = oneshot::channel();
                group.add(&store, job(*session, 0, round), reply);
            }
            group.apply(&store, &flusher);
            assert_eq!(group.cache.entries.len(), 1, "trimmed back to capacity after the group");
        }
        drop(applied);
        for session in sessions {
            assert_eq!(store.summary(1, session).unwrap().unwrap().batch_count, 2, "{session}");
        }
    }

    #[test]
    fn duplicates_within_one_group_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([4; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 64);
        // Queue everything before waiting, so the writer takes them as one group.
        let receivers: Vec<_> =
            [0, 1, 0, 1, 2].iter().map(|&seq| writer.ingest(job(session, 0, seq)).unwrap()).collect();
        let outcomes: Vec<_> = receivers.into_iter().map(|rx| rx.blocking_recv().unwrap().unwrap()).collect();
        assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Stored).count(), 3);
        writer.shutdown();
        assert_eq!(store.batches(1, session).count(), 3);
    }

    #[test]
    fn another_writer_in_the_same_group_is_refused_not_answered_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([8; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 64);
        let by = |who: Option<&str>| IngestJob { writer: who.map(str::to_owned), ..job(session, 0, 0) };
        // Queued before waiting: one group, the same bytes under the same numbers.
        let receivers: Vec<_> = [by(Some("aa")), by(None), by(Some("bb")), by(Some("aa"))]
            .into_iter()
            .map(|j| writer.ingest(j).unwrap())
            .collect();
        let outcomes: Vec<_> = receivers.into_iter().map(|rx| rx.blocking_recv().unwrap().unwrap()).collect();
        assert_eq!(outcomes, vec![Outcome::Stored, Outcome::NotWriter, Outcome::NotWriter, Outcome::Duplicate]);
        writer.shutdown();
    }
}
