//! A reproduction: what the user did on the page, as a Playwright script a developer runs to
//! see the failure on their own machine (`node repro.js`, with `playwright-core`).
//!
//! - Navigations, clicks, keys that act (Enter, Escape, shortcuts), checks, choices and typing, each on its element found the way a
//!   person would find it: its id, its `data-testid`, its role and name, or, when those are not
//!   unique, the same within its row or list item; never a chain of positions.
//! - Typing the recorder masked becomes a named placeholder at the top of the script, to fill in
//!   (from the environment, or edited); the script never holds what the user typed.
//! - The recorded gaps between actions (at most 3 s each).
//! - Calls whose answers were recorded are answered as recorded, so the failure reproduces even
//!   when the backend has moved on.
//! - At the end, what went wrong is asserted (each failed request's status, each uncaught
//!   error's message); a session without trouble asserts there is none.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use sightline_protocol::{ErrorKind, EventData, NavigationKind, NodeKind, PointerKind};

use crate::facts::text_of;
use crate::{Replay, ReplayDom};

/// The longest wait the script keeps of a pause in the recording.
const MAX_WAIT_MS: u64 = 3_000;

/// One thing the script does.
enum Step {
    Visit(String),
    Back,
    Click(String),
    Fill {
        field: String,
        value: Value,
    },
    Check(String, bool),
    /// A key pressed on an element, or on the page (`None`), as Playwright names it.
    Press(Option<String>, String),
    Choose {
        field: String,
        label: Value,
    },
    Scroll(i32, i32),
}

/// A value typed or chosen: as recorded, or a placeholder for what the recorder masked.
enum Value {
    Text(String),
    Masked(String),
}

/// A recorded answer the script gives in place of the backend.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

/// Recorded answers the script carries at most, in bytes of body: past them, calls go to the
/// backend.
const MAX_ANSWER_BYTES: usize = 8 << 20;
/// Steps the script takes at most.
const MAX_STEPS: usize = 2_000;
/// Pages with more elements than this are not searched for what makes an element unique (that
/// search costs the page's size for each step): their elements are found by id, test id or
/// role and name as they are.
const MAX_SEARCHED: usize = 20_000;

/// The script reproducing `replay`, for the session `session`.
pub fn repro(replay: &Replay, session: &str) -> String {
    let mut finder = ReproFinder::default();
    for (time, _page, data) in replay.events() {
        finder.push(*time, data);
    }
    finder.finish(session)
}

/// Builds the script one event at a time, in the session's order, in bounded memory.
#[derive(Default)]
pub struct ReproFinder {
    dom: ReplayDom,
    steps: Vec<(u64, Step)>,
    origin: String,
    answers: BTreeMap<String, Vec<Answer>>,
    answer_bytes: usize,
    failed: Vec<(String, String, u16)>,
    errors: Vec<String>,
    /// Each masked field's placeholder: its name, how many characters the user typed, and what
    /// stands in for them until filled in.
    placeholders: Vec<(String, usize, String)>,
    names: HashMap<u32, String>,
}

impl ReproFinder {
    /// Takes the next event of the recording.
    pub fn push(&mut self, time: u64, data: &EventData) {
        if self.steps.len() < MAX_STEPS {
            self.step(time, data);
        }
        self.dom.apply(data);
    }

