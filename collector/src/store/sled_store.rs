//! The embedded default: everything in one sled tree, so one `apply_batch` covers a whole
//! commit group atomically, and one `flush` makes it durable.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sightline_protocol::{SessionId, TraceId};

use super::disk::Disk;
use super::keys::{self, key};
use super::{BatchKey, Cursor, Health, Listed, Note, Store, StoreError, StoreIter, TraceHeader, TraceHit, Write};
use crate::config::StorageConfig;
use crate::summary::SessionSummary;
use crate::telemetry::BackendRecord;

/// Back-references written per write while upgrading a store's layout.
const UPGRADE_SLICE: usize = 10_000;

/// Sessions stored in a sled database.
///
/// Writes are refused while the disk has less than the configured minimum free, so that sled
/// itself never runs out of space. A write that fails all the same (the disk filled by someone
/// else at that moment) leaves sled unable to write, or even to close, again: the store is
/// failed from then on, and the collector exits to be started again (see [`super::Keeper`]).
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    disk: Disk,
    failed: AtomicBool,
    /// When the flush under way began (ms since the epoch), 0 when none is.
    flushing_since: AtomicU64,
}

/// A flush that has not returned after this long waits for a write that failed without
/// saying so (sled then waits for ever): the store counts as failed.
const FLUSH_STUCK: Duration = Duration::from_secs(10);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl SledStore {
    /// Opens (or creates) the database in `dir`, with no free space kept and no reserve.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_with(dir, StorageConfig { min_free_bytes: 0, reserve_bytes: 0 })
    }

    /// Opens (or creates) the database in `dir`, keeping `storage`'s free space and reserve. A
    /// database that can't open for lack of space is tried again with the reserve given up.
    pub fn open_with(dir: &Path, storage: StorageConfig) -> Result<SledStore, StoreError> {
        let disk = Disk::new(dir, storage);
        let db = match SledStore::open_db(dir) {
            Ok(db) => db,
            Err(e) if e.is_no_space() && disk.release_reserve() => {
                tracing::warn!(error = %e, "the store did not open; trying again with the disk reserve given up");
                SledStore::open_db(dir)?
            }
            Err(e) => return Err(e),
        };
        let tree = db.open_tree("v1")?;
        let store = SledStore { db, tree, disk, failed: AtomicBool::new(false), flushing_since: AtomicU64::new(0) };
        store.upgrade_layout()?;
        store.count_usage()?;
        store.disk.keep_reserve();
        Ok(store)
    }

    fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
        Ok(sled::Config::new()
            .path(dir)
            // Summaries and recent batches are what ingest reads; 256 MiB keeps them hot
            // without taking sled's 1 GiB default on small machines.
            .cache_capacity(256 << 20)
            .open()?)
    }

    /// Whether a removal may go ahead: not on a failed store. Below the minimum free space it
    /// may: removals take little, and erasure must work.
    fn not_failed(&self) -> Result<(), StoreError> {
        match self.failed.load(Ordering::Acquire) {
            false => Ok(()),
            true => Err(StoreError::Unavailable),
        }
    }

    /// Whether a write may go ahead: not on a failed store, nor below the minimum free space.
    fn room(&self) -> Result<(), StoreError> {
        match self.health() {
            Health::Writable => Ok(()),
            Health::Full => Err(StoreError::Full),
            Health::Failed => Err(StoreError::Unavailable),
        }
    }

    /// A write's result: a failure of the disk marks the store failed.
    fn written<T>(&self, result: sled::Result<T>) -> Result<T, StoreError> {
        result.map_err(|e| {
            if matches!(e, sled::Error::Io(_) | sled::Error::ReportableBug(_))
                && !self.failed.swap(true, Ordering::AcqRel)
            {
                tracing::error!(error = %e, "a write failed in the store; it takes no more");
            }
            StoreError::from(e)
        })
    }

    /// Gives every `r` entry of a store written before they had back-references its `i`
    /// entry, once. The `r` keys say all it takes (project, trace, session), so no batch is
    /// read; written in slices, and idempotent, so an upgrade cut short is simply done again.
    fn upgrade_layout(&self) -> Result<(), StoreError> {
        if self.meta(keys::LAYOUT_META)?.as_deref() == Some(keys::LAYOUT) {
            return Ok(());
        }
        let mut upgraded = 0usize;
        let mut batch = sled::Batch::default();
        for entry in self.tree.scan_prefix([keys::TRACE]) {
            let k = entry?.0;
            let (Some(project), Some(session)) = (k.get(1..5), keys::session_suffix(&k).filter(|_| k.len() == 37))
            else {
                return Err(corrupt(&k, "bad trace key"));
            };
            let project = be_u32(project);
            // An entry of a session without a summary (a deletion cut short) is left out: no
            // deletion would ever walk its back-reference.
            if !self.tree.contains_key(Self::session_prefix(keys::SUMMARY, project, session))? {
                continue;
            }
            batch.insert(key(keys::SESSION_INDEX, project, &[session.as_bytes(), &k]), &[][..]);
            upgraded += 1;
            if upgraded.is_multiple_of(UPGRADE_SLICE) {
                self.written(self.tree.apply_batch(std::mem::take(&mut batch)))?;
            }
        }
        self.written(self.tree.apply_batch(batch))?;
        if upgraded > 0 {
            tracing::info!(entries = upgraded, "store layout upgraded: trace ids indexed per session");
        }
        self.set_meta(keys::LAYOUT_META, keys::LAYOUT)
    }

    /// Counts each project's stored bytes from its summaries, once, in a store written before
    /// they were counted.
    fn count_usage(&self) -> Result<(), StoreError> {
        if self.meta(keys::USAGE_META)?.is_some() {
            return Ok(());
        }
        let mut usage: std::collections::BTreeMap<u32, u64> = Default::default();
        for entry in self.tree.scan_prefix([keys::SUMMARY]) {
            let (k, json) = entry?;
            *usage.entry(be_u32(k.get(1..5).unwrap_or_default())).or_default() += stored_bytes_of(&json);
        }
        let mut batch = sled::Batch::default();
        for (project, bytes) in usage {
            batch.insert(key(keys::USAGE, project, &[]), &bytes.to_be_bytes()[..]);
        }
        self.written(self.tree.apply_batch(batch))?;
        // On a disk below its minimum the counts are taken again at the next start, rather
        // than keeping the collector from starting.
        match self.set_meta(keys::USAGE_META, b"1") {
            Err(e) if e.is_refused_for_space() => Ok(()),
            done => done,
        }
    }

    fn session_prefix(tag: u8, project: u32, session: SessionId) -> Vec<u8> {
        key(tag, project, &[session.as_bytes()])
    }
}

