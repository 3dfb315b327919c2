//! The replay as a frame that plays: built once from a keyframe, then changed in place as time
//! advances, the way the page itself changed. Images and fonts don't reload, CSS animations
//! don't restart, element scroll positions hold, and nothing flickers between two changes.
//!
//! [`LiveFrame::advance`] answers with the [`Op`]s that bring the viewer's frame from where it
//! was to a moment: the changes in between when the moment is later on the same keyframe, or a
//! whole new page (a `reset` with the doctype that sets its mode, then every node in tree order)
//! when it is earlier, or past the next keyframe. Every op names recorded nodes by id, so the
//! frame keeps the recorded tree exactly (adjacent text nodes stay apart, tables without a
//! `<tbody>` stay so), and everything it shows has been through [`crate::inert`], the same rules
//! as the inert HTML: an element left out stays as an empty comment, to keep its place.
//!
//! Before the first keyframe, the frame shows the first keyframe: a session opened at its very
//! start is never blank. A recorded frame's own document is built in the frame the same way,
//! by ops, and changed in place too.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use sightline_protocol::{EventData, Mutation, Namespace, NodeKind};

use crate::dom::ReplayDom;
use crate::html::write_doctype;
use crate::inert::{form, frame_document, inert_element, Form, FrameDocuments, Holds};
use crate::Replay;

/// Events ahead past which the frame is built anew rather than changed: about a keyframe's
/// cost on a large page.
const FAR_AHEAD: usize = 1_000;

/// One change to the viewer's frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// An element, placed under `parent` before `next` (last when 0), replacing any node of
    /// the same id; `text` is its content when it holds a value or rules rather than children.
    Element {
        id: u32,
        parent: u32,
        next: u32,
        /// 0 HTML, 1 SVG, 2 MathML.
        ns: u8,
        tag: String,
        attrs: Vec<(String, String)>,
        text: Option<String>,
    },
    /// A text node.
    Text { id: u32, parent: u32, next: u32, text: String },
    /// An empty comment: a comment, a doctype, or an element left out, keeping its place.
    Hole { id: u32, parent: u32, next: u32 },
    /// An open shadow root on `host`.
    Shadow { id: u32, host: u32 },
    /// The document of the frame element `frame`, emptied, in the mode its `doctype` sets
    /// (empty for quirks mode); its nodes follow.
    Document { id: u32, frame: u32, doctype: String },
    /// A node gone, with all under it.
    Remove { id: u32 },
    /// An element's attributes, all of them.
    Attrs { id: u32, attrs: Vec<(String, String)> },
    /// A text node's new content, or an element's that holds a value or rules.
    Content { id: u32, text: String },
    /// The sheets a document or shadow root adopted, as `(media, rules)`.
    Adopted { host: u32, sheets: Vec<(String, String)> },
    /// Where a node was scrolled to; the document's node scrolls the frame's window.
    Scroll { id: u32, x: i32, y: i32 },
    /// The element that has the focus; 0 for none.
    Focus { id: u32 },
}

/// What brings the viewer's frame to a moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// A new page, when the frame starts over: the doctype that sets its mode (empty for
    /// quirks mode), and the id of its document.
    pub reset: Option<(String, u32)>,
    /// The changes, in order.
    pub ops: Vec<Op>,
}

/// The page the viewer's frame shows, kept at the moment it was last brought to.
#[derive(Debug, Default)]
pub struct LiveFrame {
    dom: ReplayDom,
    /// The events applied: those before this index.
    applied: usize,
    /// The keyframe the page was built from.
    keyframe: Option<usize>,
    /// The element that has the focus; 0 for none.
    focused: u32,
}

/// Where a node is, as the viewer's frame holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In the frame: every node above it shows its children.
    Shown,
    /// Not in the frame.
    Hidden,
}

/// What changed while the frame was brought to a moment, and is sent once, as it is at the
/// end: an attribute set many times or a sheet changed rule by rule costs one op each.
#[derive(Debug, Default)]
struct Pending {
    /// Elements and texts changed, with each element's form before its first change, in the
    /// order first changed.
    changed: Vec<(u32, Form)>,
    /// The form of each element changed before its first change.
    was: HashMap<u32, Form>,
    /// Elements whose form differed from it at some point: what went under them meanwhile went
    /// unseen, so they are shown anew whatever their form at the end.
    reformed: HashSet<u32>,
    /// Documents and shadow roots whose adopted sheets changed.
    adopters: BTreeSet<u32>,
    /// Frame elements whose document came, went or changed mode: each is shown anew once, at
    /// the end, with its document in it and without the source it then must not load.
    reframed: HashSet<u32>,
    /// The page's document itself was replaced: the frame starts over.
    rebuild: bool,
}

impl Pending {
    /// Notes `id` as about to change.
    fn touch(&mut self, dom: &ReplayDom, id: u32) {
        if id != 0 && !self.was.contains_key(&id) {
            let was = form(dom, id);
            self.was.insert(id, was);
            self.changed.push((id, was));
        }
    }

    /// Notes `id` as changed: whether its form is another now.
    fn settle(&mut self, dom: &ReplayDom, id: u32) {
        if self.was.get(&id).is_some_and(|was| *was != form(dom, id)) {
            self.reformed.insert(id);
        }
    }
}

impl LiveFrame {
    /// A frame that shows nothing yet.
    pub fn new() -> LiveFrame {
        LiveFrame::default()
    }

    /// The changes that bring the frame to `time` (ms since the epoch).
    pub fn advance(&mut self, replay: &Replay, time: u64) -> Frame {
        let events = replay.events();
        let is_snapshot = |e: &(u64, u32, EventData)| matches!(e.2, EventData::Snapshot(_));
        let until = events.partition_point(|(t, _, _)| *t <= time);
        let (keyframe, until) = match events[..until].iter().rposition(is_snapshot) {
            Some(keyframe) => (keyframe, until),
            // Before the first keyframe: the first keyframe.
            None => match events.iter().position(is_snapshot) {
                Some(first) => (first, first + 1),
                None => return Frame::default(),
            },
        };
        let onward = self.keyframe == Some(keyframe) && until >= self.applied;
        if !onward {
            self.dom = ReplayDom::new();
            self.applied = keyframe;
        }
        // A jump far ahead is a seek: building the page anew costs less than every change.
        let far = onward && events[self.applied..until].iter().filter(|e| changes_page(&e.2)).nth(FAR_AHEAD).is_some();
        if !onward || far {
            for (_, _, data) in &events[self.applied..until] {
                self.dom.apply(data);
            }
            return self.rebuilt(replay, keyframe, until);
        }
        let mut ops = Vec::new();
        let mut pending = Pending::default();
        for (_, _, data) in &events[self.applied..until] {
            self.step(data, &mut ops, &mut pending);
        }
        self.applied = until;
        if pending.rebuild {
            return self.rebuilt(replay, keyframe, until);
        }
        self.flush(pending, &mut ops);
        Frame { reset: None, ops }
    }

