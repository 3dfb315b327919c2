//! The replay is the page as the user saw it: a journey through the example app in headless
//! Chromium, and at several moments the live page's DOM is compared with the DOM the replay
//! core rebuilds from what the collector stored for that moment, and with the DOM of the
//! viewer's replay frame opened at that moment (`/sessions/{id}?t=…`).
//!
//! Both sides are written out the same way, after a normalisation for what the recorder
//! changes on purpose:
//! - form state (`value`, `checked`, `selected`, and a textarea's text, which the frame writes
//!   as its value) is left out: the recording holds it masked;
//! - text under `data-sl-mask` and in `contenteditable` is masked on the live side
//!   as the recorder masks it (every non-space character becomes `*`);
//! - a `data-sl-block` element keeps only its `id` and `class`, and nothing inside it;
//! - `<script>` contents, comments, `on*` and `srcdoc` attributes are left out;
//! - URL attributes are compared in absolute form;
//! - the recorder's and the replay's own `data-sl-*` attributes are left out (the top layer
//!   and hover they stand for are compared on their own: which dialogs are modal, which
//!   popovers open, how hovered elements are drawn).
//!
//! In the viewer's frame the page is inert, so for that comparison, on both sides, also:
//! `<noscript>` content is left out (the user's browser, which ran scripts, did not show it);
//! `<script>` elements, stylesheet elements (`<style>`, `<link rel=stylesheet>`: sheets recorded
//! as rules are shown as `<style>` elements of those rules; the comparison with the replay core
//! covers their content) and `<meta http-equiv>` are left out, and a blocked element is written
//! by its `id` and `class` alone (the frame draws it as a grey box of its size).
//!
//! Needs `npm/dist` and the example app's binary (`cargo xtask test` builds both), Chromium and
//! ChromeDriver.

use std::time::{Duration, Instant};

use sightline_e2e::sdk::{
    app_page, dist, open_page, recorded_session, session_of, start_collector, stored, storm_page, test_app, KEY, TOKEN,
};
use sightline_e2e::shop::Shop;
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::Http;
use sightline_player::{Replay, ReplayDom};
use sightline_protocol::NodeKind;

/// A document written out as `depth kind content` lines, normalised as the module says; the
/// script's two arguments are the document and whether to apply the viewer's normalisation.
const SERIALIZE: &str = r#"
const [doc, inert] = arguments;
const URLS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'background', 'cite']);
const FORM_STATE = new Set(['value', 'checked', 'selected']);
const lines = [];
const walk = (node, depth, masked) => {
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 3) {
      if (inert && child.parentNode.localName === 'style') continue;
      lines.push(`${depth} T ${masked ? child.data.replace(/\S/g, '*') : child.data}`);
    } else if (child.nodeType === 1) {
      const tag = child.localName;
      const sheet = tag === 'style' || (tag === 'link' && /(^|\s)stylesheet(\s|$)/i.test(child.getAttribute('rel') || ''));
      if (inert && (tag === 'script' || sheet || (tag === 'meta' && child.hasAttribute('http-equiv')))) continue;
      const blocked = child.hasAttribute('data-sl-block') || (inert && child.hasAttribute('data-sl-blocked'));
      const attrs = [...child.attributes]
        .filter((a) => !a.name.startsWith('on') && a.name !== 'srcdoc' && !FORM_STATE.has(a.name))
        .filter((a) => !blocked || a.name === 'id' || a.name === 'class')
        .filter((a) => !['data-sl-blocked', 'data-sl-scroll', 'data-sl-modal', 'data-sl-popover-open', 'data-sl-hover'].includes(a.name))
        .map((a) => `${a.name}=${URLS.has(a.name) ? new URL(a.value, doc.baseURI).href : a.value}`)
        .sort();
      lines.push(`${depth} E ${tag} ${attrs.join(' ')}`);
      const editable = child.getAttribute('contenteditable');
      const masks = masked || child.hasAttribute('data-sl-mask') || tag === 'textarea' || (editable !== null && editable !== 'false');
      // A textarea's text is its value: form state, which the frame writes as its content.
      const unmasked = masks && !child.hasAttribute('data-sl-unmask');
      if (child.shadowRoot && !blocked) {
        lines.push(`${depth + 1} S`);
        walk(child.shadowRoot, depth + 2, unmasked);
      }
      // A noscript's content is text nobody saw in a browser that ran scripts; the replay
      // shows none.
      const shown = !(inert && tag === 'noscript');
      if (!blocked && shown && tag !== 'script' && tag !== 'textarea') walk(child, depth + 1, unmasked);
    }
  }
};
walk(doc, 0, false);
return { at: Date.now(), lines: lines.slice(1) };
"#;

