//! The single writer: every change to the store goes through one thread, which commits
//! ingested batches in groups: it takes whatever is queued (up to `max_group`), decides each
//! batch (new, duplicate, or of a deleted session), folds new ones into their session summaries,
//! and writes the whole group with one atomic apply and one fsync. Only then does it answer the
//! waiting requests, so many requests share one flush and none is acknowledged before it is
//! durable.
//!
//! Deletions go through the same queue, so they are ordered with ingest.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use sightline_protocol::{Batch, SessionId};
use tokio::sync::oneshot;

use crate::metrics::METRICS;
use crate::store::{BatchKey, Store, StoreError, TraceHit, Write};
use crate::summary::{Geo, SessionSummary};

/// A decoded batch waiting to be stored.
pub struct IngestJob {
    /// Project id.
    pub project: u32,
    /// The decoded batch.
    pub batch: Batch,
    /// The bytes as received, which are what gets stored.
    pub bytes: Vec<u8>,
    /// Where the client IP places the user.
    pub geo: Geo,
    /// When the collector received it (ms since the Unix epoch).
    pub received_at: u64,
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
    Delete { project: u32, sessions: Vec<SessionId>, now: u64, reply: Reply<usize> },
}

/// Handle to the writer thread.
pub struct Writer {
    queue: Mutex<Option<SyncSender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread over `store`.
    pub fn start(store: Arc<dyn Store>, capacity: usize, max_group: usize) -> Writer {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let thread = std::thread::Builder::new()
            .name("sightline-writer".into())
            .spawn(move || run(store, rx, max_group))
            .expect("spawning the writer thread");
        Writer { queue: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) }
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
        let (reply, rx) = oneshot::channel();
        self.send(Command::Ingest(Box::new(job), reply))?;
        Ok(rx)
    }

    /// Queues the deletion of sessions; the receiver yields how many existed.
    pub fn delete(
        &self,
        project: u32,
        sessions: Vec<SessionId>,
        now: u64,
    ) -> Result<oneshot::Receiver<Result<usize, StoreError>>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Delete { project, sessions, now, reply })?;
        Ok(rx)
    }

    /// Stops taking commands, lets the writer finish what is queued, and waits for it.
    pub fn shutdown(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

fn run(store: Arc<dyn Store>, rx: Receiver<Command>, max_group: usize) {
    let mut group = Group::default();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(command) = next.take() {
            taken += 1;
            match command {
                Command::Ingest(job, reply) => group.add(store.as_ref(), *job, reply),
                Command::Delete { project, sessions, now, reply } => {
                    group.commit(store.as_ref());
                    let result = sessions.iter().try_fold(0, |n, s| {
                        store.delete_session(project, *s, now).map(|existed| n + usize::from(existed))
                    });
                    let _ = reply.send(result);
                }
            }
            if taken < max_group {
                next = rx.try_recv().ok();
            }
        }
        group.commit(store.as_ref());
    }
    if let Err(e) = store.flush() {
        tracing::error!(error = %e, "final flush failed");
    }
}

/// The batches gathered for the next commit.
#[derive(Default)]
struct Group {
    writes: Vec<Write>,
    replies: Vec<(Reply<Outcome>, Outcome)>,
    summaries: HashMap<(u32, SessionId), SessionSummary>,
    keys: HashSet<BatchKey>,
    stored: Vec<(usize, usize)>,
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
        let IngestJob { project, batch, bytes, geo, received_at } = job;
        let key = BatchKey { project, session: batch.session, page: batch.page, seq: batch.seq };
        if self.keys.contains(&key) || store.has_batch(&key)? {
            return Ok(Outcome::Duplicate);
        }
        if store.is_deleted(project, batch.session)? {
            return Ok(Outcome::Dropped);
        }
        let summary = match self.summaries.entry((project, batch.session)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let summary = match store.summary(project, batch.session)? {
                    Some(summary) => summary,
                    None => {
                        self.writes.push(Write::Listed { project, session: batch.session, first_seen: received_at });
                        SessionSummary::new(batch.session, received_at)
                    }
                };
                e.insert(summary)
            }
        };
        if summary.geo.country.is_none() && summary.geo.city.is_none() {
            summary.geo = geo;
        }
        let delta = summary.apply(&batch, bytes.len(), received_at);
        for user in delta.users {
            self.writes.push(Write::User { project, session: batch.session, user });
        }
        for (trace, time) in delta.traces {
            let hit = TraceHit { session: batch.session, page: batch.page, seq: batch.seq, time };
            self.writes.push(Write::Trace { project, trace, hit });
        }
        self.stored.push((bytes.len(), batch.events.len()));
        self.writes.push(Write::Batch { key, bytes });
        self.keys.insert(key);
        Ok(Outcome::Stored)
    }

    fn commit(&mut self, store: &dyn Store) {
        if self.replies.is_empty() {
            return;
        }
        for ((project, session), summary) in self.summaries.drain() {
            self.writes.push(Write::Summary { project, session, summary });
        }
        let started = Instant::now();
        let result = store.commit(std::mem::take(&mut self.writes));
        METRICS.flushed(started.elapsed(), self.stored.len());
        match &result {
            Ok(()) => {
                for (bytes, events) in self.stored.drain(..) {
                    METRICS.stored(bytes, events);
                }
            }
            Err(e) => tracing::error!(error = %e, batches = self.replies.len(), "commit failed"),
        }
        for (reply, outcome) in self.replies.drain(..) {
            let answer = match &result {
                Ok(()) => {
                    match outcome {
                        Outcome::Duplicate => METRICS.duplicate(),
                        Outcome::Dropped => METRICS.dropped(),
                        Outcome::Stored => {}
                    }
                    Ok(outcome)
                }
                Err(e) => Err(StoreError::CommitFailed(e.to_string())),
            };
            let _ = reply.send(answer);
        }
        self.keys.clear();
        self.stored.clear();
    }
}
