//! Reading a session's digest in a test: once what it waits for has arrived, and its problems
//! of one kind wherever the grouping put them; its summary once the analyzer has read it all.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sdk::TOKEN;
use crate::{Collector, Http};

/// The session's digest once `ready` holds of it (the recording and the backend's records
/// arrive on their own schedules). When it still doesn't after a while, the user comes back to
/// the site (`come_back`), whose next page sends what the last one kept.
pub fn digest_when(
    http: &Http,
    collector: &Collector,
    session: &str,
    come_back: impl Fn(),
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let mut came_back = false;
    loop {
        let response = http.get(&format!("{}/api/sessions/{session}/digest", collector.base), TOKEN);
        if response.status == 200 {
            let digest = response.json();
            if ready(&digest) {
                return digest;
            }
            assert!(Instant::now() < deadline, "the digest never got there: {digest:#}");
        } else {
            assert!(Instant::now() < deadline, "no digest: {}", response.status);
        }
        if !came_back && started.elapsed() > Duration::from_secs(8) {
            came_back = true;
            come_back();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The digest's problems of `kind`, leading or listed under another of the same action.
pub fn problems<'a>(digest: &'a Value, kind: &str) -> Vec<&'a Value> {
    digest["problems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| std::iter::once(p).chain(p["related"].as_array().into_iter().flatten()))
        .filter(|p| p["kind"] == kind)
        .collect()
}

/// The session's summary once the analyzer has covered all its batches.
pub fn analysed(http: &Http, collector: &Collector, session: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
        if summary["analyzed_batches"].as_u64() > Some(0) && summary["analyzed_batches"] == summary["batch_count"] {
            return summary;
        }
        assert!(Instant::now() < deadline, "never analysed: {summary:#}");
        std::thread::sleep(Duration::from_millis(300));
    }
}
