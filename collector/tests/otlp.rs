//! OTLP/HTTP ingest from backends: both encodings, built with the official types; refusals that
//! store nothing; and the join of a trace's backend records to the session that made the
//! request, whichever arrived first.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use sightline_collector::store::{SledStore, Store};
use sightline_e2e::{batch_bytes, random_session, Collector, Http, Response};
use sightline_protocol::{Event, EventData, Initiator, Network, SessionId, SpanId, TraceContext, TraceId};

const KEY: &str = "slk_backend";
const BACKEND_KEY: &str = "slb_backend_secret";
const TOKEN: &str = "slr_backend";
const CONFIG: &str = r#"
[[projects]]
name = "backend"
ingest_key = "slk_backend"
accept_unsealed = true
read_tokens = ["slr_backend"]
backend_keys = ["slb_backend_secret"]

[limits]
max_batch_bytes = 262144
"#;
const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

fn start(dir: &Path) -> Collector {
    Collector::start(Path::new(env!("CARGO_BIN_EXE_sightline-collector")), &dir.join("data"), CONFIG)
}

fn random_trace() -> TraceId {
    TraceId(random_session().0)
}

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue { value: Some(any_value::Value::StringValue(s.into())) })
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue { key: "service.name".into(), value: text("billing-api"), ..Default::default() }],
        ..Default::default()
    })
}

