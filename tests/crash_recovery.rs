//! `kill -9` while clients are posting: after a restart, every batch that got a 2xx is there,
//! byte for byte, and nothing half-written is.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sightline_e2e::{batch_bytes, collector_bin, project_config, random_session, split_frames, Collector, Http};
use sightline_protocol::{decode_batch, Event, EventData, Limits, Scroll, SessionId};

const KEY: &str = "slk_crash_test";
const TOKEN: &str = "slr_crash_test";
const CLIENTS: usize = 4;
const ROUNDS: usize = 3;

fn batch(session: SessionId, seq: u32) -> Vec<u8> {
    let events = (0..40)
        .map(|i| Event { dt: 16, data: EventData::Scroll(Scroll { target: 1, x: 0, y: (seq * 40 + i) as i32 }) })
        .collect();
    batch_bytes(KEY, session, 0, seq, events)
}

#[test]
fn every_acknowledged_batch_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut collector =
        Collector::start(&collector_bin(), &dir.path().join("data"), &project_config("crash", KEY, TOKEN));
    let acked: Arc<Mutex<Vec<(SessionId, u32)>>> = Arc::default();
    let sessions: Vec<SessionId> = (0..CLIENTS).map(|_| random_session()).collect();
    let mut next_seq = [0u32; CLIENTS];

    for round in 0..ROUNDS {
        let base = collector.base.clone();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (base, acked, session, mut seq) = (base.clone(), acked.clone(), sessions[c], next_seq[c]);
                std::thread::spawn(move || {
                    let http = Http::default();
                    let deadline = Instant::now() + Duration::from_secs(20);
                    // Post until the collector dies under us.
                    while Instant::now() < deadline {
                        match http.try_request(
                            "POST",
                            &format!("{base}/v1/batches"),
                            &[("x-sightline-key", KEY)],
                            Some(&batch(session, seq)),
                        ) {
                            Ok(r) if r.status == 200 => acked.lock().unwrap().push((session, seq)),
                            Ok(r) => panic!("unexpected status {}", r.status),
                            Err(_) => return seq,
                        }
                        seq += 1;
                    }
                    panic!("the collector was never killed");
                })
            })
            .collect();
        // Let a few hundred batches through, then pull the plug mid-stream.
        let target = (round + 1) * 300;
        let deadline = Instant::now() + Duration::from_secs(15);
        while acked.lock().unwrap().len() < target && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        collector.kill9();
        for (c, client) in clients.into_iter().enumerate() {
            // The batch a client was sending when the process died may or may not have been
            // stored; the next round starts after it so every seq is sent once.
            next_seq[c] = client.join().unwrap() + 1;
        }
        collector.restart();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= ROUNDS * 300 - CLIENTS, "only {} batches were acknowledged", acked.len());
    let http = Http::default();
    for session in &sessions {
        let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN);
        assert_eq!(stream.status, 200);
        let frames = split_frames(&stream.body);
        let stored: Vec<u32> = frames
            .iter()
            .map(|frame| {
                let decoded = decode_batch(frame, &Limits::default()).expect("every stored batch is whole");
                assert_eq!(frame, &batch(*session, decoded.seq), "stored exactly as sent");
                decoded.seq
            })
            .collect();
        for (s, seq) in acked.iter().filter(|(s, _)| s == session) {
            assert!(stored.contains(seq), "acknowledged batch {seq} of {s} is missing after kill -9");
        }
        let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
        assert_eq!(summary["batch_count"], stored.len(), "the summary was committed with its batches");
    }
    println!("{} acknowledged batches survived {ROUNDS} kills", acked.len());
}
