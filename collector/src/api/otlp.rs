//! `POST /v1/logs` and `POST /v1/traces`: OTLP/HTTP from customers' backends, in protobuf or
//! JSON, optionally gzip-compressed, authenticated with one of the project's backend keys in
//! `x-sightline-key` (which OTLP exporters send through `OTEL_EXPORTER_OTLP_HEADERS`). Not the
//! ingest key: that one ships in every page, and anyone holding it could otherwise put words in
//! the backend's mouth.
//!
//! A request is answered only once its records are durable. Records without a trace id, and
//! records over a trace's limit, are not kept; the answer says so as an OTLP partial success.
//! A body that is not a valid export request is refused whole with 400: nothing of it is
//! stored.

use std::io::Read;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::body::{media_type, read_body};
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::telemetry::otlp::{self, Encoding, OtlpError, Records};
use crate::writer::TelemetryJob;

const OTLP_MEDIA_TYPES: &str = "application/x-protobuf or application/json";
/// Bytes an export request may be, decompressed: SDK exporters send batches of a few hundred
/// records, well under this. A body of this size decodes to at most about 160 MB of messages
/// (tiny records cost more in memory than on the wire), and one request decodes at a time.
const MAX_DECODED: usize = 2 << 20;
/// Records one request may bring; more are reported as not kept.
const MAX_RECORDS_PER_REQUEST: usize = 10_000;

/// Held while a request is decoded, so concurrent hostile bodies can't multiply the memory
/// one of them may take.
static DECODING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The two signals this collector takes.
#[derive(Clone, Copy)]
enum Signal {
    Logs,
    Traces,
}

pub async fn post_logs(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    export(Signal::Logs, &req, body, &state).await
}

pub async fn post_traces(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    export(Signal::Traces, &req, body, &state).await
}

async fn export(
    signal: Signal,
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("x-sightline-key")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated("send a backend key of the project in `x-sightline-key`"))?;
    let project = match state.projects.by_backend_key(key) {
        Some(project) => project.clone(),
        None if state.projects.by_ingest_key(key).is_some() => {
            return Err(ApiError::BadCredentials(
                "that is the project's ingest key, which pages carry; backends send a backend key",
            ))
        }
        None => return Err(ApiError::BadCredentials("unknown backend key")),
    };
    let (content_type, media_type) = media_type(req);
    let encoding = Encoding::of_media_type(&media_type)
        .ok_or_else(|| ApiError::UnsupportedMediaType { got: content_type.clone(), expected: OTLP_MEDIA_TYPES })?;
    // The project's `rate_limit` applies, in a bucket apart from the pages' batches: a busy
    // backend must not starve them.
    project.take_backend_rate_token().map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    state.writable()?;
    let raw = read_body(req, body, state.limits.max_compressed.min(MAX_DECODED)).await?;
    let gzipped = match req.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType {
                got: format!("{content_type} with content-encoding {other}"),
                expected: "an uncompressed or gzip-compressed body",
            })
        }
    };
    // Decompressing, decoding and writing out the records is CPU work: off the async workers.
    let decoded = web::block(move || {
        let _one_at_a_time = DECODING.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = if gzipped { gunzip(&raw, MAX_DECODED)? } else { raw };
        let records = match signal {
            Signal::Logs => otlp::logs(&bytes, encoding, MAX_RECORDS_PER_REQUEST),
            Signal::Traces => otlp::spans(&bytes, encoding, MAX_RECORDS_PER_REQUEST),
        };
        let Records { traced, untraced, over_limit } = records.map_err(|e| {
            let code = match e {
                OtlpError::Invalid(_) => "invalid_otlp",
                _ => "malformed_otlp",
            };
            ApiError::bad_request(code, e.to_string())
        })?;
        let stored: Result<Vec<_>, _> =
            traced.into_iter().map(|(trace, record)| serde_json::to_vec(&record).map(|json| (trace, json))).collect();
        let stored = stored.map_err(|e| ApiError::bad_request("invalid_otlp", e.to_string()))?;
        Ok::<_, ApiError>((stored, untraced, over_limit))
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    let (records, untraced, too_many) = decoded;

    let job = TelemetryJob { project: project.id, records, received_at: now_ms() };
    let outcome = state.writer.telemetry(job)?.await.map_err(|_| ApiError::ShuttingDown)??;
    let rejected = untraced + too_many + outcome.over_limit + outcome.deleted;
    let why = [
        (untraced, "without a trace id"),
        (too_many, "past the 10,000 one request may bring"),
        (outcome.over_limit, "over the limit of their trace"),
        (outcome.deleted, "of deleted sessions"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} records {what}"))
    .collect::<Vec<_>>()
    .join(", ");
    let why = if why.is_empty() { why } else { format!("{why} were not kept") };
    let answer = match signal {
        Signal::Logs => otlp::logs_response(encoding, rejected, why),
        Signal::Traces => otlp::traces_response(encoding, rejected, why),
    };
    Ok(HttpResponse::Ok().content_type(encoding.media_type()).body(answer))
}

/// The gzip body decompressed, refused with 413 past `limit` bytes (never allocated blindly).
fn gunzip(compressed: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(compressed).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request("malformed_otlp", format!("not a gzip body: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(out)
}