fn corrupt(key: &[u8], message: impl ToString) -> StoreError {
    StoreError::Corrupt { key: format!("{key:02x?}"), message: message.to_string() }
}

/// The stored bytes a summary (JSON) counts; none for one that does not read, which no read
/// or deletion should fail on.
fn stored_bytes_of(summary: &[u8]) -> u64 {
    serde_json::from_slice::<SessionSummary>(summary).map_or(0, |s| s.bytes)
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().unwrap_or_default())
}

fn be_u64(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().unwrap_or_default())
}

impl Store for SledStore {
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.room()?;
        let mut batch = sled::Batch::default();
        let indexed = |batch: &mut sled::Batch, project: u32, session: SessionId, index_key: Vec<u8>, value: &[u8]| {
            batch.insert(key(keys::SESSION_INDEX, project, &[session.as_bytes(), &index_key]), &[][..]);
            batch.insert(index_key, value);
        };
        // Bytes of batches added per project; the writer is the one caller, so the counts read
        // here are not changed meanwhile.
        let mut added: std::collections::BTreeMap<u32, u64> = Default::default();
        for write in writes {
            match write {
                Write::Batch { key: k, bytes, traces } => {
                    *added.entry(k.project).or_default() += bytes.len() as u64;
                    let mut hit = [0u8; 16];
                    hit[..4].copy_from_slice(&k.page.to_be_bytes());
                    hit[4..8].copy_from_slice(&k.seq.to_be_bytes());
                    for (trace, time) in traces {
                        hit[8..].copy_from_slice(&time.to_be_bytes());
                        indexed(&mut batch, k.project, k.session, keys::trace(k.project, trace, Some(k.session)), &hit);
                    }
                    batch.insert(keys::batch(&k), bytes);
                }
                Write::Summary { project, session, summary } => {
                    let json = serde_json::to_vec(&summary).map_err(|e| corrupt(b"summary", e))?;
                    batch.insert(Self::session_prefix(keys::SUMMARY, project, session), json);
                }
                Write::Listed { project, session, first_seen } => {
                    let k = key(keys::LISTED, project, &[&first_seen.to_be_bytes(), session.as_bytes()]);
                    indexed(&mut batch, project, session, k, &[]);
                }
                Write::User { project, session, user } => {
                    indexed(&mut batch, project, session, keys::user(project, &user, Some(session)), &[]);
                }
                Write::Telemetry { project, trace, header, records } => {
                    let first = header.records + 1 - records.len() as u32;
                    if first == 1 {
                        batch.insert(keys::telemetry_age(project, header.first_received, trace), &[][..]);
                    }
                    for (n, record) in (first..).zip(records) {
                        batch.insert(keys::telemetry(project, trace, Some(n)), record);
                    }
                    let mut value = [0u8; 12];
                    value[..8].copy_from_slice(&header.first_received.to_be_bytes());
                    value[8..].copy_from_slice(&header.records.to_be_bytes());
                    batch.insert(keys::telemetry(project, trace, Some(0)), &value[..]);
                }
            }
        }
        for (project, bytes) in added {
            let total = self.stored_bytes(project)?.saturating_add(bytes);
            batch.insert(key(keys::USAGE, project, &[]), &total.to_be_bytes()[..]);
        }
        self.written(self.tree.apply_batch(batch))?;
        Ok(())
    }

    fn stored_bytes(&self, project: u32) -> Result<u64, StoreError> {
        Ok(self.tree.get(key(keys::USAGE, project, &[]))?.map_or(0, |v| be_u64(&v)))
    }

    fn batch(&self, k: &BatchKey) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(keys::batch(k))?.map(|v| v.to_vec()))
    }

    fn is_deleted(&self, project: u32, session: SessionId) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(Self::session_prefix(keys::TOMBSTONE, project, session))?)
    }

    fn summary(&self, project: u32, session: SessionId) -> Result<Option<SessionSummary>, StoreError> {
        let k = Self::session_prefix(keys::SUMMARY, project, session);
        match self.tree.get(&k)? {
            None => Ok(None),
            Some(json) => serde_json::from_slice(&json).map(Some).map_err(|e| corrupt(&k, e)),
        }
    }

    fn batches(&self, project: u32, session: SessionId) -> StoreIter<'static, (BatchKey, Vec<u8>)> {
        let prefix = Self::session_prefix(keys::BATCH, project, session);
        Box::new(self.tree.scan_prefix(&prefix).map(move |entry| stored_batch(project, session, entry)))
    }

    fn batches_after(&self, after: &BatchKey) -> StoreIter<'static, (BatchKey, Vec<u8>)> {
        let (project, session) = (after.project, after.session);
        let prefix = Self::session_prefix(keys::BATCH, project, session);
        let from = (std::ops::Bound::Excluded(keys::batch(after)), std::ops::Bound::Unbounded);
        Box::new(
            self.tree
                .range::<Vec<u8>, _>(from)
                .take_while(move |entry| entry.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
                .map(move |entry| stored_batch(project, session, entry)),
        )
    }

    fn listed(&self, project: u32, cursor: Option<Cursor>) -> StoreIter<'static, Listed> {
        let start = key(keys::LISTED, project, &[]);
        let iter = match cursor {
            Some(c) => {
                self.tree.range(start..key(keys::LISTED, project, &[&c.first_seen.to_be_bytes(), c.session.as_bytes()]))
            }
            None => self.tree.range(start..=key(keys::LISTED, project, &[&[0xff; 24]])),
        };
        Box::new(iter.rev().map(parse_listed))
    }

    fn listed_before(&self, project: u32, before: u64) -> StoreIter<'static, Listed> {
        let range = key(keys::LISTED, project, &[])..key(keys::LISTED, project, &[&before.to_be_bytes()]);
        Box::new(self.tree.range(range).map(parse_listed))
    }

    fn sessions_of_user(&self, project: u32, user: &str) -> Result<Vec<SessionId>, StoreError> {
        let prefix = keys::user(project, user, None);
        self.tree
            .scan_prefix(&prefix)
            .map(|entry| {
                let (k, _) = entry?;
                keys::session_suffix(&k)
                    .filter(|_| k.len() == prefix.len() + 16)
                    .ok_or_else(|| corrupt(&k, "bad user key"))
            })
            .collect()
    }

    fn trace_hits(&self, project: u32, trace: TraceId) -> Result<Vec<TraceHit>, StoreError> {
        self.tree
            .scan_prefix(keys::trace(project, trace, None))
            .map(|entry| {
                let (k, v) = entry?;
                let session = keys::session_suffix(&k).ok_or_else(|| corrupt(&k, "bad trace key"))?;
                if v.len() != 16 {
                    return Err(corrupt(&k, "bad trace value"));
                }
                Ok(TraceHit { session, page: be_u32(&v[..4]), seq: be_u32(&v[4..8]), time: be_u64(&v[8..]) })
            })
            .collect()
    }

    fn delete_session(&self, project: u32, session: SessionId, now: u64) -> Result<bool, StoreError> {
        self.not_failed()?;
        let summary_key = Self::session_prefix(keys::SUMMARY, project, session);
        let Some(summary) = self.tree.get(&summary_key)? else { return Ok(false) };
        let mut batch = sled::Batch::default();
        let left = self.stored_bytes(project)?.saturating_sub(stored_bytes_of(&summary));
        batch.insert(key(keys::USAGE, project, &[]), &left.to_be_bytes()[..]);
        let index_prefix = Self::session_prefix(keys::SESSION_INDEX, project, session);
        for entry in self.tree.scan_prefix(&index_prefix) {
            let k = entry?.0;
            let index_key = &k[index_prefix.len()..];
            // A trace's backend records go with the last session that made requests under it (a
            // page may send its own `traceparent`, shared by sessions).
            if let Some(trace) = keys::trace_of_index_key(index_key) {
                if !self.traced_by_another(project, trace, session)? {
                    self.remove_telemetry(&mut batch, project, trace)?;
                    batch.insert(key(keys::TRACE_TOMBSTONE, project, &[trace.as_bytes()]), &now.to_be_bytes()[..]);
                }
            }
            batch.remove(index_key);
            batch.remove(k);
        }
        for entry in self.tree.scan_prefix(Self::session_prefix(keys::BATCH, project, session)) {
            batch.remove(entry?.0);
        }
        for entry in self.tree.scan_prefix(Self::session_prefix(keys::NOTE, project, session)) {
            batch.remove(entry?.0);
        }
        batch.remove(summary_key);
        batch.insert(Self::session_prefix(keys::TOMBSTONE, project, session), &now.to_be_bytes()[..]);
        self.written(self.tree.apply_batch(batch))?;
        Ok(true)
    }

    fn is_deleted_trace(&self, project: u32, trace: TraceId) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(key(keys::TRACE_TOMBSTONE, project, &[trace.as_bytes()]))?)
    }

    fn trace_header(&self, project: u32, trace: TraceId) -> Result<Option<TraceHeader>, StoreError> {
        let k = keys::telemetry(project, trace, Some(0));
        match self.tree.get(&k)? {
            None => Ok(None),
            Some(v) if v.len() == 12 => {
                Ok(Some(TraceHeader { first_received: be_u64(&v[..8]), records: be_u32(&v[8..]) }))
            }
            Some(_) => Err(corrupt(&k, "bad trace header")),
        }
    }

    fn telemetry(&self, project: u32, trace: TraceId) -> Result<Vec<BackendRecord>, StoreError> {
        self.tree
            .range(keys::telemetry(project, trace, Some(1))..=keys::telemetry(project, trace, Some(u32::MAX)))
            .map(|entry| {
                let (k, v) = entry?;
                serde_json::from_slice(&v).map_err(|e| corrupt(&k, e))
            })
            .collect()
    }

    fn expire_telemetry(&self, project: u32, before: u64, max_records: usize) -> Result<usize, StoreError> {
        self.not_failed()?;
        let range = key(keys::TELEMETRY_AGE, project, &[])..key(keys::TELEMETRY_AGE, project, &[&before.to_be_bytes()]);
        let mut batch = sled::Batch::default();
        let (mut expired, mut records) = (0, 0);
        for entry in self.tree.range(range) {
            if records >= max_records {
                break;
            }
            let (k, _) = entry?;
            let trace = k.get(13..29).and_then(|t| t.try_into().ok()).ok_or_else(|| corrupt(&k, "bad age key"))?;
            records += self.remove_telemetry(&mut batch, project, TraceId(trace))?;
            expired += 1;
        }
        self.written(self.tree.apply_batch(batch))?;
        Ok(expired)
    }

    fn purge_tombstones(&self, project: u32, before: u64) -> Result<usize, StoreError> {
        self.not_failed()?;
        let mut batch = sled::Batch::default();
        let mut purged = 0;
        let tombstones = self.tree.scan_prefix(key(keys::TOMBSTONE, project, &[]));
        for entry in tombstones.chain(self.tree.scan_prefix(key(keys::TRACE_TOMBSTONE, project, &[]))) {
            let (k, v) = entry?;
            if be_u64(&v) < before {
                batch.remove(k);
                purged += 1;
            }
        }
        self.written(self.tree.apply_batch(batch))?;
        Ok(purged)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(meta_key(name))?.map(|v| v.to_vec()))
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.room()?;
        self.written(self.tree.insert(meta_key(name), value))?;
        self.written(self.db.flush())?;
        Ok(())
    }

    fn notes(&self, project: u32, session: SessionId) -> Result<Vec<Note>, StoreError> {
        self.tree
            .scan_prefix(Self::session_prefix(keys::NOTE, project, session))
            .map(|entry| {
                let (k, v) = entry?;
                serde_json::from_slice(&v).map_err(|e| corrupt(&k, e))
            })
            .collect()
    }

    fn add_note(&self, project: u32, session: SessionId, note: &Note) -> Result<bool, StoreError> {
        self.room()?;
        let summary_key = Self::session_prefix(keys::SUMMARY, project, session);
        let id = u64::from_str_radix(&note.id, 16).map_err(|e| corrupt(note.id.as_bytes(), e))?;
        let note_key = key(keys::NOTE, project, &[session.as_bytes(), &note.time.to_be_bytes(), &id.to_be_bytes()]);
        let value = serde_json::to_vec(note).map_err(|e| corrupt(&note_key, e))?;
        // In one transaction with the check, so a note never outlives its session's deletion.
        let added = self
            .tree
            .transaction(|t| {
                if t.get(&summary_key)?.is_none() {
                    return Ok(false);
                }
                t.insert(note_key.as_slice(), value.as_slice())?;
                Ok(true)
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(e) => self.written::<()>(Err(e)).unwrap_err(),
                sled::transaction::TransactionError::Abort(()) => StoreError::CommitFailed("note aborted".into()),
            })?;
        self.written(self.db.flush())?;
        Ok(added)
    }

    fn remove_note(&self, project: u32, session: SessionId, id: &str) -> Result<bool, StoreError> {
        self.not_failed()?;
        for entry in self.tree.scan_prefix(Self::session_prefix(keys::NOTE, project, session)) {
            let (k, v) = entry?;
            let note: Note = serde_json::from_slice(&v).map_err(|e| corrupt(&k, e))?;
            if note.id == id {
                self.written(self.tree.remove(k))?;
                self.written(self.db.flush())?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn remove_meta(&self, name: &str) -> Result<(), StoreError> {
        self.not_failed()?;
        self.written(self.tree.remove(meta_key(name)))?;
        self.written(self.db.flush())?;
        Ok(())
    }

    fn metas_after(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = meta_key(prefix);
        let entries = match after {
            Some(after) => self.tree.range((std::ops::Bound::Excluded(meta_key(after)), std::ops::Bound::Unbounded)),
            None => self.tree.range(prefix.clone()..),
        };
        let mut found = Vec::new();
        for entry in entries.take_while(|e| e.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))).take(limit) {
            let (key, value) = entry?;
            // Names are set from `&str`, so they are UTF-8; the byte before is the meta prefix.
            let name = String::from_utf8_lossy(&key[1..]).into_owned();
            found.push((name, value.to_vec()));
        }
        Ok(found)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.flushing_since.store(now_ms().max(1), Ordering::Release);
        let flushed = self.written(self.db.flush());
        self.flushing_since.store(0, Ordering::Release);
        flushed.map(drop)
    }

    fn health(&self) -> Health {
        let since = self.flushing_since.load(Ordering::Acquire);
        let stuck = since != 0 && now_ms().saturating_sub(since) > FLUSH_STUCK.as_millis() as u64;
        if self.failed.load(Ordering::Acquire) || stuck {
            Health::Failed
        } else if self.disk.is_low() {
            Health::Full
        } else {
            Health::Writable
        }
    }

    fn free_bytes(&self) -> Option<u64> {
        self.disk.free_bytes()
    }

    fn keep(&self) {
        // sled can fail on its own (its background flush, a read that must write): a read that
        // fails on the disk marks the store failed too.
        if self.written(self.tree.first()).is_ok() {
            self.disk.keep_reserve();
        }
    }
}

