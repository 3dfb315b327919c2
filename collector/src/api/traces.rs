//! `GET /api/traces/{trace}`: what the backend recorded under a trace id, and where sessions
//! made requests with it.

use actix_web::{web, HttpRequest, HttpResponse};
use sightline_protocol::TraceId;

use super::auth::ReadAccess;
use super::AppState;
use crate::error::ApiError;
use crate::store::{StoreError, TraceHit};
use crate::telemetry::{BackendRecord, TraceTelemetry};

/// `GET /api/traces/{trace}`: a trace's backend spans and log lines, and where sessions made
/// requests with it.
pub async fn trace(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let trace: TraceId = req
        .match_info()
        .get("trace")
        .and_then(|t| t.to_ascii_lowercase().parse().ok())
        .ok_or_else(|| ApiError::bad_request("bad_trace_id", "a trace id is 32 hex digits"))?;
    let project = access.project.id;
    let store = state.store.clone();
    let (records, hits) =
        web::block(move || Ok::<_, StoreError>((store.telemetry(project, trace)?, store.trace_hits(project, trace)?)))
            .await
            .map_err(|_| ApiError::ShuttingDown)??;
    // A share link reads the traces of its own session's requests only, and learns of no other
    // session that made them.
    let mut hits = hits;
    if let Some(only) = access.only {
        if !hits.iter().any(|hit| hit.session == only) {
            return Err(ApiError::NotFound("no such trace in the shared session"));
        }
        hits.retain(|hit| hit.session == only);
    }
    Ok(HttpResponse::Ok().json(trace_json(trace, records, &hits)))
}

/// A trace as the API answers it: its spans and log lines, and where sessions made it.
pub(super) fn trace_json(trace: TraceId, records: Vec<BackendRecord>, hits: &[TraceHit]) -> serde_json::Value {
    let telemetry = TraceTelemetry::new(trace, records);
    let sessions: Vec<_> = hits
        .iter()
        .map(|h| serde_json::json!({ "session": h.session.to_string(), "page": h.page, "time": h.time }))
        .collect();
    serde_json::json!({
        "trace": telemetry.trace,
        "spans": telemetry.spans,
        "logs": telemetry.logs,
        "sessions": sessions,
    })
}
