//! The replayed page as inert HTML, for a sandboxed frame without scripts: what of each
//! element is shown is [`crate::inert`]'s to decide; this module writes it so that the frame
//! parses it into the tree the user saw.
//!
//! - Text is written raw (inside `<style>` and the like) only where the frame's parser surely
//!   reads it as raw text: an element it parses as HTML, outside SVG and MathML unless at one of
//!   their integration points (`<foreignObject>`), holding only text, none of which can close
//!   it early. Everywhere else text is escaped, and so are `<` and `>` in attribute values.
//! - The writing doesn't recurse: a page may be any depth.
//! - Doctype names that HTML can't carry as they are fall back to `html`; a doctype keeps its
//!   public and system identifiers, so the page replays in the mode it was shown in (a page
//!   without a doctype, in quirks mode).
//! - Open shadow roots become declarative shadow roots (`<template shadowrootmode="open">`).
//! - Sheets a document or shadow root adopted become `<style>` elements of their rules.
//! - Where the user had scrolled an element is written as `data-sl-scroll="x y"`, for the viewer
//!   to scroll it there once the frame has loaded.

use sightline_protocol::{Doctype, Element, NodeKind};

use crate::dom::ReplayDom;
use crate::inert::{inert_element, is_tag_name, FrameDocuments, Holds};

/// Elements without content or end tag.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose content is raw text.
const RAW_TEXT: [&str; 6] = ["style", "script", "xmp", "noembed", "noframes", "noscript"];

/// How the frame's parser reads the tags written at some place: as HTML, as SVG or MathML
/// (foreign content, where `<style>` holds markup rather than raw text), as HTML at one of
/// MathML's text integration points (where `<mglyph>` and `<malignmark>` stay MathML), or as
/// HTML inside a `<select>` (where raw-text elements are not opened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    Html,
    Svg,
    MathMl,
    MathText,
    Select,
}

impl Parsed {
    /// The namespace the parser gives an element whose tag is written here. Tags that leave
    /// foreign content (`<div>` inside `<svg>`) are taken to stay in it: text is then escaped
    /// where the parser might have read it raw, which shows it, but never the other way.
    fn element(self, tag: &str) -> Parsed {
        match (self, tag) {
            (Parsed::Html | Parsed::MathText | Parsed::Select, "svg") => Parsed::Svg,
            (Parsed::Html | Parsed::MathText | Parsed::Select, "math") => Parsed::MathMl,
            (Parsed::MathText, "mglyph" | "malignmark") => Parsed::MathMl,
            (Parsed::MathText, _) => Parsed::Html,
            (context, _) => context,
        }
    }

    /// How the parser reads what is written inside an element it parsed as `self`, with the
    /// attributes written for it: the integration points of SVG and MathML hold HTML, and a
    /// select holds what it holds.
    fn inside(self, tag: &str, attrs: &[(String, String)]) -> Parsed {
        let html_annotation = || {
            attrs.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("encoding")
                    && (value.eq_ignore_ascii_case("text/html") || value.eq_ignore_ascii_case("application/xhtml+xml"))
            })
        };
        match (self, tag) {
            (Parsed::Html, "select") => Parsed::Select,
            (Parsed::Svg, "foreignobject" | "desc" | "title") => Parsed::Html,
            (Parsed::MathMl, "mi" | "mo" | "mn" | "ms" | "mtext") => Parsed::MathText,
            (Parsed::MathMl, "annotation-xml") if html_annotation() => Parsed::Html,
            (context, _) => context,
        }
    }
}

/// What is left to write, without recursion: a page may be any depth.
enum Step {
    /// A node, written where the parser reads tags as given.
    Node(u32, Parsed),
    /// The text of a raw-text element's text child: only an end tag could close it early.
    RawText(u32),
    /// An end tag, or other closing markup.
    Close(String),
    /// The sheets a document or shadow root adopted.
    Adopted(u32),
}

/// The document at `root` as inert HTML.
pub fn to_html(dom: &ReplayDom, root: u32) -> String {
    let mut out = String::new();
    let mut steps = vec![Step::Node(root, Parsed::Html)];
    while let Some(step) = steps.pop() {
        match step {
            // A frame's document is written as its `srcdoc`; one anywhere else is not shown.
            Step::Node(id, _) if id != root && matches!(dom.node(id).map(|n| &n.kind), Some(NodeKind::Document(_))) => {
            }
            Step::Node(id, parsed) => write_node(dom, id, parsed, &mut out, &mut steps),
            Step::RawText(id) => {
                if let Some(NodeKind::Text(text) | NodeKind::CData(text)) = dom.node(id).map(|n| &n.kind) {
                    out.push_str(&text.replace("</", "<\\/"));
                }
            }
            Step::Close(markup) => out.push_str(&markup),
            Step::Adopted(host) => write_adopted(dom, host, &mut out),
        }
    }
    out
}

