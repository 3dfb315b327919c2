//! Session storage: the [`Store`] trait the services use, and its sled implementation, the
//! embedded default.
//!
//! Invariants every implementation keeps:
//! - a batch is stored exactly as received (still compressed) under `(project, session, page,
//!   seq)`, once: a second write of the same key is never issued by the writer;
//! - [`Store::apply`] applies a whole group of writes atomically, and [`Store::flush`] makes
//!   everything applied before it began durable: the writer acknowledges a batch only after such
//!   a flush, so an acknowledged batch survives a crash and a crash never leaves half a batch;
//! - every index entry of a session is recorded next to the session, so deleting a session
//!   removes all of it.

mod disk;
mod keeper;
mod keys;
mod sled_store;

pub use keeper::{Keeper, EXIT_STORE_FAILED};
pub use keys::Cursor;
pub use sled_store::SledStore;

use sightline_protocol::{SessionId, TraceId};

use crate::summary::SessionSummary;
use crate::telemetry::BackendRecord;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sled::Error),
    /// The group this write belonged to was applied, but making it durable failed: it may
    /// be stored after all (a retry is then answered as a duplicate), or not.
    #[error("not acknowledged: the store failed while writing it, so it may or may not be stored ({0})")]
    CommitFailed(String),
    /// A write failed in the store: it takes no more until the collector is started again.
    #[error("the store failed; the collector is restarting")]
    Unavailable,
    /// Less than the configured minimum is free on the store's disk.
    #[error("the store's disk is full")]
    Full,
    /// A stored value could not be read back.
    #[error("corrupt record {key}: {message}")]
    Corrupt {
        /// The key, printed.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl StoreError {
    /// Whether nothing was written for want of space: refused before the write (507).
    pub fn is_refused_for_space(&self) -> bool {
        matches!(self, StoreError::Full)
    }

    /// Whether it comes of a full disk.
    pub fn is_no_space(&self) -> bool {
        match self {
            StoreError::Full => true,
            StoreError::Database(sled::Error::Io(e)) => e.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    /// Whether it may pass: the store failed or is full, and recovers once the collector is
    /// started again or the disk has space. A corrupt record does not.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Database(sled::Error::Io(_))
                | StoreError::CommitFailed(_)
                | StoreError::Unavailable
                | StoreError::Full
        )
    }

    /// What a request whose write failed with this is answered: not acknowledged.
    pub fn not_acknowledged(&self) -> StoreError {
        match self {
            StoreError::CommitFailed(why) => StoreError::CommitFailed(why.clone()),
            other => StoreError::CommitFailed(other.to_string()),
        }
    }
}

/// Whether the store takes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// It does.
    Writable,
    /// Less than the configured minimum is free on its disk: new batches are refused, reads
    /// and deletions go on.
    Full,
    /// A write or a flush failed: the collector exits, to be started again (see
    /// [`Keeper`]).
    Failed,
}

impl Health {
    /// The name `/healthz` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Health::Writable => "ok",
            Health::Full => "full",
            Health::Failed => "failed",
        }
    }
}

/// Identifies one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchKey {
    /// Project id.
    pub project: u32,
    /// Session id.
    pub session: SessionId,
    /// Page index.
    pub page: u32,
    /// Sequence number within the page.
    pub seq: u32,
}

/// A support engineer's note at a moment of a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// 16 hex digits.
    pub id: String,
    /// The moment it is about, ms since the epoch (the client's clock, as the session's).
    pub time: u64,
    /// Who wrote it: their read token's name.
    pub author: String,
    pub text: String,
    /// When it was written, ms since the epoch.
    pub written: u64,
}

/// Where in a session a trace id was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHit {
    /// The session.
    pub session: SessionId,
    /// Page index of the request.
    pub page: u32,
    /// Batch holding the request.
    pub seq: u32,
    /// When the request started (client ms since the Unix epoch).
    pub time: u64,
}

/// What the store keeps about a trace's backend records besides the records themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHeader {
    /// When the trace's first record arrived (ms since the Unix epoch); retention counts
    /// from here.
    pub first_received: u64,
    /// Records stored, numbered 1 to `records`.
    pub records: u32,
}

/// One change in a commit group.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // short-lived, moved once into the store
pub enum Write {
    /// Store a batch's bytes and index the trace ids of its requests.
    Batch {
        /// Where.
        key: BatchKey,
        /// The framed batch as received.
        bytes: Vec<u8>,
        /// Trace ids of the batch's requests, with the time each request started.
        traces: Vec<(TraceId, u64)>,
    },
    /// Replace a session's summary.
    Summary {
        /// Project id.
        project: u32,
        /// The summary (its id names the session).
        session: SessionId,
        /// The new summary.
        summary: SessionSummary,
    },
    /// List a new session by the time it was first seen.
    Listed {
        /// Project id.
        project: u32,
        /// Session id.
        session: SessionId,
        /// When the collector first saw it.
        first_seen: u64,
    },
    /// Index a session by user id or email.
    User {
        /// Project id.
        project: u32,
        /// Session id.
        session: SessionId,
        /// User id or lowercased email.
        user: String,
    },
    /// Add backend records to a trace.
    Telemetry {
        /// Project id.
        project: u32,
        /// The trace.
        trace: TraceId,
        /// The trace's header after this write; its record count numbers the records.
        header: TraceHeader,
        /// The records, JSON, numbered from `header.records - records.len() + 1`.
        records: Vec<Vec<u8>>,
    },
}

