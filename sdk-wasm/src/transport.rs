//! Delivery policy: which batches wait, in what order they go, and when a failed one is tried
//! again. The page's JavaScript does the sending (`fetch`, `sendBeacon`) and reports back; this
//! part is plain logic.
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
    value.trim_ascii().parse().ok()
}

/// A batch waiting to be delivered.
#[derive(Clone, PartialEq, Eq)]
pub struct Pending {
    /// The framed batch, which holds its session, page and sequence number.
    pub bytes: Vec<u8>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Tells it from every other batch of its outbox (see [`Outbox::push`]).
    id: u64,
    /// Handed to `sendBeacon` while the collector wasn't answering: not again until it answers.
    beaconed: bool,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bytes are sealed with the session's writer secret: their size only.
        f.debug_struct("Pending")
            .field("bytes", &self.bytes.len())
            .field("attempts", &self.attempts)
            .field("id", &self.id)
            .field("beaconed", &self.beaconed)
            .finish()
    }
}

impl Pending {
    /// A batch not tried yet.
    pub fn new(bytes: Vec<u8>) -> Pending {
        Pending { bytes, attempts: 0, id: 0, beaconed: false }
    }
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

    /// Removes the batch `id` of its outbox, wherever it waits.
    fn remove(&mut self, id: u64) -> Option<Pending> {
        let at = self.batches.iter().position(|b| b.id == id)?;
        let batch = self.batches.remove(at)?;
        self.bytes -= batch.bytes.len();
        Some(batch)
    }

    /// The waiting batches, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.batches.iter()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Pending> {
        self.batches.iter_mut()
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

/// Browsers allow this much in flight through `sendBeacon` and `keepalive` per page.
pub const BEACON_BUDGET: usize = 64 * 1024;

/// The delivery state of a page: the queue, the one request in flight, the next retry, and the
/// hand-over to `sendBeacon` when the page goes away.
#[derive(Debug)]
pub struct Outbox {
    queue: Queue,
    backoff: Backoff,
    next_attempt: f64,
    /// The batch whose request is in flight.
    in_flight: Option<u64>,
    pushed: u64,
    /// What is left of the beacon budget while leaving.
    beacon_budget: usize,
    /// The last batch offered to `sendBeacon` while leaving: the offers go on after it.
    beacon_after: u64,
    /// The batch offered to `sendBeacon` whose outcome is not known yet.
    offered: Option<u64>,
    /// The batch in flight with `keepalive` when the page went away, and its size.
    travelling: Option<(u64, usize)>,
    refused: u64,
    /// The last answer asked for a retry: the collector is down, unreachable or busy.
    failing: bool,
    /// It came with a `Retry-After`: the collector asked to be left alone until `next_attempt`.
    told_to_wait: bool,
    /// Beacons offered while leaving may not arrive: batches the browser takes stay queued.
    beacons_unsure: bool,
    /// Batches refused for good since the last one stored.
    refused_in_a_row: u32,
}

impl Outbox {
    /// An empty outbox whose queue holds at most `max_bytes` of batches.
    pub fn new(max_bytes: usize) -> Outbox {
        Outbox {
            queue: Queue::new(max_bytes),
            backoff: Backoff::default(),
            next_attempt: 0.0,
            in_flight: None,
            pushed: 0,
            beacon_budget: 0,
            beacon_after: 0,
            offered: None,
            travelling: None,
            refused: 0,
            failing: false,
            told_to_wait: false,
            beacons_unsure: false,
            refused_in_a_row: 0,
        }
    }

    /// Queues a batch; see [`Queue::push`].
    pub fn push(&mut self, mut batch: Pending) {
        self.pushed += 1;
        batch.id = self.pushed;
        self.queue.push(batch);
    }

    /// Batches lost so far: dropped to keep the queue within its bound, or refused for good by
    /// the collector.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped() + self.refused
    }

    /// How many batches the collector refused for good (a wrong key, an origin it doesn't
    /// allow, a batch too large) since it last stored one.
    pub fn refused_in_a_row(&self) -> u32 {
        self.refused_in_a_row
    }

