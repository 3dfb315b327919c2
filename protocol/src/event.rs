//! The event model: everything the SDK records about a page.
//!
//! On the wire an event is the array `[dt, kind, body]`: `dt` is the milliseconds since the
//! previous event of the batch (the first counts from [`Batch::start`](crate::Batch::start)),
//! `kind` is the tag listed on each [`EventData`] variant, and `body` is the variant's struct
//! written as a positional array (field order is the schema). DOM nodes are referred to by the
//! integer ids the recorder assigns in its snapshot; id 0 means "none".

use std::fmt;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{byte_enum, tagged_union};
use crate::{SpanId, TraceId, Value};

/// A recorded event: when it happened relative to the one before, and what it was.
///
/// The large, rarer kinds are boxed so that an event takes about 100 bytes in memory rather
/// than the size of the largest kind: a player holding a long session keeps millions of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Milliseconds since the previous event of the batch (or since the batch's `start`).
    pub dt: u32,
    /// What happened.
    pub data: EventData,
}

impl Event {
    /// Events at the given absolute times (ms, in order, none before `start`), as a batch
    /// starting at `start` holds them: each time as the delta from the one before.
    pub fn sequence(start: u64, timed: impl IntoIterator<Item = (u64, EventData)>) -> Vec<Event> {
        let mut previous = start;
        timed
            .into_iter()
            .map(|(at, data)| {
                let dt = u32::try_from(at.saturating_sub(previous)).unwrap_or(u32::MAX);
                previous = previous.max(at);
                Event { dt, data }
            })
            .collect()
    }
}

tagged_union! {
    /// What an event records. The number after each variant is its wire tag.
    pub enum EventData {
        /// Session and page metadata, once per page.
        Meta(Box<PageMeta>) = 1,
        /// A full DOM snapshot: at page start and again as periodic keyframes.
        Snapshot(Snapshot) = 2,
        /// DOM changes since the previous snapshot or mutation.
        Mutation(Mutation) = 3,
        /// A stylesheet's rules as the page applied them.
        StyleSheet(StyleSheet) = 4,
        /// A rule inserted or deleted through the CSSOM.
        StyleRule(StyleRule) = 5,
        /// The adopted stylesheets of a document or shadow root changed.
        AdoptedStyleSheets(AdoptedStyleSheets) = 6,
        /// A click, double click, context click, press, release or touch.
        Pointer(Pointer) = 7,
        /// Sampled mouse positions.
        MouseMove(MouseMove) = 8,
        /// The page or an element scrolled.
        Scroll(Scroll) = 9,
        /// The viewport was resized.
        Viewport(Viewport) = 10,
        /// A form control's value changed (masked unless the page opted in).
        Input(Input) = 11,
        /// An element gained or lost focus.
        Focus(Focus) = 12,
        /// The tab became visible or hidden.
        Visibility(Visibility) = 13,
        /// A full load or a client-side route change.
        Navigation(Navigation) = 14,
        /// A fetch, XHR or beacon request and how it ended.
        Network(Box<Network>) = 15,
        /// A console call.
        Console(Console) = 16,
        /// An uncaught error, unhandled rejection or failed resource load.
        Error(Box<ErrorEvent>) = 17,
        /// The application said who the user is.
        Identify(Identify) = 18,
        /// An application-defined event.
        Custom(Custom) = 19,
        /// A periodic image of a `<canvas>`.
        Canvas(CanvasFrame) = 20,
        /// A key that acts (Enter, Escape, Tab, Space on a control, a shortcut); never one that
        /// types.
        Key(Key) = 21,
        /// A form was submitted.
        Submit(Submit) = 22,
        /// The user's own words about a problem, from the feedback dialog or the app's own.
        Feedback(Feedback) = 23,
    }
    unknown: Unknown
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(3)?;
        tuple.serialize_element(&self.dt)?;
        tuple.serialize_element(&self.data.tag())?;
        self.data.serialize_body(&mut tuple)?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl<'de> Visitor<'de> for EventVisitor {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event [dt, kind, body]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Event, A::Error> {
                let dt = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let tag: u8 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let data = match EventData::deserialize_body(tag, &mut seq)? {
                    Some(body) => body.ok_or_else(|| de::Error::invalid_length(2, &self))?,
                    None => {
                        seq.next_element::<IgnoredAny>()?.ok_or_else(|| de::Error::invalid_length(2, &self))?;
                        EventData::Unknown(tag)
                    }
                };
                Ok(Event { dt, data })
            }
        }
        deserializer.deserialize_tuple(3, EventVisitor)
    }
}

