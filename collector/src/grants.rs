//! Capture grants: support asks for one user to be recorded in full, with the bodies of the
//! requests to some URLs, for a while ("record jane@acme.com with `/api/orders` bodies for
//! 24 h"), without a release of the customer's app.
//!
//! - A grant names a user (their id or email, as `identify` gives them), URL patterns (a URL
//!   matches a pattern it contains, as the SDK's `networkDetailUrls` strings do), and when it
//!   ends. A user has at most one grant: a new one replaces theirs. Grants live in the store's
//!   metadata and in memory here; they expire by themselves and can be revoked.
//! - The page learns of its grant in two ways. The SDK asks once the app says who the user is
//!   (`GET /v1/grant`, with the user's id and email hashed with the project's ingest key, so
//!   that a page in buffer mode, or one left out by sampling, still sends nobody's id in the
//!   clear); and every answer to a batch of a session whose user has a grant carries it
//!   (`x-sightline-grant`), so a grant made while the user is on the page applies within
//!   seconds.
//! - What the page gets is a token: the grant's id, user, URL patterns and end, signed with the
//!   collector's key. The SDK shows the grant's id and the token's signature back with its
//!   batches (a few dozen bytes, whatever the patterns); an answer tells it when the grant it
//!   holds was revoked, has ended, is not its session's user's, or was never this collector's.
//! - A grant records more of what the user does; it never unmasks inputs or page text, and
//!   recorded bodies are redacted and capped as any are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sightline_protocol::SessionId;

use crate::share::ShareKey;
use crate::store::{Store, StoreError};
use crate::summary::user_key;

/// Grants a project holds at once, at most.
pub const MAX_GRANTS: usize = 100;
/// URL patterns a grant names, at most, the bytes of each, and of all of them.
pub const MAX_URLS: usize = 20;
pub const MAX_URL_BYTES: usize = 300;
pub const MAX_URLS_BYTES: usize = 2_000;
/// Bytes of a user id or email a grant names, at most (what the user index keeps of one).
pub const MAX_USER_BYTES: usize = 256;
/// Sessions whose user this collector remembers for the answers to their batches; past it, the
/// memory starts over (a session is then looked up once more in its summary).
const REMEMBERED_SESSIONS: usize = 50_000;
/// How long a grant lasts unless asked otherwise, and at most, in hours.
pub const DEFAULT_HOURS: u64 = 24;
pub const MAX_HOURS: u64 = 7 * 24;
/// What every grant token starts with.
pub const PREFIX: &str = "slg_";
/// Where grants are kept among the store's metadata.
const META: &str = "grant/";
/// What a grant's signature covers before its payload, so that no other token this collector
/// signs with the same key can pass for one.
const DOMAIN: &[u8] = b"capture-grant\0";
const HOUR_MS: u64 = 3_600_000;

/// One grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    /// The user id or email it is for, as the user index holds them (emails lowercased).
    pub user: String,
    /// URL patterns whose requests are recorded with headers and bodies.
    pub network_urls: Vec<String>,
    /// When it was made and when it ends, ms since the epoch.
    pub created: u64,
    pub expires: u64,
    /// Who made it: the read token's name.
    pub by: String,
}

/// What the SDK reads of a token.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    id: String,
    user: String,
    urls: Vec<String>,
    expires: u64,
}

/// Why a grant can't be made or found.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such grant")]
    NotFound,
    #[error("a project holds at most {MAX_GRANTS} grants at once")]
    TooMany,
    #[error("a grant names a user id or email of 1 to 256 bytes")]
    BadUser,
    #[error(
        "a grant names at most {MAX_URLS} URL patterns of 1 to {MAX_URL_BYTES} bytes each, {MAX_URLS_BYTES} in all, \
         without control characters"
    )]
    BadUrls,
    #[error("a grant lasts from 1 to {MAX_HOURS} hours")]
    BadHours,
}

/// What a token the SDK shows back is worth now.
#[derive(Debug, PartialEq, Eq)]
pub enum Held {
    /// The grant stands.
    Standing,
    /// It was revoked, replaced or has ended, or this collector never signed it.
    Gone,
}

