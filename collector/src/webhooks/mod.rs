//! Outgoing webhooks: when a session has new problems, or its user reports one in their own
//! words, its digest goes to the URLs the project named, so a ticket, a chat channel or an
//! automation gets the story without anyone opening the viewer.
//!
//! - A project's hooks come from its configuration (`[[projects.webhooks]]`) or from the API
//!   (`POST /api/webhooks`, which makes the secret and checks the destination, see
//!   [`destination`]).
//! - A session's analysis ([`crate::analyzer`]) hands over its digest. Problems not sent before
//!   (a JS error, a failed request, an error or rage click) are queued for each hook that takes
//!   `problem`; a session is sent at most once per `debounce_ms`, and what it adds meanwhile
//!   joins the delivery already queued. A user's report goes to hooks that take `feedback`, at
//!   once.
//! - The body is JSON: the new problems, the whole digest, its Markdown, and `text`, a short
//!   Markdown message that chat tools' incoming webhooks show as it is. It is signed as Standard
//!   Webhooks has it ([`sign`]).
//! - The queue, the hooks made by API, what each session was sent and the delivery log (the
//!   last [`LOG_KEPT`] per hook) live in the store's metadata, so a restart loses no queued
//!   delivery. [`dispatch`] sends what is due and retries failures with backoff.

pub mod destination;
pub mod dispatch;
pub mod sign;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use sightline_protocol::SessionId;

use crate::config::{WebhookConfig, WebhooksConfig};
use crate::digest::{chat_text, to_markdown, Digest, ProblemKind};
use crate::projects::Projects;
use crate::store::{Store, StoreError};

pub use destination::DestinationError;

/// Hooks a project may create through the API.
pub const MAX_HOOKS: usize = 20;
/// Deliveries kept in each hook's log.
pub const LOG_KEPT: usize = 100;
/// Sessions whose records of what was sent are checked at once for deletion, at most.
pub const SEEN_CHECKED: usize = 1_000;
/// Problems of a session remembered as sent, at most.
const SEEN_KEPT: usize = 500;
/// New problems listed in a delivery at most (the digest holds them all).
const NEW_LISTED: usize = 20;

/// What a hook is sent.
pub const EVENTS: [&str; 2] = ["problem", "feedback"];

/// Problems that make a delivery: what a support team acts on. The others (a console error, a
/// slow request, a dead click) are in the digest the delivery carries.
const SENT_KINDS: [ProblemKind; 4] =
    [ProblemKind::JsError, ProblemKind::FailedRequest, ProblemKind::ErrorClick, ProblemKind::RageClick];

/// Why a hook can't be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Destination(#[from] DestinationError),
    #[error("unknown event {0:?}: events are `problem` and `feedback`")]
    UnknownEvent(String),
    #[error("a project has at most {MAX_HOOKS} webhooks made through the API")]
    TooMany,
    #[error("no such webhook")]
    NotFound,
    #[error("this webhook is in the collector's configuration; change it there")]
    Configured,
    #[error(
        "a webhook's secret is `whsec_` and the base64 of at least 16 bytes, or other text of 16 characters or more"
    )]
    WeakSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A hook, as stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    /// `wh_` and 16 hex digits.
    pub id: String,
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    secret: String,
    pub events: Vec<String>,
    /// `config` or `api`.
    pub source: String,
    /// When it was made, ms since the epoch (0 for a configured one).
    pub created: u64,
    /// Sessions not sent in the last hour, past `max_per_hour` (shown by the API, never stored).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub held_back: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the secret nor the URL's path (a chat tool's incoming-webhook URL is itself a
        // credential) goes in a log line.
        f.debug_struct("Hook").field("id", &self.id).field("url", &shown_url(&self.url)).finish_non_exhaustive()
    }
}

impl Hook {
    fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    /// The hook as the API shows it: never its secret, and its URL's path cut short.
    pub fn public(&self) -> Hook {
        Hook { secret: String::new(), url: shown_url(&self.url), ..self.clone() }
    }
}

