//! The projects the collector serves, and how requests are matched to them: by ingest key for
//! batches, by read token for the query API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::{ProjectConfig, ReadToken};
use crate::rate::TokenBucket;

/// A project as the running collector sees it.
#[derive(Debug)]
pub struct Project {
    /// Internal number, the prefix of every key the project owns in the store.
    pub id: u32,
    /// The configuration it came from.
    pub config: ProjectConfig,
    rate: Option<Mutex<TokenBucket>>,
    /// The same rate for backends' OTLP requests, in a bucket of its own so a busy backend
    /// never starves the pages' batches.
    backend_rate: Option<Mutex<TokenBucket>>,
}

impl Project {
    /// Builds a project with its internal id.
    pub fn new(id: u32, config: ProjectConfig) -> Project {
        let bucket =
            || (config.rate_limit > 0).then(|| Mutex::new(TokenBucket::new(config.rate_limit, Instant::now())));
        let (rate, backend_rate) = (bucket(), bucket());
        Project { id, config, rate, backend_rate }
    }

    /// Whether a page served from `origin` may send batches.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.config.allowed_origins.iter().any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// Takes one batch from the rate budget; `Err(seconds)` says how long to wait.
    pub fn take_rate_token(&self) -> Result<(), u64> {
        take(&self.rate)
    }

    /// Takes one backend request from its own rate budget; `Err(seconds)` says how long to wait.
    pub fn take_backend_rate_token(&self) -> Result<(), u64> {
        take(&self.backend_rate)
    }

    /// How long sessions are kept.
    pub fn retention(&self) -> Duration {
        Duration::from_secs_f64(self.config.retention_days * 86_400.0)
    }
}

fn take(bucket: &Option<Mutex<TokenBucket>>) -> Result<(), u64> {
    match bucket {
        None => Ok(()),
        Some(bucket) => bucket.lock().unwrap_or_else(|e| e.into_inner()).take(Instant::now()),
    }
}

/// All projects, indexed by the credentials that select them.
#[derive(Debug, Default)]
pub struct Projects {
    all: Vec<Arc<Project>>,
    by_ingest_key: HashMap<String, Arc<Project>>,
    /// A read token's project, and the name of whoever holds it.
    by_read_token: HashMap<String, (Arc<Project>, String)>,
    by_backend_key: HashMap<String, Arc<Project>>,
}

impl Projects {
    /// Indexes the given projects.
    pub fn new(projects: Vec<Project>) -> Projects {
        let mut index = Projects::default();
        for project in projects {
            let project = Arc::new(project);
            index.by_ingest_key.insert(project.config.ingest_key.clone(), project.clone());
            for (n, token) in project.config.read_tokens.iter().enumerate() {
                // An unnamed token goes by its place in the list, never by any of its secret.
                let name = match token {
                    ReadToken::Named { name, .. } => name.clone(),
                    ReadToken::Plain(_) => format!("read token {}", n + 1),
                };
                index.by_read_token.insert(token.secret().to_owned(), (project.clone(), name));
            }
            for key in &project.config.backend_keys {
                index.by_backend_key.insert(key.clone(), project.clone());
            }
            index.all.push(project);
        }
        index
    }

    /// The project a batch with this ingest key belongs to.
    pub fn by_ingest_key(&self, key: &str) -> Option<&Arc<Project>> {
        self.by_ingest_key.get(key)
    }

    /// The project whose backends send with this key.
    pub fn by_backend_key(&self, key: &str) -> Option<&Arc<Project>> {
        self.by_backend_key.get(key)
    }

    /// The project this read token may see, and the name of its holder.
    pub fn by_read_token(&self, token: &str) -> Option<(&Arc<Project>, &str)> {
        self.by_read_token.get(token).map(|(project, name)| (project, name.as_str()))
    }

    /// The project with internal id `id`.
    pub fn by_id(&self, id: u32) -> Option<&Arc<Project>> {
        self.all.iter().find(|project| project.id == id)
    }

    /// Every project.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Project>> {
        self.all.iter()
    }
}

/// A random secret with a readable prefix, such as `slk_3f9a…` (24 random bytes as hex).
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    let mut secret = String::with_capacity(prefix.len() + 48);
    secret.push_str(prefix);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(origins: &[&str], rate_limit: u32) -> Project {
        Project::new(
            1,
            ProjectConfig {
                name: "p".into(),
                ingest_key: "slk_test_key".into(),
                read_tokens: vec![],
                backend_keys: vec![],
                allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
                retention_days: 1.0,
                rate_limit,
                accept_unsealed: false,
                max_stored_bytes: None,
                webhooks: Vec::new(),
            },
        )
    }

    #[test]
    fn origins_match_exactly_or_by_wildcard() {
        let p = project(&["https://app.acme.com"], 0);
        assert!(p.allows_origin("https://app.acme.com"));
        assert!(!p.allows_origin("https://app.acme.com.evil.net"));
        assert!(!p.allows_origin("http://app.acme.com"));
        assert!(project(&["*"], 0).allows_origin("https://anything.example"));
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = random_secret("slk_");
        assert!(a.starts_with("slk_") && a.len() == 52);
        assert_ne!(a, random_secret("slk_"));
    }
}
