//! The replayed page as inert HTML, for a sandboxed frame without scripts: nothing in it can
//! run, navigate, submit or fetch a script, whatever the recording holds.
//!
//! - `on*` attributes, `srcdoc`, and `javascript:` URLs are left out; `<script>` elements
//!   stay (the page's structure) but empty and without their `src` (the recorder never records
//!   a script's code; a recording that holds some anyway doesn't get it shown);
//!   `<meta http-equiv>` is left out.
//! - Text inside `<style>` and the like can't close its element early.
//! - Open shadow roots become declarative shadow roots (`<template shadowrootmode="open">`);
//!   a same-origin frame's recorded document becomes the frame's `srcdoc`.
//! - A blocked element is an empty box of its recorded size.
//! - Stylesheets recorded as rules (linked sheets, sheets changed through the CSSOM, adopted
//!   sheets) become `<style>` elements with those rules, so nothing is fetched for them.

use sightline_protocol::{Doctype, Element, NodeKind};

use crate::dom::ReplayDom;

/// Elements without content or end tag.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose content is raw text.
const RAW_TEXT: [&str; 6] = ["style", "script", "xmp", "noembed", "noframes", "noscript"];
/// Attributes that hold URLs.
const URL_ATTRIBUTES: [&str; 8] = ["href", "src", "action", "formaction", "poster", "background", "cite", "xlink:href"];

/// The document at `root` as inert HTML.
pub fn to_html(dom: &ReplayDom, root: u32) -> String {
    let mut out = String::new();
    write_node(dom, root, &mut out);
    out
}

fn write_node(dom: &ReplayDom, id: u32, out: &mut String) {
    let Some(node) = dom.node(id) else { return };
    match &node.kind {
        NodeKind::Document(_) => {
            write_children(dom, id, out);
            write_adopted(dom, id, out);
        }
        NodeKind::Doctype(Doctype { name, .. }) => {
            out.push_str("<!DOCTYPE ");
            out.push_str(if name.is_empty() { "html" } else { name });
            out.push('>');
        }
        NodeKind::Element(element) => write_element(dom, id, element, out),
        NodeKind::Text(text) | NodeKind::CData(text) => {
            let raw = parent_tag(dom, node.parent).is_some_and(|tag| RAW_TEXT.contains(&tag));
            if raw {
                // `</` can't close the element early.
                out.push_str(&text.replace("</", "<\\/"));
            } else {
                escape(text, false, out);
            }
        }
        NodeKind::Comment(_) => out.push_str("<!---->"),
        NodeKind::ShadowRoot(_) => {
            out.push_str("<template shadowrootmode=\"open\">");
            write_adopted(dom, id, out);
            write_children(dom, id, out);
            out.push_str("</template>");
        }
    }
}

fn parent_tag(dom: &ReplayDom, parent: u32) -> Option<&str> {
    match &dom.node(parent)?.kind {
        NodeKind::Element(e) => Some(e.tag.as_str()),
        _ => None,
    }
}

fn write_children(dom: &ReplayDom, id: u32, out: &mut String) {
    let Some(node) = dom.node(id) else { return };
    // A shadow root goes first, as the declarative form requires.
    let (shadow, light): (Vec<u32>, Vec<u32>) = node
        .children
        .iter()
        .partition(|child| matches!(dom.node(**child).map(|n| &n.kind), Some(NodeKind::ShadowRoot(_))));
    for child in shadow.into_iter().chain(light) {
        write_node(dom, child, out);
    }
}

/// A sheet's rules as a `<style>` element.
fn write_sheet(rules: &[String], media: &str, out: &mut String) {
    out.push_str("<style");
    if !media.is_empty() {
        out.push_str(" media=\"");
        escape(media, true, out);
        out.push('"');
    }
    out.push('>');
    for rule in rules {
        out.push_str(&rule.replace("</", "<\\/"));
        out.push('\n');
    }
    out.push_str("</style>");
}

fn write_adopted(dom: &ReplayDom, host: u32, out: &mut String) {
    for sheet in dom.adopted_by(host) {
        write_sheet(&sheet.rules, &sheet.media, out);
    }
}

