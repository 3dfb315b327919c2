//! Delivery from a real browser to a real collector: `cargo xtask test` starts the collector
//! and passes its address and ingest key in `SIGHTLINE_TEST_COLLECTOR` and `SIGHTLINE_TEST_KEY`.
#![cfg(target_arch = "wasm32")]

use sightline_protocol::{Custom, EventData, SessionId, Value};
use sightline_sdk::batcher::Batcher;
use sightline_sdk::browser::{random_session_id, save_stash, send_batch, send_beacon, take_stash, Answer};
use sightline_sdk::transport::{delivery, Delivery, Pending};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn collector() -> (&'static str, &'static str) {
    match (option_env!("SIGHTLINE_TEST_COLLECTOR"), option_env!("SIGHTLINE_TEST_KEY")) {
        (Some(url), Some(key)) => (url, key),
        _ => panic!("run these tests with `cargo xtask test`, which starts a collector for them"),
    }
}

fn one_batch(key: &str, session: SessionId) -> Vec<u8> {
    let mut batcher = Batcher::new(key, session, 0);
    let props = Value::Map(vec![("plan".into(), Value::Str("pro".into()))]);
    batcher.push(1_780_000_000_000, EventData::Custom(Custom { name: "signed_up".into(), props }));
    batcher.take(1_780_000_000_100).unwrap().unwrap().bytes
}

#[wasm_bindgen_test]
async fn a_batch_is_stored_once_however_often_it_is_sent() {
    let (url, key) = collector();
    let bytes = one_batch(key, random_session_id().unwrap());
    let first = send_batch(url, key, &bytes, false).await;
    assert_eq!(first, Answer { status: Some(200), retry_after: None, outcome: Some("stored".into()) });
    // A retry with keepalive, as at unload, is acknowledged again and stored once.
    let again = send_batch(url, key, &bytes, true).await;
    assert_eq!((again.status, again.outcome.as_deref()), (Some(200), Some("duplicate")));
    assert_eq!(delivery(again.status), Delivery::Done);
}

#[wasm_bindgen_test]
fn the_browser_accepts_beacons_within_its_budget() {
    // That a beacon arrives is checked end to end in `tests/sdk_in_browser.rs`, where the
    // collector's read API can be asked; here, that the browser takes it at all.
    let (url, key) = collector();
    assert!(send_beacon(url, key, &one_batch(key, random_session_id().unwrap())));
    assert!(!send_beacon(url, key, &vec![0u8; 70 * 1024]), "over the 64 KiB beacon budget");
}

#[wasm_bindgen_test]
fn undelivered_batches_wait_in_local_storage_for_the_next_page() {
    let _ = take_stash("slk_a");
    let batch = |seq: u32| Pending { page: 0, seq, bytes: vec![seq as u8; 100], attempts: 2 };
    save_stash("slk_a", &[batch(0), batch(1)]);
    save_stash("slk_b", &[batch(7)]);
    save_stash("slk_a", &[batch(2)]);
    let taken = take_stash("slk_a");
    assert_eq!(taken.iter().map(|b| (b.seq, b.bytes.len())).collect::<Vec<_>>(), vec![(0, 100), (1, 100), (2, 100)]);
    assert!(take_stash("slk_a").is_empty(), "taking clears it");
    assert_eq!(take_stash("slk_b").len(), 1, "each project has its own stash");
}

#[wasm_bindgen_test]
async fn refusals_and_unreachable_collectors_are_told_apart() {
    let (url, key) = collector();
    let refused = send_batch(url, "slk_no_such_project", &one_batch(key, random_session_id().unwrap()), false).await;
    assert_eq!((refused.status, refused.outcome.as_deref()), (Some(401), Some("bad_credentials")));
    assert_eq!(delivery(refused.status), Delivery::Refused);
    // Nothing listens on port 9 of loopback: no response at all, which is retried.
    let unreachable = send_batch("http://127.0.0.1:9", key, &[1, 2, 3], false).await;
    assert_eq!(unreachable.status, None);
    assert_eq!(delivery(unreachable.status), Delivery::Retry);
}