/// The grants of every project.
pub struct Grants {
    store: Arc<dyn Store>,
    key: ShareKey,
    by_project: RwLock<HashMap<u32, Vec<Grant>>>,
    /// Held while grants are written, so that the store is written outside `by_project`'s lock
    /// (every batch reads it) and two changes don't cross.
    writing: Mutex<()>,
    /// Each session's user (id, email) as this collector last saw it, by project and session.
    session_users: Mutex<HashMap<(u32, SessionId), SessionUser>>,
}

/// A session's user: their id and email, as the user index holds them.
pub type SessionUser = (Option<String>, Option<String>);

fn meta_name(project: u32, id: &str) -> String {
    format!("{META}{project:08x}/{id}")
}

/// The form a user takes in a grant: trimmed, an email lowercased, clipped as the index clips.
fn normalized_user(user: &str) -> String {
    let user = user.trim();
    if user.contains('@') {
        user_key(&user.to_lowercase())
    } else {
        user_key(user)
    }
}

/// The forms a session's user takes in grants: their id and email, normalized, when known.
fn forms(user: &SessionUser) -> Vec<String> {
    [&user.0, &user.1].into_iter().flatten().filter(|u| !u.is_empty()).map(|u| normalized_user(u)).collect()
}

/// What a batch naming `seen` makes of a session's user known as `known`, as the session's
/// summary folds it: the id replaced when one is named, the email when one is named, or dropped
/// when another person (another id) is named without one.
fn merged(known: &SessionUser, seen: &SessionUser) -> SessionUser {
    let id = seen.0.clone().filter(|id| !id.is_empty());
    let another = id.is_some() && known.0.is_some() && id != known.0;
    let email = match (&seen.1, another) {
        (Some(email), _) => Some(email.clone()),
        (None, true) => None,
        (None, false) => known.1.clone(),
    };
    (id.or_else(|| known.0.clone()), email)
}

