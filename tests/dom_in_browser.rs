//! What the page showed and what the user did to it, recorded in headless Chromium and read
//! back from the real collector: the snapshot, changes, clicks, scrolls and form input, with
//! everything private masked before it leaves the browser.
//!
//! Needs `npm/dist` (built by `cargo xtask build-sdk`), Chromium and ChromeDriver.

use std::collections::HashMap;
use std::time::Duration;

use sightline_e2e::sdk::{dist, open_page, recorded_session, start_collector, stored_stream, storm_page, KEY};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{Collector, Http};
use sightline_protocol::{decode_batch, Batch, EventData, Input, Limits, Node, NodeKind, PointerKind};

const PASSWORD: &str = "hunter2-Secret!";
const CARD: &str = "4111 1111 1111 1111";

fn checkout_page(collector: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Checkout</title>
<style>.total {{ color: #222; background: url(/paper.png); }}</style>
<link rel="stylesheet" href="/theme.css">
<style id="css-in-js"></style></head>
<body>
<h1 id="title">Checkout</h1>
<img id="logo" src="/logo.png" alt="Acme">
<button id="pay" onclick="window.paid = true">Pay</button>
<script>window.inline = 'SCRIPT_BODY_MARKER';</script>
<form onsubmit="return false">
  <input id="email" type="email">
  <input id="password" type="password">
  <input id="card" autocomplete="cc-number">
  <input id="token" type="hidden" value="hidden-token-4242">
  <div data-sl-unmask><input id="search" type="text"></div>
  <textarea id="notes"></textarea>
  <input id="agree" type="checkbox">
</form>
<p id="balance" data-sl-mask title="Zorblax balance">Balance Zorblax</p>
<div id="chart" data-sl-block style="width: 120px; height: 40px">Quarterly chart</div>
<ul id="list"><li>first</li></ul>
<canvas id="sparkline" width="40" height="20"></canvas>
<div data-sl-mask><canvas id="private-canvas" width="40" height="20"></canvas></div>
<div id="host"></div>
<div id="late-host"></div>
<div id="closed-host"></div>
<iframe id="frame" srcdoc="<p>inside the frame</p>"></iframe>
<div style="height: 3000px"></div>
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
document.getElementById('host').attachShadow({{ mode: 'open' }}).innerHTML = '<span>in the shadow</span>';
document.getElementById('css-in-js').sheet.insertRule('.early {{ margin: 1px; }}');
const constructed = new CSSStyleSheet();
constructed.replaceSync('.adopted {{ padding: 3px; }}');
document.adoptedStyleSheets = [constructed];
for (const id of ['sparkline', 'private-canvas']) {{
  const context = document.getElementById(id).getContext('2d');
  context.fillStyle = '#2f6fed';
  context.fillRect(0, 0, 30, 12);
}}
await init({{ endpoint: '{collector}', projectKey: '{KEY}', canvasIntervalMs: 250 }});
window.flushNow = flush;
window.sessionUrl = getSessionUrl();
</script></body></html>"#
    )
}

/// The DOM changes the page's own code makes after the user is done.
const CHANGES: &str = r#"
const list = document.getElementById('list');
for (const n of [1, 2, 3]) {
  const li = document.createElement('li');
  li.textContent = `row ${n}`;
  list.append(li);
}
document.getElementById('title').className = 'done';
document.getElementById('title').setAttribute('onmouseover', 'steal()');
list.firstChild.firstChild.data = 'first changed';
document.getElementById('balance').firstChild.data = 'Balance Quixote';
const ghost = document.createElement('div');
ghost.textContent = 'GHOST_MARKER';
document.body.append(ghost);
ghost.remove();
const late = document.getElementById('late-host').attachShadow({ mode: 'open' });
late.innerHTML = '<b>attached after the snapshot</b>';
document.getElementById('closed-host').attachShadow({ mode: 'closed' }).innerHTML = '<i>CLOSED_SHADOW</i>';
history.pushState({}, '', '/reset?token=RESET_TOKEN_SECRET');
const cssInJs = document.getElementById('css-in-js').sheet;
cssInJs.insertRule('@media (min-width: 1px) { .late { color: red; } }', 1);
cssInJs.cssRules[1].insertRule('.nested { color: blue; }', 1);
cssInJs.deleteRule(0);
window.scrollTo(0, 500);
return true;
"#;

/// Every node the recording ever added, by id (later additions win).
fn nodes_by_id(batches: &[Batch]) -> HashMap<u32, Node> {
    let mut nodes = HashMap::new();
    for event in batches.iter().flat_map(|b| &b.events) {
        let added = match &event.data {
            EventData::Snapshot(s) => &s.nodes,
            EventData::Mutation(m) => &m.adds,
            _ => continue,
        };
        nodes.extend(added.iter().map(|n| (n.id, n.clone())));
    }
    nodes
}

/// The last input recorded on the element with HTML id `html_id`.
fn last_input<'a>(events: &[&'a EventData], nodes: &HashMap<u32, Node>, html_id: &str) -> &'a Input {
    let (id, _) = element_with_id(nodes, html_id);
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            EventData::Input(i) if i.target == id => Some(i),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no input on #{html_id}"))
}

