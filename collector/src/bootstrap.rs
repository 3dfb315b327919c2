//! Which projects the collector serves: those in the config file, or else the ones it created
//! itself and keeps in the database. Each project gets a stable internal id, remembered by name.

use std::collections::BTreeMap;

use crate::config::{Config, ProjectConfig};
use crate::projects::{random_secret, Project};
use crate::store::{Store, StoreError};

const PROJECT_IDS: &str = "project_ids";
const STORED_PROJECTS: &str = "projects";

/// The projects to serve, and the one created just now (whose secrets are shown once).
pub fn load_projects(store: &dyn Store, config: &Config) -> Result<(Vec<Project>, Option<ProjectConfig>), StoreError> {
    let mut created = None;
    let configs = if config.projects.is_empty() {
        match store.meta(STORED_PROJECTS)? {
            Some(json) => serde_json::from_slice(&json).map_err(|e| corrupt(STORED_PROJECTS, e))?,
            None => {
                let project = ProjectConfig {
                    name: "default".into(),
                    ingest_key: random_secret("slk_"),
                    read_tokens: vec![random_secret("slr_").into()],
                    backend_keys: vec![random_secret("slb_")],
                    allowed_origins: vec!["*".into()],
                    retention_days: 30.0,
                    rate_limit: crate::config::DEFAULT_RATE_LIMIT,
                    accept_unsealed: false,
                    max_stored_bytes: None,
                    webhooks: Vec::new(),
                };
                let projects = vec![project.clone()];
                store.set_meta(
                    STORED_PROJECTS,
                    &serde_json::to_vec(&projects).map_err(|e| corrupt(STORED_PROJECTS, e))?,
                )?;
                created = Some(project);
                projects
            }
        }
    } else {
        config.projects.clone()
    };

    let mut ids: BTreeMap<String, u32> = match store.meta(PROJECT_IDS)? {
        Some(json) => serde_json::from_slice(&json).map_err(|e| corrupt(PROJECT_IDS, e))?,
        None => BTreeMap::new(),
    };
    let before = ids.len();
    for project in &configs {
        let next = ids.values().max().map_or(1, |max| max + 1);
        ids.entry(project.name.clone()).or_insert(next);
    }
    if ids.len() != before {
        store.set_meta(PROJECT_IDS, &serde_json::to_vec(&ids).map_err(|e| corrupt(PROJECT_IDS, e))?)?;
    }
    let projects = configs.into_iter().map(|c| Project::new(ids[&c.name], c)).collect();
    Ok((projects, created))
}

fn corrupt(name: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt { key: format!("meta {name}"), message: e.to_string() }
}
