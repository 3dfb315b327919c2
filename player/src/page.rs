//! The page at a moment, told in words: what someone looking at the replay would read there.
//! Its address and title, the text shown, the form fields with their state, and where the
//! pointer was and what it last pressed. An agent or a ticket gets the page without a browser.
//!
//! [`PageReader`] takes a session's events in order, once, and keeps one page's worth of state
//! (the tree is bounded by [`crate::dom::MAX_NODES`]), so telling a moment costs the same memory
//! however long the session is.

use serde::Serialize;
use sightline_protocol::{Element, EventData, NodeKind, PointerKind};

use crate::dom::ReplayDom;
use crate::naming::describe;

/// Characters of text a description holds at most.
pub const MAX_TEXT: usize = 8_000;
/// Form fields a description lists at most.
pub const MAX_FIELDS: usize = 60;

/// Elements whose content is never shown.
const UNSHOWN: [&str; 9] = ["script", "style", "noscript", "template", "head", "title", "meta", "link", "select"];
/// Elements that start a line of their own.
const BLOCKS: [&str; 33] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "iframe",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "section",
    "table",
    "tr",
];

/// The page at a moment, in words.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PageView {
    /// The moment, in ms since the epoch.
    pub at: u64,
    /// The page's URL and title then.
    pub url: Option<String>,
    pub title: Option<String>,
    /// The viewport's size, `[width, height]` in CSS pixels.
    pub viewport: Option<[u32; 2]>,
    /// The text shown, a line per block, spaces collapsed; masked text reads as asterisks.
    pub text: String,
    /// The text was cut at [`MAX_TEXT`] characters.
    pub text_truncated: bool,
    /// The form fields shown, in document order.
    pub fields: Vec<FieldView>,
    /// More fields were shown than [`MAX_FIELDS`].
    pub fields_truncated: bool,
    /// Where the pointer was.
    pub pointer: Option<PointerView>,
    /// The latest press of the pointer on this page: a click, tap or button press.
    pub last_press: Option<PressView>,
}

/// A form field and its state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldView {
    /// The field, as a person names it.
    pub element: String,
    /// Its value as recorded (a masked value is asterisks of its length).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether a checkbox or radio button is checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
}

/// The pointer's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PointerView {
    /// CSS pixels from the viewport's left and top.
    pub x: i32,
    pub y: i32,
    /// When it was there, in ms since the epoch.
    pub time: u64,
}

/// A press of the pointer and the element it was on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PressView {
    /// `click`, `double click`, `context menu`, `press`, `release`, `touch` or `touch end` (a
    /// kind this version doesn't know reads as `press`).
    pub kind: &'static str,
    /// The element, named as it was when pressed.
    pub element: String,
    pub x: i32,
    pub y: i32,
    /// When, in ms since the epoch.
    pub time: u64,
}

/// Elements whose text stays apart from their neighbours' on a line: a table's cells, buttons.
const APART: [&str; 4] = ["td", "th", "button", "label"];

/// Reads a session's events up to a moment and tells the page as it was then.
#[derive(Debug, Clone)]
pub struct PageReader {
    at: u64,
    dom: ReplayDom,
    page: Option<u32>,
    view: PageView,
}

impl PageReader {
    /// A reader of the moment `at` (ms since the epoch).
    pub fn new(at: u64) -> PageReader {
        PageReader { at, dom: ReplayDom::new(), page: None, view: PageView { at, ..PageView::default() } }
    }

    /// One event of the session, in order: events after the moment are passed over.
    pub fn push(&mut self, time: u64, page: u32, data: &EventData) {
        if time > self.at {
            return;
        }
        if self.page != Some(page) {
            // Another page load: nothing of the last one holds until this one says so.
            self.page = Some(page);
            self.dom = ReplayDom::new();
            self.view = PageView { at: self.at, ..PageView::default() };
        }
        match data {
            EventData::Meta(meta) => {
                self.view.url = Some(meta.url.clone());
                self.view.title = Some(meta.title.clone());
                self.view.viewport = Some([meta.viewport.width, meta.viewport.height]);
            }
            EventData::Navigation(nav) => {
                self.view.url = Some(nav.url.clone());
                self.view.title = Some(nav.title.clone());
            }
            EventData::Viewport(viewport) => self.view.viewport = Some([viewport.size.width, viewport.size.height]),
            EventData::Pointer(pointer) => {
                self.view.pointer = Some(PointerView { x: pointer.x, y: pointer.y, time });
                self.view.last_press = Some(PressView {
                    kind: press_kind(pointer.kind),
                    element: describe(&self.dom, pointer.target),
                    x: pointer.x,
                    y: pointer.y,
                    time,
                });
            }
            EventData::MouseMove(moves) => {
                let mut within = moves.points.iter().filter(|p| time.saturating_add(u64::from(p.offset)) <= self.at);
                if let Some(point) = within.next_back() {
                    let time = time.saturating_add(u64::from(point.offset));
                    self.view.pointer = Some(PointerView { x: point.x, y: point.y, time });
                }
            }
            _ => {}
        }
        self.dom.apply(data);
    }