    fn step(&mut self, time: u64, data: &EventData) {
        let ReproFinder { dom, steps, origin, answers, answer_bytes, failed, errors, placeholders, names } = self;
        match data {
            EventData::Navigation(nav) if nav.kind == NavigationKind::Load => {
                if origin.is_empty() {
                    *origin = origin_of(&nav.url).to_owned();
                }
                steps.push((time, Step::Visit(relative(&nav.url, origin))));
            }
            EventData::Navigation(nav) if nav.kind == NavigationKind::Pop => steps.push((time, Step::Back)),
            EventData::Pointer(p) if p.kind == PointerKind::Click => {
                if let Some(locator) = locator(dom, p.target) {
                    steps.push((time, Step::Click(locator)));
                }
            }
            EventData::Input(input) => {
                let Some(field) = locator(dom, input.target) else { return };
                let value = if input.masked {
                    let name = placeholder_name(dom, input.target, names);
                    let length = input.value.chars().count();
                    placeholders.retain(|(n, ..)| *n != name);
                    placeholders.push((name.clone(), length, stand_in(dom, input.target, length)));
                    Value::Masked(name)
                } else {
                    Value::Text(input.value.clone())
                };
                let select = tag(dom, input.target).as_deref() == Some("select");
                let step = match (input.checked, select) {
                    (Some(checked), _) => Step::Check(field, checked),
                    (None, true) => Step::Choose { field, label: value },
                    (None, false) => Step::Fill { field, value },
                };
                // Keystrokes into one field are one fill, of the last value.
                if let (Some((_, Step::Fill { field: last, .. })), Step::Fill { field, .. }) = (steps.last(), &step) {
                    if last == field {
                        steps.pop();
                    }
                }
                steps.push((time, step));
            }
            EventData::Key(key) => {
                let name = match key.key.as_str() {
                    " " => "Space".to_owned(),
                    k => k.to_owned(),
                };
                let held: String = [(1, "Control+"), (2, "Alt+"), (4, "Shift+"), (8, "Meta+")]
                    .iter()
                    .filter(|(bit, _)| key.modifiers & bit != 0)
                    .map(|(_, name)| *name)
                    .collect();
                let on_page = matches!(tag(dom, key.target).as_deref(), None | Some("body" | "html"));
                let target = if on_page { None } else { locator(dom, key.target) };
                steps.push((time, Step::Press(target, format!("{held}{name}"))));
            }
            EventData::Scroll(scroll) if dom.roots().next() == Some(scroll.target) => {
                steps.push((time, Step::Scroll(scroll.x, scroll.y)))
            }
            EventData::Network(request) => {
                let path = relative(&request.url, origin);
                let body = request.response.as_ref().and_then(|r| r.body.as_ref()).and_then(|b| b.text.as_ref());
                if let Some(body) = body.filter(|b| *answer_bytes + b.len() <= MAX_ANSWER_BYTES) {
                    *answer_bytes += body.len();
                    let content_type = request
                        .response
                        .iter()
                        .flat_map(|r| &r.headers)
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                        .map_or_else(String::new, |(_, value)| value.clone());
                    let key = format!("{} {path}", request.method);
                    answers.entry(key).or_default().push(Answer {
                        status: request.status,
                        content_type,
                        body: body.clone(),
                    });
                }
                if request.failed() && request.status != 0 && failed.len() < 20 {
                    failed.push((request.method.clone(), path, request.status));
                }
            }
            EventData::Error(error) if error.kind == ErrorKind::Uncaught && errors.len() < 20 => {
                errors.push(error.message.clone());
            }
            _ => {}
        }
    }

    /// The script, for the session `session`.
    pub fn finish(self, session: &str) -> String {
        write_script(session, &self.origin, &self.steps, &self.answers, &self.failed, &self.errors, &self.placeholders)
    }
}

/// A JavaScript string literal.
fn js(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn origin_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) => &url[..scheme.len() + 3 + rest.find('/').unwrap_or(rest.len())],
        None => "",
    }
}

/// A URL of the page's own origin as its path, else as it is.
fn relative(url: &str, origin: &str) -> String {
    match url.strip_prefix(origin) {
        Some(path) if !origin.is_empty() && (path.is_empty() || path.starts_with('/')) => {
            if path.is_empty() {
                "/".into()
            } else {
                path.into()
            }
        }
        _ => url.into(),
    }
}

fn attribute<'a>(dom: &'a ReplayDom, id: u32, name: &str) -> Option<&'a str> {
    match &dom.node(id)?.kind {
        NodeKind::Element(e) => e.attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()),
        _ => None,
    }
}

fn tag(dom: &ReplayDom, id: u32) -> Option<String> {
    match &dom.node(id)?.kind {
        NodeKind::Element(e) => Some(e.tag.to_ascii_lowercase()),
        _ => None,
    }
}

