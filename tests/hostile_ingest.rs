//! The collector against what anyone holding a page's public ingest key can send, through the
//! real binary under a memory cap: batches that decode to far more than they weigh, sessions
//! filled past their caps, and the analysis and digest of such sessions, while another tenant's
//! batches go on being acknowledged.
//!
//! Needs the collector binary (`cargo build -p sightline-collector`, which `cargo test` does).

use std::process::Command;
use std::time::{Duration, Instant};

use sightline_e2e::{batch_bytes, collector_bin, random_session, Collector, Http};
use sightline_protocol::{Console, ConsoleLevel, Event, EventData, Pointer, PointerKind, SessionId};

const HOSTILE_KEY: &str = "slk_hostile";
const HOSTILE_TOKEN: &str = "slr_hostile";
const HEALTHY_KEY: &str = "slk_healthy";
const HEALTHY_TOKEN: &str = "slr_healthy";

/// Memory the process may take beyond what it maps at start (`RLIMIT_DATA`, which counts the
/// allocator's reservations and thread stacks too): past it an allocation fails and the
/// process aborts. And the ceiling on its resident memory at its peak.
const HEADROOM: u64 = 768 << 20;

fn two_tenants() -> String {
    format!(
        "[[projects]]\nname = \"hostile\"\ningest_key = \"{HOSTILE_KEY}\"\naccept_unsealed = true\nread_tokens = [\"{HOSTILE_TOKEN}\"]\n\n\
         [[projects]]\nname = \"healthy\"\ningest_key = \"{HEALTHY_KEY}\"\naccept_unsealed = true\nread_tokens = [\"{HEALTHY_TOKEN}\"]\n"
    )
}

/// A batch of about 12 KB that decodes to 2,000,000 values: four console calls of 499,000 empty
/// arguments each (about 48 MB as strings once decoded), and a click, so that the session is
/// analysed.
fn amplifying_batch(session: SessionId, seq: u32) -> Vec<u8> {
    let console = |_| Event {
        dt: 1,
        data: EventData::Console(Console { level: ConsoleLevel::Log, args: vec![String::new(); 499_000], stack: None }),
    };
    let mut events: Vec<Event> = (0..4).map(console).collect();
    events.push(Event { dt: 1, data: EventData::Pointer(Pointer { kind: PointerKind::Click, target: 1, x: 1, y: 1 }) });
    batch_bytes(HOSTILE_KEY, session, 0, seq, events)
}

/// A batch that decodes to 12 MiB of text in three arguments.
fn heavy_batch(session: SessionId, seq: u32) -> Vec<u8> {
    let args = vec!["a".repeat((4 << 20) - 16); 3];
    let events =
        vec![Event { dt: 1, data: EventData::Console(Console { level: ConsoleLevel::Log, args, stack: None }) }];
    batch_bytes(HOSTILE_KEY, session, 0, seq, events)
}

fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the collector is alive");
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("a size in kB") * 1024
}

