//! `POST /v1/sdk-reports`: what a page tells the collector about the SDK itself, apart from
//! any session: that it switched itself off (and why), or that it dropped a malformed walk of
//! the page and walked it again. Nothing is stored; each report is counted in
//! `sightline_sdk_reports_total{kind, reason}`, so an operator sees how many pages run without
//! recording and how often the recorder recovers.
//!
//! A report is a `sendBeacon` (`text/plain`, no preflight) with the ingest key in `?key=` and a
//! body such as `{"kind":"disabled","reason":"wasm"}`. Kinds and reasons are closed lists (an
//! unknown one is refused), so whatever a page sends, the metric keeps a bounded set of labels.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

use super::auth::project_of_key;
use super::body::read_body;
use super::cors::{allow_request_origin, origin};
use super::AppState;
use crate::error::ApiError;
use crate::metrics::METRICS;

/// A report is a few dozen bytes; anything much larger is not one.
const MAX_REPORT_BYTES: usize = 256;

/// Why the SDK switched itself off.
pub const DISABLED_REASONS: [&str; 7] = ["sampled_out", "options", "wasm", "storage", "version", "start", "runtime"];
/// What the recorder dropped and recovered from by walking the page again.
pub const RECOVERED_REASONS: [&str; 2] = ["snapshot_tape", "mutation_tape"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    kind: String,
    reason: String,
}

/// The metric labels of a report, when both are known.
fn labels(report: &Report) -> Option<(&'static str, &'static str)> {
    let (kind, reasons): (&'static str, &[&'static str]) = match report.kind.as_str() {
        "disabled" => ("disabled", &DISABLED_REASONS),
        "recovered" => ("recovered", &RECOVERED_REASONS),
        _ => return None,
    };
    let reason = reasons.iter().find(|r| **r == report.reason)?;
    Some((kind, reason))
}

pub async fn post_report(req: HttpRequest, body: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut response = match count(&req, body, &state).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => error.error_response(),
    };
    allow_request_origin(&req, response.headers_mut());
    response
}

async fn count(req: &HttpRequest, body: web::Payload, state: &AppState) -> Result<(), ApiError> {
    let project = project_of_key(req, state)?;
    if let Some(origin) = origin(req).filter(|o| !project.allows_origin(o)) {
        return Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!("origin {origin} may not send reports to this project"),
        });
    }
    state
        .sources
        .take(state.client_ip(req), std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let bytes = read_body(req, body, MAX_REPORT_BYTES).await?;
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("bad_report", format!("a report is {{\"kind\", \"reason\"}}: {e}")))?;
    let (kind, reason) =
        labels(&report).ok_or_else(|| ApiError::bad_request("unknown_report", "unknown report kind or reason"))?;
    METRICS.sdk_report(kind, reason);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_kinds_and_reasons_become_labels() {
        let report = |kind: &str, reason: &str| Report { kind: kind.into(), reason: reason.into() };
        assert_eq!(labels(&report("disabled", "wasm")), Some(("disabled", "wasm")));
        assert_eq!(labels(&report("recovered", "snapshot_tape")), Some(("recovered", "snapshot_tape")));
        assert_eq!(labels(&report("disabled", "snapshot_tape")), None);
        assert_eq!(labels(&report("recovered", "wasm")), None);
        assert_eq!(labels(&report("exploded", "wasm")), None);
        assert_eq!(labels(&report("disabled", "wasm\"} 1\nfake_metric{")), None);
    }
}