/// One error log line per message, all in `trace` (or without a trace for `None`).
fn error_logs(trace: Option<TraceId>, messages: &[&str]) -> ExportLogsServiceRequest {
    let log_records = messages
        .iter()
        .map(|m| LogRecord {
            time_unix_nano: 1_780_000_001_000_000_000,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: text(m),
            attributes: vec![KeyValue { key: "invoice.id".into(), value: text("INV-7"), ..Default::default() }],
            trace_id: trace.map(|t| t.0.to_vec()).unwrap_or_default(),
            span_id: vec![7; 8],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs { log_records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn server_span(trace: TraceId) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: trace.0.to_vec(),
                    span_id: vec![7; 8],
                    parent_span_id: vec![9; 8],
                    name: "POST /api/invoices/{id}/send".into(),
                    kind: 2,
                    start_time_unix_nano: 1_780_000_000_900_000_000,
                    end_time_unix_nano: 1_780_000_001_150_000_000,
                    status: Some(Status {
                        code: status::StatusCode::Error as i32,
                        message: "mail server refused".into(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn post(http: &Http, collector: &Collector, path: &str, content_type: &str, body: &[u8]) -> Response {
    http.request(
        "POST",
        &format!("{}{path}", collector.base),
        &[("x-sightline-key", BACKEND_KEY), ("content-type", content_type)],
        Some(body),
    )
}

/// A batch whose one request carried `trace` in its `traceparent` and failed with a 500.
fn request_batch(session: SessionId, trace: TraceId) -> Vec<u8> {
    let network = Network {
        id: 1,
        initiator: Initiator::Fetch,
        method: "POST".into(),
        url: "https://app.example/api/invoices/7/send".into(),
        status: 500,
        duration: 250,
        trace: Some(TraceContext { trace_id: trace, span_id: SpanId([9; 8]) }),
        ..Default::default()
    };
    batch_bytes(KEY, session, 0, 0, vec![Event { dt: 1_000, data: EventData::Network(Box::new(network)) }])
}

fn trace_of(http: &Http, collector: &Collector, trace: TraceId) -> serde_json::Value {
    let response = http.get(&format!("{}/api/traces/{trace}", collector.base), TOKEN);
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    response.json()
}

#[test]
fn backend_records_join_the_session_whichever_arrives_first() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path());
    let http = Http::default();

    // Logs before the batch, in protobuf.
    let (early_session, early) = (random_session(), random_trace());
    let response = post(
        &http,
        &collector,
        "/v1/logs",
        PROTOBUF,
        &error_logs(Some(early), &["mail server refused"]).encode_to_vec(),
    );
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.header("content-type"), Some(PROTOBUF));
    assert!(response.body.is_empty(), "a full success is an empty ExportLogsServiceResponse");
    assert_eq!(http.post_batch(&collector.base, KEY, &request_batch(early_session, early)).status, 200);

    // The batch before logs and spans, in JSON.
    let (late_session, late) = (random_session(), random_trace());
    assert_eq!(http.post_batch(&collector.base, KEY, &request_batch(late_session, late)).status, 200);
    let logs_json = serde_json::to_vec(&error_logs(Some(late), &["mail server refused"])).unwrap();
    let response = post(&http, &collector, "/v1/logs", JSON, &logs_json);
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.json(), serde_json::json!({}));
    let spans_json = serde_json::to_vec(&server_span(late)).unwrap();
    assert_eq!(post(&http, &collector, "/v1/traces", JSON, &spans_json).status, 200);

    for (session, trace, spans) in [(early_session, early, 0), (late_session, late, 1)] {
        let joined = trace_of(&http, &collector, trace);
        assert_eq!(joined["trace"], trace.to_string());
        assert_eq!(joined["sessions"][0]["session"], session.to_string(), "{joined}");
        let log = &joined["logs"][0];
        assert_eq!(log["service"], "billing-api");
        assert_eq!(log["severity"], "ERROR");
        assert_eq!(log["message"], "mail server refused");
        assert_eq!(log["span_id"], "0707070707070707");
        assert_eq!(log["attributes"][0], serde_json::json!(["invoice.id", "INV-7"]));
        assert_eq!(joined["spans"].as_array().unwrap().len(), spans);
    }
    let span = &trace_of(&http, &collector, late)["spans"][0];
    assert_eq!(span["name"], "POST /api/invoices/{id}/send");
    assert_eq!(span["kind"], "server");
    assert_eq!(span["status"], "error");
    assert_eq!(span["duration_ms"], 250.0);
    assert_eq!(span["parent_span_id"], "0909090909090909");

    // A trace id search lands on the session and the moment of the request.
    let found = http.get(&format!("{}/api/sessions?trace={late}", collector.base), TOKEN).json();
    assert_eq!(found["sessions"][0]["id"], late_session.to_string());

    // Deleting the session deletes the backend records of its traces.
    assert_eq!(http.delete(&format!("{}/api/sessions/{late_session}", collector.base), TOKEN).status, 200);
    let gone = trace_of(&http, &collector, late);
    assert!(gone["logs"].as_array().unwrap().is_empty() && gone["spans"].as_array().unwrap().is_empty());
    assert_eq!(trace_of(&http, &collector, early)["logs"].as_array().unwrap().len(), 1, "other traces stay");
    // Records of that trace arriving later are not kept either.
    let late_logs =
        post(&http, &collector, "/v1/logs", PROTOBUF, &error_logs(Some(late), &["too late"]).encode_to_vec());
    assert_eq!(late_logs.status, 200);
    assert!(trace_of(&http, &collector, late)["logs"].as_array().unwrap().is_empty());
}

#[test]
fn malformed_otlp_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path());
    let http = Http::default();
    let trace = random_trace();
    let valid = error_logs(Some(trace), &["kept?"]);

    let mut short_id = valid.clone();
    short_id.resource_logs[0].scope_logs[0].log_records[0].trace_id = vec![1; 5];
    let mut truncated = valid.encode_to_vec();
    truncated.truncate(truncated.len() - 3);
    let refusals: [(&str, &str, Vec<u8>, u16, &str); 6] = [
        ("/v1/logs", PROTOBUF, truncated, 400, "malformed_otlp"),
        ("/v1/logs", JSON, b"{\"resourceLogs\": [{\"scopeLogs\": 7}]}".to_vec(), 400, "malformed_otlp"),
        ("/v1/logs", PROTOBUF, short_id.encode_to_vec(), 400, "invalid_otlp"),
        (
            "/v1/traces",
            JSON,
            b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\": \"zz\"}]}]}]}".to_vec(),
            400,
            "malformed_otlp",
        ),
        ("/v1/logs", "text/plain", valid.encode_to_vec(), 415, "unsupported_media_type"),
        ("/v1/logs", PROTOBUF, vec![0x0a; 300_000], 413, "too_large"),
    ];
    for (path, content_type, body, status, code) in refusals {
        let response = post(&http, &collector, path, content_type, &body);
        assert_eq!(response.status, status, "{path} {content_type}: {}", String::from_utf8_lossy(&response.body));
        assert_eq!(response.error_code(), code);
    }
    let response = post_gzipped(&http, &collector, b"not protobuf at all, \xff\xff\xff");
    assert_eq!(response.status, 400);
    let unauthenticated = http.request(
        "POST",
        &format!("{}/v1/logs", collector.base),
        &[("content-type", PROTOBUF)],
        Some(&valid.encode_to_vec()),
    );
    assert_eq!(unauthenticated.status, 401);
    // The ingest key ships in pages: it can't vouch for a backend.
    let with_ingest_key = http.request(
        "POST",
        &format!("{}/v1/logs", collector.base),
        &[("x-sightline-key", KEY), ("content-type", PROTOBUF)],
        Some(&valid.encode_to_vec()),
    );
    assert_eq!(with_ingest_key.status, 401);
    assert!(with_ingest_key.json()["message"].as_str().unwrap().contains("ingest key"));
    let records = trace_of(&http, &collector, trace);
    assert!(records["logs"].as_array().unwrap().is_empty(), "a refused request stores nothing: {records}");

    // The same request, well-formed and gzip-compressed, is kept.
    let response = post_gzipped(&http, &collector, &valid.encode_to_vec());
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(trace_of(&http, &collector, trace)["logs"][0]["message"], "kept?");
}

#[test]
fn records_not_kept_are_reported_as_a_partial_success() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path());
    let http = Http::default();
    let trace = random_trace();

    let mut request = error_logs(Some(trace), &["a", "b"]);
    request.resource_logs.extend(error_logs(None, &["no trace"]).resource_logs);
    let response = post(&http, &collector, "/v1/logs", JSON, &serde_json::to_vec(&request).unwrap());
    assert_eq!(response.status, 200);
    let answer = response.json();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], 1, "{answer}");
    assert!(answer["partialSuccess"]["errorMessage"].as_str().unwrap().contains("without a trace id"));

    // A trace keeps 1,000 records: of 1,000 more, 998 fit.
    let many: Vec<String> = (0..1_000).map(|i| format!("line {i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let response = post(&http, &collector, "/v1/logs", PROTOBUF, &error_logs(Some(trace), &many).encode_to_vec());
    assert_eq!(response.status, 200);
    let answer =
        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse::decode(&response.body[..]).unwrap();
    assert_eq!(answer.partial_success.unwrap().rejected_log_records, 2);
    assert_eq!(trace_of(&http, &collector, trace)["logs"].as_array().unwrap().len(), 1_000);
}

#[test]
fn a_request_is_bounded_in_what_it_decodes_and_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path());
    let http = Http::default();
    let gzipped = |body: &[u8]| post_gzipped(&http, &collector, body);
    // 8 MiB that compress to a few KiB: refused once past what a request may decode to.
    let bomb = gzipped(&vec![0u8; 8 << 20]);
    assert_eq!(bomb.status, 413, "{}", String::from_utf8_lossy(&bomb.body));

    // 10,001 records, each of its own trace: the last one is not kept.
    let traces: Vec<TraceId> = (0..10_001).map(|_| random_trace()).collect();
    let mut request = error_logs(Some(traces[0]), &["one"]);
    let record = request.resource_logs[0].scope_logs[0].log_records[0].clone();
    request.resource_logs[0].scope_logs[0].log_records =
        traces.iter().map(|t| LogRecord { trace_id: t.0.to_vec(), ..record.clone() }).collect();
    let response = gzipped(&request.encode_to_vec());
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let answer =
        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse::decode(&response.body[..]).unwrap();
    let partial = answer.partial_success.unwrap();
    assert_eq!(partial.rejected_log_records, 1);
    assert!(partial.error_message.contains("past the 10,000"), "{}", partial.error_message);
    assert_eq!(trace_of(&http, &collector, traces[9_999])["logs"].as_array().unwrap().len(), 1);
    assert!(trace_of(&http, &collector, traces[10_000])["logs"].as_array().unwrap().is_empty());
}

