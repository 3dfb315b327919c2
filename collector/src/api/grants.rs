//! Capture grants (see `crate::grants`): `GET /api/grants` lists a project's, `POST
//! /api/grants` makes one (`{ "user", "network_urls", "hours" }`), `DELETE /api/grants/{id}`
//! revokes one; all need the project's read token and are written to the audit log. `GET
//! /v1/grant` is the SDK's: with the ingest key and the user's hashed id and email, it answers
//! the user's grant token, or `null`.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

use actix_web::http::header;

use super::auth::{project_of_key, query_key, ReadAccess};
use super::body::read_json;
use super::cors::{allow_request_origin, origin, preflight_answer};
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::grants::{Grant, GrantError};

/// A new grant is a user, a few URL patterns and a number.
const MAX_BODY: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    user: String,
    #[serde(default)]
    network_urls: Vec<String>,
    hours: Option<u64>,
}

/// What the SDK asks with: the SHA-256 (hex) of the ingest key, a NUL and the user id (`u`) or
/// the lowercased email (`e`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    /// The ingest key may come here (see `project_of_key`).
    #[serde(rename = "key")]
    _key: Option<String>,
    u: Option<String>,
    e: Option<String>,
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::Store(e) => ApiError::Store(e),
            GrantError::NotFound => ApiError::NotFound("no such grant"),
            GrantError::TooMany => ApiError::Conflict { code: "too_many_grants", message: e.to_string() },
            GrantError::BadUser | GrantError::BadUrls | GrantError::BadHours => {
                ApiError::bad_request("bad_grant", e.to_string())
            }
        }
    }
}

/// The audit log's subject for a grant: its id and whom it is for.
pub(super) fn subject(grant: &Grant) -> String {
    format!("{} ({})", grant.id, grant.user)
}

pub async fn list(access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "grants": state.grants.list(project, now_ms()) })))
}

pub async fn create(
    req: HttpRequest,
    body: web::Payload,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let asked: NewGrant = read_json(&req, body, MAX_BODY).await?;
    let by = access.holder.clone();
    let grants = state.clone();
    let grant =
        web::block(move || grants.grants.create(project, &asked.user, asked.network_urls, asked.hours, &by, now_ms()))
            .await
            .map_err(|_| ApiError::ShuttingDown)??;
    super::audit::audited(&state, &access, "grant", None, Some(subject(&grant)));
    Ok(HttpResponse::Created().json(grant))
}

pub async fn revoke(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let id = req.match_info().get("id").unwrap_or_default().to_owned();
    let grants = state.clone();
    let grant = web::block(move || grants.grants.revoke(project, &id)).await.map_err(|_| ApiError::ShuttingDown)??;
    super::audit::audited(&state, &access, "revoke_grant", None, Some(subject(&grant)));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": 1 })))
}

pub async fn lookup(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let mut response = match find(&req, &state) {
        Ok(token) => HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "grant": token })),
        Err(error) => error.error_response(),
    };
    allow_request_origin(&req, response.headers_mut());
    response
}

/// `OPTIONS /v1/grant`: a page whose `fetch` is wrapped by another tool (tracing, auth) may add
/// headers to the lookup, which makes the browser ask first. The lookup reads none of them and
/// carries no credentials, so any the page asks for are allowed.
pub async fn lookup_preflight(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = |origin: &str| {
        query_key(&req).is_some_and(|key| state.projects.by_ingest_key(&key).is_some_and(|p| p.allows_origin(origin)))
    };
    let asked = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).filter(|v| v.len() <= 1024).cloned();
    preflight_answer(&req, allowed, "ask for grants", "GET, OPTIONS", asked)
}

fn find(req: &HttpRequest, state: &AppState) -> Result<Option<String>, ApiError> {
    let project = project_of_key(req, state)?;
    if let Some(origin) = origin(req).filter(|o| !project.allows_origin(o)) {
        return Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!("origin {origin} may not ask for this project's grants"),
        });
    }
    state
        .sources
        .take(state.client_ip(req), std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let asked = web::Query::<Lookup>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner();
    let hashes: Vec<&str> = [asked.u.as_deref(), asked.e.as_deref()].into_iter().flatten().collect();
    let is_hash = |h: &&str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hashes.is_empty() || !hashes.iter().all(is_hash) {
        return Err(ApiError::bad_request("bad_query", "send `u` and/or `e`: SHA-256 hashes in lowercase hex"));
    }
    let now = now_ms();
    Ok(state
        .grants
        .for_hashes(project.id, &project.config.ingest_key, &hashes, now)
        .map(|grant| state.grants.token(&grant)))
}
