//! The facts next to the replay: what the user did, every request, every console message and
//! error, each at its moment, in one pass over the session that keeps the page current so a
//! click can name what it landed on.

use serde::Serialize;
use sightline_protocol::{ConsoleLevel, ErrorKind, EventData, NavigationKind, NodeKind, PointerKind};

use crate::alerts::ShownErrors;
use crate::naming::{describe, text_of};
use crate::{Replay, ReplayDom};

/// Which side panel a fact belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Panel {
    /// Clicks, inputs, navigations, application events.
    Activity,
    /// Requests.
    Network,
    /// Console output and errors.
    Console,
}

/// One line of a side panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// When, in ms since the epoch.
    pub time: u64,
    /// Which panel.
    pub panel: Panel,
    /// A short kind: `click`, `input`, `navigation`, `custom`, `request`, `log`, `warn`,
    /// `error`, …
    pub kind: &'static str,
    /// The line as a support engineer reads it.
    pub summary: String,
    /// More, shown when the line is opened: a stack, headers and bodies.
    pub detail: String,
    /// Whether it went wrong: a JS error, a failed request, a console error.
    pub problem: bool,
    /// The request's trace id, to find the backend's logs of it.
    pub trace: Option<String>,
    /// A request's parts, for the network panel to lay out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestParts>,
}

/// A recorded request as the network panel lays it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestParts {
    /// HTTP method.
    pub method: String,
    /// The URL, as recorded (credentials redacted).
    pub url: String,
    /// HTTP status; 0 when no response arrived.
    pub status: u16,
    /// How long it took, in ms.
    pub duration: u32,
    /// Why it failed, when it did without a status.
    pub error: Option<String>,
    /// What was sent, for URLs the page allowed.
    pub sent: Option<MessageParts>,
    /// What came back, likewise.
    pub received: Option<MessageParts>,
}

/// Headers and body of one side of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageParts {
    /// Name and value pairs, as recorded (credential-like values redacted).
    pub headers: Vec<(String, String)>,
    /// The body's text, if it was captured as text.
    pub body: Option<String>,
    /// The body's full size in bytes.
    pub size: u64,
    /// Whether the text was cut at the recorder's cap.
    pub truncated: bool,
}

/// Lines a [`FactFinder`] keeps at most (a line holds the event's text), so that its memory is
/// bounded whatever the recording holds; past them, later events make no lines.
pub const MAX_FACTS: usize = 200_000;

/// Every fact of a replay, in time order.
pub fn facts(replay: &Replay) -> Vec<Fact> {
    let mut finder = FactFinder::default();
    for (time, _page, data) in replay.events() {
        finder.push(*time, data);
    }
    finder.finish()
}

/// Finds the facts of a recording fed to it one event at a time, in recorded order (see
/// [`SignalFinder`](crate::signals::SignalFinder)).
#[derive(Default)]
pub struct FactFinder {
    dom: ReplayDom,
    /// The lines so far; a field's earlier typing line is taken out (`None`) when the next
    /// keystroke replaces it.
    out: Vec<Option<Fact>>,
    /// Keystrokes into one field read as one line with the latest value, until the user does
    /// something else (requests and console output meanwhile don't end the typing): the field
    /// being typed into and its line.
    typing: Option<(u32, usize)>,
    /// Failures the page showed in its alerts.
    alerts: ShownErrors,
}