/// Width and height in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Size {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A piece of software and its version, such as a browser or an operating system.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Software {
    /// Name, such as `Chrome` or `macOS`.
    pub name: String,
    /// Version as reported, such as `126.0.6478.126`.
    pub version: String,
}

byte_enum! {
    /// The kind of device, from client hints or the user agent.
    pub enum DeviceType {
        /// Not determined.
        Other = 0,
        /// A desktop or laptop computer.
        Desktop = 1,
        /// A phone.
        Mobile = 2,
        /// A tablet.
        Tablet = 3,
        /// A crawler or automation.
        Bot = 4,
    }
}

/// Who is on what: recorded once per page, first in its first batch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PageMeta {
    /// The page's URL at load.
    pub url: String,
    /// `document.referrer`.
    pub referrer: String,
    /// `document.title` at load.
    pub title: String,
    /// The raw user agent string.
    pub user_agent: String,
    /// Browser name and version.
    pub browser: Software,
    /// Operating system name and version.
    pub os: Software,
    /// Device class.
    pub device: DeviceType,
    /// Screen size.
    pub screen: Size,
    /// Viewport size at load.
    pub viewport: Size,
    /// `devicePixelRatio`.
    pub pixel_ratio: f32,
    /// The browser's preferred language (BCP 47), such as `en-GB`.
    pub language: String,
    /// IANA time zone, such as `Europe/Paris`.
    pub timezone: String,
    /// Minutes east of UTC at load.
    pub utc_offset: i16,
    /// Version of the SDK that recorded the page.
    pub sdk: String,
}

/// A full DOM snapshot. Nodes come parent first (document order), so a player can build the
/// tree in one pass; together they replace whatever the player had.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every recorded node, parents before children, siblings in order.
    #[serde(with = "node_list")]
    pub nodes: Vec<Node>,
}

/// One DOM node with its place in the tree. In a node list it is written as
/// `[id - previous id, id - parent, next, kind]` (see [`node_list`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The recorder's id for this node, unique within the page; never 0.
    pub id: u32,
    /// The parent's id; 0 for a document root.
    pub parent: u32,
    /// The id of the sibling this node goes before; 0 to append as the last child.
    pub next: u32,
    /// What the node is.
    pub kind: NodeKind,
}

/// A list of nodes on the wire. Each node's id is written as the difference from the previous
/// node's id (the first from 0) and its parent as the difference from its own id, so that the
/// repeated structures of a page (table rows, list items) encode to repeated bytes, which LZ4
/// then compresses: a 300-row table's snapshot shrinks to about a third.
pub(crate) mod node_list {
    use super::*;

    /// The wire form of one node of a list.
    pub(crate) fn deltas(previous: u32, node: &Node) -> (i64, i64) {
        (i64::from(node.id) - i64::from(previous), i64::from(node.id) - i64::from(node.parent))
    }

