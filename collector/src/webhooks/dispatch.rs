//! The thread that sends what is due: each queued delivery POSTed, signed, to its hook's URL;
//! a 2xx answer ends it, anything else (another status, no answer in time, a refused
//! connection) tries it again later, each wait five times the last, an hour at most, until
//! `max_attempts`. Every try goes to the hook's delivery log.
//!
//! Deliveries go one at a time: a receiver that hangs holds the others back by `timeout_ms`
//! once per pass (a hook that failed is not tried again in the same pass).

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::collections::HashSet;

use sightline_protocol::SessionId;

use super::{body_name, destination, log_prefix, sign, Delivery, Hook, Pending, Webhooks, LOG_KEPT};
use crate::api::now_ms;
use crate::store::StoreError;

/// Queued deliveries looked at per pass (their bodies are read only when sent).
const PER_PASS: usize = 10_000;
/// How often the queue is looked at.
const TICK: Duration = Duration::from_millis(250);
/// How often the records of what sessions were sent are checked against deletions.
const FORGET_EVERY: Duration = Duration::from_secs(600);
/// The longest wait between tries.
const MAX_WAIT_MS: u64 = 3_600_000;
/// Bytes of a receiver's answer read (and dropped) at most.
const ANSWER_READ: u64 = 64 << 10;

/// The HTTP clients deliveries go out with: no redirects followed, no proxy from the
/// environment (a proxy would resolve and connect on its own, past the checks), a time limit.
struct Agents {
    /// For hooks made through the API: only public addresses, as resolved for the connection.
    public_only: ureq::Agent,
    /// For the operator's own hooks.
    any: ureq::Agent,
}

