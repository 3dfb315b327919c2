//! `POST /mcp`: the agent tools (`crate::mcp`) over streamable HTTP, behind a read token.
//!
//! Served stateless: each request is answered on its own, as JSON, and no MCP session lives in
//! the collector, so any collector behind a balancer answers any request. The tools read
//! through the query API on this same collector with the caller's own token, so an agent
//! reads exactly what its token reads.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use http_body_util::{BodyExt, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::auth::{bearer_token, ReadAccess, NO_TOKEN};
use super::body::read_body;
use super::AppState;
use crate::error::ApiError;
use crate::mcp::SightlineTools;

/// Bytes of one MCP request at most: a tool call is a few hundred.
const MAX_MCP_REQUEST: usize = 64 << 10;
/// MCP requests answered at once, at most; past it, `503` with `Retry-After`. Each may hold a
/// blocking thread for a call to the API.
const MAX_AT_ONCE: usize = 16;

static ANSWERING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(MAX_AT_ONCE));
/// Bytes of one answer at most (a digest or a page is tens of KB).
const MAX_MCP_ANSWER: usize = 8 << 20;

pub async fn post(
    req: HttpRequest,
    body: web::Payload,
    _access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let _answering = ANSWERING.try_acquire().map_err(|_| ApiError::Overloaded { retry_after: 1 })?;
    let body = read_body(&req, body, MAX_MCP_REQUEST).await?;
    let token = bearer_token(&req).ok_or(ApiError::Unauthenticated(NO_TOKEN))?;
    let api = state.loopback_api.get().ok_or(ApiError::Internal("the collector is not listening yet".into()))?;
    // Links in answers (a digest's) name the collector as the agent reached it: by the `Host`
    // header, or the request's own authority (HTTP/2 has no `Host`).
    let host = req.connection_info().host().to_owned();
    let proto = req.headers().get("x-forwarded-proto").and_then(|h| h.to_str().ok());
    let client = api.clone().with_token(token).on_behalf_of(&host, proto);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_MCP_REQUEST)
        // The read token is what guards this endpoint, wherever the collector is reached.
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(
        move || Ok(SightlineTools::new(client.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );

    let mut request = http::Request::builder().method(http::Method::POST).uri(req.uri().to_string());
    for (name, value) in req.headers() {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let request = request
        .body(Full::new(bytes::Bytes::from(body)))
        .map_err(|e| ApiError::bad_request("bad_request", e.to_string()))?;
    let response = service.handle(request).await;
    let (parts, body) = response.into_parts();
    // Stateless JSON answers end with the tool's result, so the body is read whole.
    let body = http_body_util::Limited::new(body, MAX_MCP_ANSWER)
        .collect()
        .await
        .map_err(|_| ApiError::Internal("an MCP answer passed its size limit".into()))?
        .to_bytes();
    let status = actix_web::http::StatusCode::from_u16(parts.status.as_u16())
        .map_err(|_| ApiError::Internal("an MCP answer had no valid status".into()))?;
    let mut answer = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        answer.append_header((name.as_str(), value.as_bytes()));
    }
    Ok(answer.body(body))
}