/// The replayed page written out like [`SERIALIZE`] writes a live one.
fn replay_lines(dom: &ReplayDom) -> Vec<String> {
    fn walk(dom: &ReplayDom, id: u32, depth: usize, lines: &mut Vec<String>) {
        for child in dom.children(id) {
            let Some(child_node) = dom.node(child) else { continue };
            match &child_node.kind {
                NodeKind::Text(text) => lines.push(format!("{depth} T {text}")),
                NodeKind::Element(element) => {
                    let mut attrs: Vec<String> = element
                        .attrs
                        .iter()
                        .filter(|(name, _)| {
                            !matches!(
                                name.as_str(),
                                "value"
                                    | "checked"
                                    | "selected"
                                    | "data-sl-blocked"
                                    | "data-sl-modal"
                                    | "data-sl-popover-open"
                            )
                        })
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    attrs.sort();
                    lines.push(format!("{depth} E {} {}", element.tag, attrs.join(" ")));
                    if element.tag != "textarea" {
                        walk(dom, child, depth + 1, lines);
                    }
                }
                _ => {}
            }
        }
    }
    let mut lines = Vec::new();
    if let Some(root) = dom.roots().next() {
        walk(dom, root, 0, &mut lines);
    }
    lines.into_iter().skip(1).collect()
}

/// The document `target` (a script expression) written out by [`SERIALIZE`]: the time and the
/// lines.
fn serialized(browser: &Browser, target: &str, inert: bool) -> (u64, Vec<String>) {
    let written = browser.execute(&format!("return (function () {{ {SERIALIZE} }})({target}, {inert});"));
    let lines = written["lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    (written["at"].as_u64().unwrap(), lines)
}

/// What of the document `target` is in the top layer: each dialog, modal or not, and each
/// popover, open or not.
fn top_layer(browser: &Browser, target: &str) -> Vec<String> {
    let script = format!(
        "const doc = {target}; const is = (e, s) => {{ try {{ return e.matches(s); }} catch (_) {{ return false; }} }}; \
         return [...doc.querySelectorAll('dialog')].map((d) => `dialog ${{d.id}} open=${{d.open}} modal=${{is(d, ':modal')}}`) \
           .concat([...doc.querySelectorAll('[popover]')].map((p) => `popover ${{p.id}} open=${{is(p, ':popover-open')}}`));"
    );
    let states = browser.execute(&script);
    states.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn assert_same(moment: &str, live: &[String], replayed: &[String]) {
    if live == replayed {
        return;
    }
    let at = live.iter().zip(replayed).position(|(a, b)| a != b).unwrap_or(live.len().min(replayed.len()));
    let window = |lines: &[String]| lines[at.saturating_sub(3)..(at + 3).min(lines.len())].join("\n");
    panic!(
        "{moment}: the replay differs from the live page at line {at} ({} live lines, {} replayed)\nlive:\n{}\nreplayed:\n{}",
        live.len(),
        replayed.len(),
        window(live),
        window(replayed)
    );
}

#[test]
fn the_replayed_dom_equals_the_live_dom_at_every_moment_checked() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, KEY);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", shop.base));
    browser.wait_for("window.sightlineReady && document.querySelector('button.send')", Duration::from_secs(20));
    let session =
        session_of(&browser.execute("return document.getElementById('session').textContent.split(' ').pop();"));

    // A moment is captured once the recorder has seen the page settle: its time, the page as
    // the replay core is compared with it, and as the viewer's frame is.
    let capture = |browser: &Browser| {
        std::thread::sleep(Duration::from_millis(400));
        let (at, lines) = serialized(browser, "document", false);
        let (_, mut inert) = serialized(browser, "document", true);
        inert.extend(top_layer(browser, "document"));
        (at, lines, inert)
    };
    let mut moments = vec![("invoices loaded", capture(&browser))];
    browser.click("#new-invoice");
    browser.type_into("#invoice-customer", "Soylent");
    let modal = capture(&browser);
    assert!(
        modal.2.iter().any(|l| l.contains("modal=true")),
        "the live page's dialog is modal: {:?}",
        &modal.2[modal.2.len() - 2..]
    );
    moments.push(("the modal open, typed into", modal));
    browser.click("#invoice-cancel");
    browser.click("a[href='/customers']");
    browser.wait_for("document.querySelectorAll('#customers tr').length === 3000", Duration::from_secs(10));
    moments.push(("3,000 customers", capture(&browser)));
    browser.type_into("#customer-filter", "lisbon");
    moments.push(("customers filtered", capture(&browser)));
    browser.click("a[href='/settings']");
    moments.push(("settings, with a blocked chart", capture(&browser)));
    browser.click("a[href='/checkout']");
    browser.type_into("#notes", "call me after five");
    moments.push(("the end: checkout, typed into", capture(&browser)));

    // The page is hidden as if left, and shown again as if restored from the back-forward
    // cache, until everything up to the last moment has arrived. Batches can arrive out of
    // order (a beacon overtakes a request in flight): the numbers must have no gap.
    let leave_and_come_back = "window.dispatchEvent(new Event('pagehide')); \
        window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })); return true;";
    browser.execute(leave_and_come_back);
    let http = Http::default();
    let last = moments.last().unwrap().1 .0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let replay = loop {
        let batches = stored(&http, &collector, &session, 1);
        let no_gap = batches.iter().enumerate().all(|(i, b)| b.seq as usize == i);
        let replay = Replay::new(&batches);
        if no_gap && replay.span().is_some_and(|(_, end)| end >= last - 400) {
            break replay;
        }
        assert!(Instant::now() < deadline, "the journey's last events did not arrive");
        browser.execute(leave_and_come_back);
        std::thread::sleep(Duration::from_millis(300));
    };
    for (moment, (at, live, _)) in &moments {
        assert!(live.len() > 50, "{moment}: the live page was captured ({} lines)", live.len());
        assert_same(moment, live, &replay_lines(&replay.dom_at(*at)));
    }

    // The same moments in the viewer, each opened from its link.
    sign_in(&browser, &collector);
    for (moment, (at, _, live)) in &moments {
        open_at(&browser, &collector, &session, *at);
        let frame = "document.getElementById('replay-frame').contentDocument";
        let (_, mut shown) = serialized(&browser, frame, true);
        shown.extend(top_layer(&browser, frame));
        assert!(shown.len() > 50, "{moment}: the viewer showed a page ({} lines)", shown.len());
        assert_same(&format!("{moment}, in the viewer"), live, &shown);
    }
}

