//! `cargo xtask bench-player`: a synthetic 30-minute session (about 50,000 events, a keyframe
//! every 5 minutes, a 2,300-node page) replayed two ways: by the replay core natively, and in
//! the viewer in headless Chromium (the core compiled to wasm, the page in its sandboxed
//! frame). Prints the time to the first frame and the time to seek to random moments, against
//! the targets (first frame 1 s, seek 150 ms); what a session opened at its start shows; and,
//! over 12 s of playback at 8× across a keyframe, animation frames and page updates per second,
//! blank frames (target 0), frame loads (target 0) and page builds (one per keyframe).

use std::time::{Duration, Instant};

use sightline_e2e::webdriver::Browser;
use sightline_e2e::Http;
use sightline_player::html::to_html;
use sightline_player::Replay;
use sightline_protocol::{
    decode_batch, encode_batch, fixtures, Batch, ConsoleLevel, Element, Event, EventData, Initiator, Input, Limits,
    MouseMove, MovePoint, Mutation, Namespace, Network, Node, NodeKind, Pointer, PointerKind, Scroll, SessionId,
    Snapshot, TextChange,
};

use crate::build_player::build_player;
use crate::rng::Rng;
use crate::tools::release_collector;

const KEY: &str = "slk_bench_player";
const TOKEN: &str = "slr_bench_player";
const SESSION_MS: u64 = 30 * 60 * 1000;
const BATCH_MS: u64 = 5_000;
const KEYFRAME_MS: u64 = 5 * 60 * 1000;
const ROWS: u32 = 200;
const COLUMNS: u32 = 5;
const SEEKS: usize = 20;
const FIRST_FRAME_TARGET_MS: f64 = 1_000.0;
const SEEK_TARGET_MS: f64 = 150.0;
/// How long the benchmark plays the session at 8×, in ms.
const PLAYBACK_MS: u32 = 12_000;
const START: u64 = 1_790_000_000_000;

/// The synthetic page: a heading, a search field and a table; texts change as the session goes.
struct Page {
    nodes: Vec<Node>,
}

const INPUT: u32 = 9;

impl Page {
    fn new() -> Page {
        let element = |tag: &str, attrs: &[(&str, &str)]| {
            NodeKind::Element(Element {
                tag: tag.into(),
                attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                ns: Namespace::Html,
            })
        };
        let node = |id, parent, kind| Node { id, parent, next: 0, kind };
        let mut nodes = vec![
            node(1, 0, NodeKind::Document(Default::default())),
            node(2, 1, element("html", &[])),
            node(3, 2, element("head", &[])),
            node(4, 3, element("style", &[])),
            node(5, 4, NodeKind::Text("td { padding: 4px 8px } .hot { background: #fee }".into())),
            node(6, 2, element("body", &[])),
            node(7, 6, element("h1", &[])),
            node(8, 7, NodeKind::Text("Invoices".into())),
            node(INPUT, 6, element("input", &[("type", "search"), ("placeholder", "Filter")])),
            node(10, 6, element("table", &[("id", "invoices")])),
        ];
        let mut id = 11;
        for row in 0..ROWS {
            let tr = id;
            nodes.push(node(tr, 10, element("tr", &[("class", "row")])));
            id += 1;
            for column in 0..COLUMNS {
                nodes.push(node(id, tr, element("td", &[])));
                nodes.push(node(id + 1, id, NodeKind::Text(format!("r{row} c{column}"))));
                id += 2;
            }
        }
        Page { nodes }
    }

    /// The id of the text node of a cell.
    fn cell_text(row: u32, column: u32) -> u32 {
        11 + row * (1 + 2 * COLUMNS) + 1 + 2 * column + 1
    }

    fn cell(row: u32) -> u32 {
        11 + row * (1 + 2 * COLUMNS) + 1
    }

    fn set_text(&mut self, id: u32, text: &str) {
        if let Some(node) = self.nodes.iter_mut().find(|n| n.id == id) {
            node.kind = NodeKind::Text(text.to_owned());
        }
    }
}