    /// Whether nothing waits and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_none()
    }

    /// The batch to send now, if one waits, none is in flight and no retry delay runs; it is in
    /// flight until [`Outbox::answered`].
    pub fn next_to_send(&mut self, now: f64) -> Option<Vec<u8>> {
        if self.in_flight.is_some() || now < self.next_attempt {
            return None;
        }
        let front = self.queue.front()?;
        self.in_flight = Some(front.id);
        Some(front.bytes.clone())
    }

    /// Settles the batch in flight with the collector's `status` (`None` without a response)
    /// and `Retry-After` in seconds; `random` is uniform in [0, 1) for the jitter. Returns
    /// whether the next batch should go right away.
    pub fn answered(&mut self, status: Option<u16>, retry_after: Option<u64>, random: f64, now: f64) -> bool {
        let sent = self.in_flight.take();
        let delivery = delivery(status);
        self.failing = delivery == Delivery::Retry;
        self.told_to_wait = self.failing && retry_after.is_some();
        // The queue may have changed under the request (the batch handed to `sendBeacon` when
        // the tab was hidden, or dropped to stay within the bound): settle only the batch that
        // was sent. What the answer says of the collector holds all the same.
        if sent.is_none() || self.queue.front().map(|f| f.id) != sent {
            if self.failing {
                self.next_attempt = now + self.backoff.delay_ms(1, random, retry_after);
                return false;
            }
            return !self.queue.is_empty();
        }
        match delivery {
            Delivery::Done => {
                self.refused_in_a_row = 0;
                self.queue.pop();
                !self.queue.is_empty()
            }
            Delivery::Refused => {
                self.queue.pop();
                self.refused += 1;
                self.refused_in_a_row += 1;
                !self.queue.is_empty()
            }
            Delivery::Retry => {
                let attempts = self.queue.failed();
                self.next_attempt = now + self.backoff.delay_ms(attempts, random, retry_after);
                false
            }
        }
    }

    /// The page is going away at `now`, or may be: waiting batches, oldest first, are offered
    /// to `sendBeacon` through [`Outbox::next_beacon`] within the browser's budget; none while
    /// a `Retry-After` from the collector runs. While the collector isn't answering, a beacon's
    /// failure can't be seen: the batches it carries stay queued too, to be kept and sent again
    /// (stored once).
    pub fn leave(&mut self, now: f64) {
        let wait = self.told_to_wait && now < self.next_attempt;
        // A request in flight small enough to have gone with `keepalive` goes on after the page,
        // and holds its share of the budget: it is not offered again (it stays queued, and is
        // kept for the next page, in case it fails).
        let travelling = self.in_flight.and_then(|id| self.queue.iter().find(|b| b.id == id));
        self.travelling = travelling.filter(|b| b.bytes.len() <= BEACON_BUDGET).map(|b| (b.id, b.bytes.len()));
        let held = self.travelling.map_or(0, |(_, len)| len);
        self.beacon_budget = if wait { 0 } else { BEACON_BUDGET - held };
        self.beacons_unsure = self.failing;
        self.beacon_after = 0;
        self.offered = None;
    }

    /// The next batch to hand to `sendBeacon`, skipping (and keeping) those that no longer fit
    /// the budget; `None` once all were offered.
    pub fn next_beacon(&mut self) -> Option<Vec<u8>> {
        let (after, budget) = (self.beacon_after, self.beacon_budget);
        // Ids grow from front to back, so they mark how far the offers went.
        let unsure = self.beacons_unsure;
        let travelling = self.travelling.map(|(id, _)| id);
        let batch = self
            .queue
            .iter()
            .find(|b| b.id > after && b.bytes.len() <= budget && !(unsure && b.beaconed) && Some(b.id) != travelling)?;
        self.beacon_after = batch.id;
        self.offered = Some(batch.id);
        Some(batch.bytes.clone())
    }

    /// Whether the browser took the batch [`Outbox::next_beacon`] offered last; if it did, the
    /// batch is done with, unless the collector wasn't answering.
    pub fn beaconed(&mut self, accepted: bool) {
        let Some(id) = self.offered.take() else { return };
        if !accepted {
            return;
        }
        if self.beacons_unsure {
            if let Some(batch) = self.queue.iter_mut().find(|b| b.id == id) {
                batch.beaconed = true;
                self.beacon_budget -= batch.bytes.len();
            }
        } else if let Some(batch) = self.queue.remove(id) {
            self.beacon_budget -= batch.bytes.len();
        }
    }

    /// The batches still waiting, oldest first: what a page that goes away keeps for the next
    /// one. They stay queued, in case the page lives on.
    pub fn waiting(&self) -> impl Iterator<Item = &[u8]> {
        self.queue.iter().map(|b| b.bytes.as_slice())
    }

    /// Queues a batch kept by an earlier page, or by this one ([`Outbox::waiting`]) and taken
    /// back: unless the same batch is queued already.
    pub fn resend(&mut self, bytes: Vec<u8>) {
        if !self.queue.iter().any(|b| b.bytes == bytes) {
            self.push(Pending::new(bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch told apart by its bytes' value, `n`.
    fn batch(n: u8, len: usize) -> Pending {
        Pending::new(vec![n; len])
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
        assert_eq!(queue.front().unwrap().bytes[0], 1);
        queue.push(batch(3, 500));
        assert_eq!((queue.len(), queue.dropped()), (2, 2), "a batch larger than the bound is dropped itself");
        assert_eq!(queue.failed(), 1);
        assert_eq!(queue.failed(), 2);
        assert_eq!(queue.pop().unwrap().attempts, 2);
        assert_eq!(queue.iter().map(|b| b.bytes[0]).collect::<Vec<_>>(), vec![2]);
        queue.pop();
        assert!(queue.is_empty() && queue.bytes() == 0);
    }

    #[test]
    fn one_batch_is_in_flight_at_a_time_and_retries_wait_their_delay() {
        let mut outbox = Outbox::new(1_000);
        assert_eq!(outbox.next_to_send(0.0), None);
        outbox.push(batch(1, 10));
        outbox.push(batch(2, 10));
        let first = outbox.next_to_send(0.0).unwrap();
        assert_eq!(outbox.next_to_send(0.0), None, "one in flight");
        assert!(!outbox.answered(Some(503), None, 0.5, 100.0));
        assert!(!outbox.is_idle());
        assert_eq!(outbox.next_to_send(599.0), None, "half of the first retry's 1 s ceiling");
        assert_eq!(outbox.next_to_send(600.0), Some(first.clone()));
        assert!(!outbox.answered(Some(429), Some(3), 0.0, 700.0));
        assert_eq!(outbox.next_to_send(3_699.0), None, "Retry-After rules");
        assert_eq!(outbox.next_to_send(3_700.0), Some(first));
        assert!(outbox.answered(Some(200), None, 0.0, 3_800.0), "the next goes right away");
        let second = outbox.next_to_send(3_800.0).unwrap();
        assert_eq!(second, vec![2; 10]);
        assert_eq!(outbox.dropped(), 0);
        assert!(!outbox.answered(Some(400), None, 0.0, 3_900.0), "refused for good, and none left");
        assert_eq!(outbox.dropped(), 1, "a refused batch counts as lost");
        assert!(outbox.is_idle());
    }

    #[test]
    fn an_answer_for_a_batch_no_longer_first_settles_nothing() {
        // The batch in flight when the tab was hidden goes on with `keepalive`: it is not
        // offered as a beacon, and its answer settles it.
        let mut outbox = Outbox::new(1_000);
        outbox.push(batch(1, 10));
        assert_eq!(outbox.next_to_send(0.0), Some(vec![1; 10]));
        outbox.leave(0.0);
        assert_eq!(outbox.next_beacon(), None);
        outbox.push(batch(3, 10));
        assert!(outbox.answered(Some(200), None, 0.0, 10.0), "the new batch is still to send");
        assert_eq!(outbox.next_to_send(10.0), Some(vec![3; 10]));

        // ...and when it fails, the collector isn't answering: it is sent again after a wait.
        let mut outbox = Outbox::new(1_000);
        outbox.push(batch(1, 10));
        assert!(outbox.next_to_send(0.0).is_some());
        outbox.leave(0.0);
        assert_eq!(outbox.next_beacon(), None);
        outbox.push(batch(2, 10));
        assert!(!outbox.answered(None, None, 0.5, 10.0));
        assert_eq!(outbox.next_to_send(10.0), None, "the backoff runs");
        assert_eq!(outbox.next_to_send(510.0), Some(vec![1; 10]));

        // The batch in flight dropped to make room: the answer is not the new first's.
        let mut outbox = Outbox::new(100);
        outbox.push(batch(1, 60));
        assert!(outbox.next_to_send(0.0).is_some());
        outbox.push(batch(2, 60));
        assert_eq!(outbox.dropped(), 1);
        assert!(outbox.answered(Some(200), None, 0.0, 10.0), "the new first is still to send");
        assert_eq!(outbox.next_to_send(10.0), Some(vec![2; 60]));
    }

    /// The first byte of each batch still waiting.
    fn waiting(outbox: &Outbox) -> Vec<u8> {
        outbox.waiting().map(|b| b[0]).collect()
    }

    #[test]
    fn leaving_offers_beacons_within_the_budget_and_keeps_the_rest_in_order() {
        let mut outbox = Outbox::new(1 << 20);
        for (seq, len) in [(0, 40_000), (1, 30_000), (2, 20_000), (3, 5_000), (4, 100)] {
            outbox.push(batch(seq, len));
        }
        outbox.leave(0.0);
        assert_eq!(outbox.next_beacon().map(|b| b.len()), Some(40_000));
        outbox.beaconed(true);
        // 30,000 no longer fits in what is left of 65,536; 20,000 does, but the browser refuses it.
        assert_eq!(outbox.next_beacon().map(|b| b.len()), Some(20_000));
        outbox.beaconed(false);
        assert_eq!(outbox.next_beacon().map(|b| b.len()), Some(5_000));
        outbox.beaconed(true);
        assert_eq!(outbox.next_beacon().map(|b| b.len()), Some(100));
        outbox.beaconed(true);
        assert_eq!(outbox.next_beacon(), None);
        assert_eq!(waiting(&outbox), vec![1, 2], "kept for the next page, and still queued");

        // The page lived on and takes back what it kept: nothing twice.
        outbox.resend(vec![1; 30_000]);
        outbox.resend(vec![2; 20_000]);
        outbox.resend(vec![7; 10]);
        assert_eq!(waiting(&outbox), vec![1, 2, 7]);
        assert_eq!(outbox.next_to_send(0.0).map(|b| b[0]), Some(1));
    }

    #[test]
    fn a_request_in_flight_with_keepalive_holds_its_share_of_the_budget() {
        let mut outbox = Outbox::new(1 << 20);
        for (seq, len) in [(0, 50_000), (1, 12_000), (2, 20_000)] {
            outbox.push(batch(seq, len));
        }
        assert_eq!(outbox.next_to_send(0.0).map(|b| b.len()), Some(50_000));
        outbox.leave(0.0);
        // The 50,000 in flight go on by themselves; 12,000 fit in what is left, 20,000 don't.
        assert_eq!(outbox.next_beacon().map(|b| b.len()), Some(12_000));
        outbox.beaconed(true);
        assert_eq!(outbox.next_beacon(), None);
        assert_eq!(waiting(&outbox), vec![0, 2], "kept, in case the request in flight fails");
    }

    #[test]
    fn while_the_collector_is_not_answering_leaving_beacons_and_keeps_everything() {
        let mut outbox = Outbox::new(1 << 20);
        outbox.push(batch(1, 100));
        outbox.push(batch(2, 100));
        assert!(outbox.next_to_send(0.0).is_some());
        assert!(!outbox.answered(None, None, 0.5, 10.0));
        outbox.leave(20.0);
        assert_eq!(outbox.next_beacon(), Some(vec![1; 100]), "a beacon may get through");
        outbox.beaconed(true);
        assert_eq!(outbox.next_beacon(), Some(vec![2; 100]));
        outbox.beaconed(true);
        assert_eq!(outbox.next_beacon(), None);
        assert_eq!(waiting(&outbox), vec![1, 2], "but may not: all is kept");
        outbox.leave(30.0);
        assert_eq!(outbox.next_beacon(), None, "hidden again: not beaconed twice");

        // Back on the page, the batches still wait out the retry delay.
        assert_eq!(outbox.next_to_send(21.0), None);
        assert!(outbox.next_to_send(1_000.0).is_some());
        assert!(outbox.answered(Some(200), None, 0.0, 1_010.0));
        outbox.leave(1_020.0);
        assert_eq!(outbox.next_beacon(), Some(vec![2; 100]), "the collector answers again");
        outbox.beaconed(true);
        assert!(waiting(&outbox).is_empty());
    }

    #[test]
    fn while_the_collector_asks_to_wait_leaving_beacons_nothing() {
        let mut outbox = Outbox::new(1 << 20);
        outbox.push(batch(1, 100));
        assert!(outbox.next_to_send(0.0).is_some());
        assert!(!outbox.answered(Some(429), Some(30), 0.5, 10.0));
        outbox.leave(20.0);
        assert_eq!(outbox.next_beacon(), None, "Retry-After: 30");
        assert_eq!(waiting(&outbox), vec![1]);
        outbox.leave(30_010.0);
        assert_eq!(outbox.next_beacon(), Some(vec![1; 100]), "once it has run out");
    }

    #[test]
    fn refusals_in_a_row_are_counted_until_a_batch_is_stored() {
        let mut outbox = Outbox::new(1 << 20);
        for n in 0..4 {
            outbox.push(batch(n, 10));
        }
        let mut answer = |status| {
            outbox.next_to_send(0.0);
            outbox.answered(Some(status), None, 0.0, 0.0);
            outbox.refused_in_a_row()
        };
        assert_eq!(answer(403), 1);
        assert_eq!(answer(503), 1, "a failure neither ends nor extends the run");
        assert_eq!(answer(403), 2);
        assert_eq!(answer(200), 0);
        assert_eq!(outbox.dropped(), 2);
    }
}
