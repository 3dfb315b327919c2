//! Request bodies, read within bounds whoever sends them: the size limit, checked against the
//! declared length before anything is read and against what arrives as it arrives; no memory
//! reserved beyond what has arrived (past a small first buffer); a deadline for the whole body
//! and for each pause in it; and a ceiling on bodies being read at once, so that clients which
//! announce a large body and then trickle or fall silent hold neither memory nor a slot for
//! long.

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

use crate::error::ApiError;

/// What is reserved for a body before it arrives, at most.
const FIRST_BUFFER: usize = 16 * 1024;
/// A whole body arrives within this long: 1 MiB at 20 KB/s, a slow mobile link.
pub const BODY_DEADLINE: Duration = Duration::from_secs(60);
/// A body that stops arriving for this long is given up.
pub const BODY_IDLE: Duration = Duration::from_secs(10);
/// Bodies read at once, at most; past it a request is answered 503 with `Retry-After`.
pub const MAX_BODIES_READ: usize = 1_024;

static READING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(MAX_BODIES_READ));

/// The `Content-Type` as sent, and its media type lowercased without parameters.
pub fn media_type(req: &HttpRequest) -> (String, String) {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    (content_type.to_owned(), media_type)
}

/// The request body, refused with 413 as soon as it is known to exceed `limit` bytes, and with
/// 408 when it does not arrive in time.
pub async fn read_body(req: &HttpRequest, mut body: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let _slot = READING.try_acquire().map_err(|_| ApiError::Overloaded { retry_after: 1 })?;
    let deadline = Instant::now() + BODY_DEADLINE;
    let mut bytes = Vec::with_capacity(declared.map_or(FIRST_BUFFER, |len| (len as usize).min(FIRST_BUFFER)));
    loop {
        let pause = (Instant::now() + BODY_IDLE).min(deadline);
        let chunk = match timeout_at(pause, body.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(bytes),
            Err(_) => return Err(ApiError::BodyTimeout),
        };
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", format!("reading the body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
}

/// A JSON body of at most `limit` bytes, read into `T`; `400 bad_json` when it isn't one.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = read_body(req, body, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request("bad_json", e.to_string()))
}
