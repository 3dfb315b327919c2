//! The npm package in headless Chromium against the real collector: a page that installs the
//! SDK the way a customer would gets its session stored, continues it across a reload, and
//! keeps working when the SDK can't load.
//!
//! Needs `npm/dist` (built by `cargo xtask build-sdk`, which `cargo xtask test` runs first),
//! Chromium and ChromeDriver.

use std::time::{Duration, Instant};

use sightline_e2e::sdk::{dist, open_page, recorded_session, session_of, start_collector, stored, KEY, TOKEN};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{batch_bytes, Collector, Http};
use sightline_protocol::{ConsoleLevel, DeviceType, ErrorKind, Event, EventData, NavigationKind, NodeKind, Value};

fn page(collector: &str, more_options: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Invoices</title></head><body><h1>Invoices</h1>
<script type="module">
import {{ init, identify, track, flush, getSessionUrl, status }} from '/index.js';
await init({{ endpoint: '{collector}', projectKey: '{KEY}'{more_options} }});
window.statusAtStart = status();
identify('u_1842', {{ email: 'Jane@Acme.com', plan: 'enterprise' }});
track('invoice_sent', {{ amount: 1024, currency: 'EUR', lines: [1, 2] }});
history.pushState({{}}, '', '/invoices/42');
// As apps do, the title follows once the route is rendered.
queueMicrotask(() => {{ document.title = 'Invoice 42'; }});
history.replaceState({{}}, '', '/invoices/42?tab=lines');
location.hash = 'total';
try {{ history.pushState({{}}, '', 'https://elsewhere.example/'); }} catch (e) {{ window.pushThrew = e.name; }}
await new Promise((resolve) => setTimeout(resolve, 50));
flush();
window.flushNow = flush;
window.sessionUrl = getSessionUrl();
window.momentUrl = getSessionUrl({{ at: 'now' }});
window.pageWorks = document.querySelector('h1').textContent;
</script></body></html>"#
    )
}

