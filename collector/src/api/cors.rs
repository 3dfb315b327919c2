//! Cross-origin answers for the endpoints pages send to: the headers that let a page read an
//! answer (a refusal's reason and a 429's `Retry-After` among them).

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::HttpRequest;

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
