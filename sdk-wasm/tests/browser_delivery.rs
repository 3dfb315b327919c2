//! Delivery's browser side: what the page could not send waits in `localStorage` for the next
//! page. Posting and beacons are the npm wrapper's; `tests/sdk_in_browser.rs` checks them end
//! to end against the collector.
#![cfg(target_arch = "wasm32")]

use sightline_sdk::browser::{save_stash, take_stash};
use sightline_sdk::intake;
use sightline_sdk::recorder::Recorder;
use sightline_sdk::transport::Pending;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
fn at_unload_what_the_browser_refuses_is_kept_and_the_next_page_sends_it() {
    let key = "slk_unload";
    let _ = take_stash(key);
    let now = 1_780_000_000_000.0;
    let recorder = Recorder::new(key.into(), now).unwrap();
    recorder.record(intake::CUSTOM, &[0.0], "about_to_leave", now + 10.0).unwrap();
    let refuse = js_sys::Function::new_with_args("batch", "return false");
    recorder.unload(now + 20.0, &refuse);
    let kept = take_stash(key);
    assert_eq!(kept.iter().map(|b| b.seq).collect::<Vec<_>>(), vec![0], "the refused batch is kept");
    save_stash(key, &kept);

    // The next page takes the stash into its queue; a beacon that is taken leaves nothing.
    let next = Recorder::new(key.into(), now + 1_000.0).unwrap();
    let offered = js_sys::Array::new();
    let accept = js_sys::Function::new_with_args("batch", "this.push(batch.length); return true;");
    let accept = accept.bind0(&offered);
    next.unload(now + 1_100.0, &accept);
    assert_eq!(offered.length(), 1, "the kept batch went out by beacon");
    assert_eq!(offered.get(0).as_f64(), Some(kept[0].bytes.len() as f64));
    assert!(take_stash(key).is_empty());
}

#[wasm_bindgen_test]
fn a_page_restored_from_the_back_forward_cache_takes_back_what_it_kept() {
    let key = "slk_restored";
    let _ = take_stash(key);
    let now = 1_780_000_000_000.0;
    let recorder = Recorder::new(key.into(), now).unwrap();
    recorder.record(intake::CUSTOM, &[0.0], "left_and_came_back", now + 10.0).unwrap();
    recorder.unload(now + 20.0, &js_sys::Function::new_with_args("batch", "return false"));
    assert_eq!(recorder.next_batch(now + 30.0), None, "kept in storage, not in the queue");

    recorder.restored();
    assert!(take_stash(key).is_empty(), "taken back from storage");
    let batch = recorder.next_batch(now + 40.0).expect("the kept batch, to send from here");
    assert!(!recorder.answered(batch, 200, None, now + 50.0), "nothing more to send");
    assert!(recorder.is_idle());
}
