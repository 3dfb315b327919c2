//! The network wrappers change nothing a page can observe: the same battery of fetch, XHR and
//! beacon edge cases gives identical results on the example app with and without the SDK, and
//! with the SDK each call is recorded as it ended.
//!
//! Needs `npm/dist` and the example app's binary (`cargo xtask test` builds both), Chromium and
//! ChromeDriver.

use std::time::{Duration, Instant};

use serde_json::Value;
use sightline_e2e::sdk::{session_of, start_collector, stored, KEY};
use sightline_e2e::shop::Shop;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::Http;
use sightline_protocol::{EventData, Initiator, Network};

/// Runs in the page; resolves to what every case observed. Port 1 on loopback refuses
/// connections, which makes a network error.
const EDGE_CASES: &str = r#"
const out = {};
const settle = async (promise) => { try { return ['ok', await promise]; } catch (e) { return ['threw', e.name, e.message, e.constructor.name]; } };

const json = await fetch('/api/invoices');
out.json = [json.status, json.ok, json.headers.get('content-type'), (await json.json()).length, json.bodyUsed, json.type];

const request = new Request('/api/checkout', { method: 'POST', body: JSON.stringify({ plan: 'pro', password: 'x' }), headers: { 'content-type': 'application/json' } });
const posted = await fetch(request);
out.request = [posted.status, await posted.text(), request.bodyUsed];

const withInit = await fetch('/api/checkout', { method: 'post', headers: [['content-type', 'application/json'], ['x-case', 'array']], body: '{"plan":"team"}' });
out.withInit = [withInit.status, await withInit.text()];

const form = await fetch('/api/checkout?plan=pro&token=tok-SECRET-1', {
  method: 'POST',
  headers: { authorization: 'Bearer bearer-SECRET-2', 'content-type': 'application/x-www-form-urlencoded' },
  body: 'password=pw-SECRET-3&plan=pro',
});
out.form = [form.status, (await form.json()).status];

const original = await fetch('/api/invoices');
const copy = original.clone();
out.clone = [(await original.text()).length, (await copy.text()).length];

const streamed = await fetch('/sightline/sightline_bg.wasm');
const reader = streamed.body.getReader();
let bytes = 0;
for (;;) { const { done, value } = await reader.read(); if (done) break; bytes += value.length; }
out.stream = [streamed.status, bytes > 1000];

const controller = new AbortController();
const aborted = fetch('/api/report', { signal: controller.signal });
controller.abort();
out.abort = await settle(aborted);
out.networkError = await settle(fetch('http://127.0.0.1:1/'));
out.badUrl = await settle(fetch('http://exa mple.com/'));
out.badMethod = await settle(fetch('/api/invoices', { method: 'CONNECT' }));
out.fetchShape = [fetch.length, fetch.name, typeof fetch];

// URLs the wrapper resolves without parsing and URLs it must parse: each is recorded as the
// browser resolves it.
const urls = ['/api/invoices?plain=1', '/api/./invoices?dot', '/api/x/../invoices?dots', 'api/invoices?relative',
  '/api/invoices?q=a b', "/api/invoices?q='quoted'", '/api/invoices?hash#part', '/api/invoices?bad=%zz',
  '/api/inv%6Fices?encoded', '/api/invoices?accent=é', '/api\\invoices?backslash', '//' + location.host + '/api/invoices?scheme-relative'];
out.urls = [];
for (const url of urls) out.urls.push([new URL(url, document.baseURI).href, (await fetch(url)).status]);
// A `<base>` moves where relative URLs go.
const base = document.createElement('base');
base.href = '/api/';
document.head.append(base);
out.based = (await fetch('invoices?based')).status;
base.remove();
// Credentials in a URL's user name and password, or in a fragment that starts with `?`.
out.userinfo = await settle(fetch(`//user:pass-SECRET-5@${location.host}/api/invoices?userinfo`));
out.fragment = (await fetch('/api/invoices?fragment#?pin=SECRET-6')).status;

