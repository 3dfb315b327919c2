//! From a fault to the story a support engineer reads: journeys on todo apps built with React
//! (controlled inputs), Vue and Svelte from npm, each with one fault injected from outside — a
//! save answering 500 with the backend's log line, a save whose connection drops, a sync the
//! backend refuses with a 409 the app then logs, a slow sync clicked again and again, a page
//! handler that throws before the SDK sees the click — asserting on the digest's JSON: the
//! headline, the step that caused it (keys included), the request with its status and
//! duration, the backend's log line, the errors the app logged and showed under it, and nothing
//! reported on a journey without trouble.
//!
//! Each journey leaves its digest as Markdown in `target/digest-<journey>.md` (the README's
//! examples are these). Needs `npm/dist`, `target/test-apps` (both built by `cargo xtask
//! test`), the collector binary, Chromium and ChromeDriver.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sightline_e2e::digest::{analysed, digest_when, problems};
use sightline_e2e::sdk::{app_page, dist, recorded_session, start_collector, test_app, KEY, TOKEN};
use sightline_e2e::todo_site::{Fault, TodoSite, SAVE_ERROR, SERVICE, SYNC_CONFLICT};
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{backend_key, Collector, Http};

const ENTER: &str = "\u{E007}";

/// One journey: an app on its site with a fault, recorded into a collector of its own.
struct Journey {
    collector: Collector,
    _data: tempfile::TempDir,
    site: TodoSite,
    browser: Browser,
    session: String,
}

impl Journey {
    /// Opens `app` with the API failing as `fault` says; `before_sdk` is the page's own script,
    /// run before the SDK is installed.
    fn open(app: &str, fault: Fault, before_sdk: &str) -> Journey {
        let (collector, data) = start_collector();
        let before = format!("<script>{before_sdk}</script>\n<script>window.todoApi = '/api';</script>");
        let page = app_page(&collector.base, &before);
        let site = TodoSite::start(page, test_app(app), dist(), fault, &collector.base, &backend_key(KEY));
        let browser = Browser::start();
        browser.navigate(&format!("{}/", site.base));
        let session = recorded_session(&browser);
        Journey { collector, _data: data, site, browser, session }
    }

