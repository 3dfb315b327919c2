//! Configuration: an optional TOML file, overridden by flags and environment variables.
//!
//! ```toml
//! listen = "127.0.0.1:8686"
//! data = "./sightline-data"
//! geoip_db = "/var/lib/GeoIP/GeoLite2-City.mmdb"
//!
//! [[projects]]
//! name = "acme"
//! ingest_key = "slk_…"
//! read_tokens = ["slr_…"]
//! backend_keys = ["slb_…"]
//! allowed_origins = ["https://app.acme.com"]
//! retention_days = 30
//!
//! [[projects.webhooks]]
//! url = "https://hooks.acme.com/sightline"
//! secret = "whsec_…"
//! events = ["problem"]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything the collector can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Defaults to `127.0.0.1:8686`.
    pub listen: SocketAddr,
    /// Directory of the sled database. Defaults to `./sightline-data`.
    pub data: PathBuf,
    /// A MaxMind-format city or country database for geolocating client IPs. Defaults to none,
    /// in which case sessions carry only the browser's time zone and language.
    pub geoip_db: Option<PathBuf>,
    /// Take the client IP from the first `X-Forwarded-For` entry, for deployments behind a
    /// reverse proxy. Defaults to `false`.
    pub trust_forwarded_for: bool,
    /// HTTP worker threads. Defaults to the number of cores.
    pub workers: Option<usize>,
    /// The bearer token `GET /metrics` asks for. Without one, `/metrics` answers only requests
    /// from this machine (a loopback peer): it shows every project's volume.
    pub metrics_token: Option<String>,
    /// The viewer's public base URL (`https://sightline.example.com`), for the links in digests.
    /// Defaults to `http://` and the request's `Host` header (never `X-Forwarded-Host`, which
    /// anyone can send).
    pub public_url: Option<String>,
    /// Size and queue limits.
    pub limits: LimitsConfig,
    /// How much of the data directory's disk is kept free.
    pub storage: StorageConfig,
    /// How often the retention sweep runs, in seconds. Defaults to 3600 (1 hour).
    pub retention_sweep_seconds: u64,
    /// How webhooks are delivered.
    pub webhooks: WebhooksConfig,
    /// Projects. When empty, the collector creates one on first start and keeps it in the
    /// database.
    pub projects: Vec<ProjectConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8686)),
            data: PathBuf::from("./sightline-data"),
            geoip_db: None,
            trust_forwarded_for: false,
            workers: None,
            metrics_token: None,
            public_url: None,
            limits: LimitsConfig::default(),
            storage: StorageConfig::default(),
            retention_sweep_seconds: 3600,
            webhooks: WebhooksConfig::default(),
            projects: Vec::new(),
        }
    }
}

/// Request and queue limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest batch body accepted, in bytes. Defaults to 1 MiB.
    pub max_batch_bytes: usize,
    /// Largest decompressed batch payload, in bytes. Defaults to 16 MiB.
    pub max_decompressed_bytes: usize,
    /// Batches waiting for the writer before ingest answers 503. Defaults to 16,384.
    pub queue_capacity: usize,
    /// Bytes of batches waiting for the writer before ingest answers 503. Defaults to 256 MiB.
    pub queue_bytes: usize,
    /// Most batches committed in one group (one fsync). Defaults to 1,024.
    pub max_group: usize,
    /// Sessions returned by one page of `GET /api/sessions` at most. Defaults to 200.
    pub max_page_size: usize,
    /// Requests per second to the SDK's endpoints from one source (an IPv4 address or an IPv6
    /// /64), charged before the body is read; 0 means no limit. Defaults to 1,000: an office
    /// of 5,000 people behind one address, each page sending every 5 s.
    pub source_rate_limit: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_batch_bytes: 1 << 20,
            max_decompressed_bytes: 16 << 20,
            queue_capacity: 16_384,
            queue_bytes: 256 << 20,
            max_group: 1_024,
            max_page_size: 200,
            source_rate_limit: 1_000,
        }
    }
}

/// Disk space kept free in the data directory's file system, so that a full disk costs new
/// batches only: reads, deletions and a restart still work.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Writes that add (batches, backend records, notes, grants) are refused (`507
    /// storage_full`) while less than this is free. Defaults to 256 MiB.
    pub min_free_bytes: u64,
    /// A file of this size is kept in the data directory and given up when the store can't
    /// open for lack of space: room for it to start. Defaults to 64 MiB; 0 keeps none.
    pub reserve_bytes: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { min_free_bytes: 256 << 20, reserve_bytes: 64 << 20 }
    }
}

