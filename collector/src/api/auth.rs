//! Who may do what: a page sends with its project's ingest key; a read token names exactly one
//! project, and every read is confined to it.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use serde::Deserialize;

use super::AppState;
use crate::error::ApiError;
use crate::projects::Project;

/// The project a valid read token grants access to.
pub struct ReadAccess(pub Arc<Project>);

impl FromRequest for ReadAccess {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req))
    }
}

fn authorize(req: &HttpRequest) -> Result<ReadAccess, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered");
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthenticated("send the read token as `Authorization: Bearer <token>`"))?;
    state.projects.by_read_token(token).cloned().map(ReadAccess).ok_or(ApiError::BadCredentials("unknown read token"))
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
