//! Errors the page showed the user: text that appeared in an alert (`role="alert"`, or a live
//! region marked `aria-live="assertive"`) and reads as a failure, by its words ("could not",
//! "failed", "error", …) or its classes (`error`, `danger`, `invalid`). Alerts that say all is
//! well ("Saved") are not errors: many design systems use `role="alert"` for every toast.

use std::collections::HashMap;

use sightline_protocol::{Element, Mutation, NodeKind};

use crate::naming::text_of;
use crate::ReplayDom;

/// Ancestors searched for the alert a change is in.
const ALERT_DEPTH: usize = 12;
/// Characters of an alert's text kept.
const MAX_TEXT: usize = 160;
/// Alerts remembered with their last text, at most.
const MAX_ALERTS: usize = 256;
/// Words that make an alert's text a failure, lowercased.
const FAILURE_WORDS: [&str; 13] = [
    "error",
    "fail",
    "could not",
    "couldn't",
    "can't",
    "cannot",
    "unable",
    "invalid",
    "denied",
    "conflict",
    "try again",
    "went wrong",
    "not found",
];
/// Class names that make an alert a failure, lowercased, matched within a class token.
const FAILURE_CLASSES: [&str; 5] = ["error", "danger", "invalid", "fail", "critical"];

/// Finds the errors shown, one change at a time.
#[derive(Debug, Default)]
pub(crate) struct ShownErrors {
    /// Each alert's text when last seen, so the same text set again is not shown twice.
    last: HashMap<u32, String>,
}

impl ShownErrors {
    /// The failure texts `change` (already applied to `dom`) put into alerts.
    pub(crate) fn push(&mut self, dom: &ReplayDom, change: &Mutation) -> Vec<String> {
        let touched = change
            .adds
            .iter()
            .map(|n| n.id)
            .chain(change.texts.iter().map(|t| t.id))
            .chain(change.attrs.iter().map(|a| a.id));
        let mut alerts: Vec<u32> = Vec::new();
        for id in touched {
            if let Some(alert) = alert_around(dom, id) {
                if !alerts.contains(&alert) {
                    alerts.push(alert);
                }
            }
        }
        let mut shown = Vec::new();
        for alert in alerts {
            let text = text_of(dom, alert, MAX_TEXT);
            let Some(NodeKind::Element(element)) = dom.node(alert).map(|n| &n.kind) else { continue };
            if self.last.get(&alert) == Some(&text) {
                continue;
            }
            if self.last.len() >= MAX_ALERTS {
                self.last.clear();
            }
            self.last.insert(alert, text.clone());
            if !text.is_empty() && reads_as_failure(element, &text) {
                shown.push(text);
            }
        }
        shown
    }
}

/// The alert element `id` is in, itself included.
fn alert_around(dom: &ReplayDom, mut id: u32) -> Option<u32> {
    for _ in 0..ALERT_DEPTH {
        let node = dom.node(id)?;
        if let NodeKind::Element(element) = &node.kind {
            let attr = |name: &str| element.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            if attr("role") == Some("alert") || attr("aria-live") == Some("assertive") {
                return Some(id);
            }
        }
        id = node.parent;
    }
    None
}

fn reads_as_failure(element: &Element, text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let classes =
        element.attrs.iter().find(|(n, _)| n == "class").map(|(_, v)| v.to_ascii_lowercase()).unwrap_or_default();
    FAILURE_WORDS.iter().any(|word| text.contains(word))
        || classes.split_whitespace().any(|class| FAILURE_CLASSES.iter().any(|c| class.contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{EventData, Namespace, Node, Snapshot, TextChange};

    fn element(id: u32, parent: u32, attrs: &[(&str, &str)]) -> Node {
        let attrs = attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
        Node { id, parent, next: 0, kind: NodeKind::Element(Element { tag: "div".into(), attrs, ns: Namespace::Html }) }
    }

    fn text(id: u32, parent: u32, text: &str) -> Node {
        Node { id, parent, next: 0, kind: NodeKind::Text(text.into()) }
    }

    #[test]
    fn failures_shown_in_alerts_are_errors_and_good_news_is_not() {
        let mut dom = ReplayDom::new();
        dom.apply(&EventData::Snapshot(Snapshot {
            nodes: vec![
                Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(Default::default()) },
                element(2, 1, &[("role", "alert")]),
                element(3, 1, &[("role", "status")]),
                element(4, 1, &[("role", "alert"), ("class", "toast toast--danger")]),
            ],
        }));
        let mut errors = ShownErrors::default();
        let mut change = |dom: &mut ReplayDom, m: Mutation| {
            dom.apply(&EventData::Mutation(m.clone()));
            errors.push(dom, &m)
        };
        let added = |id, parent, words: &str| Mutation { adds: vec![text(id, parent, words)], ..Mutation::default() };
        assert_eq!(change(&mut dom, added(10, 2, "Could not save your todo")), ["Could not save your todo"]);
        assert!(change(&mut dom, added(11, 3, "Could not save")).is_empty(), "a status, not an alert");
        let retext =
            |words: &str| Mutation { texts: vec![TextChange { id: 10, text: words.into() }], ..Mutation::default() };
        assert!(change(&mut dom, retext("Saved")).is_empty(), "good news");
        assert_eq!(change(&mut dom, retext("Sync failed")), ["Sync failed"]);
        assert!(change(&mut dom, retext("Sync failed")).is_empty(), "the same text again is not shown again");
        assert_eq!(change(&mut dom, added(12, 4, "Payment declined")), ["Payment declined"], "by its class");
    }
}