/// A read token, with the name notes written with it are signed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReadToken {
    /// Just the secret.
    Plain(String),
    /// The secret and whose it is.
    Named {
        /// The secret.
        token: String,
        /// Who holds it (a person, a team, a helpdesk app).
        name: String,
    },
}

impl ReadToken {
    /// The secret.
    pub fn secret(&self) -> &str {
        match self {
            ReadToken::Plain(token) | ReadToken::Named { token, .. } => token,
        }
    }
}

impl From<String> for ReadToken {
    fn from(token: String) -> ReadToken {
        ReadToken::Plain(token)
    }
}

/// How webhooks are delivered (see `crate::webhooks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// A session's new problems are sent at most this often, in ms; what comes meanwhile joins
    /// the delivery already queued. Defaults to 60,000.
    pub debounce_ms: u64,
    /// The wait before the first retry of a failed delivery, in ms; each next waits five times
    /// longer, an hour at most. Defaults to 5,000.
    pub first_retry_ms: u64,
    /// Tries of a delivery before it is given up. Defaults to 8 (about 5 hours).
    pub max_attempts: u32,
    /// How long a receiver may take to answer, in ms. Defaults to 10,000.
    pub timeout_ms: u64,
    /// Whether hooks created by API may point at loopback, private, link-local or other
    /// non-public addresses. Defaults to `false`: a read token must not reach the collector's
    /// own network. Hooks in this file are the operator's and may.
    pub allow_private_destinations: bool,
    /// Sessions a hook is sent per hour at most, the budget refilled evenly over the hour:
    /// anyone holding a page's ingest key can make sessions with problems and reports, and
    /// must not be able to flood the team's chat. Past it, a session's problems are counted
    /// (`held_back`) and not sent. Defaults to 60.
    pub max_per_hour: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            debounce_ms: 60_000,
            first_retry_ms: 5_000,
            max_attempts: 8,
            timeout_ms: 10_000,
            allow_private_destinations: false,
            max_per_hour: 60,
        }
    }
}

/// A webhook of a project, configured by the operator.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where deliveries are POSTed (`https://…`, or `http://…`).
    pub url: String,
    /// The signing secret: `whsec_` and base64, as the Standard Webhooks libraries take it, or
    /// any other text, used as it is.
    pub secret: String,
    /// What is sent: `problem` (a session's new problems), `feedback`. Defaults to both.
    #[serde(default = "all_webhook_events")]
    pub events: Vec<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret, and the URL that may carry one, stay out of logs.
        f.debug_struct("WebhookConfig").field("events", &self.events).finish_non_exhaustive()
    }
}

fn all_webhook_events() -> Vec<String> {
    vec!["problem".into(), "feedback".into()]
}

/// A project: one customer application sending sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// A short name, unique among projects.
    pub name: String,
    /// The key the SDK sends with every batch. Not a secret (it ships in the page), but it
    /// decides which project a batch lands in.
    pub ingest_key: String,
    /// Bearer tokens that may read this project's sessions. Secrets. Each a string, or `{ token
    /// = "slr_…", name = "ana" }`: the name is who wrote a note with it.
    #[serde(default)]
    pub read_tokens: Vec<ReadToken>,
    /// Keys the project's backends send OpenTelemetry logs and traces with. Secrets: the
    /// ingest key ships in every page, so it can't vouch for what a backend says.
    #[serde(default)]
    pub backend_keys: Vec<String>,
    /// Origins whose pages may send batches, such as `https://app.acme.com`; `*` allows any.
    /// Requests without an `Origin` header (servers, tests) are not restricted. Defaults to `*`.
    #[serde(default = "any_origin")]
    pub allowed_origins: Vec<String>,
    /// Days a session is kept after it started. Fractions are allowed. Defaults to 30.
    #[serde(default = "default_retention_days")]
    pub retention_days: f64,
    /// Batches per second the project may send, bursts of up to one second's worth allowed;
    /// 0 means no limit. Defaults to [`DEFAULT_RATE_LIMIT`]. Charged for batches that decode,
    /// so garbage sent with the page's key does not spend it (see `source_rate_limit`).
    #[serde(default = "default_rate_limit")]
    pub rate_limit: u32,
    /// Whether batches are taken unsealed, as SDKs before protocol version 5 send them. Anyone
    /// who holds the page's ingest key can write into such a session; turn it on only while
    /// pages with an older SDK are still out there. Defaults to false.
    #[serde(default)]
    pub accept_unsealed: bool,
    /// The most bytes of batches (as received, compressed) the project stores; past it, new
    /// batches are refused with `429 quota_exceeded` until retention or deletions make room.
    /// Defaults to none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stored_bytes: Option<u64>,
    /// Where the project's sessions with new problems are sent (see `crate::webhooks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookConfig>,
}