/// What the SDK sends for a user when it asks for its grant: SHA-256 of the project's ingest
/// key, a NUL, and the user id or lowercased email, in hex.
pub fn user_hash(ingest_key: &str, user: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(ingest_key.as_bytes());
    hasher.update([0]);
    hasher.update(user.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Grants {
    /// The grants kept in `store` that have not ended; ended ones are removed.
    pub fn load(store: Arc<dyn Store>, key: ShareKey, now: u64) -> Result<Grants, StoreError> {
        let mut by_project: HashMap<u32, Vec<Grant>> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.metas_after(META, after.as_deref(), 1_000)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (name, value) in page {
                let project = name
                    .strip_prefix(META)
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                match (project, serde_json::from_slice::<Grant>(&value)) {
                    (Some(project), Ok(grant)) if grant.expires > now => {
                        by_project.entry(project).or_default().push(grant);
                    }
                    _ => store.remove_meta(&name)?,
                }
            }
        }
        Ok(Grants {
            store,
            key,
            by_project: RwLock::new(by_project),
            writing: Mutex::new(()),
            session_users: Mutex::new(HashMap::new()),
        })
    }

    /// Makes a grant for `user`, replacing theirs if they have one.
    pub fn create(
        &self,
        project: u32,
        user: &str,
        network_urls: Vec<String>,
        hours: Option<u64>,
        by: &str,
        now: u64,
    ) -> Result<Grant, GrantError> {
        if user.trim().is_empty() || user.trim().len() > MAX_USER_BYTES {
            return Err(GrantError::BadUser);
        }
        let user = normalized_user(user);
        let network_urls: Vec<String> = network_urls.iter().map(|u| u.trim().to_owned()).collect();
        let bad = |u: &String| u.is_empty() || u.len() > MAX_URL_BYTES || u.chars().any(char::is_control);
        if network_urls.len() > MAX_URLS
            || network_urls.iter().any(bad)
            || network_urls.iter().map(String::len).sum::<usize>() > MAX_URLS_BYTES
        {
            return Err(GrantError::BadUrls);
        }
        let hours = hours.unwrap_or(DEFAULT_HOURS);
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(GrantError::BadHours);
        }
        let grant = Grant {
            id: format!("{:016x}", crate::share::new_id()),
            user,
            network_urls,
            created: now,
            expires: now + hours * HOUR_MS,
            by: by.to_owned(),
        };
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let (kept, gone): (Vec<Grant>, Vec<Grant>) = self
            .by_project
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&project)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .partition(|g| g.expires > now && g.user != grant.user);
        if kept.len() >= MAX_GRANTS {
            return Err(GrantError::TooMany);
        }
        // The store first: what is in memory is never more than what a restart finds.
        self.store
            .set_meta(&meta_name(project, &grant.id), &serde_json::to_vec(&grant).expect("a grant serializes"))?;
        let mut grants = kept;
        grants.push(grant.clone());
        self.by_project.write().unwrap_or_else(|e| e.into_inner()).insert(project, grants);
        for ended in gone {
            self.store.remove_meta(&meta_name(project, &ended.id))?;
        }
        Ok(grant)
    }

    /// The project's grants that stand at `now`, newest first.
    pub fn list(&self, project: u32, now: u64) -> Vec<Grant> {
        let all = self.by_project.read().unwrap_or_else(|e| e.into_inner());
        let mut grants: Vec<Grant> =
            all.get(&project).map(|g| g.iter().filter(|g| g.expires > now).cloned().collect()).unwrap_or_default();
        grants.sort_by_key(|g| std::cmp::Reverse(g.created));
        grants
    }

    /// Revokes a grant; answers it.
    pub fn revoke(&self, project: u32, id: &str) -> Result<Grant, GrantError> {
        self.revoke_where(project, |g| g.id == id).pop().ok_or(GrantError::NotFound)?
    }

    /// Revokes the grant of a user (id or email) being erased, if they have one.
    pub fn revoke_user(&self, project: u32, user: &str) -> Result<Option<Grant>, GrantError> {
        let user = normalized_user(user);
        self.revoke_where(project, |g| g.user == user).pop().transpose()
    }

    /// Revokes the project's grants that `which` picks: each, or the failure to remove it.
    fn revoke_where(&self, project: u32, which: impl Fn(&Grant) -> bool) -> Vec<Result<Grant, GrantError>> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let picked: Vec<Grant> = self
            .by_project
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&project)
            .map(|g| g.iter().filter(|g| which(g)).cloned().collect())
            .unwrap_or_default();
        picked
            .into_iter()
            .map(|grant| {
                // The store first: a grant revoked is never found again after a restart.
                self.store.remove_meta(&meta_name(project, &grant.id))?;
                let mut all = self.by_project.write().unwrap_or_else(|e| e.into_inner());
                if let Some(grants) = all.get_mut(&project) {
                    grants.retain(|g| g.id != grant.id);
                }
                Ok(grant)
            })
            .collect()
    }

    /// Whether the project holds any grant at `now`: when it holds none, batches are answered
    /// without looking up their session's user.
    pub fn any(&self, project: u32, now: u64) -> bool {
        let all = self.by_project.read().unwrap_or_else(|e| e.into_inner());
        all.get(&project).is_some_and(|g| g.iter().any(|g| g.expires > now))
    }

    /// The grant standing for a session's user, known by their id and email.
    pub fn for_user(&self, project: u32, user: &SessionUser, now: u64) -> Option<Grant> {
        let forms = forms(user);
        let all = self.by_project.read().unwrap_or_else(|e| e.into_inner());
        all.get(&project)?.iter().find(|g| g.expires > now && forms.contains(&g.user)).cloned()
    }

    /// A batch of a session named its user: what this collector remembers of the session
    /// follows (a session it remembers nothing of is read from its summary when needed, which
    /// already holds the batch).
    pub fn observe(&self, project: u32, session: SessionId, seen: &SessionUser) {
        let mut users = self.session_users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = users.get_mut(&(project, session)) {
            *known = merged(known, seen);
        }
    }

    /// Forgets what this collector remembers of sessions (deleted ones).
    pub fn forget(&self, project: u32, sessions: &[SessionId]) {
        let mut users = self.session_users.lock().unwrap_or_else(|e| e.into_inner());
        for session in sessions {
            users.remove(&(project, *session));
        }
    }

    /// A session's user as this collector remembers them, else as its summary (`read`) says,
    /// remembered from then on.
    pub fn session_user(&self, project: u32, session: SessionId, read: impl FnOnce() -> SessionUser) -> SessionUser {
        let remembered = self.session_users.lock().unwrap_or_else(|e| e.into_inner()).get(&(project, session)).cloned();
        remembered.unwrap_or_else(|| {
            let user = read();
            let mut users = self.session_users.lock().unwrap_or_else(|e| e.into_inner());
            if users.len() >= REMEMBERED_SESSIONS {
                users.clear();
            }
            // A batch stored meanwhile may have been remembered already: it is newer.
            users.entry((project, session)).or_insert(user).clone()
        })
    }

    /// The grant standing for the user whose hashed id or email (see [`user_hash`]) a page sent.
    pub fn for_hashes(&self, project: u32, ingest_key: &str, hashes: &[&str], now: u64) -> Option<Grant> {
        let all = self.by_project.read().unwrap_or_else(|e| e.into_inner());
        all.get(&project)?
            .iter()
            .find(|g| g.expires > now && hashes.contains(&user_hash(ingest_key, &g.user).as_str()))
            .cloned()
    }

    /// The payload of `grant`'s token (base64url JSON, what the SDK reads) and its signature.
    fn signed(&self, grant: &Grant) -> (String, String) {
        let payload = Payload {
            id: grant.id.clone(),
            user: grant.user.clone(),
            urls: grant.network_urls.clone(),
            expires: grant.expires,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("a payload serializes"));
        let signature = URL_SAFE_NO_PAD.encode(self.key.mac(DOMAIN, payload.as_bytes()));
        (payload, signature)
    }

    /// The token a page gets for `grant`: `slg_{payload}.{signature}`, both base64url.
    pub fn token(&self, grant: &Grant) -> String {
        self.issued(grant).0
    }

    /// `grant`'s token, and what a page holding it shows back (see [`Grants::shown`]), signed
    /// once.
    pub fn issued(&self, grant: &Grant) -> (String, String) {
        let (payload, signature) = self.signed(grant);
        (format!("{PREFIX}{payload}.{signature}"), format!("{}.{signature}", grant.id))
    }

    /// What a page shows back of the token it holds: the grant's id and the token's signature,
    /// `{id}.{signature}`.
    pub fn shown(token: &str) -> Option<String> {
        let (payload, signature) = token.strip_prefix(PREFIX)?.split_once('.')?;
        let payload: Payload = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        Some(format!("{}.{signature}", payload.id))
    }

    /// What the grant a page shows back (see [`Grants::shown`]) is worth at `now`, for a
    /// session of `project` whose user is `user`: standing only if this collector signed that
    /// token for a grant that stands, and the grant is the user's (a session whose user is not
    /// known yet keeps it).
    pub fn held(&self, project: u32, shown: &str, user: &SessionUser, now: u64) -> Held {
        let Some((id, signature)) = shown.split_once('.') else { return Held::Gone };
        let grant = {
            let all = self.by_project.read().unwrap_or_else(|e| e.into_inner());
            all.get(&project).and_then(|g| g.iter().find(|g| g.id == id && g.expires > now).cloned())
        };
        let Some(grant) = grant else { return Held::Gone };
        let (payload, _) = self.signed(&grant);
        let signed = URL_SAFE_NO_PAD.decode(signature).is_ok_and(|s| self.key.verify(DOMAIN, payload.as_bytes(), &s));
        let forms = forms(user);
        if signed && (forms.is_empty() || forms.contains(&grant.user)) {
            Held::Standing
        } else {
            Held::Gone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn user(id: &str, email: &str) -> SessionUser {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        (some(id), some(email))
    }

    fn shown(grants: &Grants, grant: &Grant) -> String {
        Grants::shown(&grants.token(grant)).unwrap()
    }

    fn grants() -> (tempfile::TempDir, Grants) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let key = ShareKey::load(store.as_ref()).unwrap();
        let grants = Grants::load(store, key, 0).unwrap();
        (dir, grants)
    }

    #[test]
    fn a_grant_stands_for_its_user_until_it_ends_or_is_revoked() {
        let (_dir, grants) = grants();
        let grant = grants.create(1, " Jane@Acme.com ", vec!["/api/".into()], Some(2), "support", 1_000).unwrap();
        assert_eq!(grant.user, "jane@acme.com");
        assert_eq!(grant.expires, 1_000 + 2 * HOUR_MS);
        let jane = user("u_1", "jane@acme.com");
        assert_eq!(grants.for_user(1, &jane, 2_000).map(|g| g.id), Some(grant.id.clone()));
        assert_eq!(grants.for_user(1, &user("Jane@Acme.com", ""), 2_000).map(|g| g.id), Some(grant.id.clone()));
        assert!(grants.for_user(1, &user("u_2", "bob@acme.com"), 2_000).is_none());
        assert!(grants.for_user(2, &jane, 2_000).is_none(), "another project's user");
        assert!(grants.for_user(1, &jane, grant.expires).is_none(), "ended");
        assert!(grants.any(1, 2_000));
        assert!(!grants.any(1, grant.expires));

        let shown = shown(&grants, &grant);
        assert!(shown.len() < 70, "a page shows back a few dozen bytes: {shown}");
        assert_eq!(grants.held(1, &shown, &jane, 2_000), Held::Standing);
        assert_eq!(grants.held(1, &shown, &user("", ""), 2_000), Held::Standing, "a session not named yet");
        assert_eq!(grants.held(1, &shown, &user("u_2", "bob@acme.com"), 2_000), Held::Gone, "another user's session");
        assert_eq!(grants.held(2, &shown, &jane, 2_000), Held::Gone);
        grants.revoke(1, &grant.id).unwrap();
        assert_eq!(grants.held(1, &shown, &jane, 2_000), Held::Gone);
        assert!(grants.for_user(1, &jane, 2_000).is_none());
        assert!(matches!(grants.revoke(1, &grant.id), Err(GrantError::NotFound)));
    }

    #[test]
    fn a_token_is_signed_and_carries_what_the_sdk_reads() {
        let (_dir, grants) = grants();
        let grant = grants.create(1, "u_7", vec!["/api/orders".into()], None, "support", 0).unwrap();
        let token = grants.token(&grant);
        let (payload, _) = token.strip_prefix(PREFIX).unwrap().split_once('.').unwrap();
        let payload: Payload = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            payload,
            Payload {
                id: grant.id.clone(),
                user: "u_7".into(),
                urls: vec!["/api/orders".into()],
                expires: grant.expires
            }
        );

        // A grant's id with a signature this collector did not make is not one.
        let nobody = user("", "");
        let signature = token.rsplit_once('.').unwrap().1;
        assert_eq!(grants.held(1, &format!("{}.{signature}", grant.id), &nobody, 1), Held::Standing);
        let forged = format!("{}.{}", grant.id, URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert_eq!(grants.held(1, &forged, &nobody, 1), Held::Gone);
        assert_eq!(grants.held(1, &grant.id, &nobody, 1), Held::Gone);
        assert_eq!(grants.held(1, "garbage", &nobody, 1), Held::Gone);
        assert_eq!(Grants::shown("garbage"), None);
    }

    #[test]
    fn a_new_grant_replaces_the_users_and_bad_ones_are_refused() {
        let (_dir, grants) = grants();
        let first = grants.create(1, "u_1", vec![], None, "a", 0).unwrap();
        let second = grants.create(1, "u_1", vec!["/x".into()], None, "b", 10).unwrap();
        assert_eq!(grants.list(1, 20).iter().map(|g| &g.id).collect::<Vec<_>>(), [&second.id]);
        assert_eq!(grants.held(1, &shown(&grants, &first), &user("u_1", ""), 20), Held::Gone);
        assert!(grants.revoke_user(1, "U_1").unwrap().is_none(), "ids are kept as they are");
        assert_eq!(grants.revoke_user(1, "u_1").unwrap().map(|g| g.id), Some(second.id.clone()));
        assert!(grants.list(1, 20).is_empty());

        assert!(matches!(grants.create(1, "  ", vec![], None, "a", 0), Err(GrantError::BadUser)));
        assert!(matches!(grants.create(1, "u", vec!["".into()], None, "a", 0), Err(GrantError::BadUrls)));
        assert!(matches!(grants.create(1, "u", vec!["/a\u{0}b".into()], None, "a", 0), Err(GrantError::BadUrls)));
        assert!(matches!(grants.create(1, "u", vec!["/".repeat(200); 11], None, "a", 0), Err(GrantError::BadUrls)));
        assert!(matches!(grants.create(1, &"u".repeat(257), vec![], None, "a", 0), Err(GrantError::BadUser)));
        assert!(matches!(grants.create(1, "u", vec!["x".repeat(301)], None, "a", 0), Err(GrantError::BadUrls)));
        assert!(matches!(grants.create(1, "u", vec!["/".into(); 21], None, "a", 0), Err(GrantError::BadUrls)));
        assert!(matches!(grants.create(1, "u", vec![], Some(0), "a", 0), Err(GrantError::BadHours)));
        assert!(matches!(grants.create(1, "u", vec![], Some(MAX_HOURS + 1), "a", 0), Err(GrantError::BadHours)));
        for n in 0..MAX_GRANTS {
            grants.create(1, &format!("user {n}"), vec![], None, "a", 100).unwrap();
        }
        assert!(matches!(grants.create(1, "one more", vec![], None, "a", 100), Err(GrantError::TooMany)));
        // Ended grants make room.
        assert!(grants.create(1, "one more", vec![], None, "a", 100 + MAX_HOURS * HOUR_MS).is_ok());
    }

    #[test]
    fn grants_outlive_a_restart_and_ended_ones_are_dropped_then() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let key = ShareKey::load(store.as_ref()).unwrap();
        let grants = Grants::load(store.clone(), key.clone(), 0).unwrap();
        let short = grants.create(3, "u_short", vec![], Some(1), "a", 0).unwrap();
        let long = grants.create(3, "u_long", vec!["/api".into()], Some(48), "a", 0).unwrap();
        let shown = shown(&grants, &long);
        drop(grants);

        let again = Grants::load(store.clone(), key, short.expires).unwrap();
        assert_eq!(again.list(3, short.expires), vec![long]);
        assert_eq!(again.held(3, &shown, &user("u_long", ""), short.expires), Held::Standing);
        assert!(store.metas(META, 10).unwrap().len() == 1, "the ended grant left the store");
    }

    #[test]
    fn a_sessions_user_follows_its_batches_as_its_summary_does() {
        let jane = user("u_jane", "jane@acme.com");
        assert_eq!(merged(&jane, &user("u_jane", "")), jane, "named by id alone, her email stays");
        assert_eq!(merged(&jane, &user("", "j@acme.com")), user("u_jane", "j@acme.com"));
        assert_eq!(merged(&jane, &user("u_bob", "")), user("u_bob", ""), "another person: not her email");
        assert_eq!(merged(&user("", ""), &user("u_bob", "bob@acme.com")), user("u_bob", "bob@acme.com"));

        let (_dir, grants) = grants();
        let session = SessionId([7; 16]);
        assert_eq!(grants.session_user(1, session, || jane.clone()), jane);
        grants.observe(1, session, &user("u_jane", ""));
        assert_eq!(grants.session_user(1, session, || unreachable!("remembered")), jane);
        grants.observe(1, session, &user("u_bob", ""));
        assert_eq!(grants.session_user(1, session, || unreachable!("remembered")), user("u_bob", ""));
        grants.forget(1, &[session]);
        assert_eq!(grants.session_user(1, session, || jane.clone()), jane, "read again once forgotten");
    }

    #[test]
    fn a_page_finds_its_grant_by_hashed_user() {
        let (_dir, grants) = grants();
        let grant = grants.create(1, "Jane@Acme.com", vec![], None, "a", 0).unwrap();
        let hash = user_hash("slk_key", "jane@acme.com");
        assert_eq!(hash.len(), 64);
        assert_eq!(grants.for_hashes(1, "slk_key", &[&hash], 1).map(|g| g.id), Some(grant.id));
        assert!(grants.for_hashes(1, "slk_other", &[&hash], 1).is_none(), "hashed with another key");
        assert!(grants.for_hashes(1, "slk_key", &[&user_hash("slk_key", "bob@acme.com")], 1).is_none());
    }
}
