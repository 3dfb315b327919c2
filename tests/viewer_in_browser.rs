//! The viewer in headless Chromium, served by the real collector: sign in with the read token,
//! find a session among others by its user and by its errors, and open it.
//!
//! Needs Chromium and ChromeDriver.

use std::time::{Duration, Instant};

use sightline_e2e::sdk::{start_collector_taking_unsealed, KEY, TOKEN};
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{batch_bytes, random_session, Collector, Http};
use sightline_protocol::{
    DeviceType, ErrorEvent, ErrorKind, Event, EventData, Identify, Navigation, NavigationKind, PageMeta, SessionId,
    Software, Value,
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
    let (collector, _data) = start_collector_taking_unsealed();
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
    assert_eq!(row[3], "Europe/Paris", "no location known: the time zone");
    assert_eq!(row[5], "1", "one route: {row}");
    // The first problem, or once the session is analysed the digest's headline leading with it.
    assert!(row[6].as_str().unwrap().starts_with("TypeError: total is undefined"), "the first problem: {row}");
    assert_eq!(row[7], "1", "one error: {row}");
    assert!(row[1].as_str().unwrap().contains("plan: enterprise"), "{row}");
    assert!(row[0].as_str().unwrap().ends_with("live"), "sent within the minute: {row}");

    // Sorted from a column's header, in the URL; the user's cell filters by the user.
    browser.click("button.sort[data-sort=errors]");
    browser.wait_for("location.search === '?sort=-errors'", Duration::from_secs(10));
    let first = browser.execute("return document.querySelector('#sessions tr').dataset.session;");
    assert_eq!(first, broken.as_str(), "most errors first");

    // The token is in the browser, never in the page's URL.
    assert_eq!(browser.execute("return localStorage.getItem('sightline.readToken');"), TOKEN);
    let url = browser.execute("return location.href;");
    assert!(!url.as_str().unwrap().contains(TOKEN), "{url}");

    // Only the sessions with errors, then only one user's.
    browser.click("#filters input[name=has_errors]");
    browser.click("#filters button");
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 1", Duration::from_secs(10));
    assert_eq!(browser.execute("return location.search;"), "?has_errors=true&sort=-errors", "the sort holds");
    browser.click("#filters input[name=has_errors]");
    browser.type_into("#filters input[name=user]", "u_ana");
    browser.click("#filters button");
    browser.wait_for(
        "document.querySelectorAll('#sessions tr').length === 1 && document.querySelector('#sessions .user').textContent === 'u_ana'",
        Duration::from_secs(10),
    );

    // And from the filters under the column headers: the problem column's.
    browser.navigate(&format!("{}/", collector.base));
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 3", Duration::from_secs(10));
    browser.execute(
        "const s = document.querySelector('select[name=column-problem]'); s.value = 'has_errors'; \
         s.dispatchEvent(new Event('change')); return true;",
    );
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 1", Duration::from_secs(10));
    assert_eq!(browser.execute("return location.search;"), "?has_errors=true");

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

fn element(id: u32, parent: u32, tag: &str, attrs: &[(&str, &str)]) -> sightline_protocol::Node {
    let attrs = attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
    let kind = sightline_protocol::NodeKind::Element(sightline_protocol::Element {
        tag: tag.into(),
        attrs,
        ns: sightline_protocol::Namespace::Html,
    });
    sightline_protocol::Node { id, parent, next: 0, kind }
}

fn text(id: u32, parent: u32, content: &str) -> sightline_protocol::Node {
    sightline_protocol::Node { id, parent, next: 0, kind: sightline_protocol::NodeKind::Text(content.into()) }
}

/// A session of one page with everything the viewer shows: a snapshot holding what a
/// recording must never run (handlers, scripts, `javascript:` links, a refresh, a frame's
/// document, a tag manager's noscript), a scrolled container, a click with the mouse's way to
/// it, a failed request with its parts and trace, a console error, a change and a route, then
/// twenty idle seconds.
fn replay_session(collector: &Collector) -> SessionId {
    use sightline_protocol::{DocumentNode, Mutation, Node, NodeKind, Snapshot, TextChange};
    let session = random_session();
    let snapshot = Snapshot {
        nodes: vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            element(2, 1, "html", &[]),
            element(8, 2, "head", &[]),
            element(9, 8, "meta", &[("http-equiv", "refresh"), ("content", "0;url=https://evil.example/")]),
            element(3, 2, "body", &[("onload", "parent.document.title = 'ESCAPED'")]),
            element(4, 3, "h1", &[]),
            text(5, 4, "Invoices"),
            element(6, 3, "img", &[("src", "x"), ("onerror", "parent.document.title = 'ESCAPED'")]),
            element(7, 3, "script", &[]),
            text(10, 7, "parent.document.title = 'ESCAPED'"),
            element(11, 3, "a", &[("id", "evil-link"), ("href", "javascript:parent.document.title = 'ESCAPED'")]),
            text(12, 11, "Open"),
            element(
                13,
                3,
                "iframe",
                &[("id", "evil-frame"), ("srcdoc", "<script>parent.parent.document.title = 'ESCAPED'</script>")],
            ),
            // Google Tag Manager's snippet, recorded as the text a scripting browser parses it
            // as: it must not swallow the rest of the page in the replay.
            element(14, 3, "noscript", &[]),
            text(
                15,
                14,
                "<iframe src=\"https://www.googletagmanager.com/ns.html?id=GTM-XXXX\" height=\"0\" width=\"0\" style=\"display:none\"></iframe>",
            ),
            element(16, 3, "p", &[("id", "after-noscript")]),
            text(17, 16, "After the tag manager"),
            element(18, 3, "a", &[("id", "evil-link-2"), ("href", "\u{1}java\tscript:parent.document.title = 'ESCAPED'")]),
            element(19, 8, "meta", &[("name", "referrer"), ("content", "unsafe-url")]),
            // A container the user scrolled, as a table's or a modal's body.
            element(20, 3, "div", &[("id", "scroller"), ("style", "height: 50px; overflow: auto")]),
            element(21, 20, "div", &[("style", "height: 2000px")]),
        ],
    };
    let change =
        Mutation { texts: vec![TextChange { id: 5, text: "Invoices (2 overdue)".into() }], ..Mutation::default() };
    let click = sightline_protocol::Pointer { kind: sightline_protocol::PointerKind::Click, target: 4, x: 40, y: 20 };
    let point = |x, y, offset| sightline_protocol::MovePoint { x, y, offset };
    let moves =
        sightline_protocol::MouseMove { points: vec![point(200, 300, 0), point(120, 160, 150), point(60, 60, 300)] };
    let failed = sightline_protocol::Network {
        id: 1,
        method: "POST".into(),
        url: "https://app.acme.example/api/invoices/42/send".into(),
        status: 500,
        duration: 184,
        trace: sightline_protocol::TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        request: Some(sightline_protocol::HttpMessage {
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("authorization".into(), "[redacted]".into()),
            ],
            body: Some(sightline_protocol::Body {
                text: Some(r#"{"to":"billing@acme.example","note":"it's overdue"}"#.into()),
                size: 51,
                truncated: false,
            }),
        }),
        response: Some(sightline_protocol::HttpMessage {
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(sightline_protocol::Body {
                text: Some(r#"{"error":"smtp_refused","retry":true}"#.into()),
                size: 37,
                truncated: false,
            }),
        }),
        ..sightline_protocol::Network::default()
    };
    let logged = sightline_protocol::Console {
        level: sightline_protocol::ConsoleLevel::Error,
        args: vec!["Sending INV-42 failed:".into(), "SMTP relay refused".into()],
        stack: None,
    };
    let viewport = sightline_protocol::Viewport { size: sightline_protocol::Size { width: 1600, height: 900 } };
    let went = |kind, url: &str| {
        EventData::Navigation(sightline_protocol::Navigation { kind, url: url.into(), title: "Invoices".into() })
    };
    let meta = PageMeta {
        url: "https://app.acme.example/invoices".into(),
        title: "Invoices".into(),
        browser: Software { name: "Chrome".into(), version: "126.0.6478.126".into() },
        timezone: "Europe/Paris".into(),
        ..PageMeta::default()
    };
    let events = vec![
        Event { dt: 0, data: EventData::Meta(Box::new(meta)) },
        Event { dt: 0, data: EventData::Viewport(viewport) },
        Event { dt: 0, data: went(sightline_protocol::NavigationKind::Load, "https://app.acme.example/invoices") },
        Event { dt: 0, data: EventData::Snapshot(snapshot) },
        Event { dt: 0, data: EventData::Scroll(sightline_protocol::Scroll { target: 20, x: 0, y: 300 }) },
        Event { dt: 200, data: EventData::Focus(sightline_protocol::Focus { target: 4, focused: true }) },
        Event { dt: 400, data: EventData::MouseMove(moves) },
        Event { dt: 400, data: EventData::Pointer(click) },
        Event { dt: 500, data: EventData::Network(Box::new(failed)) },
        Event { dt: 10, data: EventData::Console(logged) },
        Event { dt: 1490, data: EventData::Mutation(change) },
        Event { dt: 0, data: went(sightline_protocol::NavigationKind::Push, "https://app.acme.example/invoices/42") },
        // Twenty idle seconds, then the user comes back.
        Event { dt: 20_000, data: EventData::Visibility(sightline_protocol::Visibility { visible: true }) },
    ];
    let http = Http::default();
    assert_eq!(http.post_batch(&collector.base, KEY, &batch_bytes(KEY, session, 0, 0, events)).status, 200);
    session
}

#[test]
fn the_replay_shows_the_page_at_each_moment_and_runs_none_of_its_code() {
    let (collector, _data) = start_collector_taking_unsealed();
    let session = replay_session(&collector);
    let http = Http::default();

    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.wait_for("document.getElementById('token')", Duration::from_secs(10));
    browser.type_into("#token", TOKEN);
    browser.click("#sign-in button");
    browser.wait_for("document.querySelectorAll('#sessions tr').length === 1", Duration::from_secs(10));
    browser.click("#sessions a");

    let heading = "document.getElementById('replay-frame')?.contentDocument?.querySelector('h1')?.textContent";
    assert_eq!(browser.wait_for(heading, Duration::from_secs(20)), "Invoices", "the page at its start");
    assert_eq!(
        browser.execute("return document.getElementById('replay-frame').getAttribute('sandbox');"),
        "allow-same-origin"
    );
    let frame_attributes = browser.execute(
        "const f = document.getElementById('replay-frame'); return [f.hasAttribute('credentialless'), f.getAttribute('referrerpolicy')];",
    );
    assert_eq!(
        frame_attributes,
        serde_json::json!([true, "no-referrer"]),
        "the recording loads without the engineer's cookies"
    );
    let after = browser.execute(
        "return document.getElementById('replay-frame').contentDocument.getElementById('after-noscript')?.textContent;",
    );
    assert_eq!(after, "After the tag manager", "the noscript snippet swallowed nothing");
    let scrolled =
        "document.getElementById('replay-frame').contentDocument.getElementById('scroller')?.scrollTop === 300";
    browser.wait_for(scrolled, Duration::from_secs(10));
    // To the end of the timeline: the change is there.
    browser.execute(
        "const t = document.getElementById('timeline'); t.value = t.max; t.dispatchEvent(new Event('input')); return true;",
    );
    let changed = format!("({heading}) === 'Invoices (2 overdue)'");
    browser.wait_for(&changed, Duration::from_secs(10));
    // And back: seeking rebuilds the earlier page.
    browser.execute(
        "const t = document.getElementById('timeline'); t.value = 0; t.dispatchEvent(new Event('input')); return true;",
    );
    browser.wait_for(&format!("({heading}) === 'Invoices'"), Duration::from_secs(10));
    // The facts next to it: the click on what it landed on, the failed request with its trace
    // id, the console error; markers on the timeline; a click on a fact seeks to it.
    let panel = |name: &str| browser.execute(&format!("return document.getElementById('panel-{name}').textContent;"));
    assert!(panel("activity").as_str().unwrap().contains("Click \"Invoices"), "{}", panel("activity"));
    assert!(panel("network")
        .as_str()
        .unwrap()
        .contains("POST https://app.acme.example/api/invoices/42/send 500 184 ms"));
    assert!(panel("console").as_str().unwrap().contains("Sending INV-42 failed: SMTP relay refused"));
    let problems = browser.execute("return document.querySelectorAll('#markers .marker.problem').length;");
    assert_eq!(problems, 3, "the failed request, the console error and the click they followed are marked");
    let error_click = browser.execute("return document.querySelector('#markers .marker.error_click').title;");
    assert!(error_click.as_str().unwrap().starts_with("Error click on \"Invoices\" (h1)"), "{error_click}");
    browser.click("#panel-network li");
    assert_eq!(browser.execute("return document.getElementById('timeline').value;"), "1500", "seeked to the request");
    // The user's viewport, scaled to fit, and the cursor that has just clicked.
    let stage = browser.execute(
        "const f = document.getElementById('replay-frame'); const c = document.getElementById('cursor');\
         return [f.style.width, f.style.height, !c.hidden, c.classList.contains('clicked')];",
    );
    assert_eq!(stage, serde_json::json!(["1600px", "900px", true, true]));
    // The heading has the focus, ringed; the mouse's last second is drawn up to the click.
    let ring =
        browser.execute("const r = document.getElementById('focus-ring'); return [r.hidden, r.offsetWidth > 0];");
    assert_eq!(ring, serde_json::json!([false, true]), "the focused element is ringed");
    let trail =
        browser.execute("return document.querySelector('#trail polyline').getAttribute('points').split(' ').length;");
    assert_eq!(trail, 4, "three moves and the click");
    let trace = browser.execute("return document.querySelector('#panel-network li .request-detail').textContent;");
    assert!(trace.as_str().unwrap().contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{trace}");

    // The context names the page at the playhead.
    let page = browser.execute("return document.getElementById('current-page').textContent;");
    assert_eq!(page, "Invoices · https://app.acme.example/invoices");
    let current = browser.execute("return document.querySelector('#context .urls li.current')?.textContent;");
    assert_eq!(current, "https://app.acme.example/invoices");

    // A marker jumps to its moment: the failed request's, 1.5 s in.
    browser.execute(
        "const t = document.getElementById('timeline'); t.value = 0; t.dispatchEvent(new Event('input')); return true;",
    );
    browser.execute(
        "[...document.querySelectorAll('#markers .marker.problem')].find((m) => m.title.startsWith('POST')).click(); return true;",
    );
    assert_eq!(browser.execute("return document.getElementById('timeline').value;"), "1500", "jumped to the marker");

    // At 8× the playhead runs at least four times as fast as the clock (more, unless the
    // machine is busy), without skipping anything.
    browser.execute(
        "document.getElementById('skip-idle').checked = false; const s = document.getElementById('speed'); s.value = '8';         const t = document.getElementById('timeline'); t.value = 0; t.dispatchEvent(new Event('input')); return true;",
    );
    let started = Instant::now();
    browser.click("#play");
    std::thread::sleep(Duration::from_millis(600));
    browser.click("#play");
    let played = browser.execute("return Number(document.getElementById('timeline').value);").as_f64().unwrap();
    let elapsed = started.elapsed().as_millis() as f64;
    assert!(played >= 4.0 * 600.0 && played <= 8.0 * elapsed + 800.0, "{played} ms played in {elapsed} ms at 8×");
    browser.execute("document.getElementById('skip-idle').checked = true; document.getElementById('speed').value = '1'; return true;");

    // Playing through the idle stretch skips it: within a second of play from the change, the
    // playhead is half a second before the user comes back.
    browser.execute("const t = document.getElementById('timeline'); t.value = 3000; t.dispatchEvent(new Event('input')); return true;");
    browser.click("#play");
    browser.wait_for("Number(document.getElementById('timeline').value) >= 22000", Duration::from_secs(3));
    browser.click("#play");

    // Played forward in small steps from the start, the frame is changed in place, never
    // loaded again; and what it shows at the end is what a link to the end shows.
    let frame_dom = "const d = document.getElementById('replay-frame').contentDocument; \
         return [d.compatMode, d.documentElement.outerHTML];";
    let loads = "return Number(document.querySelector('.stage').dataset.loads);";
    let loads_before = browser.execute(loads);
    browser.execute(
        "const t = document.getElementById('timeline'); \
         for (let at = 0; at <= Number(t.max) + 100; at += 100) { t.value = String(at); t.dispatchEvent(new Event('input')); } \
         return true;",
    );
    browser.wait_for(&changed, Duration::from_secs(10));
    assert_eq!(browser.execute(loads), loads_before, "no frame loaded while playing forward");
    let played_to_end = browser.execute(frame_dom);
    let end = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json()["end"].as_u64().unwrap();
    // A link to a moment opens there.
    browser.navigate(&format!("{}/sessions/{session}?t={end}", collector.base));
    browser.wait_for(&changed, Duration::from_secs(20));
    assert_eq!(browser.execute(frame_dom), played_to_end, "played forward, or opened at the end: the same page");
    std::thread::sleep(Duration::from_millis(300));
    let page = browser.execute("return document.getElementById('current-page').textContent;");
    assert_eq!(page, "Invoices · https://app.acme.example/invoices/42", "the page at the end");
    // A click on the recorded `javascript:` link runs nothing; the refresh never navigates.
    let frame_url = browser.execute("return document.getElementById('replay-frame').contentWindow.location.href;");
    assert!(frame_url.as_str().unwrap().starts_with("blob:"), "the frame's document is the viewer's own: {frame_url}");
    browser.execute(
        "const d = document.getElementById('replay-frame').contentDocument; \
         d.getElementById('evil-link').click(); d.getElementById('evil-link-2').click(); return true;",
    );
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(
        browser.execute("return document.getElementById('replay-frame').contentWindow.location.href;"),
        frame_url,
        "the recorded refresh did not navigate the frame"
    );
    assert_ne!(browser.execute("return document.title;"), "ESCAPED", "the recorded page's code never ran");
    let frame_html =
        browser.execute("return document.getElementById('replay-frame').contentDocument.documentElement.outerHTML;");
    let frame_html = frame_html.as_str().unwrap();
    for payload in [
        "onerror",
        "onload",
        "javascript:",
        "script:parent",
        "srcdoc",
        "http-equiv",
        "ESCAPED'</script>",
        "unsafe-url",
        "googletagmanager",
    ] {
        assert!(!frame_html.contains(payload), "{payload:?} is in the replay's HTML: {frame_html}");
    }
    let nested = browser.execute(
        "return document.getElementById('replay-frame').contentDocument.getElementById('evil-frame').hasAttribute('srcdoc');",
    );
    assert_eq!(nested, false, "the recorded frame's own document is not carried over");
}

/// Whether each of `selectors` is shown, whole, inside the window, and the page itself doesn't
/// scroll: the answer lists what is not.
fn outside_the_window(browser: &Browser, selectors: &[&str]) -> Vec<String> {
    let script = format!(
        "const out = []; \
         for (const selector of {selectors:?}) {{ \
           const el = document.querySelector(selector); \
           if (!el) {{ out.push(`${{selector}} missing`); continue; }} \
           const r = el.getBoundingClientRect(); \
           if (r.width === 0 || r.height === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5) \
             out.push(`${{selector}} at ${{Math.round(r.left)}},${{Math.round(r.top)}} ${{Math.round(r.width)}}x${{Math.round(r.height)}} in ${{innerWidth}}x${{innerHeight}}`); \
         }} \
         if (document.scrollingElement.scrollHeight > innerHeight) out.push(`the page scrolls: ${{document.scrollingElement.scrollHeight}}`); \
         return out;"
    );
    let answer = browser.execute(&script);
    answer.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// A key pressed as the engineer presses it (a trusted event, to whatever has the focus).
fn press(browser: &Browser, key: &str) {
    let code = match key {
        " " => "Space",
        "ArrowRight" | "ArrowLeft" | "Escape" => key,
        "[" => "BracketLeft",
        "]" => "BracketRight",
        "?" => "Slash",
        _ => "",
    };
    let text = if key.chars().count() == 1 { key } else { "" };
    for kind in ["keyDown", "keyUp"] {
        let kind = if kind == "keyDown" && !text.is_empty() { "keyDown" } else { kind };
        browser.cdp(
            "Input.dispatchKeyEvent",
            serde_json::json!({ "type": kind, "key": key, "code": code, "text": if kind == "keyDown" { text } else { "" } }),
        );
    }
}

fn timeline(browser: &Browser) -> u64 {
    browser.execute("return Number(document.getElementById('timeline').value);").as_u64().unwrap()
}

/// The session as a workspace, at the sizes support engineers work at: the replay, its play
/// button and timeline, and the first entries of the panel in front are all on one screen;
/// opening a request lays it out (headers as a table, JSON bodies indented and folded, a curl
/// command with redacted values left so) and leaves the replay where it was; the keyboard
/// drives the replay; layout choices survive a reload; and a session that is gone, or has no
/// page yet, or a sign-in that expired, each says so.
#[test]
fn the_session_is_a_workspace_on_one_screen_driven_from_the_keyboard() {
    let (collector, _data) = start_collector_taking_unsealed();
    let session = replay_session(&collector);
    let http = Http::default();
    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    let first_frame = "performance.getEntriesByName('sightline-first-frame').length > 0";
    let essentials = [".stage", "#play", "#timeline", "#panel-network > li:first-child", "#tab-network"];

    for (width, height) in [(1280, 800), (1920, 1080)] {
        browser.cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        browser.navigate(&format!("{}/sessions/{session}", collector.base));
        browser.wait_for(first_frame, Duration::from_secs(20));
        browser.wait_for("document.querySelector('#panel-network > li .summary')", Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(300));
        let outside = outside_the_window(&browser, &essentials);
        assert!(outside.is_empty(), "at {width}×{height}: {outside:?}");

        // Opening the request moves nothing but its list.
        let stage = "const r = document.querySelector('.stage').getBoundingClientRect(); return [r.left, r.top, r.width, r.height];";
        let before = browser.execute(stage);
        browser.click("#panel-network > li");
        browser.wait_for("!document.querySelector('#panel-network .request-detail').hidden", Duration::from_secs(5));
        browser.wait_for("document.querySelector('#panel-network .backend')", Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(browser.execute(stage), before, "at {width}×{height}, the replay stayed where it was");
        let outside = outside_the_window(&browser, &essentials[..3]);
        assert!(outside.is_empty(), "at {width}×{height}, with a request open: {outside:?}");
        let picture = browser.screenshot();
        assert!(picture.starts_with(b"\x89PNG"), "a PNG");
        let name = format!("viewer-{width}x{height}.png");
        std::fs::write(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(&name), &picture)
            .unwrap();
        if let Ok(dir) = std::env::var("SIGHTLINE_SCREENSHOTS") {
            std::fs::write(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir).join(&name), &picture)
                .unwrap();
        }
    }

    // The request, laid out: a table of its parts, headers as a table, the JSON bodies folded
    // and indented; a curl command that leaves redacted values redacted.
    let detail = browser.execute(
        "const d = document.querySelector('#panel-network .request-detail'); \
         const bodies = [...d.querySelectorAll('details.body')]; \
         return [d.querySelector('.summary-table').textContent, \
                 [...d.querySelectorAll('table.headers:not(.summary-table) tr')].map((r) => [...r.children].map((c) => c.textContent).join(': ')), \
                 bodies.map((b) => b.open), bodies.map((b) => b.querySelector('pre').textContent)];",
    );
    assert!(detail[0].as_str().unwrap().contains("Trace4bf92f3577b34da6a3ce929d0e0e4736"), "{detail}");
    assert!(detail[1].as_array().unwrap().contains(&serde_json::json!("authorization: [redacted]")), "{detail}");
    assert_eq!(detail[2], serde_json::json!([false, false]), "bodies start folded");
    assert_eq!(detail[3][1], "{\n  \"error\": \"smtp_refused\",\n  \"retry\": true\n}", "JSON indented");
    let command = browser.execute_async(
        "const done = arguments[arguments.length - 1]; \
         import('/viewer/panels.js').then((m) => done(m.curl({ method: 'POST', url: 'https://app.acme.example/api/send', \
           sent: { headers: [['authorization', '[redacted]']], body: '{\"note\":\"it\\'s\"}' } })));",
    );
    assert_eq!(
        command,
        r#"curl -X 'POST' --url 'https://app.acme.example/api/send' -H 'authorization: [redacted]' --data-raw '{"note":"it'\''s"}'"#
    );
    // The backend's records have a style of their own, not the grey of what hasn't happened.
    let colour = browser.execute(
        "const b = document.querySelector('#panel-network .backend'); const li = b.closest('li'); \
         return [getComputedStyle(b).color, getComputedStyle(li).color, li.classList.contains('past')];",
    );
    assert_eq!(colour[0], "rgb(27, 33, 48)", "{colour}");

    // The keyboard: `]` and `[` go from problem to problem (the error click, then the failed
    // request), bringing its panel to the front; arrows step through every event; Space plays
    // and pauses; `?` lists the keys.
    browser.execute(
        "const t = document.getElementById('timeline'); t.value = 0; t.dispatchEvent(new Event('input')); \
         document.activeElement.blur(); return true;",
    );
    press(&browser, "]");
    assert_eq!(timeline(&browser), 1000, "the error click");
    assert_eq!(
        browser.execute("return document.getElementById('tab-activity').getAttribute('aria-selected');"),
        "true"
    );
    press(&browser, "]");
    assert_eq!(timeline(&browser), 1500, "the failed request");
    assert_eq!(browser.execute("return document.getElementById('tab-network').getAttribute('aria-selected');"), "true");
    press(&browser, "[");
    assert_eq!(timeline(&browser), 1000);
    press(&browser, "ArrowRight");
    let next = timeline(&browser);
    assert!(next > 1000 && next <= 1500, "the next event after the click: {next}");
    press(&browser, "ArrowLeft");
    assert_eq!(timeline(&browser), 1000);
    press(&browser, " ");
    assert_eq!(browser.execute("return document.getElementById('play').textContent;"), "Pause");
    press(&browser, " ");
    assert_eq!(browser.execute("return document.getElementById('play').textContent;"), "Play");
    press(&browser, "?");
    assert_eq!(browser.execute("return document.getElementById('keys').hidden;"), false);
    press(&browser, "Escape");
    assert_eq!(browser.execute("return document.getElementById('keys').hidden;"), true);

    // The user's clock, and the panels' width and tab, survive a reload.
    browser.click("#time-mode");
    assert!(browser
        .execute("return document.getElementById('time').textContent;")
        .as_str()
        .unwrap()
        .contains("Europe/Paris"));
    browser.click("#tab-console");
    let narrow = browser.execute("return document.getElementById('side').offsetWidth;").as_u64().unwrap();
    browser.click("#widen");
    let wide = browser.execute("return document.getElementById('side').offsetWidth;").as_u64().unwrap();
    assert!(wide > narrow + 100, "widened from {narrow} to {wide}");
    browser.navigate(&format!("{}/sessions/{session}", collector.base));
    browser.wait_for(first_frame, Duration::from_secs(20));
    assert_eq!(browser.execute("return document.getElementById('tab-console').getAttribute('aria-selected');"), "true");
    assert_eq!(browser.execute("return document.getElementById('side').offsetWidth;").as_u64().unwrap(), wide);
    assert!(browser
        .execute("return document.getElementById('time').textContent;")
        .as_str()
        .unwrap()
        .contains("Europe/Paris"));
    let outside = outside_the_window(&browser, &[".stage", "#play", "#timeline", "#panel-console > li:first-child"]);
    assert!(outside.is_empty(), "widened: {outside:?}");

    // The viewer has an icon.
    let icon = http.get(&format!("{}/favicon.ico", collector.base), "");
    assert_eq!((icon.status, icon.header("content-type")), (200, Some("image/svg+xml")));

    // A session without a page yet shows its facts and says why there is no replay.
    let early = random_session();
    let request = sightline_protocol::Network {
        id: 1,
        method: "GET".into(),
        url: "https://app.acme.example/api/me".into(),
        status: 200,
        duration: 12,
        ..Default::default()
    };
    let bytes = batch_bytes(KEY, early, 0, 0, vec![Event { dt: 0, data: EventData::Network(Box::new(request)) }]);
    assert_eq!(http.post_batch(&collector.base, KEY, &bytes).status, 200);
    browser.navigate(&format!("{}/sessions/{early}", collector.base));
    let said = browser.wait_for("document.querySelector('#replay .notice')?.textContent", Duration::from_secs(20));
    assert!(said.as_str().unwrap().contains("Nothing to replay yet"), "{said}");
    browser.wait_for(
        "document.getElementById('panel-network').textContent.includes('GET https://app.acme.example/api/me')",
        Duration::from_secs(5),
    );

    // A session deleted meanwhile says it is gone.
    let deleted = http.request(
        "DELETE",
        &format!("{}/api/sessions/{early}", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(deleted.status, 200);
    browser.navigate(&format!("{}/sessions/{early}", collector.base));
    let said = browser.wait_for("document.querySelector('.notice')?.textContent", Duration::from_secs(10));
    assert!(said.as_str().unwrap().contains("This session is gone"), "{said}");

    // A share link opens the session without signing in, and only it.
    let link = http.request(
        "POST",
        &format!("{}/api/sessions/{session}/share", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        Some(br#"{"days": 1}"#),
    );
    let url = link.json()["url"].as_str().unwrap().to_owned();
    browser.execute("localStorage.clear(); return true;");
    browser.navigate(&url);
    browser.wait_for(first_frame, Duration::from_secs(20));
    let shown = browser.execute(
        "return [document.getElementById('sign-out').hidden, !!document.getElementById('share'), \
         document.getElementById('panel-network').textContent.includes('/send')];",
    );
    assert_eq!(shown, serde_json::json!([true, false, true]), "read-only, no sign-in, the facts there");
    let id = link.json()["id"].as_str().unwrap().to_owned();
    let revoked = http.request(
        "DELETE",
        &format!("{}/api/shares/{id}", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(revoked.status, 200);
    browser.navigate(&url);
    let said = browser.wait_for("document.querySelector('.notice')?.textContent", Duration::from_secs(10));
    assert!(said.as_str().unwrap().contains("no longer opens"), "{said}");

    // An expired sign-in asks to sign in again, saying why.
    browser.execute("localStorage.setItem('sightline.readToken', 'slr_revoked'); return true;");
    browser.navigate(&format!("{}/sessions/{session}", collector.base));
    let said = browser.wait_for("document.querySelector('#sign-in .error')?.textContent", Duration::from_secs(10));
    assert!(said.as_str().unwrap().contains("expired"), "{said}");
}

/// A session in progress, followed live: the viewer shows each batch once it is stored, at the
/// end of the timeline; while it follows, the answers to the session's batches say it is
/// watched (so that the page sends sooner), and once it stops, they don't.
#[test]
fn a_session_in_progress_is_followed_live() {
    use sightline_protocol::{DocumentNode, Mutation, Node, NodeKind, Snapshot, TextChange};
    let (collector, _data) = start_collector_taking_unsealed();
    let http = Http::default();
    let session = random_session();
    let snapshot = Snapshot {
        nodes: vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            element(2, 1, "html", &[]),
            element(3, 2, "body", &[]),
            element(4, 3, "h1", &[]),
            text(5, 4, "Invoices"),
        ],
    };
    let viewport = sightline_protocol::Viewport { size: sightline_protocol::Size { width: 1200, height: 800 } };
    let failed = sightline_protocol::Network {
        id: 1,
        method: "GET".into(),
        url: "https://app.acme.example/api/invoices".into(),
        status: 503,
        duration: 40,
        ..sightline_protocol::Network::default()
    };
    let first = vec![
        Event { dt: 0, data: EventData::Viewport(viewport) },
        Event { dt: 0, data: EventData::Snapshot(snapshot) },
        Event { dt: 10, data: EventData::Network(Box::new(failed)) },
    ];
    assert_eq!(http.post_batch(&collector.base, KEY, &batch_bytes(KEY, session, 0, 0, first)).status, 200);

    let browser = Browser::start();
    browser.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
    );
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    browser.navigate(&format!("{}/sessions/{session}", collector.base));
    browser.wait_for("performance.getEntriesByName('sightline-first-frame').length > 0", Duration::from_secs(20));
    browser.wait_for("!document.getElementById('go-live').hidden", Duration::from_secs(10));

    // The engineer opens the failed request; what arrives next leaves it open.
    browser.click("#tab-network");
    browser.click("#panel-network > li");
    browser.wait_for("!document.querySelector('#panel-network .request-detail').hidden", Duration::from_secs(5));

    // The next batch: a click, and the page's answer to it.
    let click = sightline_protocol::Pointer { kind: sightline_protocol::PointerKind::Click, target: 4, x: 40, y: 20 };
    let change = Mutation { texts: vec![TextChange { id: 5, text: "Invoices (3 new)".into() }], ..Mutation::default() };
    let second =
        vec![Event { dt: 100, data: EventData::Pointer(click) }, Event { dt: 50, data: EventData::Mutation(change) }];
    let answer = http.post_batch(&collector.base, KEY, &batch_bytes(KEY, session, 0, 1, second));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), serde_json::json!({ "result": "stored", "watched": true }));
    let heading = "document.getElementById('replay-frame').contentDocument.querySelector('h1')?.textContent";
    browser.wait_for(&format!("({heading}) === 'Invoices (3 new)'"), Duration::from_secs(5));
    let activity = browser.execute("return document.getElementById('panel-activity').textContent;");
    assert!(activity.as_str().unwrap().contains("(h1)"), "{activity}");
    let at_end =
        browser.execute("const t = document.getElementById('timeline'); return [Number(t.value), Number(t.max)];");
    assert_eq!(at_end[0], at_end[1], "the playhead follows the end: {at_end}");
    let still_open = browser.execute("return !document.querySelector('#panel-network .request-detail').hidden;");
    assert_eq!(still_open, true, "the request the engineer opened stays open");
    // The README's picture of the live view (`SIGHTLINE_SCREENSHOTS=docs` retakes it).
    let picture = browser.screenshot();
    std::fs::write(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/viewer-live.png"), &picture)
        .unwrap();
    if let Ok(dir) = std::env::var("SIGHTLINE_SCREENSHOTS") {
        std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir).join("viewer-live.png"),
            &picture,
        )
        .unwrap();
    }

    // What came after a batch, and nothing else.
    let after = http.get(&format!("{}/api/sessions/{session}/events?after=0.0", collector.base), TOKEN);
    assert_eq!(sightline_e2e::split_frames(&after.body).len(), 1);
    let bad = http.get(&format!("{}/api/sessions/{session}/events?after=zero", collector.base), TOKEN);
    assert_eq!((bad.status, bad.json()["error"].as_str()), (400, Some("bad_after")));

    // Nobody follows any more: the answers stop saying so.
    browser.navigate(&format!("{}/", collector.base));
    let mut seq = 2;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let more =
            vec![Event { dt: 10, data: EventData::Visibility(sightline_protocol::Visibility { visible: true }) }];
        let answer = http.post_batch(&collector.base, KEY, &batch_bytes(KEY, session, 0, seq, more));
        if answer.json() == serde_json::json!({ "result": "stored" }) {
            break;
        }
        assert!(Instant::now() < deadline, "still watched 10 s after the viewer left: {}", answer.json());
        seq += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_webhooks_page_shows_each_delivery_and_makes_a_hook_with_its_secret_shown_once() {
    use sightline_e2e::receiver::Receiver;
    let receiver = Receiver::start(&[503]);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[webhooks]\nfirst_retry_ms = 200\nallow_private_destinations = true\n\n{}\n[[projects.webhooks]]\nurl = \
         \"{}/configured\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        sightline_e2e::project_config("web", KEY, TOKEN),
        receiver.base
    );
    let collector = Collector::start(&sightline_e2e::collector_bin(), &dir.path().join("data"), &config);
    let http = Http::default();
    let (session, bytes) = session_batch("u_1842", "team", true);
    assert_eq!(http.post_batch(&collector.base, KEY, &bytes).status, 200);
    receiver.wait_for("the delivery", |r| r.iter().any(|d| d.status == 200));

    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    browser.navigate(&format!("{}/webhooks", collector.base));
    browser.wait_for("document.querySelectorAll('.hook tr.delivery').length === 2", Duration::from_secs(10));
    let rows = browser.execute(
        "return [...document.querySelectorAll('.hook tr.delivery')].map((r) => [...r.children].map((c) => c.textContent));",
    );
    assert_eq!(rows[0][1], "session.problems");
    assert_eq!(rows[0][2], &session[..8]);
    assert_eq!(
        (rows[0][3].as_str(), rows[0][4].as_str(), rows[0][5].as_str()),
        (Some("2"), Some("200"), Some("Delivered"))
    );
    assert_eq!((rows[1][4].as_str(), rows[1][5].as_str()), (Some("503"), Some("Will retry")));
    assert!(rows[1][6].as_str().unwrap().contains("503"), "{rows}");
    let href = browser.execute("return document.querySelector('.hook tr.delivery a').getAttribute('href');");
    assert_eq!(href, format!("/sessions/{session}").as_str());
    assert!(
        browser.execute("return document.querySelector('.hook button.remove');").is_null(),
        "a configured hook stays"
    );

    // A hook made here: its secret shown once; a test delivery shows in its log; removed.
    browser.type_into("#new-hook input[name=url]", &format!("{}/made-here", receiver.base));
    browser.click("#new-hook button");
    browser.wait_for("document.querySelector('#new-secret code')", Duration::from_secs(10));
    let secret = browser.execute("return document.querySelector('#new-secret code').textContent;");
    assert!(secret.as_str().unwrap().starts_with("whsec_"), "{secret}");
    browser.wait_for("document.querySelectorAll('.hook').length === 2", Duration::from_secs(10));
    browser.click(".hook:nth-of-type(2) button.ping");
    receiver.wait_for("the test delivery", |r| r.iter().any(|d| d.path == "/made-here"));
    browser.wait_for(
        "[...document.querySelectorAll('.hook tr.delivery')].some((r) => r.children[1].textContent === 'ping' && r.classList.contains('delivered'))",
        Duration::from_secs(10),
    );
    browser.click(".hook:nth-of-type(2) button.remove");
    browser.wait_for("document.querySelectorAll('.hook').length === 1", Duration::from_secs(10));
    assert!(
        browser.execute("return document.getElementById('new-secret');").is_null(),
        "the secret is not shown again"
    );
}

#[test]
fn a_note_written_at_a_moment_is_a_marker_for_the_team_and_not_in_a_share_link() {
    let (collector, _data) = start_collector_taking_unsealed();
    let session = replay_session(&collector);
    let http = Http::default();
    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    browser.navigate(&format!("{}/sessions/{session}", collector.base));
    browser.wait_for("performance.getEntriesByName('sightline-first-frame').length > 0", Duration::from_secs(20));
    browser.wait_for("document.getElementById('add-note')", Duration::from_secs(10));
    assert!(browser.execute("return document.getElementById('note-form').hidden;") == true);
    browser.click("#add-note");
    browser.type_into("#note-form input[name=text]", "Here the PDF button does nothing");
    browser.click("#note-form button[type=submit]");
    browser.wait_for("document.querySelectorAll('#notes .marker.note').length === 1", Duration::from_secs(10));
    let title = browser.execute("return document.querySelector('#notes .marker.note').title;");
    assert_eq!(title, "read token 1: Here the PDF button does nothing");
    assert!(browser.execute("return document.getElementById('note-form').hidden;") == true);
    let notes = http.get(&format!("{}/api/sessions/{session}/notes", collector.base), TOKEN).json();
    assert_eq!(notes["notes"][0]["text"], "Here the PDF button does nothing");
    // Typing in the note doesn't drive the replay: the space went into the words.
    assert!(notes["notes"][0]["text"].as_str().unwrap().contains(' '));

    // A share link opens the session without the team's notes.
    let shared = http.request(
        "POST",
        &format!("{}/api/sessions/{session}/share", collector.base),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    let url = shared.json()["url"].as_str().unwrap().to_owned();
    browser.execute("localStorage.clear(); return true;");
    browser.navigate(&url);
    browser.wait_for("performance.getEntriesByName('sightline-first-frame').length > 0", Duration::from_secs(20));
    assert!(browser.execute("return document.getElementById('add-note');").is_null());
    assert_eq!(browser.execute("return document.querySelectorAll('#notes .marker').length;"), 0);
}

#[test]
fn support_records_a_sessions_user_fully_from_its_page_and_revokes_it() {
    let (collector, _data) = start_collector_taking_unsealed();
    let http = Http::default();
    let (session, bytes) = session_batch("u_1842", "team", false);
    assert_eq!(http.post_batch(&collector.base, KEY, &bytes).status, 200);

    let browser = Browser::start();
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    browser.navigate(&format!("{}/sessions/{session}", collector.base));
    browser.wait_for("document.getElementById('grant')", Duration::from_secs(20));
    browser.click("#grant");
    browser.wait_for("document.querySelector('#new-grant input[name=user]')", Duration::from_secs(10));
    assert_eq!(browser.execute("return location.pathname + location.search;"), "/grants?user=u_1842");
    assert_eq!(browser.execute("return document.querySelector('#new-grant input[name=user]').value;"), "u_1842");
    browser.type_into("#new-grant input[name=urls]", "/api/orders, /api/invoices");
    browser.click("#new-grant button");
    browser.wait_for("document.querySelectorAll('tr.grant').length === 1", Duration::from_secs(10));
    let row = browser
        .execute("return [...document.querySelector('tr.grant').children].slice(0, 2).map((c) => c.textContent);");
    assert_eq!(row, serde_json::json!(["u_1842", "/api/orders, /api/invoices"]));
    let grants = http.get(&format!("{}/api/grants", collector.base), TOKEN).json();
    assert_eq!(grants["grants"][0]["network_urls"], serde_json::json!(["/api/orders", "/api/invoices"]));
    assert_eq!(grants["grants"][0]["by"], "read token 1");

    browser.click("tr.grant button.revoke");
    browser.wait_for("document.querySelectorAll('tr.grant').length === 0", Duration::from_secs(10));
    assert_eq!(http.get(&format!("{}/api/grants", collector.base), TOKEN).json()["grants"], serde_json::json!([]));
}
