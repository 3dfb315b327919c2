//! The recorder's own rules, in a real browser: when a batch is cut, when it asks the page for a
//! keyframe, and when a session ends while the page stays open.
#![cfg(target_arch = "wasm32")]

use sightline_protocol::{decode_batch, unseal, Batch, EventData, Limits, PointerKind};
use sightline_sdk::intake;
use sightline_sdk::recorder::Recorder;
use sightline_sdk::session::{IDLE_TIMEOUT_MS, MAX_DURATION_MS};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MINUTE: f64 = 60_000.0;

/// A recorder on a fresh tab: no session stored by an earlier test.
fn recorder(now: f64) -> Recorder {
    web_sys::window().unwrap().session_storage().unwrap().unwrap().clear().unwrap();
    Recorder::new("slk_rules".into(), now).unwrap()
}

/// Records a click; returns whether it began a new session.
fn click(recorder: &Recorder, now: f64) -> bool {
    recorder.record(intake::POINTER, &[0.0, 1.0, 10.0, 20.0], "", now).unwrap()
}

/// Records the page's metadata, with `url`.
fn meta(recorder: &Recorder, now: f64, url: &str) {
    let texts = [url, "", "Title", "UA", "Chrome", "140", "Linux", "", "en", "UTC"].join("\0");
    recorder.record(intake::META, &[1.0, 1920.0, 1080.0, 1280.0, 720.0, 1.0, 0.0], &texts, now).unwrap();
}

/// A change set with nothing in it: what the page's own code does, from the recorder's view.
fn page_change(recorder: &Recorder, now: f64) {
    assert!(!recorder.mutation(vec![0, 0, 0, 0], String::new(), now));
}

/// The batch inside what the recorder hands out: a new session's batches are sealed with its
/// writer secret.
fn opened(bytes: &[u8]) -> &[u8] {
    let (secret, framed) = unseal(bytes).unwrap();
    assert!(secret.is_some(), "a new session's batches are sealed");
    framed
}

/// Sends the next batch, answers it with `status`, and returns it decoded.
fn send(recorder: &Recorder, now: f64, status: u16) -> Option<Batch> {
    let bytes = recorder.next_batch(now)?;
    recorder.answered(status, None, now);
    Some(decode_batch(opened(&bytes), &Limits::default()).unwrap())
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
    assert_eq!(decode_batch(opened(&bytes), &Limits::default()).unwrap().events.len(), 5);
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
    snapshot(&recorder, t0 + 2_100.0);
    assert!(!recorder.tick(t0 + 3_040.0), "until a snapshot is recorded");

    // A collector that refuses every batch (a wrong key) gets one keyframe, not one a batch...
    refuse_next(&recorder, t0 + 4_000.0, 403);
    assert!(!recorder.tick(t0 + 5_000.0), "the run of refusals goes on: no new keyframe");
    // ...and one more when it stores batches again, the first having been refused too.
    let t1 = t0 + 70_000.0;
    click(&recorder, t1);
    recorder.flush(t1 + 100.0);
    assert!(send(&recorder, t1 + 200.0, 200).is_some());
    assert!(recorder.tick(t1 + 300.0), "the run of refusals ended");
    snapshot(&recorder, t1 + 400.0);
    // Refusals ask at most once a minute, however they come.
    refuse_next(&recorder, t1 + 1_000.0, 413);
    assert!(!recorder.tick(t1 + 2_000.0), "a minute has not passed");
    let t2 = t1 + 61_000.0;
    click(&recorder, t2);
    recorder.flush(t2);
    assert!(send(&recorder, t2, 200).is_some());
    refuse_next(&recorder, t2 + 1_000.0, 413);
    assert!(recorder.tick(t2 + 2_000.0), "a refusal after a stored batch asks again");
    snapshot(&recorder, t2 + 2_100.0);
    click(&recorder, t2 + 2_500.0);
    recorder.flush(t2 + 2_600.0);
    assert!(send(&recorder, t2 + 2_700.0, 200).is_some());
    assert!(!recorder.tick(t2 + 3_000.0), "one refusal alone: its keyframe was stored");
}

fn snapshot(recorder: &Recorder, now: f64) {
    assert!(!recorder.snapshot(vec![1, 0, 1, 0, 0], String::new(), now), "a well-formed tape");
}