    /// The whole page, once its tree is at `until`.
    fn rebuilt(&mut self, replay: &Replay, keyframe: usize, until: usize) -> Frame {
        self.keyframe = Some(keyframe);
        self.applied = until;
        // The focus may have moved long before the keyframe.
        self.focused = replay.events()[..until]
            .iter()
            .rev()
            .find_map(|(_, _, data)| match data {
                EventData::Focus(focus) => Some(if focus.focused { focus.target } else { 0 }),
                _ => None,
            })
            .unwrap_or(0);
        self.build()
    }

    /// The whole page: its doctype, every node in tree order, adopted sheets and scrolls.
    fn build(&self) -> Frame {
        let Some(root) = self.dom.roots().next() else { return Frame { reset: Some((String::new(), 0)), ops: vec![] } };
        let doctype = self.doctype(root);
        let mut ops = Vec::new();
        let mut stack: Vec<u32> = self.dom.children(root).collect();
        stack.reverse();
        while let Some(id) = stack.pop() {
            self.emit_node(id, 0, &mut ops, &mut stack);
        }
        for host in self.dom.adopters() {
            ops.push(self.adopted(host));
        }
        for (id, (x, y)) in self.dom.scrolled() {
            ops.push(Op::Scroll { id, x, y });
        }
        if self.focused != 0 {
            ops.push(Op::Focus { id: self.focused });
        }
        Frame { reset: Some((doctype, root)), ops }
    }

    /// The doctype written for the document `id`, which sets its mode: empty for none.
    fn doctype(&self, id: u32) -> String {
        let mut doctype = String::new();
        let recorded = self.dom.children(id).find_map(|child| match &self.dom.node(child)?.kind {
            NodeKind::Doctype(d) => Some(d),
            _ => None,
        });
        if let Some(recorded) = recorded {
            write_doctype(recorded, &mut doctype);
        }
        doctype
    }

    /// The op for the node `id`, placed before `next`; its children go on `stack` (last first)
    /// when it shows them.
    fn emit_node(&self, id: u32, next: u32, ops: &mut Vec<Op>, stack: &mut Vec<u32>) {
        let Some(node) = self.dom.node(id) else { return };
        let parent = node.parent;
        let shows_children = match &node.kind {
            NodeKind::Element(element) => match inert_element(&self.dom, id, element, FrameDocuments::Built) {
                Some(shown) => {
                    let ns = match element.ns {
                        Namespace::Svg => 1,
                        Namespace::MathMl => 2,
                        Namespace::Html | Namespace::Unknown(_) => 0,
                    };
                    let (text, children) = match shown.holds {
                        Holds::Children => (None, true),
                        Holds::Value(text) | Holds::Rules(text) => (Some(text), false),
                        Holds::Nothing => (None, false),
                    };
                    ops.push(Op::Element { id, parent, next, ns, tag: shown.tag, attrs: shown.attrs, text });
                    // A frame's recorded document is built in it, after it.
                    if let Some(document) = self.built_document(id) {
                        stack.push(document);
                    }
                    children
                }
                None => {
                    ops.push(Op::Hole { id, parent, next });
                    false
                }
            },
            NodeKind::Text(text) | NodeKind::CData(text) => {
                ops.push(Op::Text { id, parent, next, text: text.clone() });
                false
            }
            NodeKind::ShadowRoot(_) => {
                ops.push(Op::Shadow { id, host: parent });
                true
            }
            NodeKind::Doctype(_) | NodeKind::Comment(_) => {
                ops.push(Op::Hole { id, parent, next });
                false
            }
            // Only a frame's own document is built in it.
            NodeKind::Document(_) if self.built_document(parent) == Some(id) => {
                ops.push(Op::Document { id, frame: parent, doctype: self.doctype(id) });
                true
            }
            NodeKind::Document(_) => false,
        };
        if shows_children {
            let at = stack.len();
            stack.extend(self.dom.children(id));
            stack[at..].reverse();
        }
    }

    /// The node `id` and everything under it, placed where it is in the page, with the sheets
    /// its documents and shadow roots adopted and where its nodes were scrolled: a tree shown
    /// anew has none of them in the frame.
    fn emit_subtree(&self, id: u32, ops: &mut Vec<Op>) {
        let mut stack = Vec::new();
        let mut after = Vec::new();
        self.emit_node(id, self.next_placed(id), ops, &mut stack);
        self.emit_state(id, &mut after);
        while let Some(below) = stack.pop() {
            self.emit_node(below, 0, ops, &mut stack);
            self.emit_state(below, &mut after);
        }
        ops.append(&mut after);
    }

    /// The adopted sheets and scroll position of the node `id`, where it has them.
    fn emit_state(&self, id: u32, ops: &mut Vec<Op>) {
        if self.dom.has_adopted(id) {
            ops.push(self.adopted(id));
        }
        if let Some((x, y)) = self.dom.node(id).and_then(|n| n.scroll).filter(|&(x, y)| x != 0 || y != 0) {
            ops.push(Op::Scroll { id, x, y });
        }
    }

    /// The node `id` shown anew, with all under it.
    fn replace_subtree(&self, id: u32, ops: &mut Vec<Op>) {
        ops.push(Op::Remove { id });
        self.emit_subtree(id, ops);
    }

    /// The sibling after `id` that the frame can place a node before: shadow roots are not
    /// among their host's children there.
    fn next_placed(&self, id: u32) -> u32 {
        let mut next = self.dom.next_sibling(id);
        while next != 0 && matches!(self.dom.node(next).map(|n| &n.kind), Some(NodeKind::ShadowRoot(_))) {
            next = self.dom.next_sibling(next);
        }
        next
    }

    /// The recorded document built in the frame element `id`, if it is one that has one.
    fn built_document(&self, id: u32) -> Option<u32> {
        match &self.dom.node(id)?.kind {
            NodeKind::Element(element) if element.tag.eq_ignore_ascii_case("iframe") => frame_document(&self.dom, id),
            _ => None,
        }
    }

