//! The viewer in headless Chromium, served by the real collector: sign in with the read token,
//! find a session among others by its user and by its errors, and open it.
//!
//! Needs Chromium and ChromeDriver.

use std::time::Duration;

use sightline_e2e::sdk::{start_collector, KEY, TOKEN};
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{batch_bytes, random_session, Http};
use sightline_protocol::{
    DeviceType, ErrorEvent, ErrorKind, Event, EventData, Identify, Navigation, NavigationKind, PageMeta, Software,
    Value,
};

/// A session of `user` on one page, with an uncaught error when `broken`.
fn session_batch(user: &str, plan: &str, broken: bool) -> (String, Vec<u8>) {
    let session = random_session();
    let meta = PageMeta {
        url: "https://app.acme.example/invoices".into(),
        browser: Software { name: "Chrome".into(), version: "126.0.6478.126".into() },
        os: Software { name: "macOS".into(), version: "14.5".into() },
        device: DeviceType::Desktop,
        timezone: "Europe/Paris".into(),
        ..PageMeta::default()
    };
    let mut events = vec![
        Event { dt: 0, data: EventData::Meta(Box::new(meta)) },
        Event {
            dt: 0,
            data: EventData::Navigation(Navigation {
                kind: NavigationKind::Load,
                url: "https://app.acme.example/invoices".into(),
                title: "Invoices".into(),
            }),
        },
        Event {
            dt: 10,
            data: EventData::Identify(Identify {
                user_id: user.into(),
                traits: Value::Map(vec![("plan".into(), Value::Str(plan.into()))]),
            }),
        },
    ];
    if broken {
        let error = ErrorEvent {
            kind: ErrorKind::Uncaught,
            name: "TypeError".into(),
            message: "total is undefined".into(),
            stack: None,
            source: "https://app.acme.example/app.js".into(),
            line: 12,
            column: 7,
            target: 0,
        };
        events.push(Event { dt: 4000, data: EventData::Error(Box::new(error)) });
    }
    (session.to_string(), batch_bytes(KEY, session, 0, 0, events))
}

#[test]
fn a_support_engineer_signs_in_finds_the_session_and_opens_it() {
    let (collector, _data) = start_collector();
    let http = Http::default();
    let mut broken = String::new();
    for (user, plan, fails) in [("u_ana", "team", false), ("u_1842", "enterprise", true), ("u_bo", "team", false)] {
        let (id, bytes) = session_batch(user, plan, fails);
        assert_eq!(http.post_batch(&collector.base, KEY, &bytes).status, 200);
        if fails {
            broken = id;
        }
    }

    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.wait_for("document.getElementById('token')", Duration::from_secs(10));
    browser.type_into("#token", "slr_wrong");
    browser.click("#sign-in button");
    browser.wait_for(
        "document.querySelector('#sign-in .error').textContent.includes('not valid')",
        Duration::from_secs(10),
    );
    browser.execute("document.getElementById('token').value = ''; return true;");
    browser.type_into("#token", TOKEN);
    browser.click("#sign-in button");

    // All three, newest first, each with its user, device and counts.
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 3", Duration::from_secs(10));
    let users = browser.execute("return [...document.querySelectorAll('#sessions .user')].map((u) => u.textContent);");
    assert_eq!(users, serde_json::json!(["u_bo", "u_1842", "u_ana"]));
    let row = browser.execute(&format!(
        "return [...document.querySelector('tr[data-session=\"{broken}\"]').children].map((c) => c.textContent);"
    ));
    assert_eq!(row[2], "Chrome 126 · macOS 14.5 · desktop");
    assert_eq!(row[6], "1", "one error: {row}");
    assert!(row[1].as_str().unwrap().contains("plan: enterprise"), "{row}");

    // The token is in the browser, never in the page's URL.
    assert_eq!(browser.execute("return localStorage.getItem('sightline.readToken');"), TOKEN);
    let url = browser.execute("return location.href;");
    assert!(!url.as_str().unwrap().contains(TOKEN), "{url}");

    // Only the sessions with errors, then only one user's.
    browser.click("#filters input[name=has_errors]");
    browser.click("#filters button");
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 1", Duration::from_secs(10));
    assert_eq!(browser.execute("return location.search;"), "?has_errors=true");
    browser.click("#filters input[name=has_errors]");
    browser.type_into("#filters input[name=user]", "u_ana");
    browser.click("#filters button");
    browser.wait_for(
        "document.querySelectorAll('#sessions tr').length === 1 && document.querySelector('#sessions .user').textContent === 'u_ana'",
        Duration::from_secs(10),
    );

    // Open the broken one from a link, as a support ticket would.
    browser.navigate(&format!("{}/sessions/{broken}", collector.base));
    browser.wait_for("document.getElementById('context')", Duration::from_secs(10));
    let context = browser.execute("return document.getElementById('context').textContent;");
    let context = context.as_str().unwrap();
    for fact in [
        "u_1842",
        "Chrome 126.0.6478.126",
        "macOS 14.5",
        "Europe/Paris",
        "enterprise",
        "https://app.acme.example/invoices",
    ] {
        assert!(context.contains(fact), "{fact:?} missing from the context: {context}");
    }

    // The viewer's pages run no script but their own.
    let page = http.get(&format!("{}/sessions/{broken}", collector.base), "");
    let policy = page.header("content-security-policy").expect("a content security policy");
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
}