#[wasm_bindgen_test]
fn a_malformed_tape_is_dropped_and_the_page_walked_again_at_most_once_a_minute() {
    let t0 = 1_782_000_000_000.0;
    let recorder = recorder(t0);
    meta(&recorder, t0, "https://app.example.com/");
    snapshot(&recorder, t0 + 10.0);
    assert!(!recorder.tick(t0 + 100.0));
    // An element claiming an attribute whose text fields are missing.
    let malformed = || vec![1, 2, 1, 0, 0, 0, 1];
    assert!(recorder.snapshot(malformed(), "div".into(), t0 + 200.0), "dropped, and said so");
    assert!(recorder.tick(t0 + 1_000.0), "the first asks for a keyframe at once");
    // The recording goes on: clicks and the keyframe are recorded and sent.
    assert!(!click(&recorder, t0 + 1_100.0));
    snapshot(&recorder, t0 + 1_200.0);
    assert!(!recorder.tick(t0 + 1_300.0), "the keyframe was recorded");
    recorder.flush(t0 + 1_400.0);
    let batch = send(&recorder, t0 + 1_500.0, 200).expect("a batch");
    let snapshots = batch.events.iter().filter(|e| matches!(e.data, EventData::Snapshot(_))).count();
    assert_eq!(snapshots, 2, "the first snapshot and the keyframe");
    // Another within the minute is dropped without asking again; after it, it asks.
    assert!(recorder.mutation(vec![0, 1, 2, 9, 1, 0, 0, 1], "li".into(), t0 + 30_000.0));
    assert!(!recorder.tick(t0 + 31_000.0), "not twice within a minute");
    assert!(recorder.mutation(vec![0, 1, 2, 9, 1, 0, 0, 1], "li".into(), t0 + 61_000.0));
    assert!(recorder.tick(t0 + 61_500.0), "a minute later it asks again");
}

/// Records a click, sends it, and has the collector refuse it with `status`.
fn refuse_next(recorder: &Recorder, now: f64, status: u16) {
    click(recorder, now);
    recorder.flush(now);
    assert!(send(recorder, now, status).is_some());
}

#[wasm_bindgen_test]
fn an_idle_page_records_nothing_until_the_user_acts_again_in_a_new_session() {
    let t0 = 1_782_000_000_000.0;
    let idle = IDLE_TIMEOUT_MS as f64;
    let recorder = recorder(t0);
    let first = recorder.session_id();
    meta(&recorder, t0, "https://app.example/invoices");
    assert!(!click(&recorder, t0 + 1.0));
    // The page keeps changing itself, which keeps nobody's session alive; nor do the app's own
    // calls, a resize or the tab going into the background.
    for minute in [10.0, 20.0, 29.0] {
        page_change(&recorder, t0 + minute * MINUTE);
    }
    let at = t0 + 29.0 * MINUTE;
    recorder.record(intake::CUSTOM, &[0.0], "refreshed", at).unwrap();
    recorder.record(intake::VIEWPORT, &[1000.0, 700.0], "", at).unwrap();
    recorder.record(intake::VISIBILITY, &[0.0], "", at).unwrap();
    recorder.record(intake::FOCUS, &[5.0, 0.0], "", at).unwrap();
    recorder.record(intake::NAVIGATION, &[2.0], "https://app.example/invoices?page=2\0Invoices", at).unwrap();
    recorder.record(intake::SCROLL_POSITION, &[1.0, 0.0, 400.0], "", at).unwrap();
    assert!(!recorder.tick(t0 + idle - 1_000.0));
    assert_eq!(recorder.session_id(), first);
    let sent = send(&recorder, t0 + idle - 1_000.0, 200).expect("the batch of the last minutes");
    assert_eq!(sent.events.len(), 12, "metadata, load, click, 3 changes, and 6 events of the page's own");
    // Once it has idled out, what was recorded goes out at once under the old session...
    page_change(&recorder, t0 + idle - 500.0);
    recorder.tick(t0 + idle + 1.0);
    let last = send(&recorder, t0 + idle + 1.0, 200).expect("the ended session's last batch");
    assert_eq!((last.session.to_string(), last.events.len()), (first.clone(), 1));
    // ...and the page's changes are not recorded at all.
    page_change(&recorder, t0 + idle + MINUTE);
    recorder.record(intake::VISIBILITY, &[0.0], "", t0 + idle + MINUTE).unwrap();
    recorder.flush(t0 + idle + MINUTE);
    assert!(send(&recorder, t0 + idle + MINUTE, 200).is_none(), "nothing recorded while idle");
    assert_eq!(recorder.session_id(), first);

    // The user's next click starts a new session, which asks for a keyframe at once and says
    // again who is on what.
    assert!(click(&recorder, t0 + idle + 2.0 * MINUTE), "a new session began");
    assert!(!click(&recorder, t0 + idle + 2.0 * MINUTE), "once");
    let second = recorder.session_id();
    assert_ne!(second, first);
    assert!(recorder.tick(t0 + idle + 2.0 * MINUTE + 1.0));
    recorder.flush(t0 + idle + 2.0 * MINUTE + 2.0);
    let batch = send(&recorder, t0 + idle + 2.0 * MINUTE + 2.0, 200).expect("the new session's batch");
    assert_eq!(batch.session.to_string(), second);
    let kinds: Vec<_> = batch.events.iter().map(|e| &e.data).collect();
    assert!(
        matches!(kinds.as_slice(), [EventData::Meta(m), EventData::Pointer(p), EventData::Pointer(_)]
            if m.url == "https://app.example/invoices" && p.kind == PointerKind::Click),
        "{kinds:?}"
    );
}