const xhr = (url, options = {}) => new Promise((resolve) => {
  const x = new XMLHttpRequest();
  const events = [];
  for (const type of ['readystatechange', 'loadstart', 'load', 'error', 'abort', 'timeout', 'loadend']) x.addEventListener(type, () => events.push(`${type}${x.readyState}`));
  x.open(options.method || 'GET', url);
  if (options.type) x.responseType = options.type;
  if (options.timeout) x.timeout = options.timeout;
  x.onloadend = () => {
    const response = x.response;
    const shape = response === null ? 'null' : response instanceof ArrayBuffer ? `buffer>1000:${response.byteLength > 1000}` : response instanceof Blob ? `blob:${response.size}` : typeof response === 'object' ? `object:${Object.keys(response).length}` : `text:${String(response).length}`;
    resolve([x.status, x.statusText, events.join(' '), shape, x.getResponseHeader('content-type')]);
  };
  if (options.header) x.setRequestHeader('content-type', 'application/json');
  x.send(options.body === undefined ? null : options.body);
  if (options.abort) x.abort();
});
out.xhrText = await xhr('/api/invoices');
out.xhrJson = await xhr('/api/invoices', { type: 'json' });
out.xhrBuffer = await xhr('/sightline/sightline_bg.wasm', { type: 'arraybuffer' });
out.xhrBlob = await xhr('/app.js', { type: 'blob' });
out.xhrPost = await xhr('/api/checkout', { method: 'POST', body: '{"plan":"team"}', header: true });
out.xhrAbort = await xhr('/api/report', { abort: true });
out.xhrError = await xhr('http://127.0.0.1:1/');
out.xhrTimeout = await xhr('/api/report?wait=timeout', { timeout: 50 });
// A retry from the error handler opens the same XHR again before its `loadend`.
out.xhrRetry = await new Promise((resolve) => {
  const x = new XMLHttpRequest();
  let tries = 0;
  x.onerror = () => { if (tries++ === 0) { x.open('GET', '/api/invoices?retried'); x.send(); } };
  x.onload = () => resolve([tries, x.status]);
  x.open('GET', 'http://127.0.0.1:1/?first-try');
  x.send();
});

const sync = new XMLHttpRequest();
sync.open('GET', '/api/invoices', false);
sync.send();
out.sync = [sync.status, sync.responseText.length, sync.readyState];
const syncError = new XMLHttpRequest();
syncError.open('GET', 'http://127.0.0.1:1/', false);
try { syncError.send(); out.syncError = 'no throw'; } catch (e) { out.syncError = [e.name, e.constructor.name, syncError.readyState, syncError.status]; }
try { new XMLHttpRequest().send(); } catch (e) { out.sendBeforeOpen = [e.name, e.constructor.name]; }

out.beacon = [navigator.sendBeacon('/api/checkout', '{"plan":"beacon"}'), navigator.sendBeacon.length];
return out;
"#;

/// Loads `page`, waits until `ready` holds, and runs the cases.
fn run_cases(browser: &Browser, page: &str, ready: &str) -> Value {
    browser.navigate(page);
    browser.wait_for(ready, Duration::from_secs(20));
    browser.execute(&format!("return (async () => {{ {EDGE_CASES} }})();"))
}

