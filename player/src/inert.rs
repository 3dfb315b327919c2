//! What of a recorded element the replay shows, decided once for both ways the viewer shows a
//! page: as inert HTML ([`crate::html`]) and as a live frame changed in place
//! ([`crate::live`]). Nothing shown can run, navigate, submit or fetch a script, whatever the
//! recording holds.
//!
//! - `on*` attributes, `srcdoc`, `ping`, and `javascript:` or `vbscript:` URLs (read the way a
//!   browser reads them: control characters and spaces around, tabs and newlines within) are
//!   left out, and so are `data:` URLs where they would be a document (links, forms, frames),
//!   and SVG animations that would set a link; `referrerpolicy` attributes and `<meta
//!   name=referrer>` are left out, so the viewer's own policy (no referrer) holds; `<script>`
//!   elements stay (the page's structure) but empty and without their source (`src`, or `href`
//!   in SVG; the recorder never records a script's code, and a recording that holds some anyway
//!   doesn't get it shown); `<meta http-equiv>` is left out. A relative URL (the recorder
//!   records every URL absolute) is left out too: it would resolve against the viewer's own
//!   address.
//! - `<noscript>` is shown empty: the user's browser ran scripts and did not show its content.
//! - Tag names that HTML can't carry as they are leave out the element and what is under it.
//!   Names are compared as a browser compares them (`SCRIPT` is a script), and an attribute
//!   recorded twice keeps its first value, as a parser keeps it.
//! - A same-origin frame's recorded document becomes the frame's `srcdoc` in the inert HTML; the
//!   live frame builds it in the frame instead, and the frame gets no `src` to load.
//! - A blocked element is an empty box of its recorded size.
//! - A stylesheet recorded as rules (a linked sheet, a sheet changed through the CSSOM) is
//!   shown as a `<style>` element of those rules, so nothing is fetched for it.
//! - A masked value is asterisks, which an input of a type that holds numbers, dates or colours
//!   would drop: such an input is shown as text, holding the mask. A textarea's value is its
//!   content.

use std::borrow::Cow;

use sightline_protocol::{Element, NodeKind};

use crate::dom::ReplayDom;
use crate::html::to_html;

/// Input types whose value can't be asterisks (the browser drops such a value).
const MASK_DROPPING_TYPES: [&str; 8] = ["number", "range", "color", "date", "time", "datetime-local", "month", "week"];
/// Attributes that hold URLs.
const URL_ATTRIBUTES: [&str; 9] =
    ["href", "src", "action", "formaction", "poster", "background", "cite", "xlink:href", "data"];

/// A recorded element as the replay shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InertElement {
    /// The tag shown: the recorded one, or `style` for a sheet recorded as rules.
    pub tag: String,
    /// The attributes shown, in order.
    pub attrs: Vec<(String, String)>,
    /// What is shown inside it.
    pub holds: Holds,
}

/// What an element shown by the replay holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    /// Its recorded children.
    Children,
    /// A textarea's value, as its text.
    Value(String),
    /// A stylesheet's rules, as its text.
    Rules(String),
    /// Nothing: a script, a noscript, a frame (whose document is its `srcdoc`, or built in it).
    Nothing,
}

/// How a same-origin frame's recorded document is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameDocuments {
    /// As the frame's `srcdoc` attribute: the inert HTML.
    Srcdoc,
    /// Built in the frame, node by node, by the live frame's ops.
    Built,
}

/// The recorded document of the frame element `id`, if it has one.
pub fn frame_document(dom: &ReplayDom, id: u32) -> Option<u32> {
    dom.children(id).find(|c| matches!(dom.node(*c).map(|n| &n.kind), Some(NodeKind::Document(_))))
}

/// What decides how an element is shown and what it holds: when it changes, the element is
/// shown anew with everything under it; otherwise only its attributes and text change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Left out, with everything under it.
    LeftOut,
    /// Shown, holding its children.
    Children,
    /// Shown, holding a textarea's value.
    Value,
    /// Shown, holding a sheet's rules.
    Rules,
    /// Shown, holding nothing.
    Nothing,
}

/// The form of the node `id`: anything but an element is left out.
pub fn form(dom: &ReplayDom, id: u32) -> Form {
    match dom.node(id).map(|n| &n.kind) {
        Some(NodeKind::Element(element)) => element_form(dom, id, element),
        _ => Form::LeftOut,
    }
}

