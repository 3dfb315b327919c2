//! The thread that sends what is due: each queued delivery POSTed, signed, to its hook's URL;
//! a 2xx answer ends it, anything else (another status, no answer in time, a refused
//! connection) tries it again later, each wait five times the last, an hour at most, until
//! `max_attempts`. Every try goes to the hook's delivery log.
//!
//! Deliveries go one at a time: a receiver that hangs holds the others back by `timeout_ms`
//! at most per try.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{destination, log_prefix, sign, Delivery, Hook, Pending, Webhooks, LOG_KEPT};
use crate::api::now_ms;
use crate::store::StoreError;

/// Queued deliveries looked at per pass.
const PER_PASS: usize = 1_000;
/// How often the queue is looked at.
const TICK: Duration = Duration::from_millis(250);
/// The longest wait between tries.
const MAX_WAIT_MS: u64 = 3_600_000;
/// Bytes of a receiver's answer read (and dropped) at most.
const ANSWER_READ: u64 = 64 << 10;

/// The dispatcher thread, stopped when dropped.
pub struct Dispatcher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    pub fn start(webhooks: Arc<Webhooks>) -> Dispatcher {
        let (stop, stopped) = mpsc::channel::<()>();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_millis(webhooks.config.timeout_ms.max(1))))
            .user_agent(concat!("Sightline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let thread = std::thread::Builder::new()
            .name("sightline-webhooks".into())
            .spawn(move || loop {
                if let Err(e) = send_due(&webhooks, &agent, now_ms()) {
                    tracing::warn!(error = %e, "reading the webhook queue failed");
                }
                match stopped.recv_timeout(TICK) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
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

/// Sends every queued delivery that is due at `now`.
fn send_due(webhooks: &Webhooks, agent: &ureq::Agent, now: u64) -> Result<(), StoreError> {
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
        let Ok(hook) = webhooks.hook(project, hook_id) else {
            // The hook is gone (removed, or taken out of the configuration): so is its queue.
            webhooks.store.remove_meta(&name)?;
            continue;
        };
        let delivery = send(webhooks, agent, &hook, &pending);
        let attempts = pending.attempts + 1;
        let finished = delivery.is_ok() || attempts >= webhooks.config.max_attempts;
        let next_try = (!finished).then(|| now_ms() + wait_after(webhooks.config.first_retry_ms, attempts));
        // What was queued meanwhile for the same subject (a newer digest) is kept: only this
        // try's own entry is ended or rescheduled.
        let queue = webhooks.queue_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = webhooks.store.meta(&name)?.and_then(|json| serde_json::from_slice::<Pending>(&json).ok());
        match (finished, current) {
            (true, Some(current)) if current.body == pending.body => webhooks.store.remove_meta(&name)?,
            (true, Some(current)) => {
                // A newer digest arrived during the try: it goes as a new delivery.
                let fresh = Pending { delivery: super::random_id("msg_"), attempts: 0, due: now_ms(), ..current };
                webhooks.store.set_meta(&name, &serde_json::to_vec(&fresh).expect("serializes"))?;
            }
            (true, None) => {}
            (false, current) => {
                let body = current.map_or(pending.body.clone(), |c| c.body);
                let retry = Pending { attempts, due: next_try.unwrap_or(now), body, ..pending.clone() };
                webhooks.store.set_meta(&name, &serde_json::to_vec(&retry).expect("serializes"))?;
            }
        }
        drop(queue);
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

/// The wait after the `attempts`-th failed try: the first retry's, five times longer each
/// time, an hour at most.
fn wait_after(first_ms: u64, attempts: u32) -> u64 {
    let factor = 5u64.saturating_pow(attempts.saturating_sub(1));
    first_ms.saturating_mul(factor).min(MAX_WAIT_MS)
}

type Tried = Result<(u16, u64), (Option<u16>, String, u64)>;

/// One try: the status and how long it took, or why it failed.
fn send(webhooks: &Webhooks, agent: &ureq::Agent, hook: &Hook, pending: &Pending) -> Tried {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_millis() as u64;
    // A hook made through the API is checked again before each try: its name may have come to
    // point somewhere private since it was made.
    if hook.source == "api" && !webhooks.config.allow_private_destinations {
        if let Err(e) = destination::check_public(&hook.url) {
            return Err((None, e.to_string(), elapsed()));
        }
    }
    let timestamp = now_ms() / 1_000;
    let signature = sign::signature(&hook.secret, &pending.delivery, timestamp, pending.body.as_bytes());
    let answer = agent
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &pending.delivery)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(pending.body.as_bytes());
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
