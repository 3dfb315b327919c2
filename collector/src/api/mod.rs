//! HTTP endpoints: they parse requests and shape answers; the writer, the query module and the
//! store do the work.
//!
//! | route                         | what                                         |
//! |-------------------------------|----------------------------------------------|
//! | `POST /v1/batches`            | ingest a batch (`OPTIONS` for CORS preflight) |
//! | `POST /v1/sdk-reports`        | the SDK switched off, or recovered (counted) |
//! | `POST /v1/logs`, `POST /v1/traces` | OTLP/HTTP from backends (protobuf or JSON) |
//! | `GET /api/sessions`           | find sessions                                |
//! | `GET /api/sessions/{id}`      | one session's summary                        |
//! | `GET /api/sessions/{id}/events` | the session's batches, streamed in order   |
//! | `GET /api/sessions/{id}/live` | the session followed as it happens (Server-Sent Events) |
//! | `GET /api/sessions/{id}/export` | the session as one self-contained HTML file  |
//! | `GET /api/sessions/{id}/repro` | a Playwright script that does what the user did |
//! | `POST /api/sessions/{id}/share` | a link that opens this one session, read-only, for a while |
//! | `DELETE /api/shares/{id}`     | revoke a share link                          |
//! | `GET /api/sessions/{id}/digest` | the support digest, JSON or Markdown       |
//! | `GET`, `POST /api/sessions/{id}/notes` | support's notes on the session; add one |
//! | `DELETE /api/sessions/{id}/notes/{note}` | remove a note                     |
//! | `GET /api/sessions/{id}/page` | the page at a moment, in words               |
//! | `DELETE /api/sessions/{id}`   | delete a session                             |
//! | `GET /api/traces/{trace}`     | a trace's backend spans and logs, and where sessions made it |
//! | `GET /api/users/{id}/problems` | a user's recent sessions with problems, for a helpdesk |
//! | `DELETE /api/users/{id}`      | delete every session of a user               |
//! | `GET /api/webhooks`, `POST /api/webhooks` | the project's webhooks; make one     |
//! | `DELETE /api/webhooks/{id}`   | remove a webhook made through the API        |
//! | `POST /api/webhooks/{id}/ping` | send a test delivery                        |
//! | `GET /api/webhooks/{id}/deliveries` | a webhook's delivery log               |
//! | `GET /v1/grant`               | the SDK asks for its user's capture grant      |
//! | `GET /api/grants`, `POST /api/grants` | the project's capture grants; make one |
//! | `DELETE /api/grants/{id}`     | revoke a capture grant                       |
//! | `GET /api/audit`              | who read which session, who changed what      |
//! | `POST /mcp`                   | the agent tools over MCP's streamable HTTP (`crate::mcp`) |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | operations                   |

mod audit;
mod auth;
mod body;
mod cors;
mod export;
mod grants;
mod ingest;
mod live;
mod mcp;
mod notes;
mod ops;
mod otlp;
mod page;
mod repro;
mod sdk_reports;
mod sessions;
mod shares;
mod traces;
mod users;
mod webhooks;

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::geo::GeoIp;
use crate::projects::Projects;
use crate::store::{Health, Store, StoreError};
use crate::writer::Writer;

/// What every handler can reach.
pub struct AppState {
    /// Session storage, for reads.
    pub store: Arc<dyn Store>,
    /// The single writer, for every change.
    pub writer: Arc<Writer>,
    /// Projects by key and token.
    pub projects: Arc<Projects>,
    /// Decoding limits for batches.
    pub limits: sightline_protocol::Limits,
    /// Sessions per page of results at most.
    pub max_page_size: usize,
    /// GeoIP database, when configured.
    pub geo: Option<GeoIp>,
    /// Whether to take the client IP from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The bearer token `/metrics` asks for; without one, only loopback peers are answered.
    pub metrics_token: Option<String>,
    /// The viewer's public base URL for links, when configured.
    pub public_url: Option<String>,
    /// The budget of each source address on the SDK's endpoints.
    pub sources: crate::rate::SourceLimiter,
    /// The key share links are signed with.
    pub share_key: crate::share::ShareKey,
    /// The sessions followed live, so the answers to their batches say they are watched.
    pub watchers: live::Watchers,
    /// A client of this collector's own query API on loopback, once it listens: how the agent
    /// tools served at `/mcp` read.
    pub loopback_api: std::sync::OnceLock<crate::mcp::ApiClient>,
    /// The projects' capture grants.
    pub grants: crate::grants::Grants,
    /// The projects' webhooks.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// The store's size on disk and when it was measured (measuring walks its files).
    pub store_size: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
}