/// A hook's URL as shown to every holder of a read token: its scheme, host and the start of
/// its path. Chat tools' incoming-webhook URLs carry their credential in the path.
fn shown_url(url: &str) -> String {
    let Ok(uri) = url.parse::<http::Uri>() else { return "…".into() };
    let path = uri.path();
    let start: String = path.chars().take(12).collect();
    let more = if path.chars().count() > 12 { "…" } else { "" };
    format!("{}://{}{start}{more}", uri.scheme_str().unwrap_or("https"), uri.authority().map_or("", |a| a.as_str()))
}

/// A delivery waiting to be sent, or to be tried again. Its body is kept apart (see
/// [`body_name`]), so that the dispatcher reads the queue without reading every body.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The `webhook-id`: the same on every try of the same body, so a receiver drops repeats.
    delivery: String,
    /// `session.problems`, `session.feedback`, `ping`.
    event: String,
    session: Option<String>,
    /// When it is due, ms since the epoch.
    due: u64,
    /// Tries started. A delivery takes what newer analyses add only before its first try: once
    /// tried, its body is what its id stands for.
    attempts: u32,
    /// The problems it carries, by [`Sent::key`].
    #[serde(default)]
    keys: Vec<String>,
}

/// One try of a delivery, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub delivery: String,
    pub event: String,
    pub session: Option<String>,
    /// When it was tried, ms since the epoch.
    pub time: u64,
    /// Which try (1 for the first).
    pub attempt: u32,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// `delivered`, `retrying` or `failed` (given up).
    pub outcome: String,
    /// When it is tried next, if it will be.
    pub next_try: Option<u64>,
}

/// What a session was sent.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Seen {
    problems: Vec<String>,
    /// When its last delivery was queued, ms since the epoch.
    last_queued: u64,
}

/// The project's webhooks and their deliveries.
pub struct Webhooks {
    store: Arc<dyn Store>,
    projects: Arc<Projects>,
    config: WebhooksConfig,
    /// The viewer's base URL for the links deliveries carry: the configured public URL, else
    /// this collector's address once it listens.
    link_base: OnceLock<String>,
    /// Held while a queued delivery is read and written back, by the analyzer queueing and
    /// the dispatcher ending a try, so neither loses what the other wrote.
    queue_lock: Mutex<()>,
    /// Each hook's budget of sessions sent per hour, by project and hook id.
    budgets: Mutex<HashMap<(u32, String), Budget>>,
}

/// What a hook may still be sent: `max_per_hour` sessions, refilled evenly over the hour, and
/// how many sessions it was not sent since its last delivery.
struct Budget {
    left: f64,
    at: u64,
    held_back: u64,
}

fn project_key(project: u32) -> String {
    format!("{project:08x}")
}

fn hook_name(project: u32, id: &str) -> String {
    format!("webhook/hook/{}/{id}", project_key(project))
}

fn pending_name(project: u32, hook: &str, subject: &str) -> String {
    format!("webhook/out/{}/{hook}/{subject}", project_key(project))
}

fn body_name(delivery: &str) -> String {
    format!("webhook/body/{delivery}")
}

fn log_prefix(project: u32, hook: &str) -> String {
    format!("webhook/log/{}/{hook}/", project_key(project))
}

fn seen_name(project: u32, session: SessionId) -> String {
    format!("webhook/seen/{}/{session}", project_key(project))
}

