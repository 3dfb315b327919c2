//! The audit log: who looked at which session and who changed what, for a project's own
//! records and for anyone who must answer for the data it holds. Every read of a session's
//! recording (a replay, a live view's start, an export, a digest, a reproduction, the page at
//! a moment), every share link made or revoked, every deletion and erasure, every note,
//! webhook and capture grant made or removed is an entry: when, who (the read token's name),
//! what, which session or user. Entries live in the store's metadata, newest first, the last
//! [`KEPT`] of each project.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// Entries kept per project.
pub const KEPT: usize = 20_000;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When, ms since the epoch.
    pub time: u64,
    /// Who: the read token's name, or `a share link`.
    pub actor: String,
    /// What: `view`, `digest`, `export`, `repro`, `page`, `share`, `revoke_share`,
    /// `delete_session`, `delete_user`, `note`, `delete_note`, `webhook`, `delete_webhook`,
    /// `grant`, `revoke_grant`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// A user id or email, for an erasure; a webhook's or note's id; a share link's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

fn prefix(project: u32) -> String {
    format!("audit/{project:08x}/")
}

/// Writes `entry` to the project's log.
pub fn record(store: &dyn Store, project: u32, entry: &Entry) -> Result<(), StoreError> {
    let mut tail = [0u8; 4];
    getrandom::fill(&mut tail).expect("the system's random source");
    // Newest first in name order: the time inverted, then a random tail for ties.
    let name = format!(
        "{}{:016x}-{}",
        prefix(project),
        u64::MAX - entry.time,
        tail.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    store.set_meta(&name, &serde_json::to_vec(entry).expect("an entry serializes"))?;
    // One write in 256, on average, trims the log back to what is kept.
    if tail[0] == 0 {
        trim(store, project)?;
    }
    Ok(())
}

/// Removes what is past the last [`KEPT`] entries.
fn trim(store: &dyn Store, project: u32) -> Result<(), StoreError> {
    let prefix = prefix(project);
    let Some((last_kept, _)) = store.metas(&prefix, KEPT)?.pop() else { return Ok(()) };
    for (name, _) in store.metas_after(&prefix, Some(&last_kept), 10_000)? {
        store.remove_meta(&name)?;
    }
    Ok(())
}

/// The project's entries, newest first, from the first older than `before` (ms), at most
/// `limit`.
pub fn entries(store: &dyn Store, project: u32, before: Option<u64>, limit: usize) -> Result<Vec<Entry>, StoreError> {
    let prefix = prefix(project);
    let after = before.map(|before| format!("{prefix}{:016x}~", u64::MAX - before));
    Ok(store
        .metas_after(&prefix, after.as_deref(), limit)?
        .into_iter()
        .filter_map(|(_, value)| serde_json::from_slice(&value).ok())
        .collect())
}

/// Records off the request's path, on a blocking thread: a failure is logged, never the
/// request's.
pub fn record_later(store: Arc<dyn Store>, project: u32, entry: Entry) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = record(store.as_ref(), project, &entry) {
            tracing::warn!(error = %e, action = %entry.action, "writing the audit log failed");
        }
    });
}
