//! What a person calls an element of the recorded page: by its label, aria-label, placeholder
//! or text, with what kind of control it is, and only then the selector an engineer finds it
//! by — `the "Send" button (button.send)`, `the "What needs to be done?" field
//! (input.new-todo)`. Activity lines, steps and signals all name elements this way.

use sightline_protocol::{Element, NodeKind};

use crate::ReplayDom;

/// Characters of a name at most.
const MAX_NAME: usize = 60;
/// Ancestors searched for the `<label for>` of a field.
const LABEL_ANCESTORS: usize = 3;
/// Nodes visited at most in that search.
const LABEL_VISITS: usize = 300;
/// Nodes [`text_of`] visits at most.
const MAX_TEXT_VISITS: usize = 2_000;

/// What a support engineer would call element `id`: its name and kind when it has them, then its
/// selector (`the "Send" button (button.send)`, `"Invoices" (h1)`, `the checkbox
/// (input.toggle)`, `div.card`).
pub(crate) fn describe(dom: &ReplayDom, id: u32) -> String {
    let Some(node) = dom.node(id) else { return "an element".into() };
    let NodeKind::Element(element) = &node.kind else { return "the page".into() };
    let selector = selector_of(element);
    let kind = kind_of(element);
    match (name_of(dom, id, element, kind), kind) {
        (Some(name), Some(kind)) => format!("the \"{name}\" {kind} ({selector})"),
        (Some(name), None) => format!("\"{name}\" ({selector})"),
        (None, Some(kind)) => format!("the {kind} ({selector})"),
        (None, None) => selector,
    }
}

/// The tag with its id, or else its first class: `button#send`, `input.new-todo`.
fn selector_of(element: &Element) -> String {
    let mut selector = element.tag.clone();
    if let Some(id) = attr(element, "id").filter(|id| !id.is_empty()) {
        selector.push('#');
        selector.push_str(id);
    } else if let Some(class) = attr(element, "class").and_then(|c| c.split_whitespace().next()) {
        selector.push('.');
        selector.push_str(class);
    }
    selector
}

/// The word for the kind of control an element is, as a user would say it.
fn kind_of(element: &Element) -> Option<&'static str> {
    let kind = match element.tag.as_str() {
        "button" => "button",
        "a" if attr(element, "href").is_some() => "link",
        "select" => "dropdown",
        "textarea" => "field",
        "form" => "form",
        "input" => match attr(element, "type").unwrap_or("text").to_ascii_lowercase().as_str() {
            "submit" | "button" | "reset" | "image" => "button",
            "checkbox" => "checkbox",
            "radio" => "option",
            "range" => "slider",
            "hidden" => return None,
            _ => "field",
        },
        _ => match attr(element, "role")? {
            "button" => "button",
            "link" => "link",
            "checkbox" | "switch" => "checkbox",
            "tab" => "tab",
            "menuitem" => "menu item",
            "textbox" | "searchbox" => "field",
            "combobox" | "listbox" => "dropdown",
            _ => return None,
        },
    };
    Some(kind)
}

/// The element's name as its user sees it: its aria-label; for a form field its label or
/// placeholder (never its value, which may be private); for others their text.
fn name_of(dom: &ReplayDom, id: u32, element: &Element, kind: Option<&str>) -> Option<String> {
    let own = |name: &str| attr(element, name).map(clipped).filter(|v| is_name(v));
    if let Some(name) = own("aria-label") {
        return Some(name);
    }
    let input_type = attr(element, "type").unwrap_or("text").to_ascii_lowercase();
    let field = matches!(element.tag.as_str(), "select" | "textarea")
        || (element.tag == "input" && !matches!(input_type.as_str(), "submit" | "button" | "reset" | "image"));
    if field {
        return label_of(dom, id, element).or_else(|| own("placeholder")).or_else(|| own("title"));
    }
    if element.tag == "input" {
        // A button input says what it does in its value (an image button in its alt text).
        return own("value").or_else(|| own("alt")).or_else(|| own("title"));
    }
    if element.tag == "img" {
        return own("alt").or_else(|| own("title"));
    }
    if element.tag == "form" {
        // Its text is every label and button in it: not what anyone calls it.
        return own("title");
    }
    let text = text_of(dom, id, MAX_NAME);
    if is_name(&text) {
        return Some(text);
    }
    if kind.is_some() {
        // An icon button: what its image or title says.
        return own("title").or_else(|| {
            dom.children(id).find_map(|child| match dom.node(child).map(|n| &n.kind) {
                Some(NodeKind::Element(e)) if e.tag == "img" => attr(e, "alt").map(clipped).filter(|v| is_name(v)),
                _ => None,
            })
        });
    }
    None
}

