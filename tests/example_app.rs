//! A support engineer's view of a real click-through: Acme Billing, the example app, driven in
//! headless Chromium like a user would, recorded into the real collector. The session holds the
//! pages as they looked, the route changes, the clicks, the masked form input, the error the
//! user ran into, and continues across a reload; nothing private is stored.
//!
//! Needs `npm/dist` and the example app's binary (`cargo xtask test` builds both), Chromium and
//! ChromeDriver.

use std::time::{Duration, Instant};

use sightline_e2e::sdk::{session_of, start_collector, stored_stream, KEY, TOKEN};
use sightline_e2e::shop::Shop;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::Http;
use sightline_protocol::{decode_batch, Batch, ErrorKind, EventData, Limits, NavigationKind, NodeKind, PointerKind};

const PASSWORD: &str = "correct-horse-battery";
const LOGIN_PASSWORD: &str = "login-pw-Tr0ub4dor";
const CARD: &str = "5555 4444 3333 1111";

/// The first recorded call whose URL ends with `path`.
fn calls_to<'a>(events: &[&'a EventData], path: &str) -> &'a sightline_protocol::Network {
    events
        .iter()
        .find_map(|e| match e {
            EventData::Network(n) if n.url.ends_with(path) => Some(n.as_ref()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no call to {path}"))
}

#[test]
fn a_click_through_the_example_app_is_recorded_as_the_user_saw_it() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let browser = Browser::start();
    // A browser without Temporal: the time zone comes from Intl, looked up when the page is idle.
    browser
        .cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": "delete globalThis.Temporal;" }));
    browser.navigate(&format!("{}/login", shop.base));
    assert_eq!(browser.execute("return typeof Temporal;"), "undefined");
    browser.wait_for("window.sightlineReady && document.getElementById('login-email')", Duration::from_secs(20));
    let session =
        session_of(&browser.execute("return document.getElementById('session').textContent.split(' ').pop();"));

    // Sign in, then create an invoice in the modal form and look through the big customer table.
    browser.type_into("#login-email", "jane@acme.com");
    browser.type_into("#login-password", LOGIN_PASSWORD);
    browser.click("#login-submit");
    browser.wait_for("document.querySelector('button.send')", Duration::from_secs(10));
    browser.click("#new-invoice");
    browser.type_into("#invoice-customer", "Soylent");
    browser.type_into("#invoice-amount", "640");
    browser.click("#invoice-create");
    browser.wait_for("document.getElementById('toast').textContent.includes('created')", Duration::from_secs(10));
    browser.click("a[href='/customers']");
    browser.wait_for("document.querySelectorAll('#customers tr').length === 3000", Duration::from_secs(10));
    browser.type_into("#customer-filter", "lisbon");

    // Upgrade: a form with a password and a card number.
    browser.click("a[href='/checkout']");
    browser.type_into("#email", "jane@acme.com");
    browser.type_into("#password", PASSWORD);
    browser.type_into("#card", CARD);
    browser.type_into("#coupon", "SPRING24");
    browser.click("#terms");
    browser.click("#pay");
    browser.wait_for("document.getElementById('toast').textContent.includes('confirmed')", Duration::from_secs(10));

    // Back to the invoices: the send that fails, and the export that throws.
    browser.click("a[href='/']");
    browser.wait_for("document.querySelector('button.send')", Duration::from_secs(10));
    browser.click("button.send");
    browser
        .wait_for("document.getElementById('toast').textContent.includes('Could not send')", Duration::from_secs(10));
    browser.click("#export");
    browser.click("#report");
    browser.wait_for(
        "document.getElementById('report-result').textContent.startsWith('Revenue')",
        Duration::from_secs(10),
    );

    // A reload continues the session as its next page.
    browser.execute("window.sightlineReady = false; location.reload(); return true;");
    browser.wait_for("window.sightlineReady", Duration::from_secs(20));
    let http = Http::default();
    // Batches can arrive out of order (a beacon overtakes a request in flight), and one too big
    // for a beacon at the reload goes out from the next page. A page is complete when its
    // batches are numbered without a gap and hold its last event: for the first, the revenue
    // report's request; for the second, anything. The tab leaves the second page once the
    // first is complete.
    let arrived = |page: u32| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let frames = stored_stream(&http, &collector, &session, 1);
            let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
            let complete = (0..=page).all(|p| {
                let on_page: Vec<&Batch> = batches.iter().filter(|b| b.page == p).collect();
                let no_gap = on_page.iter().enumerate().all(|(i, b)| b.seq as usize == i);
                let last = p > 0
                    || on_page
                        .iter()
                        .flat_map(|b| &b.events)
                        .any(|e| matches!(&e.data, EventData::Network(n) if n.url.ends_with("/api/report")));
                !on_page.is_empty() && no_gap && last
            });
            if complete {
                return (frames, batches);
            }
            assert!(Instant::now() < deadline, "the click-through did not arrive");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    arrived(0);
    browser.navigate("about:blank");
    let (frames, batches) = arrived(1);
    let events: Vec<&EventData> =
        batches.iter().filter(|b| b.page == 0).flat_map(|b| &b.events).map(|e| &e.data).collect();

    // Nothing private left the browser.
    let decoded = format!("{batches:?}");
    let raw = frames.concat();
    for secret in [PASSWORD, CARD, "5555444433331111", LOGIN_PASSWORD] {
        let in_raw = raw.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!decoded.contains(secret) && !in_raw, "{secret:?} was recorded");
    }

    // The page as the user saw it, then each view they went to.
    let first_snapshot = events.iter().find_map(|e| match e {
        EventData::Snapshot(s) => Some(s),
        _ => None,
    });
    let texts: Vec<&str> = first_snapshot
        .expect("a snapshot")
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(texts.contains(&"Acme Billing"), "{texts:?}");
    let routes: Vec<(NavigationKind, String)> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Navigation(n) => Some((n.kind, n.url.trim_start_matches(&shop.base).to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(
        routes,
        ["/login", "/", "/customers", "/checkout", "/"]
            .iter()
            .enumerate()
            .map(|(i, path)| (if i == 0 { NavigationKind::Load } else { NavigationKind::Push }, (*path).to_owned()))
            .collect::<Vec<_>>()
    );

    // What they typed, masked except where the page opted in.
    let inputs: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Input(i) if !i.value.is_empty() => Some((i.value.clone(), i.masked)),
            _ => None,
        })
        .collect();
    assert!(inputs.contains(&("*".repeat(PASSWORD.len()), true)), "{inputs:?}");
    assert!(inputs.contains(&("*".repeat(CARD.len()), true)));
    assert!(inputs.contains(&("SPRING24".to_owned(), false)), "the coupon field is unmasked on purpose");
    let clicks = events.iter().filter(|e| matches!(e, EventData::Pointer(p) if p.kind == PointerKind::Click)).count();
    assert!(clicks >= 10, "{clicks} clicks");
    assert!(inputs.contains(&("*******".to_owned(), true)), "the modal's customer field, masked");
    let rows_added: usize = events
        .iter()
        .filter_map(|e| match e {
            EventData::Mutation(m) => {
                Some(m.adds.iter().filter(|n| matches!(&n.kind, NodeKind::Element(e) if e.tag == "tr")).count())
            }
            _ => None,
        })
        .sum();
    assert!(rows_added >= 3000, "the customer table's rows: {rows_added}");
    let login = calls_to(&events, "/api/login");
    let login_body = login.request.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.clone());
    assert_eq!(login.status, 200);
    assert!(login_body.is_none(), "/api/login is not allow-listed: no body");

    // The failure the user ran into, and the error the page threw.
    assert!(events
        .iter()
        .any(|e| matches!(e, EventData::Console(c) if c.args[0].starts_with("Sending INV-40 failed"))));
    let thrown = events.iter().find_map(|e| match e {
        EventData::Error(error) if error.kind == ErrorKind::Uncaught => Some(error),
        _ => None,
    });
    let thrown = thrown.expect("the export's TypeError");
    assert_eq!(thrown.name, "TypeError");
    assert!(thrown.stack.as_deref().is_some_and(|s| s.contains("exportCsv")), "{:?}", thrown.stack);

    // Every API call, how it ended, and the trace id the backend received with it.
    let calls: Vec<&sightline_protocol::Network> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Network(n) => Some(n.as_ref()),
            _ => None,
        })
        .collect();
    let call = |path: &str| {
        calls.iter().find(|c| c.url.ends_with(path)).copied().unwrap_or_else(|| panic!("no call to {path}: {calls:#?}"))
    };
    let received: serde_json::Value = http.get(&format!("{}/api/received", shop.base), "").json();
    let received_trace = |method: &str, path: &str| {
        let request = received.as_array().unwrap().iter().find(|r| r["method"] == method && r["path"] == path);
        request.unwrap_or_else(|| panic!("the backend got no {method} {path}"))["traceparent"]
            .as_str()
            .map(str::to_owned)
    };
    let failing = call("/api/invoices/40/send");
    assert_eq!((failing.method.as_str(), failing.status), ("POST", 500));
    assert!(failing.failed());
    let trace = failing.trace.expect("a trace id on a same-origin call");
    let sent = received_trace("POST", "/api/invoices/40/send").expect("the backend got a traceparent");
    assert_eq!(sightline_protocol::TraceContext::from_traceparent(&sent), Some(trace), "the same trace and span");
    // Those ids were derived from the page's key, in the browser and again by the decoder: the
    // request went as a marker, in a batch of version 3 (or 4, with an input set by script).
    let (frame, batch) = frames
        .iter()
        .zip(&batches)
        .find(|(_, b)| b.events.iter().any(|e| matches!(&e.data, EventData::Network(n) if n.trace == Some(trace))))
        .expect("the batch of the failing call");
    assert!(frame[3] >= sightline_protocol::frame::TRACE_KEY_VERSION, "version {}", frame[3]);
    assert_eq!(frame[3], sightline_protocol::frame::version_needed(batch), "no newer than it needs");
    assert_eq!(batch.trace_key.map(|key| key.derive(failing.id)), Some(trace), "derived from the page's key");
    let body = failing.response.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.as_deref());
    assert!(body.is_some_and(|b| b.contains("mail_relay_unavailable")), "the allow-listed response body: {body:?}");

    let slow = call("/api/report");
    assert_eq!(slow.status, 200);
    assert!(slow.duration >= 1400, "the slow report took {} ms", slow.duration);
    assert!(slow.request.is_none() && slow.response.is_none(), "no headers or bodies for a URL not allow-listed");

    let checkout = call("/api/checkout");
    let sent_body = checkout.request.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.clone()).unwrap();
    assert!(sent_body.contains(r#""password":"[redacted]""#), "{sent_body}");
    assert!(sent_body.contains(r#""plan":"team""#), "{sent_body}");

    let status = call("/api/status");
    assert!(status.url.starts_with("http://localhost:"), "{}", status.url);
    assert_eq!(status.trace, None, "no traceparent across origins");
    assert_eq!(received_trace("GET", "/api/status"), None);
    assert!(calls.iter().all(|c| !c.url.starts_with(&collector.base)), "the SDK's own requests are not recorded");

    // Who it was, for the session list.
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    assert_eq!(summary["user_id"], "u_1842");
    assert_eq!(
        (summary["traits"]["plan"].as_str(), summary["traits"]["company"].as_str()),
        (Some("team"), Some("Acme"))
    );
    let device = &summary["device"];
    assert_eq!((device["os"].as_str(), device["kind"].as_str()), (Some("Linux"), Some("bot")), "{device}");
    assert!(device["browser"].as_str().is_some_and(|b| !b.is_empty()) && device["screen"][0].as_u64() > Some(0));
    assert!(device["timezone"].as_str().is_some_and(|t| !t.is_empty()), "the time zone, looked up when idle: {device}");
    assert_eq!(summary["pages"].as_array().map(Vec::len), Some(2), "the reload is the session's second page");
}

#[test]
fn an_outage_a_scroll_and_a_closed_tab_lose_nothing() {
    let (mut collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let browser = Browser::start();
    browser.navigate(&format!("{}/login", shop.base));
    browser.wait_for("window.sightlineReady && document.getElementById('login-email')", Duration::from_secs(20));
    let session =
        session_of(&browser.execute("return document.getElementById('session').textContent.split(' ').pop();"));

    // The collector goes down while the user signs in and looks through the customers: what is
    // recorded meanwhile fails to send, and waits.
    collector.stop();
    browser.type_into("#login-email", "jane@acme.com");
    browser.type_into("#login-password", LOGIN_PASSWORD);
    browser.click("#login-submit");
    browser.wait_for("document.querySelector('button.send')", Duration::from_secs(10));
    browser.click("a[href='/customers']");
    browser.wait_for("document.querySelectorAll('#customers tr').length === 3000", Duration::from_secs(10));
    browser.execute("window.scrollTo(0, 2400); return true;");
    std::thread::sleep(Duration::from_secs(7));
    collector.restart();

    // Back up: the waiting batches go out on their next retry. Then the user types into the
    // filter and closes the tab at once.
    let http = Http::default();
    let read = || {
        let frames = stored_stream(&http, &collector, &session, 1);
        frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect::<Vec<Batch>>()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    while !read().iter().flat_map(|b| &b.events).any(|e| matches!(&e.data, EventData::Scroll(s) if s.y == 2400)) {
        assert!(Instant::now() < deadline, "what was recorded during the outage never arrived");
        std::thread::sleep(Duration::from_millis(300));
    }
    browser.type_into("#customer-filter", "porto");
    browser.close_tab();

    let deadline = Instant::now() + Duration::from_secs(20);
    let batches = loop {
        let batches = read();
        let typed = batches
            .iter()
            .flat_map(|b| &b.events)
            .any(|e| matches!(&e.data, EventData::Input(i) if i.value == "*****" && i.masked));
        if typed {
            break batches;
        }
        assert!(Instant::now() < deadline, "what was typed before the tab closed never arrived");
        std::thread::sleep(Duration::from_millis(200));
    };

    // Every batch once, numbered without a gap, and every route change once.
    let seqs: Vec<u32> = batches.iter().map(|b| b.seq).collect();
    assert!(seqs.iter().enumerate().all(|(i, seq)| *seq as usize == i), "no batch missing: {seqs:?}");
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    let routes: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Navigation(n) => Some(n.url.trim_start_matches(&shop.base).to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(routes, ["/login", "/", "/customers"], "each route once");
    let scrolls = events.iter().filter(|e| matches!(e, EventData::Scroll(s) if s.y == 2400)).count();
    assert_eq!(scrolls, 1, "the page's scroll, once");
}