#[test]
fn backends_have_a_rate_budget_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG
        .replace("backend_keys = [\"slb_backend_secret\"]", "backend_keys = [\"slb_backend_secret\"]\nrate_limit = 2");
    let collector =
        Collector::start(Path::new(env!("CARGO_BIN_EXE_sightline-collector")), &dir.path().join("data"), &config);
    let http = Http::default();
    let body = error_logs(Some(random_trace()), &["busy"]).encode_to_vec();
    let statuses: Vec<u16> = (0..4).map(|_| post(&http, &collector, "/v1/logs", PROTOBUF, &body).status).collect();
    assert!(statuses.contains(&429), "over the budget: {statuses:?}");
    let refused = post(&http, &collector, "/v1/logs", PROTOBUF, &body);
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    // The pages' batches have their own budget, untouched by the backend's.
    assert_eq!(http.post_batch(&collector.base, KEY, &request_batch(random_session(), random_trace())).status, 200);
}

/// `POST /v1/logs` of `body` gzip-compressed, as protobuf.
fn post_gzipped(http: &Http, collector: &Collector, body: &[u8]) -> Response {
    http.request(
        "POST",
        &format!("{}/v1/logs", collector.base),
        &[("x-sightline-key", BACKEND_KEY), ("content-type", PROTOBUF), ("content-encoding", "gzip")],
        Some(&gzip(body)),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_digest_tells_what_failed_with_the_backend_records_of_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path());
    let http = Http::default();
    let session = random_session();
    // The sample session's failing request carried this trace id.
    let trace: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
    for batch in sightline_e2e::sample_session(KEY, session) {
        assert_eq!(http.post_batch(&collector.base, KEY, &batch).status, 200);
    }
    assert_eq!(
        post(
            &http,
            &collector,
            "/v1/logs",
            PROTOBUF,
            &error_logs(Some(trace), &["mail server refused"]).encode_to_vec()
        )
        .status,
        200
    );
    assert_eq!(post(&http, &collector, "/v1/traces", PROTOBUF, &server_span(trace).encode_to_vec()).status, 200);

    let url = format!("{}/api/sessions/{session}/digest", collector.base);
    let digest = http.get(&url, TOKEN);
    assert_eq!(digest.status, 200, "{}", String::from_utf8_lossy(&digest.body));
    let digest = digest.json();
    assert_eq!(digest["who"]["user_id"], "u_1842");
    assert_eq!(digest["who"]["browser"], "Chrome 156.0.0.0");
    let problems = digest["problems"].as_array().unwrap();
    let failed = problems.iter().find(|p| p["kind"] == "failed_request").expect("the failed request");
    assert_eq!(failed["request"]["status"], 500);
    assert_eq!(failed["request"]["trace"], trace.to_string());
    assert_eq!(failed["backend"]["logs"][0]["message"], "mail server refused");
    assert_eq!(failed["backend"]["spans"][0]["status"], "error");
    let time = failed["time"].as_u64().unwrap();
    assert_eq!(failed["link"], format!("{}/sessions/{session}?t={time}", collector.base));
    assert!(
        failed["steps"].as_array().unwrap().iter().any(|s| s["summary"].as_str().unwrap().contains("click")),
        "the click before it is among the last steps: {failed}"
    );
    let all: Vec<&serde_json::Value> =
        problems.iter().flat_map(|p| std::iter::once(p).chain(p["related"].as_array().into_iter().flatten())).collect();
    assert!(all.iter().any(|p| p["kind"] == "js_error"), "{digest}");
    let headline = digest["headline"].as_str().unwrap();
    assert!(
        headline.starts_with(
            "POST /api/invoices/42/send failed with 500 (mail server refused) after the user right-clicked \"Total: €2,048.00\" (span)"
        ) && headline.ends_with("into the session on /invoices/42#lines"),
        "{headline}"
    );
    assert!(problems.windows(2).all(|w| w[0]["time"].as_u64() <= w[1]["time"].as_u64()), "in time order");

    let markdown =
        http.request("GET", &format!("{url}?format=md"), &[("authorization", &format!("Bearer {TOKEN}"))], None);
    assert_eq!(markdown.status, 200);
    assert!(markdown.header("content-type").unwrap().starts_with("text/markdown"));
    let text = String::from_utf8(markdown.body).unwrap();
    assert!(text.contains("### ") && text.contains("Failed request at"), "{text}");
    assert!(text.contains("**POST /api/invoices/42/send failed with 500"), "the headline first: {text}");
    assert!(text.contains("log ERROR billing-api: mail server refused"), "{text}");
    assert!(text.contains(&format!("?t={time})")), "{text}");
    let negotiated =
        http.request("GET", &url, &[("authorization", &format!("Bearer {TOKEN}")), ("accept", "text/markdown")], None);
    assert_eq!(String::from_utf8(negotiated.body).unwrap(), text);

    assert_eq!(http.request("GET", &url, &[], None).status, 401);
    assert_eq!(http.get(&format!("{url}?format=pdf"), TOKEN).status, 400);
    assert_eq!(http.get(&format!("{}/api/sessions/{}/digest", collector.base, random_session()), TOKEN).status, 404);
}

