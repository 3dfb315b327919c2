//! The replayed page as inert HTML, for a sandboxed frame without scripts: nothing in it can
//! run, navigate, submit or fetch a script, whatever the recording holds.
//!
//! - `on*` attributes, `srcdoc`, `ping`, and `javascript:` or `vbscript:` URLs (read the way a
//!   browser reads them: control characters and spaces around, tabs and newlines within) are
//!   left out, and so are `data:` URLs where they would be a document (links, forms, frames),
//!   and SVG animations that would set a link; `referrerpolicy` attributes and `<meta
//!   name=referrer>` are left out, so the viewer's own policy (no referrer) holds; `<script>` elements
//!   stay (the page's structure) but empty and without their `src` (the recorder never records
//!   a script's code; a recording that holds some anyway doesn't get it shown);
//!   `<meta http-equiv>` is left out.
//! - Text inside `<style>` and the like can't close its element early; it is raw text only in
//!   HTML elements (in SVG, `<style>` text is escaped like any other).
//! - `<noscript>` is written empty: the user's browser ran scripts and did not show its
//!   content, and the frame, which runs none, would parse it as markup.
//! - Tag and doctype names that HTML can't carry as they are leave out the element (and what
//!   is under it), or fall back to `html`; a doctype keeps its public and system identifiers, so
//!   the page replays in the mode it was shown in (a page without a doctype, in quirks mode).
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
/// Input types whose value can't be asterisks (the browser drops such a value).
const MASK_DROPPING_TYPES: [&str; 8] = ["number", "range", "color", "date", "time", "datetime-local", "month", "week"];
/// Attributes that hold URLs.
const URL_ATTRIBUTES: [&str; 9] =
    ["href", "src", "action", "formaction", "poster", "background", "cite", "xlink:href", "data"];

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
fn write_doctype(doctype: &Doctype, out: &mut String) {
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

/// Whether a URL, read as a browser reads it, would run script.
fn is_script_url(value: &str) -> bool {
    scheme_is(value, "javascript") || scheme_is(value, "vbscript")
}

/// Whether a URL's scheme is `scheme`, read as a browser reads it: C0 controls and spaces
/// around it don't count, nor do tabs and newlines anywhere, and case doesn't matter.
fn scheme_is(value: &str, scheme: &str) -> bool {
    let mut url = value.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    scheme.chars().all(|expected| url.next().is_some_and(|c| c.eq_ignore_ascii_case(&expected)))
        && url.next() == Some(':')
}

fn write_element(dom: &ReplayDom, id: u32, element: &Element, out: &mut String) {
    let tag = element.tag.as_str();
    if !is_tag_name(tag) {
        return;
    }
    let html = dom.is_html(id);
    // An SVG animation can set a link's target to anything, at any moment.
    if !html && matches!(tag, "set" | "animate") {
        let target = element.attrs.iter().find(|(name, _)| name == "attributeName").map(|(_, value)| value.as_str());
        if target.is_some_and(|t| t.eq_ignore_ascii_case("href") || t.eq_ignore_ascii_case("xlink:href")) {
            return;
        }
    }
    // Where a `data:` URL would be a document of its own.
    let opens_document = |attribute: &str| match attribute {
        "href" | "xlink:href" => !matches!(tag, "link" | "image" | "use"),
        "action" | "formaction" => true,
        "src" | "data" => matches!(tag, "iframe" | "frame" | "object" | "embed"),
        _ => false,
    };
    if tag == "style" || tag == "link" {
        if let Some(sheet) = dom.sheet_of(id) {
            write_sheet(&sheet.rules, &sheet.media, out);
            return;
        }
    }
    // A refresh or a policy of the recording's own; a referrer policy would loosen the viewer's.
    let meta = |wanted: &str| {
        element.attrs.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("http-equiv")
                || (name.eq_ignore_ascii_case("name") && value.eq_ignore_ascii_case(wanted))
        })
    };
    if tag == "meta" && meta("referrer") {
        return;
    }
    out.push('<');
    out.push_str(tag);
    let attr = |wanted: &str| element.attrs.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.as_str());
    // A masked value is asterisks, which an input of a type that holds numbers, dates or
    // colours would drop: such an input is shown as text, holding the mask.
    let masked_as_text = html
        && tag == "input"
        && attr("type").is_some_and(|t| MASK_DROPPING_TYPES.contains(&t.to_ascii_lowercase().as_str()))
        && attr("value").is_some_and(|v| !v.is_empty() && v.chars().all(|c| c == '*'));
    // A textarea's value is its content.
    let textarea_value = if html && tag == "textarea" { attr("value") } else { None };
    let mut blocked_size = None;
    for (name, value) in &element.attrs {
        let lower = name.to_ascii_lowercase();
        if (masked_as_text && lower == "type") || (textarea_value.is_some() && lower == "value") {
            continue;
        }
        let url = URL_ATTRIBUTES.contains(&lower.as_str());
        if lower.starts_with("on")
            || lower == "srcdoc"
            || lower == "ping"
            || lower == "referrerpolicy"
            || (url && is_script_url(value))
            || (url && opens_document(&lower) && scheme_is(value, "data"))
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
    if masked_as_text {
        out.push_str(" type=\"text\"");
    }
    // Where the user had scrolled the element to: the viewer scrolls it there once the frame
    // has loaded.
    if let Some((x, y)) = dom.node(id).and_then(|n| n.scroll).filter(|&(x, y)| x != 0 || y != 0) {
        out.push_str(&format!(" data-sl-scroll=\"{x} {y}\""));
    }
    if let Some(size) = blocked_size {
        let mut parts = size.split(' ').map(|n| n.parse::<u32>().unwrap_or(0));
        let (width, height) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        out.push_str(&format!(" style=\"display:inline-block;width:{width}px;height:{height}px;background:#d9dce3\""));
    }
    if tag == "iframe" {
        // The frame's recorded document, if any, is its child.
        let document = dom.children(id).find(|c| matches!(dom.node(*c).map(|n| &n.kind), Some(NodeKind::Document(_))));
        if let Some(document) = document {
            out.push_str(" srcdoc=\"");
            escape(&to_html(dom, document), true, out);
            out.push('"');
        }
    }
    out.push('>');
    if VOID.contains(&tag) && dom.is_html(id) {
        return;
    }
    if let Some(value) = textarea_value {
        // The first newline after the start tag is not content: written twice, one is kept.
        if value.starts_with('\n') {
            out.push('\n');
        }
        escape(value, false, out);
    } else if tag != "iframe" && tag != "script" && !(html && tag == "noscript") {
        write_children(dom, id, out);
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Tag names that HTML can carry as they are: a letter, then anything but what ends a tag.
fn is_tag_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | '<' | '/' | '=' | '\0'))
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
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<a></a><a></a><a></a><iframe></iframe><form></form><img src=\"data:image/png;base64,AAAA\">\
             <svg><a href=\"#ok\"></a></svg><a href=\"https://app.example/javascript:ok\"></a>\
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
