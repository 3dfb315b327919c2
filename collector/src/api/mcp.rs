//! `POST /mcp`: the agent tools (`crate::mcp`) over streamable HTTP, behind a read token.
//!
//! Served stateless: each request is answered on its own, as JSON, and no MCP session lives in
//! the collector, so any collector behind a balancer answers any request. The tools read
//! through the query API on this same collector with the caller's own token, so an agent
//! reads exactly what its token reads.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use http_body_util::{BodyExt, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::auth::{bearer_token, ReadAccess, NO_TOKEN};
use super::body::read_body;
use super::AppState;
use crate::error::ApiError;
use crate::mcp::{ApiClient, SightlineTools};

/// Bytes of one MCP request at most: a tool call is a few hundred.
const MAX_MCP_REQUEST: usize = 64 << 10;
/// Bytes of one answer at most (a digest or a page is tens of KB).
const MAX_MCP_ANSWER: usize = 8 << 20;

pub async fn post(
    req: HttpRequest,
    body: web::Payload,
    _access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, body, MAX_MCP_REQUEST).await?;
    let token = bearer_token(&req).ok_or(ApiError::Unauthenticated(NO_TOKEN))?;
    let own = state.own_url.get().ok_or(ApiError::ShuttingDown)?;
    // Links in answers (a digest's, a share link) name the collector as the agent reached it.
    let mut client = ApiClient::new(own, token);
    if let Some(host) = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()) {
        client = client.on_behalf_of(host, req.headers().get("x-forwarded-proto").and_then(|h| h.to_str().ok()));
    }
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
    Ok(answer.body(body.to_vec()))
}
