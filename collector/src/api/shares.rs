//! Share links (see `crate::share`): `POST /api/sessions/{id}/share` makes one for a session,
//! `DELETE /api/shares/{id}` revokes one. Both need the project's read token: a share link
//! can't make or revoke links.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::ReadAccess;
use super::body::read_body;
use super::sessions::session_id;
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::share::{new_id, revoke, Share};

/// How long a link works unless asked otherwise.
const DEFAULT_DAYS: f64 = 7.0;
/// How long a link may work at most.
const MAX_SECONDS: u64 = 90 * 24 * 3600;
/// A request to share is a few bytes of JSON.
const MAX_BODY: usize = 1024;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ShareRequest {
    /// How long the link works, in days.
    days: Option<f64>,
    /// Or in seconds.
    seconds: Option<u64>,
}

pub async fn create(
    req: HttpRequest,
    body: web::Payload,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let session = session_id(&req)?;
    let body = read_body(&req, body, MAX_BODY).await?;
    let asked: ShareRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ShareRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("bad_json", e.to_string()))?
    };
    let seconds = match (asked.days, asked.seconds) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("bad_share", "give `days` or `seconds`, not both")),
        (Some(days), None) if days.is_finite() && (days * 86_400.0).round() >= 1.0 => (days * 86_400.0).round() as u64,
        (None, Some(seconds)) if seconds > 0 => seconds,
        (None, None) => (DEFAULT_DAYS * 86_400.0) as u64,
        _ => return Err(ApiError::bad_request("bad_share", "a link works for a positive time")),
    };
    if seconds > MAX_SECONDS {
        return Err(ApiError::bad_request("bad_share", "a link works for 90 days at most"));
    }
    if state.store.summary(project, session)?.is_none() {
        return Err(ApiError::NotFound("no such session"));
    }
    let share = Share { project, session, expires: now_ms() + seconds * 1000, id: new_id() };
    let token = state.share_key.issue(&share);
    super::audit::audited(&state, &access, "share", Some(session.to_string()), Some(format!("{:016x}", share.id)));
    Ok(HttpResponse::Created().json(serde_json::json!({
        "url": format!("{}/share/{token}", state.viewer_base(&req)),
        "token": token,
        "id": format!("{:016x}", share.id),
        "expires": share.expires,
    })))
}

pub async fn delete(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let id = req
        .match_info()
        .get("id")
        .and_then(|id| u64::from_str_radix(id, 16).ok())
        .ok_or_else(|| ApiError::bad_request("bad_share_id", "a share link's id is 16 hex digits"))?;
    revoke(state.store.as_ref(), project, id)?;
    super::audit::audited(&state, &access, "revoke_share", None, Some(format!("{id:016x}")));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": format!("{id:016x}") })))
}
