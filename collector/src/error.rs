//! Every way a request can fail, and the one place that turns a failure into an HTTP status and
//! a JSON body `{ "error": code, "message": … }`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use sightline_protocol::DecodeError;

use crate::store::StoreError;
use crate::writer::SubmitError;

/// The header naming, for the SDK, a refusal it acts on (see [`ApiError::SessionFull`]).
pub const ERROR_HEADER: &str = "x-sightline-error";
/// The header naming the session a refusal is about.
pub const SESSION_HEADER: &str = "x-sightline-session";

/// A request the collector refuses or could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No ingest key or read token was given.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The key or token is not known.
    #[error("{0}")]
    BadCredentials(&'static str),
    /// The credentials are valid but don't allow this (an origin not allowed for the project, a
    /// batch naming another project).
    #[error("{message}")]
    Forbidden {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable detail.
        message: String,
    },
    /// The request body is larger than allowed.
    #[error("request body is over the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body's media type is not one the endpoint reads.
    #[error("content type {got:?} is not accepted; send {expected}")]
    UnsupportedMediaType {
        /// The `Content-Type` sent.
        got: String,
        /// What the endpoint accepts.
        expected: &'static str,
    },
    /// The batch could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A malformed request other than the batch itself: query, path, JSON body.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable detail.
        message: String,
    },
    /// The session holds as much as a session may: no more batches are stored for it.
    #[error("the session holds as much as a session may ({max_batches} batches, {max_decoded} decoded bytes); no more is stored for it")]
    SessionFull {
        /// The session, as hex.
        session: String,
        /// Batches a session may hold.
        max_batches: u64,
        /// Decoded payload bytes a session may hold.
        max_decoded: u64,
    },
    /// The session is bound to another writer: the batch was not sealed with its secret.
    #[error(
        "session {session} was started by another writer: a batch for it must be sealed with that writer's secret"
    )]
    NotSessionWriter {
        /// The session, as hex.
        session: String,
    },
    /// The request conflicts with what is stored (another batch under the same numbers).
    #[error("{message}")]
    Conflict {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable detail.
        message: String,
    },
    /// The request body did not arrive in time (see `api::body`).
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// The project is sending faster than its rate limit.
    #[error("rate limit exceeded; retry after {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The session was first seen longer ago than it takes batches.
    #[error("session {session} takes no more batches: it began more than 4 days ago")]
    SessionClosed {
        /// The session id.
        session: String,
    },
    /// The project stores as many bytes of batches as its quota allows.
    #[error("the project holds its quota of {quota} bytes of recordings; retry later, once retention or deletions have made room")]
    QuotaExceeded {
        /// The quota, bytes.
        quota: u64,
    },
    /// The write queue is full: the client should retry shortly.
    #[error("the collector is busy; retry after {retry_after} s")]
    Overloaded {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// No such resource.
    #[error("{0}")]
    NotFound(&'static str),
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Storage failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// The collector is shutting down.
    #[error("the collector is shutting down")]
    ShuttingDown,
    /// Something the collector itself got wrong.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    /// The machine-readable code put in the JSON body and in the `rejects_total` metric.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::BadCredentials(_) => "bad_credentials",
            ApiError::Forbidden { code, .. } => code,
            ApiError::NotSessionWriter { .. } => "not_session_writer",
            ApiError::PayloadTooLarge { .. } => "too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Decode(e) => e.code(),
            ApiError::BadRequest { code, .. } => code,
            ApiError::SessionFull { .. } => "session_full",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::Conflict { code, .. } => code,
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::QuotaExceeded { .. } => "quota_exceeded",
            ApiError::SessionClosed { .. } => "session_closed",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Store(e) if e.is_refused_for_space() => "storage_full",
            ApiError::Store(e) if e.is_transient() => "storage_unavailable",
            ApiError::Store(_) => "storage",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::Internal(_) => "internal",
        }
    }

    /// A 400 for malformed input other than the batch body.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after } | ApiError::Overloaded { retry_after } => Some(*retry_after),
            ApiError::ShuttingDown => Some(5),
            ApiError::QuotaExceeded { .. } => Some(3600),
            ApiError::Store(e) if e.is_refused_for_space() => Some(60),
            ApiError::Store(e) if e.is_transient() => Some(5),
            _ => None,
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Full => ApiError::Overloaded { retry_after: 1 },
            SubmitError::Closed => ApiError::ShuttingDown,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) | ApiError::BadCredentials(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::NotSessionWriter { .. } => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge { .. } | ApiError::SessionFull { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Decode(e) if e.is_size() => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Decode(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } | ApiError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::SessionClosed { .. } => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Overloaded { .. } | ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(e) if e.is_refused_for_space() => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // A full or failing store is logged once, by the store, not at every refusal.
        if status.is_server_error() && !matches!(self.code(), "storage_full" | "storage_unavailable") {
            tracing::error!(error = %self, code = self.code(), "request failed");
        } else {
            tracing::debug!(error = %self, code = self.code(), "request refused");
        }
        crate::metrics::METRICS.reject(self.code());
        let mut response = HttpResponse::build(status);
        if let Some(seconds) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if matches!(self, ApiError::Unauthenticated(_) | ApiError::BadCredentials(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        // What the SDK acts on, readable without the body: a full session, or one another
        // writer holds, is recorded on in a new one.
        if let ApiError::SessionFull { session, .. } | ApiError::NotSessionWriter { session } = self {
            response.insert_header((ERROR_HEADER, self.code()));
            response.insert_header((SESSION_HEADER, session.as_str()));
        }
        response.json(ErrorBody { error: self.code(), message: self.to_string() })
    }
}
