//! A todo app's site for fault journeys: the page, the npm package and the app's bundle, and
//! the app's API (`POST /api/todos`, `POST /api/sync`) answering with the fault a journey
//! injects. Like an instrumented backend, it reports why it failed to the collector over OTLP,
//! under the trace id of the request's `traceparent`.

use std::io::{BufRead, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::static_files::{content_type, resolve, respond};
use crate::Http;

/// The service name the backend's records carry.
pub const SERVICE: &str = "todo-api";

/// What the API does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: every call succeeds.
    None,
    /// Saving a todo answers 500, after logging the constraint it violated.
    SaveFails,
    /// Saving a todo closes the connection without an answer.
    SaveDropped,
    /// Syncing answers after 6 s.
    SlowSync,
    /// Syncing answers 409, after logging why.
    SyncConflict,
}

/// Why the failing save failed, as the backend logs it.
pub const SAVE_ERROR: &str = "insert into todos failed: constraint violation on todos.title";
/// Why the sync was refused, as the backend logs it.
pub const SYNC_CONFLICT: &str = "sync refused: the list changed on another device (version 7, client has 5)";

/// The site, serving until the process ends.
pub struct TodoSite {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

struct Site {
    page: String,
    app: String,
    files: PathBuf,
    fault: Fault,
    /// Where the backend's records go: the collector's base URL and its backend key.
    otlp: (String, String),
}

impl TodoSite {
    /// Serves `page` at `/`, `app` at `/app.js` and the files under `files`, with the API
    /// failing as `fault` says and reporting to the collector at `collector` with `backend_key`.
    pub fn start(
        page: String,
        app: String,
        files: PathBuf,
        fault: Fault,
        collector: &str,
        backend_key: &str,
    ) -> TodoSite {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the todo site");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let site =
            std::sync::Arc::new(Site { page, app, files, fault, otlp: (collector.to_owned(), backend_key.to_owned()) });
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let site = site.clone();
                std::thread::spawn(move || site.answer(stream));
            }
        });
        TodoSite { base }
    }
}

impl Site {
    fn answer(&self, stream: TcpStream) {
        let mut reader = BufReader::new(&stream);
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let (mut length, mut traceparent) = (0usize, None);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            if let Some((name, value)) = line.trim_end().split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "traceparent" => traceparent = Some(value.trim().to_owned()),
                    _ => {}
                }
            }
            line.clear();
        }
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("GET");
        let path = parts.next().unwrap_or("/").split('?').next().unwrap_or("/");
        let (status, content, kind) = match (method, path) {
            ("GET", "/") => ("200 OK", self.page.clone().into_bytes(), "text/html; charset=utf-8"),
            ("GET", "/app.js") => ("200 OK", self.app.clone().into_bytes(), "text/javascript"),
            ("GET", _) => {
                match resolve(&self.files, path).and_then(|file| std::fs::read(&file).ok().map(|b| (b, file))) {
                    Some((bytes, file)) => ("200 OK", bytes, content_type(&file)),
                    None => ("404 Not Found", b"not found".to_vec(), "text/plain"),
                }
            }
            ("POST", "/api/todos") => match self.fault {
                Fault::SaveFails => {
                    self.report(traceparent.as_deref(), "ERROR", SAVE_ERROR);
                    ("500 Internal Server Error", br#"{"error":"could not save"}"#.to_vec(), "application/json")
                }
                Fault::SaveDropped => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                _ => ("201 Created", br#"{"saved":true}"#.to_vec(), "application/json"),
            },
            ("POST", "/api/sync") => match self.fault {
                Fault::SlowSync => {
                    std::thread::sleep(Duration::from_secs(6));
                    ("200 OK", br#"{"synced":true}"#.to_vec(), "application/json")
                }
                Fault::SyncConflict => {
                    self.report(traceparent.as_deref(), "WARN", SYNC_CONFLICT);
                    ("409 Conflict", br#"{"error":"sync conflict"}"#.to_vec(), "application/json")
                }
                _ => ("200 OK", br#"{"synced":true}"#.to_vec(), "application/json"),
            },
            _ => ("405 Method Not Allowed", b"{}".to_vec(), "application/json"),
        };
        respond(&stream, status, kind, &content);
    }

    /// Sends the collector one log record in the request's span, as OTLP/JSON, before the
    /// answer goes out (an exporter would batch it; the journey wants it there in time).
    fn report(&self, traceparent: Option<&str>, severity: &str, message: &str) {
        let Some((trace, span)) = traceparent.and_then(|t| {
            let mut parts = t.split('-');
            Some((parts.nth(1)?.to_owned(), parts.next()?.to_owned()))
        }) else {
            return;
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos().to_string();
        let number = if severity == "ERROR" { 17 } else { 13 };
        let logs = serde_json::json!({ "resourceLogs": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": SERVICE } }] },
            "scopeLogs": [{ "logRecords": [{
                "timeUnixNano": now,
                "severityNumber": number,
                "severityText": severity,
                "body": { "stringValue": message },
                "traceId": trace,
                "spanId": span,
            }] }],
        }] });
        let (collector, key) = &self.otlp;
        let response = Http::default().request(
            "POST",
            &format!("{collector}/v1/logs"),
            &[("x-sightline-key", key), ("content-type", "application/json")],
            Some(&serde_json::to_vec(&logs).expect("JSON")),
        );
        assert_eq!(response.status, 200, "the collector took the backend's log");
    }
}
