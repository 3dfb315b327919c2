//! `POST /v1/batches`: the SDK's endpoint.
//!
//! Checks run cheapest first (key, origin, media type, rate, size) so a hostile request costs
//! little; the body is decoded within the protocol's limits; the answer comes only once the
//! writer has made the batch durable. Every answer, errors included, carries the CORS headers
//! the page needs to read it (a 429's `Retry-After` among them), so the SDK can tell a refusal
//! from an unreachable collector.

use std::sync::LazyLock;

use actix_web::http::header::HeaderValue;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use sightline_protocol::{decode_batch, is_sealed_id, unseal, Limits, SessionId, WriterSecret};
use tokio::sync::Semaphore;

use super::auth::{project_of_key, query_key};
use super::body::{media_type, read_body};
use super::cors::{allow_request_origin, origin, preflight_answer};
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::grants::Held;
use crate::recording::{decoded_len, MAX_SESSION_BATCHES, MAX_SESSION_DECODED};
use crate::store::BatchKey;
use crate::summary::BatchTally;
use crate::writer::{IngestJob, Outcome};

/// Content types a batch may come with: ours, the generic binary type, and `text/plain`, the
/// only one `sendBeacon` can send cross-origin without a preflight. The magic bytes decide.
const BATCH_CONTENT_TYPES: [&str; 3] = ["application/vnd.sightline.batch", "application/octet-stream", "text/plain"];

/// The header a page shows its capture grant's token in, and an answer carries one (or
/// `revoked`) in.
const GRANT_HEADER: &str = "x-sightline-grant";

/// A batch declaring at most this much decoded payload is decoded on the worker that read it.
const INLINE_DECODE_BYTES: u64 = 256 * 1024;

/// Large batches decoded at once, at most: one per core.
static DECODING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// What ingest keeps of a decoded batch.
struct Decoded {
    project: String,
    session: SessionId,
    page: u32,
    seq: u32,
    tally: BatchTally,
}

pub async fn post_batch(req: HttpRequest, body: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut response = match ingest(&req, body, &state).await {
        Ok((outcome, watched, grant)) => {
            let mut answer = HttpResponse::Ok();
            answer.content_type("application/json");
            if watched {
                // The same as the body says, readable without reading the body.
                answer.insert_header(("x-sightline-watched", "1"));
            }
            if let Some(grant) = grant {
                answer.insert_header((GRANT_HEADER, grant));
            }
            answer.body(outcome_body(outcome, watched))
        }
        Err(error) => error.error_response(),
    };
    allow_request_origin(&req, response.headers_mut());
    response
}

/// The answer to a batch; `watched` when someone follows its session live, so that the page
/// sends sooner (see `live`).
fn outcome_body(outcome: Outcome, watched: bool) -> &'static str {
    match (outcome, watched) {
        (Outcome::Stored, true) => r#"{"result":"stored","watched":true}"#,
        (Outcome::Duplicate, true) => r#"{"result":"duplicate","watched":true}"#,
        (Outcome::Stored, false) => r#"{"result":"stored"}"#,
        (Outcome::Duplicate, false) => r#"{"result":"duplicate"}"#,
        (Outcome::Dropped, _) => r#"{"result":"dropped"}"#,
        // Answered as an error (see `ingest`).
        (Outcome::SessionFull, _) => r#"{"result":"session_full"}"#,
        (Outcome::Conflict, _) => r#"{"result":"conflict"}"#,
        (Outcome::NotWriter, _) => r#"{"result":"not_session_writer"}"#,
        (Outcome::OverQuota, _) => r#"{"result":"quota_exceeded"}"#,
        (Outcome::Closed, _) => r#"{"result":"session_closed"}"#,
    }
}