    pub fn serialize<S: Serializer>(nodes: &[Node], serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(nodes.len()))?;
        let mut previous = 0;
        for node in nodes {
            let (id, parent) = deltas(previous, node);
            seq.serialize_element(&(id, parent, node.next, &node.kind))?;
            previous = node.id;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Node>, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = Vec<Node>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of nodes [id delta, parent delta, next, kind]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Node>, A::Error> {
                // The structural scan has bounded the length; still, never trust it for memory.
                let mut nodes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                let mut previous = 0i64;
                while let Some((id, parent, next, kind)) = seq.next_element::<(i64, i64, u32, NodeKind)>()? {
                    let id = previous.checked_add(id).and_then(|id| u32::try_from(id).ok()).filter(|id| *id != 0);
                    let id = id.ok_or_else(|| de::Error::custom("node id out of range"))?;
                    let parent = i64::from(id).checked_sub(parent).and_then(|p| u32::try_from(p).ok());
                    let parent = parent.ok_or_else(|| de::Error::custom("parent id out of range"))?;
                    nodes.push(Node { id, parent, next, kind });
                    previous = i64::from(id);
                }
                Ok(nodes)
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

tagged_union! {
    /// The kind of a DOM node, written as `[tag, body]`.
    pub enum NodeKind {
        /// A document: the page's, or a same-origin iframe's (whose parent is the iframe).
        Document(DocumentNode) = 0,
        /// `<!DOCTYPE …>`.
        Doctype(Doctype) = 1,
        /// An element.
        Element(Element) = 2,
        /// A text node.
        Text(String) = 3,
        /// A comment.
        Comment(String) = 4,
        /// A CDATA section (XML documents).
        CData(String) = 5,
        /// An open shadow root; its parent is the host element.
        ShadowRoot(ShadowRootNode) = 6,
    }
}

impl Serialize for NodeKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&self.tag())?;
        self.serialize_body(&mut tuple)?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl<'de> Visitor<'de> for KindVisitor {
            type Value = NodeKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node kind [tag, body]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
                let tag: u8 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                match NodeKind::deserialize_body(tag, &mut seq)? {
                    Some(kind) => kind.ok_or_else(|| de::Error::invalid_length(1, &self)),
                    None => {
                        Err(de::Error::invalid_value(de::Unexpected::Unsigned(tag.into()), &"a node kind tag 0..=6"))
                    }
                }
            }
        }
        deserializer.deserialize_tuple(2, KindVisitor)
    }
}

/// A document node. Empty today; a struct so fields can be added in a later version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocumentNode {}

/// A shadow root node. Empty today; a struct so fields can be added in a later version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShadowRootNode {}

/// `<!DOCTYPE name PUBLIC "public_id" "system_id">`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Doctype {
    /// Usually `html`.
    pub name: String,
    /// The public identifier, often empty.
    pub public_id: String,
    /// The system identifier, often empty.
    pub system_id: String,
}

byte_enum! {
    /// An element's namespace.
    pub enum Namespace {
        /// HTML.
        Html = 0,
        /// SVG.
        Svg = 1,
        /// MathML.
        MathMl = 2,
    }
}

/// An element with its attributes. The recorder never records `<script>` contents nor `on*`
/// attributes, resolves URLs to absolute form, and may add `data-sl-*` attributes of its own
/// (such as the size of a blocked element).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Lowercase tag name for HTML, as written for SVG and MathML.
    pub tag: String,
    /// Attribute name and value pairs in document order.
    pub attrs: Vec<(String, String)>,
    /// The element's namespace.
    pub ns: Namespace,
}

/// DOM changes, applied in the order: removals, additions, attribute changes, text changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Mutation {
    /// Ids of removed nodes (with their subtrees).
    pub removes: Vec<u32>,
    /// Added nodes, parents before children; `next` places each among its siblings.
    #[serde(with = "node_list")]
    pub adds: Vec<Node>,
    /// Attribute changes.
    pub attrs: Vec<AttributeChange>,
    /// Text and comment content changes.
    pub texts: Vec<TextChange>,
}

/// An attribute set or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// The element's id.
    pub id: u32,
    /// Attribute name.
    pub name: String,
    /// The new value, or `None` when the attribute was removed.
    pub value: Option<String>,
}

/// New content of a text, comment or CDATA node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextChange {
    /// The node's id.
    pub id: u32,
    /// Its new content.
    pub text: String,
}

