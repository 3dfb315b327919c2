//! OTLP/HTTP requests (`/v1/logs`, `/v1/traces`) in either encoding, read with the official
//! `opentelemetry-proto` types and turned into [`BackendRecord`]s keyed by trace id.

use std::fmt::Write as _;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sightline_protocol::TraceId;

use super::{clip, BackendRecord, LogLine, SpanEvent, SpanRecord, MAX_ATTRIBUTES, MAX_SPAN_EVENTS, MESSAGE, VALUE};

/// The two encodings OTLP/HTTP defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (protobuf's JSON mapping, ids as hex).
    Json,
}

impl Encoding {
    /// The encoding a media type names, if it is one of OTLP's.
    pub fn of_media_type(media_type: &str) -> Option<Encoding> {
        match media_type {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The media type answers in this encoding carry.
    pub fn media_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A body that is not a valid OTLP export request.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// Not a protobuf-encoded export request.
    #[error("not an OTLP protobuf export request: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// Not a JSON-encoded export request.
    #[error("not an OTLP JSON export request: {0}")]
    Json(#[from] serde_json::Error),
    /// Well-formed, but a record in it breaks the data model.
    #[error("{0}")]
    Invalid(String),
}

/// The records of one export request.
#[derive(Debug, Default)]
pub struct Records {
    /// Records with a trace id, to store.
    pub traced: Vec<(TraceId, BackendRecord)>,
    /// Records without one: nothing can join them to a session, so they are not kept.
    pub untraced: usize,
    /// Records past the most one request may bring, not kept.
    pub over_limit: usize,
}

impl Records {
    /// Keeps `record` of `trace` if the request is still under `max` records.
    fn push(
        &mut self,
        max: usize,
        trace: TraceId,
        record: impl FnOnce() -> Result<BackendRecord, OtlpError>,
    ) -> Result<(), OtlpError> {
        if self.traced.len() < max {
            self.traced.push((trace, record()?));
        } else {
            self.over_limit += 1;
        }
        Ok(())
    }
}

/// Reads an `ExportLogsServiceRequest`, keeping at most `max` records.
pub fn logs(body: &[u8], encoding: Encoding, max: usize) -> Result<Records, OtlpError> {
    let request: ExportLogsServiceRequest = decode(body, encoding)?;
    let mut out = Records::default();
    for resource_logs in request.resource_logs {
        let service = service_name(resource_logs.resource.as_ref());
        for scope_logs in resource_logs.scope_logs {
            let scope = scope_name(scope_logs.scope.as_ref());
            for log in scope_logs.log_records {
                let Some(trace) = trace_id(&log.trace_id)? else {
                    out.untraced += 1;
                    continue;
                };
                let (service, scope) = (&service, &scope);
                out.push(max, trace, move || {
                    let time = if log.time_unix_nano != 0 { log.time_unix_nano } else { log.observed_time_unix_nano };
                    let severity = if log.severity_text.is_empty() {
                        severity_name(log.severity_number).to_owned()
                    } else {
                        clip(log.severity_text, 32)
                    };
                    Ok(BackendRecord::Log(LogLine {
                        time: ms(time),
                        service: service.clone(),
                        severity,
                        severity_number: log.severity_number,
                        message: log.body.as_ref().map(|b| text(b, MESSAGE)).unwrap_or_default(),
                        span_id: span_id(&log.span_id)?,
                        scope: scope.clone(),
                        attributes: attributes(&log.attributes),
                    }))
                })?;
            }
        }
    }
    Ok(out)
}

/// Reads an `ExportTraceServiceRequest`, keeping at most `max` records.
pub fn spans(body: &[u8], encoding: Encoding, max: usize) -> Result<Records, OtlpError> {
    let request: ExportTraceServiceRequest = decode(body, encoding)?;
    let mut out = Records::default();
    for resource_spans in request.resource_spans {
        let service = service_name(resource_spans.resource.as_ref());
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                let Some(trace) = trace_id(&span.trace_id)? else {
                    out.untraced += 1;
                    continue;
                };
                let service = &service;
                out.push(max, trace, move || {
                    let id =
                        span_id(&span.span_id)?.ok_or_else(|| OtlpError::Invalid("a span needs a span id".into()))?;
                    let status = span.status.unwrap_or_default();
                    let record = SpanRecord {
                        start: ms(span.start_time_unix_nano),
                        duration_ms: span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano) as f64 / 1e6,
                        service: service.clone(),
                        name: clip(span.name, VALUE),
                        kind: span_kind(span.kind).to_owned(),
                        span_id: id,
                        parent_span_id: span_id(&span.parent_span_id)?,
                        status: match status.code {
                            1 => "ok",
                            2 => "error",
                            _ => "unset",
                        }
                        .to_owned(),
                        status_message: clip(status.message, VALUE),
                        attributes: attributes(&span.attributes),
                        events: span
                            .events
                            .into_iter()
                            .take(MAX_SPAN_EVENTS)
                            .map(|e| SpanEvent {
                                time: ms(e.time_unix_nano),
                                name: clip(e.name, VALUE),
                                attributes: attributes(&e.attributes),
                            })
                            .collect(),
                    };
                    Ok(BackendRecord::Span(record))
                })?;
            }
        }
    }
    Ok(out)
}