impl FactFinder {
    /// Takes the next event of the recording.
    pub fn push(&mut self, time: u64, data: &EventData) {
        let FactFinder { dom, out, typing, alerts } = self;
        let lines = out.len();
        // The parents a change's removals empty, read before it removes them.
        let removed_from: Vec<u32> = match data {
            EventData::Mutation(m) => m.removes.iter().filter_map(|id| dom.node(*id).map(|n| n.parent)).collect(),
            _ => Vec::new(),
        };
        dom.apply(data);
        if let EventData::Snapshot(snapshot) = data {
            alerts.snapshot(dom, snapshot);
        }
        if lines >= MAX_FACTS {
            return;
        }
        let fact = |panel, kind, summary: String, detail: String, problem| Fact {
            time,
            panel,
            kind,
            summary,
            detail,
            problem,
            trace: None,
            request: None,
        };
        match data {
            EventData::Pointer(p)
                if matches!(p.kind, PointerKind::Click | PointerKind::DoubleClick | PointerKind::ContextMenu) =>
            {
                let kind = match p.kind {
                    PointerKind::DoubleClick => "double click",
                    PointerKind::ContextMenu => "context click",
                    _ => "click",
                };
                out.push(Some(fact(
                    Panel::Activity,
                    kind,
                    format!("{} {}", capitalised(kind), describe(dom, p.target)),
                    String::new(),
                    false,
                )));
            }
            EventData::Key(key) => {
                let name = match key.key.as_str() {
                    " " => "Space".to_owned(),
                    k if k.chars().count() == 1 => k.to_uppercase(),
                    k => k.to_owned(),
                };
                let held: String = [(1, "Ctrl+"), (2, "Alt+"), (4, "Shift+"), (8, "Meta+")]
                    .iter()
                    .filter(|(bit, _)| key.modifiers & bit != 0)
                    .map(|(_, name)| *name)
                    .collect();
                // Pressed on the page itself rather than in a field or on a control.
                let on_page = key.target == 0
                    || match dom.node(key.target).map(|n| &n.kind) {
                        Some(NodeKind::Element(e)) => matches!(e.tag.to_ascii_lowercase().as_str(), "body" | "html"),
                        Some(NodeKind::Document(_)) => true,
                        _ => false,
                    };
                let summary = if on_page {
                    format!("Pressed {held}{name}")
                } else {
                    format!("Pressed {held}{name} in {}", describe(dom, key.target))
                };
                out.push(Some(fact(Panel::Activity, "key", summary, String::new(), false)));
            }
            EventData::Submit(submit) => {
                let summary = format!("Submitted {}", describe(dom, submit.target));
                out.push(Some(fact(Panel::Activity, "submit", summary, String::new(), false)));
            }
            // The page's script set it (a field cleared after Enter): replayed, but no step of
            // the user's.
            EventData::Input(input) if input.scripted => return,
            EventData::Input(input) => {
                let target = describe(dom, input.target);
                let select =
                    matches!(dom.node(input.target).map(|n| &n.kind), Some(NodeKind::Element(e)) if e.tag == "select");
                let summary = match input.checked {
                    Some(true) => format!("Checked {target}"),
                    Some(false) => format!("Unchecked {target}"),
                    // Named by the option's label; a masked value names none, until the options'
                    // `selected` attributes that follow it tell which.
                    None if select => match chosen_label(dom, input.target, (!input.masked).then_some(&input.value)) {
                        Some(label) => format!("Chose \"{label}\" in {target}"),
                        None if input.masked => format!("Chose an option in {target}"),
                        None => format!("Chose \"{}\" in {target}", input.value),
                    },
                    // What the recorder masked is no text to quote: only how much was typed.
                    None if input.masked => {
                        let typed = input.value.chars().count();
                        format!("Typed {typed} character{} (masked) into {target}", if typed == 1 { "" } else { "s" })
                    }
                    None => format!("Typed into {target}: \"{}\"", input.value),
                };
                let line = fact(Panel::Activity, "input", summary, String::new(), false);
                // Only network and console lines can follow the field's line, so moving it to the
                // end keeps the lines in time order.
                if let Some((_, at)) = typing.filter(|(field, _)| *field == input.target) {
                    out[at] = None;
                }
                *typing = Some((input.target, out.len()));
                out.push(Some(line));
                return;
            }
            EventData::Mutation(m) => {
                // An error the page showed the user is a problem of its own, like one it logged.
                for text in alerts.push(dom, m, &removed_from) {
                    out.push(Some(fact(Panel::Console, "alert", format!("Shown: {text}"), String::new(), true)));
                }
                // The option chosen in the select just changed: its line names it.
                let Some((field, at)) = *typing else { return };
                let chose = m
                    .attrs
                    .iter()
                    .any(|a| a.name == "selected" && a.value.is_some() && option_of(dom, a.id) == Some(field));
                if let (true, Some(label)) = (chose, chosen_label(dom, field, None)) {
                    let summary = format!("Chose \"{label}\" in {}", describe(dom, field));
                    if let Some(Some(line)) = out.get_mut(at) {
                        line.summary = summary;
                    }
                }
                return;
            }
            EventData::Navigation(n) => {
                // A link to `#/active` changes the hash and pops history: a click on it is the
                // user going there, not back or forward.
                let clicked = out
                    .iter()
                    .rev()
                    .flatten()
                    .find(|f| f.panel == Panel::Activity && f.kind != "navigation")
                    .is_some_and(|f| f.kind == "click" && time.saturating_sub(f.time) <= CLICK_TO_ROUTE_MS);
                let how = match n.kind {
                    NavigationKind::Load => "Loaded",
                    NavigationKind::Push | NavigationKind::Replace | NavigationKind::Hash => "Went to",
                    _ if clicked => "Went to",
                    _ => "Back/forward to",
                };
                out.push(Some(fact(Panel::Activity, "navigation", format!("{how} {}", n.url), n.title.clone(), false)));
            }
            // The user's own words: a problem as they tell it, first line for the panel.
            EventData::Feedback(words) => {
                // A report is what the SDK sends at most; a longer one was not the SDK's.
                let words: String = words.text.chars().take(sightline_protocol::MAX_FEEDBACK).collect();
                let first = words.lines().next().unwrap_or("").chars().take(200).collect::<String>();
                out.push(Some(fact(Panel::Activity, "feedback", format!("Reported: \"{first}\""), words, true)))
            }
            EventData::Custom(c) => out.push(Some(fact(
                Panel::Activity,
                "custom",
                format!("Event {}", c.name),
                format!("{:?}", c.props),
                false,
            ))),
            EventData::Network(n) => {
                let status = if n.status == 0 {
                    n.error.clone().unwrap_or_else(|| "no response".into())
                } else {
                    n.status.to_string()
                };
                let mut detail = String::new();
                for (side, message) in [("Request", &n.request), ("Response", &n.response)] {
                    if let Some(message) = message {
                        detail.push_str(side);
                        detail.push('\n');
                        for (name, value) in &message.headers {
                            detail.push_str(&format!("{name}: {value}\n"));
                        }
                        if let Some(text) = message.body.as_ref().and_then(|b| b.text.as_ref()) {
                            detail.push_str(text);
                            detail.push('\n');
                        }
                    }
                }
                let mut line = fact(
                    Panel::Network,
                    "request",
                    format!("{} {} {} {} ms", n.method, n.url, status, n.duration),
                    detail,
                    n.failed(),
                );
                line.trace = n.trace.map(|t| t.trace_id.to_string());
                let parts = |message: &Option<sightline_protocol::HttpMessage>| {
                    message.as_ref().map(|m| MessageParts {
                        headers: m.headers.clone(),
                        body: m.body.as_ref().and_then(|b| b.text.clone()),
                        size: m.body.as_ref().map_or(0, |b| b.size),
                        truncated: m.body.as_ref().is_some_and(|b| b.truncated),
                    })
                };
                line.request = Some(RequestParts {
                    method: n.method.clone(),
                    url: n.url.clone(),
                    status: n.status,
                    duration: n.duration,
                    error: n.error.clone(),
                    sent: parts(&n.request),
                    received: parts(&n.response),
                });
                out.push(Some(line));
            }
            EventData::Console(c) => {
                let kind = match c.level {
                    ConsoleLevel::Debug => "debug",
                    ConsoleLevel::Info => "info",
                    ConsoleLevel::Warn => "warn",
                    ConsoleLevel::Error => "error",
                    _ => "log",
                };
                let detail = c.stack.clone().unwrap_or_default();
                out.push(Some(fact(Panel::Console, kind, c.args.join(" "), detail, c.level == ConsoleLevel::Error)));
            }
            EventData::Error(e) => {
                let summary = match e.kind {
                    ErrorKind::Resource => format!("Failed to load {} {}", e.name, e.message),
                    _ => error_line(&e.name, &e.message),
                };
                out.push(Some(fact(Panel::Console, "exception", summary, e.stack.clone().unwrap_or_default(), true)));
            }
            _ => {}
        }
        if out[lines..].iter().flatten().any(|f| f.panel == Panel::Activity) {
            *typing = None;
        }
    }

