//! Who may do what: a page sends with its project's ingest key; a read token names exactly one
//! project, and every read is confined to it.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use serde::Deserialize;

use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::projects::Project;
use crate::share::{self, ShareError};
use sightline_protocol::SessionId;

/// What a valid read credential grants: every session of a project (a read token), or one
/// session of it (a share link, see `crate::share`).
pub struct ReadAccess {
    /// The project.
    pub project: Arc<Project>,
    /// The one session a share link opens.
    pub only: Option<SessionId>,
    /// Who holds the credential: the read token's name, for the notes they write.
    pub holder: String,
}

impl ReadAccess {
    /// The project, if the credential reads all of it: a share link doesn't.
    pub fn whole_project(&self) -> Result<u32, ApiError> {
        match self.only {
            None => Ok(self.project.id),
            Some(_) => Err(ApiError::Forbidden {
                code: "share_link_scope",
                message: "a share link opens one session, not the project's".into(),
            }),
        }
    }

    /// The project, if the credential reads `session`.
    pub fn session(&self, session: SessionId) -> Result<u32, ApiError> {
        match self.only {
            Some(only) if only != session => Err(ApiError::Forbidden {
                code: "share_link_scope",
                message: "a share link opens its own session only".into(),
            }),
            _ => Ok(self.project.id),
        }
    }
}

impl FromRequest for ReadAccess {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req))
    }
}

/// What a request without a read token is told.
pub(super) const NO_TOKEN: &str = "send the read token as `Authorization: Bearer <token>`";

/// The bearer token the request carries, if any.
pub(super) fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn authorize(req: &HttpRequest) -> Result<ReadAccess, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered");
    let token = bearer_token(req).ok_or(ApiError::Unauthenticated(NO_TOKEN))?;
    if token.starts_with(share::PREFIX) {
        let share = state.share_key.check(state.store.as_ref(), token, now_ms()).map_err(|e| match e {
            ShareError::Invalid => ApiError::BadCredentials("not a valid share link"),
            ShareError::Expired => ApiError::BadCredentials("this share link has expired"),
            ShareError::Revoked => ApiError::BadCredentials("this share link was revoked"),
        })?;
        let project =
            state.projects.by_id(share.project).cloned().ok_or(ApiError::BadCredentials("not a valid share link"))?;
        return Ok(ReadAccess { project, only: Some(share.session), holder: "a share link".into() });
    }
    let (project, holder) =
        state.projects.by_read_token(token).ok_or(ApiError::BadCredentials("unknown read token"))?;
    Ok(ReadAccess { project: project.clone(), only: None, holder: holder.to_owned() })
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

/// The ingest key in the `key` query parameter, where `sendBeacon` and preflights carry it.
pub(super) fn query_key(req: &HttpRequest) -> Option<String> {
    web::Query::<KeyQuery>::from_query(req.query_string()).ok().and_then(|q| q.into_inner().key)
}

/// The project whose ingest key the request carries (in `x-sightline-key` or `?key=`).
pub(super) fn project_of_key(req: &HttpRequest, state: &AppState) -> Result<Arc<Project>, ApiError> {
    let key = req
        .headers()
        .get("x-sightline-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query_key(req))
        .ok_or(ApiError::Unauthenticated("send the ingest key in `x-sightline-key` or the `key` query parameter"))?;
    state.projects.by_ingest_key(&key).cloned().ok_or(ApiError::BadCredentials("unknown ingest key"))
}