    fn adopted(&self, host: u32) -> Op {
        let sheets = self.dom.adopted_by(host).into_iter().map(|s| (s.media.clone(), s.rules.join("\n"))).collect();
        Op::Adopted { host, sheets }
    }

    /// Where the node `id` is, found in one walk up to the page's document.
    fn place(&self, id: u32) -> Place {
        self.place_in(id).0
    }

    /// Where the node `id` is, and the frame element holding the innermost recorded document it
    /// is in (0 for the page's own).
    fn place_in(&self, id: u32) -> (Place, u32) {
        let root = self.dom.roots().next().unwrap_or(0);
        let Some(node) = self.dom.node(id).filter(|_| id != root) else { return (Place::Hidden, 0) };
        // The document walked up from, when the walk is in a recorded frame's document.
        let mut from_document = matches!(node.kind, NodeKind::Document(_)).then_some(id);
        let mut frame = 0;
        let mut at = node.parent;
        while at != root {
            let Some(node) = self.dom.node(at) else { return (Place::Hidden, 0) };
            match node.kind {
                // Only a frame element shows a document: not a shadow root, nor a document.
                NodeKind::ShadowRoot(_) | NodeKind::Document(_) if from_document.is_some() => {
                    return (Place::Hidden, 0)
                }
                NodeKind::ShadowRoot(_) => {}
                NodeKind::Element(_) if from_document.is_some() => {
                    // A frame shows the document built in it, and nothing else under it.
                    if self.built_document(at) != from_document || form(&self.dom, at) == Form::LeftOut {
                        return (Place::Hidden, 0);
                    }
                    if frame == 0 {
                        frame = at;
                    }
                }
                NodeKind::Element(_) if form(&self.dom, at) != Form::Children => return (Place::Hidden, 0),
                NodeKind::Element(_) => {}
                NodeKind::Document(_) => {
                    from_document = Some(at);
                    at = node.parent;
                    continue;
                }
                _ => return (Place::Hidden, 0),
            }
            from_document = None;
            at = node.parent;
        }
        // A document directly under the page's is not shown.
        match from_document {
            Some(_) => (Place::Hidden, 0),
            None => (Place::Shown, frame),
        }
    }

    /// The frame elements the node `id` is in, innermost first: those whose documents hold it.
    fn frames_around(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.dom.node(id).map_or(0, |n| n.parent);
        let mut in_document = false;
        std::iter::from_fn(move || loop {
            let node = self.dom.node(at)?;
            let (here, was_in_document) = (at, in_document);
            in_document = matches!(node.kind, NodeKind::Document(_));
            at = node.parent;
            if was_in_document && matches!(node.kind, NodeKind::Element(_)) {
                return Some(here);
            }
        })
    }

    /// The frame element whose document the node `id` makes or unmakes, or whose mode it sets:
    /// a frame's document, or that document's doctype.
    fn frame_made_by(&self, id: u32) -> Option<u32> {
        let node = self.dom.node(id)?;
        let document = match node.kind {
            NodeKind::Document(_) => id,
            NodeKind::Doctype(_) => node.parent,
            _ => return None,
        };
        let parent = self.dom.node(document).filter(|d| matches!(d.kind, NodeKind::Document(_)))?.parent;
        match &self.dom.node(parent)?.kind {
            NodeKind::Element(element) if element.tag.eq_ignore_ascii_case("iframe") => Some(parent),
            _ => None,
        }
    }

    /// Ops for an element whose attributes, value or sheet may have changed, from what its form
    /// was before.
    fn changed(&self, id: u32, was: Form, reformed: bool, ops: &mut Vec<Op>) {
        if self.place(id) == Place::Hidden {
            return;
        }
        let node = self.dom.node(id).map(|n| &n.kind);
        if let Some(NodeKind::Text(text) | NodeKind::CData(text)) = node {
            ops.push(Op::Content { id, text: text.clone() });
            return;
        }
        if reformed || form(&self.dom, id) != was {
            self.replace_subtree(id, ops);
            return;
        }
        let Some(NodeKind::Element(element)) = node else { return };
        let Some(shown) = inert_element(&self.dom, id, element, FrameDocuments::Built) else { return };
        ops.push(Op::Attrs { id, attrs: shown.attrs });
        if let Holds::Value(text) | Holds::Rules(text) = shown.holds {
            ops.push(Op::Content { id, text });
        }
    }

    /// The changes that wait for the end of a step through time, as they are now.
    fn flush(&self, pending: Pending, ops: &mut Vec<Op>) {
        // Only the outermost: a frame shown anew brings those in it.
        let mut reframed: Vec<u32> = pending.reframed.iter().copied().collect();
        reframed.sort_unstable();
        for &frame in &reframed {
            if self.place(frame) == Place::Shown && !self.frames_around(frame).any(|f| pending.reframed.contains(&f)) {
                self.replace_subtree(frame, ops);
            }
        }
        for (id, was) in pending.changed {
            self.changed(id, was, pending.reformed.contains(&id), ops);
        }
        for host in pending.adopters {
            if self.dom.node(host).is_some() {
                ops.push(self.adopted(host));
            }
        }
    }

    fn step(&mut self, data: &EventData, ops: &mut Vec<Op>, pending: &mut Pending) {
        match data {
            EventData::Snapshot(_) => {
                // Only ever the keyframe a build starts from; a later one starts a new build.
                self.dom.apply(data);
            }
            EventData::Mutation(mutation) => self.mutate(mutation, ops, pending),
            EventData::Input(input) => {
                pending.touch(&self.dom, input.target);
                self.dom.apply(data);
                pending.settle(&self.dom, input.target);
            }
            EventData::StyleSheet(sheet) => {
                // The sheet may move from one owner to another: both are shown anew.
                let was_owner = self.dom.sheet_users(sheet.id).0;
                pending.touch(&self.dom, was_owner);
                pending.touch(&self.dom, sheet.owner);
                self.dom.apply(data);
                pending.settle(&self.dom, was_owner);
                pending.settle(&self.dom, sheet.owner);
                pending.adopters.extend(self.dom.sheet_users(sheet.id).1);
            }
            EventData::StyleRule(rule) => {
                let (owner, hosts) = self.dom.sheet_users(rule.sheet);
                pending.touch(&self.dom, owner);
                self.dom.apply(data);
                pending.settle(&self.dom, owner);
                pending.adopters.extend(hosts);
            }
            EventData::AdoptedStyleSheets(adopted) => {
                self.dom.apply(data);
                pending.adopters.insert(adopted.host);
            }
            EventData::Focus(focus) => {
                let focused = if focus.focused {
                    focus.target
                } else if focus.target == self.focused {
                    0
                } else {
                    return;
                };
                if focused != self.focused {
                    self.focused = focused;
                    ops.push(Op::Focus { id: focused });
                }
            }
            EventData::Scroll(scroll) => {
                self.dom.apply(data);
                ops.push(Op::Scroll { id: scroll.target, x: scroll.x, y: scroll.y });
            }
            _ => {}
        }
    }

