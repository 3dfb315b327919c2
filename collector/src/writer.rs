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

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use sightline_protocol::{SessionId, TraceId};
use tokio::sync::oneshot;

use crate::analyzer::Pending;
use crate::metrics::METRICS;
use crate::recording::{MAX_SESSION_BATCHES, MAX_SESSION_DECODED};
use crate::store::{BatchKey, Store, StoreError, TraceHeader, Write};
use crate::summary::{BatchDigest, Geo, SessionSummary, SignalCounts};
use crate::telemetry::MAX_RECORDS_PER_TRACE;

/// A decoded batch waiting to be stored.
pub struct IngestJob {
    /// Where it goes.
    pub key: BatchKey,
    /// What its session summary needs from it.
    pub digest: BatchDigest,
    /// The bytes as received, which are what gets stored.
    pub bytes: Vec<u8>,
    /// Where the client IP places the user.
    pub geo: Geo,
    /// When the collector received it (ms since the Unix epoch).
    pub received_at: u64,
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
}

/// Why the writer could not take a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full.
    Full,
    /// The writer has stopped.
    Closed,
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Command {
    Ingest(Box<IngestJob>, Reply<Outcome>),
    Telemetry(TelemetryJob, Reply<TelemetryOutcome>),
    Signals { project: u32, session: SessionId, batches: u64, counts: SignalCounts },
    Delete { project: u32, target: DeleteTarget, now: u64, reply: Reply<usize> },
}

/// What a deletion removes.
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

/// An applied group waiting for the flush that makes it durable.
struct Applied {
    replies: Vec<(Reply<Outcome>, Outcome)>,
    telemetry: Vec<(Reply<TelemetryOutcome>, TelemetryOutcome)>,
    stored: Vec<(usize, u64)>,
}

/// Handle to the writer and flusher threads.
pub struct Writer {
    queue: Mutex<Option<SyncSender<Command>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Bytes of batches queued and not yet taken by the writer.
    queued_bytes: Arc<AtomicUsize>,
    max_queued_bytes: usize,
    /// Sessions whose signal counts are behind their batches.
    pending: Arc<Pending>,
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
        let pending = Arc::new(Pending::default());
        let changed = pending.clone();
        let threads = vec![
            std::thread::Builder::new()
                .name("sightline-writer".into())
                .spawn(move || write_loop(store, rx, applied_tx, max_group, &taken, &changed))
                .expect("spawning the writer thread"),
            std::thread::Builder::new()
                .name("sightline-flusher".into())
                .spawn(move || flush_loop(flusher_store, applied_rx))
                .expect("spawning the flusher thread"),
        ];
        Writer { queue: Mutex::new(Some(tx)), threads: Mutex::new(threads), queued_bytes, max_queued_bytes, pending }
    }

    /// The sessions stored batches have changed since their last analysis.
    pub fn pending_analysis(&self) -> Arc<Pending> {
        self.pending.clone()
    }

    /// Records a session's signal counts, found over its first `batches` batches; ignored if
    /// more have been stored since.
    pub fn signals(
        &self,
        project: u32,
        session: SessionId,
        batches: u64,
        counts: SignalCounts,
    ) -> Result<(), SubmitError> {
        self.send(Command::Signals { project, session, batches, counts })
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
        if self.queued_bytes.fetch_add(len, Ordering::AcqRel) + len > self.max_queued_bytes {
            self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SubmitError::Full);
        }
        let (reply, rx) = oneshot::channel();
        self.send(Command::Ingest(Box::new(job), reply)).inspect_err(|_| {
            self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
        })?;
        Ok(rx)
    }

    /// Queues backend records; the receiver yields once they are durable.
    pub fn telemetry(
        &self,
        job: TelemetryJob,
    ) -> Result<oneshot::Receiver<Result<TelemetryOutcome, StoreError>>, SubmitError> {
        let len = job.bytes();
        if self.queued_bytes.fetch_add(len, Ordering::AcqRel) + len > self.max_queued_bytes {
            self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SubmitError::Full);
        }
        let (reply, rx) = oneshot::channel();
        self.send(Command::Telemetry(job, reply)).inspect_err(|_| {
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

/// A session summary kept in memory by the writer.
struct CachedSession {
    summary: SessionSummary,
    /// For a session this writer created, the highest seq stored for each page: a higher one
    /// is certainly new, which spares a store lookup for nearly every batch. `None` for
    /// sessions loaded from the store, whose earlier batches this writer didn't see.
    newest: Option<HashMap<u32, u32>>,
}

impl CachedSession {
    fn certainly_new(&self, key: &BatchKey) -> bool {
        self.newest.as_ref().is_some_and(|newest| newest.get(&key.page).is_none_or(|max| key.seq > *max))
    }

    fn stored(&mut self, key: &BatchKey) {
        if let Some(newest) = &mut self.newest {
            let max = newest.entry(key.page).or_insert(key.seq);
            *max = (*max).max(key.seq);
        }
    }
}

/// Session summaries kept in memory by the writer, so a busy session's summary is read from
/// the store once rather than once per batch. The writer is the only one changing summaries,
/// so the cache can't go stale; a deletion or a failed apply drops the entry.
struct SummaryCache {
    entries: HashMap<(u32, SessionId), CachedSession>,
    order: VecDeque<(u32, SessionId)>,
    capacity: usize,
}

impl SummaryCache {
    /// Sessions kept at most: a few KiB each typically, at most about 70 KiB (summaries clip
    /// what clients send).
    const CAPACITY: usize = 5_000;

    fn new(capacity: usize) -> Self {
        SummaryCache { entries: HashMap::new(), order: VecDeque::new(), capacity }
    }

    fn get_mut(
        &mut self,
        store: &dyn Store,
        project: u32,
        session: SessionId,
    ) -> Result<Option<&mut CachedSession>, StoreError> {
        let key = (project, session);
        if !self.entries.contains_key(&key) {
            let Some(summary) = store.summary(project, session)? else { return Ok(None) };
            self.insert(key, CachedSession { summary, newest: None });
        }
        Ok(self.entries.get_mut(&key))
    }

    fn insert(&mut self, key: (u32, SessionId), session: CachedSession) -> &mut CachedSession {
        if !self.entries.contains_key(&key) {
            self.order.push_back(key);
        }
        self.entries.entry(key).or_insert(session)
    }

    fn remove(&mut self, project: u32, session: SessionId) {
        self.entries.remove(&(project, session));
    }

    /// Evicts the oldest entries down to capacity. Called between groups only, so a session a
    /// group has changed is never evicted before its summary is written.
    fn trim(&mut self) {
        while self.entries.len() > self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            self.entries.remove(&oldest);
        }
        // Deleted sessions leave stale keys behind in `order`; drop them once they dominate.
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order.retain(|key| entries.contains_key(key));
        }
    }
}