/// The role Playwright finds an element by, and its accessible name, when it has both.
fn role_and_name(dom: &ReplayDom, id: u32) -> Option<(&'static str, String)> {
    let tag = tag(dom, id)?;
    let kind = attribute(dom, id, "type").unwrap_or("").to_ascii_lowercase();
    let role = match (tag.as_str(), kind.as_str()) {
        ("button", _) | ("input", "submit" | "button" | "reset") => "button",
        ("a", _) if attribute(dom, id, "href").is_some() => "link",
        ("input", "checkbox") => "checkbox",
        ("input", "radio") => "radio",
        _ => return None,
    };
    let name = attribute(dom, id, "aria-label")
        .map(str::to_owned)
        .or_else(|| (tag == "input").then(|| attribute(dom, id, "value").map(str::to_owned)).flatten())
        .unwrap_or_else(|| text_of(dom, id, 80));
    (!name.is_empty()).then_some((role, name))
}

/// Every element of the page, in tree order.
fn elements(dom: &ReplayDom) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<u32> = dom.roots().collect();
    stack.reverse();
    while let Some(id) = stack.pop() {
        if matches!(dom.node(id).map(|n| &n.kind), Some(NodeKind::Element(_))) {
            out.push(id);
        }
        let at = stack.len();
        stack.extend(dom.children(id));
        stack[at..].reverse();
    }
    out
}

/// An id that names the element for good: not one a framework numbers.
fn stable_id(id: &str) -> bool {
    !id.is_empty() && !id.chars().any(|c| c.is_ascii_digit() && id.len() > 12) && !id.starts_with(':')
}

/// How the script finds element `id`, as a Playwright locator expression on `page`.
fn locator(dom: &ReplayDom, id: u32) -> Option<String> {
    tag(dom, id)?;
    let all = elements(dom);
    let searched = all.len() <= MAX_SEARCHED;
    let unique = |test: &dyn Fn(u32) -> bool| !searched || all.iter().filter(|e| test(**e)).count() == 1;
    if let Some(own) = attribute(dom, id, "id").filter(|v| stable_id(v)) {
        if unique(&|e| attribute(dom, e, "id") == Some(own)) {
            let plain = own.starts_with(|c: char| c.is_ascii_alphabetic())
                && own.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let css = if plain { format!("#{own}") } else { format!("[id={}]", js(own)) };
            return Some(format!("page.locator({})", js(&css)));
        }
    }
    if let Some(test) = attribute(dom, id, "data-testid") {
        if unique(&|e| attribute(dom, e, "data-testid") == Some(test)) {
            return Some(format!("page.getByTestId({})", js(test)));
        }
    }
    if let Some(name) = ["name"].iter().find_map(|n| attribute(dom, id, n)) {
        let tag = tag(dom, id)?;
        if matches!(tag.as_str(), "input" | "select" | "textarea")
            && unique(&|e| attribute(dom, e, "name") == Some(name))
        {
            return Some(format!("page.locator({})", js(&format!("{tag}[name={}]", js(name)))));
        }
    }
    let by_role = role_and_name(dom, id).map(|(role, name)| {
        let same = |e: u32| role_and_name(dom, e).is_some_and(|(r, n)| r == role && n == name);
        (
            format!("getByRole({}, {{ name: {}, exact: true }})", js(role), js(&name)),
            all.iter().filter(|e| same(**e)).count(),
        )
    });
    if let Some((expression, 1)) = &by_role {
        return Some(format!("page.{expression}"));
    }
    // Not unique: within its row or list item, found by the text only it has.
    if let Some((expression, _)) = &by_role {
        let mut at = dom.node(id)?.parent;
        while let Some(container) = tag(dom, at) {
            if matches!(container.as_str(), "tr" | "li") {
                let first = first_text(dom, at);
                let rows_with_it = all
                    .iter()
                    .filter(|e| {
                        tag(dom, **e).as_deref() == Some(container.as_str()) && text_of(dom, **e, 400).contains(&first)
                    })
                    .count();
                if !first.is_empty() && rows_with_it == 1 {
                    return Some(format!(
                        "page.locator({}, {{ hasText: {} }}).{expression}",
                        js(&container),
                        js(&first)
                    ));
                }
                break;
            }
            at = dom.node(at)?.parent;
        }
    }
    // By its own text, when that is unique.
    let text = text_of(dom, id, 80);
    if !text.is_empty() && unique(&|e| text_of(dom, e, 80) == text && tag(dom, e) == tag(dom, id)) {
        return Some(format!("page.locator({}, {{ hasText: {} }})", js(&tag(dom, id)?), js(&text)));
    }
    by_role.map(|(expression, _)| format!("page.{expression}.first()"))
}

