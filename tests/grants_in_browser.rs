//! Capture on demand, in headless Chromium: support grants "record jane@acme.com fully, with
//! the bodies of `/api/orders`, for 24 h" through the API, and the SDK, configured to record no
//! bodies at all, applies it without the page seeing anything:
//! - jane's calls to `/api/orders` are recorded with their bodies, her other calls are not;
//! - bob's calls are not, until support grants him too while he is on the page (the answer to
//!   his next batch brings it), and not once carol signs in on his tab;
//! - a tab of jane's in buffer mode sends what it kept, and one sampling left out starts
//!   recording, as soon as the app says who she is (unless the app stopped the SDK);
//! - once revoked, the grant is let go at the next page's first batch and bodies stop;
//! - every grant and revocation is in the audit log, and erasing a user revokes theirs.
//!
//! Needs `npm/dist` (`cargo xtask test` builds it), Chromium and ChromeDriver.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_e2e::sdk::{dist, session_of, stored, KEY, TOKEN};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{collector_bin, project_config, Collector, Http};
use sightline_protocol::{EventData, Network};

const ORDERS: &str = r#"{"orders":[{"id":40,"total":"12.00"}]}"#;

/// A page recording with `options` (besides the endpoint and key), with the SDK's calls on
/// `window.sl`.
fn page(collector: &str, options: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Orders</title></head>
<body><h1>Orders</h1><script type="module">
import {{ init, identify, track, flush, stop, status, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{collector}', projectKey: '{KEY}', {options} }});
window.sl = {{ identify, track, flush, stop, status, getSessionUrl }};
window.ready = true;
</script></body></html>"#
    )
}

/// A site of its own origin (its own tab storage) serving `page` and two API answers.
fn site(page: String) -> StaticFiles {
    StaticFiles::start(
        &dist(),
        vec![
            ("/".into(), page),
            ("/api/orders.json".into(), ORDERS.into()),
            ("/api/profile.json".into(), r#"{"name":"Jane"}"#.into()),
        ],
    )
}

fn open(browser: &Browser, site: &StaticFiles) {
    browser.navigate(&format!("{}/", site.base));
    browser.wait_for("window.ready === true", Duration::from_secs(20));
}

fn grant(http: &Http, collector: &Collector, body: Value) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let answer = http.request(
        "POST",
        &format!("{}/api/grants", collector.base),
        &[("authorization", &auth), ("content-type", "application/json")],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

/// The capture grant token the tab holds, if any (the test looks; the page is never told).
fn held(browser: &Browser) -> Value {
    browser.execute("return sessionStorage.getItem('sightline.grant');")
}

/// Fetches the page's API (both calls) and sends what was recorded.
fn call_api(browser: &Browser) {
    browser.execute_async(
        "const done = arguments[arguments.length - 1];
         Promise.all(['/api/orders.json', '/api/profile.json'].map((u) => fetch(u).then((r) => r.text())))
           .then(() => { window.sl.flush(); done(true); });",
    );
}

/// The session's recorded calls to `path`, once it holds `count` of them: each call's response
/// body, if recorded.
fn calls(http: &Http, collector: &Collector, session: &str, path: &str, count: usize) -> Vec<Option<String>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<Option<String>> = stored(http, collector, session, 1)
            .into_iter()
            .flat_map(|b| b.events)
            .filter_map(|e| match e.data {
                EventData::Network(n) if n.url.ends_with(path) => Some(body_of(&n)),
                _ => None,
            })
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(Instant::now() < deadline, "{count} calls to {path} in {session}; found {found:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn body_of(call: &Network) -> Option<String> {
    call.response.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.clone())
}

fn session(browser: &Browser) -> String {
    session_of(&browser.execute("return window.sl.getSessionUrl();"))
}

#[test]
fn a_granted_user_is_recorded_in_full_and_nobody_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &project_config("web", KEY, TOKEN));
    let http = Http::default();
    let jane =
        grant(&http, &collector, json!({ "user": "Jane@Acme.com", "network_urls": ["/api/orders"], "hours": 24 }));
    assert_eq!(jane["user"], "jane@acme.com");
    assert_eq!(jane["by"], "read token 1");
    let browser = Browser::start();

    // Jane, recorded with no bodies configured: her orders call has its body, her profile
    // call (not granted) does not.
    let full = site(page(&collector.base, ""));
    open(&browser, &full);
    browser.execute("window.sl.identify('u_jane', { email: 'Jane@Acme.com', plan: 'team' }); return true;");
    browser.wait_for("sessionStorage.getItem('sightline.grant')", Duration::from_secs(10));
    call_api(&browser);
    let jane_session = session(&browser);
    assert_eq!(calls(&http, &collector, &jane_session, "/api/orders.json", 1), [Some(ORDERS.to_owned())]);
    assert_eq!(calls(&http, &collector, &jane_session, "/api/profile.json", 1), [None]);
    // Named again by her id alone, as apps do on later pages: her grant (made for her email)
    // stands, on the page and at the collector.
    browser.execute("window.sl.identify('u_jane'); window.sl.track('again'); window.sl.flush(); return true;");
    // Once that batch is stored its answer is on its way: a moment later the page has read it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stored(&http, &collector, &jane_session, 1)
        .iter()
        .flat_map(|b| &b.events)
        .any(|e| matches!(&e.data, EventData::Custom(c) if c.name == "again"))
    {
        assert!(Instant::now() < deadline, "the batch naming jane again is stored");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(held(&browser).is_string(), "the grant stands for jane named by id");

    // Bob, another origin's tab: no bodies. Granted while he is on the page, the answer to his
    // next batch brings the grant.
    let other = site(page(&collector.base, ""));
    open(&browser, &other);
    browser.execute("window.sl.identify('u_bob', { email: 'bob@acme.com' }); return true;");
    call_api(&browser);
    let bob_session = session(&browser);
    assert_eq!(calls(&http, &collector, &bob_session, "/api/orders.json", 1), [None]);
    assert_eq!(held(&browser), Value::Null);
    grant(&http, &collector, json!({ "user": "u_bob", "network_urls": ["/api/orders"] }));
    browser.execute("window.sl.track('next step'); window.sl.flush(); return true;");
    browser.wait_for("sessionStorage.getItem('sightline.grant')", Duration::from_secs(10));
    call_api(&browser);
    assert_eq!(calls(&http, &collector, &bob_session, "/api/orders.json", 2), [None, Some(ORDERS.to_owned())]);

    // Carol signs in on bob's tab: his grant goes at once, and the answers to batches that
    // left before she was named (the session still bob's) don't bring it back.
    browser.execute("window.sl.identify('u_carol', { email: 'carol@acme.com' }); return true;");
    assert_eq!(held(&browser), Value::Null);
    call_api(&browser);
    assert_eq!(
        calls(&http, &collector, &bob_session, "/api/orders.json", 3),
        [None, Some(ORDERS.to_owned()), None],
        "carol's calls are hers"
    );
    browser.execute("window.sl.track('after carol'); window.sl.flush(); return true;");
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(held(&browser), Value::Null, "bob's grant stays gone");

    // Jane in buffer mode: what was kept is sent once she is named, and recording goes on.
    let buffered = site(page(&collector.base, "mode: 'buffer', bufferSeconds: 10"));
    open(&browser, &buffered);
    assert_eq!(browser.execute("return window.sl.status().buffering;"), true);
    browser.execute("window.sl.identify('u_jane', { email: 'jane@acme.com' }); return true;");
    browser.wait_for("window.sl.status().buffering === false", Duration::from_secs(10));
    call_api(&browser);
    let buffered_session = session(&browser);
    assert_eq!(calls(&http, &collector, &buffered_session, "/api/orders.json", 1), [Some(ORDERS.to_owned())]);
    let batches = stored(&http, &collector, &buffered_session, 1);
    assert!(
        batches.iter().flat_map(|b| &b.events).any(|e| matches!(e.data, EventData::Snapshot(_))),
        "the kept start of the page was sent"
    );

    // Jane in a tab sampling left out: named, she is recorded after all.
    let sampled = site(page(&collector.base, "sampleRate: 0"));
    open(&browser, &sampled);
    assert_eq!(browser.execute("return window.sl.status().reason;"), "sampled_out");
    browser.execute("window.sl.identify('u_jane', { email: 'jane@acme.com' }); return true;");
    browser.wait_for("window.sl.status().state === 'recording'", Duration::from_secs(20));
    call_api(&browser);
    let sampled_session = session(&browser);
    assert_eq!(calls(&http, &collector, &sampled_session, "/api/orders.json", 1), [Some(ORDERS.to_owned())]);
    let summary = http.get(&format!("{}/api/sessions/{sampled_session}", collector.base), TOKEN).json();
    assert_eq!(summary["user_id"], "u_jane", "the identify that started it is recorded: {summary:#}");

    // A page that stopped the SDK is not started by a grant.
    let stopped = site(page(&collector.base, "sampleRate: 0"));
    open(&browser, &stopped);
    browser.execute("window.sl.stop(); window.sl.identify('u_jane', { email: 'jane@acme.com' }); return true;");
    std::thread::sleep(Duration::from_millis(2_000));
    assert_eq!(browser.execute("return window.sl.status().state;"), "disabled");

    // Revoked: jane's first tab, back on its page, lets the grant go at its first batch.
    let id = jane["id"].as_str().unwrap();
    let revoked = http.delete(&format!("{}/api/grants/{id}", collector.base), TOKEN);
    assert_eq!(revoked.status, 200);
    open(&browser, &full);
    browser.wait_for("sessionStorage.getItem('sightline.grant') === null", Duration::from_secs(15));
    call_api(&browser);
    assert_eq!(
        calls(&http, &collector, &jane_session, "/api/orders.json", 2),
        [Some(ORDERS.to_owned()), None],
        "bodies stop with the grant"
    );

    // Support sees the grants that stand, and the log of who granted and revoked what.
    let listed = http.get(&format!("{}/api/grants", collector.base), TOKEN).json();
    let users: Vec<&str> = listed["grants"].as_array().unwrap().iter().map(|g| g["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["u_bob"]);
    // Every look at a session is in the log too: read far enough back.
    let audit = http.get(&format!("{}/api/audit?limit=1000", collector.base), TOKEN).json();
    let actions: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().contains("grant"))
        .map(|e| (e["action"].as_str().unwrap(), e["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(actions.len(), 3, "{audit:#}");
    assert_eq!(actions[0], ("revoke_grant", format!("{id} (jane@acme.com)").as_str()));
    assert!(actions[1].0 == "grant" && actions[1].1.ends_with("(u_bob)"), "{actions:?}");
    assert_eq!(actions[2], ("grant", format!("{id} (jane@acme.com)").as_str()));
}

#[test]
fn the_grant_api_refuses_what_it_cant_honour() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &project_config("web", KEY, TOKEN));
    let http = Http::default();
    let auth = format!("Bearer {TOKEN}");
    let post = |body: &str| {
        http.request(
            "POST",
            &format!("{}/api/grants", collector.base),
            &[("authorization", &auth), ("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    };
    for (body, code) in [
        (r#"{"user":""}"#, "bad_grant"),
        (r#"{"user":"u","hours":0}"#, "bad_grant"),
        (r#"{"user":"u","hours":100000}"#, "bad_grant"),
        (r#"{"user":"u","network_urls":[""]}"#, "bad_grant"),
        (r#"{"user":"u","everything":true}"#, "bad_json"),
        ("not json", "bad_json"),
    ] {
        let answer = post(body);
        assert_eq!((answer.status, answer.error_code()), (400, code.to_owned()), "{body}");
    }
    assert_eq!(http.request("POST", &format!("{}/api/grants", collector.base), &[], Some(b"{}")).status, 401);
    assert_eq!(http.delete(&format!("{}/api/grants/nope", collector.base), TOKEN).status, 404);

    // The SDK's lookup takes hashes only, and answers null for a user without a grant.
    let lookup =
        |query: &str| http.request("GET", &format!("{}/v1/grant?key={KEY}&{query}", collector.base), &[], None);
    assert_eq!(lookup("u=jane@acme.com").status, 400);
    assert_eq!(lookup("").status, 400);
    let nobody = lookup(&format!("u={}", "ab".repeat(32)));
    assert_eq!((nobody.status, nobody.json()), (200, json!({ "grant": null })));
    let wrong_key =
        http.request("GET", &format!("{}/v1/grant?key=slk_nope&u={}", collector.base, "ab".repeat(32)), &[], None);
    assert_eq!(wrong_key.status, 401);

    // A page whose fetch another tool wraps may add headers: the lookup's preflight allows them.
    let preflight = http.request(
        "OPTIONS",
        &format!("{}/v1/grant?key={KEY}", collector.base),
        &[("origin", "https://app.acme.example"), ("access-control-request-headers", "x-trace-id")],
        None,
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-headers"), Some("x-trace-id"));

    // Erasing a user revokes their grant, and says so in the log.
    let made = post(r#"{"user":"gone@acme.com","network_urls":["/api/"]}"#);
    assert_eq!(made.status, 201);
    assert_eq!(http.delete(&format!("{}/api/users/gone@acme.com", collector.base), TOKEN).status, 200);
    assert_eq!(http.get(&format!("{}/api/grants", collector.base), TOKEN).json()["grants"], json!([]));
    let audit = http.get(&format!("{}/api/audit", collector.base), TOKEN).json();
    let revoked: Vec<&Value> =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "revoke_grant").collect();
    assert_eq!(revoked.len(), 1, "{audit:#}");
    assert!(revoked[0]["subject"].as_str().unwrap().ends_with("(gone@acme.com)"), "{audit:#}");
}
