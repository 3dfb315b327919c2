//! Test harness: the real collector binary on loopback with its own data directory, an HTTP
//! client that reports every status, and batches built with the protocol crate.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sightline_protocol::{encode_batch, Batch, Event, SessionId};

pub use sightline_protocol::fixtures;

pub mod digest;
pub mod mmdb;
pub mod receiver;
pub mod sdk;
pub mod shop;
pub mod static_files;
pub mod todo_site;
pub mod webdriver;

/// The collector binary: `SIGHTLINE_COLLECTOR_BIN`, or the one cargo built next to the tests.
pub fn collector_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SIGHTLINE_COLLECTOR_BIN") {
        return PathBuf::from(path);
    }
    // Test executables live in target/<profile>/deps; binaries one level up.
    shop::sibling_binary("sightline-collector")
}

/// The backend key [`project_config`] gives the project of ingest key `key`.
pub fn backend_key(key: &str) -> String {
    format!("{key}-backend")
}

/// A config file declaring one project with its ingest key and read token.
pub fn project_config(name: &str, key: &str, token: &str) -> String {
    format!("{}accept_unsealed = true\n", sealed_project_config(name, key, token))
}

/// A project as a deployment has it by default, taking only batches sealed by their session's
/// writer, as the SDK sends them.
pub fn sealed_project_config(name: &str, key: &str, token: &str) -> String {
    format!(
        "[[projects]]\nname = \"{name}\"\ningest_key = \"{key}\"\nread_tokens = [\"{token}\"]\nbackend_keys = [\"{}\"]\n",
        backend_key(key)
    )
}

/// A running collector process.
pub struct Collector {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Lines the process printed to stdout before it was ready.
    pub banner: Vec<String>,
    bin: PathBuf,
    /// A command the collector is started under (`nsenter …`), if any.
    under: Vec<String>,
    config: Option<PathBuf>,
    data: PathBuf,
}

impl Collector {
    /// Starts `bin` with `config` (TOML, may be empty) on a free port, data in `data`.
    pub fn start(bin: &Path, data: &Path, config: &str) -> Collector {
        Collector::start_under(&[], bin, data, config)
    }

    /// The same, started as the last argument of the command `under` (which runs it in a
    /// mount namespace, say).
    pub fn start_under(under: &[String], bin: &Path, data: &Path, config: &str) -> Collector {
        let config_path = (!config.is_empty()).then(|| {
            let path = data.with_extension("toml");
            std::fs::write(&path, config).expect("writing config");
            path
        });
        let mut collector = Collector {
            child: None,
            base: String::new(),
            banner: Vec::new(),
            bin: bin.to_owned(),
            under: under.to_vec(),
            config: config_path,
            data: data.to_owned(),
        };
        collector.spawn("127.0.0.1:0");
        collector
    }

    fn spawn(&mut self, listen: &str) {
        let mut command = match self.under.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.bin);
                command
            }
            None => Command::new(&self.bin),
        };
        command.arg("serve").arg("--listen").arg(listen).arg("--data").arg(&self.data);
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .env("SIGHTLINE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the collector");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        self.banner.clear();
        loop {
            let line = rx.recv_timeout(Duration::from_secs(30)).expect("the collector did not start within 30 s");
            if let Some(url) = line.strip_prefix("sightline-collector listening on ") {
                self.base = url.to_owned();
                break;
            }
            self.banner.push(line);
        }
        self.child = Some(child);
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `SIGKILL`: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `SIGTERM` and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill");
            assert!(status.success());
            let exit = child.wait().expect("wait");
            assert!(exit.success(), "collector exited with {exit}");
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port());
        self.spawn(&listen);
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An HTTP response, whatever its status.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().expect("an error code").to_owned()
    }
}

/// A plain HTTP client that never turns a status into an error.
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        Http { agent: ureq::Agent::new_with_config(config) }
    }
}

impl Http {
    /// Sends a request; panics if it could not be sent or answered.
    pub fn request(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
        self.try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    /// Sends a request; `Err` when the connection failed.
    pub fn try_request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, ureq::Error> {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.map(<[u8]>::to_vec).unwrap_or_default()).expect("request");
        let mut response = self.agent.run(request)?;
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(64 << 20).read_to_vec()?;
        Ok(Response { status, headers, body })
    }

    /// `POST /v1/batches` with the key in the header.
    pub fn post_batch(&self, base: &str, key: &str, bytes: &[u8]) -> Response {
        self.request(
            "POST",
            &format!("{base}/v1/batches"),
            &[("x-sightline-key", key), ("content-type", "application/vnd.sightline.batch")],
            Some(bytes),
        )
    }

    /// A read API `GET` with a bearer token.
    pub fn get(&self, url: &str, token: &str) -> Response {
        self.request("GET", url, &[("authorization", &format!("Bearer {token}"))], None)
    }

    /// A read API `DELETE` with a bearer token.
    pub fn delete(&self, url: &str, token: &str) -> Response {
        self.request("DELETE", url, &[("authorization", &format!("Bearer {token}"))], None)
    }
}

/// A fresh random session id.
pub fn random_session() -> SessionId {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("random");
    // Never one with the form of a sealed session's id (one in 65,536 draws): tests post
    // batches of such ids unsealed.
    let mut id = SessionId(bytes);
    if sightline_protocol::is_sealed_id(&id) {
        id.0[15] ^= 1;
    }
    id
}

/// A framed batch for `key`, `session`, `page` and `seq` holding `events`.
pub fn batch_bytes(key: &str, session: SessionId, page: u32, seq: u32, events: Vec<Event>) -> Vec<u8> {
    encode_batch(&Batch {
        project: key.into(),
        session,
        page,
        seq,
        start: 1_780_000_000_000 + u64::from(seq) * 5_000,
        sent: 1_780_000_000_000 + u64::from(seq) * 5_000 + 5_000,
        events,
        trace_key: None,
    })
    .expect("encoding")
}

/// The sample batches re-addressed to `key` and `session`.
pub fn sample_session(key: &str, session: SessionId) -> Vec<Vec<u8>> {
    fixtures::all()
        .into_iter()
        .map(|(_, mut batch)| {
            batch.project = key.into();
            batch.session = session;
            encode_batch(&batch).expect("encoding")
        })
        .collect()
}

/// The batches of an events stream, as the collector stored them.
pub fn split_frames(stream: &[u8]) -> Vec<Vec<u8>> {
    sightline_protocol::stream::frames(stream).map(|frame| frame.expect("a whole stream").to_vec()).collect()
}