/// The answer to a logs export: empty, or a partial success naming what was not kept.
pub fn logs_response(encoding: Encoding, rejected: usize, why: String) -> Vec<u8> {
    let partial_success = (rejected > 0)
        .then_some(ExportLogsPartialSuccess { rejected_log_records: rejected as i64, error_message: why });
    encode(&ExportLogsServiceResponse { partial_success }, encoding)
}

/// The answer to a traces export: empty, or a partial success naming what was not kept.
pub fn traces_response(encoding: Encoding, rejected: usize, why: String) -> Vec<u8> {
    let partial_success =
        (rejected > 0).then_some(ExportTracePartialSuccess { rejected_spans: rejected as i64, error_message: why });
    encode(&ExportTraceServiceResponse { partial_success }, encoding)
}

fn decode<T: Message + Default + serde::de::DeserializeOwned>(body: &[u8], encoding: Encoding) -> Result<T, OtlpError> {
    Ok(match encoding {
        Encoding::Protobuf => T::decode(body)?,
        Encoding::Json => serde_json::from_slice(body)?,
    })
}

fn encode<T: Message + serde::Serialize>(message: &T, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        // An empty message is `{}` in protobuf's JSON mapping, which omits absent fields.
        Encoding::Json if message.encoded_len() == 0 => b"{}".to_vec(),
        Encoding::Json => serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// A 16-byte trace id; `None` when absent or all zeros (the data model's "no trace").
fn trace_id(bytes: &[u8]) -> Result<Option<TraceId>, OtlpError> {
    match bytes.len() {
        0 => Ok(None),
        16 => Ok(Some(TraceId(bytes.try_into().unwrap_or_default())).filter(|t| !t.is_zero())),
        n => Err(OtlpError::Invalid(format!("a trace id is 16 bytes, not {n}"))),
    }
}

/// An 8-byte span id as hex; `None` when absent or all zeros.
fn span_id(bytes: &[u8]) -> Result<Option<String>, OtlpError> {
    match bytes.len() {
        0 => Ok(None),
        8 if bytes.iter().all(|b| *b == 0) => Ok(None),
        8 => Ok(Some(bytes.iter().fold(String::with_capacity(16), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        }))),
        n => Err(OtlpError::Invalid(format!("a span id is 8 bytes, not {n}"))),
    }
}

fn ms(unix_nano: u64) -> f64 {
    unix_nano as f64 / 1e6
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| kv.value.as_ref())
        .map(|v| text(v, VALUE))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

fn scope_name(scope: Option<&InstrumentationScope>) -> String {
    scope.map(|s| clip(s.name.clone(), VALUE)).unwrap_or_default()
}

fn attributes(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .take(MAX_ATTRIBUTES)
        .map(|kv| (clip(kv.key.clone(), VALUE), kv.value.as_ref().map(|v| text(v, VALUE)).unwrap_or_default()))
        .collect()
}