/// Signs the browser in to the collector's viewer with the read token.
fn sign_in(browser: &Browser, collector: &sightline_e2e::Collector) {
    browser.navigate(&format!("{}/", collector.base));
    browser.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
}

/// Opens the session in the viewer at the moment `at` (ms since the epoch), once its first
/// page is shown.
fn open_at(browser: &Browser, collector: &sightline_e2e::Collector, session: &str, at: u64) {
    browser.navigate(&format!("{}/sessions/{session}?t={at}", collector.base));
    browser.wait_for("performance.getEntriesByName('sightline-first-frame').length > 0", Duration::from_secs(20));
}

/// Waits until the session holds, without a gap, everything recorded up to `last` (ms since
/// the epoch): the page is hidden as if left and shown again as if restored from the
/// back-forward cache, which sends what waits.
fn delivered_until(browser: &Browser, collector: &sightline_e2e::Collector, session: &str, last: u64) {
    let http = Http::default();
    let leave_and_come_back = "window.dispatchEvent(new Event('pagehide')); \
        window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })); return true;";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.execute(leave_and_come_back);
        let batches = stored(&http, collector, session, 1);
        let no_gap = batches.iter().enumerate().all(|(i, b)| b.seq as usize == i);
        if no_gap && Replay::new(&batches).span().is_some_and(|(_, end)| end >= last) {
            return;
        }
        assert!(Instant::now() < deadline, "the page's last events did not arrive");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The form controls of the document `target` (shadow roots included), in document order, with
/// their state: checks, the chosen option, and values as the recorder masks them (each
/// character an asterisk; the replay holds them masked already).
fn form_state(browser: &Browser, target: &str, replayed: bool) -> Vec<String> {
    let each = format!(
        "const tag = el.localName; const name = el.id || el.className || tag; \
         if (tag === 'input' && (el.type === 'checkbox' || el.type === 'radio')) out.push(`${{name}} checked=${{el.checked}}`); \
         else if (tag === 'input' || tag === 'textarea') out.push(`${{name}} value=${{{replayed} ? el.value : '*'.repeat(el.value.length)}}`); \
         else if (tag === 'select') out.push(`${{name}} chosen=${{el.selectedIndex}}`);"
    );
    element_lines(browser, target, &each)
}

/// The lines the script `each` pushes onto `out` for each element `el` of the document
/// `target`, shadow roots included, in document order.
fn element_lines(browser: &Browser, target: &str, each: &str) -> Vec<String> {
    let script = format!(
        "const out = []; \
         const visit = (root) => {{ for (const el of root.querySelectorAll('*')) {{ \
           if (el.shadowRoot) visit(el.shadowRoot); \
           {each} }} }}; \
         visit({target}); return out;"
    );
    let lines = browser.execute(&script);
    lines.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// How each todo's title is drawn (struck through when done), shadow roots included: the
/// styles in force, adopted sheets among them.
fn title_styles(browser: &Browser, target: &str) -> Vec<String> {
    let each = "if (el.localName === 'span' && el.parentElement && el.parentElement.localName === 'li') \
        out.push(`${el.textContent} drawn ${getComputedStyle(el).textDecorationLine}`);";
    element_lines(browser, target, each)
}

/// The same todo app built with React, Vue, Lit (in a shadow root) and jQuery (its list
/// re-rendered as HTML), driven by a user whose every step makes the framework set form state
/// from script: the field cleared after Enter, "toggle all" checked once every todo is, the
/// note reset, the filter set back after "clear done". At each step the viewer's frame, opened
/// at that moment, shows the live page's DOM and its form state.
#[test]
fn framework_apps_replay_with_the_form_state_the_frameworks_set() {
    let (collector, _data) = start_collector();
    let browser = Browser::start();
    for app in ["react", "vue", "lit", "jquery"] {
        let page = app_page(&collector.base, "");
        let site = StaticFiles::start(&dist(), vec![("/".into(), page), ("/app.js".into(), test_app(app))]);
        browser.navigate(&format!("{}/", site.base));
        let session = recorded_session(&browser);
        let root = if app == "lit" { "document.querySelector('todo-app').shadowRoot" } else { "document" };
        browser.wait_for(&format!("{root}?.getElementById('new')"), Duration::from_secs(10));
        let control = |query: &str| browser.element_from(&format!("return {root}.querySelector(\"{query}\");"));
        let capture = |browser: &Browser| {
            std::thread::sleep(Duration::from_millis(400));
            let (at, mut lines) = serialized(browser, "document", true);
            lines.extend(form_state(browser, "document", false));
            lines.extend(title_styles(browser, "document"));
            (at, lines)
        };

        let mut moments = Vec::new();
        browser.type_into_element(&control("#new"), "alpha\u{E007}");
        browser.type_into_element(&control("#new"), "beta\u{E007}");
        browser.type_into_element(&control("#new"), "gamma");
        moments.push(("two added, the field cleared by the app, one typed", capture(&browser)));
        browser.click_element(&control("#list li:nth-child(1) .toggle"));
        browser.click_element(&control("#list li:nth-child(2) .toggle"));
        let toggled = capture(&browser);
        assert!(toggled.1.contains(&"toggle-all checked=true".to_owned()), "{app}: {:?}", toggled.1);
        if app == "lit" {
            // Struck through by the sheet the shadow root adopted.
            assert!(toggled.1.contains(&"alpha drawn line-through".to_owned()), "{app}: {:?}", toggled.1);
        }
        moments.push(("both done by hand, toggle-all checked by the app", toggled));
        browser.type_into_element(&control("#note"), "a note");
        moments.push(("a note typed", capture(&browser)));
        browser.click_element(&control("#reset-note"));
        moments.push(("the note reset by the app", capture(&browser)));
        browser.click_element(&control("#filter option[value=done]"));
        moments.push(("the user chose a filter", capture(&browser)));
        let last = browser.execute("return Date.now();").as_u64().unwrap();
        browser.click_element(&control("#clear"));
        let cleared = capture(&browser);
        assert!(cleared.1.contains(&"filter chosen=0".to_owned()), "{app}: {:?}", cleared.1);
        moments.push(("cleared, the filter set back by the app", cleared));

        delivered_until(&browser, &collector, &session, last);

        sign_in(&browser, &collector);
        for (moment, (at, live)) in &moments {
            open_at(&browser, &collector, &session, *at);
            let frame = "document.getElementById('replay-frame').contentDocument";
            let (_, mut shown) = serialized(&browser, frame, true);
            shown.extend(form_state(&browser, frame, true));
            shown.extend(title_styles(&browser, frame));
            assert_same(&format!("{app}: {moment}, in the viewer"), live, &shown);
        }
    }
}

/// What else of the document `target` the user saw: its mode, and where each element was
/// scrolled to.
fn document_state(browser: &Browser, target: &str) -> Vec<String> {
    let script = format!(
        "const doc = {target}; const out = [`mode ${{doc.compatMode}}`]; \
         for (const el of doc.querySelectorAll('*')) if (el.scrollTop || el.scrollLeft) \
           out.push(`scrolled ${{el.localName}}#${{el.id}} ${{el.scrollLeft}} ${{el.scrollTop}}`); \
         return out;"
    );
    let states = browser.execute(&script);
    states.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// A page of the kind enterprise apps still serve: no doctype (quirks mode), Google Tag
/// Manager's noscript snippet, an inline SVG with its own `<style>`, a `<details>` the user
/// opens, a scrolled container and a table of 10,000 nodes filled by script. The viewer's
/// frame, opened at each moment, shows the live page: its DOM, mode and scroll positions.
#[test]
fn a_legacy_page_replays_in_its_mode_with_what_the_user_saw() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<html><head><title>Legacy</title><style>td {{ padding: 2px }}</style></head><body>
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<h1 id="title">Orders</h1>
<svg width="40" height="40"><style>circle {{ fill: #b3261e; }}</style><circle cx="20" cy="20" r="10"></circle></svg>
<details id="more"><summary id="summary">More</summary><p>Shipping notes</p></details>
<div id="scroller" style="height: 100px; overflow: auto"><div style="height: 1000px">A long list</div></div>
<table id="orders"></table>
<script type="module">
import {{ init, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.sessionUrl = getSessionUrl();
const rows = [];
for (let i = 0; i < 2000; i++) rows.push(`<tr><td>order ${{i}}</td><td>${{i * 7}} EUR</td></tr>`);
document.getElementById('orders').innerHTML = rows.join('');
window.filled = true;
</script>
</body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    browser.wait_for("window.filled", Duration::from_secs(10));
    let capture = |browser: &Browser| {
        std::thread::sleep(Duration::from_millis(400));
        let (at, mut lines) = serialized(browser, "document", true);
        lines.extend(document_state(browser, "document"));
        (at, lines)
    };
    let mut moments = vec![("loaded", capture(&browser))];
    assert!(moments[0].1 .1.contains(&"mode BackCompat".to_owned()), "the live page is in quirks mode");
    assert!(moments[0].1 .1.len() > 10_000, "10,000 nodes and more: {}", moments[0].1 .1.len());
    browser.click("#summary");
    browser.execute("document.getElementById('scroller').scrollTop = 300; return true;");
    moments.push(("details opened, the container scrolled", capture(&browser)));
    let last = browser.execute("return Date.now();").as_u64().unwrap();
    browser.execute(
        "for (const td of [...document.querySelectorAll('#orders td')].slice(0, 50)) td.textContent = 'paid'; return true;",
    );
    moments.push(("cells changed", capture(&browser)));

    delivered_until(&browser, &collector, &session, last);
    sign_in(&browser, &collector);
    for (moment, (at, live)) in &moments {
        open_at(&browser, &collector, &session, *at);
        let frame = "document.getElementById('replay-frame').contentDocument";
        let (_, mut shown) = serialized(&browser, frame, true);
        shown.extend(document_state(&browser, frame));
        assert_same(&format!("{moment}, in the viewer"), live, &shown);
    }
}

/// How the elements a test marks with `data-watch` (shadow roots included) are drawn: what
/// `:hover` rules change.
fn watched_styles(browser: &Browser, target: &str) -> Vec<String> {
    let each = "if (!el.hasAttribute('data-watch')) continue; const style = getComputedStyle(el); \
        out.push(`${el.getAttribute('data-watch')} display=${style.display} background=${style.backgroundColor} color=${style.color}`);";
    element_lines(browser, target, each)
}

/// A menu that opens on hover, rows highlighted on hover (in a media rule, a nested rule and a
/// sheet that adds rules by script), and a widget whose shadow root styles its hover by an
/// adopted sheet and `:host(:hover)`. The user's pointer moves over them; the viewer's frame,
/// opened at each moment, draws them as the live page did.
#[test]
fn hover_replays_as_the_user_saw_it() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><html><head><title>Hover</title><style>
body {{ margin: 0; font: 16px sans-serif; }}
.menu {{ position: absolute; left: 20px; top: 20px; width: 200px; }}
.menu button {{ width: 200px; height: 30px; }}
.items {{ display: none; margin: 0; padding: 0; background: rgb(255, 255, 255); }}
.menu:hover .items {{ display: block; }}
.items li {{ height: 30px; list-style: none; }}
@media (min-width: 1px) {{ .items li:hover {{ background: rgb(0, 128, 0); }} }}
.row {{ height: 30px; &:hover {{ color: rgb(255, 0, 0); }} }}
</style><style id="added"></style></head><body>
<nav class="menu" data-watch="menu"><button data-watch="button">Account</button>
<ul class="items" data-watch="items"><li data-watch="billing">Billing</li><li data-watch="sign-out">Sign out</li></ul></nav>
<div style="position: absolute; left: 300px; top: 20px; width: 200px">
<div class="row" data-watch="row-1">Row one</div><div class="row" data-watch="row-2">Row two</div></div>
<acme-widget style="position: absolute; left: 20px; top: 300px; display: block; width: 200px; height: 60px" data-watch="widget"></acme-widget>
<script type="module">
import {{ init, getSessionUrl }} from '/index.js';
document.getElementById('added').sheet.insertRule('.row:hover {{ background: rgb(0, 0, 255); }}');
class Widget extends HTMLElement {{
  constructor() {{
    super();
    const root = this.attachShadow({{ mode: 'open' }});
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(':host(:hover) {{ background: rgb(255, 255, 0); }} b:hover {{ color: rgb(0, 128, 128); }}');
    root.adoptedStyleSheets = [sheet];
    root.innerHTML = '<b data-watch="inner">Widget</b>';
  }}
}}
customElements.define('acme-widget', Widget);
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.sessionUrl = getSessionUrl();
</script>
</body></html>"#,
        collector.base
    );
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    let capture = |browser: &Browser, x: u32, y: u32| {
        browser.cdp("Input.dispatchMouseEvent", serde_json::json!({ "type": "mouseMoved", "x": x, "y": y }));
        std::thread::sleep(Duration::from_millis(400));
        let (at, _) = serialized(browser, "document", true);
        (at, watched_styles(browser, "document"))
    };
    // Each hover is asserted on the live page first, so that the comparison shows something.
    let mut moments = Vec::new();
    for (moment, x, y, hovered) in [
        ("nothing hovered", 560, 250, "items display=none background=rgb(255, 255, 255) color=rgb(0, 0, 0)"),
        (
            "the menu's button hovered: the menu open",
            60,
            35,
            "items display=block background=rgb(255, 255, 255) color=rgb(0, 0, 0)",
        ),
        (
            "an item of the open menu hovered",
            60,
            95,
            "sign-out display=list-item background=rgb(0, 128, 0) color=rgb(0, 0, 0)",
        ),
        (
            "a row hovered (a nested rule, a rule added by script)",
            320,
            65,
            "row-2 display=block background=rgb(0, 0, 255) color=rgb(255, 0, 0)",
        ),
        (
            "the widget's text hovered (its host too)",
            30,
            310,
            "inner display=inline background=rgba(0, 0, 0, 0) color=rgb(0, 128, 128)",
        ),
    ] {
        let (at, live) = capture(&browser, x, y);
        assert!(live.contains(&hovered.to_owned()), "{moment}: {live:?}");
        moments.push((moment, (at, live)));
    }
    assert!(moments[4]
        .1
         .1
        .contains(&"widget display=block background=rgb(255, 255, 0) color=rgb(0, 0, 0)".to_owned()));
    // Moves are recorded in groups of half a second, at the time of their first: the last
    // move starts a group of its own, so that the session is known to hold it.
    std::thread::sleep(Duration::from_millis(600));
    let last = browser.execute("return Date.now();").as_u64().unwrap();
    moments.push(("the pointer gone from all", capture(&browser, 560, 250)));
    delivered_until(&browser, &collector, &session, last);
    sign_in(&browser, &collector);
    for (moment, (at, live)) in &moments {
        open_at(&browser, &collector, &session, *at);
        let shown = watched_styles(&browser, "document.getElementById('replay-frame').contentDocument");
        assert_same(&format!("{moment}, in the viewer"), live, &shown);
    }
}

/// A same-origin frame (in quirks mode, inside a page in standards mode) whose list the user
/// scrolls and whose text and rows the page changes. The viewer's frame, opened at each moment,
/// shows the frame's document as it was: its DOM, mode and scroll positions. Played forward
/// from the first moment to the last, the frame's document is changed in place, never loaded
/// again, and ends as a link to the last moment shows it; a second frame added later gets its
/// document built in it when played on to it, and loads nothing of its own.
#[test]
fn a_frames_document_replays_in_place_with_what_the_user_saw() {
    let (collector, _data) = start_collector();
    let page = format!(
        r#"<!doctype html><html><head><title>Frames</title></head><body>
<h1>Account</h1>
<iframe id="inner" src="/inner" style="width: 400px; height: 200px"></iframe>
<script type="module">
import {{ init, getSessionUrl }} from '/index.js';
await new Promise((resolve) => document.getElementById('inner').contentDocument.readyState === 'complete' ? resolve() : document.getElementById('inner').addEventListener('load', resolve));
await init({{ endpoint: '{}', projectKey: '{KEY}' }});
window.sessionUrl = getSessionUrl();
</script></body></html>"#,
        collector.base
    );
    let rows: String = (0..30).map(|i| format!("<p>row {i}</p>")).collect();
    let inner = format!(
        r#"<html><head><title>Inner</title><style>p {{ margin: 2px }}</style></head><body>
<div id="list" style="height: 80px; overflow: auto">{rows}</div><p id="status">loading</p></body></html>"#
    );
    let second = "<!doctype html><p id=\"status\">second frame</p>".to_owned();
    let site =
        StaticFiles::start(&dist(), vec![("/".into(), page), ("/inner".into(), inner), ("/second".into(), second)]);
    let other_origin = StaticFiles::start(&dist(), vec![("/elsewhere".into(), "<p>another origin</p>".into())]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    let session = recorded_session(&browser);
    let live_inner = "document.getElementById('inner').contentDocument";
    let capture = |browser: &Browser| {
        std::thread::sleep(Duration::from_millis(400));
        let (at, mut lines) = serialized(browser, live_inner, true);
        lines.extend(document_state(browser, live_inner));
        (at, lines)
    };
    let mut moments = vec![("loaded", capture(&browser))];
    assert!(
        moments[0].1 .1.contains(&"mode BackCompat".to_owned()),
        "the frame is in quirks mode: {:?}",
        moments[0].1 .1
    );
    browser.execute(&format!(
        "const d = {live_inner}; d.getElementById('list').scrollTop = 120; d.getElementById('status').textContent = 'ready'; return true;"
    ));
    let scrolled = capture(&browser);
    assert!(scrolled.1.contains(&"scrolled div#list 0 120".to_owned()), "{:?}", scrolled.1);
    moments.push(("the list scrolled, the status changed", scrolled));
    browser.execute(&format!(
        "const d = {live_inner}; for (let i = 0; i < 3; i++) {{ const p = d.createElement('p'); p.textContent = `new ${{i}}`; d.getElementById('list').prepend(p); }} return true;"
    ));
    moments.push(("rows added", capture(&browser)));
    // A second frame, added after the first page's keyframe: its document arrives later still.
    browser.execute("const f = document.createElement('iframe'); f.id = 'second'; f.src = '/second'; document.body.append(f); return true;");
    let live_second = "document.getElementById('second').contentDocument";
    browser.wait_for(
        &format!("{live_second} && {live_second}.getElementById('status') !== null"),
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_millis(400));
    let (second_at, second_live) = serialized(&browser, live_second, true);
    // A third frame, of another origin: the blank document it is made with is recorded, then
    // goes when the frame loads a page the recorder can't read.
    let elsewhere = format!("{}/elsewhere", other_origin.base);
    browser.execute(&format!(
        "const f = document.createElement('iframe'); f.id = 'third'; f.src = '{elsewhere}'; document.body.append(f); return true;"
    ));
    browser.wait_for("document.getElementById('third').contentDocument === null", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(400));
    let third_at = browser.execute("return Date.now();").as_u64().unwrap();
    // A change after it, so that the session is known to hold everything before.
    let last =
        browser.execute("const now = Date.now(); document.body.dataset.done = '1'; return now;").as_u64().unwrap();

    delivered_until(&browser, &collector, &session, last);
    sign_in(&browser, &collector);
    let shown_inner = "document.getElementById('replay-frame').contentDocument.getElementById('inner').contentDocument";
    let show = |browser: &Browser| {
        let (_, mut shown) = serialized(browser, shown_inner, true);
        shown.extend(document_state(browser, shown_inner));
        shown
    };
    for (moment, (at, live)) in &moments {
        open_at(&browser, &collector, &session, *at);
        assert_same(&format!("{moment}, in the viewer"), live, &show(&browser));
    }

    // From the first moment, played forward to the last in steps of 100 ms.
    let start = Http::default().get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json()["start"]
        .as_u64()
        .unwrap();
    let (first, _) = &moments[0].1;
    let (final_at, final_live) = &moments[2].1;
    open_at(&browser, &collector, &session, *first);
    // Marks on the frame element and on an element of its document: neither is made anew.
    let shown_frame = "document.getElementById('replay-frame').contentDocument.getElementById('inner')";
    let shown_list = format!("{shown_inner}.getElementById('list')");
    browser.execute(&format!("{shown_frame}.playedThrough = true; {shown_list}.playedThrough = true; return true;"));
    browser.execute(&format!(
        "const t = document.getElementById('timeline'); \
         for (let at = {}; at <= {}; at += 100) {{ t.value = String(at); t.dispatchEvent(new Event('input')); }} \
         t.value = String({}); t.dispatchEvent(new Event('input')); return true;",
        first - start,
        final_at - start,
        final_at - start
    ));
    assert_eq!(
        browser.execute(&format!("return [{shown_frame}.playedThrough, {shown_list}.playedThrough];")),
        serde_json::json!([true, true]),
        "the frame and its document were changed in place, not made again"
    );
    assert_same("played forward to the rows added", final_live, &show(&browser));
    // Played on until the second frame's document is in: built in the frame, which loads
    // nothing of its own.
    browser.execute(&format!(
        "const t = document.getElementById('timeline'); t.value = String({}); t.dispatchEvent(new Event('input')); return true;",
        second_at - start
    ));
    let shown_second = "document.getElementById('replay-frame').contentDocument.getElementById('second')";
    assert_eq!(browser.execute(&format!("return {shown_second}.getAttribute('src');")), serde_json::Value::Null);
    let (_, shown) = serialized(&browser, &format!("{shown_second}.contentDocument"), true);
    assert_same("played forward to the second frame", &second_live, &shown);
    assert_eq!(browser.execute(&format!("return {shown_frame}.playedThrough;")), true, "the first frame stayed");
    // Played on past the third frame's load: it loads its own source, as it did for the user.
    browser.execute(&format!(
        "const t = document.getElementById('timeline'); t.value = String({}); t.dispatchEvent(new Event('input')); return true;",
        third_at - start
    ));
    let shown_third = "document.getElementById('replay-frame').contentDocument.getElementById('third')";
    assert_eq!(browser.execute(&format!("return {shown_third}.getAttribute('src');")), elsewhere.as_str());
}

/// A page whose storm of changes pauses diffing (6,000 nodes replaced every 20 ms, 60 times),
/// then settles; the app stops the SDK while the pause would last a second more. The viewer's
/// frame at the session's end shows the settled page, as the user last saw it.
#[test]
fn a_session_that_ends_inside_a_storm_replays_its_last_page() {
    let (collector, _data) = start_collector();
    let settled = r#"<table id="totals"><tr><td>Total</td><td>4,210 EUR</td></tr></table><p class="done">Settled</p>"#;
    let page = storm_page(&collector.base, settled, "");
    let (_site, browser) = open_page(page);
    let session = recorded_session(&browser);
    assert_eq!(browser.execute("return window.storm;"), true);
    let (_, live) = serialized(&browser, "document", true);
    let settled_at = browser.execute("return window.settledAt;").as_u64().expect("when the page settled");
    browser.execute("window.stopNow(); return true;");
    assert!(live.iter().any(|line| line.ends_with("T Settled")), "{live:?}");

    // Whatever records the settled page (the snapshot the stop takes, or a change diffed) is
    // timed no earlier than the settling; the page before the storm is.
    let http = Http::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Replay::new(&stored(&http, &collector, &session, 1)).span().is_none_or(|(_, end)| end < settled_at) {
        assert!(
            Instant::now() < deadline,
            "the session holds nothing of the moment it ended: the page before the storm"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let end = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json()["end"].as_u64().unwrap();
    sign_in(&browser, &collector);
    open_at(&browser, &collector, &session, end);
    let (_, shown) = serialized(&browser, "document.getElementById('replay-frame').contentDocument", true);
    assert_same("the session's end, in the viewer", &live, &shown);
}
