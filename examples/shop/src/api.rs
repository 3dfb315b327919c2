//! The demo backend: the API the example app calls for its data, with one action that fails,
//! one call that is slow, and a record of the trace context each request carried, so a test
//! can compare it with what the SDK recorded.

use std::time::Duration;

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use opentelemetry::logs::Severity;
use opentelemetry::KeyValue;
use serde_json::{json, Value};

use crate::telemetry::RequestContext;
use crate::Shop;

/// How long the slow report takes.
const SLOW_REPORT: Duration = Duration::from_millis(1500);
/// Requests remembered by [`received`].
const REMEMBERED: usize = 200;

/// A request the API received.
#[derive(Debug, Clone)]
pub struct Received {
    method: String,
    path: String,
    traceparent: Option<String>,
}

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/api/login", web::post().to(login))
        .route("/api/customers", web::get().to(customers))
        .route("/api/invoices", web::get().to(invoices))
        .route("/api/invoices", web::post().to(create_invoice))
        .route("/api/invoices/{id}/send", web::post().to(send_invoice))
        .route("/api/report", web::get().to(report))
        .route("/api/checkout", web::post().to(checkout))
        .route("/api/status", web::get().to(status))
        .route("/api/received", web::get().to(received));
}

fn remember(shop: &Shop, request: &HttpRequest) {
    let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let entry = Received { method: request.method().to_string(), path: request.path().to_owned(), traceparent };
    let mut received = shop.received.lock().unwrap_or_else(|e| e.into_inner());
    if received.len() == REMEMBERED {
        received.remove(0);
    }
    received.push(entry);
}

async fn invoices(shop: web::Data<Shop>, request: HttpRequest) -> HttpResponse {
    remember(&shop, &request);
    let customers = ["Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"];
    let list: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "id": 40 + i,
                "customer": customers[i % customers.len()],
                "amount": 120 + (i * 37) % 900,
                "currency": "EUR",
                "status": if i % 3 == 0 { "open" } else { "paid" },
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// Signs in anyone with a password; refuses an empty one.
async fn login(shop: web::Data<Shop>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    remember(&shop, &request);
    let form: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let email = form.get("email").and_then(Value::as_str).unwrap_or("");
    if form.get("password").and_then(Value::as_str).unwrap_or("").is_empty() {
        return HttpResponse::Unauthorized()
            .json(json!({ "error": "bad_credentials", "message": "Wrong email or password" }));
    }
    HttpResponse::Ok().json(json!({ "user": "u_1842", "email": email, "token": "session-token-for-the-demo" }))
}

/// A few thousand customers, for the big table.
async fn customers(shop: web::Data<Shop>, request: HttpRequest) -> HttpResponse {
    remember(&shop, &request);
    let cities = ["Paris", "Berlin", "Lisbon", "Austin", "Osaka", "Toronto", "Nairobi", "Melbourne"];
    let plans = ["team", "business", "enterprise"];
    let list: Vec<Value> = (0..3000)
        .map(|i| {
            json!({
                "id": 1000 + i,
                "name": format!("Customer {:04}", i),
                "city": cities[i % cities.len()],
                "seats": 5 + (i * 7) % 200,
                "plan": plans[i % plans.len()],
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// Creates an invoice (the modal form's submit).
async fn create_invoice(shop: web::Data<Shop>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    remember(&shop, &request);
    let form: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    HttpResponse::Created().json(json!({
        "id": 99,
        "customer": form.get("customer").cloned().unwrap_or(Value::Null),
        "amount": form.get("amount").cloned().unwrap_or(Value::Null),
        "currency": "EUR",
        "status": "open",
    }))
}

/// The action that fails: the mail relay behind it is down.
async fn send_invoice(shop: web::Data<Shop>, request: HttpRequest, id: web::Path<u32>) -> HttpResponse {
    remember(&shop, &request);
    let id = id.into_inner();
    if let Some(telemetry) = &shop.telemetry {
        telemetry.log(
            request.extensions().get::<RequestContext>(),
            Severity::Error,
            format!("Sending invoice {id} failed: SMTP relay smtp.acme.internal:587 refused the connection"),
            vec![KeyValue::new("invoice.id", i64::from(id)), KeyValue::new("smtp.host", "smtp.acme.internal")],
        );
    }
    HttpResponse::InternalServerError()
        .json(json!({ "error": "mail_relay_unavailable", "message": "SMTP relay refused the connection" }))
}

/// The slow call.
async fn report(shop: web::Data<Shop>, request: HttpRequest) -> HttpResponse {
    remember(&shop, &request);
    actix_web::rt::time::sleep(SLOW_REPORT).await;
    HttpResponse::Ok().json(json!({ "revenue": 48_210, "open_invoices": 4, "currency": "EUR" }))
}

async fn checkout(shop: web::Data<Shop>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    remember(&shop, &request);
    let order: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let plan = order.get("plan").and_then(Value::as_str).unwrap_or("team").to_owned();
    HttpResponse::Ok().json(json!({ "order": "ORD-7731", "plan": plan, "status": "confirmed" }))
}

/// The service status, which the app reads from another origin (its other host name), the way
/// apps call third-party APIs; open to any origin, but not to a `traceparent` header.
async fn status(shop: web::Data<Shop>, request: HttpRequest) -> HttpResponse {
    remember(&shop, &request);
    HttpResponse::Ok().insert_header(("access-control-allow-origin", "*")).json(json!({ "status": "operational" }))
}

/// The requests received lately, newest last, with the `traceparent` each carried.
async fn received(shop: web::Data<Shop>) -> HttpResponse {
    let received = shop.received.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let list: Vec<Value> =
        received.iter().map(|r| json!({ "method": r.method, "path": r.path, "traceparent": r.traceparent })).collect();
    HttpResponse::Ok().json(list)
}