#[test]
fn a_page_with_the_sdk_records_its_session_across_a_reload() {
    let (collector, _data) = start_collector();
    // The app's routes all serve the app, so a reload after a client-side route change works.
    let app = page(&collector.base, "");
    let site = StaticFiles::start(&dist(), vec![("/".into(), app.clone()), ("/invoices/42".into(), app)]);
    let browser = Browser::start();
    let http = Http::default();

    browser.navigate(&format!("{}/", site.base));
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    let url = url.as_str().unwrap();
    let session = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(browser.execute("return window.pushThrew;"), "SecurityError", "the wrapped pushState throws as before");
    assert_eq!(url, format!("{}/sessions/{session}", collector.base));
    let moment = browser.execute("return window.momentUrl;");
    let at = moment.as_str().and_then(|m| m.strip_prefix(&format!("{url}?t="))).expect("a link to the moment");
    assert!(at.len() == 13 && at.bytes().all(|b| b.is_ascii_digit()), "ms since the epoch: {at}");
    assert_eq!(session.len(), 32);

    let batches = stored(&http, &collector, &session, 1);
    let first = &batches[0];
    assert_eq!((first.page, first.seq, first.project.as_str()), (0, 0, KEY));
    let kinds: Vec<_> = first.events.iter().map(|e| &e.data).collect();
    let EventData::Meta(meta) = kinds[0] else { panic!("a page starts with who is on what: {kinds:?}") };
    assert_eq!((meta.os.name.as_str(), meta.device), ("Linux", DeviceType::Bot), "headless Chromium is automation");
    assert!(!meta.browser.name.is_empty() && !meta.browser.version.is_empty(), "{:?}", meta.browser);
    assert!(meta.screen.width > 0 && meta.pixel_ratio > 0.0 && !meta.language.is_empty() && !meta.timezone.is_empty());
    assert_eq!(meta.sdk, env!("CARGO_PKG_VERSION"));
    let kinds = &kinds[1..];
    let EventData::Navigation(load) = kinds[0] else { panic!("then its load: {kinds:?}") };
    assert_eq!(
        (load.kind, load.url.as_str(), load.title.as_str()),
        (NavigationKind::Load, format!("{}/", site.base).as_str(), "Invoices")
    );
    let EventData::Viewport(viewport) = kinds[1] else { panic!("then the viewport: {kinds:?}") };
    let initial = viewport.size;
    assert!(initial.width > 0 && initial.height > 0);
    let EventData::Snapshot(snapshot) = kinds[2] else { panic!("then what the page looks like: {kinds:?}") };
    assert!(snapshot.nodes.iter().any(|n| n.kind == NodeKind::Text("Invoices".into())));
    let kinds = &kinds[1..];
    let EventData::Identify(identify) = kinds[2] else { panic!("then who the user is: {kinds:?}") };
    assert_eq!(identify.user_id, "u_1842");
    assert_eq!(identify.traits.get("plan"), Some(&Value::Str("enterprise".into())));
    let EventData::Custom(custom) = kinds[3] else { panic!("then the tracked event: {kinds:?}") };
    assert_eq!(custom.name, "invoice_sent");
    assert_eq!(custom.props.get("amount"), Some(&Value::Int(1024)));
    assert_eq!(custom.props.get("lines"), Some(&Value::List(vec![Value::Int(1), Value::Int(2)])));
    // Route changes of the single-page app, each once, in order, with the title the app gave
    // the route.
    let push = kinds[4..].iter().find_map(|d| match d {
        EventData::Navigation(n) if n.kind == NavigationKind::Push => Some(n.title.as_str()),
        _ => None,
    });
    assert_eq!(push, Some("Invoice 42"));
    let routes: Vec<(NavigationKind, String)> = kinds[4..]
        .iter()
        .filter_map(|d| match d {
            EventData::Navigation(n) => Some((n.kind, n.url.trim_start_matches(&site.base).to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(
        routes,
        vec![
            (NavigationKind::Push, "/invoices/42".to_owned()),
            (NavigationKind::Replace, "/invoices/42?tab=lines".to_owned()),
            (NavigationKind::Pop, "/invoices/42?tab=lines#total".to_owned()),
        ],
        "a hash change fires popstate and hashchange; it is recorded once"
    );

    // A resize is recorded once it settles.
    browser.set_window_size(900, 700);
    let resized = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            browser.execute("window.flushNow(); return true;");
            let sizes: Vec<_> = stored(&http, &collector, &session, 1)
                .iter()
                .flat_map(|b| b.events.clone())
                .filter_map(|e| match e.data {
                    EventData::Viewport(v) if v.size != initial => Some(v.size),
                    _ => None,
                })
                .collect();
            if let Some(size) = sizes.first() {
                break *size;
            }
            assert!(Instant::now() < deadline, "no viewport event after the resize");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    assert!(resized.width < initial.width || resized.height != initial.height, "{resized:?} after {initial:?}");

    // Anyone holding the page's key and the session's id (it is in support links) can't write
    // into the session: neither unsealed, as older SDKs sent, nor sealed with another secret.
    // The id is derived from the writer's secret.
    assert!(sightline_protocol::is_sealed_id(&session.parse().unwrap()), "{session}");
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    let writer = summary["writer"].as_str().expect("the session is bound to its writer");
    assert!(writer.len() == 64 && writer.bytes().all(|b| b.is_ascii_hexdigit()), "{writer}");
    let id: sightline_protocol::SessionId = session.parse().unwrap();
    let mallory = sightline_protocol::Identify { user_id: "mallory".into(), traits: Value::Map(Default::default()) };
    let forged = batch_bytes(KEY, id, 0, 50, vec![Event { dt: 0, data: EventData::Identify(mallory) }]);
    let other_secret = sightline_protocol::WriterSecret([0x66; 16]);
    for (how, bytes) in
        [("unsealed", forged.clone()), ("sealed by another", sightline_protocol::seal(&other_secret, &forged))]
    {
        // Unsealed, a sealed session's id is refused whether the project takes unsealed
        // batches or not.
        let answer = http.post_batch(&collector.base, KEY, &bytes);
        assert_eq!(answer.status, 403, "{how}");
        assert_eq!(answer.json()["error"], "not_session_writer", "{how}");
        assert_eq!(answer.header("x-sightline-error"), Some("not_session_writer"), "{how}");
        assert_eq!(answer.header("x-sightline-session"), Some(session.as_str()), "{how}");
    }
    let after = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    assert_eq!((after["user_id"].as_str(), &after["batch_count"]), (Some("u_1842"), &summary["batch_count"]));

    // A reload in the same tab continues the session as its next page, sealed with the same
    // secret, kept in the tab. The marker tells the reloaded page from the old one.
    browser.execute("window.beforeReload = true; location.reload(); return true;");
    let again = browser.wait_for("!window.beforeReload && window.sessionUrl", Duration::from_secs(20));
    assert_eq!(again.as_str(), Some(url), "same session after a reload");
    let batches = stored(&http, &collector, &session, 2);
    assert!(batches.iter().any(|b| b.page == 1 && b.seq == 0), "the reload is page 1 of the session");

    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    assert_eq!(summary["pages"].as_array().unwrap().len(), 2);
    assert_eq!((summary["user_id"].as_str(), summary["email"].as_str()), (Some("u_1842"), Some("jane@acme.com")));
    assert_eq!(summary["device"]["os"], "Linux");
    assert_eq!(summary["device"]["kind"], "bot");
}

#[test]
fn each_route_gets_the_title_the_app_gave_it() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Home</title><script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
const later = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Two routes in quick succession, each rendered (and titled) a moment after its push.
history.pushState({{}}, '', '/invoices/43');
await later(10);
document.title = 'Invoice 43';
await later(10);
history.pushState({{}}, '', '/customers');
history.replaceState({{ scroll: 0 }}, '');
await Promise.resolve();
history.replaceState({{}}, '', '/customers?sort=name');
await later(10);
document.title = 'Customers';
await later(200);
flush();
window.sessionUrl = getSessionUrl();
</script>"#,
        collector.base
    );
    let (site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let batches = stored(&Http::default(), &collector, &session, 1);
    let routes: Vec<(NavigationKind, String, String)> = batches
        .iter()
        .flat_map(|b| &b.events)
        .filter_map(|e| match &e.data {
            EventData::Navigation(n) => {
                Some((n.kind, n.url.trim_start_matches(&site.base).to_owned(), n.title.clone()))
            }
            _ => None,
        })
        .collect();
    let expected = [
        (NavigationKind::Load, "/", "Home"),
        (NavigationKind::Push, "/invoices/43", "Invoice 43"),
        (NavigationKind::Push, "/customers", "Customers"),
        (NavigationKind::Replace, "/customers?sort=name", "Customers"),
    ];
    let expected: Vec<_> = expected.iter().map(|(k, u, t)| (*k, u.to_string(), t.to_string())).collect();
    // A redirect in the same task shares the route's title; a replaceState that keeps the URL
    // is no route change.
    assert_eq!(routes, expected);
}

#[test]
fn the_page_works_when_the_sdk_cannot_load() {
    let (collector, _data) = start_collector();
    let site = StaticFiles::start(&dist(), vec![("/".into(), page(&collector.base, ", wasmUrl: '/missing.wasm'"))]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let works = browser.wait_for("window.pageWorks", Duration::from_secs(20));
    assert_eq!(works, "Invoices", "the page's own script ran to the end");
    assert!(browser.execute("return window.sessionUrl;").is_null(), "the SDK stayed off");
    let status = browser.execute("return window.statusAtStart;");
    assert_eq!(
        status,
        serde_json::json!({ "state": "disabled", "reason": "wasm", "buffering": false }),
        "the page can read why"
    );
    assert_eq!(sdk_reports(&collector, "disabled", "wasm", 1), 1, "the collector heard of it once");
}

/// A `dom.js` from another release than the script (as a stale cache or CDN serves it) would
/// read the page for a recorder that reads it otherwise: the SDK stays off, says why, and the
/// collector hears of it.
#[test]
fn a_dom_recorder_from_another_release_leaves_the_sdk_off_and_says_why() {
    let (collector, _data) = start_collector();
    let built = std::fs::read_to_string(dist().join("dom.js")).expect("the built dom.js");
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist().join("../package.json")).unwrap()).unwrap();
    let version = format!("\"{}\"", package["version"].as_str().unwrap());
    assert_eq!(built.matches(&version).count(), 1, "dom.js carries its release once");
    let stale = built.replace(&version, "\"0.0.1-stale\"");
    let site = StaticFiles::start(
        &dist(),
        vec![("/".into(), page(&collector.base, ", domUrl: '/stale/dom.js'")), ("/stale/dom.js".into(), stale)],
    );
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    assert_eq!(browser.wait_for("window.pageWorks", Duration::from_secs(20)), "Invoices");
    assert_eq!(
        browser.execute("return window.statusAtStart;"),
        serde_json::json!({ "state": "disabled", "reason": "version", "buffering": false })
    );
    assert_eq!(sdk_reports(&collector, "disabled", "version", 1), 1, "the collector heard of it once");
}

/// The collector's count of SDK reports of `kind` and `reason`, once it reaches `at_least`
/// (waiting up to 10 s), or what it is then.
fn sdk_reports(collector: &Collector, kind: &str, reason: &str, at_least: u64) -> u64 {
    let line = format!("sightline_sdk_reports_total{{kind=\"{kind}\",reason=\"{reason}\"}} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = Http::default().get(&format!("{}/metrics", collector.base), "");
        let count = String::from_utf8_lossy(&metrics.body)
            .lines()
            .find_map(|l| l.strip_prefix(&line)?.parse().ok())
            .unwrap_or(0);
        if count >= at_least || Instant::now() > deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A page with `markup` that installs the SDK the way a customer would, after running
/// `before_init`, and hands the test `track`, `flush`, `getSessionUrl` and the session's URL.
fn recorded_page(collector: &str, markup: &str, before_init: &str) -> String {
    format!(
        r#"<!doctype html>{markup}<script type="module">
import {{ init, track, flush, getSessionUrl }} from '/index.js';
{before_init}
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.track = track;
window.flush = flush;
window.getSessionUrl = getSessionUrl;
window.sessionUrl = getSessionUrl();
</script>"#
    )
}

/// A page that counts what reaches its own error handlers, then exercises what the SDK wraps
/// once `window.exercise()` is called: a route change, a request, console output and a click.
fn page_under_test(collector: &str, before_init: &str, after_init: &str) -> String {
    format!(
        r#"<!doctype html><title>Fragile</title><button id="b" onclick="window.clicked = true">b</button>
<script type="module">
import {{ init, track, getSessionUrl, status }} from '/index.js';
window.sdkStatus = status;
window.errors = [];
addEventListener('error', (e) => window.errors.push(String(e.message)));
addEventListener('unhandledrejection', (e) => window.errors.push(String(e.reason)));
{before_init}
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.startedUrl = getSessionUrl();
{after_init}
window.exercise = async () => {{
  history.pushState({{}}, '', '/after');
  const status = (await fetch('/index.js')).status;
  console.log('still logging');
  document.getElementById('b').click();
  track('after_exercise');
  return [location.pathname, status, window.clicked === true, getSessionUrl(), window.errors];
}};
window.ready = true;
</script>"#
    )
}

#[test]
fn the_page_works_when_the_sdk_fails_to_start() {
    let (collector, _data) = start_collector();
    // No random source for a session id: the recorder can't start.
    let no_random = "Crypto.prototype.getRandomValues = () => { throw new Error('no entropy'); };";
    let site = StaticFiles::start(&dist(), vec![("/".into(), page_under_test(&collector.base, no_random, ""))]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    browser.wait_for("window.ready", Duration::from_secs(20));
    assert!(browser.execute("return window.startedUrl;").is_null(), "the SDK stayed off");
    let outcome = browser.execute_async("window.exercise().then(arguments[0]);");
    assert_eq!(outcome, serde_json::json!(["/after", 200, true, null, []]), "the page as without the SDK");
    let status = browser.execute("return window.sdkStatus();");
    assert_eq!(status, serde_json::json!({ "state": "disabled", "reason": "storage", "buffering": false }));
    assert_eq!(sdk_reports(&collector, "disabled", "storage", 1), 1);
}

#[test]
fn the_page_works_when_the_sdk_fails_while_recording() {
    let (collector, _data) = start_collector();
    // The glue that hands text to the wasm breaks after start: the next text that is not plain
    // ASCII makes the SDK fail inside its own entry point, which switches it off.
    let break_glue = "TextEncoder.prototype.encodeInto = () => { throw new Error('glue broke'); }; track('naïve');";
    let site = StaticFiles::start(&dist(), vec![("/".into(), page_under_test(&collector.base, "", break_glue))]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    browser.wait_for("window.ready", Duration::from_secs(20));
    let started = browser.execute("return window.startedUrl;");
    assert!(started.as_str().is_some(), "the SDK had started: {started}");
    let outcome = browser.execute_async("window.exercise().then(arguments[0]);");
    assert_eq!(outcome, serde_json::json!(["/after", 200, true, null, []]), "the page as without the SDK");
    let status = browser.execute("return window.sdkStatus();");
    assert_eq!(status, serde_json::json!({ "state": "disabled", "reason": "runtime", "buffering": false }));
    assert_eq!(sdk_reports(&collector, "disabled", "runtime", 1), 1);
}

/// Page script that makes the SDK's `fetch` to the collector fail once `batchFetchFails` is set.
const BATCH_FETCH_FAILS: &str = r#"
const pageFetch = window.fetch;
window.fetch = function (input) {
  if (window.batchFetchFails && String(input).includes('/v1/batches')) {
    window.failedBatchFetches = (window.failedBatchFetches || 0) + 1;
    return Promise.reject(new TypeError('Failed to fetch'));
  }
  return pageFetch.apply(this, arguments);
};"#;

/// The custom events named `name` stored for `session`, waiting up to 20 s for the first.
fn custom_events_named(http: &Http, collector: &Collector, session: &str, name: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let count = stored(http, collector, session, 1)
            .iter()
            .flat_map(|b| &b.events)
            .filter(|e| matches!(&e.data, EventData::Custom(c) if c.name == name))
            .count();
        if count > 0 || Instant::now() > deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_hidden_tab_sends_what_waits_by_beacon_and_takes_back_what_the_browser_refused() {
    let (collector, _data) = start_collector();
    let before_init = format!(
        r#"{BATCH_FETCH_FAILS}
// Every batch the collector stored from a fetch, as text.
window.fetched = [];
const asText = (bytes) => Array.from(new Uint8Array(bytes), (b) => String.fromCharCode(b)).join('');
const deliveringFetch = window.fetch;
window.fetch = function (input, init) {{
  const response = deliveringFetch.apply(this, arguments);
  if (String(input).includes('/v1/batches')) response.then((r) => r.ok && window.fetched.push(asText(init.body)), () => {{}});
  return response;
}};
// Beacons the browser refuses, or takes and loses on the way.
const pageBeacon = navigator.sendBeacon.bind(navigator);
window.beacons = 0;
navigator.sendBeacon = (url, data) => {{
  if (!String(url).includes('/v1/batches')) return pageBeacon(url, data);
  window.beacons++;
  if (window.refuseBeacons) return false;
  return window.beaconsLost ? true : pageBeacon(url, data);
}};
window.show = (state) => {{
  Object.defineProperty(document, 'visibilityState', {{ value: state, configurable: true }});
  document.dispatchEvent(new Event('visibilitychange'));
}};"#
    );
    let page = recorded_page(&collector.base, "<title>Tabs</title>", &before_init);
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let http = Http::default();

    // Hidden, with `fetch` unable to reach the collector: the beacon delivers.
    browser.execute("window.batchFetchFails = true; track('while_hidden'); show('hidden'); return true;");
    assert!(browser.execute("return window.beacons;").as_u64() >= Some(1), "a beacon went out");
    assert_eq!(custom_events_named(&http, &collector, &session, "while_hidden"), 1);

    // Hidden again, and the browser refuses the beacon: the batch is kept, then taken back and
    // sent when the tab is shown.
    browser.execute(
        "show('visible'); window.batchFetchFails = false; window.refuseBeacons = true; \
         track('refused_beacon'); show('hidden'); return true;",
    );
    let stash_js = format!("return localStorage.getItem('sightline.unsent.{KEY}');");
    let stash = browser.execute(&stash_js);
    assert!(stash.as_str().is_some_and(|s| s.starts_with("3\n")), "kept for later: {stash}");
    browser.execute("window.refuseBeacons = false; show('visible'); return true;");
    assert_eq!(custom_events_named(&http, &collector, &session, "refused_beacon"), 1, "sent once");
    assert!(browser.execute(&stash_js).is_null(), "taken back by the page");

    // Hidden while the collector can't be reached: the beacons the browser takes are lost on the
    // way, which the page can't see; what waits is kept all the same, in case the tab is
    // discarded, and it all arrives once the collector is back.
    let failed = browser.execute("return window.failedBatchFetches || 0;").as_u64().unwrap();
    browser.execute("window.batchFetchFails = true; track('in_outage'); flush(); return true;");
    browser.wait_for(&format!("window.failedBatchFetches > {failed}"), Duration::from_secs(10));
    let beacons = browser.execute("return window.beacons;").as_u64().unwrap();
    browser.execute("window.beaconsLost = true; show('hidden'); return true;");
    assert!(browser.execute("return window.beacons;").as_u64().unwrap() > beacons, "a beacon was tried");
    let stash = browser.execute(&stash_js);
    assert!(stash.as_str().is_some_and(|s| s.lines().count() >= 2), "kept in case the tab is discarded: {stash}");
    // The collector is back while the tab is still hidden: the page delivers what waits, and
    // it leaves the stash.
    browser.execute("window.batchFetchFails = false; window.beaconsLost = false; return true;");
    assert_eq!(custom_events_named(&http, &collector, &session, "in_outage"), 1, "sent once");
    let stash_gone = format!("localStorage.getItem('sightline.unsent.{KEY}') === null");
    browser.wait_for(&stash_gone, Duration::from_secs(10));
    browser.execute("show('visible'); return true;");
    // Taking back what the page kept while it was hidden queued nothing twice.
    browser.execute("window.flush(); return true;");
    std::thread::sleep(Duration::from_secs(2));
    let fetched = browser.execute("return window.fetched;");
    let fetched: Vec<&str> = fetched.as_array().unwrap().iter().map(|b| b.as_str().unwrap()).collect();
    let distinct: std::collections::HashSet<_> = fetched.iter().collect();
    assert!(fetched.len() >= 3, "{} batches fetched", fetched.len());
    assert_eq!(distinct.len(), fetched.len(), "a batch was sent twice");
}

#[test]
fn a_user_back_after_half_an_hour_continues_in_a_new_session_that_starts_with_the_page() {
    let (collector, _data) = start_collector();
    // The page's clock can be moved on; each click on the button adds a line, as apps do.
    let page = recorded_page(
        &collector.base,
        r#"<title>Board</title><button id="go">Go</button><div style="height: 3000px"></div>"#,
        r#"const realNow = Date.now;
window.skew = 0;
Date.now = () => realNow.call(Date) + window.skew;
let clicks = 0;
document.getElementById('go').addEventListener('click', () => {
  const line = document.createElement('p');
  line.textContent = `CLICKED_${++clicks}`;
  document.body.append(line);
});"#,
    );
    let (_site, browser) = open_page(page);
    let first = recorded_session(&browser);
    browser.click("#go");
    browser.wait_for("document.body.textContent.includes('CLICKED_1')", Duration::from_secs(5));

    // Thirty-one minutes later by the page's clock, the page scrolls itself (a chat following
    // its messages), which is nobody's activity...
    // (Past the 3 s in which a scroll still counts as the click's.)
    std::thread::sleep(Duration::from_millis(3_200));
    browser.execute("window.skew = 31 * 60 * 1000; window.scrollTo(0, 400); return true;");
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(session_of(&browser.execute("return window.getSessionUrl();")), first, "no new session");
    // ...and then the user clicks.
    browser.execute("window.scrollTo(0, 0); return true;");
    browser.click("#go");
    let second = session_of(&browser.execute("return window.getSessionUrl();"));
    assert_ne!(second, first, "a new session");
    browser.execute("window.flush(); return true;");

    let http = Http::default();
    let batches = stored(&http, &collector, &second, 1);
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    assert!(matches!(events[0], EventData::Meta(_)), "it says again who is on what: {events:?}");
    let click = events.iter().position(|e| matches!(e, EventData::Pointer(_))).expect("the click");
    let snapshot = events
        .iter()
        .position(|e| matches!(e, EventData::Snapshot(_)))
        .expect("the page, without waiting for the recorder's clock");
    assert!(click < snapshot, "{events:?}");
    // The snapshot shows the page the user clicked on; what the click did follows as a change.
    let texts = |nodes: &[sightline_protocol::Node]| -> Vec<String> {
        nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    };
    let EventData::Snapshot(page) = events[snapshot] else { unreachable!() };
    let shown = texts(&page.nodes);
    assert!(shown.contains(&"CLICKED_1".into()) && !shown.contains(&"CLICKED_2".into()), "{shown:?}");
    let changed: Vec<String> = events[snapshot..]
        .iter()
        .filter_map(|e| match e {
            EventData::Mutation(m) => Some(texts(&m.adds)),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(changed.contains(&"CLICKED_2".into()), "{changed:?}");
}

#[test]
fn a_batch_over_the_keepalive_quota_is_posted_without_keepalive() {
    let (collector, _data) = start_collector();
    // 6,000 paragraphs of random hex: a snapshot that compresses to batches over 64 KiB.
    let page = recorded_page(
        &collector.base,
        r#"<title>Big</title><main id="big"></main>"#,
        r#"const bytes = new Uint8Array(24);
const lines = [];
for (let i = 0; i < 6000; i++) {
  crypto.getRandomValues(bytes);
  lines.push(`<p>${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}</p>`);
}
lines.push('<p>LAST_PARAGRAPH</p>');
document.getElementById('big').innerHTML = lines.join('');
window.posts = [];
const pageFetch = window.fetch;
window.fetch = function (input, init) {
  if (String(input).includes('/v1/batches')) window.posts.push([init.body.length, init.keepalive === true]);
  return pageFetch.apply(this, arguments);
};"#,
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let http = Http::default();
    // The whole page arrives (the last of the snapshot's batches waits for the next cut)...
    let has_last = |batches: &[sightline_protocol::Batch]| {
        batches.iter().flat_map(|b| &b.events).any(|e| {
            let nodes = match &e.data {
                EventData::Snapshot(s) => &s.nodes,
                EventData::Mutation(m) => &m.adds,
                _ => return false,
            };
            nodes.iter().any(|n| n.kind == NodeKind::Text("LAST_PARAGRAPH".into()))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !has_last(&stored(&http, &collector, &session, 1)) {
        assert!(Instant::now() < deadline, "the whole page never arrived");
        std::thread::sleep(Duration::from_millis(300));
    }
    // ...and then a small batch.
    browser.execute("window.track('small'); window.flush(); return true;");
    assert_eq!(custom_events_named(&http, &collector, &session, "small"), 1);

    let posts = browser.execute("return window.posts;");
    let posts: Vec<(u64, bool)> =
        posts.as_array().unwrap().iter().map(|p| (p[0].as_u64().unwrap(), p[1].as_bool().unwrap())).collect();
    assert!(posts.iter().any(|&(len, _)| len > 65_536), "a batch over the quota: {posts:?}");
    assert!(posts.iter().any(|&(len, _)| len <= 65_536), "and smaller ones: {posts:?}");
    for &(len, keepalive) in &posts {
        assert_eq!(keepalive, len <= 65_536, "keepalive only within the browser's 64 KiB: {posts:?}");
    }
}

#[test]
fn what_waits_at_pagehide_goes_out_by_beacon() {
    let (collector, _data) = start_collector();
    // No flush and no tick before the page goes away, and `fetch` can't reach the collector:
    // only the beacon sent on the way out can deliver.
    let page = format!(
        r#"<!doctype html><title>Leaving</title><input id="note"><script type="module">
import {{ init, track, getSessionUrl }} from '/index.js';
{BATCH_FETCH_FAILS}
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
track('about_to_leave', {{ step: 3 }});
window.sessionUrl = getSessionUrl();
</script>"#,
        collector.base
    );
    let site = StaticFiles::start(
        &dist(),
        vec![("/".into(), page), ("/next".into(), "<!doctype html><title>Next</title>".into())],
    );
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    let session = session_of(&url);
    // What is typed just before the tab goes away arrives too.
    browser.type_into("#note", "see you");
    browser.execute("window.batchFetchFails = true; return true;");
    browser.navigate(&format!("{}/next", site.base));

    let http = Http::default();
    let batches = stored(&http, &collector, &session, 1);
    let typed = batches.iter().flat_map(|b| &b.events).rev().find_map(|e| match &e.data {
        EventData::Input(input) => Some((input.value.clone(), input.masked)),
        _ => None,
    });
    assert_eq!(typed, Some(("*******".to_owned(), true)), "the last keystrokes, masked");
    let names: Vec<_> = batches
        .iter()
        .flat_map(|b| &b.events)
        .filter_map(|e| match &e.data {
            EventData::Custom(c) => Some(c.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["about_to_leave"], "delivered once, by the beacon sent at pagehide");
}

#[test]
fn what_the_browser_would_not_beacon_is_kept_and_sent_by_the_next_page() {
    let (collector, _data) = start_collector();
    // This page's browser refuses every beacon, as when its quota is spent.
    let leaving = format!(
        r#"<!doctype html><title>Leaving</title><script type="module">
navigator.sendBeacon = () => false;
import {{ init, track, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{0}', projectKey: '{KEY}' }});
track('kept_for_later');
window.sessionUrl = getSessionUrl();
</script>"#,
        collector.base
    );
    let next = format!(
        r#"<!doctype html><title>Next</title><script type="module">
import {{ init }} from '/index.js';
window.stashBefore = localStorage.getItem('sightline.unsent.{KEY}');
await init({{ endpoint: '{0}', projectKey: '{KEY}' }});
window.stashLeft = localStorage.getItem('sightline.unsent.{KEY}');
window.started = true;
</script>"#,
        collector.base
    );
    let site = StaticFiles::start(&dist(), vec![("/".into(), leaving), ("/next".into(), next)]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let session = recorded_session(&browser);
    browser.navigate(&format!("{}/next", site.base));
    browser.wait_for("window.started", Duration::from_secs(20));
    let before = browser.execute("return window.stashBefore;");
    assert!(before.as_str().is_some_and(|s| s.starts_with("3\n")), "the leaving page kept its batch: {before}");
    assert!(browser.execute("return window.stashLeft;").is_null(), "the next page took the stash");

    let http = Http::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let batches = stored(&http, &collector, &session, 1);
        let kept = batches
            .iter()
            .filter(|b| b.page == 0)
            .flat_map(|b| &b.events)
            .filter(|e| matches!(&e.data, EventData::Custom(c) if c.name == "kept_for_later"))
            .count();
        if kept > 0 {
            assert_eq!(kept, 1, "sent once, by the next page");
            break;
        }
        assert!(Instant::now() < deadline, "the kept batch never arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn what_is_recorded_while_the_collector_is_down_arrives_exactly_once_when_it_is_back() {
    let (mut collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Outage</title><script type="module">
import {{ init, track, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.step = (n) => {{ track('step', {{ n }}); flush(); }};
window.sessionUrl = getSessionUrl();
</script>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);

    // Six batches cut while nothing answers: each send fails and is retried after a backoff.
    collector.stop();
    for n in 0..6 {
        browser.execute(&format!("window.step({n}); return true;"));
        std::thread::sleep(Duration::from_millis(500));
    }
    collector.restart();

    let http = Http::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (seqs, steps) = loop {
        let batches = stored(&http, &collector, &session, 1);
        let seqs: Vec<u32> = batches.iter().map(|b| b.seq).collect();
        let steps: Vec<Value> = batches
            .iter()
            .flat_map(|b| &b.events)
            .filter_map(|e| match &e.data {
                EventData::Custom(c) if c.name == "step" => c.props.get("n").cloned(),
                _ => None,
            })
            .collect();
        if steps.len() >= 6 || Instant::now() > deadline {
            break (seqs, steps);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    // The store keeps a batch once by its number; what the SDK must not do is lose one, or
    // record an event again under another number when it retries.
    assert_eq!(steps, (0..6).map(Value::Int).collect::<Vec<_>>(), "every step, once, in order");
    assert!(seqs.iter().enumerate().all(|(i, seq)| *seq as usize == i), "no batch missing: {seqs:?}");
}

#[test]
fn the_script_tag_build_records_too() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Script tag</title>
<script src="/sightline.iife.js"></script>
<script>
Sightline.init({{ endpoint: '{}', projectKey: '{KEY}' }}).then(() => {{
  Sightline.track('from_script_tag');
  Sightline.flush();
  window.sessionUrl = Sightline.getSessionUrl();
}});
</script>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    let session = session_of(&url);
    let batches = stored(&Http::default(), &collector, &session, 1);
    let tracked = batches
        .iter()
        .flat_map(|b| &b.events)
        .any(|e| matches!(&e.data, EventData::Custom(c) if c.name == "from_script_tag"));
    assert!(tracked, "the event tracked through window.Sightline arrived");
}

#[test]
fn console_output_and_errors_are_recorded() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Errors</title><body><div id="total" class="card big">€1,024</div>
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
const cyclic = {{ status: 500 }};
cyclic.self = cyclic;
window.logResult = console.log('plain', 42);
console.error('Send failed:', cyclic, document.getElementById('total'));
setTimeout(() => {{ throw new TypeError('total is undefined'); }}, 0);
Promise.reject(new RangeError('page out of range'));
const img = document.createElement('img');
img.src = '/missing.png';
document.body.append(img);
await new Promise((resolve) => setTimeout(resolve, 300));
flush();
window.sessionUrl = getSessionUrl();
</script></body>"#,
        collector.base
    );
    let (site, browser) = open_page(page);
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    assert!(
        browser.execute("return window.logResult === undefined;").as_bool().unwrap(),
        "console.log returns as before"
    );
    let session = session_of(&url);
    let events: Vec<EventData> =
        stored(&Http::default(), &collector, &session, 1).into_iter().flat_map(|b| b.events).map(|e| e.data).collect();

    let consoles: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Console(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(consoles[0].level, ConsoleLevel::Log);
    assert_eq!(consoles[0].args, vec!["plain", "42"]);
    let error_log = consoles.iter().find(|c| c.level == ConsoleLevel::Error).expect("console.error recorded");
    assert_eq!(error_log.args[0], "Send failed:");
    assert_eq!(error_log.args[1], r#"{"status":500,"self":"[Circular]"}"#);
    assert_eq!(error_log.args[2], "<div#total.card.big>");
    assert!(error_log.stack.is_some());

    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    let uncaught = errors.iter().find(|e| e.kind == ErrorKind::Uncaught).expect("the thrown error");
    assert_eq!(uncaught.name, "TypeError");
    assert!(uncaught.message.contains("total is undefined"));
    assert!(uncaught.stack.as_deref().is_some_and(|s| s.contains("total is undefined")));
    assert!(uncaught.line > 0);
    let rejection = errors.iter().find(|e| e.kind == ErrorKind::Rejection).expect("the unhandled rejection");
    assert_eq!((rejection.name.as_str(), rejection.message.as_str()), ("RangeError", "page out of range"));
    let resource = errors.iter().find(|e| e.kind == ErrorKind::Resource).expect("the image that failed");
    assert_eq!(resource.name, "img");
    assert_eq!(resource.message, format!("{}/missing.png", site.base));
}

/// A page of `markup` recorded by the SDK, after `before_init` has run: its own listeners
/// come first. Hands the test `flush` and the session's URL.
fn page_with_listeners(collector: &str, markup: &str, before_init: &str) -> String {
    format!(
        r#"<!doctype html><title>Listeners</title><body>{markup}
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
{before_init}
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.flush = flush;
window.sessionUrl = getSessionUrl();
</script></body>"#
    )
}

/// The session's recorded events once `enough` says so of them, or after 20 s whatever they are.
fn events_once(collector: &Collector, session: &str, enough: impl Fn(&[EventData]) -> bool) -> Vec<EventData> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events: Vec<EventData> = stored(&Http::default(), collector, session, 1)
            .into_iter()
            .flat_map(|b| b.events)
            .map(|e| e.data)
            .collect();
        if enough(&events) || std::time::Instant::now() > deadline {
            return events;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A click whose handler fails is the failure's cause, whichever listener ran first: the page's
/// own capture listeners, registered before the SDK, throw or log an error before the SDK's
/// listeners on the document would have seen the click.
#[test]
fn an_error_raised_while_a_click_is_dispatched_follows_the_click() {
    let (collector, _data) = start_collector();
    let page = page_with_listeners(
        &collector.base,
        r#"<button id="boom">Boom</button><button id="save">Save</button>"#,
        "document.addEventListener('click', (e) => { if (e.target.id === 'boom') throw new Error('boom handler failed'); }, true);\n\
         addEventListener('click', (e) => { if (e.target.id === 'save') console.error('save failed'); }, true);",
    );
    let (_site, browser) = open_page(page);
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    browser.click("#boom");
    browser.click("#save");
    std::thread::sleep(Duration::from_millis(200));
    browser.execute("window.flush(); return true;");
    let kinds = |events: &[EventData]| -> Vec<&'static str> {
        events
            .iter()
            .filter_map(|e| match e {
                EventData::Pointer(p) if p.kind == sightline_protocol::PointerKind::Click => Some("click"),
                EventData::Error(_) => Some("error"),
                EventData::Console(c) if c.level == ConsoleLevel::Error => Some("console error"),
                _ => None,
            })
            .collect()
    };
    let events = events_once(&collector, &session_of(&url), |events| kinds(events).len() >= 4);
    assert_eq!(kinds(&events).join(", "), "click, error, click, console error");
}

/// Keys that act (Enter, Escape, a shortcut on the page) and form submissions are recorded, on
/// the element they were pressed in; the characters typed never are, nor editing keys in a
/// field (Ctrl+A), nor a character typed with Option as on a Mac.
#[test]
fn keys_that_act_and_submissions_are_recorded_and_typed_characters_are_not() {
    let (collector, _data) = start_collector();
    let page = page_with_listeners(
        &collector.base,
        r#"<form id="f"><input id="todo"></form>"#,
        "document.getElementById('f').addEventListener('submit', (e) => e.preventDefault());",
    );
    let (_site, browser) = open_page(page);
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    browser.type_into("#todo", "abc\u{E007}");
    browser.type_into("#todo", "\u{E00C}");
    // Editing keys in a field, and a character typed with Option (Alt) as on a Mac: not keys.
    browser.type_into("#todo", "\u{E009}a\u{E000}");
    let key = |key: &str, code: &str, modifiers: u32| {
        for kind in ["keyDown", "keyUp"] {
            browser.cdp(
                "Input.dispatchKeyEvent",
                serde_json::json!({ "type": kind, "key": key, "code": code, "modifiers": modifiers }),
            );
        }
    };
    key("å", "KeyA", 1);
    // A shortcut on the page: Ctrl+K (the DevTools protocol's modifiers: 2 is Ctrl).
    browser.execute("document.activeElement.blur(); return true;");
    key("k", "KeyK", 2);
    std::thread::sleep(Duration::from_millis(200));
    browser.execute("window.flush(); return true;");
    let acted = |events: &[EventData]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                EventData::Key(k) => Some(format!("{} {}", k.modifiers, k.key)),
                EventData::Submit(_) => Some("submit".into()),
                _ => None,
            })
            .collect()
    };
    let events = events_once(&collector, &session_of(&url), |events| acted(events).len() >= 4);
    assert_eq!(acted(&events), ["0 Enter", "submit", "0 Escape", "1 k"]);
    let targets: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Key(k) => Some(k.target),
            _ => None,
        })
        .collect();
    assert!(targets[..2].iter().all(|t| *t == targets[0] && *t != 0), "pressed in the field: {targets:?}");
    assert_ne!(targets[2], targets[0], "the shortcut on the page, not in the field");
}

#[test]
fn a_page_under_a_strict_content_security_policy_is_recorded() {
    let (collector, _data) = start_collector();
    // Scripts from the page's origin only, wasm compilation allowed, requests to the collector.
    let csp =
        format!("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' {}", collector.base);
    let page = format!(
        r#"<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}">
<title>Strict</title><script type="module" src="/app.js"></script></head><body><p>strict page</p></body></html>"#
    );
    let app = format!(
        r#"import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
flush();
window.sessionUrl = getSessionUrl();
"#,
        collector.base
    );
    let site = StaticFiles::start(&dist(), vec![("/".into(), page), ("/app.js".into(), app)]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let url = browser.wait_for("window.sessionUrl", Duration::from_secs(20));
    let batches = stored(&Http::default(), &collector, &session_of(&url), 1);
    let snapshot = batches.iter().flat_map(|b| &b.events).find_map(|e| match &e.data {
        EventData::Snapshot(s) => Some(s),
        _ => None,
    });
    assert!(snapshot.expect("a snapshot").nodes.iter().any(|n| n.kind == NodeKind::Text("strict page".into())));
}

#[test]
fn a_tab_sampled_out_is_not_recorded_and_keeps_its_decision() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Sampled</title><script type="module">
import {{ init, track, flush, getSessionUrl, status }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}', sampleRate: 0 }});
track('should_not_arrive');
flush();
window.statusAtStart = status();
window.done = String(getSessionUrl());
window.decision = sessionStorage.getItem('sightline.sampled');
</script>"#,
        collector.base
    );
    let (site, browser) = open_page(page);
    assert_eq!(browser.wait_for("window.done", Duration::from_secs(20)), "null", "no session link");
    assert_eq!(browser.execute("return window.decision;"), "0", "decided once for the tab");
    let status = browser.execute("return window.statusAtStart;");
    assert_eq!(status, serde_json::json!({ "state": "disabled", "reason": "sampled_out", "buffering": false }));
    assert_eq!(sdk_reports(&collector, "disabled", "sampled_out", 1), 1);
    // A reload keeps the decision, and the collector does not hear of it again.
    browser.navigate(&format!("{}/", site.base));
    assert_eq!(browser.wait_for("window.done", Duration::from_secs(20)), "null");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sdk_reports(&collector, "disabled", "sampled_out", 2), 1, "told once per tab");
    let sessions = Http::default().get(&format!("{}/api/sessions", collector.base), TOKEN).json();
    assert_eq!(sessions["sessions"].as_array().map(Vec::len), Some(0), "{sessions}");
}

#[test]
fn a_stash_kept_longer_than_three_days_is_not_sent() {
    use base64::Engine as _;
    use sightline_e2e::{batch_bytes, random_session};
    use sightline_protocol::{seal, Event, Pointer, PointerKind, WriterSecret};

    let (collector, _data) = start_collector();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let click =
        || Event { dt: 1, data: EventData::Pointer(Pointer { kind: PointerKind::Click, target: 1, x: 1, y: 1 }) };
    let (stale_writer, recent_writer) = (WriterSecret(random_session().0), WriterSecret(random_session().0));
    let line = |writer: WriterSecret, at: u64| {
        let batch = seal(&writer, &batch_bytes(KEY, writer.session_id(), 0, 0, vec![click()]));
        format!("{at}:{}", base64::engine::general_purpose::STANDARD.encode(batch))
    };
    let (stale, recent) = (stale_writer.session_id(), recent_writer.session_id());
    let day = 24 * 60 * 60 * 1000;
    let stash = format!("3\\n{}\\n{}", line(stale_writer, now - 4 * day), line(recent_writer, now - day));
    let page = recorded_page(
        &collector.base,
        "<p>later</p>",
        &format!("localStorage.setItem('sightline.unsent.{KEY}', '{stash}');"),
    );
    let (_site, browser) = open_page(page);
    recorded_session(&browser);
    let http = Http::default();
    assert!(!stored(&http, &collector, &recent.to_string(), 1).is_empty(), "the recent batch is delivered");
    std::thread::sleep(Duration::from_millis(500));
    let stale = http.get(&format!("{}/api/sessions/{stale}", collector.base), TOKEN);
    assert_eq!(stale.status, 404, "the stale batch is dropped, not delivered");
}

#[test]
fn buffer_mode_sends_nothing_until_an_error_then_the_seconds_before_it() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Buffered</title></head>
<body><h1>Checkout</h1>
<script type="module">
import {{ init, track, status, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}', mode: 'buffer', bufferSeconds: 10 }});
window.sessionUrl = getSessionUrl();
const sent = () => performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/batches')).length;
setTimeout(() => track('early'), 7000);
setTimeout(() => {{ window.midway = sent(); }}, 8000);
setTimeout(() => track('recent'), 24500);
setTimeout(() => {{
  window.before = {{ sent: sent(), buffering: status().buffering }};
  throw new Error('boom in buffer');
}}, 25000);
setTimeout(() => {{
  window.after = status().buffering;
  track('after');
}}, 26000);
</script></body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let http = Http::default();
    assert_eq!(browser.wait_for("window.midway !== undefined && String(window.midway)", Duration::from_secs(20)), "0");
    assert_eq!(http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).status, 404, "nothing stored");
    let before = browser.wait_for("window.before", Duration::from_secs(40));
    assert_eq!(before, serde_json::json!({ "sent": 0, "buffering": true }), "nothing sent before the error");

    assert_eq!(custom_events_named(&http, &collector, &session, "after"), 1, "full recording after the error");
    assert_eq!(browser.execute("return window.after;"), false);
    let batches = stored(&http, &collector, &session, 1);
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    let named = |name: &str| events.iter().filter(|e| matches!(e, EventData::Custom(c) if c.name == name)).count();
    assert_eq!((named("early"), named("recent")), (0, 1), "the seconds before the error, not the minute before them");
    assert!(
        events.iter().any(|e| matches!(e, EventData::Error(error) if error.message.contains("boom in buffer"))),
        "the error itself"
    );
    assert!(events.iter().any(|e| matches!(e, EventData::Meta(_))), "the page's start, with its metadata");
    let snapshots =
        batches.iter().filter(|b| b.events.iter().any(|e| matches!(e.data, EventData::Snapshot(_)))).count();
    assert!(snapshots >= 2, "the page's first snapshot and the keyframe the kept seconds start from");
    let seqs: Vec<u32> = batches.iter().map(|b| b.seq).collect();
    assert!(seqs.windows(2).any(|w| w[1] > w[0] + 1), "the batches between were let go: {seqs:?}");
}
