//! Sample batches that together use every event kind and every node kind: the source of the
//! golden vectors, and realistic input for tests and benchmarks elsewhere in the workspace.

use crate::*;

const SESSION: SessionId =
    SessionId([0x01, 0x8f, 0x3a, 0x5c, 0x2b, 0x7e, 0x71, 0x10, 0x9a, 0x42, 0x0c, 0xd3, 0x55, 0xe8, 0x61, 0x07]);

fn event(dt: u32, data: EventData) -> Event {
    Event { dt, data }
}

fn element(tag: &str, attrs: &[(&str, &str)]) -> NodeKind {
    NodeKind::Element(Element {
        tag: tag.into(),
        attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ns: Namespace::Html,
    })
}

fn node(id: u32, parent: u32, kind: NodeKind) -> Node {
    Node { id, parent, next: 0, kind }
}

fn envelope(seq: u32, start: u64, events: Vec<Event>) -> Batch {
    Batch {
        project: "slk_demo".into(),
        session: SESSION,
        page: 0,
        seq,
        start,
        sent: start + 5_000,
        events,
        trace_key: None,
    }
}

/// A page's first batch: metadata, the initial snapshot and its stylesheets.
pub fn page_start() -> Batch {
    let nodes = vec![
        node(1, 0, NodeKind::Document(DocumentNode {})),
        node(2, 1, NodeKind::Doctype(Doctype { name: "html".into(), ..Doctype::default() })),
        node(3, 1, element("html", &[("lang", "en")])),
        node(4, 3, element("head", &[])),
        node(5, 4, element("style", &[])),
        node(6, 5, NodeKind::Text("body{margin:0;font:14px system-ui}".into())),
        node(7, 3, element("body", &[("class", "app")])),
        node(8, 7, NodeKind::Comment(" invoices ".into())),
        node(9, 7, element("input", &[("type", "email"), ("value", "****************")])),
        node(10, 7, element("div", &[("id", "widget")])),
        node(11, 10, NodeKind::ShadowRoot(ShadowRootNode {})),
        node(12, 11, element("span", &[])),
        node(13, 12, NodeKind::Text("Total: €1,024.00".into())),
        node(
            14,
            7,
            NodeKind::Element(Element {
                tag: "svg".into(),
                attrs: vec![("viewBox".into(), "0 0 10 10".into())],
                ns: Namespace::Svg,
            }),
        ),
        node(15, 14, NodeKind::CData("x < y".into())),
    ];
    let meta = PageMeta {
        url: "https://app.example.com/invoices".into(),
        referrer: "https://example.com/".into(),
        title: "Invoices".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36".into(),
        browser: Software { name: "Chrome".into(), version: "156.0.0.0".into() },
        os: Software { name: "Linux".into(), version: String::new() },
        device: DeviceType::Desktop,
        screen: Size { width: 1920, height: 1080 },
        viewport: Size { width: 1280, height: 720 },
        pixel_ratio: 1.5,
        language: "en-GB".into(),
        timezone: "Europe/Paris".into(),
        utc_offset: 60,
        sdk: "0.1.0".into(),
    };
    envelope(
        0,
        1_780_000_000_000,
        vec![
            event(0, EventData::Meta(Box::new(meta))),
            event(
                0,
                EventData::Navigation(Navigation {
                    kind: NavigationKind::Load,
                    url: "https://app.example.com/invoices".into(),
                    title: "Invoices".into(),
                }),
            ),
            event(3, EventData::Snapshot(Snapshot { nodes })),
            event(
                0,
                EventData::StyleSheet(StyleSheet {
                    id: 1,
                    owner: 5,
                    rules: vec!["body { margin: 0px; }".into()],
                    media: String::new(),
                }),
            ),
            event(
                0,
                EventData::StyleSheet(StyleSheet {
                    id: 2,
                    owner: 0,
                    rules: vec![".card { color: red; }".into()],
                    media: "screen".into(),
                }),
            ),
            event(0, EventData::AdoptedStyleSheets(AdoptedStyleSheets { host: 11, sheets: vec![2] })),
            event(0, EventData::Viewport(Viewport { size: Size { width: 1280, height: 720 } })),
        ],
    )
}