#[test]
fn backend_records_expire_with_the_project_retention() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "retention_sweep_seconds = 1\n{}",
        CONFIG.replace("read_tokens = [\"slr_backend\"]", "read_tokens = [\"slr_backend\"]\nretention_days = 0.00002")
    );
    let mut collector =
        Collector::start(Path::new(env!("CARGO_BIN_EXE_sightline-collector")), &dir.path().join("data"), &config);
    let http = Http::default();
    let trace = random_trace();
    assert_eq!(
        post(&http, &collector, "/v1/logs", PROTOBUF, &error_logs(Some(trace), &["soon gone"]).encode_to_vec()).status,
        200
    );
    assert_eq!(trace_of(&http, &collector, trace)["logs"].as_array().unwrap().len(), 1);

    // 0.00002 days is 1.7 s; the sweep runs every second.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !trace_of(&http, &collector, trace)["logs"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the backend records outlived their retention");
        std::thread::sleep(Duration::from_millis(200));
    }
    collector.stop();
    let store = SledStore::open(&dir.path().join("data")).unwrap();
    assert_eq!(store.trace_header(1, trace).unwrap(), None, "the trace's header went with its records");
    assert_eq!(store.expire_telemetry(1, u64::MAX, 10).unwrap(), 0, "and its age entry");
}
