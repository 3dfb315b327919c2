//! The recorded page as a tree: built from a snapshot, kept current by every change after it.
//!
//! The tree follows the protocol's rules (see the protocol README): a snapshot replaces
//! everything; a change set applies its removals, additions, attribute and text changes in that
//! order; an added node whose id exists replaces that node and its subtree; removing an unknown
//! id does nothing. Form input and scrolls land on the nodes they name.

use std::collections::HashMap;

use crate::css::edit_nested;
use sightline_protocol::{EventData, Input, Mutation, Namespace, Node, NodeKind, Snapshot, StyleRule, StyleSheet};

/// One node of the replayed page.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayNode {
    /// Its parent's id; 0 for a document root.
    pub parent: u32,
    /// Its children's ids, in order.
    pub children: Vec<u32>,
    /// What it is.
    pub kind: NodeKind,
    /// The latest scroll position recorded for it.
    pub scroll: Option<(i32, i32)>,
}

/// A stylesheet as the page applied it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplaySheet {
    /// The `<style>` or `<link>` node that owns it; 0 for a constructed sheet.
    pub owner: u32,
    /// Its rules, as text.
    pub rules: Vec<String>,
    /// Its media query, empty for all media.
    pub media: String,
}

/// The replayed page: every node by id, the documents at the root, and the stylesheets
/// recorded as rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayDom {
    nodes: HashMap<u32, ReplayNode>,
    roots: Vec<u32>,
    sheets: HashMap<u32, ReplaySheet>,
    adopted: HashMap<u32, Vec<u32>>,
}

impl ReplayDom {
    /// An empty page, before any snapshot.
    pub fn new() -> ReplayDom {
        ReplayDom::default()
    }

    /// Applies what an event does to the page; events that don't change it are ignored.
    pub fn apply(&mut self, event: &EventData) {
        match event {
            EventData::Snapshot(snapshot) => self.load(snapshot),
            EventData::Mutation(mutation) => self.change(mutation),
            EventData::Input(input) => self.input(input),
            EventData::StyleSheet(sheet) => self.sheet(sheet),
            EventData::StyleRule(rule) => self.rule(rule),
            EventData::AdoptedStyleSheets(adopted) => {
                self.adopted.insert(adopted.host, adopted.sheets.clone());
            }
            EventData::Scroll(scroll) => {
                if let Some(node) = self.nodes.get_mut(&scroll.target) {
                    node.scroll = Some((scroll.x, scroll.y));
                }
            }
            _ => {}
        }
    }

    /// The node with this id.
    pub fn node(&self, id: u32) -> Option<&ReplayNode> {
        self.nodes.get(&id)
    }

    /// The documents at the root (the page's; frames' documents hang under their frames).
    pub fn roots(&self) -> &[u32] {
        &self.roots
    }

    /// The sheet owned by a `<style>` or `<link>` node, when one was recorded as rules.
    pub fn sheet_of(&self, owner: u32) -> Option<&ReplaySheet> {
        self.sheets.values().find(|sheet| sheet.owner == owner && owner != 0)
    }

    /// The sheets a document or shadow root adopted, in order.
    pub fn adopted_by(&self, host: u32) -> Vec<&ReplaySheet> {
        self.adopted.get(&host).into_iter().flatten().filter_map(|id| self.sheets.get(id)).collect()
    }

