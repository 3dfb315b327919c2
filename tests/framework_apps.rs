//! The SDK on apps built with real frameworks from npm, as their own builds ship them
//! (`npm/test/apps`, bundled by esbuild): every page load recorded from its first snapshot,
//! whatever the framework does to the page while the recorder walks it.
//!
//! Needs `npm/dist` and `target/test-apps` (both built by `cargo xtask test`), Chromium and
//! ChromeDriver.

use std::time::Duration;

use sightline_e2e::sdk::{app_page, dist, recorded_session, start_collector, stored, test_app};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{Collector, Http};
use sightline_protocol::{Batch, EventData, NodeKind};

/// The texts and element tags of page `page`'s snapshot and its changes, in recorded order.
fn recorded_texts(batches: &[Batch], page: u32) -> (Vec<String>, bool) {
    let mut texts = Vec::new();
    let mut snapshot = false;
    for batch in batches.iter().filter(|b| b.page == page) {
        for event in &batch.events {
            let nodes = match &event.data {
                EventData::Snapshot(s) => {
                    snapshot = true;
                    &s.nodes
                }
                EventData::Mutation(m) => &m.adds,
                _ => continue,
            };
            for node in nodes {
                match &node.kind {
                    NodeKind::Text(text) => texts.push(text.clone()),
                    NodeKind::Element(el) => texts.extend(el.attrs.iter().map(|(n, v)| format!("{n}={v}"))),
                    _ => {}
                }
            }
        }
    }
    (texts, snapshot)
}

fn sdk_recoveries(collector: &Collector) -> usize {
    let metrics = Http::default().get(&format!("{}/metrics", collector.base), "");
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .filter(|l| l.starts_with("sightline_sdk_reports_total{"))
        .map(|l| l.rsplit(' ').next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0))
        .sum()
}

/// Every load of the app is recorded from its snapshot on, with no walk of the page dropped.
/// The app starts with 800 todos (about 6,500 nodes, so the snapshot is handed over in chunks:
/// every 6,000 nodes, and wherever a slice of 8 ms ends), and each load moves the nodes along
/// by one, so that over the loads each kind of node comes last in a chunk.
#[test]
fn a_svelte_app_is_recorded_on_every_load() {
    let (collector, _data) = start_collector();
    let pages = vec![("/".into(), app_page(&collector.base, "")), ("/app.js".into(), test_app("svelte"))];
    let site = StaticFiles::start(&dist(), pages);
    let browser = Browser::start();
    let http = Http::default();
    const LOADS: u32 = 8;
    let mut session = String::new();
    for load in 0..LOADS {
        browser.navigate(&format!("{}/?todos=800&pad={load}", site.base));
        session = recorded_session(&browser);
        // The user adds two todos; the app clears the field after each.
        for title in ["Buy milk", "Call the bank"] {
            browser.type_into(".new-todo", &format!("{title}\u{E007}"));
        }
        let status = browser.execute("return window.sdkStatus();");
        assert_eq!(status["state"], "recording", "load {load}: {status}");
    }
    // Leaving the page sends what waits: by beacon what fits the browser's 64 KiB, the rest (a
    // snapshot of 800 todos, when it was not sent yet) kept for the next page of the origin,
    // which sends it.
    browser.navigate(&format!("{}/?todos=1", site.base));
    recorded_session(&browser);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut batches = stored(&http, &collector, &session, 1);
    while (0..LOADS).any(|page| !recorded_texts(&batches, page).0.iter().any(|t| t == "Call the bank")) {
        assert!(std::time::Instant::now() < deadline, "not every load arrived with its todos");
        std::thread::sleep(Duration::from_millis(200));
        batches = stored(&http, &collector, &session, 1);
    }
    for page in 0..LOADS {
        let (texts, snapshot) = recorded_texts(&batches, page);
        assert!(snapshot, "load {page} has its snapshot");
        assert!(texts.iter().any(|t| t == "placeholder=What needs to be done?"), "load {page}: the app's input");
        assert!(texts.iter().any(|t| t == "Buy milk"), "load {page}: the first todo");
    }
    assert_eq!(sdk_recoveries(&collector), 0, "no walk of the page was dropped, nor the SDK switched off");
}
