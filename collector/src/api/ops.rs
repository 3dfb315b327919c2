//! Health and metrics for operators.

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::AppState;
use crate::error::ApiError;
use crate::metrics::{StoreGauges, METRICS};
use crate::store::Health;

/// The store's size is measured at most this often: measuring walks its files.
const STORE_SIZE_EVERY: Duration = Duration::from_secs(30);

/// `GET /healthz`: liveness. The process answers, so it is alive (restarting it would not
/// help a full disk); the store's state is said too: `ok`, `full` or `failed`.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "store": state.store.health().name() }))
}

/// `GET /readyz`: readiness to take batches. 503 with the reason while the store's disk is
/// full or the store is being reopened (reads are still served then).
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.writable() {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        // Not ready is 503 whatever the cause, as probes expect; the code says which.
        Err(refusal) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "error": refusal.code(), "message": refusal.to_string() })),
    }
}

/// `GET /metrics`: every project's volume, so only for the operator: with the configured
/// metrics token, or, without one, from this machine.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = match &state.metrics_token {
        Some(token) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
        None => req.peer_addr().is_some_and(|peer| peer.ip().is_loopback()),
    };
    if !allowed {
        return ApiError::Unauthenticated("metrics need the metrics token (or a request from this machine)")
            .error_response();
    }
    let gauges = StoreGauges {
        bytes: store_size(&state).await,
        free_bytes: state.store.free_bytes(),
        writable: state.store.health() == Health::Writable,
    };
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(METRICS.render(&gauges))
}

async fn store_size(state: &AppState) -> Option<u64> {
    let cached = *state.store_size.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, size)) = cached.filter(|(at, _)| at.elapsed() < STORE_SIZE_EVERY) {
        return Some(size);
    }
    let store = state.store.clone();
    // Measuring the store walks its files: keep it off the async workers.
    let size = web::block(move || store.size_on_disk()).await.ok().and_then(Result::ok)?;
    *state.store_size.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), size));
    Some(size)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