/// The session's batches, and how many events they hold.
fn synthetic_session(session: SessionId) -> (Vec<Batch>, usize) {
    let mut page = Page::new();
    let mut random = Rng(42);
    let mut batches = Vec::new();
    let mut total = 0;
    let mut meta = fixtures::page_start().events.remove(0);
    meta.dt = 0;
    for seq in 0..(SESSION_MS / BATCH_MS) as u32 {
        let start = START + u64::from(seq) * BATCH_MS;
        let mut timed: Vec<(u64, EventData)> = Vec::new();
        if seq == 0 {
            timed.push((start, meta.data.clone()));
        }
        if (start - START).is_multiple_of(KEYFRAME_MS) {
            timed.push((start, EventData::Snapshot(Snapshot { nodes: page.nodes.clone() })));
        }
        for second in 0..BATCH_MS / 1000 {
            let at = start + second * 1000;
            for i in 0..10 {
                let (x, y) = (random.below(1200) as i32, random.below(800) as i32);
                let points = vec![MovePoint { x, y, offset: 0 }, MovePoint { x: x + 3, y: y + 2, offset: 50 }];
                timed.push((at + i * 100, EventData::MouseMove(MouseMove { points })));
            }
            for i in 0..12 {
                let (row, column) = (random.below(u64::from(ROWS)) as u32, random.below(u64::from(COLUMNS)) as u32);
                let text = format!("{} EUR", random.below(100_000));
                page.set_text(Page::cell_text(row, column), &text);
                let texts = vec![TextChange { id: Page::cell_text(row, column), text }];
                timed.push((at + i * 80 + 5, EventData::Mutation(Mutation { texts, ..Default::default() })));
            }
            for i in 0..3 {
                let y = random.below(4000) as i32;
                timed.push((at + i * 300 + 20, EventData::Scroll(Scroll { target: 1, x: 0, y })));
            }
            for i in 0..2 {
                let value = "*".repeat(1 + random.below(12) as usize);
                let input = Input { target: INPUT, value, checked: None, masked: true, scripted: false };
                timed.push((at + i * 500 + 40, EventData::Input(input)));
            }
            if second % 2 == 0 {
                let target = Page::cell(random.below(u64::from(ROWS)) as u32);
                let click = Pointer { kind: PointerKind::Click, target, x: 300, y: 200 };
                timed.push((at + 700, EventData::Pointer(click)));
            }
            if second == 3 {
                let network = Network {
                    initiator: Initiator::Fetch,
                    method: "GET".into(),
                    url: format!("https://app.example/api/invoices?page={seq}"),
                    status: if seq % 50 == 7 { 500 } else { 200 },
                    duration: 120,
                    ..Default::default()
                };
                timed.push((at + 900, EventData::Network(Box::new(network))));
            }
        }
        if seq % 6 == 0 {
            let console = sightline_protocol::Console {
                level: ConsoleLevel::Warn,
                args: vec!["slow render".into()],
                stack: None,
            };
            timed.push((start + 4_950, EventData::Console(console)));
        }
        timed.sort_by_key(|(at, _)| *at);
        total += timed.len();
        let events = Event::sequence(start, timed);
        batches.push(Batch {
            project: KEY.into(),
            session,
            page: 0,
            seq,
            start,
            sent: start + BATCH_MS,
            events,
            trace_key: None,
        });
    }
    (batches, total)
}

/// Random moments to seek to, the same every run.
fn seek_points() -> Vec<u64> {
    let mut random = Rng(7);
    (0..SEEKS).map(|_| random.below(SESSION_MS - 1_000)).collect()
}

fn summary(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let p95 = ms[(ms.len() * 95 / 100).min(ms.len() - 1)];
    (median, p95, ms[ms.len() - 1])
}

