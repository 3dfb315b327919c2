//! A user's sessions: `GET /api/users/{id}/problems`, what went wrong for them lately, in one
//! call a helpdesk's sidebar or a ticket automation can show; `DELETE /api/users/{id}`, every
//! session of theirs deleted. `{id}` is a user id or an email.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sightline_protocol::SessionId;

use super::auth::ReadAccess;
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::query::sessions_of_user;
use crate::share::Share;
use crate::summary::{SessionSummary, SignalCounts};
use crate::writer::{DeleteTarget, SubmitError};

/// How far back a lookup goes unless asked otherwise, and at most.
const DEFAULT_DAYS: u64 = 14;
const MAX_DAYS: u64 = 90;
/// Sessions a lookup answers unless asked otherwise, and at most.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;
/// A user's sessions read at most, so that a lookup costs a bounded time (a user with more is
/// looked up among that many of them).
const MAX_READ: usize = 5_000;
/// Sessions one writer command deletes at most, when a user's are erased.
const DELETE_SLICE: usize = 64;
/// How often, and how far apart, a slice is offered to a full writer queue.
const QUEUE_TRIES: usize = 200;
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_millis(25);
/// How long the share links in an answer work at least: to the end of the day they were first
/// handed out, and this many days more.
const SHARE_DAYS: u64 = 7;
const DAY_MS: u64 = 86_400_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemsParams {
    days: Option<u64>,
    limit: Option<usize>,
}

/// One session of the user's with a problem.
#[derive(Serialize)]
struct SessionProblems {
    session: String,
    start: u64,
    duration_ms: u64,
    /// The first page's URL.
    url: Option<String>,
    /// The digest's headline once the session is analysed, else its first problem.
    headline: Option<String>,
    errors: u64,
    failed_requests: u64,
    signals: SignalCounts,
    /// The session in the viewer (needs a read token).
    link: String,
    /// The digest as Markdown (needs a read token).
    digest: String,
    /// A link that opens this session alone, without signing in, for [`SHARE_DAYS`] and the
    /// rest of today; the same link all day.
    share: String,
    /// Its id, to revoke it (`DELETE /api/shares/{id}`), and when it expires (ms).
    share_id: String,
    share_expires: u64,
}

/// The `{id}` of the path, not blank, percent-decoded whole (the router leaves `%2B`, `%2F` and `%25`
/// encoded, and helpdesks encode `jane+vip@acme.com` so).
fn user_of(req: &HttpRequest) -> Result<String, ApiError> {
    let raw = req.match_info().get("id").unwrap_or_default().as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        let hex = |i: usize| raw.get(i).and_then(|c| (*c as char).to_digit(16));
        match (raw[at], hex(at + 1), hex(at + 2)) {
            (b'%', Some(high), Some(low)) => {
                bytes.push((high * 16 + low) as u8);
                at += 3;
            }
            (byte, _, _) => {
                bytes.push(byte);
                at += 1;
            }
        }
    }
    let user = String::from_utf8(bytes).map_err(|_| ApiError::bad_request("bad_user", "a user id is UTF-8"))?;
    let user = user.trim();
    if user.is_empty() {
        return Err(ApiError::bad_request("bad_user", "give a user id or an email"));
    }
    Ok(user.to_owned())
}