#[test]
fn hostile_sessions_cost_bounded_memory_and_other_tenants_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &two_tenants());
    let pid = collector.pid().expect("running");
    let cap = status_field(pid, "VmData:") + HEADROOM;
    let capped = Command::new("prlimit").arg(format!("--pid={pid}")).arg(format!("--data={cap}")).status();
    assert!(capped.is_ok_and(|s| s.success()), "prlimit sets the cap");
    let http = Http::default();
    let base = collector.base.clone();

    // A healthy tenant posts throughout.
    let healthy = std::thread::spawn({
        let base = base.clone();
        move || {
            let http = Http::default();
            let session = random_session();
            let mut acknowledged = 0;
            let deadline = Instant::now() + Duration::from_secs(600);
            for seq in 0..40 {
                let click = Event {
                    dt: 1,
                    data: EventData::Pointer(Pointer { kind: PointerKind::Click, target: 1, x: 1, y: 1 }),
                };
                let response =
                    http.post_batch(&base, HEALTHY_KEY, &batch_bytes(HEALTHY_KEY, session, 0, seq, vec![click]));
                if response.status == 200 {
                    acknowledged += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
                if Instant::now() > deadline {
                    break;
                }
            }
            acknowledged
        }
    });

    // Sessions of amplifying batches, each stored, then analysed and read as a digest.
    // Sixteen of them in one session decode to about 800 MB at once.
    let sessions: Vec<SessionId> = (0..2).map(|_| random_session()).collect();
    for (session, batches) in sessions.iter().zip([16, 2]) {
        for seq in 0..batches {
            let bytes = amplifying_batch(*session, seq);
            assert!(bytes.len() < 64 * 1024, "a small batch ({} bytes)", bytes.len());
            let response = http.post_batch(&base, HOSTILE_KEY, &bytes);
            assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        }
    }
    for session in &sessions {
        let digest = http.get(&format!("{base}/api/sessions/{session}/digest"), HOSTILE_TOKEN);
        assert_eq!(digest.status, 200, "{}", String::from_utf8_lossy(&digest.body));
    }
    // The analyzer reaches every session.
    let deadline = Instant::now() + Duration::from_secs(300);
    for session in &sessions {
        loop {
            let summary = http.get(&format!("{base}/api/sessions/{session}"), HOSTILE_TOKEN).json();
            if summary["analyzed_batches"] == summary["batch_count"] {
                break;
            }
            assert!(Instant::now() < deadline, "session {session} was never analysed: {summary}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    // A session filled to its cap of decoded bytes: what would pass it is refused, and
    // a retry of a stored batch is still a duplicate.
    let full = random_session();
    let mut refused_at = None;
    for seq in 0..12 {
        let response = http.post_batch(&base, HOSTILE_KEY, &heavy_batch(full, seq));
        if response.status != 200 {
            assert_eq!(response.status, 413);
            assert_eq!(response.error_code(), "session_full");
            // Readable by the SDK without the body, which records on in a new session.
            assert_eq!(response.header("x-sightline-error"), Some("session_full"));
            assert_eq!(response.header("x-sightline-session"), Some(full.to_string().as_str()));
            refused_at = Some(seq);
            break;
        }
    }
    assert_eq!(refused_at, Some(10), "10 batches of 12 MiB fit in 128 MiB, the 11th does not");
    let retry = http.post_batch(&base, HOSTILE_KEY, &heavy_batch(full, 3));
    assert_eq!(retry.status, 200, "a retry is answered as before");

    let acknowledged = healthy.join().expect("the healthy tenant's client");
    assert_eq!(acknowledged, 40, "every healthy batch acknowledged meanwhile");
    let health = http.get(&format!("{base}/healthz"), "");
    assert_eq!(health.status, 200);
    let peak = status_field(pid, "VmHWM:");
    eprintln!("peak RSS under the hostile sessions: {} MB", peak >> 20);
    assert!(peak < HEADROOM, "peak RSS {} MB", peak >> 20);
}

#[test]
fn clients_that_announce_a_body_and_trickle_hold_neither_memory_nor_the_collector() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &two_tenants());
    let pid = collector.pid().expect("running");
    let before = status_field(pid, "VmRSS:");
    let address = collector.base.trim_start_matches("http://").to_owned();
    // 500 connections announce a batch of 1 MiB, send 127 bytes of it, and fall silent.
    const SLOW: usize = 500;
    let mut slow: Vec<TcpStream> = (0..SLOW)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).expect("connecting");
            let head = format!(
                "POST /v1/batches HTTP/1.1\r\nhost: {address}\r\nx-sightline-key: {HOSTILE_KEY}\r\n\
                 content-type: application/vnd.sightline.batch\r\ncontent-length: {}\r\n\r\n",
                1 << 20
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&[b'S'; 127]).unwrap();
            stream
        })
        .collect();
    // Meanwhile another tenant's batches are acknowledged, and memory stays where it was.
    let http = Http::default();
    let session = random_session();
    for seq in 0..20 {
        let click =
            Event { dt: 1, data: EventData::Pointer(Pointer { kind: PointerKind::Click, target: 1, x: 1, y: 1 }) };
        let response =
            http.post_batch(&collector.base, HEALTHY_KEY, &batch_bytes(HEALTHY_KEY, session, 0, seq, vec![click]));
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    }
    let during = status_field(pid, "VmRSS:");
    eprintln!("RSS with {SLOW} slow bodies: {} MB (before: {} MB)", during >> 20, before >> 20);
    assert!(during < before + (64 << 20), "slow bodies reserve what they announce: {} MB", during >> 20);
    // Each is answered 408 once it has been silent for 10 s, and closed.
    let started = Instant::now();
    for stream in slow.iter_mut().step_by(50) {
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(30), "given up after the idle timeout");
}