/// A stylesheet's rules as the browser parsed them: `<style>` and same-origin `<link>` sheets
/// (owned by a node) and constructed sheets (owner 0, used through adoption).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StyleSheet {
    /// The recorder's id for this sheet, unique within the page.
    pub id: u32,
    /// The `<style>` or `<link>` node that owns the sheet; 0 for a constructed sheet.
    pub owner: u32,
    /// The sheet's rules, each as `cssText`.
    pub rules: Vec<String>,
    /// Media query text, empty for all media.
    pub media: String,
}

/// A rule inserted (`rule` is `Some`) or deleted (`rule` is `None`) through the CSSOM.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StyleRule {
    /// The sheet's id.
    pub sheet: u32,
    /// Index path to the rule: one index for a top-level rule, more for rules nested in
    /// `@media`, `@supports` and other grouping rules.
    pub path: Vec<u32>,
    /// The inserted rule's text; `None` for a deletion.
    pub rule: Option<String>,
}

/// The list of stylesheets adopted by a document or shadow root.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdoptedStyleSheets {
    /// The document or shadow root node.
    pub host: u32,
    /// Sheet ids in adoption order.
    pub sheets: Vec<u32>,
}

byte_enum! {
    /// What a pointer did.
    pub enum PointerKind {
        /// A click.
        Click = 0,
        /// A double click.
        DoubleClick = 1,
        /// A context (right) click.
        ContextMenu = 2,
        /// A button pressed.
        Down = 3,
        /// A button released.
        Up = 4,
        /// A touch started.
        TouchStart = 5,
        /// A touch ended.
        TouchEnd = 6,
    }
}

/// A pointer interaction with an element, at viewport coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// What happened.
    pub kind: PointerKind,
    /// The target element's id.
    pub target: u32,
    /// X in CSS pixels from the viewport's left.
    pub x: i32,
    /// Y in CSS pixels from the viewport's top.
    pub y: i32,
}

/// A key that acts, pressed on an element. The characters a user types are never recorded as
/// keys: only Enter, Escape, Tab, Space on a button, checkbox, radio button or link, the arrow
/// keys, and shortcuts (a printable key with Ctrl or Meta, outside a field being typed into).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Key {
    /// The element that had the focus.
    pub target: u32,
    /// `KeyboardEvent.key`: `Enter`, `Escape`, `Tab`, `ArrowDown`, ` ` for Space, the key of a
    /// shortcut (`k`).
    pub key: String,
    /// Modifiers held: 1 Ctrl, 2 Alt, 4 Shift, 8 Meta.
    pub modifiers: u8,
}

/// A form was submitted (by a button, Enter in a field, or script).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Submit {
    /// The form's id.
    pub target: u32,
}

/// What the user wrote about a problem, sent by them: from the SDK's feedback dialog
/// (`Sightline.feedback()`) or the application's own (`Sightline.report(text)`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Feedback {
    /// Their words, at most [`MAX_FEEDBACK`] characters.
    pub text: String,
}

/// Characters of feedback the SDK sends at most.
pub const MAX_FEEDBACK: usize = 4_000;

/// Mouse positions sampled over a short time; the event's time is the first sample's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MouseMove {
    /// The samples, oldest first.
    pub points: Vec<MovePoint>,
}

/// One mouse position sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MovePoint {
    /// X in CSS pixels from the viewport's left.
    pub x: i32,
    /// Y in CSS pixels from the viewport's top.
    pub y: i32,
    /// Milliseconds after the event's time.
    pub offset: u32,
}

/// A scroll position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scroll {
    /// The scrolled element's id, or the document's id for the page itself.
    pub target: u32,
    /// `scrollLeft`.
    pub x: i32,
    /// `scrollTop`.
    pub y: i32,
}

/// The viewport's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Viewport {
    /// Width and height in CSS pixels.
    pub size: Size,
}