impl SledStore {
    /// Whether a session other than `session` made requests under `trace`.
    fn traced_by_another(&self, project: u32, trace: TraceId, session: SessionId) -> Result<bool, StoreError> {
        for entry in self.tree.scan_prefix(keys::trace(project, trace, None)) {
            if keys::session_suffix(&entry?.0) != Some(session) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Adds the removal of a trace's records, header and age entry to `batch`; returns how
    /// many entries that is.
    fn remove_telemetry(&self, batch: &mut sled::Batch, project: u32, trace: TraceId) -> Result<usize, StoreError> {
        if let Some(header) = self.trace_header(project, trace)? {
            batch.remove(keys::telemetry_age(project, header.first_received, trace));
        }
        let mut removed = 0;
        for entry in self.tree.scan_prefix(keys::telemetry(project, trace, None)) {
            batch.remove(entry?.0);
            removed += 1;
        }
        Ok(removed)
    }
}

fn parse_listed(entry: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Listed, StoreError> {
    let (k, _) = entry?;
    let session = keys::session_suffix(&k).filter(|_| k.len() == 29).ok_or_else(|| corrupt(&k, "bad listing key"))?;
    Ok(Listed { session, first_seen: be_u64(&k[5..13]) })
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![keys::META];
    k.extend_from_slice(name.as_bytes());
    k
}

/// A stored batch of the session, from its entry: the page and seq are in its key.
fn stored_batch(
    project: u32,
    session: SessionId,
    entry: sled::Result<(sled::IVec, sled::IVec)>,
) -> Result<(BatchKey, Vec<u8>), StoreError> {
    let (k, v) = entry?;
    let rest = k.get(21..29).ok_or_else(|| corrupt(&k, "short batch key"))?;
    let key = BatchKey { project, session, page: be_u32(&rest[..4]), seq: be_u32(&rest[4..]) };
    Ok((key, v.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::BatchTally;
    use sightline_protocol::{encode_batch, fixtures};

    /// A store holding one session of the fixture's batches, with backend records for its
    /// trace; `back_references` false writes it the way stores did before `r` entries had them.
    fn store_with_traced_session(store: &SledStore, back_references: bool) -> (SessionId, TraceId) {
        let facts = fixtures::facts();
        let session = facts.session;
        let k = BatchKey { project: 1, session, page: facts.page, seq: facts.seq };
        let bytes = encode_batch(&facts).unwrap();
        let traces = BatchTally::of(&facts).traces;
        let trace = traces[0].0;
        let mut writes = vec![
            Write::Summary { project: 1, session, summary: SessionSummary::new(session, 1_000) },
            Write::Telemetry {
                project: 1,
                trace,
                header: TraceHeader { first_received: 1_000, records: 1 },
                records: vec![b"{}".to_vec()],
            },
        ];
        if back_references {
            writes.push(Write::Batch { key: k, bytes, traces });
        } else {
            store.tree.insert(keys::batch(&k), bytes).unwrap();
            store.tree.insert(keys::trace(1, trace, Some(session)), &[0u8; 16][..]).unwrap();
            store.tree.remove(meta_key(keys::LAYOUT_META)).unwrap();
        }
        store.apply(writes).unwrap();
        store.flush().unwrap();
        (session, trace)
    }

    fn assert_deleted_with_its_traces(store: &SledStore, session: SessionId, trace: TraceId) {
        assert_eq!(store.trace_hits(1, trace).unwrap().len(), 1);
        assert!(store.delete_session(1, session, 2_000).unwrap());
        assert!(store.trace_hits(1, trace).unwrap().is_empty(), "the trace index entry goes");
        assert!(store.trace_header(1, trace).unwrap().is_none(), "the backend records go");
        assert!(store.telemetry(1, trace).unwrap().is_empty());
        assert!(store.is_deleted_trace(1, trace).unwrap());
        assert!(store.tree.scan_prefix([keys::SESSION_INDEX]).next().is_none(), "no back-reference left");
        assert!(store.tree.scan_prefix([keys::BATCH]).next().is_none());
    }

    #[test]
    fn deleting_a_session_deletes_its_traces_without_reading_its_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (session, trace) = store_with_traced_session(&store, true);
        // A batch that no longer decodes cannot stop the deletion: its bytes are not read.
        for entry in store.tree.scan_prefix([keys::BATCH]) {
            store.tree.insert(entry.unwrap().0, &b"not a batch"[..]).unwrap();
        }
        assert_deleted_with_its_traces(&store, session, trace);
    }

    #[test]
    fn a_trace_two_sessions_share_keeps_its_records_until_both_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (session, trace) = store_with_traced_session(&store, true);
        let other = SessionId([0xee; 16]);
        let k = BatchKey { project: 1, session: other, page: 0, seq: 0 };
        store.apply(vec![Write::Batch { key: k, bytes: b"other".to_vec(), traces: vec![(trace, 5)] }]).unwrap();
        store
            .apply(vec![Write::Summary { project: 1, session: other, summary: SessionSummary::new(other, 1) }])
            .unwrap();
        assert!(store.delete_session(1, session, 2_000).unwrap());
        assert_eq!(store.trace_hits(1, trace).unwrap().len(), 1, "the other session's entry stays");
        assert!(store.trace_header(1, trace).unwrap().is_some(), "and the backend records with it");
        assert!(!store.is_deleted_trace(1, trace).unwrap());
        assert!(store.delete_session(1, other, 3_000).unwrap());
        assert!(store.trace_header(1, trace).unwrap().is_none());
        assert!(store.is_deleted_trace(1, trace).unwrap());
    }

    #[test]
    fn a_disk_below_its_minimum_refuses_writes_and_serves_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (session, _) = store_with_traced_session(&SledStore::open(dir.path()).unwrap(), true);
        let cramped = StorageConfig { min_free_bytes: u64::MAX, reserve_bytes: 0 };
        let store = SledStore::open_with(dir.path(), cramped).unwrap();
        assert_eq!(store.health(), Health::Full);
        let refused = store.apply(vec![Write::Listed { project: 1, session, first_seen: 5 }]).unwrap_err();
        assert!(refused.is_no_space(), "{refused}");
        assert!(store.set_meta("m", b"v").unwrap_err().is_no_space());
        assert!(store.summary(1, session).unwrap().is_some(), "reads go on");
    }

    #[test]
    fn a_write_failed_in_sled_fails_the_store_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (session, _) = store_with_traced_session(&store, true);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let failed = store.written::<()>(Err(sled::Error::Io(full))).unwrap_err();
        assert!(failed.is_no_space() && failed.is_transient());
        assert_eq!(store.health(), Health::Failed);
        let refused = store.set_meta("m", b"v").unwrap_err();
        assert!(matches!(refused, StoreError::Unavailable), "{refused}");
        assert!(store.summary(1, session).unwrap().is_some(), "reads go on until the collector restarts");
    }

    #[test]
    fn stored_bytes_are_counted_per_project_and_once_for_an_older_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let sessions = [SessionId([1; 16]), SessionId([2; 16])];
        for (n, session) in sessions.into_iter().enumerate() {
            let bytes = vec![0u8; 10 * (n + 1)];
            let summary = SessionSummary { bytes: bytes.len() as u64, ..SessionSummary::new(session, 1) };
            let k = BatchKey { project: 3, session, page: 0, seq: 0 };
            store
                .apply(vec![
                    Write::Summary { project: 3, session, summary },
                    Write::Batch { key: k, bytes, traces: vec![] },
                ])
                .unwrap();
        }
        assert_eq!((store.stored_bytes(3).unwrap(), store.stored_bytes(4).unwrap()), (30, 0));
        assert!(store.delete_session(3, sessions[0], 5).unwrap());
        assert_eq!(store.stored_bytes(3).unwrap(), 20);

        // A store from before the count: counted from its summaries when opened.
        store.tree.remove(key(keys::USAGE, 3, &[])).unwrap();
        store.tree.remove(meta_key(keys::USAGE_META)).unwrap();
        drop(store);
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.stored_bytes(3).unwrap(), 20);
    }

    #[test]
    fn a_store_from_before_trace_back_references_is_given_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (session, trace) = store_with_traced_session(&store, false);
        // What opening the store does.
        store.upgrade_layout().unwrap();
        assert_eq!(store.meta(keys::LAYOUT_META).unwrap().as_deref(), Some(keys::LAYOUT));
        assert_deleted_with_its_traces(&store, session, trace);
    }
}