    /// The facts of everything taken, in time order.
    pub fn finish(self) -> Vec<Fact> {
        self.out.into_iter().flatten().collect()
    }
}

/// An error as one line: `TypeError: x is not a function`, whether the message (as browsers
/// give it) already names the error, with or without `Uncaught`, or not.
pub(crate) fn error_line(name: &str, message: &str) -> String {
    let message = message.strip_prefix("Uncaught ").unwrap_or(message);
    if !name.is_empty() && message.strip_prefix(name).is_some_and(|rest| rest.starts_with(':')) {
        message.to_owned()
    } else {
        format!("{name}: {message}")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// The select an option belongs to (directly, or through an `<optgroup>`).
fn option_of(dom: &ReplayDom, option: u32) -> Option<u32> {
    let is = |id: u32, tag: &str| matches!(dom.node(id).map(|n| &n.kind), Some(NodeKind::Element(e)) if e.tag == tag);
    let parent = dom.node(option)?.parent;
    if is(parent, "select") {
        return Some(parent);
    }
    let grandparent = dom.node(parent)?.parent;
    (is(parent, "optgroup") && is(grandparent, "select")).then_some(grandparent)
}

/// The label of the option of `select` whose value is `value`, or, without one, of the option
/// marked `selected`.
fn chosen_label(dom: &ReplayDom, select: u32, value: Option<&String>) -> Option<String> {
    let mut options: Vec<u32> = Vec::new();
    for child in dom.children(select) {
        match dom.node(child).map(|n| &n.kind) {
            Some(NodeKind::Element(e)) if e.tag == "option" => options.push(child),
            Some(NodeKind::Element(e)) if e.tag == "optgroup" => options.extend(dom.children(child)),
            _ => {}
        }
    }
    options.into_iter().find_map(|id| {
        let Some(NodeKind::Element(option)) = dom.node(id).map(|n| &n.kind) else { return None };
        let attr = |name: &str| option.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let text = text_of(dom, id, 60);
        let chosen = match value {
            Some(value) => attr("value").unwrap_or(&text) == value.as_str(),
            None => attr("selected").is_some(),
        };
        chosen.then(|| attr("label").map_or(text.clone(), str::to_owned))
    })
}

/// A route change this soon after a click is the click's.
const CLICK_TO_ROUTE_MS: u64 = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_named_once() {
        assert_eq!(
            error_line("TypeError", "Uncaught TypeError: x is not a function"),
            "TypeError: x is not a function"
        );
        assert_eq!(error_line("TypeError", "TypeError: x"), "TypeError: x");
        assert_eq!(error_line("Error", "disk full"), "Error: disk full");
        assert_eq!(error_line("Error", "Errors: 3"), "Error: Errors: 3", "a prefix of a longer word is no name");
    }
    use sightline_protocol::{fixtures, AttributeChange, Batch, Event, Input, Mutation, Pointer};

    /// A page's only batch, holding `events`.
    fn one_batch(events: Vec<Event>) -> Batch {
        Batch {
            project: "p".into(),
            session: Default::default(),
            page: 0,
            seq: 0,
            start: 0,
            sent: 0,
            events,
            trace_key: None,
        }
    }

    #[test]
    fn the_sample_session_reads_as_activity_network_and_console_lines() {
        let batches: Vec<Batch> = fixtures::all().into_iter().map(|(_, b)| b).collect();
        let facts = facts(&Replay::new(&batches));
        assert!(facts.windows(2).all(|w| w[0].time <= w[1].time), "in time order");
        let failed = facts.iter().find(|f| f.panel == Panel::Network && f.problem).expect("the failed request");
        assert!(
            failed.summary.starts_with("POST https://app.example.com/api/invoices/42/send 500"),
            "{}",
            failed.summary
        );
        assert!(failed.trace.as_ref().is_some_and(|t| t.len() == 32));
        let parts = failed.request.as_ref().expect("the request's parts");
        assert_eq!((parts.method.as_str(), parts.status, parts.duration), ("POST", 500, 184));
        let sent = parts.sent.as_ref().expect("what was sent");
        assert_eq!(sent.headers[1], ("authorization".to_owned(), "[redacted]".to_owned()), "redacted stays redacted");
        assert_eq!(sent.body.as_deref(), Some(r#"{"to":"billing@acme.com","password":"[redacted]"}"#));
        let received = parts.received.as_ref().expect("what came back");
        assert_eq!((received.body.as_deref(), received.size), (None, 61), "a binary body, by size only");
        assert!(facts.iter().any(|f| f.panel == Panel::Console && f.kind == "exception" && f.problem));
        assert!(facts.iter().any(|f| f.panel == Panel::Activity && f.kind == "click"));
    }

    #[test]
    fn keystrokes_into_one_field_read_as_one_line() {
        let typed = |target: u32, value: &str| {
            EventData::Input(Input { target, value: value.into(), checked: None, masked: false, scripted: false })
        };
        let click = EventData::Pointer(Pointer { kind: PointerKind::Click, target: 3, x: 0, y: 0 });
        let events = [typed(5, "a"), typed(5, "ab"), typed(5, "abc"), typed(6, "x"), click, typed(6, "xy")]
            .into_iter()
            .map(|data| Event { dt: 10, data })
            .collect();
        let batch = one_batch(events);
        let lines: Vec<String> = facts(&Replay::new(&[batch])).into_iter().map(|f| f.summary).collect();
        assert_eq!(
            lines,
            [
                "Typed into an element: \"abc\"",
                "Typed into an element: \"x\"",
                "Click an element",
                "Typed into an element: \"xy\""
            ]
        );
    }

    /// The lines of events 10 ms apart, in one batch.
    fn summaries(events: Vec<EventData>) -> Vec<String> {
        let events = events.into_iter().map(|data| Event { dt: 10, data }).collect();
        facts(&Replay::new(&[one_batch(events)])).into_iter().map(|f| f.summary).collect()
    }

    #[test]
    fn a_link_clicked_to_a_route_reads_as_going_there() {
        let went = |kind, url: &str| {
            EventData::Navigation(sightline_protocol::Navigation { kind, url: url.into(), title: String::new() })
        };
        let click = EventData::Pointer(Pointer { kind: PointerKind::Click, target: 3, x: 0, y: 0 });
        let lines = summaries(vec![
            click,
            went(NavigationKind::Hash, "https://todo.example/#/active"),
            went(NavigationKind::Pop, "https://todo.example/#/active"),
        ]);
        assert_eq!(lines[1..], ["Went to https://todo.example/#/active", "Went to https://todo.example/#/active"]);
        let lines = summaries(vec![went(NavigationKind::Pop, "https://todo.example/#/all")]);
        assert_eq!(lines, ["Back/forward to https://todo.example/#/all"], "no click: the browser's buttons");
    }

    #[test]
    fn keys_that_act_and_submissions_are_steps_and_masked_typing_says_how_much() {
        let typed = |value: &str| {
            EventData::Input(Input { target: 5, value: value.into(), checked: None, masked: true, scripted: false })
        };
        let key = |key: &str, modifiers, target| {
            EventData::Key(sightline_protocol::Key { target, key: key.into(), modifiers })
        };
        let lines = summaries(vec![
            typed("*"),
            typed("**"),
            key("Enter", 0, 5),
            EventData::Submit(sightline_protocol::Submit { target: 5 }),
            key("k", 1, 0),
            key(" ", 0, 5),
        ]);
        assert_eq!(
            lines,
            [
                "Typed 2 characters (masked) into an element",
                "Pressed Enter in an element",
                "Submitted an element",
                "Pressed Ctrl+K",
                "Pressed Space in an element"
            ]
        );
    }

    #[test]
    fn state_the_page_set_is_no_step_of_the_users() {
        let input = |value: &str, scripted| {
            EventData::Input(Input { target: 5, value: value.into(), checked: None, masked: true, scripted })
        };
        let key = EventData::Key(sightline_protocol::Key { target: 5, key: "Enter".into(), modifiers: 0 });
        let lines = summaries(vec![input("****", false), key, input("", true)]);
        assert_eq!(lines, ["Typed 4 characters (masked) into an element", "Pressed Enter in an element"]);
    }

    #[test]
    fn a_request_while_typing_leaves_one_line_for_the_field() {
        let typed = |value: &str| {
            EventData::Input(Input { target: 5, value: value.into(), checked: None, masked: false, scripted: false })
        };
        let logged = EventData::Console(sightline_protocol::Console {
            level: ConsoleLevel::Log,
            args: vec!["suggestions".into()],
            stack: None,
        });
        let events = [typed("a"), logged, typed("ab")].into_iter().map(|data| Event { dt: 10, data }).collect();
        let batch = one_batch(events);
        let lines: Vec<(u64, String)> =
            facts(&Replay::new(&[batch])).into_iter().map(|f| (f.time, f.summary)).collect();
        assert_eq!(lines, [(20, "suggestions".into()), (30, "Typed into an element: \"ab\"".into())]);
    }

    #[test]
    fn checkboxes_and_selects_read_in_plain_words() {
        use sightline_protocol::{DocumentNode, Element, Namespace, Node, Snapshot};
        let element = |id, tag: &str, attrs: &[(&str, &str)]| Node {
            id,
            parent: 1,
            next: 0,
            kind: NodeKind::Element(Element {
                tag: tag.into(),
                attrs: attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
                ns: Namespace::Html,
            }),
        };
        let page = Snapshot {
            nodes: vec![
                Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
                element(2, "input", &[("id", "all"), ("type", "checkbox")]),
                element(3, "select", &[("id", "plan")]),
                Node { id: 4, parent: 3, next: 0, ..element(4, "option", &[("value", "team")]) },
                Node { id: 5, parent: 4, next: 0, kind: NodeKind::Text("Team".into()) },
                Node { id: 6, parent: 3, next: 0, ..element(6, "option", &[("value", "enterprise")]) },
                Node { id: 7, parent: 6, next: 0, kind: NodeKind::Text(" Enterprise ".into()) },
            ],
        };
        let input = |target, value: &str, checked| {
            EventData::Input(Input { target, value: value.into(), checked, masked: false, scripted: false })
        };
        let chosen = |option| {
            let attr =
                |id, value: Option<&str>| AttributeChange { id, name: "selected".into(), value: value.map(Into::into) };
            EventData::Mutation(Mutation {
                attrs: vec![attr(4, (option == 4).then_some("")), attr(6, (option == 6).then_some(""))],
                ..Mutation::default()
            })
        };
        let masked =
            EventData::Input(Input { target: 3, value: "****".into(), checked: None, masked: true, scripted: false });
        let lines = summaries(vec![
            EventData::Snapshot(page),
            input(2, "", Some(true)),
            input(3, "enterprise", None),
            chosen(6),
            input(2, "", Some(false)),
            masked,
            chosen(4),
        ]);
        assert_eq!(
            lines,
            [
                "Checked the checkbox (input#all)",
                "Chose \"Enterprise\" in the dropdown (select#plan)",
                "Unchecked the checkbox (input#all)",
                "Chose \"Team\" in the dropdown (select#plan)"
            ],
            "named by the options' labels, masked or not"
        );
    }
}