impl AppState {
    /// Whether the store takes new data: refused up front when its disk is full or it is
    /// being reopened, before anything is read or written.
    pub fn writable(&self) -> Result<(), ApiError> {
        match self.store.health() {
            Health::Writable => Ok(()),
            Health::Full => Err(ApiError::Store(StoreError::Full)),
            Health::Failed => Err(ApiError::Store(StoreError::Unavailable)),
        }
    }

    /// The viewer's base URL for links: the configured public URL, or the address the request
    /// came to by its `Host` header.
    pub fn viewer_base(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host =
            req.headers().get(actix_web::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        // Behind a proxy that terminates TLS (trusted for the client's address, and so for
        // this too), links keep the scheme the engineer used.
        let scheme = if self.trust_forwarded_for {
            req.headers().get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|s| *s == "https")
        } else {
            None
        };
        format!("{}://{host}", scheme.unwrap_or("http"))
    }

    /// The client's IP: the peer, or the first `X-Forwarded-For` entry when trusted.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
            if let Some(ip) = forwarded.and_then(|v| v.split(',').next()).and_then(|v| v.trim().parse().ok()) {
                return Some(ip);
            }
        }
        req.peer_addr().map(|a| a.ip())
    }
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/batches")
            .route(web::post().to(ingest::post_batch))
            .route(web::method(actix_web::http::Method::OPTIONS).to(ingest::preflight))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/sdk-reports")
            .route(web::post().to(sdk_reports::post_report))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/logs").route(web::post().to(otlp::post_logs)).default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/traces")
            .route(web::post().to(otlp::post_traces))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/traces/{trace}")
            .route(web::get().to(traces::trace))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions")
            .route(web::get().to(sessions::list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}")
            .route(web::get().to(sessions::get))
            .route(web::delete().to(sessions::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/events")
            .route(web::get().to(sessions::events))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/live")
            .route(web::get().to(live::follow))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/export")
            .route(web::get().to(export::export))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/repro")
            .route(web::get().to(repro::repro))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/share")
            .route(web::post().to(shares::create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/shares/{id}")
            .route(web::delete().to(shares::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/digest")
            .route(web::get().to(sessions::digest))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/notes")
            .route(web::get().to(notes::list))
            .route(web::post().to(notes::add))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/notes/{note}")
            .route(web::delete().to(notes::remove))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/sessions/{id}/page")
            .route(web::get().to(page::page))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/users/{id}/problems")
            .route(web::get().to(users::problems))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/users/{id}")
            .route(web::delete().to(users::delete_user))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/webhooks")
            .route(web::get().to(webhooks::list))
            .route(web::post().to(webhooks::create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/webhooks/{id}")
            .route(web::delete().to(webhooks::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/webhooks/{id}/ping")
            .route(web::post().to(webhooks::ping))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/webhooks/{id}/deliveries")
            .route(web::get().to(webhooks::deliveries))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/grant")
            .route(web::get().to(grants::lookup))
            .route(web::method(actix_web::http::Method::OPTIONS).to(grants::lookup_preflight))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/grants")
            .route(web::get().to(grants::list))
            .route(web::post().to(grants::create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/grants/{id}")
            .route(web::delete().to(grants::revoke))
            .default_service(web::to(method_not_allowed)),
    )
    .service(web::resource("/api/audit").route(web::get().to(audit::list)).default_service(web::to(method_not_allowed)))
    .service(web::resource("/mcp").route(web::post().to(mcp::post)).default_service(web::to(method_not_allowed)))
    .service(web::resource("/healthz").route(web::get().to(ops::healthz)))
    .service(web::resource("/readyz").route(web::get().to(ops::readyz)))
    .service(web::resource("/metrics").route(web::get().to(ops::metrics)))
    .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route"))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// Exports and reproduction scripts being built: one at a time, so that a few requests can't
/// take the collector's memory and cores from ingest.
static BUILDING: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));

/// Runs `work` (reading a whole session) off the async workers, one such work at a time; the
/// permit goes with the work, which runs on even if the client leaves.
async fn build_one_at_a_time<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let building = BUILDING.clone().acquire_owned().await.map_err(|_| ApiError::ShuttingDown)?;
    web::block(move || {
        let _building = building;
        work()
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)?
}

/// A file to save, not to show.
fn attachment(content_type: &str, filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