/// A form control's new state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Input {
    /// The control's id.
    pub target: u32,
    /// The value: same-length placeholder characters when `masked`.
    pub value: String,
    /// Checkedness of a checkbox or radio button.
    pub checked: Option<bool>,
    /// Whether `value` was masked by the recorder.
    pub masked: bool,
    /// Whether the page's script set this state rather than the user (a framework clearing a
    /// field after Enter, unchecking "toggle all" as it renders): replayed the same, but no
    /// step of the user's. Written only when set, as a fifth field, in a batch of protocol
    /// version 4.
    #[serde(default, skip_serializing_if = "is_false")]
    pub scripted: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Focus moved to or away from an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Focus {
    /// The element's id.
    pub target: u32,
    /// `true` for focus, `false` for blur.
    pub focused: bool,
}

/// The tab's visibility changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Visibility {
    /// Whether the page is now visible.
    pub visible: bool,
}

byte_enum! {
    /// How the page got to a URL.
    pub enum NavigationKind {
        /// A full page load.
        Load = 0,
        /// `history.pushState`.
        Push = 1,
        /// `history.replaceState`.
        Replace = 2,
        /// Back or forward (`popstate`).
        Pop = 3,
        /// `hashchange`.
        Hash = 4,
    }
}

/// The page's URL changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Navigation {
    /// How.
    pub kind: NavigationKind,
    /// The new URL.
    pub url: String,
    /// `document.title` after the change.
    pub title: String,
}

byte_enum! {
    /// The API that made a request.
    pub enum Initiator {
        /// `fetch`.
        Fetch = 0,
        /// `XMLHttpRequest`.
        Xhr = 1,
        /// `navigator.sendBeacon`.
        Beacon = 2,
    }
}

/// A request and how it ended; recorded when it ends, so the event's time is the end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Network {
    /// The request's number within the page.
    pub id: u32,
    /// Which API made it.
    pub initiator: Initiator,
    /// HTTP method, uppercase.
    pub method: String,
    /// Absolute URL, with credential-like query parameters redacted.
    pub url: String,
    /// HTTP status; 0 when no response arrived (network error, abort, CORS failure).
    pub status: u16,
    /// Milliseconds from the start of the request to its end (the event's time).
    pub duration: u32,
    /// Request body size in bytes, if known.
    pub request_size: Option<u64>,
    /// Response body size in bytes, if known.
    pub response_size: Option<u64>,
    /// Request headers and body, for allow-listed URLs only.
    pub request: Option<HttpMessage>,
    /// Response headers and body, for allow-listed URLs only.
    pub response: Option<HttpMessage>,
    /// The error or abort reason when the request failed.
    pub error: Option<String>,
    /// The W3C trace context sent with the request.
    #[serde(deserialize_with = "crate::trace_key::deserialize_trace")]
    pub trace: Option<TraceContext>,
}

// The macro-made enums carry an `Unknown` variant, so their default is spelled out here.
#[allow(clippy::derivable_impls)]
impl Default for Initiator {
    fn default() -> Self {
        Self::Fetch
    }
}

#[allow(clippy::derivable_impls)]
impl Default for ErrorKind {
    fn default() -> Self {
        Self::Uncaught
    }
}

#[allow(clippy::derivable_impls)]
impl Default for DeviceType {
    fn default() -> Self {
        Self::Other
    }
}

impl Network {
    /// Whether the request counts as failed: a server error (5xx), or no response because of an
    /// error other than an abort (a page that cancels its own request is not a failure). A
    /// beacon never gets a response; it failed only if the browser refused to queue it.
    pub fn failed(&self) -> bool {
        if self.status >= 500 {
            return true;
        }
        let aborted = self.error.as_deref().is_some_and(|e| e.starts_with("AbortError"));
        match self.initiator {
            Initiator::Beacon => self.error.is_some(),
            _ => self.status == 0 && !aborted,
        }
    }
}

/// The trace and span id of a `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceContext {
    /// Trace id.
    pub trace_id: TraceId,
    /// The span id sent as `parent-id`.
    pub span_id: SpanId,
}