    /// A change set, in the protocol's order: removals, additions, attributes, texts.
    fn mutate(&mut self, mutation: &Mutation, ops: &mut Vec<Op>, pending: &mut Pending) {
        let root = self.dom.roots().next().unwrap_or(0);
        let sets_mode = |dom: &ReplayDom, id: u32| {
            dom.node(id).is_some_and(|n| n.parent == root && matches!(n.kind, NodeKind::Doctype(_)))
        };
        for &id in &mutation.removes {
            let Some(node) = self.dom.node(id) else { continue };
            let (host, shadow) = (node.parent, matches!(node.kind, NodeKind::ShadowRoot(_)));
            let place = self.place(id);
            let frame = self.frame_made_by(id);
            pending.rebuild |= sets_mode(&self.dom, id);
            self.dom.remove(id);
            match place {
                _ if id == root => pending.rebuild = true,
                _ if frame.is_some() => pending.reframed.extend(frame),
                // A shadow root can't be taken off its host in the frame: the host is shown
                // anew, without it.
                Place::Shown if shadow => self.replace_subtree(host, ops),
                Place::Shown => ops.push(Op::Remove { id }),
                Place::Hidden => {}
            }
        }
        // A frame element that comes with its document is shown once that is in it.
        let framed: HashSet<u32> = mutation
            .adds
            .iter()
            .filter(|node| matches!(node.kind, NodeKind::Document(_)))
            .map(|node| node.parent)
            .collect();
        for node in &mutation.adds {
            if node.id == root || node.parent == 0 {
                pending.rebuild = true;
            }
            // A document or doctype moved from one frame to another unmakes the first.
            pending.reframed.extend(self.frame_made_by(node.id));
            pending.rebuild |= sets_mode(&self.dom, node.id);
            if self.dom.node(node.id).is_some() && self.place(node.id) == Place::Shown {
                ops.push(Op::Remove { id: node.id });
            }
            self.dom.add(node);
            pending.rebuild |= sets_mode(&self.dom, node.id);
            let made = self.frame_made_by(node.id);
            let (place, frame) = self.place_in(node.id);
            // In a frame that will be shown anew, it comes with it.
            let within = made.map_or(frame, |made| self.place_in(made).1);
            let covered = |f: u32| pending.reframed.contains(&f);
            if !pending.reframed.is_empty()
                && within != 0
                && (covered(within) || self.frames_around(within).any(covered))
            {
                continue;
            }
            if let Some(made) = made {
                pending.reframed.insert(made);
            } else if place == Place::Shown && framed.contains(&node.id) {
                // Held by an empty comment till then, so that its siblings find their place.
                pending.reframed.insert(node.id);
                ops.push(Op::Hole { id: node.id, parent: node.parent, next: self.next_placed(node.id) });
            } else if place == Place::Shown {
                self.emit_subtree(node.id, ops);
            }
        }
        for change in &mutation.attrs {
            pending.touch(&self.dom, change.id);
            self.dom.set_attribute(change);
            pending.settle(&self.dom, change.id);
        }
        for change in &mutation.texts {
            if matches!(self.dom.node(change.id).map(|n| &n.kind), Some(NodeKind::Text(_) | NodeKind::CData(_))) {
                pending.touch(&self.dom, change.id);
            }
            self.dom.set_text(change);
        }
    }
}

