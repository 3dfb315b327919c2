//! `GET /api/audit`: the project's audit log (see `crate::audit`), newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::ReadAccess;
use super::{now_ms, AppState};
use crate::audit::{entries, record_later, Entry};
use crate::error::ApiError;

/// Entries per answer unless asked otherwise, and at most.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    /// Entries older than this, ms since the epoch: the last answer's oldest `time`.
    before: Option<u64>,
    limit: Option<usize>,
}

pub async fn list(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let params = web::Query::<AuditParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner();
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let store = state.store.clone();
    let found = web::block(move || entries(store.as_ref(), project, params.before, limit))
        .await
        .map_err(|_| ApiError::ShuttingDown)??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": found })))
}

/// Writes what `access` did to the project's audit log, off the request's path.
pub(super) fn audited(
    state: &AppState,
    access: &ReadAccess,
    action: &str,
    session: Option<String>,
    subject: Option<String>,
) {
    let entry = Entry { time: now_ms(), actor: access.holder.clone(), action: action.into(), session, subject };
    record_later(state.store.clone(), access.project.id, entry);
}
