//! What the page's JavaScript hands over for every event but the DOM's own (those come on the
//! walker's [tape](crate::tape)): a kind, the event's numbers as `f64`s and its text fields
//! joined by NUL. One entry point for every kind keeps the JS↔wasm boundary, and the glue
//! wasm-bindgen writes for it, small.
//!
//! | kind | numbers | text fields |
//! |---|---|---|
//! | [`NAVIGATION`] | kind (1 push, 2 replace, 3 back/forward, 4 hash change) | URL, title |
//! | [`VISIBILITY`] | visible (0 or 1) | |
//! | [`VIEWPORT`] | width, height | |
//! | [`META`] | device, screen width and height, viewport width and height, pixel ratio, UTC offset (minutes) | URL, referrer, title, user agent, browser name and version, OS name and version, language, time zone |
//! | [`CONSOLE`] | level, argument count *n*, has stack | *n* arguments, stack |
//! | [`ERROR`] | kind, line, column, has stack | name, message, source, stack |
//! | [`STYLE_SHEET`] | id, owner node | media, then the rules (none when empty) |
//! | [`STYLE_RULE`] | sheet, has rule, then the index path | rule |
//! | [`ADOPTED_STYLE_SHEETS`] | host, then the sheets | |
//! | [`NETWORK`] | the request's number within the page (from 1; its derived trace ids are those of this number), initiator, status, start, end, request size, response size, request body size, request truncated, response body size, response truncated, request header count (negative: headers and body not recorded), has request body, the same two for the response, has error, has `traceparent` | method, URL, request headers (name and value in turn), request body, response headers, response body, error, `traceparent` |
//! | [`CANVAS`] | target | `data:` URL |
//! | [`POINTER`] | kind, target, x, y | |
//! | [`MOUSE_MOVES`] | `x, y, offset` triples | |
//! | [`SCROLL`] | target, x, y | |
//! | [`SCROLL_POSITION`] | target, x, y: a scroll the page made, or the position a snapshot finds; not the user's | |
//! | [`INPUT`] | target, checked (0 not a checkbox or radio, 1 unchecked, 2 checked), masked, set by script | value |
//! | [`FOCUS`] | target, focused | |
//! | [`KEY`] | target, modifiers (1 Ctrl, 2 Alt, 4 Shift, 8 Meta) | the key (`Enter`, `Escape`, …) |
//! | [`SUBMIT`] | the form | |
//! | [`FEEDBACK`] | | what the user wrote |
//! | [`CUSTOM`] | a [value](#values) | name, then the value's |
//! | [`IDENTIFY`] | a [value](#values) | user id, then the value's |
//! | [`TIMEZONE`] | | the time zone, for the page's metadata |
//! | [`TRACE_KEY`] | the 32 bytes of the page's trace key | |
//!
//! Sizes are negative when unknown. Text fields contain no NUL (the wrapper replaces it).
//!
//! ## Values
//! Plain-JSON values, depth first: a tag (0 null, 1 false, 2 true, 3 number followed by the
//! number, 4 string with a text field, 5 list followed by its length, 6 map followed by its
//! length, each entry a key text field and a value).

use sightline_protocol::{
    AdoptedStyleSheets, Body, CanvasFrame, Console, ConsoleLevel, Custom, DeviceType, ErrorEvent, ErrorKind, EventData,
    Feedback, Focus, HttpMessage, Identify, Initiator, Input, Key, MouseMove, MovePoint, Navigation, NavigationKind,
    Network, PageMeta, Pointer, PointerKind, Scroll, Size, Software, StyleRule, StyleSheet, Submit, TraceContext,
    Value, Viewport, Visibility, MAX_FEEDBACK,
};

use crate::tape::{clip, Reader, TapeError, MAX_FIELD};