    /// Leaves the page and reads the digest once `ready` holds of it; keeps its Markdown in
    /// `target/digest-<name>.md`.
    fn digest(&self, name: &str, ready: impl Fn(&Value) -> bool) -> Value {
        self.browser.navigate("about:blank");
        let http = Http::default();
        let come_back = || self.browser.navigate(&format!("{}/", self.site.base));
        let digest = digest_when(&http, &self.collector, &self.session, come_back, ready);
        let markdown = http.request(
            "GET",
            &format!("{}/api/sessions/{}/digest?format=md", self.collector.base, self.session),
            &[("authorization", &format!("Bearer {TOKEN}"))],
            None,
        );
        assert_eq!(markdown.status, 200);
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/digest-{name}.md"));
        std::fs::write(target, &markdown.body).unwrap();
        digest
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn step_summaries(problem: &Value) -> Vec<&str> {
    problem["steps"].as_array().unwrap().iter().map(|s| text(&s["summary"])).collect()
}

fn related_kinds(problem: &Value) -> Vec<&str> {
    problem["related"].as_array().unwrap().iter().map(|r| text(&r["kind"])).collect()
}

/// The app's error shown on the page has arrived (the last batch may come after the request's).
fn with_error_shown(digest: &Value) -> bool {
    !problems(digest, "error_shown").is_empty()
}

/// The lead problem has its backend's log lines.
fn with_backend_logs(digest: &Value) -> bool {
    digest["problems"]
        .as_array()
        .is_some_and(|p| p.first().is_some_and(|p| p["backend"]["logs"].as_array().is_some_and(|l| !l.is_empty())))
}

#[test]
fn react_a_save_answering_500_reads_as_the_enter_key_that_sent_it() {
    let journey = Journey::open("react", Fault::SaveFails, "");
    // The user clicks into the field, types, and presses Enter: the click is not the cause.
    journey.browser.click("#new");
    journey.browser.type_into("#new", &format!("Buy milk{ENTER}"));
    journey.browser.wait_for("document.getElementById('notice')?.textContent", Duration::from_secs(10));
    let digest = journey.digest("react-save-500", |d| with_backend_logs(d) && with_error_shown(d));

    let field = "the \"What needs doing?\" field (input#new)";
    let headline = text(&digest["headline"]);
    assert!(
        headline.starts_with(&format!(
            "POST /api/todos failed with 500 ({SAVE_ERROR}) after the user pressed Enter in {field}"
        )),
        "{headline}"
    );
    let lead = &digest["problems"][0];
    assert_eq!(lead["kind"], "failed_request", "{digest:#}");
    assert_eq!(lead["request"]["status"], 500);
    assert!(text(&lead["request"]["url"]).ends_with("/api/todos"));
    assert!(lead["request"]["duration_ms"].as_u64().is_some());
    let log = &lead["backend"]["logs"][0];
    assert_eq!((text(&log["service"]), text(&log["severity"]), text(&log["message"])), (SERVICE, "ERROR", SAVE_ERROR));
    assert_eq!(lead["backend"]["trace"], lead["request"]["trace"]);
    // Typing reads on React as on every framework, then the key that acted.
    let steps = step_summaries(lead);
    let typed = steps.iter().position(|s| *s == format!("Typed 8 characters (masked) into {field}"));
    let pressed = steps.iter().position(|s| *s == format!("Pressed Enter in {field}"));
    assert!(typed.is_some() && pressed == Some(steps.len() - 1) && typed < pressed, "{steps:#?}");
    // What the app logged and what it showed the user, under the request they came from.
    assert_eq!(related_kinds(lead), ["console_error", "error_shown"], "{lead:#}");
    assert_eq!(lead["related"][1]["summary"], "Shown: Could not save your todo");
    assert!(problems(&digest, "error_click").is_empty(), "the click that focused the field is no error click");
    assert_eq!(digest["problems"].as_array().unwrap().len(), 1, "one cause, one problem: {digest:#}");
    // The session list shows the same headline.
    assert_eq!(analysed(&Http::default(), &journey.collector, &journey.session)["headline"], digest["headline"]);
}

#[test]
fn vue_a_save_whose_connection_drops_names_the_network_error() {
    let journey = Journey::open("vue", Fault::SaveDropped, "");
    journey.browser.click("#new");
    journey.browser.type_into("#new", &format!("Call the bank{ENTER}"));
    journey.browser.wait_for("document.getElementById('notice')?.textContent", Duration::from_secs(10));
    let digest =
        journey.digest("vue-save-dropped", |d| !problems(d, "failed_request").is_empty() && with_error_shown(d));

    let field = "the \"What needs doing?\" field (input#new)";
    let headline = text(&digest["headline"]);
    assert!(
        headline.starts_with(&format!(
            "POST /api/todos failed: TypeError: Failed to fetch after the user pressed Enter in {field}"
        )),
        "{headline}"
    );
    let lead = &digest["problems"][0];
    assert_eq!((lead["kind"].as_str(), lead["request"]["status"].as_u64()), (Some("failed_request"), Some(0)));
    let steps = step_summaries(lead);
    assert_eq!(steps.last(), Some(&format!("Pressed Enter in {field}").as_str()), "{steps:#?}");
    assert!(steps.contains(&format!("Typed 13 characters (masked) into {field}").as_str()), "{steps:#?}");
    assert_eq!(related_kinds(lead), ["console_error", "error_shown"], "{lead:#}");
    assert_eq!(digest["problems"].as_array().unwrap().len(), 1, "{digest:#}");
}

#[test]
fn vue_a_409_the_app_reports_leads_to_the_request_and_the_backends_reason() {
    let journey = Journey::open("vue", Fault::SyncConflict, "");
    journey.browser.click("#sync");
    journey.browser.wait_for("document.getElementById('notice')?.textContent", Duration::from_secs(10));
    let digest = journey.digest("vue-sync-409", |d| with_backend_logs(d) && with_error_shown(d));

    let headline = text(&digest["headline"]);
    assert!(
        headline.starts_with(&format!(
            "POST /api/sync failed with 409 ({SYNC_CONFLICT}) after the user clicked the \"Sync\" button (button#sync)"
        )),
        "{headline}"
    );
    let lead = &digest["problems"][0];
    assert_eq!(lead["request"]["status"], 409, "{digest:#}");
    assert_eq!(lead["backend"]["logs"][0]["severity"], "WARN");
    assert_eq!(related_kinds(lead), ["console_error", "error_shown"], "the app's errors are the 409's: {lead:#}");
    let logged = &lead["related"][0];
    assert_eq!(logged["summary"], "Sync failed: sync conflict");
    assert_eq!(digest["problems"].as_array().unwrap().len(), 1, "{digest:#}");
}

#[test]
fn react_a_slow_sync_clicked_again_and_again_says_what_was_pending() {
    let journey = Journey::open("react", Fault::SlowSync, "");
    journey.browser.click_repeatedly("#sync", 4);
    // Leaving before the sync is answered would abort it: wait for it to be sent, then answered.
    journey.browser.wait_for("document.getElementById('sync').textContent === 'Syncing…'", Duration::from_secs(5));
    journey.browser.wait_for("document.getElementById('sync').textContent === 'Sync'", Duration::from_secs(12));
    let digest = journey.digest("react-slow-sync", |d| {
        !problems(d, "slow_request").is_empty() && !problems(d, "rage_click").is_empty()
    });

    let headline = text(&digest["headline"]);
    assert!(
        headline.starts_with("POST /api/sync took ")
            && headline.contains(" s after the user clicked the \"Sync\" button (button#sync)"),
        "what sent it, not the clicks while it was pending: {headline}"
    );
    let slow = problems(&digest, "slow_request");
    assert_eq!(slow.len(), 1, "{digest:#}");
    let duration = slow[0]["request"]["duration_ms"].as_u64().unwrap();
    assert!((6_000..8_000).contains(&duration), "{duration} ms");
    let seconds = format!("{:.1} s", duration as f64 / 1000.0);
    assert!(text(&slow[0]["summary"]).contains(&format!("/api/sync took {seconds}")), "{:#}", slow[0]);
    let rage = problems(&digest, "rage_click");
    assert_eq!(rage.len(), 1, "{digest:#}");
    let summary = text(&rage[0]["summary"]);
    assert!(
        summary.contains(&format!(
            "4 clicks on the \"Sync\" button (button#sync) while POST /api/sync was pending for {seconds}"
        )),
        "{summary}"
    );
    assert!(problems(&digest, "dead_click").is_empty(), "the button said it was syncing: {digest:#}");
}

#[test]
fn svelte_an_error_thrown_before_the_sdk_sees_the_click_is_that_clicks() {
    // The page's own capture listener, registered before the SDK's, throws on the click.
    let journey = Journey::open(
        "svelte",
        Fault::None,
        "addEventListener('click', (e) => { if (e.target.closest('.clear-completed')) \
         throw new TypeError(\"Cannot read properties of undefined (reading 'done')\"); }, true);",
    );
    for title in ["Buy milk", "Call the bank"] {
        journey.browser.type_into(".new-todo", &format!("{title}{ENTER}"));
    }
    journey.browser.click(".todo-list li .toggle");
    journey.browser.click(".clear-completed");
    journey.browser.wait_for("document.querySelectorAll('.todo-list li').length === 1", Duration::from_secs(10));
    let digest = journey.digest("svelte-throw", |d| !problems(d, "js_error").is_empty());

    let clear = "the \"Clear completed\" button (button.clear-completed)";
    let headline = text(&digest["headline"]);
    assert!(
        headline.starts_with(&format!(
            "TypeError: Cannot read properties of undefined (reading 'done') after the user clicked {clear}"
        )),
        "{headline}"
    );
    let lead = &digest["problems"][0];
    assert_eq!(lead["kind"], "js_error", "{digest:#}");
    assert_eq!(step_summaries(lead).last(), Some(&format!("Click {clear}").as_str()), "{lead:#}");
    assert_eq!(digest["problems"].as_array().unwrap().len(), 1, "{digest:#}");
}

#[test]
fn svelte_a_journey_without_trouble_reports_nothing() {
    let journey = Journey::open("svelte", Fault::None, "");
    for title in ["Buy milk", "Call the bank", "Book flights"] {
        journey.browser.type_into(".new-todo", &format!("{title}{ENTER}"));
    }
    journey.browser.click(".todo-list li .toggle");
    journey.browser.click("a[href='#/active']");
    journey.browser.click("a[href='#/completed']");
    journey.browser.click(".clear-completed");
    journey.browser.click("a[href='#/']");
    journey.browser.wait_for("document.querySelectorAll('.todo-list li').length === 2", Duration::from_secs(10));
    let digest = journey.digest("svelte-clean", |d| d["pages"].as_array().is_some_and(|p| p.len() >= 4));

    assert_eq!(digest["problems"], serde_json::json!([]), "{digest:#}");
    assert_eq!(digest["headline"], Value::Null);
    let pages: Vec<&str> = digest["pages"].as_array().unwrap().iter().map(|p| text(&p["summary"])).collect();
    assert!(pages.iter().any(|p| p.starts_with("Went to") && p.ends_with("#/active")), "a click, not back: {pages:#?}");
}