/// A configured hook's id: the same at every start, from its URL.
fn configured_id(url: &str) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(url.as_bytes());
    format!("wh_{}", hash[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", crate::share::new_id())
}

/// Checks a configured hook: its URL's form and its events.
pub fn check_config(hook: &WebhookConfig) -> Result<(), HookError> {
    destination::host_of(&hook.url)?;
    check_events(&hook.events)?;
    if !sign::is_strong(&hook.secret) {
        return Err(HookError::WeakSecret);
    }
    Ok(())
}

fn check_events(events: &[String]) -> Result<(), HookError> {
    match events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        Some(unknown) => Err(HookError::UnknownEvent(unknown.clone())),
        None => Ok(()),
    }
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, projects: Arc<Projects>, config: WebhooksConfig) -> Webhooks {
        Webhooks {
            store,
            projects,
            config,
            link_base: OnceLock::new(),
            queue_lock: Mutex::new(()),
            budgets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one session's delivery from the hook's budget at `now`: `Ok` with how many
    /// sessions were held back before it (the delivery says so), or `Err` when none is left.
    fn spend(&self, project: u32, hook: &str, now: u64) -> Result<u64, ()> {
        let max = f64::from(self.config.max_per_hour.max(1));
        let mut budgets = self.budgets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let budget = budgets.entry((project, hook.to_owned())).or_insert(Budget { left: max, at: now, held_back: 0 });
        budget.left = (budget.left + now.saturating_sub(budget.at) as f64 * max / 3_600_000.0).min(max);
        budget.at = budget.at.max(now);
        if budget.left >= 1.0 {
            budget.left -= 1.0;
            Ok(std::mem::take(&mut budget.held_back))
        } else {
            budget.held_back += 1;
            Err(())
        }
    }

    /// Sessions the hook was not sent since its last delivery, past its budget.
    pub fn held_back(&self, project: u32, hook: &str) -> u64 {
        let budgets = self.budgets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        budgets.get(&(project, hook.to_owned())).map_or(0, |b| b.held_back)
    }

    /// Sets the base URL of the links deliveries carry (once; later calls change nothing).
    pub fn set_link_base(&self, base: &str) {
        let _ = self.link_base.set(base.trim_end_matches('/').to_owned());
    }

    /// The base URL of the links deliveries carry.
    pub fn link_base(&self) -> &str {
        self.link_base.get().map_or("", String::as_str)
    }

    /// The delivery settings.
    pub fn config(&self) -> &WebhooksConfig {
        &self.config
    }

    /// The project's hooks: the configured ones, then those made through the API.
    pub fn hooks(&self, project: u32) -> Result<Vec<Hook>, StoreError> {
        let mut hooks: Vec<Hook> = self
            .projects
            .by_id(project)
            .map(|p| p.config.webhooks.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|c| Hook {
                id: configured_id(&c.url),
                url: c.url,
                secret: c.secret,
                events: c.events,
                source: "config".into(),
                created: 0,
                held_back: 0,
            })
            .collect();
        for (_, value) in self.store.metas(&format!("webhook/hook/{}/", project_key(project)), MAX_HOOKS * 2)? {
            if let Ok(hook) = serde_json::from_slice::<Hook>(&value) {
                hooks.push(hook);
            }
        }
        Ok(hooks)
    }

    /// One of the project's hooks.
    pub fn hook(&self, project: u32, id: &str) -> Result<Hook, HookError> {
        self.hooks(project)?.into_iter().find(|h| h.id == id).ok_or(HookError::NotFound)
    }

    /// Makes a hook; the answer holds its secret, shown this once.
    pub fn create(&self, project: u32, url: &str, events: Vec<String>, now: u64) -> Result<Hook, HookError> {
        check_events(&events)?;
        if self.config.allow_private_destinations {
            destination::host_of(url)?;
        } else {
            destination::check_public(url)?;
        }
        if self.hooks(project)?.iter().filter(|h| h.source == "api").count() >= MAX_HOOKS {
            return Err(HookError::TooMany);
        }
        let hook = Hook {
            id: random_id("wh_"),
            url: url.to_owned(),
            secret: sign::new_secret(),
            events: if events.is_empty() { EVENTS.map(str::to_owned).to_vec() } else { events },
            source: "api".into(),
            created: now,
            held_back: 0,
        };
        let json = serde_json::to_vec(&hook).expect("a hook serializes");
        self.store.set_meta(&hook_name(project, &hook.id), &json)?;
        Ok(hook)
    }

    /// The secret a new hook was made with (the API's answer to its creation).
    pub fn secret_of(hook: &Hook) -> &str {
        &hook.secret
    }

    /// Removes a hook made through the API, with its queue and log.
    pub fn remove(&self, project: u32, id: &str) -> Result<(), HookError> {
        let hook = self.hook(project, id)?;
        if hook.source != "api" {
            return Err(HookError::Configured);
        }
        let _queue = self.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.store.remove_meta(&hook_name(project, id))?;
        let queued = format!("webhook/out/{}/{id}/", project_key(project));
        loop {
            let entries = self.store.metas(&queued, 1_000)?;
            if entries.is_empty() {
                break;
            }
            for (name, value) in entries {
                if let Ok(pending) = serde_json::from_slice::<Pending>(&value) {
                    self.store.remove_meta(&body_name(&pending.delivery))?;
                }
                self.store.remove_meta(&name)?;
            }
        }
        for prefix in [log_prefix(project, id)] {
            loop {
                let names = self.store.metas(&prefix, 1_000)?;
                if names.is_empty() {
                    break;
                }
                for (name, _) in names {
                    self.store.remove_meta(&name)?;
                }
            }
        }
        Ok(())
    }

    /// Forgets what was sent of sessions that are gone (deleted, erased, expired), looking at
    /// [`SEEN_CHECKED`] records from `after` (a record's name); returns where to go on from,
    /// `None` once all were looked at.
    pub fn forget_gone(&self, after: Option<String>) -> Result<Option<String>, StoreError> {
        let slice = self.store.metas_after("webhook/seen/", after.as_deref(), SEEN_CHECKED)?;
        for (name, _) in &slice {
            // `webhook/seen/{project}/{session}`
            let mut parts = name.splitn(4, '/').skip(2);
            let (Some(project), Some(session)) = (parts.next(), parts.next()) else { continue };
            let (Ok(project), Ok(session)) = (u32::from_str_radix(project, 16), session.parse::<SessionId>()) else {
                continue;
            };
            if self.store.summary(project, session)?.is_none() {
                self.store.remove_meta(name)?;
            }
        }
        Ok(slice.last().map(|(name, _)| name.clone()).filter(|_| slice.len() == SEEN_CHECKED))
    }

    /// The hook's last deliveries, newest first.
    pub fn deliveries(&self, project: u32, id: &str, limit: usize) -> Result<Vec<Delivery>, HookError> {
        self.hook(project, id)?;
        Ok(self
            .store
            .metas(&log_prefix(project, id), limit.min(LOG_KEPT))?
            .into_iter()
            .filter_map(|(_, value)| serde_json::from_slice(&value).ok())
            .collect())
    }

    /// Queues a `ping` for the hook now: what an operator sends to see the receiver answer.
    pub fn ping(&self, project: u32, id: &str, now: u64) -> Result<String, HookError> {
        let hook = self.hook(project, id)?;
        let delivery = random_id("msg_");
        let body = serde_json::json!({
            "type": "ping",
            "delivery": delivery,
            "timestamp": now,
            "project": self.project_name(project),
            "text": "Sightline can reach this webhook.",
        });
        let pending = Pending {
            delivery: delivery.clone(),
            event: "ping".into(),
            session: None,
            due: now,
            attempts: 0,
            keys: Vec::new(),
        };
        // One test at a time per hook: a new one replaces one not yet tried.
        let _queue = self.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = pending_name(project, &hook.id, "ping");
        if let Some(waiting) = self.store.meta(&name)?.and_then(|json| serde_json::from_slice::<Pending>(&json).ok()) {
            if waiting.attempts > 0 {
                return Ok(waiting.delivery);
            }
            self.store.remove_meta(&body_name(&waiting.delivery))?;
        }
        self.queue(&name, &pending, &body.to_string())?;
        Ok(delivery)
    }

    fn project_name(&self, project: u32) -> String {
        self.projects.by_id(project).map(|p| p.config.name.clone()).unwrap_or_default()
    }

    /// Writes a delivery to the queue under `name`, its body first.
    fn queue(&self, name: &str, pending: &Pending, body: &str) -> Result<(), StoreError> {
        self.store.set_meta(&body_name(&pending.delivery), body.as_bytes())?;
        self.store.set_meta(name, &serde_json::to_vec(pending).expect("a delivery serializes"))
    }

    /// A session's digest after an analysis: its problems and reports not sent before are
    /// queued for every hook that takes them (`problem`, `feedback`). Returns how many hooks
    /// they were queued for.
    pub fn session_analysed(
        &self,
        project: u32,
        session: SessionId,
        digest: &Digest,
        now: u64,
    ) -> Result<usize, StoreError> {
        let hooks: Vec<Hook> =
            self.hooks(project)?.into_iter().filter(|h| h.wants("problem") || h.wants("feedback")).collect();
        if hooks.is_empty() {
            return Ok(0);
        }
        let mut seen: Seen = match self.store.meta(&seen_name(project, session))? {
            Some(json) => serde_json::from_slice(&json).unwrap_or_default(),
            None => Seen::default(),
        };
        let sent: Vec<Sent<'_>> = sent_problems(digest);
        let known: HashSet<&str> = seen.problems.iter().map(String::as_str).collect();
        let new: Vec<&Sent<'_>> = sent.iter().filter(|p| !known.contains(p.key.as_str())).collect();
        if new.is_empty() {
            return Ok(0);
        }
        let debounced = now.max(seen.last_queued.saturating_add(self.config.debounce_ms));
        let project_name = self.project_name(project);
        let _queue = self.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut queued = 0;
        for hook in &hooks {
            let takes = |p: &Sent<'_>| hook.wants(if p.kind == ProblemKind::Feedback { "feedback" } else { "problem" });
            // A delivery for the session not yet tried takes what is new; else a new one goes.
            let prefix = pending_name(project, &hook.id, &format!("session-{session}-"));
            let waiting = self
                .store
                .metas(&prefix, 100)?
                .into_iter()
                .filter_map(|(name, json)| Some((name, serde_json::from_slice::<Pending>(&json).ok()?)))
                .find(|(_, pending)| pending.attempts == 0);
            let mut keys: HashSet<String> =
                waiting.as_ref().map(|(_, w)| w.keys.iter().cloned().collect()).unwrap_or_default();
            let before = keys.len();
            keys.extend(new.iter().filter(|p| takes(p)).map(|p| p.key.clone()));
            if keys.len() == before {
                continue;
            }
            let listed: Vec<&Sent<'_>> = sent.iter().filter(|p| keys.contains(&p.key)).collect();
            let reported = listed.iter().any(|p| p.kind == ProblemKind::Feedback);
            // A report goes now; problems wait out the debounce.
            let due = if reported { now } else { debounced };
            let mut held_back = 0;
            let (name, pending) = match waiting {
                Some((name, waiting)) => {
                    let due = waiting.due.min(due);
                    (
                        name,
                        Pending { due, event: event_of(reported).into(), keys: keys.into_iter().collect(), ..waiting },
                    )
                }
                None => {
                    // A new delivery spends the hook's budget; past it, what is new is
                    // remembered as seen and counted, not sent.
                    match self.spend(project, &hook.id, now) {
                        Ok(before) => held_back = before,
                        Err(()) => continue,
                    }
                    let delivery = random_id("msg_");
                    let name = format!("{prefix}{delivery}");
                    let pending = Pending {
                        delivery,
                        event: event_of(reported).into(),
                        session: Some(session.to_string()),
                        due,
                        attempts: 0,
                        keys: keys.into_iter().collect(),
                    };
                    (name, pending)
                }
            };
            let body = problems_body(&project_name, digest, &listed, reported, held_back, now).to_string();
            self.queue(&name, &pending, &body)?;
            queued += 1;
        }
        seen.problems.extend(new.iter().map(|p| p.key.clone()));
        let excess = seen.problems.len().saturating_sub(SEEN_KEPT);
        seen.problems.drain(..excess);
        seen.last_queued = debounced;
        self.store.set_meta(&seen_name(project, session), &serde_json::to_vec(&seen).expect("serializes"))?;
        Ok(queued)
    }
}

fn kind_name(kind: ProblemKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A problem as deliveries carry it.
struct Sent<'a> {
    /// `{kind}@{time}`: what a session was sent is remembered by it.
    key: String,
    kind: ProblemKind,
    time: u64,
    summary: &'a str,
    link: &'a str,
}

/// The digest's problems that deliveries carry, listed or related, in its order.
fn sent_problems(digest: &Digest) -> Vec<Sent<'_>> {
    let mut sent = Vec::new();
    for problem in &digest.problems {
        let own = std::iter::once((problem.kind, problem.time, problem.summary.as_str(), problem.link.as_str()));
        let related = problem.related.iter().map(|r| (r.kind, r.time, r.summary.as_str(), r.link.as_str()));
        for (kind, time, summary, link) in own.chain(related) {
            if SENT_KINDS.contains(&kind) || kind == ProblemKind::Feedback {
                sent.push(Sent { key: format!("{}@{time}", kind_name(kind)), kind, time, summary, link });
            }
        }
    }
    sent
}