pub const NAVIGATION: u8 = 1;
pub const VISIBILITY: u8 = 2;
pub const VIEWPORT: u8 = 3;
pub const META: u8 = 4;
pub const CONSOLE: u8 = 5;
pub const ERROR: u8 = 6;
pub const STYLE_SHEET: u8 = 7;
pub const STYLE_RULE: u8 = 8;
pub const ADOPTED_STYLE_SHEETS: u8 = 9;
pub const NETWORK: u8 = 10;
pub const CANVAS: u8 = 11;
pub const POINTER: u8 = 12;
pub const MOUSE_MOVES: u8 = 13;
pub const SCROLL: u8 = 14;
pub const INPUT: u8 = 15;
pub const FOCUS: u8 = 16;
pub const CUSTOM: u8 = 17;
pub const IDENTIFY: u8 = 18;
/// Not an event: the page's IANA time zone, once known, as the only text field.
pub const TIMEZONE: u8 = 19;
/// Not an event: the key the page derives its requests' trace ids from
/// ([`TraceKey::derive`](sightline_protocol::TraceKey::derive)).
pub const TRACE_KEY: u8 = 20;
pub const SCROLL_POSITION: u8 = 21;
pub const KEY: u8 = 22;
pub const SUBMIT: u8 = 23;
pub const FEEDBACK: u8 = 24;

/// Values nest at most this deep; deeper ones are an error (the wrapper stops at 8).
const MAX_VALUE_DEPTH: usize = 16;

impl Reader<'_, f64> {
    fn int<T: TryFrom<i64> + Default>(&mut self) -> T {
        T::try_from(self.num() as i64).unwrap_or_default()
    }

    fn flag(&mut self) -> bool {
        self.num() != 0.0
    }

    /// A size, `None` when negative.
    fn size(&mut self) -> Option<u64> {
        let n = self.num();
        (n >= 0.0).then_some(n as u64)
    }

    fn optional_text(&mut self, present: bool, max: usize) -> Option<String> {
        present.then(|| self.text(max))
    }

    /// The numbers not read yet.
    fn rest<T: TryFrom<i64> + Default>(&mut self) -> Vec<T> {
        self.nums.by_ref().map(|n| T::try_from(*n as i64).unwrap_or_default()).collect()
    }

    /// A count of values, which can't exceed the numbers left: every value takes at least one.
    fn count(&mut self) -> usize {
        let count = self.num() as usize;
        if count > self.nums.len() {
            self.fail(TapeError::Truncated);
            return 0;
        }
        count
    }

    fn value(&mut self, depth: usize) -> Value {
        if depth > MAX_VALUE_DEPTH {
            self.fail(TapeError::Truncated);
            return Value::Null;
        }
        match self.num() as u32 {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => {
                let n = self.num();
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Value::Int(n as i64)
                } else {
                    Value::Float(n)
                }
            }
            4 => Value::Str(self.text(MAX_FIELD)),
            5 => {
                let count = self.count();
                Value::List(self.list(count, |r| r.value(depth + 1)))
            }
            6 => {
                let count = self.count();
                Value::Map(self.list(count, |r| (r.text(MAX_FIELD), r.value(depth + 1))))
            }
            other => {
                self.fail(TapeError::UnknownKind(other));
                Value::Null
            }
        }
    }
}