/// The text of the `<label>` around a field, or of the one whose `for` names it nearby.
fn label_of(dom: &ReplayDom, id: u32, element: &Element) -> Option<String> {
    let mut at = dom.node(id)?.parent;
    for _ in 0..LABEL_ANCESTORS {
        match dom.node(at).map(|n| &n.kind) {
            Some(NodeKind::Element(e)) if e.tag == "label" => {
                return Some(label_text(dom, at)).filter(|t| is_name(t));
            }
            Some(NodeKind::Element(_)) => at = dom.node(at)?.parent,
            _ => break,
        }
    }
    let own_id = attr(element, "id").filter(|v| !v.is_empty())?;
    let mut ancestor = dom.node(id)?.parent;
    let mut visits = 0;
    for _ in 0..LABEL_ANCESTORS {
        let mut stack: Vec<u32> = dom.children(ancestor).collect();
        while let Some(node) = stack.pop() {
            visits += 1;
            if visits > LABEL_VISITS {
                return None;
            }
            if let Some(NodeKind::Element(e)) = dom.node(node).map(|n| &n.kind) {
                if e.tag == "label" && attr(e, "for") == Some(own_id) {
                    return Some(label_text(dom, node)).filter(|t| is_name(t));
                }
                stack.extend(dom.children(node));
            }
        }
        ancestor = dom.node(ancestor)?.parent;
    }
    None
}

fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    element.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A name has a letter or digit in it: not blank, and not text the recorder masked to `*`s.
fn is_name(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

fn clipped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_NAME).collect()
}

/// The text under `id`, spaces collapsed, at most `max` characters.
pub(crate) fn text_of(dom: &ReplayDom, id: u32, max: usize) -> String {
    text_under(dom, id, max, false)
}

/// A label's own text: not that of the field it wraps (a select's options, a textarea's value).
fn label_text(dom: &ReplayDom, label: u32) -> String {
    text_under(dom, label, MAX_NAME, true)
}