fn write_element(dom: &ReplayDom, id: u32, element: &Element, out: &mut String) {
    let tag = element.tag.as_str();
    if tag == "style" || tag == "link" {
        if let Some(sheet) = dom.sheet_of(id) {
            write_sheet(&sheet.rules, &sheet.media, out);
            return;
        }
    }
    if tag == "meta" && element.attrs.iter().any(|(name, _)| name.eq_ignore_ascii_case("http-equiv")) {
        return;
    }
    out.push('<');
    out.push_str(tag);
    let mut blocked_size = None;
    for (name, value) in &element.attrs {
        let lower = name.to_ascii_lowercase();
        let url = URL_ATTRIBUTES.contains(&lower.as_str());
        if lower.starts_with("on")
            || lower == "srcdoc"
            || (url && value.trim_start().to_ascii_lowercase().starts_with("javascript:"))
            || (tag == "script" && lower == "src")
            || !is_attribute_name(name)
        {
            continue;
        }
        if lower == "data-sl-blocked" {
            blocked_size = Some(value.clone());
        }
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape(value, true, out);
        out.push('"');
    }
    if let Some(size) = blocked_size {
        let mut parts = size.split(' ').map(|n| n.parse::<u32>().unwrap_or(0));
        let (width, height) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        out.push_str(&format!(" style=\"display:inline-block;width:{width}px;height:{height}px;background:#d9dce3\""));
    }
    if tag == "iframe" {
        // The frame's recorded document, if any, is its child.
        let document = dom.node(id).and_then(|n| {
            n.children.iter().find(|c| matches!(dom.node(**c).map(|n| &n.kind), Some(NodeKind::Document(_))))
        });
        if let Some(&document) = document {
            out.push_str(" srcdoc=\"");
            escape(&to_html(dom, document), true, out);
            out.push('"');
        }
    }
    out.push('>');
    if VOID.contains(&tag) && dom.is_html(id) {
        return;
    }
    if tag != "iframe" && tag != "script" {
        write_children(dom, id, out);
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Attribute names that HTML can carry as they are; anything else (quotes, `=`, `<`, spaces)
/// would change the markup, so it is left out.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | '<' | '/' | '=' | '\0'))
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' if !attribute => out.push_str("&lt;"),
            '>' if !attribute => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{DocumentNode, EventData, Namespace, Node, ShadowRootNode, Snapshot};

    fn el(id: u32, parent: u32, tag: &str, attrs: &[(&str, &str)]) -> Node {
        let attrs = attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
        Node { id, parent, next: 0, kind: NodeKind::Element(Element { tag: tag.into(), attrs, ns: Namespace::Html }) }
    }

    fn replay(nodes: Vec<Node>) -> ReplayDom {
        let mut dom = ReplayDom::new();
        dom.apply(&EventData::Snapshot(Snapshot { nodes }));
        dom
    }

    #[test]
    fn the_html_is_inert_whatever_the_recording_holds() {
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            Node {
                id: 2,
                parent: 1,
                next: 0,
                kind: NodeKind::Doctype(Doctype { name: "html".into(), ..Doctype::default() }),
            },
            el(3, 1, "html", &[]),
            el(4, 3, "body", &[("onload", "steal()")]),
            el(5, 4, "a", &[("href", " JavaScript:steal()"), ("title", "a \"quoted\" <title>")]),
            el(6, 4, "script", &[("src", "https://evil.example/x.js")]),
            el(7, 4, "style", &[]),
            Node { id: 8, parent: 7, next: 0, kind: NodeKind::Text("p{}</style><img src=x onerror=steal()>".into()) },
            el(9, 4, "meta", &[("http-equiv", "refresh"), ("content", "0;url=https://evil.example")]),
            el(10, 4, "iframe", &[("srcdoc", "<script>steal()</script>")]),
            Node { id: 11, parent: 4, next: 0, kind: NodeKind::Text("1 < 2 & 3".into()) },
            el(12, 4, "img", &[("src", "https://cdn.example/a.png"), ("bad\"name", "x")]),
        ]);
        let html = to_html(&dom, 1);
        assert_eq!(
            html,
            "<!DOCTYPE html><html><body><a title=\"a &quot;quoted&quot; <title>\"></a><script></script>\
             <style>p{}<\\/style><img src=x onerror=steal()></style><iframe></iframe>1 &lt; 2 &amp; 3\
             <img src=\"https://cdn.example/a.png\"></body></html>"
        );
    }

    #[test]
    fn sheets_recorded_as_rules_render_as_style_elements() {
        use sightline_protocol::{AdoptedStyleSheets, StyleRule, StyleSheet};
        let mut dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(2, 1, "link", &[("rel", "stylesheet"), ("href", "https://cdn.example/app.css")]),
            el(3, 1, "style", &[]),
        ]);
        let sheet = |id, owner, rules: &[&str]| {
            EventData::StyleSheet(StyleSheet {
                id,
                owner,
                rules: rules.iter().map(|r| (*r).into()).collect(),
                media: String::new(),
            })
        };
        dom.apply(&sheet(1, 2, &["body { color: red; }", "@media print { .p { margin: 0; } }"]));
        // Inside the grouping rule: one rule in, the first one out.
        dom.apply(&EventData::StyleRule(StyleRule { sheet: 1, path: vec![1, 1], rule: Some(".q { x: 1; }".into()) }));
        dom.apply(&EventData::StyleRule(StyleRule { sheet: 1, path: vec![1, 0], rule: None }));
        dom.apply(&sheet(2, 3, &[".a { margin: 0; }"]));
        dom.apply(&EventData::StyleRule(StyleRule {
            sheet: 2,
            path: vec![0],
            rule: Some(".b { padding: 0; }".into()),
        }));
        dom.apply(&EventData::StyleRule(StyleRule { sheet: 2, path: vec![1], rule: None }));
        dom.apply(&sheet(3, 0, &[".adopted { gap: 1px; }"]));
        dom.apply(&EventData::AdoptedStyleSheets(AdoptedStyleSheets { host: 1, sheets: vec![3] }));
        assert_eq!(
            to_html(&dom, 1),
            "<style>body { color: red; }\n@media print {\n  .q { x: 1; }\n}\n</style><style>.b { padding: 0; }\n</style><style>.adopted { gap: 1px; }\n</style>"
        );
    }

    #[test]
    fn shadow_roots_frames_and_blocked_elements_render_as_the_user_saw_them() {
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(2, 1, "div", &[("id", "host")]),
            el(3, 2, "p", &[]),
            Node { id: 4, parent: 2, next: 3, kind: NodeKind::ShadowRoot(ShadowRootNode {}) },
            el(5, 4, "slot", &[]),
            el(6, 1, "iframe", &[]),
            Node { id: 7, parent: 6, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(8, 7, "p", &[("class", "inner")]),
            el(9, 1, "div", &[("data-sl-blocked", "120 40"), ("class", "chart")]),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<div id=\"host\"><template shadowrootmode=\"open\"><slot></slot></template><p></p></div>\
             <iframe srcdoc=\"<p class=&quot;inner&quot;></p>\"></iframe>\
             <div data-sl-blocked=\"120 40\" class=\"chart\" style=\"display:inline-block;width:120px;height:40px;background:#d9dce3\"></div>"
        );
    }
}