fn element_form(dom: &ReplayDom, id: u32, element: &Element) -> Form {
    if !is_tag_name(&element.tag) {
        return Form::LeftOut;
    }
    // The rules compare names as a browser does: an HTML parser reads `SCRIPT` as `script`.
    let tag = lowercase(&element.tag);
    let html = dom.is_html(id);
    // Only what the tag calls for is looked up: this runs for every element above a change.
    match tag.as_ref() {
        // An SVG animation can set a link's target to anything, at any moment.
        "set" | "animate" if !html => {
            let target = attribute(element, "attributename");
            if target.is_some_and(|t| t.eq_ignore_ascii_case("href") || t.eq_ignore_ascii_case("xlink:href")) {
                return Form::LeftOut;
            }
            Form::Children
        }
        // A refresh or a policy of the recording's own; a referrer policy would loosen the
        // viewer's.
        "meta" => {
            let meta = element.attrs.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("http-equiv")
                    || (name.eq_ignore_ascii_case("name") && value.eq_ignore_ascii_case("referrer"))
            });
            if meta {
                Form::LeftOut
            } else {
                Form::Children
            }
        }
        "style" | "link" if dom.sheet_of(id).is_some() => Form::Rules,
        "textarea" if html && attribute(element, "value").is_some() => Form::Value,
        // A frame's recorded document, if any, is its `srcdoc`.
        "iframe" | "script" => Form::Nothing,
        "noscript" if html => Form::Nothing,
        _ => Form::Children,
    }
}

/// A name in lower case, copied only when it isn't already.
fn lowercase(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// The value of an element's attribute, its name compared as an HTML parser compares it.
fn attribute<'a>(element: &'a Element, wanted: &str) -> Option<&'a str> {
    element.attrs.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, value)| value.as_str())
}

/// The element `id` as the replay shows it; `None` when it is left out, with all under it.
pub fn inert_element(dom: &ReplayDom, id: u32, element: &Element, documents: FrameDocuments) -> Option<InertElement> {
    let form = element_form(dom, id, element);
    if form == Form::LeftOut {
        return None;
    }
    let lower = element.tag.to_ascii_lowercase();
    let tag = lower.as_str();
    let html = dom.is_html(id);
    let attr = |wanted: &str| attribute(element, wanted);
    if form == Form::Rules {
        let sheet = dom.sheet_of(id)?;
        let attrs = if sheet.media.is_empty() { vec![] } else { vec![("media".to_owned(), sheet.media.clone())] };
        let rules = sheet.rules.iter().fold(String::new(), |text, rule| text + rule + "\n");
        return Some(InertElement { tag: "style".to_owned(), attrs, holds: Holds::Rules(rules) });
    }
    // Where a `data:` URL would be a document of its own.
    let opens_document = |attribute: &str| match attribute {
        "href" | "xlink:href" => !matches!(tag, "link" | "image" | "use"),
        "action" | "formaction" => true,
        "src" | "data" => matches!(tag, "iframe" | "frame" | "object" | "embed"),
        _ => false,
    };
    let masked_as_text = html
        && tag == "input"
        && attr("type").is_some_and(|t| MASK_DROPPING_TYPES.contains(&t.to_ascii_lowercase().as_str()))
        && attr("value").is_some_and(|v| !v.is_empty() && v.chars().all(|c| c == '*'));
    let blocked = attr("data-sl-blocked");
    let document = if tag == "iframe" { frame_document(dom, id) } else { None };
    // A frame whose document is built in it must not load its own.
    let built = document.is_some() && documents == FrameDocuments::Built;
    let mut attrs: Vec<(String, String)> = Vec::with_capacity(element.attrs.len());
    let mut seen = std::collections::HashSet::with_capacity(element.attrs.len());
    for (name, value) in &element.attrs {
        let lower = name.to_ascii_lowercase();
        if (masked_as_text && lower == "type") || (form == Form::Value && lower == "value") {
            continue;
        }
        let first = seen.insert(lower.clone());
        let url = URL_ATTRIBUTES.contains(&lower.as_str());
        if lower.starts_with("on")
            || lower == "srcdoc"
            || lower == "ping"
            || lower == "referrerpolicy"
            || (url && is_script_url(value))
            // A fragment is the page's own only where it names a place in it.
            || (url && (lower != "data" || tag == "object") && is_relative(value, matches!(lower.as_str(), "href" | "xlink:href")))
            || (matches!(lower.as_str(), "srcset" | "imagesrcset") && srcset_urls(value).any(|url| is_relative(url, false)))
            || (url && opens_document(&lower) && scheme_is(value, "data"))
            || (tag == "script" && matches!(lower.as_str(), "src" | "href" | "xlink:href"))
            || (blocked.is_some() && lower == "style")
            || (built && lower == "src")
            // The viewer's mark of what the pointer hovers: a recording's own is not shown.
            || lower == "data-sl-hover"
            || !is_attribute_name(name)
            // A name twice: the first holds, as when a browser parses it.
            || !first
        {
            continue;
        }
        attrs.push((name.clone(), value.clone()));
    }
    if masked_as_text {
        attrs.push(("type".to_owned(), "text".to_owned()));
    }
    if let Some(size) = blocked {
        let mut parts = size.split(' ').map(|n| n.parse::<u32>().unwrap_or(0));
        let (width, height) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        let style = format!("display:inline-block;width:{width}px;height:{height}px;background:#d9dce3");
        attrs.push(("style".to_owned(), style));
    }
    if let (Some(document), FrameDocuments::Srcdoc) = (document, documents) {
        attrs.push(("srcdoc".to_owned(), to_html(dom, document)));
    }
    let holds = match form {
        Form::Value => Holds::Value(attr("value").unwrap_or_default().to_owned()),
        Form::Children => Holds::Children,
        _ => Holds::Nothing,
    };
    // HTML names are case-insensitive, and shown as a browser shows them; SVG and MathML keep
    // theirs (`foreignObject`).
    let shown = if html { lower.clone() } else { element.tag.clone() };
    Some(InertElement { tag: shown, attrs, holds })
}