fn text_under(dom: &ReplayDom, id: u32, max: usize, skip_fields: bool) -> String {
    let mut text = String::new();
    let mut stack = vec![id];
    // A subtree of many nodes and little text is not walked whole for a few words.
    let mut visits = 0;
    while let Some(id) = stack.pop() {
        visits += 1;
        if visits > MAX_TEXT_VISITS {
            break;
        }
        let Some(node) = dom.node(id) else { continue };
        if let NodeKind::Text(t) = &node.kind {
            let room = (max + 1).saturating_sub(text.len());
            let end = (0..=room.min(t.len())).rev().find(|at| t.is_char_boundary(*at)).unwrap_or(0);
            text.push_str(&t[..end]);
            if text.len() > max {
                break;
            }
        }
        if skip_fields {
            if let NodeKind::Element(e) = &node.kind {
                if matches!(e.tag.as_str(), "input" | "select" | "textarea") {
                    continue;
                }
            }
        }
        let first = stack.len();
        stack.extend(dom.children(id));
        stack[first..].reverse();
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{EventData, Namespace, Node, Snapshot};

    /// `(id, parent, tag or "#text", attributes or, for a text, its text)`.
    type PageNode<'a> = (u32, u32, &'a str, &'a [(&'a str, &'a str)]);

    /// A page of these nodes under document 1.
    fn page(nodes: &[PageNode]) -> ReplayDom {
        let mut all = vec![Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(Default::default()) }];
        for (id, parent, tag, attrs) in nodes {
            let kind = if *tag == "#text" {
                NodeKind::Text(attrs[0].1.into())
            } else {
                NodeKind::Element(Element {
                    tag: (*tag).into(),
                    attrs: attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
                    ns: Namespace::Html,
                })
            };
            all.push(Node { id: *id, parent: *parent, next: 0, kind });
        }
        let mut dom = ReplayDom::new();
        dom.apply(&EventData::Snapshot(Snapshot { nodes: all }));
        dom
    }

    #[test]
    fn elements_are_named_as_their_user_sees_them_then_by_selector() {
        let dom = page(&[
            (2, 1, "main", &[]),
            (3, 2, "button", &[("class", "send primary")]),
            (4, 3, "#text", &[("", " Send\n ")]),
            (5, 2, "input", &[("class", "new-todo"), ("placeholder", "What needs to be done?")]),
            (6, 2, "div", &[]),
            (7, 6, "input", &[("id", "toggle-all"), ("type", "checkbox")]),
            (8, 2, "label", &[("for", "toggle-all")]),
            (9, 8, "#text", &[("", "Mark all as complete")]),
            (10, 2, "label", &[]),
            (11, 10, "#text", &[("", "Plan ")]),
            (12, 10, "select", &[("name", "plan")]),
            (13, 2, "button", &[("aria-label", "Delete"), ("class", "destroy")]),
            (14, 2, "input", &[("type", "submit"), ("value", "Pay now")]),
            (15, 2, "input", &[("class", "toggle"), ("type", "checkbox")]),
            (16, 2, "h1", &[]),
            (17, 16, "#text", &[("", "Invoices")]),
            (18, 2, "a", &[("href", "#/active")]),
            (19, 18, "#text", &[("", "Active")]),
            (20, 2, "span", &[("class", "secret")]),
            (21, 20, "#text", &[("", "*******")]),
            (22, 2, "input", &[("id", "email"), ("value", "jane@acme.com"), ("type", "email")]),
            (23, 2, "form", &[("id", "signup")]),
            (24, 23, "#text", &[("", "Email Sign up")]),
            (25, 2, "form", &[("aria-label", "Sign up"), ("class", "signup")]),
            (26, 12, "option", &[]),
            (27, 26, "#text", &[("", "Free")]),
            (28, 2, "label", &[]),
            (29, 28, "#text", &[("", "Notes")]),
            (30, 28, "textarea", &[]),
            (31, 30, "#text", &[("", "my private note")]),
        ]);
        let named = |id| describe(&dom, id);
        assert_eq!(named(3), "the \"Send\" button (button.send)");
        assert_eq!(named(5), "the \"What needs to be done?\" field (input.new-todo)");
        assert_eq!(named(7), "the \"Mark all as complete\" checkbox (input#toggle-all)", "a label nearby names it");
        assert_eq!(named(12), "the \"Plan\" dropdown (select)", "the label around it names it, not its options");
        assert_eq!(named(30), "the \"Notes\" field (textarea)", "nor the value of the field it wraps");
        assert_eq!(named(13), "the \"Delete\" button (button.destroy)");
        assert_eq!(named(14), "the \"Pay now\" button (input)");
        assert_eq!(named(15), "the checkbox (input.toggle)", "no name: its kind and selector");
        assert_eq!(named(16), "\"Invoices\" (h1)");
        assert_eq!(named(18), "the \"Active\" link (a)");
        assert_eq!(named(20), "span.secret", "masked text names nothing");
        assert_eq!(named(6), "div", "nothing to call it by: its selector");
        assert_eq!(named(22), "the field (input#email)", "a field's value is never its name");
        assert_eq!(named(23), "the form (form#signup)", "a form is not named by all the text in it");
        assert_eq!(named(25), "the \"Sign up\" form (form.signup)");
        assert_eq!(named(1), "the page");
        assert_eq!(named(99), "an element");
    }
}