#[test]
fn fetch_xhr_and_beacons_behave_the_same_with_and_without_the_sdk() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let browser = Browser::start();

    let without =
        run_cases(&browser, &format!("{}/?sightline=off", shop.base), "document.querySelector('button.send')");
    let ready = "window.sightlineReady && document.querySelector('button.send')";
    let with = run_cases(&browser, &format!("{}/", shop.base), ready);
    assert_eq!(with, without, "the page observes the same with the SDK");
    assert_eq!(without["abort"][1], "AbortError", "the cases ran: {without:#}");

    // And the calls are recorded as they ended.
    let session =
        session_of(&browser.execute("return document.getElementById('session').textContent.split(' ').pop();"));
    browser.navigate("about:blank");
    let http = Http::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let calls: Vec<Network> = loop {
        let calls: Vec<Network> = stored(&http, &collector, &session, 1)
            .into_iter()
            .flat_map(|b| b.events)
            .filter_map(|e| match e.data {
                EventData::Network(n) => Some(*n),
                _ => None,
            })
            .collect();
        if calls.iter().any(|c| c.initiator == Initiator::Beacon) {
            break calls;
        }
        assert!(Instant::now() < deadline, "the calls did not arrive: {calls:#?}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let find = |initiator: Initiator, url: &str, method: &str| {
        calls
            .iter()
            .find(|c| c.initiator == initiator && c.url.ends_with(url) && c.method == method)
            .unwrap_or_else(|| panic!("no {method} {url} by {initiator:?}: {calls:#?}"))
    };
    let aborted = find(Initiator::Fetch, "/api/report", "GET");
    assert!(aborted.error.as_deref().is_some_and(|e| e.starts_with("AbortError")) && !aborted.failed());
    let refused = find(Initiator::Fetch, "127.0.0.1:1/", "GET");
    assert_eq!(refused.status, 0);
    assert!(refused.failed() && refused.error.as_deref().is_some_and(|e| e.starts_with("TypeError")));
    let posted = find(Initiator::Xhr, "/api/checkout", "POST");
    assert_eq!(posted.status, 200);
    assert!(posted.trace.is_some(), "same-origin XHR carries a traceparent");
    let body = posted.request.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.as_deref());
    assert_eq!(body, Some(r#"{"plan":"team"}"#));
    let sync = calls.iter().filter(|c| c.initiator == Initiator::Xhr && c.url.ends_with("/api/invoices")).count();
    assert_eq!(sync, 3, "two async XHRs to /api/invoices and a synchronous one");
    let xhr_error = find(Initiator::Xhr, "127.0.0.1:1/", "GET");
    assert!(xhr_error.failed());
    assert_eq!(xhr_error.error.as_deref(), Some("NetworkError: error"));
    // Every way an XHR ends without a status is told apart.
    let xhr_aborted = find(Initiator::Xhr, "/api/report", "GET");
    assert_eq!((xhr_aborted.status, xhr_aborted.error.as_deref()), (0, Some("AbortError: aborted")));
    assert!(!xhr_aborted.failed(), "the page gave up on it, the server did nothing wrong");
    let timed_out = find(Initiator::Xhr, "/api/report?wait=timeout", "GET");
    assert_eq!((timed_out.status, timed_out.error.as_deref()), (0, Some("TimeoutError: timeout")));
    assert!(timed_out.failed());
    let beacon = find(Initiator::Beacon, "/api/checkout", "POST");
    assert!(!beacon.failed(), "a queued beacon");
    // Credentials are redacted in the URL, the headers and the body of an allow-listed call.
    let form = calls.iter().find(|c| c.url.contains("plan=pro&token=")).expect("the form post");
    assert!(form.url.ends_with("token=%5Bredacted%5D"), "{}", form.url);
    let request = form.request.as_ref().expect("allow-listed: headers and body recorded");
    assert!(request.headers.contains(&("authorization".to_owned(), "[redacted]".to_owned())), "{:?}", request.headers);
    let body = request.body.as_ref().and_then(|b| b.text.as_deref());
    assert_eq!(body, Some("password=%5Bredacted%5D&plan=pro"));
    let leaked: Vec<_> = calls.iter().filter(|c| format!("{c:?}").contains("SECRET")).collect();
    assert!(leaked.is_empty(), "no credential anywhere: {leaked:#?}");

    assert_eq!(find(Initiator::Fetch, "/api/invoices?based", "GET").status, 200, "resolved against the <base>");
    let fragment = find(Initiator::Fetch, "/api/invoices?fragment#pin=%5Bredacted%5D", "GET");
    assert_eq!(fragment.status, 200);
    let userinfo = find(Initiator::Fetch, "/api/invoices?userinfo", "GET");
    assert!(userinfo.url.starts_with("http://127.0.0.1:") && userinfo.failed(), "{userinfo:?}");
    let first_try = find(Initiator::Xhr, "127.0.0.1:1/?first-try", "GET");
    assert_eq!(first_try.error.as_deref(), Some("NetworkError: error"), "the try before the retry is recorded");
    assert_eq!(find(Initiator::Xhr, "/api/invoices?retried", "GET").status, 200);
    let urls = with["urls"].as_array().expect("the URL cases");
    assert_eq!(urls.len(), 12);
    for case in urls {
        let expected = case[0].as_str().expect("a resolved URL");
        assert!(
            calls.iter().any(|c| c.initiator == Initiator::Fetch && c.url == expected),
            "{expected} recorded as the browser resolved it: {:#?}",
            calls.iter().map(|c| &c.url).collect::<Vec<_>>()
        );
    }

    let request_posted = calls
        .iter()
        .find(|c| c.initiator == Initiator::Fetch && c.url.ends_with("/api/checkout") && c.status == 200)
        .expect("the fetch of a Request");
    assert!(request_posted.trace.is_some());
}

#[test]
fn what_the_app_does_while_the_wasm_loads_is_recorded() {
    use sightline_e2e::sdk::{dist, TOKEN};
    use sightline_e2e::static_files::StaticFiles;
    // The wasm is held back until the app has made its first request, logged an error and
    // thrown one: all of it comes before the recorder exists.
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Boot</title></head><body><p>Booting</p>
<script type="module">
import {{ init, identify, status, flush, getSessionUrl }} from '/index.js';
let release;
const wasm = new Promise((resolve) => {{ release = resolve; }});
const ready = init({{ endpoint: '{}', projectKey: '{KEY}', wasmUrl: wasm }});
identify('u_early', {{ plan: 'team' }});
const stateAtFetch = status().state;
const answer = await fetch('/api/boot.json').then((r) => r.text());
console.error('config missing');
setTimeout(() => {{ throw new Error('early boom'); }}, 0);
await new Promise((resolve) => setTimeout(resolve, 100));
const stateAtRelease = status().state;
release(fetch('/sightline_bg.wasm'));
await ready;
flush();
window.done = {{ stateAtFetch, stateAtRelease, answer, state: status().state }};
window.sessionUrl = getSessionUrl();
</script></body></html>"#,
        collector.base
    );
    let site = StaticFiles::start(
        &dist(),
        vec![("/".into(), page), ("/api/boot.json".into(), r#"{"features":["a"]}"#.into())],
    );
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let done = browser.wait_for("window.done", Duration::from_secs(20));
    assert_eq!(
        done,
        serde_json::json!({ "stateAtFetch": "starting", "stateAtRelease": "starting", "answer": r#"{"features":["a"]}"#, "state": "recording" })
    );
    let session = session_of(&browser.execute("return window.sessionUrl;"));
    let http = Http::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let events: Vec<EventData> = loop {
        let events: Vec<EventData> =
            stored(&http, &collector, &session, 1).into_iter().flat_map(|b| b.events).map(|e| e.data).collect();
        let errors = events.iter().filter(|e| matches!(e, EventData::Error(_))).count();
        if errors >= 1 || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let boot: Vec<&Network> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Network(n) if n.url.ends_with("/api/boot.json") => Some(n.as_ref()),
            _ => None,
        })
        .collect();
    assert_eq!(boot.len(), 1, "the first request is recorded");
    assert_eq!(boot[0].status, 200);
    assert!(boot[0].trace.is_some(), "and traced: {:?}", boot[0]);
    assert!(
        events.iter().any(|e| matches!(e, EventData::Console(c) if c.args == ["config missing"])),
        "the console error"
    );
    assert!(
        events.iter().any(|e| matches!(e, EventData::Error(error) if error.message.contains("early boom"))),
        "the uncaught error"
    );
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    assert_eq!(summary["user_id"], "u_early", "identify before init resolved: {summary:#}");
}

#[test]
fn the_dom_recorder_comes_from_dom_url_and_stop_while_starting_stops() {
    use sightline_e2e::sdk::dist;
    use sightline_e2e::static_files::StaticFiles;
    let (collector, _data) = start_collector();
    let page = |options: &str| {
        format!(
            r#"<!doctype html><html><head><meta charset="utf-8"></head><body><p>App</p>
<script type="module">
import {{ init, stop, status }} from '/index.js';
let release;
const wasm = new Promise((resolve) => {{ release = resolve; }});
const ready = init({{ endpoint: '{}', projectKey: '{KEY}', wasmUrl: wasm, {options} }});
if (location.hash === '#stop') stop();
const stateBefore = status().state;
release(fetch('/sightline_bg.wasm'));
await ready;
window.done = {{ stateBefore, after: status() }};
</script></body></html>"#,
            collector.base
        )
    };
    let recorder = std::fs::read_to_string(dist().join("dom.js")).expect("the built dom.js");
    let site = StaticFiles::start(
        &dist(),
        vec![
            ("/moved".into(), page("domUrl: '/assets/recorder-3f9a.js'")),
            ("/missing".into(), page("domUrl: '/assets/nope.js'")),
            ("/plain".into(), page("")),
            ("/assets/recorder-3f9a.js".into(), recorder),
        ],
    );
    let browser = Browser::start();
    let outcome = |path: &str| {
        browser.navigate(&format!("{}{path}", site.base));
        browser.wait_for("window.done", Duration::from_secs(20))
    };
    assert_eq!(outcome("/moved")["after"]["state"], "recording", "dom.js from where domUrl says");
    let missing = outcome("/missing");
    assert_eq!(
        (missing["after"]["state"].as_str(), missing["after"]["reason"].as_str()),
        (Some("disabled"), Some("wasm"))
    );
    let stopped = outcome("/plain#stop");
    assert_eq!(stopped["stateBefore"], "stopped");
    assert_eq!(stopped["after"]["state"], "stopped", "stopped while starting, it never records");
}