/// A batch of user interaction and the DOM changes it caused.
pub fn interaction() -> Batch {
    envelope(
        1,
        1_780_000_005_000,
        vec![
            event(
                120,
                EventData::MouseMove(MouseMove {
                    points: vec![
                        MovePoint { x: 10, y: 20, offset: 0 },
                        MovePoint { x: 40, y: 25, offset: 50 },
                        MovePoint { x: -3, y: 700, offset: 100 },
                    ],
                }),
            ),
            event(200, EventData::Pointer(Pointer { kind: PointerKind::Click, target: 9, x: 40, y: 25 })),
            event(1, EventData::Focus(Focus { target: 9, focused: true })),
            event(
                400,
                EventData::Input(Input {
                    target: 9,
                    value: "********".into(),
                    checked: None,
                    masked: true,
                    scripted: false,
                }),
            ),
            event(90, EventData::Key(Key { target: 9, key: "Enter".into(), modifiers: 0 })),
            event(2, EventData::Submit(Submit { target: 8 })),
            event(
                30,
                EventData::Input(Input {
                    target: 16,
                    value: String::new(),
                    checked: Some(true),
                    masked: false,
                    scripted: false,
                }),
            ),
            event(700, EventData::Scroll(Scroll { target: 1, x: 0, y: 1200 })),
            event(
                16,
                EventData::Mutation(Mutation {
                    removes: vec![15],
                    adds: vec![Node { id: 16, parent: 7, next: 10, kind: element("input", &[("type", "checkbox")]) }],
                    attrs: vec![
                        AttributeChange { id: 7, name: "class".into(), value: Some("app dark".into()) },
                        AttributeChange { id: 3, name: "lang".into(), value: None },
                    ],
                    texts: vec![TextChange { id: 13, text: "Total: €2,048.00".into() }],
                }),
            ),
            event(
                2,
                EventData::StyleRule(StyleRule {
                    sheet: 2,
                    path: vec![0],
                    rule: Some(".card:hover { color: blue; }".into()),
                }),
            ),
            event(0, EventData::StyleRule(StyleRule { sheet: 1, path: vec![1, 0], rule: None })),
            event(900, EventData::Pointer(Pointer { kind: PointerKind::DoubleClick, target: 12, x: 300, y: 90 })),
            event(50, EventData::Pointer(Pointer { kind: PointerKind::ContextMenu, target: 12, x: 300, y: 90 })),
            event(5, EventData::Pointer(Pointer { kind: PointerKind::TouchStart, target: 7, x: 1, y: 2 })),
            event(
                1_000,
                EventData::Navigation(Navigation {
                    kind: NavigationKind::Push,
                    url: "https://app.example.com/invoices/42".into(),
                    title: "Invoice 42".into(),
                }),
            ),
            event(
                10,
                EventData::Navigation(Navigation {
                    kind: NavigationKind::Hash,
                    url: "https://app.example.com/invoices/42#lines".into(),
                    title: "Invoice 42".into(),
                }),
            ),
            event(3_000, EventData::Visibility(Visibility { visible: false })),
            event(60_000, EventData::Visibility(Visibility { visible: true })),
            event(1, EventData::Viewport(Viewport { size: Size { width: 800, height: 600 } })),
        ],
    )
}