impl TraceContext {
    /// The ids of a W3C `traceparent` header (`version-traceid-parentid-flags`); `None` when it
    /// is malformed or either id is all zeros, which the W3C format declares invalid.
    pub fn from_traceparent(header: &str) -> Option<TraceContext> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let well_formed =
            version.len() == 2 && version != "ff" && flags.len() == 2 && trace.len() == 32 && span.len() == 16;
        if !well_formed || (version == "00" && parts.next().is_some()) {
            return None;
        }
        let context = TraceContext { trace_id: trace.parse().ok()?, span_id: span.parse().ok()? };
        (!context.trace_id.is_zero() && !context.span_id.is_zero()).then_some(context)
    }
}

/// Captured headers and body of a request or response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpMessage {
    /// Header name and value pairs, credential-like values redacted.
    pub headers: Vec<(String, String)>,
    /// The body, if captured.
    pub body: Option<Body>,
}

/// A captured body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Body {
    /// The text, redacted and capped; `None` for binary bodies, recorded by size only.
    pub text: Option<String>,
    /// The full size in bytes.
    pub size: u64,
    /// Whether `text` was cut at the cap.
    pub truncated: bool,
}

byte_enum! {
    /// A console method.
    pub enum ConsoleLevel {
        /// `console.debug`.
        Debug = 0,
        /// `console.log`.
        Log = 1,
        /// `console.info`.
        Info = 2,
        /// `console.warn`.
        Warn = 3,
        /// `console.error`.
        Error = 4,
    }
}

/// A console call with its arguments rendered as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Console {
    /// Which method.
    pub level: ConsoleLevel,
    /// Each argument rendered safely (cycles, DOM nodes and large values capped).
    pub args: Vec<String>,
    /// A stack trace, for warnings and errors.
    pub stack: Option<String>,
}

byte_enum! {
    /// Where an error came from.
    pub enum ErrorKind {
        /// An uncaught exception (`error` event).
        Uncaught = 0,
        /// An unhandled promise rejection.
        Rejection = 1,
        /// An image, script or stylesheet failed to load.
        Resource = 2,
    }
}

/// An error the page raised.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// Where it came from.
    pub kind: ErrorKind,
    /// Error name, such as `TypeError`; the tag name for resource errors.
    pub name: String,
    /// The message; the failed URL for resource errors.
    pub message: String,
    /// The stack trace, if any.
    pub stack: Option<String>,
    /// The script URL.
    pub source: String,
    /// Line number, 0 if unknown.
    pub line: u32,
    /// Column number, 0 if unknown.
    pub column: u32,
    /// The element that failed to load, for resource errors; else 0.
    pub target: u32,
}

/// The application identified the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identify {
    /// The application's user id.
    pub user_id: String,
    /// Traits such as email, plan, company or role: a map of plain JSON values.
    pub traits: Value,
}

/// An application-defined event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Custom {
    /// The event's name.
    pub name: String,
    /// Its properties: plain JSON values.
    pub props: Value,
}

/// An image of a canvas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanvasFrame {
    /// The canvas element's id.
    pub target: u32,
    /// The image as a `data:` URL.
    pub data_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_headers_parse_by_the_w3c_rules() {
        let context =
            TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(context.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.span_id.to_string(), "00f067aa0ba902b7");
        // A later version may append fields; version 00 may not.
        assert!(TraceContext::from_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x").is_some());
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::from_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn failed_means_a_server_error_or_no_response_but_not_an_abort() {
        let call = |initiator, status, error: Option<&str>| Network {
            initiator,
            status,
            error: error.map(str::to_owned),
            ..Network::default()
        };
        assert!(call(Initiator::Fetch, 500, None).failed());
        assert!(call(Initiator::Xhr, 0, Some("NetworkError: error")).failed());
        assert!(!call(Initiator::Fetch, 404, None).failed());
        assert!(!call(Initiator::Fetch, 0, Some("AbortError: The user aborted a request.")).failed());
        assert!(!call(Initiator::Beacon, 0, None).failed(), "a queued beacon");
        assert!(call(Initiator::Beacon, 0, Some("NotQueued: the browser refused the beacon")).failed());
    }
}