/// The batch's outcome, whether its session is followed live, and what the answer says of a
/// capture grant (see [`grant_answer`]).
async fn ingest(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(Outcome, bool, Option<String>), ApiError> {
    let project = project_of_key(req, state)?;

    if let Some(origin) = origin(req).filter(|o| !project.allows_origin(o)) {
        return Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!("origin {origin} may not send batches to this project"),
        });
    }
    let (content_type, media_type) = media_type(req);
    if !media_type.is_empty() && !BATCH_CONTENT_TYPES.contains(&media_type.as_str()) {
        return Err(ApiError::UnsupportedMediaType { got: content_type, expected: "application/vnd.sightline.batch" });
    }
    // The source pays for what it sends, before anything is read; the project only for
    // batches that decode, so a flood of garbage with its public key spends nothing of it.
    let source = state.client_ip(req);
    state
        .sources
        .take(source, std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    state.writable()?;

    let mut bytes = read_body(req, body, state.limits.max_compressed).await?;
    // The writer's seal is kept apart: it is checked against the session, never stored.
    let (secret, framed) = unseal(&bytes)?;
    let writer = secret.map(|secret| writer_hash(&secret));
    let seal_len = bytes.len() - framed.len();
    bytes.drain(..seal_len);

    // A batch as the SDK sends it decodes in well under a millisecond, on the worker. One that
    // declares a large payload can take tens of milliseconds and megabytes: it is decoded on the
    // blocking pool, a few at a time, never on the workers that answer everyone else. (Sending
    // every batch there costs 40% of ingest throughput on two cores.)
    let decode = move |bytes: &[u8], limits: &Limits| {
        decode_batch(bytes, limits).map(|batch| {
            let mut tally = BatchTally::of(&batch);
            tally.decoded = decoded_len(bytes);
            Decoded { project: batch.project, session: batch.session, page: batch.page, seq: batch.seq, tally }
        })
    };
    let (bytes, decoded) = if decoded_len(&bytes) <= INLINE_DECODE_BYTES {
        let decoded = decode(&bytes, &state.limits);
        (bytes, decoded)
    } else {
        let decoding = DECODING.acquire().await.map_err(|_| ApiError::ShuttingDown)?;
        let limits = state.limits;
        let done = web::block(move || {
            let decoded = decode(&bytes, &limits);
            (bytes, decoded)
        })
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
        drop(decoding);
        done
    };
    let batch = decoded?;
    if batch.project != project.config.ingest_key {
        return Err(ApiError::Forbidden {
            code: "project_mismatch",
            message: "the batch names a different project than its ingest key".into(),
        });
    }
    if batch.session.is_zero() {
        return Err(ApiError::bad_request("schema", "the session id must not be all zeros"));
    }
    match secret {
        // A sealed session's id is derived from its writer's secret: a batch sealed with
        // another is not its writer's, the first batch included.
        Some(secret) if secret.session_id() != batch.session => {
            return Err(ApiError::NotSessionWriter { session: batch.session.to_string() })
        }
        Some(_) => {}
        // A sealed session's id, unsealed: never its writer's, who seals every batch.
        None if is_sealed_id(&batch.session) => {
            return Err(ApiError::NotSessionWriter { session: batch.session.to_string() })
        }
        None if project.config.accept_unsealed => {}
        None => {
            return Err(ApiError::Forbidden {
                code: "seal_required",
                message: "this project takes only batches sealed by their session's writer (SDK protocol 5 or later)"
                    .into(),
            })
        }
    }
    project.take_rate_token().map_err(|retry_after| ApiError::RateLimited { retry_after })?;

    let geo = match (&state.geo, state.client_ip(req)) {
        (Some(geo), Some(ip)) => geo.locate(ip),
        _ => Default::default(),
    };
    let key = BatchKey { project: project.id, session: batch.session, page: batch.page, seq: batch.seq };
    let identity = batch.tally.identity.as_ref().map(|(user_id, email, _)| (user_id.clone(), email.clone()));
    let quota = project.config.max_stored_bytes;
    let job = IngestJob { key, tally: batch.tally, bytes, writer, geo, received_at: now_ms(), quota };
    let durable = state.writer.ingest(job)?;
    match durable.await.map_err(|_| ApiError::ShuttingDown)?? {
        Outcome::SessionFull => Err(ApiError::SessionFull {
            session: key.session.to_string(),
            max_batches: MAX_SESSION_BATCHES,
            max_decoded: MAX_SESSION_DECODED,
        }),
        Outcome::NotWriter => Err(ApiError::NotSessionWriter { session: key.session.to_string() }),
        Outcome::OverQuota => Err(ApiError::QuotaExceeded { quota: quota.unwrap_or_default() }),
        Outcome::Closed => Err(ApiError::SessionClosed { session: key.session.to_string() }),
        Outcome::Conflict => Err(ApiError::Conflict {
            code: "batch_conflict",
            message: format!(
                "another batch is stored as page {} seq {} of session {}; a retry must be the same bytes",
                key.page, key.seq, key.session
            ),
        }),
        outcome => Ok((outcome, state.watchers.watched(project.id, key.session), {
            let stored = identity.filter(|_| outcome == Outcome::Stored);
            grant_answer(req, state, key, stored)
        })),
    }
}

/// The SHA-256 of a writer secret, as hex: what a session keeps of its writer.
fn writer_hash(secret: &WriterSecret) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.0).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the answer to a stored batch says of a capture grant: the token of the grant of the
/// session's user (named in this batch, or earlier in the session) unless the page shows it
/// already, or `revoked` when the page shows a grant that no longer stands for it (revoked,
/// replaced, ended, another user's, or not this collector's). Without a grant in the project or
/// one shown, nothing is looked up; a beacon's answer, which nobody reads, says nothing.
fn grant_answer(
    req: &HttpRequest,
    state: &AppState,
    key: BatchKey,
    identity: Option<(String, Option<String>)>,
) -> Option<String> {
    // What this collector remembers of the session's user follows every stored batch naming
    // them (a retry or a resend of an older one is not news), answered or not.
    if let Some((user_id, email)) = identity {
        state.grants.observe(key.project, key.session, &(Some(user_id), email));
    }
    if media_type(req).1 == "text/plain" {
        return None;
    }
    let now = now_ms();
    let shown = req.headers().get(GRANT_HEADER).and_then(|v| v.to_str().ok());
    if shown.is_none() && !state.grants.any(key.project, now) {
        return None;
    }
    let user =
        state.grants.session_user(key.project, key.session, || match state.store.summary(key.project, key.session) {
            Ok(Some(summary)) => (summary.user_id, summary.email),
            _ => (None, None),
        });
    if let Some(grant) = state.grants.for_user(key.project, &user, now) {
        let (token, held) = state.grants.issued(&grant);
        return (Some(held.as_str()) != shown).then_some(token);
    }
    (state.grants.held(key.project, shown?, &user, now) == Held::Gone).then(|| "revoked".to_owned())
}

/// `OPTIONS /v1/batches`: the CORS preflight. The key usually isn't there (it travels in a
/// header the preflight only names), so an origin passes if the project of a `key` query
/// parameter allows it, or, without one, if any project does; the real request is checked
/// against its own project.
pub async fn preflight(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = |origin: &str| match query_key(&req) {
        Some(key) => state.projects.by_ingest_key(&key).is_some_and(|p| p.allows_origin(origin)),
        None => state.projects.iter().any(|p| p.allows_origin(origin)),
    };
    let allow_headers = HeaderValue::from_static("content-type, x-sightline-key, x-sightline-grant");
    preflight_answer(&req, allowed, "send batches", "POST, OPTIONS", Some(allow_headers))
}