/// The first non-blank text under `id`: a row's first cell, an item's title.
fn first_text(dom: &ReplayDom, id: u32) -> String {
    let mut stack = vec![id];
    while let Some(at) = stack.pop() {
        match dom.node(at).map(|n| &n.kind) {
            Some(NodeKind::Text(text)) if !text.trim().is_empty() => return text.trim().to_owned(),
            _ => {}
        }
        let first = stack.len();
        stack.extend(dom.children(at));
        stack[first..].reverse();
    }
    String::new()
}

/// What stands in for a masked value until the developer fills it in: something the field
/// takes (a number field refuses words), else a note of what is missing.
fn stand_in(dom: &ReplayDom, id: u32, length: usize) -> String {
    let kind = attribute(dom, id, "type").unwrap_or("text").to_ascii_lowercase();
    match kind.as_str() {
        "number" | "range" => "1".into(),
        "date" => "2000-01-01".into(),
        "time" => "12:00".into(),
        "datetime-local" => "2000-01-01T12:00".into(),
        "month" => "2000-01".into(),
        "week" => "2000-W01".into(),
        "color" => "#000000".into(),
        "email" => "someone@example.com".into(),
        "url" => "https://example.com/".into(),
        _ => format!("<{length} characters, masked in the recording>"),
    }
}

/// A placeholder's name from its field: `LOGIN_EMAIL` for `#login-email`; each field has one,
/// and no two fields the same.
fn placeholder_name(dom: &ReplayDom, id: u32, names: &mut HashMap<u32, String>) -> String {
    if let Some(name) = names.get(&id) {
        return name.clone();
    }
    let base: String = ["id", "name", "aria-label", "placeholder"]
        .iter()
        .find_map(|n| attribute(dom, id, n))
        .unwrap_or("field")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    let base = base.trim_matches('_');
    let base = match base.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => base.to_owned(),
        _ => format!("FIELD_{base}"),
    };
    let mut name = base.clone();
    for n in 2.. {
        if !names.values().any(|taken| *taken == name) {
            break;
        }
        name = format!("{base}_{n}");
    }
    names.insert(id, name.clone());
    name
}

