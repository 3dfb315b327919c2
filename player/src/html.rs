//! The replayed page as inert HTML, for a sandboxed frame without scripts: what of each
//! element is shown is [`crate::inert`]'s to decide; this module writes it so that the frame
//! parses it into the tree the user saw.
//!
//! - Text inside `<style>` and the like can't close its element early; it is raw text only in
//!   HTML elements (in SVG, `<style>` text is escaped like any other).
//! - Doctype names that HTML can't carry as they are fall back to `html`; a doctype keeps its
//!   public and system identifiers, so the page replays in the mode it was shown in (a page
//!   without a doctype, in quirks mode).
//! - Open shadow roots become declarative shadow roots (`<template shadowrootmode="open">`).
//! - Sheets a document or shadow root adopted become `<style>` elements of their rules.
//! - Where the user had scrolled an element is written as `data-sl-scroll="x y"`, for the viewer
//!   to scroll it there once the frame has loaded.

use sightline_protocol::{Doctype, Element, NodeKind};

use crate::dom::ReplayDom;
use crate::inert::{inert_element, is_tag_name, Holds};

/// Elements without content or end tag.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose content is raw text.
const RAW_TEXT: [&str; 6] = ["style", "script", "xmp", "noembed", "noframes", "noscript"];

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
        NodeKind::Doctype(doctype) => write_doctype(doctype, out),
        NodeKind::Element(element) => write_element(dom, id, element, out),
        NodeKind::Text(text) | NodeKind::CData(text) => {
            let raw =
                dom.is_html(node.parent) && parent_tag(dom, node.parent).is_some_and(|tag| RAW_TEXT.contains(&tag));
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
    // A shadow root goes first, as the declarative form requires.
    let (shadow, light): (Vec<u32>, Vec<u32>) =
        dom.children(id).partition(|child| matches!(dom.node(*child).map(|n| &n.kind), Some(NodeKind::ShadowRoot(_))));
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

/// `<!DOCTYPE name PUBLIC "…" "…">` as recorded, with what can't be written as it is left out.
pub(crate) fn write_doctype(doctype: &Doctype, out: &mut String) {
    let Doctype { name, public_id, system_id } = doctype;
    let quotable = |id: &str| !id.contains(['"', '>']);
    out.push_str("<!DOCTYPE ");
    out.push_str(if is_tag_name(name) { name } else { "html" });
    match (public_id.is_empty() || !quotable(public_id), system_id.is_empty() || !quotable(system_id)) {
        (false, no_system) => {
            out.push_str(" PUBLIC \"");
            out.push_str(public_id);
            out.push('"');
            if !no_system {
                out.push_str(" \"");
                out.push_str(system_id);
                out.push('"');
            }
        }
        (true, false) => {
            out.push_str(" SYSTEM \"");
            out.push_str(system_id);
            out.push('"');
        }
        (true, true) => {}
    }
    out.push('>');
}

fn write_element(dom: &ReplayDom, id: u32, element: &Element, out: &mut String) {
    let Some(shown) = inert_element(dom, id, element) else { return };
    let tag = shown.tag.as_str();
    out.push('<');
    out.push_str(tag);
    for (name, value) in &shown.attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape(value, true, out);
        out.push('"');
    }
    if let Some((x, y)) = dom.node(id).and_then(|n| n.scroll).filter(|&(x, y)| x != 0 || y != 0) {
        out.push_str(&format!(" data-sl-scroll=\"{x} {y}\""));
    }
    out.push('>');
    if VOID.contains(&tag) && dom.is_html(id) {
        return;
    }
    match &shown.holds {
        Holds::Children => write_children(dom, id, out),
        Holds::Value(value) => {
            // The first newline after the start tag is not content: written twice, one is kept.
            if value.starts_with('\n') {
                out.push('\n');
            }
            escape(value, false, out);
        }
        Holds::Rules(rules) => out.push_str(&rules.replace("</", "<\\/")),
        Holds::Nothing => {}
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
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

    fn svg_el(id: u32, parent: u32, tag: &str, attrs: &[(&str, &str)]) -> Node {
        let mut node = el(id, parent, tag, attrs);
        if let NodeKind::Element(e) = &mut node.kind {
            e.ns = Namespace::Svg;
        }
        node
    }

    fn doctype(id: u32, parent: u32, name: &str, public_id: &str, system_id: &str) -> Node {
        let kind =
            NodeKind::Doctype(Doctype { name: name.into(), public_id: public_id.into(), system_id: system_id.into() });
        Node { id, parent, next: 0, kind }
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
    fn urls_are_read_the_way_a_browser_reads_them() {
        let svg = svg_el;
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(2, 1, "a", &[("href", "\u{1}javascript:steal()")]),
            el(3, 1, "a", &[("href", "java\tscript:steal()"), ("ping", "https://track.example/")]),
            el(4, 1, "a", &[("href", " VBScript:steal()")]),
            el(5, 1, "iframe", &[("src", "data:text/html,<script>steal()</script>")]),
            el(6, 1, "form", &[("action", "DATA:text/html,x")]),
            el(7, 1, "img", &[("src", "data:image/png;base64,AAAA")]),
            svg(8, 1, "svg", &[]),
            svg(9, 8, "a", &[("href", "#ok")]),
            svg(10, 9, "set", &[("attributeName", "href"), ("to", "javascript:steal()")]),
            el(11, 1, "a", &[("href", "https://app.example/javascript:ok")]),
            el(12, 1, "meta", &[("name", "referrer"), ("content", "unsafe-url")]),
            el(13, 1, "img", &[("src", "https://cdn.example/a.png"), ("referrerpolicy", "unsafe-url")]),
            svg(14, 8, "script", &[("href", "https://evil.example/x.js"), ("xlink:href", "https://evil.example/y.js")]),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<a></a><a></a><a></a><iframe></iframe><form></form><img src=\"data:image/png;base64,AAAA\">\
             <svg><a href=\"#ok\"></a><script></script></svg><a href=\"https://app.example/javascript:ok\"></a>\
             <img src=\"https://cdn.example/a.png\">"
        );
    }

    #[test]
    fn markup_the_frame_would_parse_differently_is_written_as_the_user_saw_it() {
        let svg = |id, parent, tag: &str| svg_el(id, parent, tag, &[]);
        let text = |id, parent, content: &str| Node { id, parent, next: 0, kind: NodeKind::Text(content.into()) };
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            doctype(2, 1, "html", "-//W3C//DTD HTML 4.01 Transitional//EN", ""),
            el(3, 1, "body", &[]),
            // Google Tag Manager's snippet: in a browser that runs scripts, noscript is text
            // nobody sees; written as such into a frame without scripts, it would open an
            // iframe that swallows the rest of the page.
            el(4, 3, "noscript", &[]),
            text(5, 4, "<iframe src=\"https://www.googletagmanager.com/ns.html?id=GTM-X\"></iframe>"),
            svg(6, 3, "svg"),
            svg(7, 6, "style"),
            text(8, 7, "</svg><img src=x onerror=steal()>"),
            el(9, 3, "div x=\"1\" onclick", &[]),
            text(10, 9, "inside a bad tag"),
            el(11, 3, "p", &[]),
            text(12, 11, "the rest of the page"),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><body><noscript></noscript>\
             <svg><style>&lt;/svg&gt;&lt;img src=x onerror=steal()&gt;</style></svg><p>the rest of the page</p></body>"
        );
        let bad_doctype = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            doctype(2, 1, "html><script>", "x\"><script>", "about:legacy-compat"),
        ]);
        assert_eq!(to_html(&bad_doctype, 1), "<!DOCTYPE html SYSTEM \"about:legacy-compat\">");
    }

    #[test]
    fn form_state_shows_as_the_user_saw_it_masked_or_not() {
        let text = |id, parent, content: &str| Node { id, parent, next: 0, kind: NodeKind::Text(content.into()) };
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(2, 1, "input", &[("type", "number"), ("value", "****")]),
            el(3, 1, "input", &[("type", "date"), ("value", "2026-12-03")]),
            el(4, 1, "textarea", &[("value", "\ntyped <b>")]),
            text(5, 4, "the default text"),
            el(6, 1, "select", &[("value", "***")]),
            el(7, 6, "option", &[]),
            el(8, 6, "option", &[("selected", "")]),
        ]);
        let mut dom = dom;
        dom.apply(&EventData::Scroll(sightline_protocol::Scroll { target: 4, x: 0, y: 120 }));
        assert_eq!(
            to_html(&dom, 1),
            "<input value=\"****\" type=\"text\"><input type=\"date\" value=\"2026-12-03\">\
             <textarea data-sl-scroll=\"0 120\">\n\ntyped &lt;b&gt;</textarea><select value=\"***\"><option></option><option selected=\"\"></option></select>"
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