fn event_of(reported: bool) -> &'static str {
    if reported {
        "session.feedback"
    } else {
        "session.problems"
    }
}

/// The body of a `session.problems` or `session.feedback` delivery.
fn problems_body(
    project: &str,
    digest: &Digest,
    new: &[&Sent<'_>],
    reported: bool,
    held_back: u64,
    now: u64,
) -> serde_json::Value {
    let listed: Vec<_> = new
        .iter()
        .take(NEW_LISTED)
        .map(|p| serde_json::json!({ "kind": p.kind, "time": p.time, "summary": p.summary, "link": p.link }))
        .collect();
    // Everything recorded is escaped: a report, an error message or a user id is whatever the
    // page (or anyone holding its key) sent.
    let who =
        digest.who.email.as_deref().or(digest.who.user_id.as_deref()).map_or("an anonymous user".into(), chat_text);
    let mut text = if reported {
        format!("**{who} reported a problem**")
    } else {
        format!("**{}** new problem{} in the session of {who}", new.len(), if new.len() == 1 { "" } else { "s" })
    };
    if let Some(headline) = &digest.headline {
        text.push_str(&format!(": {}", chat_text(headline)));
    }
    for p in new.iter().take(5) {
        text.push_str(&format!("\n- {} ([open]({}))", chat_text(p.summary), p.link));
    }
    if new.len() > 5 {
        text.push_str(&format!("\n- and {} more", new.len() - 5));
    }
    text.push_str(&format!("\n[The session in Sightline]({})", digest.link));
    if held_back > 0 {
        text.push_str(&format!(
            "\n_{held_back} more session{} with problems not sent: this webhook's hourly limit_",
            if held_back == 1 { "" } else { "s" }
        ));
    }
    let mut body = serde_json::json!({
        "type": event_of(reported),
        "timestamp": now,
        "project": project,
        "session": digest.session,
        "link": digest.link,
        "headline": digest.headline,
        "new_problems": listed,
        "text": text,
        "digest": digest,
        "markdown": to_markdown(digest),
    });
    if held_back > 0 {
        body["held_back"] = held_back.into();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[test]
    fn a_hooks_budget_refills_over_the_hour_and_the_next_delivery_counts_what_was_held_back() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let config = WebhooksConfig { max_per_hour: 2, ..WebhooksConfig::default() };
        let hooks = Webhooks::new(store, Arc::new(Projects::new(Vec::new())), config);
        assert_eq!(hooks.spend(1, "wh_a", 0), Ok(0));
        assert_eq!(hooks.spend(1, "wh_a", 0), Ok(0));
        assert_eq!(hooks.spend(1, "wh_a", 0), Err(()));
        assert_eq!(hooks.spend(1, "wh_b", 0), Ok(0), "each hook has its own");
        assert_eq!(hooks.spend(1, "wh_a", 1_000), Err(()));
        assert_eq!(hooks.held_back(1, "wh_a"), 2);
        // Half an hour gives back one.
        assert_eq!(hooks.spend(1, "wh_a", 1_800_000), Ok(2));
        assert_eq!(hooks.held_back(1, "wh_a"), 0);
        assert_eq!(hooks.spend(1, "wh_a", 1_800_000), Err(()));
        // A clock that goes back takes nothing.
        assert_eq!(hooks.spend(1, "wh_a", 0), Err(()));
    }
}
