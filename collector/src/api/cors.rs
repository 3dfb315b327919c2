//! Cross-origin answers for the endpoints pages send to: the headers that let a page read an
//! answer (a refusal's reason and a 429's `Retry-After` among them).

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;

/// The origin of the page that sent `req`, if it said.
pub(super) fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// Adds the headers that let a page at `origin` read the answer.
pub(super) fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "retry-after, x-sightline-error, x-sightline-grant, x-sightline-session, x-sightline-watched",
            ),
        );
    }
    headers.insert(header::VARY, HeaderValue::from_static("origin"));
}

/// Lets the page that sent `req` read the answer. A success implies an allowed origin. A
/// refusal is readable by any page: it grants nothing, and it lets the SDK tell "refused, stop"
/// (a wrong key, a disallowed origin) from "unreachable, retry".
pub(super) fn allow_request_origin(req: &HttpRequest, headers: &mut HeaderMap) {
    if let Some(origin) = origin(req) {
        allow_origin(headers, origin);
    }
}

/// The answer to a CORS preflight: refused unless `allowed(origin)` (a page at that origin may
/// `what`), else the `methods` and the request headers the real request may carry.
pub(super) fn preflight_answer(
    req: &HttpRequest,
    allowed: impl FnOnce(&str) -> bool,
    what: &str,
    methods: &'static str,
    allow_headers: Option<HeaderValue>,
) -> HttpResponse {
    let Some(origin) = origin(req) else {
        return ApiError::bad_request("not_preflight", "a preflight needs an Origin header").error_response();
    };
    if !allowed(origin) {
        return ApiError::Forbidden { code: "origin_not_allowed", message: format!("origin {origin} may not {what}") }
            .error_response();
    }
    let mut response = HttpResponse::NoContent().finish();
    let headers = response.headers_mut();
    allow_origin(headers, origin);
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
    if let Some(allow_headers) = allow_headers {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    }
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}
