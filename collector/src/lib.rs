//! Sightline's collector: receives batches from the browser SDK, stores sessions, and answers
//! the query API.
//!
//! Layout: [`api`] parses requests and shapes answers; [`writer`] decides and commits every
//! change through one thread with group commit; [`query`] finds sessions; [`store`] persists
//! (sled by default); [`summary`] folds batches into per-session summaries; [`analyzer`] finds
//! frustration signals over whole recordings, which [`recording`] reads back one batch at a
//! time; [`telemetry`] keeps backends' OTLP records by
//! trace id; [`digest`] tells a session's story for a ticket.

pub mod analyzer;
pub mod api;
pub mod audit;
pub mod bootstrap;
pub mod config;
pub mod digest;
pub mod error;
pub mod geo;
pub mod grants;
pub mod mcp;
pub mod metrics;
pub mod projects;
pub mod query;
pub mod rate;
pub mod recording;
pub mod retention;
pub mod share;
pub mod store;
pub mod summary;
pub mod telemetry;
pub mod viewer;
pub mod webhooks;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Service;
use actix_web::{web, App, HttpServer};

use crate::api::AppState;
use crate::config::Config;
use crate::metrics::METRICS;
use crate::projects::Projects;
use crate::store::{SledStore, Store};
use crate::writer::Writer;

/// Why the collector could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The GeoIP database could not be opened.
    #[error(transparent)]
    GeoIp(#[from] geo::GeoIpError),
    /// Binding or running the HTTP server failed.
    #[error("http server: {0}")]
    Io(#[from] std::io::Error),
}

/// Where this process reaches itself at `addr`: an address of all interfaces is reached on
/// loopback.
fn loopback(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => (std::net::Ipv4Addr::LOCALHOST, addr.port()).into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => (std::net::Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Runs the collector until SIGINT or SIGTERM, then drains in-flight requests, commits what
/// the writer holds, and flushes the store.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let store: Arc<dyn Store> = Arc::new(SledStore::open_with(&config.data, config.storage)?);
    let keeper = store::Keeper::start(store.clone());
    let (projects, created) = bootstrap::load_projects(store.as_ref(), &config)?;
    if let Some(p) = created {
        println!("Created project {:?}. These are shown once; keep them.", p.name);
        println!("  ingest key: {}", p.ingest_key);
        println!("  read token: {}", p.read_tokens[0].secret());
        println!("  backend key (OTLP logs and traces): {}", p.backend_keys[0]);
    }
    let projects = Arc::new(Projects::new(projects));
    let writer = Arc::new(Writer::start(
        store.clone(),
        config.limits.queue_capacity,
        config.limits.queue_bytes,
        config.limits.max_group,
    ));
    let geo = config.geoip_db.as_deref().map(geo::GeoIp::open).transpose()?;
    let webhooks = Arc::new(webhooks::Webhooks::new(store.clone(), projects.clone(), config.webhooks.clone()));
    if let Some(public) = &config.public_url {
        webhooks.set_link_base(public);
    }
    let share_key = share::ShareKey::load(store.as_ref())?;
    let grants = grants::Grants::load(store.clone(), share_key.clone(), api::now_ms())?;
    let state = web::Data::new(AppState {
        store: store.clone(),
        writer: writer.clone(),
        projects: projects.clone(),
        limits: sightline_protocol::Limits {
            max_compressed: config.limits.max_batch_bytes,
            max_decompressed: config.limits.max_decompressed_bytes,
            ..Default::default()
        },
        max_page_size: config.limits.max_page_size,
        geo,
        trust_forwarded_for: config.trust_forwarded_for,
        metrics_token: config.metrics_token.clone(),
        public_url: config.public_url.clone(),
        store_size: std::sync::Mutex::new(None),
        loopback_api: std::sync::OnceLock::new(),
        webhooks: webhooks.clone(),
        watchers: Default::default(),
        share_key,
        grants,
        sources: crate::rate::SourceLimiter::new(config.limits.source_rate_limit),
    });
    let analyzer = analyzer::Analyzer::start(
        store.clone(),
        writer.clone(),
        writer.pending_analysis(),
        projects.iter().map(|p| p.id).collect(),
        webhooks.clone(),
    );
    let dispatcher = webhooks::dispatch::Dispatcher::start(webhooks.clone());
    let sweeper = retention::Sweeper::start(
        store.clone(),
        writer.clone(),
        projects,
        Duration::from_secs(config.retention_sweep_seconds.max(1)),
    );

    let own_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap_fn(|req, srv| {
                let response = srv.call(req);
                async move {
                    let response = response.await?;
                    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
                    METRICS.request(&route, response.status().as_u16());
                    Ok(response)
                }
            })
            .configure(viewer::configure)
            .configure(api::configure)
    })
    .shutdown_timeout(10);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server.bind(config.listen)?;
    for addr in server.addrs() {
        println!("sightline-collector listening on http://{addr}");
        tracing::info!(%addr, data = %config.data.display(), "listening");
        let own = format!("http://{}", loopback(addr));
        own_state.webhooks.set_link_base(&own);
        let _ = own_state.loopback_api.set(mcp::ApiClient::loopback(&own));
    }
    let result = server.run().await;

    drop(sweeper);
    // A failed store can't be flushed (see `store::Keeper`); what was acknowledged is durable.
    if store.health() == store::Health::Failed {
        std::process::exit(store::EXIT_STORE_FAILED);
    }
    drop(analyzer);
    drop(dispatcher);
    // The keeper stays until the last flush: one that never returns ends the process.
    writer.shutdown();
    store.flush()?;
    drop(keeper);
    tracing::info!("stopped; everything acknowledged is on disk");
    Ok(result?)
}