fn element_with_id<'a>(nodes: &'a HashMap<u32, Node>, html_id: &str) -> (u32, &'a [(String, String)]) {
    nodes
        .values()
        .find_map(|n| match &n.kind {
            NodeKind::Element(e) if e.attrs.iter().any(|(k, v)| k == "id" && v == html_id) => {
                Some((n.id, e.attrs.as_slice()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no element #{html_id} recorded"))
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn texts_under(nodes: &HashMap<u32, Node>, parent: u32) -> Vec<String> {
    nodes
        .values()
        .filter(|n| n.parent == parent)
        .filter_map(|n| match &n.kind {
            NodeKind::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_page_and_what_the_user_did_are_recorded_with_private_values_masked() {
    let (collector, _data) = start_collector();
    let site = StaticFiles::start(
        &dist(),
        vec![
            ("/".into(), checkout_page(&collector.base)),
            ("/theme.css".into(), "@import url(fonts.css);\nbody { background: url(img/bg.png) }\n".into()),
        ],
    );
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let session = recorded_session(&browser);

    browser.type_into("#email", "jane@acme.com");
    browser.type_into("#password", PASSWORD);
    browser.type_into("#card", CARD);
    browser.type_into("#search", "blue shoes");
    browser.type_into("#notes", "call me after 5");
    browser.click("#agree");
    browser.execute("window.scrollTo(0, 0); return true;");
    browser.click("#pay");
    assert_eq!(browser.execute("return window.paid === true;"), true, "the page's own handler still ran");
    browser.execute(CHANGES);
    std::thread::sleep(Duration::from_millis(300));
    browser.execute("window.flushNow(); return true;");

    // Wait until the last thing done (the scroll) has arrived.
    let http = Http::default();
    let (frames, batches) = loop {
        let frames = stored_stream(&http, &collector, &session, 1);
        let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
        let scrolled =
            batches.iter().flat_map(|b| &b.events).any(|e| matches!(e.data, EventData::Scroll(s) if s.y == 500));
        if scrolled {
            break (frames, batches);
        }
        browser.execute("window.flushNow(); return true;");
        std::thread::sleep(Duration::from_millis(200));
    };
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();

    // Nothing private is anywhere: not in the stored bytes, not in what they decompress to.
    let decoded = format!("{batches:?}");
    let raw: Vec<u8> = frames.concat();
    for secret in [
        PASSWORD,
        CARD,
        "4111111111111111",
        "hunter2",
        "hidden-token-4242",
        "call me",
        "jane@acme",
        "Quarterly",
        "Zorblax",
        "Quixote",
    ] {
        assert!(!decoded.contains(secret), "{secret:?} was recorded");
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} is in the stored bytes");
    }
    for never in ["SCRIPT_BODY_MARKER", "window.paid", "steal()", "GHOST_MARKER", "CLOSED_SHADOW", "RESET_TOKEN_SECRET"]
    {
        assert!(!decoded.contains(never), "{never:?} was recorded");
    }

    // The snapshot: the page as it was, with absolute URLs, masked and blocked parts, the shadow
    // root and the frame's document.
    let EventData::Snapshot(snapshot) = events.iter().find(|e| matches!(e, EventData::Snapshot(_))).unwrap() else {
        unreachable!()
    };
    let document = &snapshot.nodes[0];
    assert_eq!((document.kind.clone(), document.parent), (NodeKind::Document(Default::default()), 0));
    assert!(matches!(snapshot.nodes[1].kind, NodeKind::Doctype(ref d) if d.name == "html"));
    let nodes = nodes_by_id(&batches);
    let (title, _) = element_with_id(&nodes, "title");
    assert!(texts_under(&nodes, title).contains(&"Checkout".to_owned()));
    let (_, logo) = element_with_id(&nodes, "logo");
    assert_eq!(attr(logo, "src"), Some(format!("{}/logo.png", site.base).as_str()));
    let (pay, button) = element_with_id(&nodes, "pay");
    assert_eq!(attr(button, "onclick"), None, "no on* attributes");
    let style_text = nodes.values().find_map(|n| match &n.kind {
        NodeKind::Text(t) if t.contains(".total") => Some(t.clone()),
        _ => None,
    });
    assert!(style_text.unwrap().contains(&format!("url({}/paper.png)", site.base)), "CSS URLs are absolute");
    let (balance, _) = element_with_id(&nodes, "balance");
    assert!(texts_under(&nodes, balance).contains(&"******* *******".to_owned()), "masked text keeps its shape");
    let (chart, chart_attrs) = element_with_id(&nodes, "chart");
    assert_eq!(attr(chart_attrs, "data-sl-blocked"), Some("120 40"), "a blocked element keeps its size");
    assert!(nodes.values().all(|n| n.parent != chart), "and nothing of what it contains");
    let (_, token) = element_with_id(&nodes, "token");
    assert_eq!(attr(token, "value"), Some("*****************"));
    let (host, _) = element_with_id(&nodes, "host");
    let shadow = nodes.values().find(|n| n.parent == host && matches!(n.kind, NodeKind::ShadowRoot(_))).unwrap();
    let span = nodes.values().find(|n| n.parent == shadow.id).expect("the shadow root's content");
    assert_eq!(texts_under(&nodes, span.id), vec!["in the shadow".to_owned()]);
    let (late_host, _) = element_with_id(&nodes, "late-host");
    let late = nodes.values().find(|n| n.parent == late_host && matches!(n.kind, NodeKind::ShadowRoot(_)));
    let late = late.expect("a shadow root attached after the snapshot");
    let bold = nodes.values().find(|n| n.parent == late.id).expect("its content");
    assert_eq!(texts_under(&nodes, bold.id), vec!["attached after the snapshot".to_owned()]);
    let (frame, _) = element_with_id(&nodes, "frame");
    let frame_doc = nodes.values().find(|n| n.parent == frame && matches!(n.kind, NodeKind::Document(_)));
    assert!(frame_doc.is_some(), "the same-origin frame's document");
    assert!(nodes.values().any(|n| n.kind == NodeKind::Text("inside the frame".into())));

    // Stylesheets as the page applied them: linked sheets as rules with absolute URLs, sheets
    // changed through the CSSOM as rules and then each change, adopted constructed sheets.
    let sheets: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::StyleSheet(s) => Some(s),
            _ => None,
        })
        .collect();
    let link = nodes.values().find(|n| matches!(&n.kind, NodeKind::Element(e) if e.tag == "link")).unwrap();
    let theme = sheets.iter().find(|s| s.owner == link.id).expect("the linked sheet's rules");
    let background = format!("url(\"{}/img/bg.png\")", site.base);
    assert!(theme.rules.iter().any(|r| r.contains(&background)), "{:?}", theme.rules);
    let (css_in_js, _) = element_with_id(&nodes, "css-in-js");
    let early = sheets.iter().find(|s| s.owner == css_in_js).expect("the CSS-in-JS sheet");
    assert_eq!(early.rules, vec![".early { margin: 1px; }"]);
    let changes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::StyleRule(r) if r.sheet == early.id => Some((r.path.clone(), r.rule.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (vec![1], Some("@media (min-width: 1px) {\n  .late { color: red; }\n}".to_owned())),
            (vec![1, 1], Some(".nested { color: blue; }".to_owned())),
            (vec![0], None),
        ]
    );
    let adopted = events
        .iter()
        .find_map(|e| match e {
            EventData::AdoptedStyleSheets(a) => Some(a),
            _ => None,
        })
        .expect("the document's adopted sheets");
    assert_eq!(adopted.host, document.id);
    let constructed = sheets.iter().find(|s| adopted.sheets == vec![s.id]).expect("the adopted sheet's rules");
    assert_eq!((constructed.owner, constructed.rules.clone()), (0, vec![".adopted { padding: 3px; }".to_owned()]));

    // The canvas as an image, except the one under masking.
    let (sparkline, _) = element_with_id(&nodes, "sparkline");
    let (private_canvas, _) = element_with_id(&nodes, "private-canvas");
    let images: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Canvas(c) => Some(c),
            _ => None,
        })
        .collect();
    assert!(images.iter().any(|c| c.target == sparkline && c.data_url.starts_with("data:image/webp;base64,")));
    assert_eq!(images.iter().filter(|c| c.target == sparkline).count(), 1, "an unchanged canvas is recorded once");
    assert!(images.iter().all(|c| c.target != private_canvas), "a masked canvas is never recorded");

    // Form input: masked with the same length unless the page opted in; the checkbox's state.
    let last_input = |html_id: &str| last_input(&events, &nodes, html_id);
    let email = last_input("email");
    assert_eq!((email.value.as_str(), email.masked), ("*************", true));
    let password = last_input("password");
    assert_eq!((password.value.len(), password.masked), (PASSWORD.len(), true));
    assert_eq!(last_input("card").value, "*******************");
    let search = last_input("search");
    assert_eq!((search.value.as_str(), search.masked), ("blue shoes", false));
    assert_eq!(last_input("agree").checked, Some(true));

    // Clicks on their targets, focus, and the page's scroll.
    let click = events.iter().find_map(|e| match e {
        EventData::Pointer(p) if p.kind == PointerKind::Click && p.target == pay => Some(*p),
        _ => None,
    });
    let click = click.expect("the click on Pay");
    assert!(click.x > 0 && click.y > 0);
    let (email_id, _) = element_with_id(&nodes, "email");
    assert!(events.iter().any(|e| matches!(e, EventData::Focus(f) if f.target == email_id && f.focused)));
    assert!(events.iter().any(|e| matches!(e, EventData::Scroll(s) if s.target == document.id && s.y == 500)));

    // The page's own changes after the snapshot.
    let mutations: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Mutation(m) => Some(m),
            _ => None,
        })
        .collect();
    let (list, _) = element_with_id(&nodes, "list");
    let rows: Vec<String> = mutations
        .iter()
        .flat_map(|m| &m.adds)
        .filter(|n| n.parent == list)
        .flat_map(|n| texts_under(&nodes, n.id))
        .collect();
    assert_eq!(rows, vec!["row 1", "row 2", "row 3"]);
    let attrs: Vec<_> = mutations.iter().flat_map(|m| &m.attrs).collect();
    assert!(attrs.iter().any(|a| a.id == title && a.name == "class" && a.value.as_deref() == Some("done")));
    assert!(attrs.iter().all(|a| !a.name.starts_with("on")));
    let texts: Vec<_> = mutations.iter().flat_map(|m| &m.texts).map(|t| t.text.as_str()).collect();
    assert!(texts.contains(&"first changed"), "{texts:?}");
    assert!(texts.contains(&"******* *******"), "a masked text stays masked when it changes: {texts:?}");
}

#[test]
fn a_mutation_storm_pauses_recording_and_a_snapshot_resumes_it() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Storm</title><body><div id="storm"></div><script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.flushNow = flush;
window.sessionUrl = getSessionUrl();
// 6,000 nodes replaced every 20 ms, 80 times: far more than is worth diffing.
window.storm = new Promise((resolve) => {{
  const box = document.getElementById('storm');
  const started = performance.now();
  let rounds = 0;
  const timer = setInterval(() => {{
    const cells = [];
    for (let i = 0; i < 3000; i++) cells.push(`<p>cell ${{rounds}}-${{i}}</p>`);
    box.innerHTML = cells.join('');
    if (++rounds === 80) {{
      clearInterval(timer);
      box.innerHTML = '<p id="calm">STORM_OVER</p>';
      window.stormMs = performance.now() - started;
      resolve(rounds);
    }}
  }}, 20);
}});
</script></body>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    assert_eq!(browser.execute("return window.storm;"), 80, "the page ran its storm to the end");
    let storm_s = browser.execute("return window.stormMs;").as_f64().expect("the storm's length") / 1000.0;

    // The calm state arrives, by a change or by the snapshot that ends the pause.
    let http = Http::default();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let batches = loop {
        browser.execute("window.flushNow(); return true;");
        let frames = stored_stream(&http, &collector, &session, 1);
        let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
        if nodes_by_id(&batches).values().any(|n| n.kind == NodeKind::Text("STORM_OVER".into())) {
            break batches;
        }
        assert!(std::time::Instant::now() < deadline, "the state after the storm never arrived");
        std::thread::sleep(Duration::from_millis(300));
    };
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    let snapshots = events.iter().filter(|e| matches!(e, EventData::Snapshot(_))).count();
    assert!(snapshots >= 2, "recording resumed with a snapshot after pausing ({snapshots} snapshots)");
    let diffed: usize = events
        .iter()
        .map(|e| match e {
            EventData::Mutation(m) => m.adds.len(),
            _ => 0,
        })
        .sum();
    // At most the budget: a burst of 100,000 nodes, 50,000 a second more (the storm's length
    // depends on the machine; half a second more for a walk still running as it ends), and a
    // second's worth at each resume, which begins with a snapshot.
    let budget = 100_000.0 + 50_000.0 * (storm_s + 0.5) + 50_000.0 * (snapshots - 1) as f64;
    assert!(
        (diffed as f64) <= budget && diffed < 480_000,
        "the storm was not diffed node by node ({diffed} nodes added of 480,000 in {storm_s:.1} s, {snapshots} snapshots)"
    );
}

/// What the storm pages below settle on.
const SETTLED: &str = r#"<p id="calm">SETTLED</p>"#;

/// Whether the replay's page at `time` shows the text `SETTLED`.
fn shows_settled(replay: &sightline_player::Replay, time: u64) -> bool {
    let dom = replay.dom_at(time);
    let mut walk: Vec<u32> = dom.roots().collect();
    while let Some(id) = walk.pop() {
        if dom.node(id).is_some_and(|n| n.kind == NodeKind::Text("SETTLED".into())) {
            return true;
        }
        walk.extend(dom.children(id));
    }
    false
}

#[test]
fn an_error_inside_a_storm_pause_is_replayed_on_the_page_as_it_was() {
    let (collector, _data) = start_collector();
    let page = storm_page(&collector.base, SETTLED, "throw new Error('after the storm')");
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    assert_eq!(browser.execute("return window.storm;"), true);
    let erred_at = browser.execute("return window.erredAt;").as_u64().expect("the error's time");

    let http = Http::default();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let replay = loop {
        browser.execute("window.flushNow(); return true;");
        let frames = stored_stream(&http, &collector, &session, 1);
        let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
        let replay = sightline_player::Replay::new(&batches);
        let erred = replay.events().iter().any(|(_, _, e)| matches!(e, EventData::Error(_)));
        if erred && replay.events().iter().any(|(_, _, e)| matches!(e, EventData::Snapshot(_))) {
            break replay;
        }
        assert!(std::time::Instant::now() < deadline, "the error never arrived");
        std::thread::sleep(Duration::from_millis(300));
    };
    // The page at the error: the settled page, not the page before the storm, within the
    // moment of the error (the pause would have lasted a second more).
    let error_time =
        replay.events().iter().find(|(_, _, e)| matches!(e, EventData::Error(_))).map(|(t, _, _)| *t).unwrap();
    assert!(error_time.abs_diff(erred_at) < 1_000, "{error_time} vs {erred_at}");
    assert!(shows_settled(&replay, error_time + 100), "the replay at the error shows the page as it was then");
}

#[test]
fn a_session_that_ends_inside_a_storm_pause_is_replayed_as_it_ended() {
    // The page goes away (its leaving sends the last page by beacon, or keeps it for the next
    // page when the beacons' budget is spent on what the storm left waiting), or the app calls
    // `stop()`, while the storm's pause would last a second more.
    for end in ["location.href = '/next'", "window.stopNow()"] {
        let (collector, _data) = start_collector();
        let next = format!(
            r#"<!doctype html><title>Next</title><p>next page</p><script type="module">
import {{ init }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
</script>"#,
            collector.base
        );
        let site = StaticFiles::start(
            &dist(),
            vec![("/".into(), storm_page(&collector.base, SETTLED, end)), ("/next".into(), next)],
        );
        let browser = Browser::start();
        browser.navigate(&format!("{}/", site.base));
        let session = recorded_session(&browser);
        let http = Http::default();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let frames = stored_stream(&http, &collector, &session, 1);
            let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
            let replay = sightline_player::Replay::new(&batches);
            // The stormy page's last moment.
            let last = replay.events().iter().rfind(|(_, page, _)| *page == 0).map(|(t, _, _)| *t);
            if shows_settled(&replay, last.expect("events")) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{end}: the replay's last moment shows the page before the storm settled"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn a_moment_that_comes_while_diffing_resumes_after_a_storm_is_replayed_as_it_was() {
    // Diffing resumes after a storm's pause with a walk of the stormy page, in slices; the page
    // settles, and the session ends or an error comes, before that walk is done. What the walk
    // held back meanwhile is over the storm budget, and the session's end comes only once.
    for end in ["location.href = '/next'", "window.stopNow()", "throw new Error('settled')"] {
        let (collector, _data) = start_collector();
        let page = format!(
            r#"<!doctype html><title>Resumed, then end</title><body><h1>Report</h1><div id="storm"></div><script type="module">
import {{ init, flush, stop, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{base}', projectKey: '{KEY}' }});
window.flushNow = flush;
window.stopNow = stop;
window.sessionUrl = getSessionUrl();
await new Promise((resolve) => setTimeout(resolve, 300));
const box = document.getElementById('storm');
// The walk is seen by the page: it asks each element whether it matches the block selector.
const matches = Element.prototype.matches;
let asked = -1;
Element.prototype.matches = function (selector) {{
  if (asked >= 0 && ++asked === 20000) setTimeout(settleAndEnd, 0);
  return matches.call(this, selector);
}};
function settleAndEnd() {{
  box.innerHTML = '{SETTLED}';
  window.settledAt = Date.now();
  {end};
}}
// Over the budget at once: diffing pauses for a second, then walks these nodes again.
box.innerHTML = '<i></i>'.repeat(300000);
setTimeout(() => {{ asked = 0; }}, 500);
</script></body>"#,
            base = collector.base
        );
        let next = format!(
            r#"<!doctype html><title>Next</title><p>next page</p><script type="module">
import {{ init }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
</script>"#,
            collector.base
        );
        let site = StaticFiles::start(&dist(), vec![("/".into(), page), ("/next".into(), next)]);
        let browser = Browser::start();
        browser.navigate(&format!("{}/", site.base));
        let session = recorded_session(&browser);
        let http = Http::default();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let erring = end.starts_with("throw");
        loop {
            if erring {
                browser.execute("window.flushNow && window.flushNow(); return true;");
            }
            let frames = stored_stream(&http, &collector, &session, 1);
            let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
            let replay = sightline_player::Replay::new(&batches);
            // The moment: the error (with the slack the error test above allows), or the
            // stormy page's last one.
            let moment = if erring {
                let error = replay.events().iter().find(|(_, _, e)| matches!(e, EventData::Error(_)));
                error.map(|(t, _, _)| t + 100)
            } else {
                replay.events().iter().rfind(|(_, page, _)| *page == 0).map(|(t, _, _)| *t)
            };
            if moment.is_some_and(|moment| shows_settled(&replay, moment)) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{end}: the replay at that moment shows the page before it settled"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn elements_with_attributes_last_in_a_walk_are_recorded() {
    // Frameworks mount into the body after what the HTML left there, so the last node of the
    // document, or of a set of additions, is often an element with a few attributes and
    // nothing after it.
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Last</title><body><script type="module">
import {{ init, flush, getSessionUrl, status }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.sessionUrl = getSessionUrl();
await new Promise((resolve) => setTimeout(resolve, 300));
const added = document.createElement('a');
for (const [name, value] of [['href', '#/'], ['class', 'selected'], ['id', 'all'], ['title', 'All']]) added.setAttribute(name, value);
document.body.append(added);
await new Promise((resolve) => setTimeout(resolve, 100));
flush();
window.done = status().state;
</script><input class="new-todo" placeholder="What needs to be done?" autocomplete="off"></body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    assert_eq!(browser.wait_for("window.done", Duration::from_secs(20)), "recording");
    let batches = recorded_when(&browser, &collector, &session, |batches| {
        let has_snapshot = batches.iter().flat_map(|b| &b.events).any(|e| matches!(e.data, EventData::Snapshot(_)));
        has_snapshot && nodes_by_id(batches).values().any(|n| matches!(&n.kind, NodeKind::Element(el) if el.tag == "a"))
    });
    let nodes = nodes_by_id(&batches);
    let (_, input) = element_with_class(&nodes, "new-todo");
    assert_eq!(attr(input, "placeholder"), Some("What needs to be done?"));
    assert_eq!(attr(input, "autocomplete"), Some("off"));
    let (_, link) = element_with_id(&nodes, "all");
    assert_eq!(link.len(), 4, "{link:?}");
}

#[test]
fn form_state_a_script_sets_is_recorded_like_the_users_input() {
    // What frameworks do without any event: a controlled field cleared after Enter, "toggle
    // all" unchecked on a re-render, an option chosen by index, a form reset.
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Todos</title><body>
<input id="todo" autocomplete="off">
<input id="all" type="checkbox" checked>
<select id="plan"><option value="team">Team</option><option value="pro">Pro</option><option value="enterprise">Enterprise</option></select>
<form id="profile"><input id="name" value="Jane"><textarea id="notes">first</textarea></form>
<div data-sl-unmask><input id="search"><input id="card-number" autocomplete="cc-number" value="4111111111111111"><input id="csrf" type="hidden" value="tok-123"><input id="otp" autocomplete="one-time-code" value="424242"></div>
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
const todo = document.getElementById('todo');
todo.addEventListener('keydown', (event) => {{
  if (event.key !== 'Enter') return;
  todo.value = '';
  document.getElementById('all').checked = false;
  document.getElementById('plan').selectedIndex = 2;
  document.getElementById('notes').value = 'second';
  document.getElementById('search').value = 'set by script';
  document.getElementById('search').value = 'set twice in a task';
  window.handled = true;
}});
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.flushNow = flush;
window.sessionUrl = getSessionUrl();
</script></body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    browser.type_into("#todo", "Buy milk\u{E007}");
    browser.wait_for("window.handled", Duration::from_secs(10));
    browser.execute("document.getElementById('profile').reset(); return true;");
    // The page sees its own properties as before.
    let seen = browser.execute(
        "const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value'); \
         return [document.getElementById('todo').value, document.getElementById('notes').value, \
                 document.getElementById('plan').value, d.set.name, d.set.length, d.get.name];",
    );
    assert_eq!(seen, serde_json::json!(["", "first", "enterprise", "set value", 1, "get value"]));
    let batches = recorded_when(&browser, &collector, &session, |batches| {
        batches.iter().flat_map(|b| &b.events).filter(|e| matches!(e.data, EventData::Input(_))).count() >= 6
    });
    let nodes = nodes_by_id(&batches);
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    let todo = last_input(&events, &nodes, "todo");
    assert_eq!((todo.value.as_str(), todo.masked), ("", true), "cleared by the page after Enter");
    assert_eq!(last_input(&events, &nodes, "all").checked, Some(false), "unchecked by the page");
    let plan = last_input(&events, &nodes, "plan");
    assert_eq!((plan.value.as_str(), plan.masked), ("**********", true), "the chosen option, masked");
    // Which option it is shows in the replay: not secret by default.
    let option = |value: &str| {
        nodes
            .iter()
            .find_map(|(id, n)| match &n.kind {
                NodeKind::Element(el) if el.tag == "option" && attr(&el.attrs, "value") == Some(value) => Some(*id),
                _ => None,
            })
            .expect("the option")
    };
    let selected: Vec<(u32, bool)> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Mutation(m) => Some(&m.attrs),
            _ => None,
        })
        .flatten()
        .filter(|change| change.name == "selected")
        .map(|change| (change.id, change.value.is_some()))
        .collect();
    assert!(
        selected.contains(&(option("enterprise"), true)) && selected.contains(&(option("team"), false)),
        "{selected:?}"
    );
    let search = last_input(&events, &nodes, "search");
    assert_eq!(search.value, "set twice in a task", "unmasked where the page says, the last value");
    let (search_id, _) = element_with_id(&nodes, "search");
    let search_inputs = events.iter().filter(|e| matches!(e, EventData::Input(i) if i.target == search_id)).count();
    assert_eq!(search_inputs, 1, "set twice in one task, recorded once");
    // The reset puts back what the HTML said.
    let name = last_input(&events, &nodes, "name");
    assert_eq!((name.value.as_str(), name.masked), ("****", true));
    let notes = last_input(&events, &nodes, "notes");
    assert_eq!(notes.value, "*****", "the textarea back to its text, masked");
    // Secret in every mode, unmasked or not.
    for (id, masked) in [("card-number", "****************"), ("csrf", "*******"), ("otp", "******")] {
        assert_eq!(attr(element_with_id(&nodes, id).1, "value"), Some(masked), "#{id}");
    }
}

#[test]
fn credentials_in_the_pages_own_urls_are_redacted() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Links</title><body>
<a id="reset" href="/reset?token=abc123&amp;page=2">Reset</a>
<img id="signed" src="/img.png?X-Amz-Signature=s3cr3t&amp;w=40" srcset="/img.png?sig=s3cr3t 2x">
<form id="login" action="/login?session=s3ss10n"></form>
<div id="bg" style="background: url('/bg.png?code=0auth')"></div>
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
const broken = document.createElement('img');
broken.src = '/missing.png?ticket=t1ck3t';
document.body.append(broken);
window.sessionUrl = getSessionUrl();
window.flushNow = flush;
</script></body></html>"#,
        collector.base
    );
    let (site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let failed_image = |batches: &[Batch]| {
        batches.iter().flat_map(|b| &b.events).find_map(|e| match &e.data {
            EventData::Error(error) if error.message.contains("missing.png") => Some(error.message.clone()),
            _ => None,
        })
    };
    let batches = recorded_when(&browser, &collector, &session, |batches| {
        !nodes_by_id(batches).is_empty() && failed_image(batches).is_some()
    });
    let nodes = nodes_by_id(&batches);
    let failed = failed_image(&batches).unwrap_or_default();
    let attr_of = |id: &str, name: &str| attr(element_with_id(&nodes, id).1, name).map(str::to_owned);
    let base = &site.base;
    assert_eq!(attr_of("reset", "href"), Some(format!("{base}/reset?token=%5Bredacted%5D&page=2")));
    assert_eq!(attr_of("signed", "src"), Some(format!("{base}/img.png?X-Amz-Signature=%5Bredacted%5D&w=40")));
    assert_eq!(attr_of("signed", "srcset"), Some(format!("{base}/img.png?sig=%5Bredacted%5D 2x")));
    assert_eq!(attr_of("login", "action"), Some(format!("{base}/login?session=%5Bredacted%5D")));
    let style = attr_of("bg", "style").unwrap_or_default();
    assert!(style.contains("code=%5Bredacted%5D") && !style.contains("0auth"), "{style}");
    assert!(failed.contains("ticket=%5Bredacted%5D") && !failed.contains("t1ck3t"), "{failed}");
}

#[test]
fn a_keyframe_carries_where_elements_were_scrolled() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><title>Scrolled</title><body>
<div id="box" style="height: 50px; overflow: auto"><div style="height: 3000px">rows</div></div>
<script type="module">
import {{ init, flush, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}', keyframeIntervalMs: 700 }});
window.flushNow = flush;
window.sessionUrl = getSessionUrl();
document.getElementById('box').scrollTop = 400;
</script></body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    // The last keyframe is followed by the box's position, as it was when the keyframe was taken.
    let last_keyframe_scroll = |batches: &[Batch]| {
        let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
        let last = events.iter().rposition(|e| matches!(e, EventData::Snapshot(_)))?;
        let keyframes = events.iter().filter(|e| matches!(e, EventData::Snapshot(_))).count();
        let box_id = element_with_id(&nodes_by_id(batches), "box").0;
        (keyframes >= 2)
            .then(|| {
                events[last..].iter().find_map(|e| match e {
                    EventData::Scroll(s) if s.target == box_id => Some((s.x, s.y)),
                    _ => None,
                })
            })
            .flatten()
    };
    let batches = recorded_when(&browser, &collector, &session, |batches| last_keyframe_scroll(batches).is_some());
    assert_eq!(last_keyframe_scroll(&batches), Some((0, 400)));
}

/// The session's batches once `arrived` says they hold what a test waits for (up to 20 s),
/// flushing the page (its `window.flushNow`, where it has one) before each look.
fn recorded_when(
    browser: &Browser,
    collector: &Collector,
    session: &str,
    arrived: impl Fn(&[Batch]) -> bool,
) -> Vec<Batch> {
    let http = Http::default();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        browser.execute("if (window.flushNow) window.flushNow(); return true;");
        let frames = stored_stream(&http, collector, session, 1);
        let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
        if arrived(&batches) {
            return batches;
        }
        assert!(std::time::Instant::now() < deadline, "what the test waits for never arrived: {batches:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The element whose `class` is `class`, with its attributes.
fn element_with_class<'a>(nodes: &'a HashMap<u32, Node>, class: &str) -> (u32, &'a [(String, String)]) {
    nodes
        .iter()
        .find_map(|(id, node)| match &node.kind {
            NodeKind::Element(el) if attr(&el.attrs, "class") == Some(class) => Some((*id, el.attrs.as_slice())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no element of class {class}"))
}

fn options_page(collector: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Settings</title></head><body>
<form onsubmit="return false">
  <input id="name" type="text">
  <input id="pin" type="password"><button id="show-pin" type="button" onclick="document.getElementById('pin').type = 'text'">Show</button>
  <div data-sl-unmask><input id="unmasked-password" type="password"></div>
  <input id="ssn" class="private">
  <select id="plan"><option>basic</option><option>pro</option></select>
</form>
<div id="editor" contenteditable>EDITABLE_START</div>
<div class="ad">ADVERT_MARKER</div>
<div id="pane" style="height: 100px; overflow: auto"><div style="height: 1000px">pane</div></div>
<button id="target" style="width: 200px; height: 100px">Target</button>
<button id="late">Late</button>
<iframe id="frame" style="position: fixed; left: 420px; top: 10px; width: 240px; height: 120px; border: 4px solid; padding: 6px"
  srcdoc="<body style='margin: 0'><button id='inner' style='width: 100px; height: 40px'>Inner</button><input id='inner-input'><div style='height: 2000px'></div></body>"></iframe>
<script type="module">
import {{ init, flush, stop, getSessionUrl }} from '/index.js';
await init({{
  endpoint: '{collector}', projectKey: '{KEY}', maskAllInputs: false, maskSelector: '.private', blockSelector: '.ad',
  keyframeIntervalMs: 1000,
}});
window.flushNow = flush;
window.stopNow = stop;
window.center = (id) => {{
  const r = document.getElementById(id).getBoundingClientRect();
  return [r.left + r.width / 2, r.top + r.height / 2];
}};
window.show = (state) => {{
  Object.defineProperty(document, 'visibilityState', {{ value: state, configurable: true }});
  document.dispatchEvent(new Event('visibilitychange'));
}};
window.sessionUrl = getSessionUrl();
</script></body></html>"#
    )
}

#[test]
fn other_interactions_and_the_masking_options_are_recorded() {
    let (collector, _data) = start_collector();
    let site = StaticFiles::start(&dist(), vec![("/".into(), options_page(&collector.base))]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let session = recorded_session(&browser);

    // Inputs left unmasked by the page's choice, but never a password: not one shown as text
    // by a "show" button, not one under `data-sl-unmask`.
    browser.type_into("#name", "Jane Roe");
    browser.type_into("#pin", "PIN_BEFORE");
    browser.click("#show-pin");
    browser.type_into("#pin", "PIN_AFTER");
    browser.type_into("#unmasked-password", "UNMASKED_PASSWORD");
    browser.type_into("#ssn", "078-05-1120");
    browser.execute("const s = document.getElementById('plan'); s.value = 'pro'; s.dispatchEvent(new Event('change', { bubbles: true })); return true;");
    browser.type_into("#editor", " EDITED_TEXT");

    // Pointer input as the browser delivers it.
    let center = browser.execute("return window.center('target');");
    let (x, y) = (center[0].as_f64().unwrap(), center[1].as_f64().unwrap());
    let mouse = |kind: &str, x: f64, y: f64, button: &str, clicks: u32| {
        let params = serde_json::json!({ "type": kind, "x": x, "y": y, "button": button, "clickCount": clicks });
        browser.cdp("Input.dispatchMouseEvent", params);
    };
    for step in 0..6 {
        mouse("mouseMoved", x - 50.0 + f64::from(step) * 20.0, y, "none", 0);
        std::thread::sleep(Duration::from_millis(60));
    }
    // A fast move, within one sample's interval: where it ends is recorded, where the pointer
    // then rests.
    let rest = (x - 33.0, y + 7.0);
    mouse("mouseMoved", x - 20.0, y + 2.0, "none", 0);
    mouse("mouseMoved", rest.0, rest.1, "none", 0);
    std::thread::sleep(Duration::from_millis(200));
    for clicks in [1, 2] {
        mouse("mousePressed", x, y, "left", clicks);
        mouse("mouseReleased", x, y, "left", clicks);
    }
    mouse("mousePressed", x, y, "right", 1);
    mouse("mouseReleased", x, y, "right", 1);
    browser.cdp("Emulation.setTouchEmulationEnabled", serde_json::json!({ "enabled": true }));
    let touch = |kind: &str, points: serde_json::Value| {
        browser.cdp("Input.dispatchTouchEvent", serde_json::json!({ "type": kind, "touchPoints": points }));
    };
    touch("touchStart", serde_json::json!([{ "x": x, "y": y }]));
    for step in 1..4 {
        std::thread::sleep(Duration::from_millis(60));
        // Downwards, where the mouse never went.
        touch("touchMove", serde_json::json!([{ "x": x, "y": y + f64::from(step) * 10.0 }]));
    }
    touch("touchEnd", serde_json::json!([]));
    browser.cdp("Emulation.setTouchEmulationEnabled", serde_json::json!({ "enabled": false }));

    // Inside a same-origin frame: a click (in the page's coordinates), typing, the frame's scroll.
    browser.wait_for(
        "document.getElementById('frame').contentDocument.getElementById('inner') !== null",
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_millis(300));
    // 50 and 20 pixels into the frame's content, past its 4-pixel border and 6-pixel padding.
    let corner =
        browser.execute("const r = document.getElementById('frame').getBoundingClientRect(); return [r.left, r.top];");
    let (fx, fy) = (corner[0].as_f64().unwrap() + 60.0, corner[1].as_f64().unwrap() + 30.0);
    mouse("mousePressed", fx, fy, "left", 1);
    mouse("mouseReleased", fx, fy, "left", 1);
    // The same click made by a script, without a `view`.
    browser.execute(
        "document.getElementById('frame').contentDocument.getElementById('inner')
           .dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: 50, clientY: 20 })); return true;",
    );
    browser.execute(
        "const doc = document.getElementById('frame').contentDocument; const input = doc.getElementById('inner-input');
         input.value = 'in the frame'; input.dispatchEvent(new Event('input', { bubbles: true }));
         doc.defaultView.scrollTo(0, 300); return true;",
    );

    // An element's scroll, a blur, the tab hidden and shown.
    browser.execute("document.getElementById('pane').scrollTop = 300; return true;");
    browser.execute("document.activeElement.blur(); show('hidden'); show('visible'); return true;");
    std::thread::sleep(Duration::from_millis(700));
    browser.execute("window.stopNow(); return true;");

    // Nothing after `stop()`.
    browser.click("#late");
    browser.execute("document.body.append('AFTER_STOP_MARKER'); window.flushNow(); return true;");

    // Wait for the last thing recorded (the tab shown again), and a moment more for anything
    // that should not have been.
    let http = Http::default();
    let read = || {
        let frames = stored_stream(&http, &collector, &session, 1);
        let batches: Vec<Batch> = frames.iter().map(|f| decode_batch(f, &Limits::default()).unwrap()).collect();
        (frames, batches)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, batches) = read();
        let shown =
            batches.iter().flat_map(|b| &b.events).any(|e| matches!(e.data, EventData::Visibility(v) if v.visible));
        if shown || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (frames, batches) = read();
    let events: Vec<&EventData> = batches.iter().flat_map(|b| &b.events).map(|e| &e.data).collect();
    let decoded = format!("{batches:?}");
    let raw: Vec<u8> = frames.concat();
    for secret in [
        "PIN_BEFORE",
        "PIN_AFTER",
        "UNMASKED_PASSWORD",
        "078-05-1120",
        "EDITABLE_START",
        "EDITED_TEXT",
        "ADVERT_MARKER",
    ] {
        assert!(!decoded.contains(secret), "{secret:?} was recorded");
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} is in the stored bytes");
    }

    let nodes = nodes_by_id(&batches);
    let last_input = |html_id: &str| last_input(&events, &nodes, html_id);
    assert_eq!((last_input("name").value.as_str(), last_input("name").masked), ("Jane Roe", false));
    let pin = last_input("pin");
    assert_eq!((pin.value.len(), pin.masked), ("PIN_BEFOREPIN_AFTER".len(), true), "still a password once shown");
    assert!(last_input("unmasked-password").masked);
    assert!(last_input("ssn").masked, "masked by the page's own selector");
    assert_eq!(last_input("plan").value, "pro");
    let ad = nodes
        .values()
        .find(|n| matches!(&n.kind, NodeKind::Element(e) if e.attrs.iter().any(|(k, v)| k == "class" && v == "ad")));
    assert!(ad.is_some_and(|ad| nodes.values().all(|n| n.parent != ad.id)), "blocked by the page's own selector");

    let (target, _) = element_with_id(&nodes, "target");
    let pointer = |kind: PointerKind| {
        events.iter().any(|e| matches!(e, EventData::Pointer(p) if p.kind == kind && p.target == target && p.x > 0))
    };
    for kind in [PointerKind::Click, PointerKind::DoubleClick, PointerKind::ContextMenu, PointerKind::TouchStart] {
        assert!(pointer(kind), "no {kind:?} on the target");
    }
    assert!(events.iter().any(|e| matches!(e, EventData::Pointer(p) if p.kind == PointerKind::TouchEnd)));
    let moves: Vec<(i32, i32)> = events
        .iter()
        .filter_map(|e| match e {
            EventData::MouseMove(m) => Some(m.points.iter().map(|p| (p.x, p.y))),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(moves.len() >= 4, "sampled mouse and touch moves: {moves:?}");
    let rested = (rest.0.round() as i32, rest.1.round() as i32);
    assert!(moves.contains(&rested), "where a fast move ended, {rested:?}: {moves:?}");
    assert!(moves.iter().any(|&(_, my)| f64::from(my) > y + 5.0), "the finger's moves too: {moves:?}");

    let (inner, _) = element_with_id(&nodes, "inner");
    let inner_clicks: Vec<(i32, i32)> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Pointer(p) if p.kind == PointerKind::Click && p.target == inner => Some((p.x, p.y)),
            _ => None,
        })
        .collect();
    let expected = (fx.round() as i32, fy.round() as i32);
    assert_eq!(inner_clicks, [expected, expected], "clicks in the frame, where they were in the page");
    assert_eq!(last_input("inner-input").value, "in the frame");
    let (frame, _) = element_with_id(&nodes, "frame");
    let frame_doc = nodes.values().find(|n| n.parent == frame && matches!(n.kind, NodeKind::Document(_)));
    let frame_doc = frame_doc.expect("the frame's document").id;
    assert!(
        events.iter().any(|e| matches!(e, EventData::Scroll(s) if s.target == frame_doc && s.y == 300)),
        "the frame's own scroll"
    );
    let (pane, _) = element_with_id(&nodes, "pane");
    assert!(events.iter().any(|e| matches!(e, EventData::Scroll(s) if s.target == pane && s.y == 300)));
    let (editor, _) = element_with_id(&nodes, "editor");
    assert!(events.iter().any(|e| matches!(e, EventData::Focus(f) if f.target == editor && !f.focused)), "the blur");
    let visibility: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Visibility(v) => Some(v.visible),
            _ => None,
        })
        .collect();
    assert_eq!(visibility, vec![false, true]);

    // Keyframes at the interval the page chose, each the whole page under the same node ids.
    let snapshots: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventData::Snapshot(s) => Some(s),
            _ => None,
        })
        .collect();
    assert!(snapshots.len() >= 2, "{} snapshots", snapshots.len());
    for snapshot in &snapshots {
        assert!(snapshot.nodes.iter().any(|n| n.id == target), "the target under its id in every keyframe");
    }
    let (late, _) = element_with_id(&nodes, "late");
    assert!(events.iter().all(|e| !matches!(e, EventData::Pointer(p) if p.target == late)), "a click after stop()");
    assert!(!decoded.contains("AFTER_STOP_MARKER"), "a change after stop()");
}