#[wasm_bindgen_test]
fn the_tab_shown_again_after_half_an_hour_starts_a_new_session() {
    let t0 = 1_784_000_000_000.0;
    let recorder = recorder(t0);
    let first = recorder.session_id();
    click(&recorder, t0 + 1.0);
    recorder.record(intake::VISIBILITY, &[0.0], "", t0 + 2.0).unwrap();
    let back = t0 + IDLE_TIMEOUT_MS as f64 + 10.0 * MINUTE;
    assert!(recorder.record(intake::VISIBILITY, &[1.0], "", back).unwrap(), "the user is back");
    assert_ne!(recorder.session_id(), first);
}

#[wasm_bindgen_test]
fn a_session_of_twelve_hours_gives_way_to_the_next_while_the_user_is_at_it() {
    let t0 = 1_783_000_000_000.0;
    let recorder = recorder(t0);
    let first = recorder.session_id();
    meta(&recorder, t0, "https://app.example/board");
    snapshot(&recorder, t0 + 1.0);
    let mut now = t0;
    while now < t0 + MAX_DURATION_MS as f64 - 10.0 * MINUTE {
        now += 10.0 * MINUTE;
        click(&recorder, now);
        recorder.tick(now);
        while send(&recorder, now, 200).is_some() {}
    }
    assert_eq!(recorder.session_id(), first);
    // Twelve hours in, the next tick starts the next session, before anything else happens.
    let over = t0 + MAX_DURATION_MS as f64;
    page_change(&recorder, over - 1.0);
    assert!(recorder.tick(over), "the new session asks for a keyframe");
    let second = recorder.session_id();
    assert_ne!(second, first);
    let last = send(&recorder, over, 200).expect("the old session's last batch");
    assert_eq!(last.session.to_string(), first);
    page_change(&recorder, over + 10.0);
    recorder.flush(over + 20.0);
    let batch = send(&recorder, over + 20.0, 200).expect("the page's changes, in the new session");
    assert_eq!(batch.session.to_string(), second);
    assert!(matches!(batch.events[0].data, EventData::Meta(_)) && batch.events.len() == 2);
}

#[wasm_bindgen_test]
fn an_event_past_twelve_hours_starts_the_next_session_before_the_tick_does() {
    let t0 = 1_785_000_000_000.0;
    let recorder = recorder(t0);
    let first = recorder.session_id();
    let over = t0 + MAX_DURATION_MS as f64;
    // The user has been at it all along; the page logs something just past the mark.
    for minute in (10..=720).step_by(10) {
        click(&recorder, t0 + f64::from(minute) * MINUTE - 1_000.0);
    }
    recorder.record(intake::CONSOLE, &[1.0, 1.0, 0.0], "past the mark", over + 10.0).unwrap();
    assert_ne!(recorder.session_id(), first, "a new session");
    recorder.flush(over + 20.0);
    let mut sessions = Vec::new();
    while let Some(batch) = send(&recorder, over + 20.0, 200) {
        sessions.push((batch.session.to_string(), batch.events.len()));
    }
    assert_eq!(sessions.last().map(|s| s.1), Some(1), "the log, recorded: {sessions:?}");
}

#[wasm_bindgen_test]
fn a_full_session_is_recorded_on_in_a_new_one_that_starts_with_a_keyframe() {
    let t0 = 1_782_000_000_000.0;
    let recorder = recorder(t0);
    meta(&recorder, t0, "https://app.example.com/");
    snapshot(&recorder, t0 + 10.0);
    click(&recorder, t0 + 20.0);
    let first = recorder.session_id();
    // A refusal about another session (a batch an earlier page left) changes nothing.
    recorder.session_full("0123456789abcdef0123456789abcdef", t0 + 100.0);
    assert_eq!(recorder.session_id(), first);
    assert!(!recorder.tick(t0 + 200.0));
    recorder.session_full(&first.to_uppercase(), t0 + 300.0);
    let second = recorder.session_id();
    assert_ne!(second, first, "a new session");
    assert!(recorder.tick(t0 + 400.0), "which asks for a keyframe");
    snapshot(&recorder, t0 + 500.0);
    recorder.flush(t0 + 600.0);
    // The old session's last batch, then the new one's, with the page's metadata again.
    let mut sessions = Vec::new();
    while let Some(batch) = send(&recorder, t0 + 700.0, 200) {
        let has_meta = batch.events.iter().any(|e| matches!(e.data, EventData::Meta(_)));
        let has_snapshot = batch.events.iter().any(|e| matches!(e.data, EventData::Snapshot(_)));
        sessions.push((batch.session.to_string(), has_meta, has_snapshot));
    }
    assert_eq!(sessions.last(), Some(&(second, true, true)), "{sessions:?}");
}
