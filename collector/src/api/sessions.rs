//! The read API over a project's sessions.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use serde::Deserialize;
use sightline_protocol::SessionId;

use super::auth::ReadAccess;
use super::{now_ms, AppState};
use crate::digest::{to_markdown, Recording};
use crate::error::ApiError;
use crate::query::{find_sessions, SessionFilter};
use crate::recording::read_session;
use crate::store::{BatchKey, Cursor};
use crate::writer::DeleteTarget;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    user: Option<String>,
    from: Option<u64>,
    to: Option<u64>,
    url: Option<String>,
    #[serde(default)]
    has_errors: bool,
    #[serde(default)]
    has_failed_requests: bool,
    #[serde(default)]
    has_rage_clicks: bool,
    #[serde(default)]
    has_dead_clicks: bool,
    #[serde(default)]
    has_error_clicks: bool,
    #[serde(default)]
    has_problems: bool,
    #[serde(default)]
    has_feedback: bool,
    trace: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub async fn list(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let params = web::Query::<ListParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner();
    let trace = match non_empty(params.trace) {
        Some(t) => Some(
            t.to_ascii_lowercase()
                .parse()
                .map_err(|_| ApiError::bad_request("bad_query", "trace must be 32 hex digits"))?,
        ),
        None => None,
    };
    let cursor = match params.cursor.as_deref() {
        Some(c) => Some(c.parse::<Cursor>().map_err(|_| ApiError::bad_request("bad_query", "malformed cursor"))?),
        None => None,
    };
    let limit = params.limit.unwrap_or(50).clamp(1, state.max_page_size);
    let filter = SessionFilter {
        user: non_empty(params.user),
        from: params.from,
        to: params.to,
        url: non_empty(params.url),
        has_errors: params.has_errors,
        has_failed_requests: params.has_failed_requests,
        has_rage_clicks: params.has_rage_clicks,
        has_dead_clicks: params.has_dead_clicks,
        has_error_clicks: params.has_error_clicks,
        has_problems: params.has_problems,
        has_feedback: params.has_feedback,
        trace,
        text: non_empty(params.q),
    };
    let store = state.store.clone();
    let project = access.whole_project()?;
    let page = web::block(move || find_sessions(store.as_ref(), project, &filter, cursor, limit))
        .await
        .map_err(|_| ApiError::ShuttingDown)??;
    Ok(HttpResponse::Ok().json(page))
}

/// The session `{id}` names, if the credential reads it and it is stored: its project and id.
pub(super) fn stored_session(
    req: &HttpRequest,
    access: &ReadAccess,
    state: &AppState,
) -> Result<(u32, SessionId), ApiError> {
    let session = session_id(req)?;
    let project = access.session(session)?;
    if state.store.summary(project, session)?.is_none() {
        return Err(ApiError::NotFound("no such session"));
    }
    Ok((project, session))
}

pub(super) fn session_id(req: &HttpRequest) -> Result<SessionId, ApiError> {
    req.match_info()
        .get("id")
        .and_then(|id| id.to_ascii_lowercase().parse().ok())
        .ok_or_else(|| ApiError::bad_request("bad_session_id", "a session id is 32 hex digits"))
}

pub async fn get(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let summary =
        state.store.summary(access.session(session)?, session)?.ok_or(ApiError::NotFound("no such session"))?;
    Ok(HttpResponse::Ok().json(summary))
}

pub async fn events(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, session) = stored_session(&req, &access, &state)?;
    // Batches are read from the store one at a time as the client consumes them; a live view
    // asks only for those after the last it read.
    let after = web::Query::<EventsParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner()
        .after
        .map(|after| parse_after(&after, project, session))
        .transpose()?;
    let batches = match after {
        Some(after) => state.store.batches_after(&after),
        None => {
            // A replay opened (a live view's later reads are the same look).
            super::audit::audited(&state, &access, "view", Some(session.to_string()), None);
            state.store.batches(project, session)
        }
    };
    let frames =
        batches.map(|entry| entry.map(|(_, bytes)| web::Bytes::from(sightline_protocol::stream::frame(&bytes))));
    Ok(HttpResponse::Ok().content_type(sightline_protocol::stream::MEDIA_TYPE).streaming(stream::iter(frames)))
}

#[derive(Deserialize)]
struct EventsParams {
    /// `page.seq` of the last batch the client has.
    after: Option<String>,
}

/// `page.seq` as the key of that batch of the session.
fn parse_after(after: &str, project: u32, session: SessionId) -> Result<BatchKey, ApiError> {
    let bad = || ApiError::bad_request("bad_after", "`after` is the page and seq of a batch: `0.12`");
    let (page, seq) = after.split_once('.').ok_or_else(bad)?;
    Ok(BatchKey { project, session, page: page.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
}

#[derive(Deserialize)]
struct DigestParams {
    format: Option<String>,
}

/// `GET /api/sessions/{id}/digest`: JSON, or Markdown with `?format=md` or an `Accept` that
/// prefers `text/markdown`.
pub async fn digest(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let params = web::Query::<DigestParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?;
    let markdown = match params.format.as_deref() {
        Some("md" | "markdown") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::bad_request("bad_query", format!("format {other:?} is not md or json")));
        }
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/markdown")),
    };
    let viewer = state.viewer_base(&req);
    let project = access.session(session)?;
    let notes = if access.only.is_none() { crate::digest::Notes::Included } else { crate::digest::Notes::LeftOut };
    let store = state.store.clone();
    let digest = web::block(move || {
        let summary = store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let mut recording = Recording::default();
        read_session(store.as_ref(), project, session, |time, page, data| recording.push(time, page, data))?;
        Ok::<_, ApiError>(crate::digest::build(store.as_ref(), project, &summary, recording, &viewer, notes)?)
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    super::audit::audited(&state, &access, "digest", Some(session.to_string()), None);
    Ok(if markdown {
        HttpResponse::Ok().content_type("text/markdown; charset=utf-8").body(to_markdown(&digest))
    } else {
        HttpResponse::Ok().json(digest)
    })
}

/// Deletes what `target` names, once the deletion is durable; answers how many sessions went.
pub(super) async fn delete_sessions(state: &AppState, project: u32, target: DeleteTarget) -> Result<usize, ApiError> {
    let done = state.writer.delete(project, target, now_ms())?;
    Ok(done.await.map_err(|_| ApiError::ShuttingDown)??)
}

pub async fn delete(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    if delete_sessions(&state, access.whole_project()?, DeleteTarget::Sessions(vec![session])).await? == 0 {
        return Err(ApiError::NotFound("no such session"));
    }
    super::audit::audited(&state, &access, "delete_session", Some(session.to_string()), None);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": 1 })))
}