    /// The page as it was at the moment.
    pub fn finish(mut self) -> PageView {
        let shown = read_shown(&self.dom);
        self.view.text = shown.text;
        self.view.text_truncated = shown.text_truncated;
        self.view.fields = shown.fields;
        self.view.fields_truncated = shown.fields_truncated;
        self.view
    }
}

fn press_kind(kind: PointerKind) -> &'static str {
    match kind {
        PointerKind::Click => "click",
        PointerKind::DoubleClick => "double click",
        PointerKind::ContextMenu => "context menu",
        PointerKind::Down => "press",
        PointerKind::Up => "release",
        PointerKind::TouchStart => "touch",
        PointerKind::TouchEnd => "touch end",
        PointerKind::Unknown(_) => "press",
    }
}

enum Visit {
    Enter(u32),
    /// The end of a shadow tree: slots after it are another host's.
    LeaveShadow,
    /// The end of a block: what follows starts a new line.
    EndLine,
    /// The end of an element kept apart: what follows is another word.
    Apart,
}

/// What the page shows.
struct Shown {
    text: String,
    text_truncated: bool,
    fields: Vec<FieldView>,
    fields_truncated: bool,
}

/// The text shown under the page's roots, and its form fields, in document order. A shadow
/// host shows its shadow tree, its own children where the tree has slots for them.
fn read_shown(dom: &ReplayDom) -> Shown {
    let mut text = Text::default();
    let mut fields = Vec::new();
    let mut fields_truncated = false;
    // The shadow hosts whose trees the walk is in, innermost last.
    let mut hosts: Vec<u32> = Vec::new();
    let mut stack: Vec<Visit> = dom.roots().map(Visit::Enter).collect();
    stack.reverse();
    while let Some(visit) = stack.pop() {
        let id = match visit {
            Visit::Enter(id) => id,
            Visit::LeaveShadow => {
                hosts.pop();
                continue;
            }
            Visit::EndLine => {
                text.end_line();
                continue;
            }
            Visit::Apart => {
                text.space = true;
                continue;
            }
        };
        let Some(node) = dom.node(id) else { continue };
        match &node.kind {
            NodeKind::Text(t) => text.push(t),
            NodeKind::Element(element) => {
                if is_hidden(element) {
                    continue;
                }
                if is_field(element) {
                    if fields.len() < MAX_FIELDS {
                        fields.push(field_view(dom, id, element));
                    } else {
                        fields_truncated = true;
                    }
                }
                if UNSHOWN.contains(&element.tag.as_str()) || element.tag == "textarea" {
                    continue;
                }
                let block = BLOCKS.contains(&element.tag.as_str());
                if block {
                    text.end_line();
                    stack.push(Visit::EndLine);
                } else if APART.contains(&element.tag.as_str()) {
                    text.space = true;
                    stack.push(Visit::Apart);
                }
                let first = stack.len();
                if let Some(shadow) = dom.children(id).find(|&c| is_shadow_root(dom, c)) {
                    stack.push(Visit::Enter(shadow));
                } else if element.tag == "slot" && hosts.last().is_some() {
                    let host = hosts[hosts.len() - 1];
                    let name = attr(element, "name").unwrap_or("");
                    let assigned: Vec<u32> = dom.children(host).filter(|&c| slot_of(dom, c) == Some(name)).collect();
                    // Nothing assigned: the slot shows its own content.
                    let shown: Vec<u32> = if assigned.is_empty() { dom.children(id).collect() } else { assigned };
                    stack.extend(shown.into_iter().map(Visit::Enter));
                } else {
                    let closed_details = element.tag == "details" && !has(element, "open");
                    for child in dom.children(id) {
                        // A closed `<details>` shows its summary alone.
                        if closed_details && !is_tag(dom, child, "summary") {
                            continue;
                        }
                        stack.push(Visit::Enter(child));
                    }
                }
                stack[first..].reverse();
            }
            NodeKind::ShadowRoot(_) => {
                hosts.push(node.parent);
                stack.push(Visit::LeaveShadow);
                let first = stack.len();
                stack.extend(dom.children(id).map(Visit::Enter));
                stack[first..].reverse();
            }
            NodeKind::Document(_) => {
                let first = stack.len();
                stack.extend(dom.children(id).map(Visit::Enter));
                stack[first..].reverse();
            }
            NodeKind::Doctype(_) | NodeKind::Comment(_) | NodeKind::CData(_) => {}
        }
        // Past the text's limit, the walk goes on for the fields alone.
    }
    Shown { text_truncated: text.full(), text: text.finish(), fields, fields_truncated }
}