/// The event `kind` describes with `nums` and `texts`. Page metadata comes without the SDK's
/// version, and a request without its number on the page: the recorder adds both.
pub fn event(kind: u8, nums: &[f64], texts: &str) -> Result<EventData, TapeError> {
    let mut r = Reader::new(nums, texts);
    let data = match kind {
        NAVIGATION => {
            let kind = NavigationKind::from_u8(r.int());
            EventData::Navigation(Navigation { kind, url: r.text(8192), title: r.text(1024) })
        }
        VISIBILITY => EventData::Visibility(Visibility { visible: r.flag() }),
        VIEWPORT => EventData::Viewport(Viewport { size: Size { width: r.int(), height: r.int() } }),
        META => {
            let device = DeviceType::from_u8(r.int());
            let screen = Size { width: r.int(), height: r.int() };
            let viewport = Size { width: r.int(), height: r.int() };
            let pixel_ratio = r.num() as f32;
            let utc_offset = r.int();
            EventData::Meta(Box::new(PageMeta {
                url: r.text(4096),
                referrer: r.text(4096),
                title: r.text(1024),
                user_agent: r.text(1024),
                browser: Software { name: r.text(256), version: r.text(256) },
                os: Software { name: r.text(256), version: r.text(256) },
                device,
                screen,
                viewport,
                pixel_ratio,
                language: r.text(64),
                timezone: r.text(64),
                utc_offset,
                sdk: String::new(),
            }))
        }
        CONSOLE => {
            let level = ConsoleLevel::from_u8(r.int());
            let count = r.num() as usize;
            let has_stack = r.flag();
            let args = r.list(count, |r| r.text(MAX_FIELD));
            EventData::Console(Console { level, args, stack: r.optional_text(has_stack, MAX_FIELD) })
        }
        ERROR => {
            let kind = ErrorKind::from_u8(r.int());
            let (line, column, has_stack) = (r.int(), r.int(), r.flag());
            EventData::Error(Box::new(ErrorEvent {
                kind,
                name: r.text(1024),
                message: r.text(MAX_FIELD),
                source: r.text(8192),
                stack: r.optional_text(has_stack, MAX_FIELD),
                line,
                column,
                target: 0,
            }))
        }
        STYLE_SHEET => {
            let (id, owner) = (r.int(), r.int());
            let media = r.text(4096);
            let rules = r.texts.by_ref().map(|rule| clip(rule, MAX_FIELD)).collect();
            EventData::StyleSheet(StyleSheet { id, owner, rules, media })
        }
        STYLE_RULE => {
            let (sheet, has_rule) = (r.int(), r.flag());
            let rule = r.optional_text(has_rule, MAX_FIELD);
            EventData::StyleRule(StyleRule { sheet, path: r.rest(), rule })
        }
        ADOPTED_STYLE_SHEETS => {
            let host = r.int();
            EventData::AdoptedStyleSheets(AdoptedStyleSheets { host, sheets: r.rest() })
        }
        NETWORK => network(&mut r),
        CANVAS => EventData::Canvas(CanvasFrame { target: r.int(), data_url: r.text(usize::MAX) }),
        POINTER => {
            let kind = PointerKind::from_u8(r.int());
            EventData::Pointer(Pointer { kind, target: r.int(), x: r.int(), y: r.int() })
        }
        MOUSE_MOVES => {
            let samples: Vec<i32> = r.rest();
            let points = samples
                .chunks_exact(3)
                .map(|s| MovePoint { x: s[0], y: s[1], offset: u32::try_from(s[2]).unwrap_or(0) })
                .collect();
            EventData::MouseMove(MouseMove { points })
        }
        SCROLL | SCROLL_POSITION => EventData::Scroll(Scroll { target: r.int(), x: r.int(), y: r.int() }),
        INPUT => {
            let target = r.int();
            let checked = match r.int::<u8>() {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            };
            let masked = r.flag();
            let scripted = r.flag();
            EventData::Input(Input { target, value: r.text(MAX_FIELD), checked, masked, scripted })
        }
        FOCUS => EventData::Focus(Focus { target: r.int(), focused: r.flag() }),
        KEY => EventData::Key(Key { target: r.int(), modifiers: r.int(), key: r.text(32) }),
        SUBMIT => EventData::Submit(Submit { target: r.int() }),
        // Characters are at most four bytes: the SDK clips to MAX_FEEDBACK characters first.
        FEEDBACK => EventData::Feedback(Feedback { text: r.text(MAX_FEEDBACK * 4) }),
        CUSTOM => EventData::Custom(Custom { name: r.text(1024), props: r.value(0) }),
        IDENTIFY => EventData::Identify(Identify { user_id: r.text(256), traits: r.value(0) }),
        other => return Err(TapeError::UnknownKind(u32::from(other))),
    };
    // What the wrapper wrote and what is read here must agree to the last field. (No text
    // fields arrive as one empty one.)
    if r.nums.len() > 0 || (r.texts.next().is_some() && !texts.is_empty()) {
        r.fail(TapeError::Leftover);
    }
    r.finish(data)
}

