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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use sightline_protocol::{ErrorKind, EventData, NavigationKind, NodeKind, PointerKind};

use crate::naming::text_of;
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

/// Recorded answers the script carries at most, in bytes (bodies, calls and content types) and
/// in number: past them, calls go to the backend.
const MAX_ANSWER_BYTES: usize = 8 << 20;
const MAX_ANSWERS: usize = 2_000;
/// The script's own names, which a field's placeholder may not take.
const RESERVED: [&str; 6] = ["BASE", "RECORDED", "ASSERT", "CHROMIUM", "PATHOF", "FIELD"];
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
    answer_count: usize,
    failed: Vec<(String, String, u16)>,
    errors: Vec<String>,
    /// Each masked field's placeholder: its name, how many characters the user typed, and what
    /// stands in for them until filled in.
    placeholders: Vec<(String, usize, String)>,
    names: HashMap<u32, String>,
    /// The placeholder names given, for a new one to differ in constant time.
    taken: HashSet<String>,
    /// The field the last step fills, while keystrokes into it go on.
    filling: Option<u32>,
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
        let ReproFinder {
            dom,
            steps,
            origin,
            answers,
            answer_bytes,
            answer_count,
            failed,
            errors,
            placeholders,
            names,
            taken,
            filling,
        } = self;
        // Anything but typing ends the field's fill.
        if !matches!(data, EventData::Input(_)) && is_step(data) {
            *filling = None;
        }
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
            // What the page's script set, the page sets again when the script runs.
            EventData::Input(input) if input.scripted => {}
            EventData::Input(input) => {
                // Another keystroke into the field being filled: only the value changes.
                if let (Some((at, Step::Fill { value, .. })), Some(target)) = (steps.last_mut(), *filling) {
                    if target == input.target && input.checked.is_none() {
                        *at = time;
                        *value = typed_value(dom, input, names, taken, placeholders);
                        return;
                    }
                }
                let Some(field) = locator(dom, input.target) else { return };
                let value = typed_value(dom, input, names, taken, placeholders);
                let select = tag(dom, input.target).as_deref() == Some("select");
                let step = match (input.checked, select) {
                    (Some(checked), _) => Step::Check(field, checked),
                    (None, true) => Step::Choose { field, label: value },
                    (None, false) => Step::Fill { field, value },
                };
                *filling = matches!(step, Step::Fill { .. }).then_some(input.target);
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
                let key = format!("{} {path}", request.method);
                let weight = body.map_or(0, |b| b.len() + key.len() + 64);
                let room = *answer_bytes + weight <= MAX_ANSWER_BYTES && *answer_count < MAX_ANSWERS;
                // Only the page's own calls (its origin's paths): an answer is never a document or
                // a script from elsewhere.
                if let Some(body) = body.filter(|_| room && path.starts_with('/')) {
                    *answer_bytes += weight;
                    *answer_count += 1;
                    let content_type = request
                        .response
                        .iter()
                        .flat_map(|r| &r.headers)
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                        .map_or_else(String::new, |(_, value)| value.clone());
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

/// What a field's value is in the script: as recorded, or, where the recorder masked it, the
/// field's placeholder (noted with how much the user typed).
fn typed_value(
    dom: &ReplayDom,
    input: &sightline_protocol::Input,
    names: &mut HashMap<u32, String>,
    taken: &mut HashSet<String>,
    placeholders: &mut Vec<(String, usize, String)>,
) -> Value {
    if !input.masked {
        return Value::Text(input.value.clone());
    }
    let name = placeholder_name(dom, input.target, names, taken);
    let length = input.value.chars().count();
    placeholders.retain(|(n, ..)| *n != name);
    placeholders.push((name.clone(), length, stand_in(dom, input.target, length)));
    Value::Masked(name)
}

/// Whether an event can become a step of its own (typing aside).
fn is_step(data: &EventData) -> bool {
    match data {
        EventData::Navigation(nav) => matches!(nav.kind, NavigationKind::Load | NavigationKind::Pop),
        EventData::Pointer(p) => p.kind == PointerKind::Click,
        EventData::Key(_) | EventData::Scroll(_) => true,
        _ => false,
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
            if searched { all.iter().filter(|e| same(**e)).count() } else { 1 },
        )
    });
    if let Some((expression, 1)) = &by_role {
        return Some(format!("page.{expression}"));
    }
    // Not unique: within its row or list item, found by the text only it has.
    if let Some((expression, _)) = by_role.as_ref().filter(|_| searched) {
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
fn placeholder_name(dom: &ReplayDom, id: u32, names: &mut HashMap<u32, String>, taken: &mut HashSet<String>) -> String {
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
    // Names of the script's own stay its own.
    let base = match base.chars().next() {
        Some(c) if c.is_ascii_alphabetic() && !RESERVED.contains(&base) => base.to_owned(),
        _ => format!("FIELD_{base}"),
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
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
    let _ = writeln!(
        out,
        "  // CHROMIUM_NO_SANDBOX=1 where the browser's sandbox can't run (as root, in some containers)."
    );
    let _ = writeln!(out, "  const args = process.env.CHROMIUM_NO_SANDBOX ? ['--no-sandbox'] : [];");
    let _ = writeln!(
        out,
        "  const browser = await chromium.launch({{ executablePath: process.env.CHROMIUM || undefined, args }});"
    );
    let _ = writeln!(out, "  const page = await browser.newPage();");
    let _ = writeln!(out, "  const responses = [];");
    let _ = writeln!(out, "  const errors = [];");
    let _ = writeln!(out, "  page.on('response', (r) => responses.push({{ method: r.request().method(), path: pathOf(r.url()), status: r.status() }}));");
    let _ = writeln!(out, "  page.on('pageerror', (e) => errors.push(e.message));");
    let _ = writeln!(out, "  await page.route('**/*', (route) => {{");
    let _ = writeln!(out, "    const request = route.request();");
    let _ = writeln!(out, "    // Only the page's own calls: never a document, a script or a style.");
    let _ = writeln!(out, "    if (!['fetch', 'xhr'].includes(request.resourceType()) || !request.url().startsWith(BASE + '/')) return route.continue();");
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
            // Another site: where the user went, not something this script opens.
            Step::Visit(url) => format!("// The user went to another site here: {}", js(url)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{
        Batch, DocumentNode, Element, Event, HttpMessage, Input, Namespace, Navigation, Network, Node, Pointer,
        SessionId, Snapshot,
    };

    fn element(id: u32, parent: u32, tag: &str, attrs: &[(&str, &str)]) -> Node {
        let attrs = attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
        Node { id, parent, next: 0, kind: NodeKind::Element(Element { tag: tag.into(), attrs, ns: Namespace::Html }) }
    }

    #[test]
    fn what_the_recording_holds_stays_inside_strings_and_the_page_own_calls() {
        let hostile = "x\");require('child_process').exec('rm -rf ~');//";
        let snapshot = Snapshot {
            nodes: vec![
                Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
                element(2, 1, "body", &[]),
                element(3, 2, "button", &[("id", hostile)]),
                element(4, 2, "input", &[("id", "base")]),
            ],
        };
        let answer = |url: &str| {
            EventData::Network(Box::new(Network {
                method: "GET".into(),
                url: url.into(),
                status: 200,
                response: Some(HttpMessage {
                    headers: vec![("content-type".into(), "text/html".into())],
                    body: Some(sightline_protocol::Body { text: Some(hostile.into()), size: 10, truncated: false }),
                }),
                ..Default::default()
            }))
        };
        let load = |url: &str| {
            EventData::Navigation(Navigation { kind: NavigationKind::Load, url: url.into(), title: String::new() })
        };
        let typed = |value: &str| {
            EventData::Input(Input { target: 4, value: value.into(), checked: None, masked: true, scripted: false })
        };
        let mut events = vec![load("https://app.example/"), EventData::Snapshot(snapshot)];
        events.extend((1..=3).map(|n| typed(&"*".repeat(n))));
        events.push(EventData::Pointer(Pointer { kind: PointerKind::Click, target: 3, x: 1, y: 1 }));
        events.push(answer("https://app.example/api/me"));
        events.push(answer("https://evil.example/steal.js"));
        events.push(load("javascript:alert(1)"));
        let batch = Batch {
            project: "slk".into(),
            session: SessionId([1; 16]),
            page: 0,
            seq: 0,
            start: 1_000,
            sent: 2_000,
            events: events.into_iter().map(|data| Event { dt: 10, data }).collect(),
            trace_key: None,
        };
        let script = repro(&Replay::new(&[batch]), "s");
        assert!(!script.contains("');require"), "{script}");
        assert!(script.contains(r#"x\");require('child_process')"#), "escaped inside a string: {script}");
        assert!(script.contains("const FIELD_BASE = "), "the script's own names stay its own: {script}");
        assert_eq!(script.matches(".fill(").count(), 1, "three keystrokes, one fill: {script}");
        assert!(script.contains("\"GET /api/me\""), "{script}");
        assert!(!script.contains("evil.example/steal.js\": ["), "another site's answer is not served: {script}");
        assert!(script.contains("// The user went to another site here: \"javascript:alert(1)\""), "{script}");
        assert!(!script.contains("page.goto(\"javascript:"), "{script}");
    }
}