fn any_origin() -> Vec<String> {
    vec!["*".into()]
}

fn default_retention_days() -> f64 {
    30.0
}

/// A project's batches per second unless configured: half of what one collector on this
/// kind of machine stores, so that no tenant takes it all.
pub const DEFAULT_RATE_LIMIT: u32 = 5_000;

fn default_rate_limit() -> u32 {
    DEFAULT_RATE_LIMIT
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("parsing {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The values contradict each other.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse { path: path.to_owned(), message },
            other => other,
        })
    }

    /// Parses TOML text and validates it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: PathBuf::new(), message: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types can't: unique names, keys and tokens.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        let mut secrets = std::collections::HashSet::new();
        for p in &self.projects {
            if p.name.is_empty() || !names.insert(p.name.as_str()) {
                return Err(ConfigError::Invalid(format!("project name {:?} is empty or repeated", p.name)));
            }
            let read_tokens = p.read_tokens.iter().map(ReadToken::secret);
            let secrets_of = std::iter::once(p.ingest_key.as_str())
                .chain(read_tokens)
                .chain(p.backend_keys.iter().map(String::as_str));
            for secret in secrets_of {
                if secret.len() < 8 || !secrets.insert(secret) {
                    return Err(ConfigError::Invalid(format!(
                        "project {:?}: keys and tokens must be unique and at least 8 characters",
                        p.name
                    )));
                }
            }
            for hook in &p.webhooks {
                crate::webhooks::check_config(hook)
                    .map_err(|e| ConfigError::Invalid(format!("project {:?}: webhook {:?}: {e}", p.name, hook.url)))?;
            }
            // Ten thousand years is forever enough, and keeps durations representable.
            if !(p.retention_days > 0.0 && p.retention_days <= 3_650_000.0) {
                return Err(ConfigError::Invalid(format!(
                    "project {:?}: retention_days must be positive and at most 3,650,000",
                    p.name
                )));
            }
        }
        let l = &self.limits;
        if l.max_batch_bytes < 64
            || l.max_decompressed_bytes < 64
            || l.queue_capacity == 0
            || l.queue_bytes < l.max_batch_bytes
            || l.max_group == 0
            || l.max_page_size == 0
        {
            return Err(ConfigError::Invalid(
                "limits are too small to work (queue_bytes must hold one batch; counts must be at least 1)".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file_with_defaults_filled_in() {
        let config = Config::from_toml(
            r#"
            listen = "127.0.0.1:9000"
            [limits]
            max_batch_bytes = 4096
            [[projects]]
            name = "acme"
            ingest_key = "slk_acme_key"
            read_tokens = ["slr_acme_token"]
            "#,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.limits.max_batch_bytes, 4096);
        assert_eq!(config.limits.queue_capacity, 16_384);
        assert_eq!(config.projects[0].allowed_origins, vec!["*"]);
        assert_eq!(config.projects[0].retention_days, 30.0);
    }

    #[test]
    fn refuses_unknown_fields_and_shared_secrets() {
        assert!(matches!(Config::from_toml("lisen = \"x\""), Err(ConfigError::Parse { .. })));
        let shared = r#"
            [[projects]]
            name = "a"
            ingest_key = "same_secret"
            [[projects]]
            name = "b"
            ingest_key = "same_secret"
        "#;
        assert!(matches!(Config::from_toml(shared), Err(ConfigError::Invalid(_))));
        for bad in [
            "[limits]\nmax_page_size = 0",
            "[[projects]]\nname = \"a\"\ningest_key = \"slk_12345678\"\nretention_days = inf",
        ] {
            assert!(matches!(Config::from_toml(bad), Err(ConfigError::Invalid(_))), "{bad}");
        }
    }
}