fn network(r: &mut Reader<f64>) -> EventData {
    let id = r.int();
    let initiator = Initiator::from_u8(r.int());
    let status = r.int();
    let (start, end) = (r.num(), r.num());
    let (request_size, response_size) = (r.size(), r.size());
    let request_body = (r.num(), r.flag());
    let response_body = (r.num(), r.flag());
    let mut shape = [0.0; 6];
    for n in &mut shape {
        *n = r.num();
    }
    let method = r.text(32);
    let url = r.text(8192);
    let mut message = |headers: f64, has_text: f64, (size, truncated): (f64, bool)| {
        // A negative header count: the call's headers and body were not recorded.
        if headers < 0.0 {
            return None;
        }
        let headers = r.list(headers as usize, |r| (r.text(256), r.text(4096)));
        let text = r.optional_text(has_text != 0.0, MAX_FIELD);
        let body = (text.is_some() || size >= 0.0).then(|| Body { text, size: size.max(0.0) as u64, truncated });
        Some(HttpMessage { headers, body })
    };
    let request = message(shape[0], shape[1], request_body);
    let response = message(shape[2], shape[3], response_body);
    let error = r.optional_text(shape[4] != 0.0, 1024);
    let trace = r.optional_text(shape[5] != 0.0, 64).as_deref().and_then(TraceContext::from_traceparent);
    EventData::Network(Box::new(Network {
        id,
        initiator,
        method,
        url,
        status,
        duration: (end - start).clamp(0.0, f64::from(u32::MAX)) as u32,
        request_size,
        response_size,
        request,
        response,
        error,
        trace,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_its_numbers_and_text_fields() {
        assert_eq!(
            event(NAVIGATION, &[1.0], "https://app.example/invoices\0Invoices").unwrap(),
            EventData::Navigation(Navigation {
                kind: NavigationKind::Push,
                url: "https://app.example/invoices".into(),
                title: "Invoices".into()
            })
        );
        assert_eq!(
            event(INPUT, &[7.0, 0.0, 1.0, 0.0], "****").unwrap(),
            EventData::Input(Input { target: 7, value: "****".into(), checked: None, masked: true, scripted: false })
        );
        assert_eq!(
            event(INPUT, &[8.0, 2.0, 0.0, 0.0], "").unwrap(),
            EventData::Input(Input {
                target: 8,
                value: String::new(),
                checked: Some(true),
                masked: false,
                scripted: false
            })
        );
        assert_eq!(
            event(INPUT, &[8.0, 1.0, 0.0, 1.0], "").unwrap(),
            EventData::Input(Input {
                target: 8,
                value: String::new(),
                checked: Some(false),
                masked: false,
                scripted: true
            })
        );
        assert_eq!(
            event(POINTER, &[0.0, 12.0, -3.0, 40.0], "").unwrap(),
            EventData::Pointer(Pointer { kind: PointerKind::Click, target: 12, x: -3, y: 40 })
        );
        let EventData::MouseMove(moves) = event(MOUSE_MOVES, &[1.0, 2.0, 0.0, 3.0, 4.0, 50.0, 9.0], "").unwrap() else {
            panic!("mouse moves")
        };
        assert_eq!(moves.points.len(), 2, "an incomplete triple is dropped");
        assert_eq!((moves.points[1].x, moves.points[1].offset), (3, 50));
        let EventData::Console(console) = event(CONSOLE, &[4.0, 2.0, 1.0], "a\0b\0at f (x.js:1)").unwrap() else {
            panic!("console")
        };
        assert_eq!(
            (console.level, console.args, console.stack),
            (ConsoleLevel::Error, vec!["a".into(), "b".into()], Some("at f (x.js:1)".into()))
        );
        let EventData::Error(error) = event(ERROR, &[2.0, 0.0, 0.0, 0.0], "img\0https://cdn/x.png\0").unwrap() else {
            panic!("error")
        };
        assert_eq!((error.kind, error.name.as_str(), error.stack), (ErrorKind::Resource, "img", None));
        let EventData::StyleSheet(sheet) = event(STYLE_SHEET, &[3.0, 9.0], "screen\0a{}\0").unwrap() else {
            panic!("sheet")
        };
        assert_eq!((sheet.media.as_str(), sheet.rules), ("screen", vec!["a{}".to_owned(), String::new()]));
        let EventData::StyleSheet(empty) = event(STYLE_SHEET, &[3.0, 0.0], "").unwrap() else { panic!("sheet") };
        assert!(empty.rules.is_empty());
        assert_eq!(
            event(STYLE_RULE, &[3.0, 0.0, 1.0, 4.0], "").unwrap(),
            EventData::StyleRule(StyleRule { sheet: 3, path: vec![1, 4], rule: None })
        );
        let meta_texts = ["u", "r", "t", "ua", "Safari", "17", "iOS", "17.1", "en", ""].join("\0");
        let EventData::Meta(meta) = event(META, &[2.0, 390.0, 844.0, 390.0, 700.0, 3.0, -300.0], &meta_texts).unwrap()
        else {
            panic!("meta")
        };
        assert_eq!((meta.device, meta.viewport.height, meta.utc_offset), (DeviceType::Mobile, 700, -300));
        assert_eq!((meta.os.version.as_str(), meta.timezone.as_str(), meta.pixel_ratio), ("17.1", "", 3.0));
        assert_eq!(
            event(FEEDBACK, &[], "The PDF button does nothing").unwrap(),
            EventData::Feedback(Feedback { text: "The PDF button does nothing".into() })
        );
    }

    #[test]
    fn a_request_carries_headers_and_bodies_only_where_captured() {
        let nums = [7.0, 0.0, 503.0, 1_000.0, 1_250.0, 10.0, -1.0, 10.0, 0.0, -1.0, 0.0, 1.0, 1.0, -1.0, 1.0, 0.0, 1.0];
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let texts = format!("POST\0https://api/x\0content-type\0application/json\0{{\"a\":1}}\0{traceparent}");
        let EventData::Network(call) = event(NETWORK, &nums, &texts).unwrap() else { panic!("network") };
        assert_eq!((call.id, call.method.as_str(), call.status, call.duration), (7, "POST", 503, 250));
        assert_eq!((call.request_size, call.response_size), (Some(10), None));
        let request = call.request.unwrap();
        assert_eq!(request.headers, vec![("content-type".to_owned(), "application/json".to_owned())]);
        assert_eq!(request.body.unwrap().text.as_deref(), Some("{\"a\":1}"));
        assert!(call.response.is_none(), "not captured, though a body was flagged");
        assert_eq!(call.error, None);
        assert!(call.trace.is_some());
    }

    #[test]
    fn values_nest_as_plain_json() {
        // {"plan": "pro", "seats": 12, "ratio": 0.5, "tags": [true, null]}
        let nums = [6.0, 4.0, 4.0, 3.0, 12.0, 3.0, 0.5, 5.0, 2.0, 2.0, 0.0];
        let EventData::Custom(custom) = event(CUSTOM, &nums, "upgraded\0plan\0pro\0seats\0ratio\0tags").unwrap() else {
            panic!("custom")
        };
        assert_eq!(custom.name, "upgraded");
        assert_eq!(
            custom.props,
            Value::Map(vec![
                ("plan".into(), Value::Str("pro".into())),
                ("seats".into(), Value::Int(12)),
                ("ratio".into(), Value::Float(0.5)),
                ("tags".into(), Value::List(vec![Value::Bool(true), Value::Null])),
            ])
        );
    }

    #[test]
    fn descriptions_that_disagree_with_themselves_are_errors_not_panics() {
        assert_eq!(event(99, &[], ""), Err(TapeError::UnknownKind(99)));
        assert_eq!(event(POINTER, &[0.0, 1.0, 2.0, 3.0, 4.0], ""), Err(TapeError::Leftover), "a number too many");
        assert_eq!(event(NAVIGATION, &[1.0], "/a\0A\0extra"), Err(TapeError::Leftover), "a text field too many");
        assert_eq!(event(VISIBILITY, &[1.0], ""), Ok(EventData::Visibility(Visibility { visible: true })));
        assert_eq!(event(POINTER, &[0.0, 1.0], ""), Err(TapeError::Truncated));
        assert_eq!(event(CONSOLE, &[1.0, 3.0, 0.0], "only one"), Err(TapeError::Truncated));
        assert_eq!(event(CONSOLE, &[1.0, 1e300, 0.0], "a"), Err(TapeError::Truncated), "a count past the texts");
        let mut huge_headers = [0.0; 17];
        huge_headers[11] = 1e300;
        assert_eq!(event(NETWORK, &huge_headers, "GET\0/"), Err(TapeError::Truncated));
        assert_eq!(event(CUSTOM, &[5.0, 1e12], "n"), Err(TapeError::Truncated), "a list longer than the tape");
        assert_eq!(event(CUSTOM, &[9.0], "n"), Err(TapeError::UnknownKind(9)));
        let deep = [5.0, 1.0].repeat(40);
        assert_eq!(event(CUSTOM, &deep, "n"), Err(TapeError::Truncated), "nesting is bounded");
        let long = "é".repeat(MAX_FIELD);
        let EventData::Input(input) = event(INPUT, &[1.0, 0.0, 1.0, 0.0], &long).unwrap() else { panic!("input") };
        assert!(input.value.len() <= MAX_FIELD && input.value.is_char_boundary(input.value.len()));
    }
}
