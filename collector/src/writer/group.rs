//! A group: the commands the writer takes at once, each decided (new, duplicate, or of a
//! deleted session) and folded into its session's summary, then applied as one atomic write.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::Sender;

use sightline_protocol::{SessionId, TraceId};

use super::cache::{CachedSession, SummaryCache};
use super::flush::Applied;
use super::{IngestJob, Outcome, Reply, TelemetryJob, TelemetryOutcome, SESSION_WRITE_WINDOW_MS};
use crate::recording::{MAX_SESSION_BATCHES, MAX_SESSION_DECODED};
use crate::store::{BatchKey, Store, StoreError, TraceHeader, Write};
use crate::summary::{Analysis, SessionSummary};
use crate::telemetry::MAX_RECORDS_PER_TRACE;

/// The batches gathered for the next apply.
pub(super) struct Group {
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
    /// Each batch stored: its key, size and events.
    stored: Vec<(BatchKey, usize, u64)>,
    /// Bytes of batches this group adds, per project.
    added_bytes: HashMap<u32, u64>,
    pub(super) cache: SummaryCache,
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
            added_bytes: HashMap::new(),
            cache: SummaryCache::new(SummaryCache::CAPACITY),
        }
    }
}

impl Group {
    /// A group whose summary cache holds at most what `cache` holds.
    #[cfg(test)]
    pub(super) fn with_cache(cache: SummaryCache) -> Group {
        Group { cache, ..Group::default() }
    }

    pub(super) fn add(&mut self, store: &dyn Store, job: IngestJob, reply: Reply<Outcome>) {
        match self.decide(store, job) {
            Ok(outcome) => self.replies.push((reply, outcome)),
            Err(e) => {
                tracing::error!(error = %e, "reading the store failed");
                let _ = reply.send(Err(e));
            }
        }
    }

    fn decide(&mut self, store: &dyn Store, job: IngestJob) -> Result<Outcome, StoreError> {
        let IngestJob { key, tally, bytes, writer, geo, received_at, quota } = job;
        let (project, session) = (key.project, key.session);
        let hash = bytes_hash(&bytes);
        // Over its project's quota, stored and in this group: refused, unless it is a retry.
        let over_quota = match quota {
            Some(quota) => {
                let added = self.added_bytes.get(&project).copied().unwrap_or(0);
                store.stored_bytes(project)?.saturating_add(added).saturating_add(bytes.len() as u64) > quota
            }
            None => false,
        };
        // Queued in this group already: the same bytes are a retry, others a conflict.
        let queued =
            self.keys.get(&key).map(|earlier| if *earlier == hash { Outcome::Duplicate } else { Outcome::Conflict });
        // A summary is written with every batch, so a session without one has no batches.
        let cached = match (self.cache.get_mut(store, project, session)?, queued) {
            (Some(cached), queued) => {
                // Only the session's writer may write into it, retries included.
                if cached.summary.writer.is_some() && cached.summary.writer != writer {
                    return Ok(Outcome::NotWriter);
                }
                if let Some(queued) = queued {
                    return Ok(queued);
                }
                if !cached.certainly_new(&key) {
                    if let Some(stored) = store.batch(&key)? {
                        return Ok(if stored == bytes { Outcome::Duplicate } else { Outcome::Conflict });
                    }
                }
                let summary = &cached.summary;
                if received_at.saturating_sub(summary.first_seen) > SESSION_WRITE_WINDOW_MS {
                    return Ok(Outcome::Closed);
                }
                if summary.batch_count >= MAX_SESSION_BATCHES
                    || summary.decoded_bytes.saturating_add(tally.decoded) > MAX_SESSION_DECODED
                {
                    return Ok(Outcome::SessionFull);
                }
                if over_quota {
                    return Ok(Outcome::OverQuota);
                }
                cached
            }
            // Queued in this group, its session since gone from the cache.
            (None, Some(queued)) => return Ok(queued),
            (None, None) if store.is_deleted(project, session)? => return Ok(Outcome::Dropped),
            (None, None) if over_quota => return Ok(Outcome::OverQuota),
            (None, None) => {
                self.writes.push(Write::Listed { project, session, first_seen: received_at });
                // The session is bound to the writer of its first batch.
                let summary = SessionSummary { writer, ..SessionSummary::new(session, received_at) };
                let fresh = CachedSession { summary, newest: Some(HashMap::new()) };
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
        for user in summary.apply(&tally, bytes.len(), received_at) {
            self.writes.push(Write::User { project, session, user });
        }
        // Every signal starts with a click, and a headline with a problem: a session with
        // neither needs no analysis.
        if summary.click_count == 0 && summary.first_problem.is_none() {
            summary.analyzed_batches = summary.batch_count;
            self.analysed.insert((project, session));
        }
        self.stored.push((key, bytes.len(), tally.events));
        *self.added_bytes.entry(project).or_default() += bytes.len() as u64;
        self.writes.push(Write::Batch { key, bytes, traces: tally.traces });
        self.keys.insert(key, hash);
        Ok(Outcome::Stored)
    }

    pub(super) fn add_telemetry(&mut self, store: &dyn Store, job: TelemetryJob, reply: Reply<TelemetryOutcome>) {
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
    pub(super) fn set_analysis(
        &mut self,
        store: &dyn Store,
        project: u32,
        session: SessionId,
        analysis: Analysis,
    ) -> Result<(), StoreError> {
        if let Some(cached) = self.cache.get_mut(store, project, session)? {
            if cached.summary.batch_count == analysis.batches {
                cached.summary.signals = analysis.signals;
                cached.summary.headline = analysis.headline;
                cached.summary.analyzed_batches = analysis.batches;
                self.touched.insert((project, session));
                self.analysed.insert((project, session));
            }
        }
        Ok(())
    }

    /// Applies the group and hands its replies to the flusher; returns the sessions due an
    /// analysis: those that got new batches, and, if the apply failed, every session it touched
    /// (their new counts were lost with it).
    pub(super) fn apply(&mut self, store: &dyn Store, flusher: &Sender<Applied>) -> Vec<(u32, SessionId)> {
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
        self.added_bytes.clear();
        self.cache.trim();
        match store.apply(std::mem::take(&mut self.writes)) {
            Ok(()) => {
                if flusher.send(applied).is_err() {
                    tracing::error!("the flusher has stopped; batches left unacknowledged");
                }
                changed
            }
            Err(e) => {
                // Refused for want of space, the store said so once; analyses are not queued
                // again, to be refused again, while the disk is full.
                let refused = e.is_refused_for_space();
                if !refused {
                    tracing::error!(error = %e, batches = applied.replies.len(), "apply failed");
                }
                // The cached summaries now hold batches the store doesn't: forget them.
                for &(project, session) in &touched {
                    self.cache.remove(project, session);
                }
                // Nothing of the group is stored: a failed apply writes nothing.
                let refusal = || if e.is_no_space() { StoreError::Full } else { StoreError::Unavailable };
                for (reply, _) in applied.replies {
                    let _ = reply.send(Err(refusal()));
                }
                for (reply, _) in applied.telemetry {
                    let _ = reply.send(Err(refusal()));
                }
                if refused {
                    Vec::new()
                } else {
                    touched
                }
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