fn is_shadow_root(dom: &ReplayDom, id: u32) -> bool {
    matches!(dom.node(id).map(|n| &n.kind), Some(NodeKind::ShadowRoot(_)))
}

/// The slot a shadow host's child goes into: its `slot` attribute, `""` for the default slot;
/// `None` for the shadow root itself and for a comment.
fn slot_of(dom: &ReplayDom, id: u32) -> Option<&str> {
    match &dom.node(id)?.kind {
        NodeKind::Element(e) => Some(attr(e, "slot").unwrap_or("")),
        NodeKind::Text(_) => Some(""),
        _ => None,
    }
}

/// Text gathered line by line, spaces collapsed, at most [`MAX_TEXT`] characters.
#[derive(Default)]
struct Text {
    out: String,
    chars: usize,
    /// A space is owed before the next word on this line.
    space: bool,
    cut: bool,
}

impl Text {
    fn push(&mut self, text: &str) {
        let mut words = text.split_whitespace().peekable();
        if words.peek().is_none() {
            self.space |= !text.is_empty();
            return;
        }
        self.space |= text.starts_with(char::is_whitespace);
        for word in words {
            if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
                self.put(" ");
            }
            self.put(word);
            self.space = true;
        }
        // Text that runs on into the next node's continues its word.
        self.space = text.ends_with(char::is_whitespace);
    }

    fn put(&mut self, s: &str) {
        for c in s.chars() {
            if self.chars >= MAX_TEXT {
                self.cut = true;
                return;
            }
            self.out.push(c);
            self.chars += 1;
        }
    }

    fn end_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.put("\n");
        }
        self.space = false;
    }

    fn full(&self) -> bool {
        self.cut
    }

    fn finish(self) -> String {
        self.out.trim_end().to_owned()
    }
}

fn has(element: &Element, name: &str) -> bool {
    element.attrs.iter().any(|(n, _)| n == name)
}

fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    element.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn is_tag(dom: &ReplayDom, id: u32, tag: &str) -> bool {
    matches!(dom.node(id).map(|n| &n.kind), Some(NodeKind::Element(e)) if e.tag == tag)
}