fn write_loop(
    store: Arc<dyn Store>,
    rx: Receiver<Command>,
    flusher: Sender<Applied>,
    max_group: usize,
    queued_bytes: &AtomicUsize,
    pending: &Pending,
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
                Command::Signals { project, session, batches, counts } => {
                    if let Err(e) = group.set_signals(store.as_ref(), project, session, batches, counts) {
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

fn flush_loop(store: Arc<dyn Store>, rx: Receiver<Applied>) {
    while let Ok(first) = rx.recv() {
        let mut pending = vec![first];
        pending.extend(rx.try_iter());
        let started = Instant::now();
        let result = store.flush();
        let batches = pending.iter().map(|a| a.stored.len()).sum();
        METRICS.flushed(started.elapsed(), batches);
        if let Err(e) = &result {
            tracing::error!(error = %e, "flush failed; the batches waiting on it are refused");
        }
        for applied in pending {
            if result.is_ok() {
                for (bytes, events) in applied.stored {
                    METRICS.stored(bytes, events);
                }
            }
            for (reply, outcome) in applied.telemetry {
                let _ =
                    reply.send(result.as_ref().map(|()| outcome).map_err(|e| StoreError::CommitFailed(e.to_string())));
            }
            for (reply, outcome) in applied.replies {
                let answer = match &result {
                    Ok(()) => {
                        match outcome {
                            Outcome::Duplicate => METRICS.duplicate(),
                            Outcome::Dropped => METRICS.dropped(),
                            Outcome::Stored | Outcome::SessionFull | Outcome::Conflict => {}
                        }
                        Ok(outcome)
                    }
                    Err(e) => Err(StoreError::CommitFailed(e.to_string())),
                };
                let _ = reply.send(answer);
            }
        }
    }
}

/// The batches gathered for the next apply.
struct Group {
    writes: Vec<Write>,
    replies: Vec<(Reply<Outcome>, Outcome)>,
    telemetry_replies: Vec<(Reply<TelemetryOutcome>, TelemetryOutcome)>,
    /// Trace headers as this group leaves them.
    traces: HashMap<(u32, TraceId), TraceHeader>,
    /// Sessions whose summaries this group changed.
    touched: HashSet<(u32, SessionId)>,
    /// Sessions whose only change in this group is new signal counts.
    analysed: HashSet<(u32, SessionId)>,
    /// The batches of the group, each with a hash of its bytes (a retry must be the same).
    keys: HashMap<BatchKey, u64>,
    stored: Vec<(usize, u64)>,
    cache: SummaryCache,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            writes: Vec::new(),
            replies: Vec::new(),
            telemetry_replies: Vec::new(),
            traces: HashMap::new(),
            touched: HashSet::new(),
            analysed: HashSet::new(),
            keys: HashMap::new(),
            stored: Vec::new(),
            cache: SummaryCache::new(SummaryCache::CAPACITY),
        }
    }
}

impl Group {
    fn add(&mut self, store: &dyn Store, job: IngestJob, reply: Reply<Outcome>) {
        match self.decide(store, job) {
            Ok(outcome) => self.replies.push((reply, outcome)),
            Err(e) => {
                tracing::error!(error = %e, "reading the store failed");
                let _ = reply.send(Err(e));
            }
        }
    }

    fn decide(&mut self, store: &dyn Store, job: IngestJob) -> Result<Outcome, StoreError> {
        let IngestJob { key, digest, bytes, geo, received_at } = job;
        let (project, session) = (key.project, key.session);
        let hash = bytes_hash(&bytes);
        if let Some(earlier) = self.keys.get(&key) {
            return Ok(if *earlier == hash { Outcome::Duplicate } else { Outcome::Conflict });
        }
        // A summary is written with every batch, so a session without one has no batches.
        let cached = match self.cache.get_mut(store, project, session)? {
            Some(cached) => {
                if !cached.certainly_new(&key) {
                    if let Some(stored) = store.batch(&key)? {
                        return Ok(if stored == bytes { Outcome::Duplicate } else { Outcome::Conflict });
                    }
                }
                let summary = &cached.summary;
                if summary.batch_count >= MAX_SESSION_BATCHES
                    || summary.decoded_bytes.saturating_add(digest.decoded) > MAX_SESSION_DECODED
                {
                    return Ok(Outcome::SessionFull);
                }
                cached
            }
            None if store.is_deleted(project, session)? => return Ok(Outcome::Dropped),
            None => {
                self.writes.push(Write::Listed { project, session, first_seen: received_at });
                let fresh =
                    CachedSession { summary: SessionSummary::new(session, received_at), newest: Some(HashMap::new()) };
                self.cache.insert((project, session), fresh)
            }
        };
        cached.stored(&key);
        let summary = &mut cached.summary;
        self.touched.insert((project, session));
        self.analysed.remove(&(project, session));
        if summary.geo.country.is_none() && summary.geo.city.is_none() {
            summary.geo = geo;
        }
        for user in summary.apply(&digest, bytes.len(), received_at) {
            self.writes.push(Write::User { project, session, user });
        }
        // Every signal starts with a click: a session without one needs no analysis.
        if summary.click_count == 0 {
            summary.analyzed_batches = summary.batch_count;
            self.analysed.insert((project, session));
        }
        self.stored.push((bytes.len(), digest.events));
        self.writes.push(Write::Batch { key, bytes, traces: digest.traces });
        self.keys.insert(key, hash);
        Ok(Outcome::Stored)
    }

    fn add_telemetry(&mut self, store: &dyn Store, job: TelemetryJob, reply: Reply<TelemetryOutcome>) {
        match self.add_records(store, job) {
            Ok(outcome) => self.telemetry_replies.push((reply, outcome)),
            Err(e) => {
                tracing::error!(error = %e, "reading the store failed");
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Numbers each record within its trace and queues it, up to the per-trace limit. Every
    /// header is read before anything is queued, so a failed read queues nothing.
    fn add_records(&mut self, store: &dyn Store, job: TelemetryJob) -> Result<TelemetryOutcome, StoreError> {
        let TelemetryJob { project, records, received_at } = job;
        let mut by_trace: HashMap<TraceId, Vec<Vec<u8>>> = HashMap::new();
        for (trace, json) in records {
            by_trace.entry(trace).or_default().push(json);
        }
        let mut headers = Vec::with_capacity(by_trace.len());
        let mut deleted = 0;
        for (trace, records) in by_trace {
            if store.is_deleted_trace(project, trace)? {
                deleted += records.len();
                continue;
            }
            let header = match self.traces.get(&(project, trace)) {
                Some(header) => *header,
                None => store
                    .trace_header(project, trace)?
                    .unwrap_or(TraceHeader { first_received: received_at, records: 0 }),
            };
            headers.push((trace, header, records));
        }
        let mut outcome = TelemetryOutcome { deleted, ..Default::default() };
        for (trace, header, mut records) in headers {
            let room = MAX_RECORDS_PER_TRACE.saturating_sub(header.records) as usize;
            if records.len() > room {
                outcome.over_limit += records.len() - room;
                records.truncate(room);
            }
            if records.is_empty() {
                continue;
            }
            outcome.stored += records.len();
            let header = TraceHeader { records: header.records + records.len() as u32, ..header };
            self.traces.insert((project, trace), header);
            self.writes.push(Write::Telemetry { project, trace, header, records });
        }
        Ok(outcome)
    }

    /// Records signal counts in a session's summary, unless a batch arrived since they were
    /// found.
    fn set_signals(
        &mut self,
        store: &dyn Store,
        project: u32,
        session: SessionId,
        batches: u64,
        counts: SignalCounts,
    ) -> Result<(), StoreError> {
        if let Some(cached) = self.cache.get_mut(store, project, session)? {
            if cached.summary.batch_count == batches {
                cached.summary.signals = counts;
                cached.summary.analyzed_batches = batches;
                self.touched.insert((project, session));
                self.analysed.insert((project, session));
            }
        }
        Ok(())
    }

    /// Applies the group and hands its replies to the flusher; returns the sessions due an
    /// analysis: those that got new batches, and, if the apply failed, every session it touched
    /// (their new counts were lost with it).
    fn apply(&mut self, store: &dyn Store, flusher: &Sender<Applied>) -> Vec<(u32, SessionId)> {
        if self.replies.is_empty() && self.telemetry_replies.is_empty() && self.touched.is_empty() {
            return Vec::new();
        }
        self.traces.clear();
        let touched: Vec<_> = self.touched.drain().collect();
        let analysed = std::mem::take(&mut self.analysed);
        let changed: Vec<_> = touched.iter().filter(|key| !analysed.contains(key)).copied().collect();
        for &(project, session) in &touched {
            if let Some(cached) = self.cache.entries.get(&(project, session)) {
                self.writes.push(Write::Summary { project, session, summary: cached.summary.clone() });
            }
        }
        let applied = Applied {
            replies: std::mem::take(&mut self.replies),
            telemetry: std::mem::take(&mut self.telemetry_replies),
            stored: std::mem::take(&mut self.stored),
        };
        self.keys.clear();
        self.cache.trim();
        match store.apply(std::mem::take(&mut self.writes)) {
            Ok(()) => {
                if flusher.send(applied).is_err() {
                    tracing::error!("the flusher has stopped; batches left unacknowledged");
                }
                changed
            }
            Err(e) => {
                tracing::error!(error = %e, batches = applied.replies.len(), "apply failed");
                // The cached summaries now hold batches the store doesn't: forget them.
                for &(project, session) in &touched {
                    self.cache.remove(project, session);
                }
                for (reply, _) in applied.replies {
                    let _ = reply.send(Err(StoreError::CommitFailed(e.to_string())));
                }
                for (reply, _) in applied.telemetry {
                    let _ = reply.send(Err(StoreError::CommitFailed(e.to_string())));
                }
                touched
            }
        }
    }
}

/// A hash of a batch's bytes, to tell a retry (the same bytes) from another batch under the
/// same numbers within one group.
fn bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn job(session: SessionId, page: u32, seq: u32) -> IngestJob {
        IngestJob {
            key: BatchKey { project: 1, session, page, seq },
            digest: BatchDigest { page, events: 1, ..Default::default() },
            bytes: vec![page as u8, seq as u8],
            geo: Geo::default(),
            received_at: 1_000,
        }
    }

    fn send(writer: &Writer, session: SessionId, page: u32, seq: u32) -> Outcome {
        writer.ingest(job(session, page, seq)).unwrap().blocking_recv().unwrap().unwrap()
    }

    #[test]
    fn signal_counts_are_kept_only_if_no_batch_came_since_the_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let session = SessionId([5; 16]);
        let writer = Writer::start(store.clone(), 64, 1 << 20, 16);
        let clicked = |seq| {
            let mut job = job(session, 0, seq);
            job.digest.clicks = 1;
            writer.ingest(job).unwrap().blocking_recv().unwrap().unwrap()
        };
        clicked(0);
        clicked(1);
        let pending = writer.pending_analysis();
        let counts = SignalCounts { rage_clicks: 1, dead_clicks: 2, error_clicks: 3 };
        // Found over both batches: kept.
        writer.signals(1, session, 2, counts).unwrap();
        // Found over one batch, but two are stored: stale, ignored.
        writer.signals(1, session, 1, SignalCounts { rage_clicks: 9, ..counts }).unwrap();
        // A batch after them leaves the counts as they were, now behind.
        clicked(2);
        writer.shutdown();
        let summary = store.summary(1, session).unwrap().unwrap();
        assert_eq!((summary.signals, summary.analyzed_batches, summary.batch_count), (counts, 2, 3));
        // The session is due for analysis again (QUIET after its last batch).
        let later = std::time::Instant::now() + crate::analyzer::QUIET;
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
        assert!(pending.due_at(std::time::Instant::now() + crate::analyzer::MAX_WAIT).is_empty());
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
        let mut group = Group { cache: SummaryCache::new(1), ..Group::default() };
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
}