fn write_script(
    session: &str,
    origin: &str,
    steps: &[(u64, Step)],
    answers: &BTreeMap<String, Vec<Answer>>,
    failed: &[(String, String, u16)],
    errors: &[String],
    placeholders: &[(String, usize, String)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// What the user did in Sightline session {session}, replayed with Playwright.");
    let _ = writeln!(out, "// Run it with playwright-core installed (`npm i playwright-core`): `node repro.js`.");
    let _ = writeln!(out, "// SIGHTLINE_BASE_URL runs it against another copy of the site; CHROMIUM names a browser.");
    let _ = writeln!(out, "'use strict';");
    let _ = writeln!(out, "const assert = require('node:assert');");
    let _ = writeln!(out, "const {{ chromium }} = require('playwright-core');\n");
    let _ = writeln!(out, "const BASE = process.env.SIGHTLINE_BASE_URL || {};", js(origin));
    if !placeholders.is_empty() {
        let _ = writeln!(
            out,
            "// What the recording masked: set these (or edit them here) to what the user would have typed."
        );
        for (name, length, stand_in) in placeholders {
            let _ = writeln!(out, "const {name} = process.env.{name} ?? {}; // {length} characters", js(stand_in));
        }
    }
    let _ = writeln!(
        out,
        "\n// Answers as the user's browser got them, so the failure shows even if the backend has changed."
    );
    let _ = writeln!(out, "const RECORDED = {{");
    for (key, list) in answers {
        let _ = writeln!(out, "  {}: [", js(key));
        for answer in list {
            let _ = writeln!(
                out,
                "    {{ status: {}, contentType: {}, body: {} }},",
                answer.status,
                js(&answer.content_type),
                js(&answer.body)
            );
        }
        let _ = writeln!(out, "  ],");
    }
    let _ = writeln!(out, "}};\n");
    let _ = writeln!(out, "const pathOf = (url) => (url.startsWith(BASE) ? url.slice(BASE.length) || '/' : url);\n");
    let _ = writeln!(out, "(async () => {{");
    let _ = writeln!(out, "  const browser = await chromium.launch({{ executablePath: process.env.CHROMIUM || undefined, args: ['--no-sandbox'] }});");
    let _ = writeln!(out, "  const page = await browser.newPage();");
    let _ = writeln!(out, "  const responses = [];");
    let _ = writeln!(out, "  const errors = [];");
    let _ = writeln!(out, "  page.on('response', (r) => responses.push({{ method: r.request().method(), path: pathOf(r.url()), status: r.status() }}));");
    let _ = writeln!(out, "  page.on('pageerror', (e) => errors.push(e.message));");
    let _ = writeln!(out, "  await page.route('**/*', (route) => {{");
    let _ = writeln!(out, "    const request = route.request();");
    let _ = writeln!(out, "    const queue = RECORDED[`${{request.method()}} ${{pathOf(request.url())}}`];");
    let _ = writeln!(out, "    if (!queue || queue.length === 0) return route.continue();");
    let _ = writeln!(out, "    const answer = queue.length > 1 ? queue.shift() : queue[0];");
    let _ = writeln!(out, "    return route.fulfill({{ status: answer.status, contentType: answer.contentType || undefined, body: answer.body }});");
    let _ = writeln!(out, "  }});");
    let _ = writeln!(out, "  try {{");
    let mut last = None;
    for (time, step) in steps {
        if let Some(before) = last {
            let gap = time.saturating_sub(before).min(MAX_WAIT_MS);
            if gap >= 50 {
                let _ = writeln!(out, "    await page.waitForTimeout({gap});");
            }
        }
        last = Some(*time);
        let value = |value: &Value| match value {
            Value::Text(text) => js(text),
            Value::Masked(name) => name.clone(),
        };
        let line = match step {
            Step::Visit(path) if path.starts_with('/') => format!("await page.goto(BASE + {});", js(path)),
            Step::Visit(url) => format!("await page.goto({});", js(url)),
            Step::Back => "await page.goBack();".into(),
            Step::Click(locator) => format!("await {locator}.click();"),
            Step::Fill { field, value: v } => format!("await {field}.fill({});", value(v)),
            Step::Check(field, checked) => format!("await {field}.setChecked({checked});"),
            Step::Press(Some(field), keys) => format!("await {field}.press({});", js(keys)),
            Step::Press(None, keys) => format!("await page.keyboard.press({});", js(keys)),
            Step::Choose { field, label } => format!("await {field}.selectOption({{ label: {} }});", value(label)),
            Step::Scroll(x, y) => format!("await page.evaluate(() => window.scrollTo({x}, {y}));"),
        };
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out, "    await page.waitForTimeout(1000);\n");
    if failed.is_empty() && errors.is_empty() {
        let _ = writeln!(out, "    // The user met no trouble; neither should this run.");
        let _ = writeln!(
            out,
            "    assert.deepStrictEqual(responses.filter((r) => r.status >= 500), [], 'no request failed');"
        );
        let _ = writeln!(out, "    assert.deepStrictEqual(errors, [], 'no error was thrown');");
    } else {
        let _ = writeln!(out, "    // What went wrong for the user goes wrong again.");
        for (method, path, status) in failed {
            let _ = writeln!(
                out,
                "    assert.ok(responses.some((r) => r.method === {} && r.path === {} && r.status === {status}), {});",
                js(method),
                js(path),
                js(&format!("{method} {path} answered {status}"))
            );
        }
        for message in errors {
            let _ = writeln!(
                out,
                "    assert.ok(errors.some((m) => m.includes({})), {});",
                js(message),
                js(&format!("the page threw: {message}"))
            );
        }
    }
    let _ = writeln!(out, "    console.log('reproduced');");
    let _ = writeln!(out, "  }} finally {{");
    let _ = writeln!(out, "    await browser.close();");
    let _ = writeln!(out, "  }}");
    let _ = writeln!(out, "}})().catch((error) => {{");
    let _ = writeln!(out, "  console.error(error);");
    let _ = writeln!(out, "  process.exitCode = 1;");
    let _ = writeln!(out, "}});");
    out
}
