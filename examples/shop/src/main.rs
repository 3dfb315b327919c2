//! `sightline-example-shop`: Acme Billing, a small single-page app that embeds the Sightline
//! SDK the way a customer's product would, with the demo backend it calls. A normal
//! click-through produces everything Sightline records: page views and route changes, masked
//! form input, a request that fails with a 500, a slow request, and a thrown JavaScript error.

mod api;
mod telemetry;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::dev::Service;
use actix_web::{web, App, HttpResponse, HttpServer};
use clap::Parser;

/// Command-line options, also taken from the environment.
#[derive(Debug, Parser)]
#[command(name = "sightline-example-shop", version, about)]
struct Options {
    /// Address to listen on.
    #[arg(long, env = "SHOP_LISTEN", default_value = "127.0.0.1:8687")]
    listen: String,
    /// The Sightline collector the page's SDK sends to.
    #[arg(long, env = "SHOP_COLLECTOR", default_value = "http://127.0.0.1:8686")]
    collector: String,
    /// The project's ingest key.
    #[arg(long, env = "SHOP_INGEST_KEY")]
    ingest_key: String,
    /// A backend key of the project: when given, the demo backend sends its spans and logs to
    /// the collector with it.
    #[arg(long, env = "SHOP_BACKEND_KEY")]
    backend_key: Option<String>,
    /// The built npm package (`cargo xtask build-sdk` writes it to `npm/dist`).
    #[arg(long, env = "SHOP_SDK_DIR", default_value = "npm/dist")]
    sdk_dir: PathBuf,
}

/// What every handler shares.
pub struct Shop {
    /// The page, with the SDK's settings filled in.
    page: String,
    sdk_dir: PathBuf,
    /// The latest requests the API received, newest last (see [`api::received`]).
    pub received: Mutex<Vec<api::Received>>,
    /// The backend's spans and logs, exported to the collector.
    pub telemetry: Option<telemetry::Telemetry>,
}

const PAGE: &str = include_str!("../static/index.html");
const APP: &str = include_str!("../static/app.js");

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let options = Options::parse();
    if !options.sdk_dir.join("index.js").exists() {
        eprintln!("{} has no built SDK: run `cargo xtask build-sdk` first", options.sdk_dir.display());
        std::process::exit(2);
    }
    let settings = serde_json::json!({ "endpoint": options.collector, "projectKey": options.ingest_key });
    let page = PAGE.replace("/*SIGHTLINE_SETTINGS*/{}", &settings.to_string());
    let telemetry = match options.backend_key.as_deref().map(|key| telemetry::Telemetry::start(&options.collector, key))
    {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("backend telemetry is off: {e}");
            None
        }
        None => None,
    };
    let shop =
        web::Data::from(Arc::new(Shop { page, sdk_dir: options.sdk_dir, received: Mutex::new(Vec::new()), telemetry }));
    let traced = shop.clone();
    let server = HttpServer::new(move || {
        let shop = traced.clone();
        App::new()
            .app_data(traced.clone())
            // Every API request runs in a server span that continues the browser's trace.
            .wrap_fn(move |request, service| {
                let span = shop
                    .telemetry
                    .as_ref()
                    .filter(|_| request.path().starts_with("/api/"))
                    .map(|t| t.start_request(&request));
                let response = service.call(request);
                async move {
                    let response = response.await?;
                    if let Some(span) = span {
                        telemetry::Telemetry::end_request(span, &response);
                    }
                    Ok(response)
                }
            })
            .configure(api::routes)
            .route("/app.js", web::get().to(|| async { text("text/javascript", APP) }))
            .route("/sightline/{file}", web::get().to(sdk_file))
            // The app's routes all serve the app; it renders the view for the URL.
            .default_service(
                web::get().to(|shop: web::Data<Shop>| async move { text("text/html; charset=utf-8", &shop.page) }),
            )
    })
    .workers(2)
    .bind(&options.listen)?;
    for address in server.addrs() {
        println!("Acme Billing (the example app) on http://{address}/");
    }
    let result = server.run().await;
    if let Some(t) = &shop.telemetry {
        t.shutdown();
    }
    result
}

fn text(content_type: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).insert_header(("cache-control", "no-store")).body(body.to_owned())
}

/// The SDK's files, as a customer's build would serve them next to the app.
async fn sdk_file(shop: web::Data<Shop>, file: web::Path<String>) -> HttpResponse {
    let name = file.into_inner();
    let content_type = match name.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("ts") => "text/plain",
        _ => return HttpResponse::NotFound().finish(),
    };
    if name.contains('/') || name.starts_with('.') {
        return HttpResponse::NotFound().finish();
    }
    match std::fs::read(shop.sdk_dir.join(&name)) {
        Ok(bytes) => HttpResponse::Ok().content_type(content_type).body(bytes),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}
