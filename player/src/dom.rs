//! The recorded page as a tree: built from a snapshot, kept current by every change after it.
//!
//! The tree follows the protocol's rules (see the protocol README): a snapshot replaces
//! everything; a change set applies its removals, additions, attribute and text changes in that
//! order; an added node whose id exists replaces that node and its subtree; removing an unknown
//! id does nothing. Form input and scrolls land on the nodes they name.
//!
//! Everything a recording can ask of the tree costs the same however it is shaped, since the
//! recording is whatever a page (or someone holding its key) sent: siblings are linked both
//! ways, so adding before a sibling and removing a node take constant time, and no walk
//! recurses. The tree holds at most [`MAX_NODES`]; what a recording adds past that is left out.

use std::collections::HashMap;

use crate::css::edit_nested;
use sightline_protocol::{
    AttributeChange, EventData, Input, Mutation, Namespace, Node, NodeKind, Snapshot, StyleRule, StyleSheet, TextChange,
};

/// Nodes a replayed page holds at most: far more than any real page (a 10,000-row table is
/// about 100,000), and a bound on what a hostile recording can make the replay hold.
pub const MAX_NODES: usize = 500_000;

/// The first and last of a list of siblings; 0 for none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ends {
    first: u32,
    last: u32,
}

/// One node of the replayed page.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayNode {
    /// Its parent's id; 0 for a document root.
    pub parent: u32,
    /// Its previous and next sibling; 0 at either end.
    prev: u32,
    next: u32,
    /// Its first and last child.
    children: Ends,
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
    roots: Ends,
    sheets: HashMap<u32, ReplaySheet>,
    /// The sheet each owner node holds, the latest recorded for it.
    owned: HashMap<u32, u32>,
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
    pub fn roots(&self) -> Siblings<'_> {
        Siblings { dom: self, at: self.roots.first }
    }

    /// The children of `id`, in order (none for an unknown id).
    pub fn children(&self, id: u32) -> Siblings<'_> {
        Siblings { dom: self, at: self.nodes.get(&id).map_or(0, |n| n.children.first) }
    }

    /// The sheet owned by a `<style>` or `<link>` node, when one was recorded as rules.
    pub fn sheet_of(&self, owner: u32) -> Option<&ReplaySheet> {
        self.owned.get(&owner).and_then(|sheet| self.sheets.get(sheet))
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
        self.roots = Ends::default();
        self.sheets.clear();
        self.owned.clear();
        self.adopted.clear();
        for node in &snapshot.nodes {
            self.add(node);
        }
    }

    fn sheet(&mut self, sheet: &StyleSheet) {
        let replayed = ReplaySheet { owner: sheet.owner, rules: sheet.rules.clone(), media: sheet.media.clone() };
        if let Some(was) = self.sheets.insert(sheet.id, replayed) {
            if was.owner != sheet.owner && self.owned.get(&was.owner) == Some(&sheet.id) {
                self.owned.remove(&was.owner);
            }
        }
        if sheet.owner != 0 {
            self.owned.insert(sheet.owner, sheet.id);
        }
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
            self.set_attribute(change);
        }
        for change in &mutation.texts {
            self.set_text(change);
        }
    }

    /// An attribute set, or removed (no value).
    pub(crate) fn set_attribute(&mut self, change: &AttributeChange) {
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

    /// A text, comment or CDATA node's new content.
    pub(crate) fn set_text(&mut self, change: &TextChange) {
        if let Some(node) = self.nodes.get_mut(&change.id) {
            if let NodeKind::Text(text) | NodeKind::Comment(text) | NodeKind::CData(text) = &mut node.kind {
                text.clone_from(&change.text);
            }
        }
    }

    /// The sibling after `id`; 0 for none.
    pub fn next_sibling(&self, id: u32) -> u32 {
        self.nodes.get(&id).map_or(0, |n| n.next)
    }

    /// The nodes scrolled away from their origin, with where to.
    pub fn scrolled(&self) -> impl Iterator<Item = (u32, (i32, i32))> + '_ {
        self.nodes.iter().filter_map(|(id, n)| n.scroll.filter(|&(x, y)| x != 0 || y != 0).map(|s| (*id, s)))
    }

    /// Whether the document or shadow root `host` adopted sheets.
    pub fn has_adopted(&self, host: u32) -> bool {
        self.adopted.contains_key(&host)
    }

    /// The documents and shadow roots that adopted sheets.
    pub fn adopters(&self) -> impl Iterator<Item = u32> + '_ {
        self.adopted.keys().copied()
    }

    /// The node owning the sheet `sheet` (0 for a constructed sheet), and the documents and
    /// shadow roots that adopted it.
    pub fn sheet_users(&self, sheet: u32) -> (u32, Vec<u32>) {
        let owner = self.sheets.get(&sheet).map_or(0, |s| s.owner);
        let hosts = self.adopted.iter().filter(|(_, sheets)| sheets.contains(&sheet)).map(|(host, _)| *host).collect();
        (owner, hosts)
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

    pub(crate) fn add(&mut self, node: &Node) {
        if self.nodes.contains_key(&node.id) {
            self.remove(node.id);
        }
        // A parent the player never had (a change that outran a lost batch): the node has
        // nowhere to go until the next snapshot. Nor has a node past the ceiling.
        if node.id == 0 || (node.parent != 0 && !self.nodes.contains_key(&node.parent)) || self.nodes.len() >= MAX_NODES
        {
            return;
        }
        // Before its next sibling when that is a child of the same parent, else last.
        let sibling = node.next != 0 && self.nodes.get(&node.next).is_some_and(|n| n.parent == node.parent);
        let next = if sibling { node.next } else { 0 };
        let prev = match next {
            0 => self.ends(node.parent).last,
            next => self.nodes[&next].prev,
        };
        let replayed = ReplayNode {
            parent: node.parent,
            prev,
            next,
            children: Ends::default(),
            kind: node.kind.clone(),
            scroll: None,
        };
        self.nodes.insert(node.id, replayed);
        self.link(node.parent, prev, next, node.id);
    }

    /// The ends of `parent`'s children, or of the roots for 0.
    fn ends(&mut self, parent: u32) -> &mut Ends {
        match self.nodes.get_mut(&parent) {
            Some(node) if parent != 0 => &mut node.children,
            _ => &mut self.roots,
        }
    }

    /// Points `prev` and `next` (or the parent's ends) at `id`, which sits between them.
    fn link(&mut self, parent: u32, prev: u32, next: u32, id: u32) {
        match self.nodes.get_mut(&prev) {
            Some(node) if prev != 0 => node.next = id,
            _ => self.ends(parent).first = id,
        }
        match self.nodes.get_mut(&next) {
            Some(node) if next != 0 => node.prev = id,
            _ => self.ends(parent).last = id,
        }
    }

    pub(crate) fn remove(&mut self, id: u32) {
        let Some(node) = self.nodes.remove(&id) else { return };
        let (parent, prev, next) = (node.parent, node.prev, node.next);
        // Its neighbours point past it.
        match self.nodes.get_mut(&prev) {
            Some(sibling) if prev != 0 => sibling.next = next,
            _ => self.ends(parent).first = next,
        }
        match self.nodes.get_mut(&next) {
            Some(sibling) if next != 0 => sibling.prev = prev,
            _ => self.ends(parent).last = prev,
        }
        // And its subtree goes, without recursion.
        let mut doomed = vec![node.children.first];
        while let Some(at) = doomed.pop() {
            if at == 0 {
                continue;
            }
            if let Some(gone) = self.nodes.remove(&at) {
                doomed.push(gone.next);
                doomed.push(gone.children.first);
            }
        }
    }

    /// Whether an element is in the HTML namespace, or in one the replay doesn't know, which
    /// the viewer's frame shows as HTML.
    pub fn is_html(&self, id: u32) -> bool {
        matches!(self.nodes.get(&id).map(|n| &n.kind),
            Some(NodeKind::Element(e)) if !matches!(e.ns, Namespace::Svg | Namespace::MathMl))
    }
}

