//! Errors the page showed the user: an alert (`role="alert"` or `"alertdialog"`, or a live
//! region marked `aria-live="assertive"`) that comes to read as a failure, by its words ("could
//! not", "failed", "error", …, not "no errors") or its classes (`error`, `alert-danger`, not
//! `no-error`). Alerts that say all is well ("Saved") are not errors: many design systems use
//! `role="alert"` for every toast. An alert counts once each time it turns into a failure, not
//! each time its text changes ("Retrying in 5 s… 4 s…"); what a page load's snapshot already
//! shows is where things stand, not news.

use std::collections::{HashMap, HashSet};

use sightline_protocol::{Element, Mutation, NodeKind, Snapshot};

use crate::naming::text_of;
use crate::ReplayDom;

/// Ancestors searched for the alert a change is in.
const ALERT_DEPTH: usize = 12;
/// Characters of an alert's text kept.
const MAX_TEXT: usize = 160;
/// Alerts whose state is remembered, at most (the oldest forgotten first).
const MAX_ALERTS: usize = 256;
/// Errors one change can show at most.
const MAX_PER_CHANGE: usize = 8;
/// Word sequences that make an alert's text a failure, lowercased.
const FAILURE_WORDS: [&[&str]; 20] = [
    &["error"],
    &["errors"],
    &["failed"],
    &["failure"],
    &["fails"],
    &["could", "not"],
    &["couldn't"],
    &["can't"],
    &["cannot"],
    &["unable"],
    &["invalid"],
    &["denied"],
    &["conflict"],
    &["try", "again"],
    &["went", "wrong"],
    &["not", "found"],
    &["declined"],
    &["expired"],
    &["forbidden"],
    &["unavailable"],
];
/// Words that, just before a failure word, say there is none ("no errors", "0 failed").
const NONE_WORDS: [&str; 5] = ["no", "0", "zero", "without", "never"];
/// Parts of a class name (split at `-` and `_`) that make an alert a failure, and those that
/// say the opposite (`no-error`, `toast--error-free`, `non-critical`).
const FAILURE_CLASSES: [&str; 6] = ["error", "danger", "invalid", "failed", "failure", "critical"];
const NONE_CLASSES: [&str; 5] = ["no", "non", "free", "less", "none"];

/// Finds the errors shown, one change at a time.
#[derive(Debug, Default)]
pub(crate) struct ShownErrors {
    /// Whether each alert read as a failure when last seen, in the order first seen.
    failing: HashMap<u32, bool>,
    order: Vec<u32>,
}

impl ShownErrors {
    /// A page's snapshot: its alerts as they stand, none of them news.
    pub(crate) fn snapshot(&mut self, dom: &ReplayDom, snapshot: &Snapshot) {
        self.failing.clear();
        self.order.clear();
        for node in &snapshot.nodes {
            if let Some(NodeKind::Element(element)) = dom.node(node.id).map(|n| &n.kind) {
                if is_alert(element) {
                    let failing = reads_as_failure(dom, node.id, element);
                    self.remember(node.id, failing);
                }
            }
        }
    }

    /// The failure texts `change` (already applied to `dom`) put into alerts; `removed_from`
    /// are the parents its removals emptied, read before it was applied.
    pub(crate) fn push(&mut self, dom: &ReplayDom, change: &Mutation, removed_from: &[u32]) -> Vec<String> {
        let touched = change
            .adds
            .iter()
            .map(|n| n.id)
            .chain(change.texts.iter().map(|t| t.id))
            .chain(change.attrs.iter().map(|a| a.id))
            .chain(removed_from.iter().copied());
        // Adds come parents first: each node's alert is looked up once.
        let mut alert_of: HashMap<u32, Option<u32>> = HashMap::new();
        let mut alerts: Vec<u32> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        for id in touched {
            if let Some(alert) = alert_around(dom, id, &mut alert_of) {
                if seen.insert(alert) {
                    alerts.push(alert);
                }
            }
        }
        let mut shown = Vec::new();
        for alert in alerts {
            let Some(NodeKind::Element(element)) = dom.node(alert).map(|n| &n.kind) else { continue };
            let failing = reads_as_failure(dom, alert, element);
            let was_failing = self.failing.get(&alert).copied().unwrap_or(false);
            self.remember(alert, failing);
            if failing && !was_failing && shown.len() < MAX_PER_CHANGE {
                let text = text_of(dom, alert, MAX_TEXT);
                let masked = text.chars().all(|c| c == '*' || c.is_whitespace());
                shown.push(if masked { "(masked text)".to_owned() } else { text });
            }
        }
        shown
    }

    fn remember(&mut self, alert: u32, failing: bool) {
        if self.failing.insert(alert, failing).is_none() {
            self.order.push(alert);
            if self.order.len() > MAX_ALERTS {
                let oldest = self.order.remove(0);
                self.failing.remove(&oldest);
            }
        }
    }
}

fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    element.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn is_alert(element: &Element) -> bool {
    let role = attr(element, "role").unwrap_or_default();
    role.split_whitespace().any(|r| r.eq_ignore_ascii_case("alert") || r.eq_ignore_ascii_case("alertdialog"))
        || attr(element, "aria-live").is_some_and(|live| live.trim().eq_ignore_ascii_case("assertive"))
}

/// The alert element `id` is in, itself included.
fn alert_around(dom: &ReplayDom, id: u32, known: &mut HashMap<u32, Option<u32>>) -> Option<u32> {
    let mut path = Vec::new();
    let mut at = id;
    let mut found = None;
    for _ in 0..ALERT_DEPTH {
        if let Some(alert) = known.get(&at) {
            found = *alert;
            break;
        }
        let Some(node) = dom.node(at) else { break };
        path.push(at);
        if matches!(&node.kind, NodeKind::Element(element) if is_alert(element)) {
            found = Some(at);
            break;
        }
        at = node.parent;
    }
    for node in path {
        known.insert(node, found);
    }
    found
}

/// Whether the alert shows, and its words or classes say something failed.
fn reads_as_failure(dom: &ReplayDom, alert: u32, element: &Element) -> bool {
    let hidden = attr(element, "hidden").is_some()
        || attr(element, "aria-hidden") == Some("true")
        || attr(element, "style").is_some_and(|s| s.replace(' ', "").contains("display:none"));
    if hidden {
        return false;
    }
    let text = text_of(dom, alert, MAX_TEXT).to_ascii_lowercase();
    if text.is_empty() {
        return false;
    }
    let words: Vec<&str> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect();
    let by_words = FAILURE_WORDS.iter().any(|phrase| {
        words
            .windows(phrase.len())
            .enumerate()
            .any(|(at, window)| window == *phrase && (at == 0 || !NONE_WORDS.contains(&words[at - 1])))
    });
    let classes = attr(element, "class").unwrap_or_default().to_ascii_lowercase();
    let by_class = classes.split_whitespace().any(|class| {
        let parts: Vec<&str> = class.split(['-', '_']).collect();
        parts.iter().any(|p| FAILURE_CLASSES.contains(p)) && !parts.iter().any(|p| NONE_CLASSES.contains(p))
    });
    by_words || by_class
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
        let page = Snapshot {
            nodes: vec![
                Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(Default::default()) },
                element(2, 1, &[("role", "alert")]),
                element(3, 1, &[("role", "status")]),
                element(4, 1, &[("role", "Alert"), ("class", "toast alert-danger")]),
                element(5, 1, &[("role", "alert"), ("class", "toast toast--error-free")]),
                element(6, 1, &[("aria-live", "assertive"), ("hidden", "")]),
                element(7, 1, &[("role", "alert")]),
                text(8, 7, "Invalid password"),
            ],
        };
        let mut dom = ReplayDom::new();
        dom.apply(&EventData::Snapshot(page.clone()));
        let mut errors = ShownErrors::default();
        errors.snapshot(&dom, &page);
        let mut change = |dom: &mut ReplayDom, m: Mutation| {
            let removed_from: Vec<u32> = m.removes.iter().filter_map(|id| dom.node(*id).map(|n| n.parent)).collect();
            dom.apply(&EventData::Mutation(m.clone()));
            errors.push(dom, &m, &removed_from)
        };
        let added = |id, parent, words: &str| Mutation { adds: vec![text(id, parent, words)], ..Mutation::default() };
        let retext =
            |id, words: &str| Mutation { texts: vec![TextChange { id, text: words.into() }], ..Mutation::default() };
        assert_eq!(change(&mut dom, added(10, 2, "Could not save your todo")), ["Could not save your todo"]);
        assert!(change(&mut dom, added(11, 3, "Could not save")).is_empty(), "a status, not an alert");
        assert!(change(&mut dom, retext(10, "Could not save. Retrying in 4 s")).is_empty(), "still the same failure");
        assert!(change(&mut dom, retext(10, "Saved")).is_empty(), "good news");
        assert_eq!(change(&mut dom, retext(10, "Sync failed")), ["Sync failed"], "a failure again");
        // Cleared by removing its text, then the same failure again: shown again.
        assert!(change(&mut dom, Mutation { removes: vec![10], ..Mutation::default() }).is_empty());
        assert_eq!(change(&mut dom, added(12, 2, "Sync failed")), ["Sync failed"]);
        assert!(change(&mut dom, retext(12, "Saved")).is_empty());
        for words in ["No errors found", "0 failed", "Invalidate cache: done", "Conflicts resolved"] {
            assert!(change(&mut dom, retext(12, words)).is_empty(), "{words}");
        }
        assert_eq!(change(&mut dom, added(13, 4, "Payment declined")), ["Payment declined"]);
        assert!(change(&mut dom, added(14, 5, "Saved")).is_empty(), "an error-free class is none");
        assert!(change(&mut dom, added(15, 6, "Error: offline")).is_empty(), "hidden");
        assert!(change(&mut dom, retext(8, "Invalid password")).is_empty(), "shown since the page loaded: no news");
        assert_eq!(change(&mut dom, added(16, 4, "****")), Vec::<String>::new(), "already failing");
    }
}
