//! The recorder's own rules, in a real browser: when a batch is cut, when it asks the page for a
//! keyframe, and when a session ends while the page stays open.
#![cfg(target_arch = "wasm32")]

use sightline_protocol::{decode_batch, Batch, EventData, Limits, PointerKind};
use sightline_sdk::intake;
use sightline_sdk::recorder::Recorder;
use sightline_sdk::session::IDLE_TIMEOUT_MS;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MINUTE: f64 = 60_000.0;

/// A recorder on a fresh tab: no session stored by an earlier test.
fn recorder(now: f64) -> Recorder {
    web_sys::window().unwrap().session_storage().unwrap().unwrap().clear().unwrap();
    Recorder::new("slk_rules".into(), now).unwrap()
}

fn click(recorder: &Recorder, now: f64) {
    recorder.record(intake::POINTER, &[0.0, 1.0, 10.0, 20.0], "", now).unwrap();
}

/// A change set with nothing in it: what the page's own code does, from the recorder's view.
fn page_change(recorder: &Recorder, now: f64) {
    recorder.mutation(vec![0, 0, 0, 0], String::new(), now).unwrap();
}

/// Sends the next batch, answers it with `status`, and returns it decoded.
fn send(recorder: &Recorder, now: f64, status: u16) -> Option<Batch> {
    let bytes = recorder.next_batch(now)?;
    recorder.answered(status, None, now);
    Some(decode_batch(&bytes, &Limits::default()).unwrap())
}

#[wasm_bindgen_test]
fn a_batch_is_cut_every_five_seconds_or_when_it_is_full() {
    let t0 = 1_780_000_000_000.0;
    let recorder = recorder(t0);
    click(&recorder, t0 + 100.0);
    recorder.tick(t0 + 4_000.0);
    assert!(send(&recorder, t0 + 4_000.0, 200).is_none(), "not yet five seconds");
    recorder.tick(t0 + 5_000.0);
    let batch = send(&recorder, t0 + 5_000.0, 200).expect("cut after five seconds");
    assert_eq!(batch.events.len(), 1);
    recorder.tick(t0 + 20_000.0);
    assert!(send(&recorder, t0 + 20_000.0, 200).is_none(), "nothing recorded, nothing cut");

    // 2,000 events make a batch at once, without waiting for the clock.
    let t1 = t0 + 30_000.0;
    for n in 0..2_000 {
        click(&recorder, t1 + f64::from(n) / 10.0);
    }
    let batch = send(&recorder, t1 + 200.0, 200).expect("cut when 2,000 events wait");
    assert_eq!(batch.events.len(), 2_000);

    // So do about 128 KB of text.
    let t2 = t1 + 1_000.0;
    let line = "x".repeat(30_000);
    for n in 0..4 {
        recorder.record(intake::CONSOLE, &[1.0, 1.0, 0.0], &line, t2 + f64::from(n)).unwrap();
        assert!(recorder.next_batch(t2 + f64::from(n)).is_none(), "{n} lines are not enough");
    }
    recorder.record(intake::CONSOLE, &[1.0, 1.0, 0.0], &line, t2 + 10.0).unwrap();
    let bytes = recorder.next_batch(t2 + 10.0).expect("cut at about 128 KB");
    assert_eq!(decode_batch(&bytes, &Limits::default()).unwrap().events.len(), 5);
}

#[wasm_bindgen_test]
fn a_refused_batch_asks_for_keyframes_until_one_is_recorded() {
    let t0 = 1_781_000_000_000.0;
    let recorder = recorder(t0);
    click(&recorder, t0 + 10.0);
    recorder.flush(t0 + 20.0);
    assert!(!recorder.tick(t0 + 30.0), "nothing lost, nothing to restore");
    assert!(send(&recorder, t0 + 40.0, 413).is_some());
    // The DOM walker may be busy when asked: the recorder asks again at every tick.
    assert!(recorder.tick(t0 + 1_040.0), "a lost batch asks for a keyframe");
    assert!(recorder.tick(t0 + 2_040.0), "and keeps asking");
    recorder.snapshot(vec![1, 0, 1, 0, 0], String::new(), t0 + 2_100.0).unwrap();
    assert!(!recorder.tick(t0 + 3_040.0), "until a snapshot is recorded");
}

#[wasm_bindgen_test]
fn an_idle_page_records_nothing_until_the_user_acts_again_in_a_new_session() {
    let t0 = 1_782_000_000_000.0;
    let idle = IDLE_TIMEOUT_MS as f64;
    let recorder = recorder(t0);
    let first = recorder.session_id();
    click(&recorder, t0 + 1.0);
    // The page keeps changing itself, which keeps nobody's session alive.
    for minute in [10.0, 20.0, 29.0] {
        page_change(&recorder, t0 + minute * MINUTE);
    }
    assert!(!recorder.tick(t0 + 29.5 * MINUTE));
    assert_eq!(recorder.session_id(), first);
    // Once it has idled out, what was recorded goes out under the old session...
    recorder.tick(t0 + idle + 1.0);
    let last = send(&recorder, t0 + idle + 1.0, 200).expect("the ended session's last batch");
    assert_eq!((last.session.to_string(), last.events.len()), (first.clone(), 4));
    // ...and the page's changes are not recorded at all.
    page_change(&recorder, t0 + idle + MINUTE);
    recorder.flush(t0 + idle + MINUTE);
    assert!(send(&recorder, t0 + idle + MINUTE, 200).is_none(), "nothing recorded while idle");
    assert_eq!(recorder.session_id(), first);

    // The user's next click starts a new session, which asks for a keyframe.
    click(&recorder, t0 + idle + 2.0 * MINUTE);
    let second = recorder.session_id();
    assert_ne!(second, first);
    assert!(recorder.tick(t0 + idle + 2.0 * MINUTE + 1.0));
    recorder.flush(t0 + idle + 2.0 * MINUTE + 2.0);
    let batch = send(&recorder, t0 + idle + 2.0 * MINUTE + 2.0, 200).expect("the new session's batch");
    assert_eq!(batch.session.to_string(), second);
    let kinds: Vec<_> = batch.events.iter().map(|e| &e.data).collect();
    assert!(matches!(kinds.as_slice(), [EventData::Pointer(p)] if p.kind == PointerKind::Click), "{kinds:?}");
}
