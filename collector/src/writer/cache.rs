//! The session summaries the writer keeps in memory, so a busy session's summary is read from
//! the store once rather than once per batch.

use std::collections::{HashMap, VecDeque};

use sightline_protocol::SessionId;

use crate::store::{BatchKey, Store, StoreError};
use crate::summary::SessionSummary;

/// A session summary kept in memory by the writer.
pub(super) struct CachedSession {
    pub(super) summary: SessionSummary,
    /// For a session this writer created, the highest seq stored for each page: a higher one
    /// is certainly new, which spares a store lookup for nearly every batch. `None` for
    /// sessions loaded from the store, whose earlier batches this writer didn't see.
    pub(super) newest: Option<HashMap<u32, u32>>,
}

impl CachedSession {
    pub(super) fn certainly_new(&self, key: &BatchKey) -> bool {
        self.newest.as_ref().is_some_and(|newest| newest.get(&key.page).is_none_or(|max| key.seq > *max))
    }

    pub(super) fn stored(&mut self, key: &BatchKey) {
        if let Some(newest) = &mut self.newest {
            let max = newest.entry(key.page).or_insert(key.seq);
            *max = (*max).max(key.seq);
        }
    }
}

/// Session summaries kept in memory by the writer, so a busy session's summary is read from
/// the store once rather than once per batch. The writer is the only one changing summaries,
/// so the cache can't go stale; a deletion or a failed apply drops the entry.
pub(super) struct SummaryCache {
    pub(super) entries: HashMap<(u32, SessionId), CachedSession>,
    order: VecDeque<(u32, SessionId)>,
    capacity: usize,
}

impl SummaryCache {
    /// Sessions kept at most: a few KiB each typically, at most about 70 KiB (summaries clip
    /// what clients send).
    pub(super) const CAPACITY: usize = 5_000;

    pub(super) fn new(capacity: usize) -> Self {
        SummaryCache { entries: HashMap::new(), order: VecDeque::new(), capacity }
    }

    pub(super) fn get_mut(
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

    pub(super) fn insert(&mut self, key: (u32, SessionId), session: CachedSession) -> &mut CachedSession {
        if !self.entries.contains_key(&key) {
            self.order.push_back(key);
        }
        self.entries.entry(key).or_insert(session)
    }

    pub(super) fn remove(&mut self, project: u32, session: SessionId) {
        self.entries.remove(&(project, session));
    }

    /// Evicts the oldest entries down to capacity. Called between groups only, so a session a
    /// group has changed is never evicted before its summary is written.
    pub(super) fn trim(&mut self) {
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
