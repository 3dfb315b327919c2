//! Counters for `GET /metrics`, in the Prometheus text format. Plain atomics: recording a
//! sample on the ingest path costs a few nanoseconds and takes no lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// Upper bounds (seconds) of the flush latency histogram.
const FLUSH_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Everything the collector counts.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    rejects: Mutex<BTreeMap<&'static str, u64>>,
    sdk_reports: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    batches_stored: AtomicU64,
    batches_duplicate: AtomicU64,
    batches_dropped: AtomicU64,
    analyses_skipped: AtomicU64,
    bytes_stored: AtomicU64,
    events_stored: AtomicU64,
    flush_buckets: [AtomicU64; FLUSH_BUCKETS.len()],
    flush_count: AtomicU64,
    flush_micros: AtomicU64,
    group_batches: AtomicU64,
}

/// What `/metrics` shows of the store.
pub struct StoreGauges {
    /// Bytes it takes on disk, if measured.
    pub bytes: Option<u64>,
    /// Bytes free on its disk, if known.
    pub free_bytes: Option<u64>,
    /// Whether it takes new batches.
    pub writable: bool,
}

impl Metrics {
    /// Counts an HTTP request by route pattern and status.
    pub fn request(&self, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((route.to_owned(), status)).or_default() += 1;
    }

    /// Counts a refused request by reason.
    pub fn reject(&self, code: &'static str) {
        *self.rejects.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_default() += 1;
    }

    /// Counts a page's report about the SDK itself (see `api::sdk_reports`).
    pub fn sdk_report(&self, kind: &'static str, reason: &'static str) {
        *self.sdk_reports.lock().unwrap_or_else(|e| e.into_inner()).entry((kind, reason)).or_default() += 1;
    }

    /// Counts a batch written to the store.
    pub fn stored(&self, bytes: usize, events: u64) {
        self.batches_stored.fetch_add(1, Relaxed);
        self.bytes_stored.fetch_add(bytes as u64, Relaxed);
        self.events_stored.fetch_add(events, Relaxed);
    }

    /// Counts a batch acknowledged again without being stored again.
    pub fn duplicate(&self) {
        self.batches_duplicate.fetch_add(1, Relaxed);
    }

    /// Counts a batch of a deleted session, acknowledged and dropped.
    pub fn dropped(&self) {
        self.batches_dropped.fetch_add(1, Relaxed);
    }

    /// Counts a session left unanalysed because analysing it stopped the collector twice.
    pub fn analysis_skipped(&self) {
        self.analyses_skipped.fetch_add(1, Relaxed);
    }

    /// Records one group commit: how long the durable write took and how many batches it held.
    pub fn flushed(&self, took: Duration, batches: usize) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.flush_buckets.iter().zip(FLUSH_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.flush_count.fetch_add(1, Relaxed);
        self.flush_micros.fetch_add(took.as_micros() as u64, Relaxed);
        self.group_batches.fetch_add(batches as u64, Relaxed);
    }

    /// The Prometheus text exposition, with the store's gauges passed in.
    pub fn render(&self, store: &StoreGauges) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        let _ = writeln!(out, "# HELP sightline_http_requests_total HTTP requests by route and status.");
        let _ = writeln!(out, "# TYPE sightline_http_requests_total counter");
        for ((route, status), n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "sightline_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP sightline_rejects_total Requests refused, by reason.");
        let _ = writeln!(out, "# TYPE sightline_rejects_total counter");
        for (reason, n) in self.rejects.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "sightline_rejects_total{{reason=\"{reason}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP sightline_sdk_reports_total Pages whose SDK switched itself off, or recovered from a malformed walk of the page, by reason.");
        let _ = writeln!(out, "# TYPE sightline_sdk_reports_total counter");
        for ((kind, reason), n) in self.sdk_reports.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "sightline_sdk_reports_total{{kind=\"{kind}\",reason=\"{reason}\"}} {n}");
        }
        counter(
            &mut out,
            "sightline_batches_stored_total",
            "Batches durably stored.",
            self.batches_stored.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_batches_duplicate_total",
            "Batches received again and acknowledged without storing.",
            self.batches_duplicate.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_batches_dropped_total",
            "Batches of deleted sessions, acknowledged and dropped.",
            self.batches_dropped.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_analyses_skipped_total",
            "Sessions left unanalysed because analysing them stopped the collector twice.",
            self.analyses_skipped.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_stored_bytes_total",
            "Compressed batch bytes stored.",
            self.bytes_stored.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_events_stored_total",
            "Events in stored batches.",
            self.events_stored.load(Relaxed),
        );
        counter(
            &mut out,
            "sightline_group_commit_batches_total",
            "Batches committed through group commits.",
            self.group_batches.load(Relaxed),
        );
        let _ = writeln!(out, "# HELP sightline_flush_seconds Time to make one commit group durable.");
        let _ = writeln!(out, "# TYPE sightline_flush_seconds histogram");
        for (bucket, bound) in self.flush_buckets.iter().zip(FLUSH_BUCKETS) {
            let _ = writeln!(out, "sightline_flush_seconds_bucket{{le=\"{bound}\"}} {}", bucket.load(Relaxed));
        }
        let count = self.flush_count.load(Relaxed);
        let _ = writeln!(out, "sightline_flush_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "sightline_flush_seconds_sum {}", self.flush_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "sightline_flush_seconds_count {count}");
        if let Some(bytes) = store.bytes {
            let _ = writeln!(out, "# HELP sightline_store_bytes Bytes the store takes on disk.\n# TYPE sightline_store_bytes gauge\nsightline_store_bytes {bytes}");
        }
        if let Some(free) = store.free_bytes {
            let _ = writeln!(out, "# HELP sightline_store_free_bytes Bytes free on the store's disk.\n# TYPE sightline_store_free_bytes gauge\nsightline_store_free_bytes {free}");
        }
        let _ = writeln!(
            out,
            "# HELP sightline_store_writable Whether the store takes new batches (0: its disk is full, or it is being reopened).\n# TYPE sightline_store_writable gauge\nsightline_store_writable {}",
            u8::from(store.writable)
        );
        out
    }
}