fn write_node(dom: &ReplayDom, id: u32, parsed: Parsed, out: &mut String, steps: &mut Vec<Step>) {
    let Some(node) = dom.node(id) else { return };
    match &node.kind {
        NodeKind::Document(_) => {
            steps.push(Step::Adopted(id));
            push_children(dom, id, parsed, steps);
        }
        NodeKind::Doctype(doctype) => write_doctype(doctype, out),
        NodeKind::Element(element) => write_element(dom, id, element, parsed, out, steps),
        NodeKind::Text(text) | NodeKind::CData(text) => escape(text, false, out),
        NodeKind::Comment(_) => out.push_str("<!---->"),
        NodeKind::ShadowRoot(_) => {
            out.push_str("<template shadowrootmode=\"open\">");
            write_adopted(dom, id, out);
            steps.push(Step::Close("</template>".to_owned()));
            push_children(dom, id, parsed, steps);
        }
    }
}

/// The children of `id` onto `steps`, to be written first to last; a shadow root goes first,
/// as the declarative form requires.
fn push_children(dom: &ReplayDom, id: u32, parsed: Parsed, steps: &mut Vec<Step>) {
    let is_shadow = |child: &u32| matches!(dom.node(*child).map(|n| &n.kind), Some(NodeKind::ShadowRoot(_)));
    let at = steps.len();
    steps.extend(dom.children(id).filter(is_shadow).map(|child| Step::Node(child, parsed)));
    steps.extend(dom.children(id).filter(|child| !is_shadow(child)).map(|child| Step::Node(child, parsed)));
    steps[at..].reverse();
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

fn write_element(
    dom: &ReplayDom,
    id: u32,
    element: &Element,
    context: Parsed,
    out: &mut String,
    steps: &mut Vec<Step>,
) {
    let Some(shown) = inert_element(dom, id, element, FrameDocuments::Srcdoc) else { return };
    let tag = shown.tag.as_str();
    let lower = tag.to_ascii_lowercase();
    let parsed = context.element(&lower);
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
    if matches!(parsed, Parsed::Html | Parsed::Select) && VOID.contains(&lower.as_str()) {
        return;
    }
    // Raw text only where the parser surely reads it so; anywhere else it is escaped.
    // Not a `<noscript>`: the frame runs no scripts, so its parser reads one's content as
    // markup.
    let raw = parsed == Parsed::Html && dom.is_html(id) && lower != "noscript" && RAW_TEXT.contains(&lower.as_str());
    steps.push(Step::Close(format!("</{tag}>")));
    match shown.holds {
        Holds::Children if raw => {
            // Only text: an element's markup would be text there, and could close it early.
            let at = steps.len();
            steps.extend(
                dom.children(id)
                    .filter(|child| {
                        matches!(dom.node(*child).map(|n| &n.kind), Some(NodeKind::Text(_) | NodeKind::CData(_)))
                    })
                    .map(Step::RawText),
            );
            steps[at..].reverse();
        }
        Holds::Children => push_children(dom, id, parsed.inside(&lower, &shown.attrs), steps),
        Holds::Value(value) => {
            // The first newline after the start tag is not content: written twice, one is kept.
            if value.starts_with('\n') {
                out.push('\n');
            }
            escape(&value, false, out);
        }
        Holds::Rules(rules) if raw => out.push_str(&rules.replace("</", "<\\/")),
        Holds::Rules(rules) => escape(&rules, false, out),
        Holds::Nothing => {}
    }
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            // In attributes too: markup that holds no `<` can't close a raw-text element early.
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
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
            "<!DOCTYPE html><html><body><a title=\"a &quot;quoted&quot; &lt;title&gt;\"></a><script></script>\
             <style>p{}<\\/style><img src=x onerror=steal()></style><iframe></iframe>1 &lt; 2 &amp; 3\
             <img src=\"https://cdn.example/a.png\"></body></html>"
        );
    }

    #[test]
    fn text_is_raw_only_where_the_parser_reads_it_raw() {
        let text = |id, parent, content: &str| Node { id, parent, next: 0, kind: NodeKind::Text(content.into()) };
        let steal = "<img src=x onerror=steal()>";
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            // An HTML `<style>` placed by script inside an SVG: the parser makes it SVG's, whose
            // content is markup.
            svg_el(2, 1, "svg", &[]),
            el(3, 2, "style", &[]),
            text(4, 3, steal),
            // An HTML element named `svg` opens SVG for the parser all the same.
            el(5, 1, "svg", &[]),
            el(6, 5, "style", &[]),
            text(7, 6, steal),
            // A raw-text element holding an element whose markup would close it early.
            el(8, 1, "style", &[]),
            el(9, 8, "style", &[("title", "</style>")]),
            text(10, 8, steal),
            // SVG's integration point holds HTML: there, style is raw text again.
            svg_el(11, 1, "svg", &[]),
            svg_el(12, 11, "foreignObject", &[]),
            el(13, 12, "style", &[]),
            text(14, 13, "a > b { color: red }"),
            // Names as a browser compares them.
            el(15, 1, "SCRIPT", &[("SRC", "https://evil.example/x.js")]),
            el(16, 1, "META", &[("HTTP-EQUIV", "refresh"), ("content", "0;url=https://evil.example")]),
            el(17, 1, "P", &[("class", "first"), ("CLASS", "second")]),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<svg><style>&lt;img src=x onerror=steal()&gt;</style></svg>\
             <svg><style>&lt;img src=x onerror=steal()&gt;</style></svg>\
             <style><img src=x onerror=steal()></style>\
             <svg><foreignObject><style>a > b { color: red }</style></foreignObject></svg>\
             <script></script><p class=\"first\"></p>"
        );
    }

    #[test]
    fn text_is_escaped_where_the_parser_might_read_markup() {
        let text = |id, parent, content: &str| Node { id, parent, next: 0, kind: NodeKind::Text(content.into()) };
        let math = |id, parent, tag: &str, attrs: &[(&str, &str)]| {
            let mut node = el(id, parent, tag, attrs);
            if let NodeKind::Element(e) = &mut node.kind {
                e.ns = Namespace::MathMl;
            }
            node
        };
        let steal = "<img src=x onerror=steal()>";
        let escaped = "&lt;img src=x onerror=steal()&gt;";
        let dom = replay(vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            // A noscript of another namespace: shown, and read as markup without scripts.
            svg_el(2, 1, "noscript", &[]),
            text(3, 2, steal),
            // The encoding the parser sees is the first one written.
            math(4, 1, "math", &[]),
            math(5, 4, "annotation-xml", &[("encoding", "x"), ("ENCODING", "text/html")]),
            el(6, 5, "style", &[]),
            text(7, 6, steal),
            // mglyph stays MathML at a text integration point.
            math(8, 4, "mi", &[]),
            math(9, 8, "mglyph", &[]),
            el(10, 9, "style", &[]),
            text(11, 10, steal),
            // Inside a select, a style isn't opened.
            el(12, 1, "select", &[]),
            el(13, 12, "style", &[]),
            text(14, 13, steal),
        ]);
        let html = to_html(&dom, 1);
        assert_eq!(html.matches(escaped).count(), 4, "{html}");
        assert!(!html.contains(steal), "{html}");
    }

    #[test]
    fn a_page_of_any_depth_is_written_without_recursion() {
        let depth = 200_000;
        let mut nodes = vec![Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) }];
        nodes.extend((2..depth + 2).map(|id| el(id, id - 1, "div", &[])));
        let html = to_html(&replay(nodes), 1);
        assert_eq!(html.len(), depth as usize * "<div></div>".len());
        assert!(html.starts_with("<div><div>") && html.ends_with("</div></div>"));
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
            // Relative URLs would resolve against the viewer's address; scheme-relative ones
            // name a host of their own.
            el(15, 1, "img", &[("src", "/api/sessions"), ("srcset", "data:image/png;base64,AA,BB 1x, x.png 2x")]),
            el(
                16,
                1,
                "img",
                &[("src", "\t//cdn.example/b.png"), ("srcset", "https://cdn.example/c.png 1x,data:,d (x, y) 2x")],
            ),
            el(17, 1, "link", &[("href", "\\\\cdn.example/s.css"), ("imagesrcset", " ?q 1x")]),
            // A special scheme without a host takes the base's.
            el(18, 1, "img", &[("src", "HTTPS:/api/sessions"), ("srcset", "https:x 1x")]),
            el(19, 1, "img", &[("src", "https:\\\\cdn.example/d.png")]),
            // The browser's parser leaves parentheses at the first `)`; a fragment names a place
            // in a page only in a link; `data` is a URL only on an object.
            el(20, 1, "img", &[("srcset", "https://cdn.example/a.png 1x ((),/api/sessions 2x"), ("src", "#")]),
            el(21, 1, "x-chart", &[("data", "1,2,3")]),
            el(22, 1, "object", &[("data", "chart.svg")]),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<a></a><a></a><a></a><iframe></iframe><form></form><img src=\"data:image/png;base64,AAAA\">\
             <svg><a href=\"#ok\"></a><script></script></svg><a href=\"https://app.example/javascript:ok\"></a>\
             <img src=\"https://cdn.example/a.png\"><img>\
             <img src=\"\t//cdn.example/b.png\" srcset=\"https://cdn.example/c.png 1x,data:,d (x, y) 2x\">\
             <link href=\"\\\\cdn.example/s.css\"><img><img src=\"https:\\\\cdn.example/d.png\"><img>\
             <x-chart data=\"1,2,3\"></x-chart><object></object>"
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
            // Documents where no frame shows them.
            Node { id: 10, parent: 4, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(11, 10, "b", &[]),
            Node { id: 12, parent: 1, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(13, 12, "i", &[]),
        ]);
        assert_eq!(
            to_html(&dom, 1),
            "<div id=\"host\"><template shadowrootmode=\"open\"><slot></slot></template><p></p></div>\
             <iframe srcdoc=\"&lt;p class=&quot;inner&quot;&gt;&lt;/p&gt;\"></iframe>\
             <div data-sl-blocked=\"120 40\" class=\"chart\" style=\"display:inline-block;width:120px;height:40px;background:#d9dce3\"></div>"
        );
    }
}
