//! Delivery policy: which batches wait, in what order they go, and when a failed one is tried
//! again. The browser side ([`crate::browser`]) does the sending; this part is plain logic.
//!
//! - The queue is bounded in bytes. When a new batch does not fit, the oldest waiting batches
//!   are dropped (the next keyframe restores replayability) and counted.
//! - A failed send is retried after an exponentially growing delay with full jitter, capped; a
//!   `Retry-After` from the collector (429, 503) takes precedence.
//! - Batches keep their sequence numbers, so a retry of a batch the collector already stored is
//!   acknowledged as a duplicate and stored once.

use std::collections::VecDeque;

/// What the collector's answer means for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored (or stored before): forget it.
    Done,
    /// Try again later (network error, 429, 5xx).
    Retry,
    /// The collector refused it for good (other 4xx): retrying can't help.
    Refused,
}

/// Classifies an HTTP status; `None` means no response (network error, CORS failure, abort).
pub fn delivery(status: Option<u16>) -> Delivery {
    match status {
        Some(200..=299) => Delivery::Done,
        None | Some(408) | Some(429) | Some(500..=599) => Delivery::Retry,
        Some(_) => Delivery::Refused,
    }
}

/// Exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay ceiling for the first retry, in ms. Defaults to 1,000.
    pub base_ms: f64,
    /// Largest delay, in ms. Defaults to 60,000.
    pub max_ms: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base_ms: 1_000.0, max_ms: 60_000.0 }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (from 1), given `random` uniform in [0, 1) and the
    /// collector's `Retry-After` in seconds, if it sent one.
    pub fn delay_ms(&self, attempt: u32, random: f64, retry_after_s: Option<u64>) -> f64 {
        if let Some(seconds) = retry_after_s {
            return (seconds as f64 * 1_000.0).min(self.max_ms * 10.0);
        }
        let ceiling = (self.base_ms * 2f64.powi(attempt.saturating_sub(1).min(30) as i32)).min(self.max_ms);
        ceiling * random.clamp(0.0, 1.0)
    }
}

/// Parses `Retry-After` given in seconds (the collector's form); dates are ignored.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// A batch waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Page index of the batch.
    pub page: u32,
    /// Sequence number within the page.
    pub seq: u32,
    /// The framed batch.
    pub bytes: Vec<u8>,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Batches waiting for delivery, oldest first, bounded in bytes.
#[derive(Debug)]
pub struct Queue {
    batches: VecDeque<Pending>,
    bytes: usize,
    max_bytes: usize,
    dropped: u64,
}

impl Queue {
    /// An empty queue holding at most `max_bytes` of batches.
    pub fn new(max_bytes: usize) -> Queue {
        Queue { batches: VecDeque::new(), bytes: 0, max_bytes, dropped: 0 }
    }

    /// Adds a batch, dropping the oldest ones as needed to stay within the bound. A batch larger
    /// than the whole bound is dropped itself.
    pub fn push(&mut self, batch: Pending) {
        if batch.bytes.len() > self.max_bytes {
            self.dropped += 1;
            return;
        }
        while self.bytes + batch.bytes.len() > self.max_bytes {
            match self.batches.pop_front() {
                Some(old) => {
                    self.bytes -= old.bytes.len();
                    self.dropped += 1;
                }
                None => break,
            }
        }
        self.bytes += batch.bytes.len();
        self.batches.push_back(batch);
    }

    /// The oldest batch, to send next.
    pub fn front(&self) -> Option<&Pending> {
        self.batches.front()
    }

    /// Removes the oldest batch (delivered, or refused for good).
    pub fn pop(&mut self) -> Option<Pending> {
        let batch = self.batches.pop_front()?;
        self.bytes -= batch.bytes.len();
        Some(batch)
    }

    /// Counts a failed attempt on the oldest batch; returns the new count.
    pub fn failed(&mut self) -> u32 {
        self.batches.front_mut().map_or(0, |b| {
            b.attempts += 1;
            b.attempts
        })
    }

    /// Takes every waiting batch, oldest first (to save them at unload).
    pub fn drain(&mut self) -> Vec<Pending> {
        self.bytes = 0;
        self.batches.drain(..).collect()
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Batches dropped to stay within the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(seq: u32, len: usize) -> Pending {
        Pending { page: 0, seq, bytes: vec![0; len], attempts: 0 }
    }

    #[test]
    fn statuses_decide_between_done_retry_and_refused() {
        assert_eq!(delivery(Some(200)), Delivery::Done);
        for retry in [None, Some(408), Some(429), Some(500), Some(503)] {
            assert_eq!(delivery(retry), Delivery::Retry, "{retry:?}");
        }
        for refused in [Some(400), Some(401), Some(403), Some(413), Some(415)] {
            assert_eq!(delivery(refused), Delivery::Refused, "{refused:?}");
        }
    }

    #[test]
    fn backoff_grows_to_a_cap_with_jitter_and_obeys_retry_after() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay_ms(1, 0.999_999, None).round(), 1_000.0);
        assert_eq!(backoff.delay_ms(3, 0.5, None), 2_000.0);
        assert_eq!(backoff.delay_ms(40, 1.0, None), 60_000.0);
        assert_eq!(backoff.delay_ms(2, 0.0, None), 0.0);
        assert_eq!(backoff.delay_ms(5, 0.3, Some(7)), 7_000.0);
        assert_eq!(parse_retry_after(" 12 "), Some(12));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn the_queue_drops_the_oldest_to_stay_within_its_bytes() {
        let mut queue = Queue::new(100);
        queue.push(batch(0, 40));
        queue.push(batch(1, 40));
        queue.push(batch(2, 40));
        assert_eq!((queue.len(), queue.bytes(), queue.dropped()), (2, 80, 1));
        assert_eq!(queue.front().unwrap().seq, 1);
        queue.push(batch(3, 500));
        assert_eq!((queue.len(), queue.dropped()), (2, 2), "a batch larger than the bound is dropped itself");
        assert_eq!(queue.failed(), 1);
        assert_eq!(queue.failed(), 2);
        assert_eq!(queue.pop().unwrap().attempts, 2);
        assert_eq!(queue.drain().iter().map(|b| b.seq).collect::<Vec<_>>(), vec![2]);
        assert!(queue.is_empty() && queue.bytes() == 0);
    }
}