/// Whether an event changes what the frame shows of the page.
fn changes_page(data: &EventData) -> bool {
    matches!(
        data,
        EventData::Snapshot(_)
            | EventData::Mutation(_)
            | EventData::Input(_)
            | EventData::StyleSheet(_)
            | EventData::StyleRule(_)
            | EventData::AdoptedStyleSheets(_)
            | EventData::Scroll(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{
        AttributeChange, Batch, DocumentNode, Element, Event, Focus, Input, Node, Scroll, SessionId, ShadowRootNode,
        Snapshot, StyleSheet, TextChange,
    };
    use std::collections::HashMap;

    /// The viewer's frame as a tree of ids, changed by ops the way the viewer changes it.
    #[derive(Default)]
    struct Mirror {
        root: u32,
        nodes: HashMap<u32, (u32, String, Vec<u32>)>,
        shadows: HashMap<u32, u32>,
        scrolls: BTreeSet<(u32, i32, i32)>,
        adopted: BTreeSet<(u32, String)>,
        focused: u32,
    }

    impl Mirror {
        fn apply(&mut self, frame: &Frame) {
            if let Some((_, root)) = &frame.reset {
                *self = Mirror { root: *root, ..Mirror::default() };
                self.nodes.insert(*root, (0, "document".into(), vec![]));
            }
            for op in &frame.ops {
                match op {
                    Op::Element { id, parent, next, tag, attrs, text, .. } => {
                        self.place(*id, *parent, *next, format!("<{tag} {attrs:?}> {text:?}"));
                    }
                    Op::Text { id, parent, next, text } => self.place(*id, *parent, *next, format!("'{text}'")),
                    Op::Hole { id, parent, next } => self.place(*id, *parent, *next, "hole".into()),
                    Op::Shadow { id, host } => {
                        if self.nodes.contains_key(host) {
                            self.nodes.insert(*id, (*host, "shadow".into(), vec![]));
                            self.shadows.insert(*host, *id);
                        }
                    }
                    Op::Remove { id } => self.remove(*id),
                    Op::Attrs { id, attrs } => {
                        if let Some(node) = self.nodes.get_mut(id) {
                            let (tag, rest) = node.1.split_once(' ').unwrap();
                            let text = rest.rsplit_once("> ").unwrap().1;
                            node.1 = format!("{tag} {attrs:?}> {text}");
                        }
                    }
                    Op::Content { id, text } => {
                        if let Some(node) = self.nodes.get_mut(id) {
                            node.1 = match node.1.rsplit_once("> ") {
                                Some((head, _)) => format!("{head}> {:?}", Some(text)),
                                None => format!("'{text}'"),
                            };
                        }
                    }
                    // As in the viewer: only on a node the frame has; a node at its origin
                    // is as a new one.
                    Op::Adopted { host, sheets } if self.nodes.contains_key(host) => {
                        self.adopted.retain(|(h, _)| h != host);
                        self.adopted.insert((*host, format!("{sheets:?}")));
                    }
                    Op::Scroll { id, x, y } if self.nodes.contains_key(id) => {
                        self.scrolls.retain(|(i, _, _)| i != id);
                        if (*x, *y) != (0, 0) {
                            self.scrolls.insert((*id, *x, *y));
                        }
                    }
                    Op::Adopted { .. } | Op::Scroll { .. } => {}
                    Op::Focus { id } => self.focused = *id,
                    Op::Document { id, frame, doctype } => {
                        // A frame holds one document: a new one takes the place of the last.
                        let Some((_, _, children)) = self.nodes.get(frame) else { continue };
                        for old in children.clone() {
                            self.remove(old);
                        }
                        self.place(*id, *frame, 0, format!("document {doctype:?}"));
                    }
                }
            }
        }

        fn place(&mut self, id: u32, parent: u32, next: u32, what: String) {
            self.remove(id);
            let Some((_, _, children)) = self.nodes.get_mut(&parent) else { return };
            match children.iter().position(|c| *c == next) {
                Some(at) if next != 0 => children.insert(at, id),
                _ => children.push(id),
            }
            self.nodes.insert(id, (parent, what, vec![]));
        }

        fn remove(&mut self, id: u32) {
            let Some((parent, _, _)) = self.nodes.get(&id) else { return };
            let parent = *parent;
            if let Some((_, _, siblings)) = self.nodes.get_mut(&parent) {
                siblings.retain(|c| *c != id);
            }
            self.shadows.retain(|_, shadow| *shadow != id);
            let mut doomed = vec![id];
            while let Some(at) = doomed.pop() {
                // What the node adopted and where it was scrolled go with it.
                self.scrolls.retain(|(i, _, _)| *i != at);
                self.adopted.retain(|(h, _)| *h != at);
                if let Some((_, _, children)) = self.nodes.remove(&at) {
                    doomed.extend(children);
                }
                if let Some(shadow) = self.shadows.remove(&at) {
                    doomed.push(shadow);
                }
            }
        }

        fn lines(&self) -> Vec<String> {
            let mut lines = vec![];
            let mut stack = vec![(self.root, 0)];
            while let Some((id, depth)) = stack.pop() {
                let Some((_, what, children)) = self.nodes.get(&id) else { continue };
                lines.push(format!("{depth} {id} {what}"));
                for child in children.iter().rev() {
                    stack.push((*child, depth + 1));
                }
                if let Some(shadow) = self.shadows.get(&id) {
                    stack.push((*shadow, depth + 1));
                }
            }
            lines.extend(self.scrolls.iter().map(|s| format!("scroll {s:?}")));
            lines.extend(self.adopted.iter().map(|a| format!("adopted {a:?}")));
            lines.push(format!("focused {}", self.focused));
            lines
        }
    }

    fn el(id: u32, parent: u32, next: u32, tag: &str, attrs: &[(&str, &str)]) -> Node {
        let attrs = attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
        Node { id, parent, next, kind: NodeKind::Element(Element { tag: tag.into(), attrs, ns: Namespace::Html }) }
    }

    fn text(id: u32, parent: u32, next: u32, content: &str) -> Node {
        Node { id, parent, next, kind: NodeKind::Text(content.into()) }
    }

    fn page(extra: &[Node]) -> EventData {
        let mut nodes = vec![
            Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(2, 1, 0, "html", &[]),
            el(3, 2, 0, "head", &[]),
            el(4, 3, 0, "style", &[]),
            text(5, 4, 0, "p { color: red }"),
            el(6, 2, 0, "body", &[]),
            el(7, 6, 0, "ul", &[]),
            el(8, 7, 0, "li", &[]),
            text(9, 8, 0, "first"),
            text(10, 8, 0, " and more"),
            el(11, 6, 0, "textarea", &[]),
            text(12, 11, 0, "default"),
            el(13, 6, 0, "iframe", &[]),
            Node { id: 14, parent: 13, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            el(15, 14, 0, "p", &[]),
            text(16, 15, 0, "inside"),
            el(17, 6, 0, "div", &[("id", "host")]),
        ];
        nodes.extend_from_slice(extra);
        EventData::Snapshot(Snapshot { nodes })
    }

    fn change(mutation: Mutation) -> EventData {
        EventData::Mutation(mutation)
    }

    /// A session of one page holding `timed`, each event at its time.
    fn replay_of(timed: Vec<(u64, EventData)>) -> Replay {
        let sent = timed.last().map_or(0, |(at, _)| at + 1_000);
        let events = Event::sequence(0, timed);
        Replay::new(&[Batch {
            project: "slk".into(),
            session: SessionId([1; 16]),
            page: 0,
            seq: 0,
            start: 0,
            sent,
            events,
            trace_key: None,
        }])
    }

    /// A session of two keyframes, with every kind of change between them.
    fn session() -> Replay {
        let attr = |id, name: &str, value: Option<&str>| AttributeChange {
            id,
            name: name.into(),
            value: value.map(Into::into),
        };
        let timed = vec![
            (1_000, page(&[])),
            (
                1_100,
                change(Mutation {
                    adds: vec![el(20, 7, 8, "li", &[]), text(21, 20, 0, "zeroth")],
                    ..Default::default()
                }),
            ),
            (1_200, change(Mutation { texts: vec![TextChange { id: 9, text: "1st".into() }], ..Default::default() })),
            (
                1_300,
                change(Mutation {
                    attrs: vec![attr(7, "class", Some("open")), attr(7, "onclick", Some("x()"))],
                    ..Default::default()
                }),
            ),
            (
                1_400,
                EventData::Input(Input {
                    target: 11,
                    value: "****".into(),
                    checked: None,
                    masked: true,
                    scripted: false,
                }),
            ),
            (
                1_500,
                EventData::StyleSheet(StyleSheet {
                    id: 1,
                    owner: 4,
                    rules: vec!["p { color: blue }".into()],
                    media: String::new(),
                }),
            ),
            (
                1_600,
                change(Mutation {
                    texts: vec![TextChange { id: 16, text: "inside, changed".into() }],
                    ..Default::default()
                }),
            ),
            (
                1_700,
                change(Mutation {
                    adds: vec![
                        Node { id: 30, parent: 17, next: 0, kind: NodeKind::ShadowRoot(ShadowRootNode {}) },
                        el(31, 30, 0, "slot", &[]),
                        el(32, 17, 0, "span", &[]),
                    ],
                    ..Default::default()
                }),
            ),
            (1_800, EventData::Scroll(Scroll { target: 7, x: 0, y: 40 })),
            (1_850, EventData::Focus(Focus { target: 11, focused: true })),
            (
                1_900,
                change(Mutation {
                    removes: vec![8],
                    adds: vec![
                        el(33, 6, 11, "script", &[("src", "https://evil.example/x.js")]),
                        text(34, 33, 0, "steal()"),
                    ],
                    ..Default::default()
                }),
            ),
            (
                2_000,
                change(Mutation {
                    attrs: vec![attr(20, "data-x", Some("1"))],
                    adds: vec![el(20, 6, 0, "li", &[])],
                    ..Default::default()
                }),
            ),
            // The shadow root goes: its host shows its own children again.
            (2_050, change(Mutation { removes: vec![30], ..Default::default() })),
            // The sheet moves to another `<style>`: the first shows its own text again.
            (
                2_080,
                change(Mutation {
                    adds: vec![el(50, 3, 0, "STYLE", &[]), text(51, 50, 0, "q { margin: 0 }")],
                    ..Default::default()
                }),
            ),
            (
                2_100,
                EventData::StyleSheet(StyleSheet {
                    id: 1,
                    owner: 50,
                    rules: vec!["q { margin: 1px }".into()],
                    media: String::new(),
                }),
            ),
            (5_000, page(&[el(40, 6, 0, "p", &[])])),
            (5_100, change(Mutation { adds: vec![text(41, 40, 0, "second page")], ..Default::default() })),
        ];
        replay_of(timed)
    }

    fn straight_to(replay: &Replay, time: u64) -> Vec<String> {
        let mut mirror = Mirror::default();
        mirror.apply(&LiveFrame::new().advance(replay, time));
        mirror.lines()
    }

    #[test]
    fn playing_forward_shows_what_seeking_straight_there_shows() {
        let replay = session();
        let mut frame = LiveFrame::new();
        let mut mirror = Mirror::default();
        let mut resets = vec![];
        for time in (0..=6_000).step_by(50) {
            let step = frame.advance(&replay, time);
            if step.reset.is_some() {
                resets.push(time);
            }
            mirror.apply(&step);
            assert_eq!(mirror.lines(), straight_to(&replay, time), "at {time}");
        }
        assert_eq!(resets, vec![0, 5_000], "the page is built at the start and at each keyframe, never between");
        // A jump far ahead builds the page anew.
        let mut far = session();
        let (start, _, event) = far.events[3].clone();
        let many = (1..=FAR_AHEAD as u64 + 1).map(|i| (start + i / 1_000, 0, event.clone()));
        far.events.splice(4..4, many);
        let mut frame = LiveFrame::new();
        frame.advance(&far, 1_000);
        assert!(frame.advance(&far, 1_400).reset.is_some());
        assert_eq!(straight_to(&far, 1_400), straight_to(&replay, 1_400));
    }

    #[test]
    fn the_frame_holds_the_recorded_tree_and_only_what_is_inert() {
        let replay = session();
        assert_eq!(
            straight_to(&replay, 0),
            straight_to(&replay, 1_000),
            "before the first keyframe: the first keyframe"
        );
        let lines = straight_to(&replay, 1_800).join("\n");
        assert!(lines.contains("'zeroth'") && lines.contains("'1st'") && lines.contains("' and more'"), "{lines}");
        let lines = straight_to(&replay, 2_000).join("\n");
        assert!(!lines.contains("'zeroth'") && !lines.contains("'1st'"), "moved and removed: {lines}");
        assert!(lines.contains(r#"<ul [("class", "open")]>"#) && !lines.contains("onclick"), "{lines}");
        assert!(lines.contains(r#"<textarea []> Some("****")"#), "{lines}");
        assert!(lines.contains(r#"<style []> Some("p { color: blue }\n")"#), "{lines}");
        assert!(lines.contains("inside, changed") && !lines.contains("'inside'"), "{lines}");
        assert!(lines.contains("<script []> None") && !lines.contains("steal"), "{lines}");
        assert!(lines.contains("shadow") && lines.contains("<slot"), "{lines}");
        assert!(lines.contains("scroll (7, 0, 40)"), "{lines}");
        assert!(lines.contains("focused 11"), "the focus, kept across a seek: {lines}");
        assert!(lines.contains(r#"<li [("data-x", "1")]>"#), "{lines}");
        let lines = straight_to(&replay, 2_100).join("\n");
        assert!(!lines.contains("shadow") && lines.contains("<span"), "{lines}");
        assert!(lines.contains("'p { color: red }'"), "the sheet's first owner shows its text: {lines}");
        assert!(lines.contains(r#"<style []> Some("q { margin: 1px }\n")"#), "{lines}");
        let second = straight_to(&replay, 5_100).join("\n");
        assert!(second.contains("'second page'") && !second.contains("zeroth"), "{second}");
    }

    #[test]
    fn what_changed_many_times_between_two_moments_is_sent_once_as_it_is() {
        let replay = session();
        let mut frame = LiveFrame::new();
        frame.advance(&replay, 2_000);
        let ops = frame.advance(&replay, 2_100).ops;
        // The shadow root can't leave its host in the frame: the host is shown anew.
        assert_eq!(ops[0], Op::Remove { id: 17 });
        assert!(matches!(&ops[1], Op::Element { id: 17, .. }), "{ops:?}");
        assert!(!ops.iter().any(|op| matches!(op, Op::Shadow { .. })), "{ops:?}");
        // Both owners of the sheet that moved are shown anew; the new one's tag as a browser
        // shows it.
        let shown: Vec<_> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Element { id, tag, text, .. } if *id == 4 || *id == 50 => Some((*id, tag.as_str(), text.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(shown.last(), Some(&(50, "style", Some("q { margin: 1px }\n".to_owned()))), "{ops:?}");
        assert!(shown.contains(&(4, "style", None)), "{ops:?}");

        // A hundred changes to one element and one sheet: one op each.
        let mut many = session();
        let at = many.events.iter().position(|e| e.0 == 2_000).unwrap();
        let attr = |i: u64| AttributeChange { id: 7, name: "class".into(), value: Some(format!("c{i}")) };
        let rule = |i: u64| sightline_protocol::StyleRule { sheet: 1, path: vec![0], rule: Some(format!("p{i} {{}}")) };
        let changes = (0..100).flat_map(|i| {
            [
                (1_950, 0, change(Mutation { attrs: vec![attr(i)], ..Default::default() })),
                (1_950, 0, EventData::StyleRule(rule(i))),
            ]
        });
        many.events.splice(at..at, changes);
        let mut frame = LiveFrame::new();
        frame.advance(&many, 1_900);
        let ops = frame.advance(&many, 1_950).ops;
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert_eq!(ops[0], Op::Attrs { id: 7, attrs: vec![("class".into(), "c99".into())] });
        assert_eq!(ops[1], Op::Attrs { id: 4, attrs: vec![] });
        assert!(matches!(&ops[2], Op::Content { id: 4, text } if text.starts_with("p99 {}\np98 {}")), "{ops:?}");
    }

    #[test]
    fn only_changes_to_the_page_count_toward_a_rebuild_and_a_new_document_is_one() {
        let mut quiet = session();
        let at = quiet.events.iter().position(|e| e.0 == 1_850).unwrap();
        let focus = |i: u64| (1_840, 0, EventData::Focus(Focus { target: 11, focused: i.is_multiple_of(2) }));
        quiet.events.splice(at..at, (0..FAR_AHEAD as u64 * 2).map(focus));
        let mut frame = LiveFrame::new();
        frame.advance(&quiet, 1_800);
        assert_eq!(frame.advance(&quiet, 1_850).reset, None, "focus moves alone are not a seek");

        let mut replaced = session();
        let at = replaced.events.iter().position(|e| e.0 == 2_000).unwrap();
        let document = Node { id: 1, parent: 0, next: 0, kind: NodeKind::Document(DocumentNode {}) };
        let new_page = change(Mutation { adds: vec![document, el(60, 1, 0, "main", &[])], ..Default::default() });
        replaced.events.insert(at, (1_990, 0, new_page));
        let mut frame = LiveFrame::new();
        frame.advance(&replaced, 1_900);
        let step = frame.advance(&replaced, 1_990);
        assert_eq!(step.reset, Some((String::new(), 1)), "{step:?}");
        assert_eq!(straight_to(&replaced, 1_990), {
            let mut mirror = Mirror::default();
            mirror.apply(&step);
            mirror.lines()
        });
        assert!(straight_to(&replaced, 1_990).iter().any(|line| line.contains("<main")));
    }

    #[test]
    fn a_frames_document_is_built_in_it_and_changed_in_place() {
        let replay = session();
        let lines = straight_to(&replay, 1_000).join("\n");
        assert!(lines.contains("<iframe []> None") && !lines.contains("srcdoc"), "{lines}");
        assert!(lines.contains("4 14 document \"\"") && lines.contains("6 16 'inside'"), "{lines}");
        let mut frame = LiveFrame::new();
        frame.advance(&replay, 1_500);
        assert_eq!(frame.advance(&replay, 1_600).ops, vec![Op::Content { id: 16, text: "inside, changed".into() }]);

        // The frame goes to another page, with a doctype, and keeps a `src` it must not load.
        let mut navigated = session();
        let at = navigated.events.iter().position(|e| e.0 == 1_700).unwrap();
        let doctype = sightline_protocol::Doctype { name: "html".into(), ..Default::default() };
        let adds = vec![
            Node { id: 70, parent: 13, next: 0, kind: NodeKind::Document(DocumentNode {}) },
            Node { id: 71, parent: 70, next: 0, kind: NodeKind::Doctype(doctype) },
            el(72, 70, 0, "main", &[]),
        ];
        let attrs = vec![AttributeChange { id: 13, name: "src".into(), value: Some("https://app.example/2".into()) }];
        let went = change(Mutation { removes: vec![14], adds, attrs, ..Default::default() });
        navigated.events.insert(at, (1_650, 0, went));
        let mut frame = LiveFrame::new();
        frame.advance(&navigated, 1_600);
        let ops = frame.advance(&navigated, 1_650).ops;
        // The frame element is shown anew, once, with its new document built in it once, in
        // the mode its doctype sets.
        assert_eq!(ops[0], Op::Remove { id: 13 });
        assert!(matches!(&ops[1], Op::Element { id: 13, attrs, .. } if attrs.is_empty()), "{ops:?}");
        let built: Vec<_> = ops.iter().filter(|op| matches!(op, Op::Document { .. })).collect();
        assert_eq!(built, vec![&Op::Document { id: 70, frame: 13, doctype: "<!DOCTYPE html>".into() }]);
        assert!(ops.iter().all(|op| !matches!(op, Op::Attrs { attrs, .. } if !attrs.is_empty())), "{ops:?}");
        let mut mirror = Mirror::default();
        mirror.apply(&LiveFrame::new().advance(&navigated, 1_600));
        mirror.apply(&Frame { reset: None, ops });
        assert_eq!(mirror.lines(), straight_to(&navigated, 1_650));
    }

    /// Frames whose documents come, go and change mode after the keyframe, with what their
    /// documents adopted and scrolled, and documents where no frame shows them.
    #[test]
    fn frames_whose_documents_come_and_go_play_as_a_seek_shows_them() {
        let doctype = || Node { id: 0, parent: 0, next: 0, kind: NodeKind::Doctype(Default::default()) };
        let at = |node: Node, id, parent, next| Node { id, parent, next, ..node };
        let document = |id, parent| Node { id, parent, next: 0, kind: NodeKind::Document(DocumentNode {}) };
        let src = ("src", "https://app.example/frame");
        let sheet = StyleSheet { id: 9, owner: 0, rules: vec!["p { color: green }".into()], media: String::new() };
        let timed = vec![
            (1_000, page(&[el(80, 6, 0, "iframe", &[src]), el(81, 6, 80, "p", &[])])),
            // A document comes to the frame that loaded its source: the source goes.
            (
                1_100,
                change(Mutation { adds: vec![document(82, 80), el(83, 82, 0, "html", &[])], ..Default::default() }),
            ),
            (
                1_150,
                change(Mutation {
                    adds: vec![el(84, 83, 0, "div", &[]), text(85, 84, 0, "rows")],
                    ..Default::default()
                }),
            ),
            (1_200, EventData::Scroll(Scroll { target: 84, x: 0, y: 30 })),
            (1_250, EventData::StyleSheet(sheet)),
            (
                1_260,
                EventData::AdoptedStyleSheets(sightline_protocol::AdoptedStyleSheets { host: 82, sheets: vec![9] }),
            ),
            // Its doctype arrives: built again, in standards mode, scrolled and styled as it was.
            (1_300, change(Mutation { adds: vec![at(doctype(), 86, 82, 83)], ..Default::default() })),
            // A new frame with its document, placed before a sibling that comes after it.
            (
                1_400,
                change(Mutation {
                    adds: vec![
                        el(90, 6, 81, "iframe", &[src]),
                        document(91, 90),
                        el(92, 91, 0, "html", &[]),
                        el(93, 6, 90, "hr", &[]),
                    ],
                    ..Default::default()
                }),
            ),
            // Documents where no frame shows them: under a shadow root, and under the page's.
            (
                1_500,
                change(Mutation {
                    adds: vec![
                        Node { id: 94, parent: 17, next: 0, kind: NodeKind::ShadowRoot(ShadowRootNode {}) },
                        document(95, 94),
                        el(96, 95, 0, "b", &[]),
                        document(97, 1),
                        el(98, 97, 0, "i", &[]),
                    ],
                    ..Default::default()
                }),
            ),
            // The first frame's document goes: it loads its source again.
            (1_600, change(Mutation { removes: vec![82], ..Default::default() })),
            // Frames in frames, made in one change set: each document built once.
            (
                1_620,
                change(Mutation {
                    adds: vec![
                        el(100, 6, 0, "iframe", &[src]),
                        document(101, 100),
                        el(102, 101, 0, "html", &[]),
                        el(103, 102, 0, "iframe", &[src]),
                        document(104, 103),
                        el(105, 104, 0, "p", &[]),
                    ],
                    ..Default::default()
                }),
            ),
            // A document moved from one frame to another: the first loads its source again.
            (
                1_670,
                change(Mutation {
                    adds: vec![document(104, 80), el(105, 104, 0, "p", &[]), text(106, 105, 0, "moved")],
                    ..Default::default()
                }),
            ),
            // The page, in quirks mode, gets a doctype: standards mode, a new page.
            (1_800, change(Mutation { adds: vec![at(doctype(), 99, 1, 2)], ..Default::default() })),
        ];
        let replay = replay_of(timed);
        let mut frame = LiveFrame::new();
        let mut mirror = Mirror::default();
        let mut documents = vec![];
        for time in (1_000..=1_900).step_by(50) {
            let step = frame.advance(&replay, time);
            match time {
                1_800 => assert_eq!(step.reset, Some(("<!DOCTYPE html>".into(), 1)), "a new mode is a new page"),
                1_050.. => assert_eq!(step.reset, None, "at {time}"),
                _ => {}
            }
            if step.reset.is_none() {
                let built = step.ops.iter().filter(|op| matches!(op, Op::Document { .. }));
                documents.extend(built.map(|op| (time, op.clone())));
            }
            mirror.apply(&step);
            assert_eq!(mirror.lines(), straight_to(&replay, time), "at {time}");
        }
        let html = "<!DOCTYPE html>".to_owned();
        assert_eq!(
            documents,
            vec![
                (1_100, Op::Document { id: 82, frame: 80, doctype: String::new() }),
                (1_300, Op::Document { id: 82, frame: 80, doctype: html.clone() }),
                (1_400, Op::Document { id: 91, frame: 90, doctype: String::new() }),
                (1_650, Op::Document { id: 101, frame: 100, doctype: String::new() }),
                (1_650, Op::Document { id: 104, frame: 103, doctype: String::new() }),
                (1_700, Op::Document { id: 104, frame: 80, doctype: String::new() }),
            ],
            "each document is built once, and again only when its mode changes"
        );
        let lines = straight_to(&replay, 1_350).join("\n");
        assert!(lines.contains("<iframe []> None") && !lines.contains("app.example"), "{lines}");
        assert!(lines.contains("scroll (84, 0, 30)") && lines.contains("adopted (82"), "{lines}");
        let lines = straight_to(&replay, 1_500).join("\n");
        assert!(!lines.contains("<b [") && !lines.contains("<i ["), "{lines}");
        let order: Vec<_> =
            lines.lines().filter(|l| l.starts_with("3 ")).map(|l| l.split(' ').nth(1).unwrap()).collect();
        assert!(order.ends_with(&["93", "90", "81", "80"]), "{order:?}");
        let lines = straight_to(&replay, 1_600).join("\n");
        assert!(
            lines.contains(r#"<iframe [("src", "https://app.example/frame")]>"#) && !lines.contains("rows"),
            "{lines}"
        );
        let lines = straight_to(&replay, 1_700).join("\n");
        assert!(lines.contains("3 80 <iframe []>") && lines.contains("'moved'"), "{lines}");
        assert!(lines.contains(r#"103 <iframe [("src", "https://app.example/frame")]>"#), "{lines}");
    }

    /// An element hidden and shown again within one step: what went under it meanwhile is
    /// shown, as a seek shows it.
    #[test]
    fn what_changed_under_an_element_hidden_for_a_moment_is_shown() {
        let input = |value: &str| {
            EventData::Input(Input { target: 11, value: value.into(), checked: None, masked: false, scripted: true })
        };
        let timed = vec![
            (1_000, page(&[])),
            (1_100, input("hi")),
            (
                1_150,
                change(Mutation {
                    removes: vec![12],
                    adds: vec![text(20, 11, 0, "new default")],
                    ..Default::default()
                }),
            ),
            (1_200, input("")),
        ];
        let replay = replay_of(timed);
        let mut frame = LiveFrame::new();
        let mut mirror = Mirror::default();
        mirror.apply(&frame.advance(&replay, 1_000));
        mirror.apply(&frame.advance(&replay, 1_300));
        assert_eq!(mirror.lines(), straight_to(&replay, 1_300));
        assert!(mirror.lines().iter().any(|line| line.ends_with("'new default'")), "{:?}", mirror.lines());
    }

    #[test]
    fn adjacent_text_nodes_stay_apart_and_changes_name_them() {
        let replay = session();
        let mut frame = LiveFrame::new();
        frame.advance(&replay, 1_100);
        let ops = frame.advance(&replay, 1_200).ops;
        assert_eq!(ops, vec![Op::Content { id: 9, text: "1st".into() }]);
        let ops = frame.advance(&replay, 1_400).ops;
        assert_eq!(
            ops,
            vec![
                Op::Attrs { id: 7, attrs: vec![("class".into(), "open".into())] },
                // A textarea given a value now shows it, and not its children.
                Op::Remove { id: 11 },
                Op::Element {
                    id: 11,
                    parent: 6,
                    next: 13,
                    ns: 0,
                    tag: "textarea".into(),
                    attrs: vec![],
                    text: Some("****".into())
                },
            ]
        );
    }
}