/// The user's sessions with problems in the last `days` (14 by default, 90 at most), newest
/// first, at most `limit` (10, 50).
pub async fn problems(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let user = user_of(&req)?;
    let params = web::Query::<ProblemsParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner();
    let days = params.days.unwrap_or(DEFAULT_DAYS);
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_DAYS).contains(&days) || !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("bad_query", "days is 1 to 90, limit 1 to 50"));
    }
    let now = now_ms();
    // Times are the collector's own (when batches arrived), not the client's clock.
    let since = now.saturating_sub(days * DAY_MS);
    let store = state.store.clone();
    let lookup = user.clone();
    let (mut found, truncated): (Vec<(SessionId, SessionSummary)>, bool) = web::block(move || {
        let sessions = sessions_of_user(store.as_ref(), project, &lookup)?;
        let truncated = sessions.len() > MAX_READ;
        let mut found = Vec::new();
        for session in sessions.into_iter().take(MAX_READ) {
            if let Some(summary) = store.summary(project, session)? {
                if summary.last_seen >= since && summary.had_problem() {
                    found.push((session, summary));
                }
            }
        }
        Ok::<_, ApiError>((found, truncated))
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    found.sort_by_key(|(_, s)| std::cmp::Reverse(s.last_seen));
    found.truncate(limit);

    let base = state.viewer_base(&req);
    let day = now / DAY_MS;
    let expires = (day + 1 + SHARE_DAYS) * DAY_MS;
    let sessions: Vec<SessionProblems> = found
        .into_iter()
        .map(|(session, s)| {
            let id = state.share_key.daily_id(project, session, day);
            let token = state.share_key.issue(&Share { project, session, expires, id });
            SessionProblems {
                session: s.id.clone(),
                start: s.start,
                duration_ms: s.duration_ms,
                url: s.pages.first().map(|p| p.url.clone()),
                headline: s.headline.clone().or_else(|| s.first_problem.as_ref().map(|p| p.text.clone())),
                errors: s.error_count,
                failed_requests: s.failed_request_count,
                signals: s.signals,
                link: format!("{base}/sessions/{}", s.id),
                digest: format!("{base}/api/sessions/{}/digest?format=md", s.id),
                share: format!("{base}/share/{token}"),
                share_id: format!("{id:016x}"),
                share_expires: expires,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "user": user,
        "days": days,
        "sessions": sessions,
        "truncated": truncated,
    })))
}

/// Deletes the sessions of the user `{id}`, including any whose batches are still queued: found
/// outside the writer, deleted by it [`DELETE_SLICE`] at a time so that other tenants' batches
/// are written in between, and last the user's sessions the writer itself finds (those of
/// batches identifying them that were queued meanwhile).
pub async fn delete_user(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let user = user_of(&req)?;
    // An erased user is recorded in full no more, from before their sessions go.
    let grants = state.clone();
    let revoking = user.clone();
    let revoked = web::block(move || grants.grants.revoke_user(project, &revoking))
        .await
        .map_err(|_| ApiError::ShuttingDown)??;
    if let Some(grant) = revoked {
        super::audit::audited(&state, &access, "revoke_grant", None, Some(super::grants::subject(&grant)));
    }
    let store = state.store.clone();
    let lookup = user.clone();
    let sessions = web::block(move || sessions_of_user(store.as_ref(), project, &lookup))
        .await
        .map_err(|_| ApiError::ShuttingDown)??;
    let mut deleted = 0;
    for slice in sessions.chunks(DELETE_SLICE) {
        deleted += delete_when_queued(&state, project, DeleteTarget::Sessions(slice.to_vec())).await?;
    }
    super::audit::audited(&state, &access, "delete_user", None, Some(user.clone()));
    deleted += delete_when_queued(&state, project, DeleteTarget::User(user)).await?;
    state.grants.forget(project, &sessions);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": deleted })))
}

/// A deletion queued as soon as the writer's queue has room (it is full only for a moment
/// under ingest load), so that an erasure under way is not cut off half done.
async fn delete_when_queued(state: &AppState, project: u32, target: DeleteTarget) -> Result<usize, ApiError> {
    for _ in 0..QUEUE_TRIES {
        match state.writer.delete(project, target.clone(), now_ms()) {
            Ok(done) => return done.await.map_err(|_| ApiError::ShuttingDown)?.map_err(ApiError::from),
            Err(SubmitError::Full) => tokio::time::sleep(QUEUE_WAIT).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SubmitError::Full.into())
}
