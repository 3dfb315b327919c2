//! `cargo xtask bench-query`: the session list over 100,000 sessions. Ingests them into the
//! release collector over loopback (each a user, traits, a page URL, a traced request, one in a
//! hundred with a JS error), then times the list's queries through the HTTP API: the newest
//! page, the next page, each filter. The reference measured in the same run is the cheapest
//! read there is, one session's summary by id.

use std::time::{Duration, Instant};

use sightline_e2e::Http;
use sightline_protocol::{
    encode_batch, fixtures, Batch, ErrorEvent, Event, EventData, Identify, Initiator, Network, SessionId, SpanId,
    TraceContext, TraceId, Value,
};

use crate::rng::Rng;
use crate::tools::release_collector;

const KEY: &str = "slk_bench_query";
const TOKEN: &str = "slr_bench_query";
const SESSIONS: u64 = 100_000;
const CLIENTS: u64 = 8;
const REPEATS: usize = 20;

fn id_of(i: u64, salt: u8) -> [u8; 16] {
    let mut bytes = [salt; 16];
    bytes[..8].copy_from_slice(&i.to_be_bytes());
    bytes[8..].copy_from_slice(&(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
    bytes[15] = salt;
    bytes
}

/// Session `i`: a page load, who the user is, a traced request, and now and then an error.
fn session(i: u64) -> Vec<u8> {
    let mut first = fixtures::page_start();
    let mut meta = first.events.remove(0);
    if let EventData::Meta(m) = &mut meta.data {
        m.url = format!("https://app.example.com/area{}/page{}", i % 50, i % 7);
    }
    let plans = ["team", "business", "enterprise"];
    let identify = Identify {
        user_id: format!("u_{i}"),
        traits: Value::Map(vec![
            ("plan".into(), Value::Str(plans[(i % 3) as usize].into())),
            ("company".into(), Value::Str(format!("company{}", i % 1000))),
        ]),
    };
    let network = Network {
        initiator: Initiator::Fetch,
        method: "GET".into(),
        url: "https://app.example.com/api/invoices".into(),
        status: 200,
        duration: 80,
        trace: Some(TraceContext { trace_id: TraceId(id_of(i, 7)), span_id: SpanId([1; 8]) }),
        ..Default::default()
    };
    let mut events = vec![
        meta,
        Event { dt: 10, data: EventData::Identify(identify) },
        Event { dt: 500, data: EventData::Network(Box::new(network)) },
    ];
    if i.is_multiple_of(100) {
        let error = ErrorEvent { name: "TypeError".into(), message: "x is undefined".into(), ..Default::default() };
        events.push(Event { dt: 100, data: EventData::Error(Box::new(error)) });
    }
    let start = 1_790_000_000_000 + i * 1_000;
    let batch = Batch {
        project: KEY.into(),
        session: SessionId(id_of(i, 3)),
        page: 0,
        seq: 0,
        start,
        sent: start + 5_000,
        events,
        trace_key: None,
    };
    encode_batch(&batch).expect("encoding")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `query` `REPEATS` times; median and p95 in ms, and the last answer.
fn time(http: &Http, base: &str, query: &str) -> Result<(f64, f64, serde_json::Value), String> {
    let mut times = Vec::with_capacity(REPEATS);
    let mut last = serde_json::Value::Null;
    for _ in 0..REPEATS {
        let started = Instant::now();
        let response = http.get(&format!("{base}{query}"), TOKEN);
        times.push(ms(started.elapsed()));
        if response.status != 200 {
            return Err(format!("{query}: {} {}", response.status, String::from_utf8_lossy(&response.body)));
        }
        last = response.json();
    }
    times.sort_by(f64::total_cmp);
    Ok((times[REPEATS / 2], times[REPEATS * 95 / 100], last))
}

/// Ingests the sessions and prints the query times.
pub fn run() -> Result<(), String> {
    let (collector, data) = release_collector(KEY, TOKEN)?;
    let base = collector.base.clone();

    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let base = base.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let http = Http::default();
                for i in (client..SESSIONS).step_by(CLIENTS as usize) {
                    let response = http.post_batch(&base, KEY, &session(i));
                    if response.status != 200 {
                        return Err(format!("ingest: {}", response.status));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for client in clients {
        client.join().map_err(|_| "a client panicked")??;
    }
    let ingest = started.elapsed();
    let size = data.path().join("data");
    println!(
        "{SESSIONS} sessions ingested in {:.1} s ({:.0} sessions/s, {} clients); store {} MB",
        ingest.as_secs_f64(),
        SESSIONS as f64 / ingest.as_secs_f64(),
        CLIENTS,
        dir_size(&size) / 1_000_000
    );

    let http = Http::default();
    let newest = http.get(&format!("{base}/api/sessions?limit=50"), TOKEN).json();
    let cursor = newest["next_cursor"].as_str().ok_or("no cursor on the first page")?.to_owned();
    let mut rng = Rng(99);
    let some = rng.below(SESSIONS);
    let reference = format!("/api/sessions/{}", SessionId(id_of(some, 3)));
    let queries = [
        ("one session by id (reference)", reference),
        ("newest 50", "/api/sessions?limit=50".to_owned()),
        ("next 50 (cursor)", format!("/api/sessions?limit=50&cursor={cursor}")),
        ("user id (index)", format!("/api/sessions?user=u_{}", rng.below(SESSIONS))),
        ("trace id (index)", format!("/api/sessions?trace={}", TraceId(id_of(rng.below(SESSIONS), 7)))),
        ("with errors (1 in 100)", "/api/sessions?has_errors=true&limit=50".to_owned()),
        ("URL visited (1 in 350)", "/api/sessions?url=area7/page3&limit=50".to_owned()),
        ("traits text (1 in 1,000)", "/api/sessions?q=company999&limit=50".to_owned()),
        ("rage clicks (none match)", "/api/sessions?has_rage_clicks=true&limit=50".to_owned()),
    ];
    println!();
    println!("{:<32} {:>10} {:>9} {:>8} {:>10} {:>12}", "query", "median ms", "p95 ms", "found", "more", "÷ reference");
    let mut reference_ms = None;
    for (name, query) in queries {
        let (median, p95, answer) = time(&http, &base, &query)?;
        let found = answer["sessions"].as_array().map_or(1, Vec::len);
        let more = if answer["next_cursor"].is_string() { "cursor" } else { "-" };
        let reference = *reference_ms.get_or_insert(median);
        println!("{name:<32} {median:>10.2} {p95:>9.2} {found:>8} {more:>10} {:>12.1}", median / reference);
    }
    println!();
    println!("a page scans at most 20,000 sessions; a short page with a cursor means the scan goes on from there");
    Ok(())
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
