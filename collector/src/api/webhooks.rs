//! A project's webhooks (see `crate::webhooks`): `GET /api/webhooks` lists them, `POST
//! /api/webhooks` makes one and answers its secret once, `DELETE /api/webhooks/{id}` removes
//! one made that way, `POST /api/webhooks/{id}/ping` sends a test delivery, and `GET
//! /api/webhooks/{id}/deliveries` is its delivery log. All need the project's read token.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::ReadAccess;
use super::body::read_json;
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::webhooks::{HookError, Webhooks, LOG_KEPT};

/// A new hook is a URL and a few words of JSON.
const MAX_BODY: usize = 4 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewHook {
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogParams {
    limit: Option<usize>,
}

impl From<HookError> for ApiError {
    fn from(e: HookError) -> Self {
        match e {
            HookError::Store(e) => ApiError::Store(e),
            HookError::NotFound => ApiError::NotFound("no such webhook"),
            HookError::Configured => ApiError::Conflict { code: "configured_webhook", message: e.to_string() },
            HookError::TooMany => ApiError::Conflict { code: "too_many_webhooks", message: e.to_string() },
            HookError::Destination(_) | HookError::UnknownEvent(_) | HookError::WeakSecret => {
                ApiError::bad_request("bad_webhook", e.to_string())
            }
        }
    }
}

fn hook_id(req: &HttpRequest) -> &str {
    req.match_info().get("id").unwrap_or_default()
}

/// Runs store work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HookError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(work).await.map_err(|_| ApiError::ShuttingDown)??)
}

pub async fn list(access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let webhooks = state.webhooks.clone();
    let hooks = blocking(move || Ok(webhooks.hooks(project)?)).await?;
    let hooks: Vec<_> = hooks
        .iter()
        .map(|h| {
            let mut shown = h.public();
            shown.held_back = state.webhooks.held_back(project, &h.id);
            shown
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "webhooks": hooks })))
}

pub async fn create(
    req: HttpRequest,
    body: web::Payload,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let asked: NewHook = read_json(&req, body, MAX_BODY).await?;
    let webhooks = state.webhooks.clone();
    // Resolving the host to check it is public may take a moment: off the async workers.
    let hook = blocking(move || webhooks.create(project, asked.url.trim(), asked.events, now_ms())).await?;
    super::audit::audited(&state, &access, "webhook", None, Some(hook.id.clone()));
    let mut answer = serde_json::to_value(hook.public()).expect("a hook serializes");
    answer["secret"] = Webhooks::secret_of(&hook).into();
    Ok(HttpResponse::Created().json(answer))
}

pub async fn delete(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let id = hook_id(&req).to_owned();
    let webhooks = state.webhooks.clone();
    let removed = id.clone();
    blocking(move || webhooks.remove(project, &removed)).await?;
    super::audit::audited(&state, &access, "delete_webhook", None, Some(id));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": 1 })))
}

pub async fn ping(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let id = hook_id(&req).to_owned();
    let webhooks = state.webhooks.clone();
    let delivery = blocking(move || webhooks.ping(project, &id, now_ms())).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "delivery": delivery })))
}

pub async fn deliveries(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = access.whole_project()?;
    let limit = web::Query::<LogParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .limit
        .unwrap_or(LOG_KEPT)
        .clamp(1, LOG_KEPT);
    let id = hook_id(&req).to_owned();
    let webhooks = state.webhooks.clone();
    let deliveries = blocking(move || webhooks.deliveries(project, &id, limit)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": deliveries })))
}
