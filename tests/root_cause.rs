//! From a ticket to the root cause: a user of the example app runs into the failing action,
//! clicks a button that does nothing and hammers another; the demo backend, instrumented with
//! OpenTelemetry, exports its spans and error log to the collector. The session's digest names
//! the click, the failed request with its 500 and the backend's log line of that trace, and the
//! console error; its deep link opens the viewer at that moment, where the request shows the
//! backend's records. A journey without trouble yields no signal.
//!
//! Needs `npm/dist`, the player and the example app's binary (`cargo xtask test` builds them),
//! Chromium and ChromeDriver.

use std::path::Path;
use std::time::{Duration, Instant};

use sightline_e2e::digest::{analysed, digest_when, problems};
use sightline_e2e::sdk::{start_collector, KEY, TOKEN};
use sightline_e2e::shop::Shop;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{Collector, Http};

/// Ends the recording: leaving the page ships what is pending, by beacon what fits the
/// browser's 64 KiB; the rest is kept for the next page of the site.
fn leave(browser: &Browser) {
    browser.navigate("about:blank");
}

/// The session's reproduction script, run with Node and playwright-core (the npm package's
/// development dependency) in Chromium against the site at `base`, with what the recording
/// masked filled in as a developer would; answers whether it passed, and its output and text.
fn reproduce(http: &Http, collector: &Collector, session: &str, base: &str) -> (bool, String, String) {
    let script = http.get(&format!("{}/api/sessions/{session}/repro", collector.base), TOKEN);
    assert_eq!(script.status, 200);
    let script = String::from_utf8(script.body).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("repro.js");
    std::fs::write(&file, &script).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let _ = std::fs::write(root.join(format!("target/repro-{session}.js")), &script);
    let run = std::process::Command::new("node")
        .arg(&file)
        .env("NODE_PATH", root.join("npm/node_modules"))
        .env("CHROMIUM", std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
        .env("SIGHTLINE_BASE_URL", base)
        .env("CHROMIUM_NO_SANDBOX", "1")
        .env("LOGIN_EMAIL", "jane@acme.com")
        .env("LOGIN_PASSWORD", "pw-for-the-demo")
        .output()
        .expect("node runs");
    let output = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    (run.status.success(), output, script)
}

#[test]
fn the_digest_and_the_viewer_lead_from_the_failed_click_to_the_backend_error() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let http = Http::default();
    let browser = Browser::start();
    let session = shop.signed_in(&browser);

    // The action that fails, the button that does nothing, and the one clicked in anger.
    browser.click("button.send");
    browser
        .wait_for("document.getElementById('toast').textContent.includes('Could not send')", Duration::from_secs(10));
    // The toast hides itself 4 s later: that change must not fall into the next click's second.
    browser.wait_for("getComputedStyle(document.getElementById('toast')).display === 'none'", Duration::from_secs(10));
    browser.click("#download-pdf");
    std::thread::sleep(Duration::from_millis(1_500));
    let started = Instant::now();
    browser.click_repeatedly("#report", 4);
    let rage_ms = started.elapsed().as_millis();
    browser.wait_for(
        "document.getElementById('report-result').textContent.startsWith('Revenue')",
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_millis(1_200));
    leave(&browser);

    let come_back = || browser.navigate(&format!("{}/login", shop.base));
    let digest = digest_when(&http, &collector, &session, come_back, |d| {
        let failed = problems(d, "failed_request");
        !failed.is_empty()
            && failed[0]["backend"]["logs"].as_array().is_some_and(|l| !l.is_empty())
            && !problems(d, "rage_click").is_empty()
    });

    // The click, the request with its 500, the backend's log of that trace, the console error.
    let error_clicks = problems(&digest, "error_click");
    assert_eq!(error_clicks.len(), 1, "{digest:#}");
    let error_click = error_clicks[0];
    assert!(error_click["summary"].as_str().unwrap().contains("the \"Send\" button (button.send)"), "{error_click:#}");
    let failed = problems(&digest, "failed_request")[0];
    let request = &failed["request"];
    assert_eq!(request["status"], 500);
    assert!(request["url"].as_str().unwrap().ends_with("/api/invoices/40/send"));
    let trace = request["trace"].as_str().expect("the request's trace id");
    let backend = &failed["backend"];
    assert_eq!(backend["trace"], trace);
    let log = &backend["logs"][0];
    assert_eq!(log["service"], "acme-billing-api");
    assert_eq!(log["severity"], "ERROR");
    assert!(log["message"].as_str().unwrap().contains("SMTP relay"), "{log}");
    let span = backend["spans"].as_array().unwrap().iter().find(|s| s["kind"] == "server").expect("the server span");
    assert_eq!(span["name"], "POST /api/invoices/{id}/send");
    assert_eq!(span["status"], "error");
    assert_eq!(log["span_id"], span["span_id"], "the log line was emitted in the request's span");
    let consoles = problems(&digest, "console_error");
    assert!(consoles.iter().any(|c| c["summary"].as_str().unwrap().contains("Sending INV-40 failed")), "{digest:#}");
    // One click, one problem: led by the request, the error click and the console error under it.
    let related: Vec<&str> =
        failed["related"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(related.contains(&"error_click") && related.contains(&"console_error"), "{failed:#}");
    assert!(
        failed["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["summary"].as_str().unwrap().contains("Click the \"Send\" button (button.send)")),
        "{failed:#}"
    );

    // The button that does nothing, and the one clicked four times.
    let dead = problems(&digest, "dead_click");
    assert_eq!(dead.len(), 1, "{digest:#}");
    assert!(dead[0]["summary"].as_str().unwrap().contains("button#download-pdf"), "{:#}", dead[0]);
    let rage = problems(&digest, "rage_click");
    assert_eq!(rage.len(), 1, "4 clicks in {rage_ms} ms: {digest:#}");
    assert!(
        rage[0]["summary"].as_str().unwrap().contains("4 clicks on the \"Load revenue report\" button (button#report)"),
        "{:#}",
        rage[0]
    );

    // The session list finds it by each of its signals.
    assert_eq!(
        analysed(&http, &collector, &session)["signals"],
        serde_json::json!({ "rage_clicks": 1, "dead_clicks": 1, "error_clicks": 1 })
    );
    for filter in ["has_rage_clicks", "has_dead_clicks", "has_error_clicks"] {
        let found = http.get(&format!("{}/api/sessions?{filter}=true", collector.base), TOKEN).json();
        assert_eq!(found["sessions"][0]["id"], session, "{filter}: {found}");
    }

    // The deep link opens the viewer at the failed click; the request there shows the
    // backend's records of its trace.
    let link = error_click["link"].as_str().unwrap();
    let offset = error_click["time"].as_u64().unwrap() - digest["start"].as_u64().unwrap();
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    // A laptop's screen, as the README's picture shows the workspace.
    browser.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
    );
    browser.navigate(link);
    browser.wait_for("document.getElementById('timeline')", Duration::from_secs(20));
    let at = browser.execute("return Number(document.getElementById('timeline').value);").as_u64().unwrap();
    assert!(at.abs_diff(offset) <= 10, "the viewer opened at {at} ms, the click was at {offset} ms");
    let markers = browser.execute("return document.querySelectorAll('#markers .marker.dead_click, #markers .marker.rage_click, #markers .marker.error_click').length;");
    assert_eq!(markers, 3, "a timeline marker for each signal");
    browser.execute(
        "[...document.querySelectorAll('#panel-network li')].find((li) => li.textContent.includes('/send')).click(); return true;",
    );
    let shown = browser.wait_for(
        "(document.querySelector('#panel-network .backend') || {}).textContent?.includes('SMTP relay') && document.querySelector('#panel-network .backend').textContent",
        Duration::from_secs(10),
    );
    assert!(shown.as_str().unwrap().contains("acme-billing-api"), "{shown}");
    // The README's picture of the viewer is this moment (`SIGHTLINE_SCREENSHOT=docs/viewer.png`
    // to take it again); every run leaves one in `target/`.
    let picture = browser.screenshot();
    assert!(picture.starts_with(b"\x89PNG"), "a PNG");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/viewer-screenshot.png");
    std::fs::write(&target, &picture).unwrap();
    if let Ok(path) = std::env::var("SIGHTLINE_SCREENSHOT") {
        std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path), &picture).unwrap();
    }

    // The session in one file, opened from disk with the network cut: the replay at the failed
    // click, the request's backend log line, and nothing fetched.
    let export = http.request(
        "GET",
        &format!("{}/api/sessions/{session}/export", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(export.status, 200);
    assert!(export.header("content-disposition").is_some_and(|d| d.contains("attachment")));
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join(format!("sightline-{session}.html"));
    std::fs::write(&file, &export.body).unwrap();
    let offline = Browser::start_with(&["--host-resolver-rules=MAP * ~NOTFOUND"]);
    offline.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
    );
    offline.navigate(&format!("file://{}?t={}", file.display(), error_click["time"]));
    offline.wait_for("performance.getEntriesByName('sightline-first-frame').length > 0", Duration::from_secs(30));
    let at = offline.execute("return Number(document.getElementById('timeline').value);").as_u64().unwrap();
    assert!(at.abs_diff(offset) <= 10, "the file opened at {at} ms, the click was at {offset} ms");
    let page = offline.execute("return document.getElementById('replay-frame').contentDocument.body.textContent;");
    assert!(page.as_str().unwrap().contains("INV-40"), "the page at the click");
    offline.execute(
        "[...document.querySelectorAll('#panel-network li')].find((li) => li.textContent.includes('/send')).click(); return true;",
    );
    let shown = offline.wait_for(
        "(document.querySelector('#panel-network .backend') || {}).textContent?.includes('SMTP relay') && document.querySelector('#panel-network .backend').textContent",
        Duration::from_secs(10),
    );
    assert!(shown.as_str().unwrap().contains("acme-billing-api"), "{shown}");
    let fetched = offline.execute(
        "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith('data:'));",
    );
    assert_eq!(fetched, serde_json::json!([]), "the file fetched nothing");
    let stamp = offline.execute("return document.querySelector('header .exported').textContent;");
    assert!(stamp.as_str().unwrap().contains(&collector.base), "says where from: {stamp}");

    // A script that does what the user did, with the answers the browser got, fails as the
    // user's session did; found by what a person would find each element by.
    let (passed, output, script) = reproduce(&http, &collector, &session, &shop.base);
    assert!(passed, "{output}\n{script}");
    for line in [
        "await page.goto(BASE + \"/login\");",
        "await page.locator(\"#login-email\").fill(LOGIN_EMAIL);",
        "hasText: \"INV-40\" }).getByRole(\"button\", { name: \"Send\", exact: true }).click();",
        "r.method === \"POST\" && r.path === \"/api/invoices/40/send\" && r.status === 500",
    ] {
        assert!(script.contains(line), "{line:?} missing from\n{script}");
    }
    assert!(!script.contains("pw-for-the-demo") && !script.contains("jane@acme.com"), "nothing masked in it");

    // The digest as Markdown, as the viewer's button copies it.
    let markdown = http.request(
        "GET",
        &format!("{}/api/sessions/{session}/digest?format=md", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    let text = String::from_utf8(markdown.body).unwrap();
    assert!(text.contains("Error click at") && text.contains("log ERROR acme-billing-api"), "{text}");
}

#[test]
fn a_journey_without_trouble_has_no_signal() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let http = Http::default();
    let browser = Browser::start();
    let session = shop.signed_in(&browser);

    browser.click("#new-invoice");
    browser.type_into("#invoice-customer", "Soylent");
    browser.type_into("#invoice-amount", "640");
    browser.click("#invoice-create");
    browser.wait_for("document.getElementById('toast').textContent.includes('created')", Duration::from_secs(10));
    browser.click("a[href='/customers']");
    browser.wait_for("document.querySelectorAll('#customers tr').length === 3000", Duration::from_secs(10));
    browser.type_into("#customer-filter", "lisbon");
    browser.click("a[href='/']");
    browser.wait_for("document.querySelector('button.send')", Duration::from_secs(10));
    browser.click("#report");
    browser.wait_for(
        "document.getElementById('report-result').textContent.startsWith('Revenue')",
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_millis(1_200));
    leave(&browser);

    let come_back = || browser.navigate(&format!("{}/login", shop.base));
    let digest =
        digest_when(&http, &collector, &session, come_back, |d| d["pages"].as_array().is_some_and(|p| p.len() >= 4));
    let problems = digest["problems"].as_array().unwrap();
    assert!(problems.is_empty(), "no false signal: {digest:#}");
    assert_eq!(
        analysed(&http, &collector, &session)["signals"],
        serde_json::json!({ "rage_clicks": 0, "dead_clicks": 0, "error_clicks": 0 })
    );
    let found = http.get(&format!("{}/api/sessions?has_dead_clicks=true", collector.base), TOKEN).json();
    assert_eq!(found["sessions"], serde_json::json!([]));
    // Its reproduction runs through without trouble.
    let (passed, output, script) = reproduce(&http, &collector, &session, &shop.base);
    assert!(passed, "{output}\n{script}");
    assert!(script.contains("no request failed"), "{script}");
}
