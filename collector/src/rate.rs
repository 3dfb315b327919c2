//! Rate limits: token buckets per project (the project's budget, charged for batches that
//! decode) and per source address (charged before a body is read, so whoever floods with the
//! public ingest key spends their own budget, not the project's).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket holding one second's worth of requests.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket for `per_second` requests a second.
    pub fn new(per_second: u32, now: Instant) -> Self {
        let per_second = f64::from(per_second);
        TokenBucket { per_second, tokens: per_second, updated: now }
    }

    /// Takes one request; `Err(seconds)` says how long to wait.
    pub fn take(&mut self, now: Instant) -> Result<(), u64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        self.updated = now;
    }

    /// Whether it has refilled: forgetting it would change nothing.
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.per_second
    }
}

/// Sources tracked at once at most; past it, those whose bucket has refilled are forgotten.
const MAX_SOURCES: usize = 65_536;

/// A budget per source: an IPv4 address, or an IPv6 /64 (what one subscriber gets).
#[derive(Debug)]
pub struct SourceLimiter {
    per_second: u32,
    buckets: Mutex<HashMap<[u8; 8], TokenBucket>>,
}

impl SourceLimiter {
    /// `per_second` requests a second from each source; 0 for no limit.
    pub fn new(per_second: u32) -> SourceLimiter {
        SourceLimiter { per_second, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `source`'s budget; `Err(seconds)` says how long to wait.
    pub fn take(&self, source: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let Some(source) = source.filter(|_| self.per_second > 0) else { return Ok(()) };
        let key = match source {
            IpAddr::V4(v4) => {
                let mut key = [0u8; 8];
                key[..4].copy_from_slice(&v4.octets());
                key
            }
            IpAddr::V6(v6) => v6.octets()[..8].try_into().expect("8 bytes"),
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_SOURCES && !buckets.contains_key(&key) {
            buckets.retain(|_, bucket| !bucket.is_full(now));
            if buckets.len() >= MAX_SOURCES {
                // Every tracked source is mid-burst: start over rather than grow.
                buckets.clear();
            }
        }
        buckets.entry(key).or_insert_with(|| TokenBucket::new(self.per_second, now)).take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(2, t0);
        assert!(bucket.take(t0).is_ok());
        assert!(bucket.take(t0).is_ok());
        assert_eq!(bucket.take(t0), Err(1));
        assert!(bucket.take(t0 + Duration::from_millis(600)).is_ok());
    }

    #[test]
    fn each_source_has_its_own_budget_and_an_ipv6_subscriber_is_one_source() {
        let limiter = SourceLimiter::new(2);
        let now = Instant::now();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        assert!(limiter.take(Some(a), now).is_ok() && limiter.take(Some(a), now).is_ok());
        assert_eq!(limiter.take(Some(a), now), Err(1));
        assert!(limiter.take(Some(b), now).is_ok(), "another address");
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(limiter.take(v6("2001:db8:1:2::1"), now).is_ok());
        assert!(limiter.take(v6("2001:db8:1:2::ffff"), now).is_ok());
        assert!(limiter.take(v6("2001:db8:1:2:aaaa::1"), now).is_err(), "the same /64");
        assert!(limiter.take(Some(a), now + Duration::from_millis(600)).is_ok(), "refilled");
        assert!(SourceLimiter::new(0).take(Some(a), now).is_ok(), "0 is no limit");
    }

    #[test]
    fn the_sources_tracked_stay_bounded() {
        let limiter = SourceLimiter::new(1);
        let now = Instant::now();
        for i in 0..(MAX_SOURCES as u32 + 10) {
            let _ = limiter.take(Some(IpAddr::from(i.to_be_bytes())), now);
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_SOURCES);
    }
}
