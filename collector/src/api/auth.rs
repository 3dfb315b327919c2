//! Read access: a bearer token names exactly one project, and every read is confined to it.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

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