    /// Nodes in the tree.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no snapshot has been applied yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn load(&mut self, snapshot: &Snapshot) {
        // A keyframe's sheets are recorded again after it.
        self.nodes.clear();
        self.roots.clear();
        self.sheets.clear();
        self.adopted.clear();
        for node in &snapshot.nodes {
            self.add(node);
        }
    }

    fn sheet(&mut self, sheet: &StyleSheet) {
        let replayed = ReplaySheet { owner: sheet.owner, rules: sheet.rules.clone(), media: sheet.media.clone() };
        self.sheets.insert(sheet.id, replayed);
    }

    /// A rule inserted or deleted through the CSSOM, at the top level of its sheet or inside a
    /// grouping rule (a path of more than one index; see [`crate::css`]).
    fn rule(&mut self, rule: &StyleRule) {
        let Some(sheet) = self.sheets.get_mut(&rule.sheet) else { return };
        let Some((&first, deeper)) = rule.path.split_first() else { return };
        let index = first as usize;
        match (&rule.rule, deeper.is_empty()) {
            (Some(text), true) if index <= sheet.rules.len() => sheet.rules.insert(index, text.clone()),
            (None, true) if index < sheet.rules.len() => {
                sheet.rules.remove(index);
            }
            (_, false) => {
                let edited = sheet.rules.get(index).and_then(|group| edit_nested(group, deeper, rule.rule.as_deref()));
                if let Some(edited) = edited {
                    sheet.rules[index] = edited;
                }
            }
            _ => {}
        }
    }

    fn change(&mut self, mutation: &Mutation) {
        for &id in &mutation.removes {
            self.remove(id);
        }
        for node in &mutation.adds {
            self.add(node);
        }
        for change in &mutation.attrs {
            if let Some(NodeKind::Element(element)) = self.nodes.get_mut(&change.id).map(|n| &mut n.kind) {
                let existing = element.attrs.iter().position(|(name, _)| *name == change.name);
                match (&change.value, existing) {
                    (Some(value), Some(at)) => element.attrs[at].1 = value.clone(),
                    (Some(value), None) => element.attrs.push((change.name.clone(), value.clone())),
                    (None, Some(at)) => {
                        element.attrs.remove(at);
                    }
                    (None, None) => {}
                }
            }
        }
        for change in &mutation.texts {
            if let Some(node) = self.nodes.get_mut(&change.id) {
                if let NodeKind::Text(text) | NodeKind::Comment(text) | NodeKind::CData(text) = &mut node.kind {
                    text.clone_from(&change.text);
                }
            }
        }
    }

    /// A form control's new state, as the recorder wrote it into its snapshot: `value`, and
    /// `checked` for checkboxes and radio buttons.
    fn input(&mut self, input: &Input) {
        let Some(NodeKind::Element(element)) = self.nodes.get_mut(&input.target).map(|n| &mut n.kind) else { return };
        let mut set = |name: &str, value: Option<String>| {
            element.attrs.retain(|(n, _)| n != name);
            if let Some(value) = value {
                element.attrs.push((name.to_owned(), value));
            }
        };
        match input.checked {
            Some(checked) => set("checked", checked.then(String::new)),
            None => set("value", (!input.value.is_empty()).then(|| input.value.clone())),
        }
    }

    fn add(&mut self, node: &Node) {
        if self.nodes.contains_key(&node.id) {
            self.remove(node.id);
        }
        if node.parent == 0 {
            self.roots.push(node.id);
        } else if let Some(parent) = self.nodes.get_mut(&node.parent) {
            let at = (node.next != 0).then(|| parent.children.iter().position(|&c| c == node.next)).flatten();
            match at {
                Some(at) => parent.children.insert(at, node.id),
                None => parent.children.push(node.id),
            }
        } else {
            // A parent the player never had (a change that outran a lost batch): the node has
            // nowhere to go until the next snapshot.
            return;
        }
        let replayed = ReplayNode { parent: node.parent, children: Vec::new(), kind: node.kind.clone(), scroll: None };
        self.nodes.insert(node.id, replayed);
    }

    fn remove(&mut self, id: u32) {
        let Some(node) = self.nodes.get(&id) else { return };
        let parent = node.parent;
        if let Some(parent) = self.nodes.get_mut(&parent) {
            parent.children.retain(|&c| c != id);
        }
        self.roots.retain(|&r| r != id);
        let mut doomed = vec![id];
        while let Some(id) = doomed.pop() {
            if let Some(node) = self.nodes.remove(&id) {
                doomed.extend(node.children);
            }
        }
    }

    /// Whether an element is in the HTML namespace.
    pub fn is_html(&self, id: u32) -> bool {
        matches!(self.nodes.get(&id).map(|n| &n.kind), Some(NodeKind::Element(e)) if e.ns == Namespace::Html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{AttributeChange, DocumentNode, Element, Scroll, TextChange};

    fn element(id: u32, parent: u32, next: u32, tag: &str) -> Node {
        let kind = NodeKind::Element(Element { tag: tag.into(), attrs: vec![], ns: Namespace::Html });
        Node { id, parent, next, kind }
    }

    fn text(id: u32, parent: u32, content: &str) -> Node {
        Node { id, parent, next: 0, kind: NodeKind::Text(content.into()) }
    }

    fn page() -> ReplayDom {
        let mut dom = ReplayDom::new();
        let nodes = vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            element(2, 1, 0, "html"),
            element(3, 2, 0, "body"),
            element(4, 3, 0, "ul"),
            element(5, 4, 0, "li"),
            text(6, 5, "first"),
        ];
        dom.apply(&EventData::Snapshot(Snapshot { nodes }));
        dom
    }

    fn children(dom: &ReplayDom, id: u32) -> Vec<u32> {
        dom.node(id).unwrap().children.clone()
    }

    #[test]
    fn changes_apply_in_the_protocol_order() {
        let mut dom = page();
        dom.apply(&EventData::Mutation(Mutation {
            removes: vec![6],
            adds: vec![element(7, 4, 5, "li"), text(8, 7, "zeroth"), element(9, 4, 0, "li")],
            attrs: vec![AttributeChange { id: 4, name: "class".into(), value: Some("open".into()) }],
            texts: vec![TextChange { id: 8, text: "before first".into() }],
        }));
        assert_eq!(children(&dom, 4), vec![7, 5, 9], "placed before its next sibling, or last");
        assert!(dom.node(6).is_none() && children(&dom, 5).is_empty());
        let NodeKind::Text(t) = &dom.node(8).unwrap().kind else { panic!() };
        assert_eq!(t, "before first");
        let NodeKind::Element(ul) = &dom.node(4).unwrap().kind else { panic!() };
        assert_eq!(ul.attrs, vec![("class".to_owned(), "open".to_owned())]);
    }

    #[test]
    fn an_added_id_that_exists_replaces_the_node_and_its_subtree() {
        let mut dom = page();
        // The <li> moves to the body, without its text: it was written again as it now is.
        dom.apply(&EventData::Mutation(Mutation { adds: vec![element(5, 3, 0, "li")], ..Mutation::default() }));
        assert_eq!(children(&dom, 3), vec![4, 5]);
        assert!(children(&dom, 4).is_empty() && dom.node(6).is_none());
        // Removing what isn't there, or adding under an unknown parent, changes nothing.
        let before = dom.clone();
        dom.apply(&EventData::Mutation(Mutation {
            removes: vec![99],
            adds: vec![element(10, 77, 0, "p")],
            ..Mutation::default()
        }));
        assert_eq!(dom, before);
    }

    #[test]
    fn a_snapshot_replaces_everything_and_input_and_scroll_land_on_their_nodes() {
        let mut dom = page();
        dom.apply(&EventData::Input(Input { target: 5, value: "****".into(), checked: None, masked: true }));
        dom.apply(&EventData::Scroll(Scroll { target: 1, x: 0, y: 480 }));
        let NodeKind::Element(li) = &dom.node(5).unwrap().kind else { panic!() };
        assert_eq!(li.attrs, vec![("value".to_owned(), "****".to_owned())]);
        assert_eq!(dom.node(1).unwrap().scroll, Some((0, 480)));
        dom.apply(&EventData::Snapshot(Snapshot { nodes: vec![element(40, 0, 0, "html")] }));
        assert_eq!((dom.len(), dom.roots()), (1, &[40][..]));
    }
}
