//! A user reports a problem in their own words, in headless Chromium: the SDK's dialog opens
//! over a page whose styles would hide it if they reached it, is a modal dialog a screen reader
//! names (checked in the browser's accessibility tree), is driven from the keyboard alone, sends
//! the words, says so, and gives the focus back; Escape sends nothing. `report(text)` sends
//! without the dialog. Support then finds the reports in the session (summary, digest, filter)
//! and a webhook that takes `feedback` gets them at once, while one that takes only `problem`
//! does not. The dialog itself is never recorded.
//!
//! Needs `npm/dist` (`cargo xtask test` builds it), Chromium and ChromeDriver.

use std::time::Duration;

use serde_json::{json, Value};
use sightline_e2e::receiver::Receiver;
use sightline_e2e::sdk::{dist, stored, KEY, TOKEN};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{collector_bin, project_config, Collector, Http};
use sightline_protocol::{EventData, NodeKind};

fn page(collector: &str) -> String {
    format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Invoices</title>
<style>dialog, textarea, button {{ display: none !important; }} * {{ font-size: 1px !important; }}</style>
</head><body><main><h1>Invoices</h1><a id="help" href="#help">Help</a></main>
<script type="module">
import {{ init, feedback, report, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.sl = {{ feedback, report }};
window.sessionUrl = getSessionUrl();
</script></body></html>"##
    )
}

/// Presses a key, as a keyboard would, on whatever has the focus (inside shadow roots too).
fn press(browser: &Browser, key: &str, code: u32) {
    let text = if key == "Enter" { "\r" } else { "" };
    for kind in ["keyDown", "keyUp"] {
        let mut event = json!({ "type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code });
        if kind == "keyDown" && !text.is_empty() {
            event["text"] = json!(text);
        }
        browser.cdp("Input.dispatchKeyEvent", event);
    }
}

/// The accessibility tree's nodes as `(role, name, focused)`, ignored ones left out.
fn accessible(browser: &Browser) -> Vec<(String, String, bool)> {
    let tree = browser.cdp("Accessibility.getFullAXTree", json!({}));
    tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["ignored"] != true)
        .map(|n| {
            let focused = n["properties"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "focused" && p["value"]["value"] == true));
            let text = |v: &Value| v["value"].as_str().unwrap_or_default().to_owned();
            (text(&n["role"]), text(&n["name"]), focused)
        })
        .collect()
}

fn has(tree: &[(String, String, bool)], role: &str, name: &str) -> bool {
    tree.iter().any(|(r, n, _)| r == role && n == name)
}

#[test]
fn a_users_report_goes_from_an_accessible_dialog_to_support_and_its_webhook() {
    let receiver = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[webhooks]\nallow_private_destinations = true\n\n{}\n[[projects.webhooks]]\nurl = \"{base}/reports\"\n\
         secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"feedback\"]\n\n[[projects.webhooks]]\n\
         url = \"{base}/problems\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"problem\"]\n",
        project_config("web", KEY, TOKEN),
        base = receiver.base
    );
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &config);
    let site = StaticFiles::start(&dist(), vec![("/".into(), page(&collector.base))]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let session = sightline_e2e::sdk::recorded_session(&browser);

    // Opened from a link that has the focus: the dialog takes it, named for a screen reader.
    browser.execute("document.getElementById('help').focus(); window.sl.feedback().then((sent) => { window.sent = sent; }); return true;");
    browser.wait_for(
        "document.activeElement && document.activeElement.localName === 'sightline-feedback'",
        Duration::from_secs(10),
    );
    let tree = accessible(&browser);
    assert!(has(&tree, "dialog", "Report a problem"), "{tree:#?}");
    assert!(tree.iter().any(|(r, n, focused)| r == "textbox" && n == "What happened?" && *focused), "{tree:#?}");
    assert!(has(&tree, "button", "Send") && has(&tree, "button", "Cancel"), "{tree:#?}");
    assert!(!has(&tree, "link", "Help"), "the page behind a modal dialog is inert: {tree:#?}");

    // Typed, then Tab to Cancel, Tab to Send, Enter: sent, said so, closed with Escape.
    browser.cdp("Input.insertText", json!({ "text": "The PDF button does nothing.\nInvoice 40, since this morning." }));
    press(&browser, "Tab", 9);
    press(&browser, "Tab", 9);
    press(&browser, "Enter", 13);
    let tree = (0..50)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            accessible(&browser)
        })
        .find(|tree| tree.iter().any(|(r, n, _)| r == "status" || n.contains("Your report was sent")))
        .expect("the dialog says the report was sent");
    assert!(tree.iter().any(|(_, n, _)| n.contains("Thank you. Your report was sent.")), "{tree:#?}");
    press(&browser, "Escape", 27);
    browser.wait_for("window.sent === true && !document.querySelector('sightline-feedback')", Duration::from_secs(10));
    assert_eq!(browser.execute("return document.activeElement.id;"), "help", "the focus goes back where it was");

    // Escape before sending sends nothing; the app's own form reports without the dialog.
    browser.execute("window.sl.feedback().then((sent) => { window.second = sent; }); return true;");
    browser.wait_for(
        "document.activeElement && document.activeElement.localName === 'sightline-feedback'",
        Duration::from_secs(10),
    );
    browser.cdp("Input.insertText", json!({ "text": "never mind" }));
    press(&browser, "Escape", 27);
    browser.wait_for("window.second === false", Duration::from_secs(10));
    assert_eq!(browser.execute("return window.sl.report('   ');"), false, "blank words are not a report");
    assert_eq!(browser.execute("return window.sl.report('Export is slow too');"), true);

    // In the recording: both reports, and nothing of the dialog.
    let http = Http::default();
    let events: Vec<EventData> = {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let events: Vec<EventData> =
                stored(&http, &collector, &session, 1).into_iter().flat_map(|b| b.events).map(|e| e.data).collect();
            let reports = events.iter().filter(|e| matches!(e, EventData::Feedback(_))).count();
            if reports == 2 || std::time::Instant::now() > deadline {
                break events;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let reports: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Feedback(f) => Some(f.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reports, ["The PDF button does nothing.\nInvoice 40, since this morning.", "Export is slow too"]);
    let texts: Vec<&str> = events
        .iter()
        .flat_map(|e| match e {
            EventData::Snapshot(s) => s.nodes.iter().collect::<Vec<_>>(),
            EventData::Mutation(m) => m.adds.iter().collect(),
            _ => vec![],
        })
        .filter_map(|n| match &n.kind {
            NodeKind::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(!texts.iter().any(|t| t.contains("What happened") || t.contains("Report a problem")), "{texts:?}");
    // Nor what the user did in it: the keys pressed there are their report, not steps.
    assert!(!events.iter().any(|e| matches!(e, EventData::Key(_))), "no key of the dialog's is a step");

    // Support finds them: the summary, the filter, the digest quoting the words.
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
    assert_eq!(summary["feedback_count"], 2, "{summary:#}");
    assert!(
        summary["first_problem"]["text"].as_str().unwrap().starts_with("User report: The PDF button"),
        "{summary:#}"
    );
    let listed = http.get(&format!("{}/api/sessions?has_feedback=true", collector.base), TOKEN).json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    let digest = http.get(&format!("{}/api/sessions/{session}/digest", collector.base), TOKEN).json();
    let reported: Vec<&Value> =
        digest["problems"].as_array().unwrap().iter().filter(|p| p["kind"] == "feedback").collect();
    assert_eq!(reported.len(), 2, "{digest:#}");
    assert_eq!(reported[0]["summary"], "Reported: \"The PDF button does nothing.\"");
    assert_eq!(reported[0]["detail"], "The PDF button does nothing.\nInvoice 40, since this morning.");
    let markdown =
        String::from_utf8(http.get(&format!("{}/api/sessions/{session}/digest?format=md", collector.base), TOKEN).body)
            .unwrap();
    assert!(markdown.contains("> The PDF button does nothing.\n> Invoice 40, since this morning."), "{markdown}");

    // The webhook that takes reports gets them; the one that takes problems gets nothing.
    let received = receiver.wait_for("the reports", |r| {
        r.iter()
            .filter(|d| d.path == "/reports")
            .flat_map(|d| d.json()["new_problems"].as_array().cloned().unwrap_or_default())
            .count()
            >= 2
    });
    let delivery = received.iter().find(|d| d.path == "/reports").unwrap();
    let body = delivery.json();
    assert_eq!(body["type"], "session.feedback");
    assert!(body["text"].as_str().unwrap().starts_with("**an anonymous user reported a problem**"), "{body:#}");
    assert!(received.iter().all(|d| d.path != "/problems"), "{received:#?}");
}