/// Listing entry: a session and the time it was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// Session id.
    pub session: SessionId,
    /// First seen, ms since the Unix epoch.
    pub first_seen: u64,
}

/// A boxed iterator the store hands out; items are read lazily.
pub type StoreIter<'a, T> = Box<dyn Iterator<Item = Result<T, StoreError>> + Send + 'a>;

/// What the services need from storage.
pub trait Store: Send + Sync + 'static {
    /// Applies the writes atomically (all or none survive a crash); not yet durable.
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// The stored batch, as received.
    fn batch(&self, key: &BatchKey) -> Result<Option<Vec<u8>>, StoreError>;
    /// Whether the session was deleted (later batches of it are acknowledged and dropped).
    fn is_deleted(&self, project: u32, session: SessionId) -> Result<bool, StoreError>;
    /// Bytes of the project's stored batches, as received (what its quota counts).
    fn stored_bytes(&self, project: u32) -> Result<u64, StoreError>;
    /// The session's summary.
    fn summary(&self, project: u32, session: SessionId) -> Result<Option<SessionSummary>, StoreError>;
    /// The session's batches as `(key, bytes)` in `(page, seq)` order.
    fn batches(&self, project: u32, session: SessionId) -> StoreIter<'static, (BatchKey, Vec<u8>)>;
    /// The session's batches after `after` (a page and seq), in `(page, seq)` order: what a
    /// live view has not read yet.
    fn batches_after(&self, after: &BatchKey) -> StoreIter<'static, (BatchKey, Vec<u8>)>;
    /// Sessions newest first, starting strictly after `cursor`.
    fn listed(&self, project: u32, cursor: Option<Cursor>) -> StoreIter<'static, Listed>;
    /// Sessions first seen before `before` (ms), oldest first.
    fn listed_before(&self, project: u32, before: u64) -> StoreIter<'static, Listed>;
    /// Sessions indexed under a user id or lowercased email.
    fn sessions_of_user(&self, project: u32, user: &str) -> Result<Vec<SessionId>, StoreError>;
    /// Where a trace id was seen.
    fn trace_hits(&self, project: u32, trace: TraceId) -> Result<Vec<TraceHit>, StoreError>;
    /// Whether the trace belonged to a deleted session (its backend records are not kept).
    fn is_deleted_trace(&self, project: u32, trace: TraceId) -> Result<bool, StoreError>;
    /// A trace's telemetry header, if it has records.
    fn trace_header(&self, project: u32, trace: TraceId) -> Result<Option<TraceHeader>, StoreError>;
    /// A trace's backend records, in arrival order.
    fn telemetry(&self, project: u32, trace: TraceId) -> Result<Vec<BackendRecord>, StoreError>;
    /// Removes the telemetry of traces whose first record arrived before `before` (ms), oldest
    /// first, stopping once `max_records` records are gone; atomic; returns how many traces
    /// went.
    fn expire_telemetry(&self, project: u32, before: u64, max_records: usize) -> Result<usize, StoreError>;
    /// Removes a session, its batches, its index entries and the backend records of its
    /// traces, and leaves tombstones so that late batches of it, and late backend records of
    /// its traces, are dropped; atomic, durable
    /// after the next [`Store::flush`]. Returns whether the session existed (a session that
    /// didn't is left alone).
    fn delete_session(&self, project: u32, session: SessionId, now: u64) -> Result<bool, StoreError>;
    /// Removes tombstones (of sessions and of their traces) older than `before`; returns how
    /// many.
    fn purge_tombstones(&self, project: u32, before: u64) -> Result<usize, StoreError>;
    /// The session's notes, in the order of their moments.
    fn notes(&self, project: u32, session: SessionId) -> Result<Vec<Note>, StoreError>;
    /// Adds a note to the session, durably, if the session is stored; returns whether it was.
    /// A deletion of the session removes its notes.
    fn add_note(&self, project: u32, session: SessionId, note: &Note) -> Result<bool, StoreError>;
    /// Removes the session's note `id`, durably; returns whether there was one.
    fn remove_note(&self, project: u32, session: SessionId, id: &str) -> Result<bool, StoreError>;
    /// A metadata value (collector-wide, not per project).
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a metadata value durably.
    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes a metadata value durably.
    fn remove_meta(&self, name: &str) -> Result<(), StoreError>;
    /// The metadata values whose names start with `prefix`, in name order, at most `limit`.
    fn metas(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.metas_after(prefix, None, limit)
    }
    /// The same, from the first name after `after`.
    fn metas_after(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Bytes the store takes on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;
    /// Makes everything applied before this call began durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Whether it takes writes now.
    fn health(&self) -> Health {
        Health::Writable
    }
    /// Bytes free on its disk, if it can tell.
    fn free_bytes(&self) -> Option<u64> {
        None
    }
    /// Called every second: notices a store that failed by itself, and keeps the disk reserve.
    fn keep(&self) {}
}