/// A batch of the facts underneath: requests, console output, errors, identity.
pub fn facts() -> Batch {
    let trace = TraceContext {
        trace_id: TraceId([
            0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
        ]),
        span_id: SpanId([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]),
    };
    envelope(
        2,
        1_780_000_070_000,
        vec![
            event(
                0,
                EventData::Identify(Identify {
                    user_id: "u_1842".into(),
                    traits: Value::Map(vec![
                        ("email".into(), Value::Str("jane@acme.com".into())),
                        ("plan".into(), Value::Str("enterprise".into())),
                        ("seats".into(), Value::Int(250)),
                        ("mrr".into(), Value::Float(1999.5)),
                        ("beta".into(), Value::Bool(true)),
                        ("manager".into(), Value::Null),
                        ("roles".into(), Value::List(vec![Value::Str("admin".into()), Value::Int(-1)])),
                    ]),
                }),
            ),
            event(
                250,
                EventData::Network(Box::new(Network {
                    id: 1,
                    initiator: Initiator::Fetch,
                    method: "POST".into(),
                    url: "https://app.example.com/api/invoices/42/send".into(),
                    status: 500,
                    duration: 184,
                    request_size: Some(52),
                    response_size: Some(61),
                    request: Some(HttpMessage {
                        headers: vec![
                            ("content-type".into(), "application/json".into()),
                            ("authorization".into(), "[redacted]".into()),
                        ],
                        body: Some(Body {
                            text: Some(r#"{"to":"billing@acme.com","password":"[redacted]"}"#.into()),
                            size: 52,
                            truncated: false,
                        }),
                    }),
                    response: Some(HttpMessage {
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: Some(Body { text: None, size: 61, truncated: false }),
                    }),
                    error: None,
                    trace: Some(trace),
                })),
            ),
            event(
                3,
                EventData::Network(Box::new(Network {
                    id: 2,
                    initiator: Initiator::Xhr,
                    method: "GET".into(),
                    url: "https://cdn.example.net/rates.json".into(),
                    status: 0,
                    duration: 30_000,
                    error: Some("timeout".into()),
                    ..Network::default()
                })),
            ),
            event(
                1,
                EventData::Console(Console {
                    level: ConsoleLevel::Error,
                    args: vec!["Send failed:".into(), "{\"status\":500}".into()],
                    stack: Some("at send (app.js:10:5)".into()),
                }),
            ),
            event(0, EventData::Console(Console { level: ConsoleLevel::Log, args: vec![], stack: None })),
            event(
                2,
                EventData::Error(Box::new(ErrorEvent {
                    kind: ErrorKind::Uncaught,
                    name: "TypeError".into(),
                    message: "Cannot read properties of undefined (reading 'total')".into(),
                    stack: Some("TypeError: Cannot read properties…\n    at render (app.js:88:17)".into()),
                    source: "https://app.example.com/app.js".into(),
                    line: 88,
                    column: 17,
                    target: 0,
                })),
            ),
            event(
                40,
                EventData::Error(Box::new(ErrorEvent {
                    kind: ErrorKind::Resource,
                    name: "img".into(),
                    message: "https://cdn.example.net/logo.png".into(),
                    stack: None,
                    source: String::new(),
                    line: 0,
                    column: 0,
                    target: 14,
                })),
            ),
            event(
                10,
                EventData::Custom(Custom {
                    name: "invoice_sent".into(),
                    props: Value::Map(vec![("amount".into(), Value::Float(1024.0))]),
                }),
            ),
            event(
                5,
                EventData::Canvas(CanvasFrame {
                    target: 14,
                    data_url: "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==".into(),
                }),
            ),
        ],
    )
}

/// Requests whose trace ids derive from the page's key, and one that came with its own
/// `traceparent` (protocol version 3); a golden vector of its own, outside [`all`].
pub fn derived_traces() -> Batch {
    let key = TraceKey(std::array::from_fn(|i| i as u8));
    let call = |id, trace| {
        EventData::Network(Box::new(Network {
            id,
            initiator: Initiator::Fetch,
            method: "GET".into(),
            url: format!("https://app.acme.test/api/invoices/{id}"),
            status: 200,
            duration: 38,
            response_size: Some(412),
            trace,
            ..Network::default()
        }))
    };
    let own = TraceContext::from_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let events =
        vec![event(0, call(1, Some(key.derive(1)))), event(40, call(2, own)), event(3, call(3, Some(key.derive(3))))];
    Batch { trace_key: Some(key), ..envelope(3, 1_780_000_020_000, events) }
}

/// A batch with an input the page's script set (a framework clearing a field after Enter).
pub fn scripted_input() -> Batch {
    let typed = Input { target: 9, value: "********".into(), checked: None, masked: true, scripted: false };
    let cleared = Input { value: String::new(), scripted: true, ..typed.clone() };
    let events = vec![event(0, EventData::Input(typed)), event(12, EventData::Input(cleared))];
    envelope(4, 1_780_000_030_000, events)
}

/// A batch with the user's feedback.
pub fn feedback() -> Batch {
    let words = Feedback { text: "The PDF button does nothing — invoice 40".into() };
    envelope(5, 1_780_000_040_000, vec![event(0, EventData::Feedback(words))])
}

/// The sample session's batches with the names of their golden vectors.
pub fn all() -> Vec<(&'static str, Batch)> {
    vec![("page_start", page_start()), ("interaction", interaction()), ("facts", facts())]
}