/// Whether a URL is relative, read as a browser reads it: the recorder makes every URL
/// absolute (a fragment aside), so one that isn't would only resolve against the viewer's own
/// address, where a frame's document built in place has its URL.
fn is_relative(value: &str, fragment_ok: bool) -> bool {
    // Read as the browser reads it; copied only when it holds tabs or newlines to take out.
    let trimmed = value.trim_matches(|c: char| c <= ' ');
    let url: Cow<str> = if trimmed.contains(['\t', '\n', '\r']) {
        Cow::Owned(trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect())
    } else {
        Cow::Borrowed(trimmed)
    };
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|s| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let two_slashes = |rest: &str| rest.bytes().take(2).filter(|b| matches!(b, b'/' | b'\\')).count() == 2;
    match scheme {
        // A special scheme without a host after it (`https:/x`, `https:x`) takes the base's.
        Some(s) => {
            ["http", "https", "ws", "wss", "ftp", "file"].iter().any(|special| s.eq_ignore_ascii_case(special))
                && !two_slashes(&url[s.len() + 1..])
        }
        None => !(url.is_empty() || (fragment_ok && url.starts_with('#')) || two_slashes(&url)),
    }
}

/// The URLs of a `srcset`, as a browser splits it: a URL runs to the next whitespace (a `data:`
/// URL's commas are its own), less trailing commas; its descriptors run to the next comma
/// outside parentheses.
fn srcset_urls(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(',');
        let ended_by_comma = rest[..end].ends_with(',');
        rest = &rest[end..];
        if !ended_by_comma {
            // As the browser's parser: the first `)` ends what a `(` opened, however many.
            let mut in_parens = false;
            let stop = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => in_parens = true,
                        ')' => in_parens = false,
                        _ => {}
                    }
                    c == ',' && !in_parens
                })
                .map_or(rest.len(), |(at, _)| at);
            rest = &rest[stop..];
        }
        Some(url)
    })
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

/// Tag names that HTML can carry as they are: a letter, then anything but what ends a tag.
pub fn is_tag_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | '<' | '/' | '=' | '\0'))
}

/// Attribute names that HTML can carry as they are; anything else (quotes, `=`, `<`, spaces)
/// would change the markup, so it is left out.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | '<' | '/' | '=' | '\0'))
}