/// Runs the benchmark and prints the numbers.
pub fn run() -> Result<(), String> {
    build_player()?;
    let session = SessionId([0x5e; 16]);
    let (batches, events) = synthetic_session(session);
    let framed: Vec<Vec<u8>> =
        batches.iter().map(|b| encode_batch(b).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let bytes: usize = framed.iter().map(Vec::len).sum();
    let keyframes = SESSION_MS / KEYFRAME_MS;
    println!(
        "session: 30 min, {events} events in {} batches ({bytes} bytes compressed), {keyframes} keyframes, {} nodes",
        batches.len(),
        Page::new().nodes.len()
    );

    // The replay core, natively.
    let started = Instant::now();
    let decoded: Vec<Batch> = framed
        .iter()
        .map(|f| decode_batch(f, &Limits::default()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let replay = Replay::new(&decoded);
    let html = |replay: &Replay, at: u64| {
        let dom = replay.dom_at(at);
        dom.roots().next().map(|root| to_html(&dom, root)).unwrap_or_default()
    };
    let first = html(&replay, START);
    let native_first = started.elapsed().as_secs_f64() * 1000.0;
    let native_seeks: Vec<f64> = seek_points()
        .into_iter()
        .map(|offset| {
            let started = Instant::now();
            let page = html(&replay, START + offset);
            assert!(page.len() > first.len() / 2);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();

    // The viewer in headless Chromium.
    let (collector, _data) = release_collector(KEY, TOKEN)?;
    let http = Http::default();
    for batch in &framed {
        let response = http.post_batch(&collector.base, KEY, batch);
        if response.status != 200 {
            return Err(format!("ingest: {} {}", response.status, String::from_utf8_lossy(&response.body)));
        }
    }
    let browser = Browser::start();
    browser.set_window_size(1400, 1000);
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    let mut first_frames = Vec::new();
    for _ in 0..3 {
        browser.navigate(&format!("{}/sessions/{session}", collector.base));
        let mark = browser
            .wait_for("performance.getEntriesByName('sightline-first-frame')[0]?.startTime", Duration::from_secs(60));
        first_frames.push(mark.as_f64().ok_or("no first-frame mark")?);
    }
    // Opened at its very start, the session shows its first keyframe, never a blank frame.
    let start_nodes = browser
        .wait_for(
            "document.getElementById('replay-frame')?.contentDocument?.getElementsByTagName('td').length || 0",
            Duration::from_secs(20),
        )
        .as_u64()
        .unwrap_or(0);
    // A seek: from the timeline's input to the second animation frame after it, when the page
    // changed by it has been painted.
    let mut browser_seeks = Vec::new();
    for offset in seek_points() {
        let ms = browser.execute_async(&format!(
            "const done = arguments[arguments.length - 1];
             const timeline = document.getElementById('timeline');
             const started = performance.now();
             timeline.value = String({offset});
             timeline.dispatchEvent(new Event('input'));
             requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - started)));"
        ));
        browser_seeks.push(ms.as_f64().ok_or_else(|| format!("seek: {ms}"))?);
    }
    // Playback at 8× from 4:00, across the keyframe at 5:00: every animation frame is looked
    // at, and a frame whose page is not there (no document, an empty body, the frame in
    // standby) counts as blank.
    let playback = browser.execute_async(&format!(
        "const done = arguments[arguments.length - 1];
         const stage = document.querySelector('.stage');
         const timeline = document.getElementById('timeline');
         document.getElementById('skip-idle').checked = false;
         document.getElementById('speed').value = '8';
         timeline.value = '240000';
         timeline.dispatchEvent(new Event('input'));
         const before = {{ loads: Number(stage.dataset.loads), builds: Number(stage.dataset.builds), updates: Number(stage.dataset.updates) }};
         let frames = 0, blank = 0;
         const started = performance.now();
         document.getElementById('play').click();
         const look = () => {{
           const frame = document.getElementById('replay-frame');
           const body = frame && !frame.classList.contains('standby') ? frame.contentDocument?.body : null;
           frames += 1;
           if (!body || body.childElementCount === 0) blank += 1;
           if (performance.now() - started < {PLAYBACK_MS}) return requestAnimationFrame(look);
           document.getElementById('play').click();
           done({{ seconds: (performance.now() - started) / 1000, frames, blank,
             played: Number(timeline.value) - 240000,
             loads: Number(stage.dataset.loads) - before.loads, builds: Number(stage.dataset.builds) - before.builds,
             updates: Number(stage.dataset.updates) - before.updates }});
         }};
         requestAnimationFrame(look);"
    ));
    let number = |key: &str| playback[key].as_f64().unwrap_or(f64::NAN);
    let html_bytes = browser
        .execute("return document.getElementById('replay-frame').contentDocument.documentElement.outerHTML.length;");

    let (first_frame, ..) = summary(first_frames.clone());
    let (native_median, native_p95, native_max) = summary(native_seeks);
    let (median, p95, max) = summary(browser_seeks);
    println!("page shown: {} bytes of HTML", html_bytes.as_u64().unwrap_or(0));
    println!("frame at the session's very start: {start_nodes} table cells (the first keyframe; 0 would be blank)");
    println!(
        "playback at 8× for {:.1} s ({:.0} s of the session, across the keyframe at 5:00): \
         {:.0} animation frames/s, {:.1} page updates/s, {} blank frames of {}, {} frame loads, {} page builds",
        number("seconds"),
        number("played") / 1000.0,
        number("frames") / number("seconds"),
        number("updates") / number("seconds"),
        number("blank"),
        number("frames"),
        number("loads"),
        number("builds"),
    );
    println!();
    println!("{:<44} {:>10} {:>10} {:>10} {:>9}", "", "median ms", "p95 ms", "max ms", "÷ target");
    println!(
        "{:<44} {:>10.1} {:>10} {:>10} {:>9.2}",
        "first frame, core natively (decode + build)",
        native_first,
        "",
        "",
        native_first / FIRST_FRAME_TARGET_MS
    );
    println!(
        "{:<44} {:>10.1} {:>10.1} {:>10.1} {:>9.2}",
        format!("seek, core natively ({SEEKS} moments)"),
        native_median,
        native_p95,
        native_max,
        native_p95 / SEEK_TARGET_MS
    );
    println!(
        "{:<44} {:>10.1} {:>10} {:>10.1} {:>9.2}",
        "first frame, viewer (navigation to frame)",
        first_frame,
        "",
        first_frames.iter().copied().fold(0.0, f64::max),
        first_frame / FIRST_FRAME_TARGET_MS
    );
    println!(
        "{:<44} {:>10.1} {:>10.1} {:>10.1} {:>9.2}",
        "seek, viewer (input to the page painted)",
        median,
        p95,
        max,
        p95 / SEEK_TARGET_MS
    );
    println!();
    println!("targets: first frame {FIRST_FRAME_TARGET_MS} ms, seek {SEEK_TARGET_MS} ms (the ratio divides the median first frame and the p95 seek by them)");
    Ok(())
}