/// A value as text, at most `max` bytes.
fn text(value: &AnyValue, max: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, max);
    clip(out, max)
}

/// Appends `value` to `out`, stopping once `out` holds `max` bytes: nested values are walked
/// only until then, so a huge array costs no more than what is kept of it.
fn write_value(out: &mut String, value: &AnyValue, max: usize) {
    if out.len() >= max {
        return;
    }
    match &value.value {
        None => {}
        Some(Value::StringValue(s)) => out.push_str(&s[..floor_boundary(s, max - out.len())]),
        Some(Value::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) => {
            let _ = write!(out, "{d}");
        }
        Some(Value::BytesValue(b)) => {
            let _ = write!(out, "<{} bytes>", b.len());
        }
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if out.len() >= max {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, v, max);
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => {
            out.push('{');
            for (i, pair) in kv.values.iter().enumerate() {
                if out.len() >= max {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&pair.key[..floor_boundary(&pair.key, max.saturating_sub(out.len()))]);
                out.push_str(": ");
                if let Some(v) = &pair.value {
                    write_value(out, v, max);
                }
            }
            out.push('}');
        }
        Some(_) => out.push('?'),
    }
}

fn floor_boundary(s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}

fn span_kind(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    use super::*;

    fn string(s: &str) -> AnyValue {
        AnyValue { value: Some(Value::StringValue(s.into())) }
    }

    fn logs_request(trace_id: Vec<u8>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(string("billing")),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 1_780_000_000_123_000_000,
                        severity_number: 17,
                        body: Some(string("invoice 7: mail server refused")),
                        trace_id,
                        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn logs_read_the_same_in_both_encodings() {
        let request = logs_request(vec![0xab; 16]);
        let from_protobuf = logs(&request.encode_to_vec(), Encoding::Protobuf, 100).unwrap();
        let from_json = logs(&serde_json::to_vec(&request).unwrap(), Encoding::Json, 100).unwrap();
        assert_eq!(from_protobuf.traced, from_json.traced);
        let (trace, BackendRecord::Log(line)) = &from_protobuf.traced[0] else { panic!("not a log line") };
        assert_eq!(*trace, TraceId([0xab; 16]));
        assert_eq!(line.service, "billing");
        assert_eq!(line.severity, "ERROR");
        assert_eq!(line.message, "invoice 7: mail server refused");
        assert_eq!(line.span_id.as_deref(), Some("0102030405060708"));
        assert_eq!(line.time, 1_780_000_000_123.0);
    }

    #[test]
    fn records_without_a_trace_are_counted_not_kept() {
        let records = logs(&logs_request(vec![]).encode_to_vec(), Encoding::Protobuf, 100).unwrap();
        assert!(records.traced.is_empty());
        assert_eq!(records.untraced, 1);
        let zero = logs(&logs_request(vec![0; 16]).encode_to_vec(), Encoding::Protobuf, 100).unwrap();
        assert_eq!(zero.untraced, 1);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(matches!(logs(b"\xff\xff\xff", Encoding::Protobuf, 100), Err(OtlpError::Protobuf(_))));
        assert!(matches!(logs(b"{\"resourceLogs\": 3}", Encoding::Json, 100), Err(OtlpError::Json(_))));
        let bad_id = logs(&logs_request(vec![1; 5]).encode_to_vec(), Encoding::Protobuf, 100);
        assert!(matches!(bad_id, Err(OtlpError::Invalid(_))));
    }

    #[test]
    fn nested_values_become_bounded_text() {
        let nested = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key_strindex: 0,
                    key: "ids".into(),
                    value: Some(AnyValue {
                        value: Some(Value::ArrayValue(ArrayValue {
                            values: vec![AnyValue { value: Some(Value::IntValue(1)) }, string("two")],
                        })),
                    }),
                }],
            })),
        };
        assert_eq!(text(&nested, 100), "{ids: [1, two]}");
        let long = string(&"é".repeat(1000));
        assert_eq!(text(&long, 11).len(), 10);
    }
}
