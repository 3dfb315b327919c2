//! Delivery's browser side: what the browser would not take at unload comes back to the
//! wrapper, which keeps it for the next page, and a page can queue it again. Posting, beacons
//! and the `localStorage` stash are the npm wrapper's; `tests/sdk_in_browser.rs` checks them end
//! to end against the collector.
#![cfg(target_arch = "wasm32")]

use sightline_sdk::intake;
use sightline_sdk::recorder::Recorder;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn what_the_browser_refuses_at_unload_is_returned_and_can_be_sent_again() {
    let now = 1_780_000_000_000.0;
    let recorder = Recorder::new("slk_unload".into(), now).unwrap();
    recorder.record(intake::CUSTOM, &[0.0], "about_to_leave", now + 10.0).unwrap();
    let refuse = js_sys::Function::new_with_args("batch", "return false");
    let kept = recorder.unload(now + 20.0, &refuse);
    assert_eq!(kept.len(), 1, "the refused batch comes back");
    // It still waits here too, in case the page lives on (a hidden tab shown again), and taking
    // back the kept copy doesn't queue it twice.
    recorder.resend(kept[0].to_vec());
    assert_eq!(recorder.next_batch(now + 30.0), Some(kept[0].to_vec()));
    assert!(!recorder.answered(0, None, now + 40.0) && !recorder.is_idle());

    // The next page queues it; a beacon that is taken leaves nothing to keep.
    let next = Recorder::new("slk_unload".into(), now + 1_000.0).unwrap();
    next.resend(kept[0].to_vec());
    next.resend(kept[0].to_vec());
    let offered = js_sys::Array::new();
    let accept = js_sys::Function::new_with_args("batch", "this.push(batch.length); return true;");
    let kept_again = next.unload(now + 1_100.0, &accept.bind0(&offered));
    assert_eq!(offered.length(), 1, "the kept batch went out by beacon, once");
    assert_eq!(offered.get(0).as_f64(), Some(kept[0].length() as f64));
    assert!(kept_again.is_empty() && next.is_idle());
}

#[wasm_bindgen_test]
fn a_batch_queued_again_is_sent_like_any_other() {
    let now = 1_780_000_000_000.0;
    let recorder = Recorder::new("slk_resend".into(), now).unwrap();
    recorder.resend(vec![1, 2, 3]);
    assert!(!recorder.is_idle());
    let batch = recorder.next_batch(now + 10.0).expect("the queued batch");
    assert_eq!(batch, vec![1, 2, 3]);
    assert_eq!(recorder.next_batch(now + 10.0), None, "one in flight");
    assert!(!recorder.answered(200, None, now + 20.0), "nothing more to send");
    assert!(recorder.is_idle());
}