impl Agents {
    fn new(timeout_ms: u64) -> Agents {
        let config = || {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .proxy(None)
                .timeout_global(Some(Duration::from_millis(timeout_ms.max(1))))
                .user_agent(concat!("Sightline-Webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Agents {
            public_only: ureq::Agent::with_parts(
                config(),
                ureq::unversioned::transport::DefaultConnector::new(),
                destination::PublicOnly::default(),
            ),
            any: config().into(),
        }
    }
}

/// The dispatcher thread, stopped when dropped.
pub struct Dispatcher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    pub fn start(webhooks: Arc<Webhooks>) -> Dispatcher {
        let (stop, stopped) = mpsc::channel::<()>();
        let agents = Agents::new(webhooks.config.timeout_ms);
        let thread = std::thread::Builder::new()
            .name("sightline-webhooks".into())
            .spawn(move || {
                // What was sent of sessions since deleted is forgotten a slice at a time.
                let (mut forgotten_at, mut forgetting) = (Instant::now(), None);
                loop {
                    if let Err(e) = send_due(&webhooks, &agents, now_ms()) {
                        tracing::warn!(error = %e, "reading the webhook queue failed");
                    }
                    if forgetting.is_some() || forgotten_at.elapsed() >= FORGET_EVERY {
                        forgotten_at = Instant::now();
                        forgetting = webhooks.forget_gone(forgetting.take()).unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "forgetting deleted sessions' webhook records failed");
                            None
                        });
                    }
                    match stopped.recv_timeout(TICK) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
            })
            .expect("spawning the webhook thread");
        Dispatcher { stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends every queued delivery that is due at `now`. A hook whose receiver failed once in a
/// pass is not tried again in that pass, so a receiver that hangs costs one timeout a pass.
fn send_due(webhooks: &Webhooks, agents: &Agents, now: u64) -> Result<(), StoreError> {
    let mut failing: HashSet<(u32, String)> = HashSet::new();
    for (name, value) in webhooks.store.metas("webhook/out/", PER_PASS)? {
        let Ok(pending) = serde_json::from_slice::<Pending>(&value) else {
            webhooks.store.remove_meta(&name)?;
            continue;
        };
        if pending.due > now {
            continue;
        }
        // `webhook/out/{project}/{hook}/{subject}`
        let mut parts = name.splitn(5, '/').skip(2);
        let (Some(project), Some(hook_id)) = (parts.next(), parts.next()) else { continue };
        let Ok(project) = u32::from_str_radix(project, 16) else { continue };
        if failing.contains(&(project, hook_id.to_owned())) {
            continue;
        }
        let Some((hook, pending, body)) = claim(webhooks, project, hook_id, &name, &pending)? else { continue };
        let agent = if hook.source == "api" && !webhooks.config.allow_private_destinations {
            &agents.public_only
        } else {
            &agents.any
        };
        let delivery = send(agent, &hook, &pending, &body);
        let attempts = pending.attempts;
        let finished = delivery.is_ok() || attempts >= webhooks.config.max_attempts;
        let next_try = (!finished).then(|| now_ms() + wait_after(webhooks.config.first_retry_ms, attempts));
        {
            let _queue = webhooks.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let current = webhooks.store.meta(&name)?.and_then(|json| serde_json::from_slice::<Pending>(&json).ok());
            match (current, next_try) {
                // Removed meanwhile, with its hook: nothing to keep.
                (None, _) => {}
                (Some(current), Some(next_try)) => {
                    let retry = Pending { due: next_try, ..current };
                    webhooks.store.set_meta(&name, &serde_json::to_vec(&retry).expect("serializes"))?;
                }
                (Some(_), None) => {
                    webhooks.store.remove_meta(&body_name(&pending.delivery))?;
                    webhooks.store.remove_meta(&name)?;
                }
            }
        }
        if delivery.is_err() {
            failing.insert((project, hook_id.to_owned()));
        }
        let (status, error, duration_ms) = match &delivery {
            Ok((status, duration)) => (Some(*status), None, *duration),
            Err((status, error, duration)) => (*status, Some(error.clone()), *duration),
        };
        let outcome = match (&delivery, finished) {
            (Ok(_), _) => "delivered",
            (Err(_), false) => "retrying",
            (Err(_), true) => "failed",
        };
        if outcome == "failed" {
            tracing::warn!(hook = %hook.id, delivery = %pending.delivery, "a webhook delivery was given up");
        }
        log(
            webhooks,
            project,
            &hook.id,
            Delivery {
                delivery: pending.delivery.clone(),
                event: pending.event.clone(),
                session: pending.session.clone(),
                time: now_ms(),
                attempt: attempts,
                status,
                error,
                duration_ms,
                outcome: outcome.into(),
                next_try,
            },
        )?;
    }
    Ok(())
}

/// Takes a due delivery for a try: counts the try (from then on, newer analyses queue a new
/// delivery rather than change this one) and reads its hook and body. `None` when there is
/// nothing to send: the hook is gone, the entry changed, or its session was deleted (an
/// erasure takes what was queued of it too).
fn claim(
    webhooks: &Webhooks,
    project: u32,
    hook_id: &str,
    name: &str,
    seen: &Pending,
) -> Result<Option<(Hook, Pending, String)>, StoreError> {
    let _queue = webhooks.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(current) = webhooks.store.meta(name)?.and_then(|json| serde_json::from_slice::<Pending>(&json).ok())
    else {
        return Ok(None);
    };
    if current.delivery != seen.delivery || current.attempts != seen.attempts {
        return Ok(None);
    }
    let forget = |webhooks: &Webhooks| -> Result<(), StoreError> {
        webhooks.store.remove_meta(&body_name(&current.delivery))?;
        webhooks.store.remove_meta(name)
    };
    let Ok(hook) = webhooks.hook(project, hook_id) else {
        // The hook is gone (removed, or taken out of the configuration): so is its queue.
        forget(webhooks)?;
        return Ok(None);
    };
    let session = current.session.as_deref().and_then(|s| s.parse::<SessionId>().ok());
    if let Some(session) = session {
        if webhooks.store.summary(project, session)?.is_none() {
            forget(webhooks)?;
            return Ok(None);
        }
    }
    let Some(body) = webhooks.store.meta(&body_name(&current.delivery))? else {
        forget(webhooks)?;
        return Ok(None);
    };
    let claimed = Pending { attempts: current.attempts + 1, ..current };
    webhooks.store.set_meta(name, &serde_json::to_vec(&claimed).expect("serializes"))?;
    Ok(Some((hook, claimed, String::from_utf8_lossy(&body).into_owned())))
}

/// The wait after the `attempts`-th failed try: the first retry's, five times longer each
/// time, an hour at most.
fn wait_after(first_ms: u64, attempts: u32) -> u64 {
    let factor = 5u64.saturating_pow(attempts.saturating_sub(1));
    first_ms.saturating_mul(factor).min(MAX_WAIT_MS)
}

type Tried = Result<(u16, u64), (Option<u16>, String, u64)>;

/// One try: the status and how long it took, or why it failed.
fn send(agent: &ureq::Agent, hook: &Hook, pending: &Pending, body: &str) -> Tried {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_millis() as u64;
    let timestamp = now_ms() / 1_000;
    let signature = sign::signature(&hook.secret, &pending.delivery, timestamp, body.as_bytes());
    let answer = agent
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &pending.delivery)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(body.as_bytes());
    match answer {
        Ok(mut answer) => {
            let status = answer.status().as_u16();
            let _ = answer.body_mut().with_config().limit(ANSWER_READ).read_to_vec();
            if (200..300).contains(&status) {
                Ok((status, elapsed()))
            } else {
                Err((Some(status), format!("the receiver answered {status}"), elapsed()))
            }
        }
        Err(e) => Err((None, e.to_string(), elapsed())),
    }
}

/// Adds a try to the hook's log, keeping the last [`LOG_KEPT`].
fn log(webhooks: &Webhooks, project: u32, hook: &str, delivery: Delivery) -> Result<(), StoreError> {
    let prefix = log_prefix(project, hook);
    // Newest first in name order: the time inverted, then a random tail for ties.
    let name = format!("{prefix}{:016x}{}", u64::MAX - delivery.time, super::random_id("-"));
    webhooks.store.set_meta(&name, &serde_json::to_vec(&delivery).expect("serializes"))?;
    for (old, _) in webhooks.store.metas(&prefix, LOG_KEPT + 50)?.into_iter().skip(LOG_KEPT) {
        webhooks.store.remove_meta(&old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_fivefold_to_an_hour() {
        let waits: Vec<u64> = (1..=7).map(|n| wait_after(5_000, n)).collect();
        assert_eq!(waits, [5_000, 25_000, 125_000, 625_000, 3_125_000, 3_600_000, 3_600_000]);
    }
}
