//! The demo backend's OpenTelemetry instrumentation, set up the way a customer's service would
//! be: a server span per API request, continuing the trace of the `traceparent` the browser
//! sent, and log records emitted inside it, both exported over OTLP/HTTP (protobuf) to the
//! Sightline collector with a backend key of the project. That is what lets the replay show the
//! backend's error log next to the request that failed.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{LogExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

/// The service name the backend reports.
const SERVICE: &str = "acme-billing-api";
/// How often batched spans and logs are exported: short, so a demo's backend records reach
/// the collector while the user is still looking.
const EXPORT_EVERY: Duration = Duration::from_millis(500);

/// The tracer and logger of the demo backend, and their providers (flushed on shutdown).
pub struct Telemetry {
    tracer: SdkTracer,
    logger: SdkLogger,
    tracer_provider: SdkTracerProvider,
    logger_provider: SdkLoggerProvider,
}

/// The OTLP exporters' HTTP client: a blocking `ureq` agent. The SDK's batch processors export
/// from their own threads, so blocking there is what they expect.
#[derive(Debug)]
struct UreqClient(ureq::Agent);

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = request.map(|body| body.to_vec());
        let mut response = self.0.run(request)?;
        let status = response.status();
        let body = response.body_mut().read_to_vec()?;
        Ok(Response::builder().status(status).body(Bytes::from(body))?)
    }
}

fn client() -> UreqClient {
    let config =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build();
    UreqClient(ureq::Agent::new_with_config(config))
}

impl Telemetry {
    /// Exports to the collector at `collector` (its base URL) with a `backend_key` of the
    /// project.
    pub fn start(collector: &str, backend_key: &str) -> Result<Telemetry, opentelemetry_otlp::ExporterBuildError> {
        let headers = HashMap::from([("x-sightline-key".to_owned(), backend_key.to_owned())]);
        let resource = Resource::builder().with_service_name(SERVICE).build();
        let spans = SpanExporter::builder()
            .with_http()
            .with_http_client(client())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{collector}/v1/traces"))
            .with_headers(headers.clone())
            .build()?;
        let logs = LogExporter::builder()
            .with_http()
            .with_http_client(client())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{collector}/v1/logs"))
            .with_headers(headers)
            .build()?;
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(
                        opentelemetry_sdk::trace::BatchConfigBuilder::default()
                            .with_scheduled_delay(EXPORT_EVERY)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(
                BatchLogProcessor::builder(logs)
                    .with_batch_config(
                        opentelemetry_sdk::logs::BatchConfigBuilder::default()
                            .with_scheduled_delay(EXPORT_EVERY)
                            .build(),
                    )
                    .build(),
            )
            .build();
        Ok(Telemetry {
            tracer: tracer_provider.tracer("acme-billing"),
            logger: logger_provider.logger("acme-billing"),
            tracer_provider,
            logger_provider,
        })
    }

    /// Starts the server span of a request, continuing the trace its `traceparent` names, and
    /// puts its context in the request's extensions for handlers to log in.
    pub fn start_request(&self, request: &ServiceRequest) -> opentelemetry_sdk::trace::Span {
        let parent = TraceContextPropagator::new().extract(&Headers(request));
        let route = request.match_pattern().unwrap_or_else(|| request.path().to_owned());
        let span = self
            .tracer
            .span_builder(format!("{} {route}", request.method()))
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", request.method().to_string()),
                KeyValue::new("http.route", route),
                KeyValue::new("url.path", request.path().to_owned()),
            ])
            .start_with_context(&self.tracer, &parent);
        request.extensions_mut().insert(RequestContext(parent.with_remote_span_context(span.span_context().clone())));
        span
    }

    /// Ends a request's span with its status: an error for a 5xx.
    pub fn end_request<B>(mut span: opentelemetry_sdk::trace::Span, response: &ServiceResponse<B>) {
        let status = response.status();
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status.as_u16())));
        if status.is_server_error() {
            span.set_status(Status::error(status.canonical_reason().unwrap_or("server error")));
        }
        span.end();
    }

    /// Emits a log record at `severity` within the request's span.
    pub fn log(
        &self,
        context: Option<&RequestContext>,
        severity: Severity,
        message: String,
        attributes: Vec<KeyValue>,
    ) {
        let mut record = self.logger.create_log_record();
        record.set_severity_number(severity);
        record.set_severity_text(severity.name());
        record.set_timestamp(std::time::SystemTime::now());
        record.set_body(AnyValue::from(message));
        record.add_attributes(attributes.into_iter().map(|kv| (kv.key, AnyValue::from(kv.value.to_string()))));
        if let Some(context) = context {
            let span = context.0.span();
            let span_context = span.span_context();
            record.set_trace_context(span_context.trace_id(), span_context.span_id(), Some(span_context.trace_flags()));
        }
        self.logger.emit(record);
    }

    /// Exports what is pending and stops the exporters.
    pub fn shutdown(&self) {
        let _ = self.tracer_provider.shutdown();
        let _ = self.logger_provider.shutdown();
    }
}

/// The trace context a request is handled in (its server span).
#[derive(Clone)]
pub struct RequestContext(Context);

struct Headers<'a>(&'a ServiceRequest);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.headers().get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.headers().keys().map(|k| k.as_str()).collect()
    }
}