/// Hidden by markup: `hidden`, an inline `display: none` or `visibility: hidden`, a closed
/// dialog. (What stylesheets hide needs a browser to tell; `aria-hidden` hides from screen
/// readers, not from the eye.)
fn is_hidden(element: &Element) -> bool {
    if has(element, "hidden") {
        return true;
    }
    if element.tag == "dialog" && !has(element, "open") {
        return true;
    }
    if element.tag == "input" && attr(element, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")) {
        return true;
    }
    attr(element, "style").is_some_and(|style| {
        let style: String = style.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

fn is_field(element: &Element) -> bool {
    match element.tag.as_str() {
        "select" | "textarea" => true,
        "input" => !attr(element, "type")
            .is_some_and(|t| matches!(t.to_ascii_lowercase().as_str(), "submit" | "button" | "reset" | "image")),
        _ => false,
    }
}

fn field_view(dom: &ReplayDom, id: u32, element: &Element) -> FieldView {
    let input_type = attr(element, "type").unwrap_or("text").to_ascii_lowercase();
    let checkable = element.tag == "input" && matches!(input_type.as_str(), "checkbox" | "radio");
    let value = match element.tag.as_str() {
        _ if checkable => None,
        // A select shows the option chosen: its text, else its value.
        "select" => chosen_option(dom, id),
        // A textarea holds its text until someone types into it.
        "textarea" => attr(element, "value").map(str::to_owned).or_else(|| Some(crate::naming::text_of(dom, id, 500))),
        _ => attr(element, "value").map(str::to_owned),
    };
    FieldView {
        element: describe(dom, id),
        value: value.filter(|v| !v.is_empty()),
        checked: checkable.then(|| has(element, "checked")),
    }
}

/// What a select shows: the text of the option its recorded value names; a recorded value no
/// option has (masked) as it is; with none recorded, the last option marked `selected`, else
/// the first, as a browser shows it.
fn chosen_option(dom: &ReplayDom, select: u32) -> Option<String> {
    let NodeKind::Element(element) = &dom.node(select)?.kind else { return None };
    let value = attr(element, "value");
    let (mut first, mut marked) = (None, None);
    let mut stack: Vec<u32> = dom.children(select).collect();
    stack.reverse();
    while let Some(id) = stack.pop() {
        let Some(NodeKind::Element(option)) = dom.node(id).map(|n| &n.kind) else { continue };
        if option.tag == "optgroup" {
            let at = stack.len();
            stack.extend(dom.children(id));
            stack[at..].reverse();
            continue;
        }
        if option.tag != "option" {
            continue;
        }
        let text = crate::naming::text_of(dom, id, 200);
        let own_value = attr(option, "value").map(str::to_owned).unwrap_or_else(|| text.clone());
        if value.is_some_and(|v| v == own_value) {
            return Some(text);
        }
        if has(option, "selected") {
            marked = Some(text.clone());
        }
        first.get_or_insert(text);
    }
    value.map(str::to_owned).or(marked).or(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{Input, MouseMove, MovePoint, Mutation, Namespace, Node, Pointer, Snapshot};

    fn element(id: u32, parent: u32, next: u32, tag: &str, attrs: &[(&str, &str)]) -> Node {
        Node {
            id,
            parent,
            next,
            kind: NodeKind::Element(Element {
                tag: tag.into(),
                attrs: attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
                ns: Namespace::Html,
            }),
        }
    }

    fn text(id: u32, parent: u32, next: u32, text: &str) -> Node {
        Node { id, parent, next, kind: NodeKind::Text(text.into()) }
    }

    fn snapshot(nodes: Vec<Node>) -> EventData {
        let mut all = vec![Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(Default::default()) }];
        all.extend(nodes);
        EventData::Snapshot(Snapshot { nodes: all })
    }

    /// A sign-up page: a heading, a hidden banner, a paragraph, a form with a field, a
    /// checkbox, a select and a button, a closed details and a script.
    fn sign_up() -> EventData {
        snapshot(vec![
            element(2, 1, 0, "html", &[]),
            element(3, 2, 0, "body", &[]),
            element(4, 3, 5, "h1", &[]),
            text(40, 4, 0, "Create   your account"),
            element(5, 3, 6, "div", &[("hidden", "")]),
            text(50, 5, 0, "Cookie banner"),
            element(6, 3, 7, "p", &[]),
            text(60, 6, 61, "Already have one? "),
            element(61, 6, 0, "a", &[("href", "/login")]),
            text(62, 61, 0, "Sign in"),
            element(7, 3, 8, "form", &[]),
            element(70, 7, 71, "input", &[("id", "email"), ("placeholder", "Email")]),
            element(71, 7, 72, "input", &[("type", "checkbox"), ("aria-label", "Terms")]),
            element(72, 7, 73, "select", &[("aria-label", "Plan")]),
            element(720, 72, 721, "option", &[("value", "free")]),
            text(7200, 720, 0, "Free"),
            element(721, 72, 0, "option", &[("value", "team")]),
            text(7210, 721, 0, "Team"),
            element(73, 7, 0, "button", &[("class", "send")]),
            text(730, 73, 0, "Send"),
            element(8, 3, 9, "details", &[]),
            element(80, 8, 81, "summary", &[]),
            text(800, 80, 0, "More"),
            text(81, 8, 0, "Hidden details"),
            element(9, 3, 10, "script", &[]),
            text(90, 9, 0, "ignore()"),
            element(10, 3, 0, "table", &[]),
            element(100, 10, 0, "tr", &[]),
            element(101, 100, 102, "td", &[]),
            text(1010, 101, 0, "INV-40"),
            element(102, 100, 0, "td", &[]),
            text(1020, 102, 0, "Globex"),
        ])
    }

    #[test]
    fn a_page_reads_as_its_shown_text_fields_and_the_press_on_it() {
        let mut reader = PageReader::new(2_000);
        reader.push(1_000, 0, &sign_up());
        reader.push(
            1_100,
            0,
            &EventData::Input(Input { target: 70, value: "*****".into(), masked: true, ..Default::default() }),
        );
        reader.push(1_200, 0, &EventData::Input(Input { target: 71, checked: Some(true), ..Default::default() }));
        reader.push(1_300, 0, &EventData::Input(Input { target: 72, value: "team".into(), ..Default::default() }));
        reader.push(1_400, 0, &EventData::Pointer(Pointer { kind: PointerKind::Click, target: 73, x: 10, y: 20 }));
        reader.push(
            1_500,
            0,
            &EventData::MouseMove(MouseMove {
                points: vec![MovePoint { x: 30, y: 40, offset: 100 }, MovePoint { x: 99, y: 99, offset: 900 }],
            }),
        );
        // After the moment: not read.
        reader.push(2_500, 0, &EventData::Mutation(Mutation { removes: vec![4], ..Default::default() }));
        let view = reader.finish();
        assert_eq!(view.text, "Create your account\nAlready have one? Sign in\nSend\nMore\nINV-40 Globex");
        assert!(!view.text_truncated);
        let fields: Vec<_> = view.fields.iter().map(|f| (f.element.as_str(), f.value.as_deref(), f.checked)).collect();
        assert_eq!(
            fields,
            [
                ("the \"Email\" field (input#email)", Some("*****"), None),
                ("the \"Terms\" checkbox (input)", None, Some(true)),
                ("the \"Plan\" dropdown (select)", Some("Team"), None),
            ]
        );
        assert_eq!(view.pointer, Some(PointerView { x: 30, y: 40, time: 1_600 }));
        let press = view.last_press.expect("the click");
        assert_eq!(
            (press.kind, press.element.as_str(), press.time),
            ("click", "the \"Send\" button (button.send)", 1_400)
        );
    }

    #[test]
    fn another_page_load_forgets_the_last_and_long_text_is_cut_but_not_its_fields() {
        let mut reader = PageReader::new(10_000);
        reader.push(1_000, 0, &sign_up());
        reader.push(1_400, 0, &EventData::Pointer(Pointer { kind: PointerKind::Click, target: 73, x: 10, y: 20 }));
        // The next page's first event, before its snapshot: nothing of the last page is left.
        reader.push(1_900, 1, &EventData::Visibility(sightline_protocol::Visibility { visible: true }));
        let between = reader.clone().finish();
        assert_eq!((between.text.as_str(), between.fields.len(), between.url.as_deref()), ("", 0, None));
        let long = "word ".repeat(MAX_TEXT);
        reader.push(
            2_000,
            1,
            &snapshot(vec![
                element(2, 1, 4, "p", &[]),
                text(3, 2, 0, &long),
                element(4, 1, 0, "input", &[("aria-label", "After the text")]),
            ]),
        );
        let view = reader.finish();
        assert_eq!((view.pointer, view.last_press), (None, None));
        assert!(view.text_truncated);
        assert_eq!(view.text.chars().count(), MAX_TEXT - 1, "cut at the limit, the trailing space trimmed");
        assert_eq!(view.fields.len(), 1, "fields past the text's limit are still read");
        assert!(!view.fields_truncated);
    }

    #[test]
    fn a_shadow_host_shows_its_tree_with_its_children_in_their_slots_and_selects_show_their_choice() {
        let shadow = Node { id: 20, parent: 10, next: 0, kind: NodeKind::ShadowRoot(Default::default()) };
        let mut reader = PageReader::new(5_000);
        reader.push(
            1_000,
            0,
            &snapshot(vec![
                element(2, 1, 0, "body", &[]),
                // <todo-card><span slot=title>Buy milk</span>Due today<!-- --></todo-card>
                element(10, 2, 30, "todo-card", &[]),
                element(11, 10, 12, "span", &[("slot", "title")]),
                text(110, 11, 0, "Buy milk"),
                text(12, 10, 0, "Due today"),
                shadow,
                element(21, 20, 22, "h3", &[]),
                element(210, 21, 0, "slot", &[("name", "title")]),
                element(22, 20, 23, "p", &[]),
                element(220, 22, 0, "slot", &[]),
                element(23, 20, 0, "footer", &[("aria-hidden", "true")]),
                element(230, 23, 0, "slot", &[("name", "empty")]),
                text(231, 230, 0, "No tags"),
                // Selects: nothing chosen shows the first; a masked choice shows as it is.
                element(30, 2, 31, "select", &[("aria-label", "Plan")]),
                element(300, 30, 301, "option", &[]),
                text(3000, 300, 0, "Free"),
                element(301, 30, 0, "option", &[]),
                text(3010, 301, 0, "Team"),
                element(31, 2, 0, "select", &[("aria-label", "Card")]),
                element(310, 31, 0, "option", &[("value", "visa")]),
            ]),
        );
        reader.push(
            1_100,
            0,
            &EventData::Input(Input { target: 31, value: "****".into(), masked: true, ..Default::default() }),
        );
        let view = reader.finish();
        assert_eq!(view.text, "Buy milk\nDue today\nNo tags");
        let values: Vec<_> = view.fields.iter().map(|f| f.value.as_deref()).collect();
        assert_eq!(values, [Some("Free"), Some("****")]);
    }
}
