//! The numbers the page's JavaScript and the recorder agree on, written on both sides: the
//! event kinds of the [intake](crate::intake), the node kinds of the [tape](crate::tape) and the
//! namespaces, all in `npm/src/kinds.js`. These tests read the JavaScript and hold each number
//! to the Rust one.

use std::collections::HashMap;

use sightline_protocol::Namespace;

use crate::{intake, tape};

/// The JavaScript side: the constants the SDK's modules import.
const KINDS_JS: &str = include_str!("../../npm/src/kinds.js");

/// Every `const NAME = number;` (exported or not) at the start of a line of `source`.
fn js_constants(source: &str) -> HashMap<&str, u32> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (name, value) = line.strip_prefix("const ")?.split_once(" = ")?;
            Some((name, value.split(';').next()?.trim().parse().ok()?))
        })
        .collect()
}

fn assert_same(source: &str, file: &str, expected: &[(&str, u32)]) {
    let found = js_constants(source);
    for (name, value) in expected {
        assert_eq!(found.get(name), Some(value), "{name} in {file}");
    }
}

#[test]
fn the_event_kinds_are_the_intakes() {
    let kinds = [
        ("NAVIGATION", intake::NAVIGATION),
        ("VISIBILITY", intake::VISIBILITY),
        ("VIEWPORT", intake::VIEWPORT),
        ("META", intake::META),
        ("CONSOLE", intake::CONSOLE),
        ("ERROR", intake::ERROR),
        ("STYLE_SHEET", intake::STYLE_SHEET),
        ("STYLE_RULE", intake::STYLE_RULE),
        ("ADOPTED_STYLE_SHEETS", intake::ADOPTED_STYLE_SHEETS),
        ("NETWORK", intake::NETWORK),
        ("CANVAS", intake::CANVAS),
        ("POINTER", intake::POINTER),
        ("MOUSE_MOVES", intake::MOUSE_MOVES),
        ("SCROLL", intake::SCROLL),
        ("INPUT", intake::INPUT),
        ("FOCUS", intake::FOCUS),
        ("CUSTOM", intake::CUSTOM),
        ("IDENTIFY", intake::IDENTIFY),
        ("TIMEZONE", intake::TIMEZONE),
        ("TRACE_KEY", intake::TRACE_KEY),
        ("SCROLL_POSITION", intake::SCROLL_POSITION),
        ("KEY", intake::KEY),
        ("SUBMIT", intake::SUBMIT),
        ("FEEDBACK", intake::FEEDBACK),
    ];
    let expected: Vec<(&str, u32)> = kinds.iter().map(|(name, kind)| (*name, u32::from(*kind))).collect();
    assert_same(KINDS_JS, "kinds.js", &expected);
}

#[test]
fn the_node_kinds_and_namespaces_are_the_tapes() {
    assert_same(
        KINDS_JS,
        "kinds.js",
        &[
            ("DOCUMENT", tape::DOCUMENT),
            ("DOCTYPE", tape::DOCTYPE),
            ("ELEMENT", tape::ELEMENT),
            ("TEXT", tape::TEXT),
            ("COMMENT", tape::COMMENT),
            ("CDATA", tape::CDATA),
            ("SHADOW_ROOT", tape::SHADOW_ROOT),
        ],
    );
    let namespaces =
        KINDS_JS.lines().find(|l| l.starts_with("export const NAMESPACES = ")).expect("NAMESPACES in kinds.js");
    for (uri, ns) in
        [("http://www.w3.org/2000/svg", Namespace::Svg), ("http://www.w3.org/1998/Math/MathML", Namespace::MathMl)]
    {
        assert!(namespaces.contains(&format!("'{uri}': {}", ns.to_u8())), "{uri} in {namespaces}");
    }
}

#[test]
fn the_reader_of_constants_reads_them() {
    let found = js_constants("const A = 1;\n  const B = 2;\nconst C = 'x';\nconst D = 40; // why\nexport const E = 5;");
    assert_eq!(found, HashMap::from([("A", 1), ("D", 40), ("E", 5)]));
}