/// Siblings in order: a node's children, or the roots.
pub struct Siblings<'a> {
    dom: &'a ReplayDom,
    at: u32,
}

impl Iterator for Siblings<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let at = self.at;
        if at == 0 {
            return None;
        }
        self.at = self.dom.nodes.get(&at).map_or(0, |n| n.next);
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{DocumentNode, Element, Scroll};

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
        dom.children(id).collect()
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
    fn siblings_keep_their_order_through_many_adds_and_removes() {
        // 200,000 children of one parent, each added before the one added last (a chat that
        // prepends), then every other one removed: each step takes constant time.
        let mut dom = page();
        let count = 200_000u32;
        let adds = (0..count).map(|i| element(100 + i, 4, if i == 0 { 5 } else { 99 + i }, "li")).collect();
        dom.apply(&EventData::Mutation(Mutation { adds, ..Mutation::default() }));
        let order = children(&dom, 4);
        assert_eq!(order.len(), count as usize + 1);
        assert_eq!(order[0], 99 + count, "the last added is first");
        assert_eq!(order[count as usize - 1], 100, "the first added is just before its next sibling");
        assert_eq!(order[count as usize], 5);
        let removes = (0..count).step_by(2).map(|i| 100 + i).collect();
        dom.apply(&EventData::Mutation(Mutation { removes, ..Mutation::default() }));
        let order = children(&dom, 4);
        assert_eq!(order.len(), count as usize / 2 + 1);
        assert!(order.windows(2).all(|w| w[0] > w[1] || w[1] == 5), "still in order");
        // Removing the list removes all of it, without recursion however deep.
        dom.apply(&EventData::Mutation(Mutation { removes: vec![4], ..Mutation::default() }));
        assert_eq!(dom.len(), 3);
    }

    #[test]
    fn a_deep_chain_is_added_and_removed_without_recursion() {
        let mut dom = page();
        let depth = 100_000u32;
        let adds = (0..depth).map(|i| element(100 + i, if i == 0 { 3 } else { 99 + i }, 0, "div")).collect();
        dom.apply(&EventData::Mutation(Mutation { adds, ..Mutation::default() }));
        assert_eq!(dom.len(), 6 + depth as usize);
        dom.apply(&EventData::Mutation(Mutation { removes: vec![100], ..Mutation::default() }));
        assert_eq!(dom.len(), 6);
    }

    #[test]
    fn the_tree_holds_at_most_its_ceiling() {
        let nodes = (1..=MAX_NODES as u32 + 10).map(|id| element(id, id - 1, 0, "b")).collect();
        let mut dom = ReplayDom::new();
        dom.apply(&EventData::Snapshot(Snapshot { nodes }));
        assert_eq!(dom.len(), MAX_NODES);
        assert!(dom.node(MAX_NODES as u32 + 1).is_none());
    }

    #[test]
    fn a_snapshot_replaces_everything_and_input_and_scroll_land_on_their_nodes() {
        let mut dom = page();
        dom.apply(&EventData::Input(Input {
            target: 5,
            value: "****".into(),
            checked: None,
            masked: true,
            scripted: false,
        }));
        dom.apply(&EventData::Scroll(Scroll { target: 1, x: 0, y: 480 }));
        let NodeKind::Element(li) = &dom.node(5).unwrap().kind else { panic!() };
        assert_eq!(li.attrs, vec![("value".to_owned(), "****".to_owned())]);
        assert_eq!(dom.node(1).unwrap().scroll, Some((0, 480)));
        dom.apply(&EventData::Snapshot(Snapshot { nodes: vec![element(40, 0, 0, "html")] }));
        assert_eq!((dom.len(), dom.roots().collect::<Vec<_>>()), (1, vec![40]));
    }
}
