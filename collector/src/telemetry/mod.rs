//! What customers' backends tell us about a request: the spans and log lines of its trace,
//! received over OTLP and kept by trace id, so a request the SDK recorded with a `traceparent`
//! shows what the backend did with it.
//!
//! Records are normalised from OpenTelemetry's data model into [`BackendRecord`]s, clipped as
//! they arrive (a trace keeps at most [`MAX_RECORDS_PER_TRACE`], each bounded in size), and
//! stored under their trace id whether or not a session has reported that trace yet: the join
//! happens when either side is read.

pub mod otlp;

use serde::{Deserialize, Serialize};
use sightline_protocol::TraceId;

/// Records a trace keeps at most; later ones are refused and counted as rejected.
pub const MAX_RECORDS_PER_TRACE: u32 = 1_000;
/// Attributes a record keeps at most.
const MAX_ATTRIBUTES: usize = 64;
/// Bytes kept of an attribute value, a span name or a log message's lines.
const VALUE: usize = 1024;
/// Bytes kept of a log message.
const MESSAGE: usize = 8 * 1024;
/// Span events kept per span.
const MAX_SPAN_EVENTS: usize = 32;

/// One backend record of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendRecord {
    /// A log line emitted while handling the request.
    Log(LogLine),
    /// A span: one operation of the request.
    Span(SpanRecord),
}

impl BackendRecord {
    /// When it happened (a span's start), ms since the Unix epoch.
    pub fn time(&self) -> f64 {
        match self {
            BackendRecord::Log(l) => l.time,
            BackendRecord::Span(s) => s.start,
        }
    }
}

/// A log record, as a support engineer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// ms since the Unix epoch (with sub-ms precision).
    pub time: f64,
    /// `service.name` of the emitting resource.
    pub service: String,
    /// Severity text (`ERROR`, `WARN`, …), or the name of its severity number.
    pub severity: String,
    /// OpenTelemetry severity number (1–24; 17 and above are errors).
    pub severity_number: i32,
    /// The log body, as text.
    pub message: String,
    /// The span it was emitted in, as hex.
    pub span_id: Option<String>,
    /// The instrumentation scope (usually the logger or module name).
    pub scope: String,
    /// Attributes as `key`, `value` text.
    pub attributes: Vec<(String, String)>,
}

/// A span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanRecord {
    /// Start, ms since the Unix epoch.
    pub start: f64,
    /// Duration in ms.
    pub duration_ms: f64,
    /// `service.name` of the emitting resource.
    pub service: String,
    /// Operation name.
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: String,
    /// Span id, as hex.
    pub span_id: String,
    /// Parent span id, as hex; `None` for a root span.
    pub parent_span_id: Option<String>,
    /// `ok`, `error` or `unset`.
    pub status: String,
    /// The status message of an error.
    pub status_message: String,
    /// Attributes as `key`, `value` text.
    pub attributes: Vec<(String, String)>,
    /// Events within the span (exceptions among them), oldest first.
    pub events: Vec<SpanEvent>,
}

/// An event within a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// ms since the Unix epoch.
    pub time: f64,
    /// Its name (`exception` for recorded errors).
    pub name: String,
    /// Attributes as `key`, `value` text.
    pub attributes: Vec<(String, String)>,
}

/// A trace's records, split by kind and in time order: what the API answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceTelemetry {
    /// The trace id, as hex.
    pub trace: String,
    /// Its spans, by start time.
    pub spans: Vec<SpanRecord>,
    /// Its log lines, by time.
    pub logs: Vec<LogLine>,
}

impl TraceTelemetry {
    /// Sorts `records` of `trace` into spans and logs, each in time order.
    pub fn new(trace: TraceId, mut records: Vec<BackendRecord>) -> Self {
        records.sort_by(|a, b| a.time().total_cmp(&b.time()));
        let mut out = TraceTelemetry { trace: trace.to_string(), ..Default::default() };
        for record in records {
            match record {
                BackendRecord::Log(l) => out.logs.push(l),
                BackendRecord::Span(s) => out.spans.push(s),
            }
        }
        out
    }

    /// Whether the backend reported an error: an error span or a log line at error severity.
    pub fn has_error(&self) -> bool {
        self.spans.iter().any(|s| s.status == "error") || self.logs.iter().any(LogLine::is_error)
    }
}

impl LogLine {
    /// Whether the line is at error severity or above.
    pub fn is_error(&self) -> bool {
        self.severity_number >= 17 || matches!(self.severity.to_ascii_uppercase().as_str(), "ERROR" | "FATAL")
    }

    /// Whether the line is at warning severity or above: how a backend often logs why it
    /// refused a request (a 409, a 422).
    pub fn is_warning(&self) -> bool {
        self.severity_number >= 13 || self.is_error() || self.severity.to_ascii_uppercase().starts_with("WARN")
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub(crate) fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("héllo".into(), 2), "h");
        assert_eq!(clip("hello".into(), 10), "hello");
    }

    #[test]
    fn telemetry_sorts_records_by_time() {
        let log = |time: f64| {
            BackendRecord::Log(LogLine {
                time,
                service: "api".into(),
                severity: "ERROR".into(),
                severity_number: 17,
                message: format!("at {time}"),
                span_id: None,
                scope: String::new(),
                attributes: vec![],
            })
        };
        let t = TraceTelemetry::new(TraceId([1; 16]), vec![log(3.0), log(1.0), log(2.0)]);
        let times: Vec<f64> = t.logs.iter().map(|l| l.time).collect();
        assert_eq!(times, [1.0, 2.0, 3.0]);
        assert!(t.has_error());
    }
}
