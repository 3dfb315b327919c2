//! Health and metrics for operators.

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::metrics::METRICS;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    // Measuring the store walks its files: keep it off the async workers.
    let size = web::block(move || store.size_on_disk()).await.ok().and_then(Result::ok);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(METRICS.render(size))
}
