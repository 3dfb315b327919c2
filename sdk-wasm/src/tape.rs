//! The DOM walker's tape: how the page's JavaScript hands a snapshot or a set of changes to the
//! recorder in one crossing. Reading the DOM one property at a time from wasm costs two to three
//! times what a walk in JavaScript does, so the walk happens there and its result arrives as two
//! flat values: the numbers in a `Uint32Array` and the text fields joined by NUL, in the order
//! the numbers call for them.
//!
//! A node is `kind, id, parent, next` followed by what its kind needs:
//!
//! | kind | numbers after `next` | text fields |
//! |---|---|---|
//! | 0 document, 6 shadow root | none | none |
//! | 1 doctype | none | name, public id, system id |
//! | 2 element | namespace, attribute count *n* | tag, then *n* name and value pairs |
//! | 3 text, 4 comment, 5 CDATA | none | content |
//!
//! A snapshot is a node count followed by the nodes. A change set is, in this order: a count and
//! the ids of removed nodes; a count and the added nodes; a count and `(id, has value)` pairs
//! of attribute changes, whose text fields are the name and, when set, the value; a count and
//! the ids of text changes, whose text fields are the new contents.
//!
//! Privacy is decided by the walker before anything is written here (masking, blocking, no
//! script contents, no `on*` attributes); this side bounds what it is given.

use sightline_protocol::{
    AttributeChange, Doctype, DocumentNode, Element, Mutation, Namespace, Node, NodeKind, ShadowRootNode, Snapshot,
    TextChange,
};

/// Node kinds on the tape (`npm/src/kinds.js` has the same numbers; a test holds them
/// together).
pub const DOCUMENT: u32 = 0;
pub const DOCTYPE: u32 = 1;
pub const ELEMENT: u32 = 2;
pub const TEXT: u32 = 3;
pub const COMMENT: u32 = 4;
pub const CDATA: u32 = 5;
pub const SHADOW_ROOT: u32 = 6;

/// One text field is cut to this many bytes: far more than any real attribute or text node,
/// well under the protocol's limit on a string.
pub const MAX_FIELD: usize = 1 << 20;

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Why a tape could not be read: the walker and the recorder disagree, which is a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapeError {
    /// The numbers or the text fields ended before the structure did.
    Truncated,
    /// A node kind (or event kind, or value tag) this recorder does not know.
    UnknownKind(u32),
    /// Numbers or text fields were left over after the structure was read.
    Leftover,
}

/// Reads numbers and NUL-separated text fields front to back: the tape here, and the
/// [intake](crate::intake)'s event descriptions. A read past the end yields a default and is
/// noted, as is anything else wrong; the whole is refused once read. That keeps every read free
/// of error paths (smaller wasm, and faster on big snapshots). After a problem no number is
/// left, so every count read later is 0, and lists stop growing.
pub(crate) struct Reader<'a, N> {
    pub(crate) nums: std::slice::Iter<'a, N>,
    pub(crate) texts: std::str::Split<'a, char>,
    error: Option<TapeError>,
}

impl<'a, N: Copy + Default> Reader<'a, N> {
    pub(crate) fn new(nums: &'a [N], texts: &'a str) -> Reader<'a, N> {
        Reader { nums: nums.iter(), texts: texts.split('\0'), error: None }
    }

    pub(crate) fn fail(&mut self, error: TapeError) {
        self.error.get_or_insert(error);
        self.nums = [].iter();
    }

    pub(crate) fn num(&mut self) -> N {
        match self.nums.next() {
            Some(n) => *n,
            None => {
                self.fail(TapeError::Truncated);
                N::default()
            }
        }
    }

    pub(crate) fn text(&mut self, max: usize) -> String {
        match self.texts.next() {
            Some(text) => clip(text, max),
            None => {
                self.fail(TapeError::Truncated);
                String::new()
            }
        }
    }

    /// `count` items read by `item`, fewer once a problem is noted.
    pub(crate) fn list<T>(&mut self, count: usize, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let mut items = Vec::new();
        for _ in 0..count {
            if self.error.is_some() {
                break;
            }
            items.push(item(self));
        }
        items
    }

    /// What was read, unless a problem was noted.
    pub(crate) fn finish<T>(self, read: T) -> Result<T, TapeError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(read),
        }
    }
}

impl Reader<'_, u32> {
    /// A count of items that each take at least one number, so it can't exceed the numbers
    /// left: a wrong count fails instead of running long. (A count of items made of text
    /// fields alone, such as an element's attributes, is read with [`Reader::num`]: the list
    /// stops at the end of the text fields.)
    fn count(&mut self) -> usize {
        let count = self.num() as usize;
        if count > self.nums.len() + 1 {
            self.fail(TapeError::Truncated);
            return 0;
        }
        count
    }

    fn node(&mut self) -> Node {
        let kind = self.num();
        let (id, parent, next) = (self.num(), self.num(), self.num());
        let kind = match kind {
            DOCUMENT => NodeKind::Document(DocumentNode {}),
            DOCTYPE => NodeKind::Doctype(Doctype {
                name: self.text(MAX_FIELD),
                public_id: self.text(MAX_FIELD),
                system_id: self.text(MAX_FIELD),
            }),
            ELEMENT => {
                let ns = Namespace::from_u8(u8::try_from(self.num()).unwrap_or(u8::MAX));
                // Attributes are text fields only: the numbers left say nothing of how many
                // there can be (the last element of a chunk has none after it).
                let count = self.num() as usize;
                let tag = self.text(MAX_FIELD);
                let attrs = self.list(count, |r| (r.text(MAX_FIELD), r.text(MAX_FIELD)));
                NodeKind::Element(Element { tag, attrs, ns })
            }
            TEXT => NodeKind::Text(self.text(MAX_FIELD)),
            COMMENT => NodeKind::Comment(self.text(MAX_FIELD)),
            CDATA => NodeKind::CData(self.text(MAX_FIELD)),
            SHADOW_ROOT => NodeKind::ShadowRoot(ShadowRootNode {}),
            other => {
                self.fail(TapeError::UnknownKind(other));
                NodeKind::Document(DocumentNode {})
            }
        };
        Node { id, parent, next, kind }
    }

    fn nodes(&mut self) -> Vec<Node> {
        let count = self.count();
        self.list(count, Self::node)
    }
}

/// A snapshot from its tape.
pub fn snapshot(nums: &[u32], texts: &str) -> Result<Snapshot, TapeError> {
    let mut tape = Reader::new(nums, texts);
    let nodes = tape.nodes();
    tape.finish(Snapshot { nodes })
}

/// A change set from its tape.
pub fn mutation(nums: &[u32], texts: &str) -> Result<Mutation, TapeError> {
    let mut tape = Reader::new(nums, texts);
    let count = tape.count();
    let removes = tape.list(count, Reader::num);
    let adds = tape.nodes();
    let count = tape.count();
    let attrs = tape.list(count, |r| {
        let (id, has_value) = (r.num(), r.num() != 0);
        let name = r.text(MAX_FIELD);
        let value = has_value.then(|| r.text(MAX_FIELD));
        AttributeChange { id, name, value }
    });
    let count = tape.count();
    let texts = tape.list(count, |r| TextChange { id: r.num(), text: r.text(MAX_FIELD) });
    tape.finish(Mutation { removes, adds, attrs, texts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(tag: &str, attrs: &[(&str, &str)]) -> NodeKind {
        NodeKind::Element(Element {
            tag: tag.into(),
            attrs: attrs.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
            ns: Namespace::Html,
        })
    }

    #[test]
    fn a_snapshot_tape_reads_as_nodes_in_order() {
        let nums = [
            5, // nodes
            0, 1, 0, 0, // document
            1, 2, 1, 0, // doctype
            2, 3, 1, 0, 0, 1, // <html lang>
            2, 4, 3, 0, 1, 0, // <svg>
            3, 5, 3, 0, // text
        ];
        let texts = ["html", "", "", "html", "lang", "en", "svg", "Invoices · 2 open"].join("\0");
        let snapshot = snapshot(&nums, &texts).unwrap();
        let kinds: Vec<_> = snapshot.nodes.iter().map(|n| (n.id, n.parent, n.next, n.kind.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (1, 0, 0, NodeKind::Document(DocumentNode {})),
                (
                    2,
                    1,
                    0,
                    NodeKind::Doctype(Doctype {
                        name: "html".into(),
                        public_id: String::new(),
                        system_id: String::new()
                    })
                ),
                (3, 1, 0, element("html", &[("lang", "en")])),
                (4, 3, 0, NodeKind::Element(Element { tag: "svg".into(), attrs: vec![], ns: Namespace::Svg })),
                (5, 3, 0, NodeKind::Text("Invoices · 2 open".into())),
            ]
        );
    }

    #[test]
    fn a_change_set_tape_reads_in_its_four_sections() {
        let nums = [
            2, 7, 8, // removes
            1, 2, 9, 3, 5, 0, 0, // one added <li> before node 5
            2, 3, 1, 3, 0, // class set on 3, title removed from 3
            1, 4, // text of 4
        ];
        let texts = ["li", "class", "open", "title", "2 open"].join("\0");
        let mutation = mutation(&nums, &texts).unwrap();
        assert_eq!(mutation.removes, vec![7, 8]);
        assert_eq!(mutation.adds, vec![Node { id: 9, parent: 3, next: 5, kind: element("li", &[]) }]);
        assert_eq!(
            mutation.attrs,
            vec![
                AttributeChange { id: 3, name: "class".into(), value: Some("open".into()) },
                AttributeChange { id: 3, name: "title".into(), value: None },
            ]
        );
        assert_eq!(mutation.texts, vec![TextChange { id: 4, text: "2 open".into() }]);
    }

    #[test]
    fn the_last_node_of_a_tape_may_be_an_element_with_attributes() {
        // A snapshot sliced where an element with three attributes comes last: nothing follows
        // it in the numbers, all of its attributes are in the text fields.
        let nums = [2, 2, 1, 0, 0, 0, 0, 2, 2, 1, 0, 0, 3];
        let texts = ["body", "input", "class", "new-todo", "placeholder", "What needs to be done?", "autofocus", ""];
        let snapshot = snapshot(&nums, &texts.join("\0")).unwrap();
        let NodeKind::Element(input) = &snapshot.nodes[1].kind else { panic!() };
        assert_eq!(input.attrs.len(), 3);
        assert_eq!(input.attrs[2], ("autofocus".to_owned(), String::new()));
        // The same at the end of a change set's additions, with no attribute or text changes.
        let nums = [0, 1, 2, 9, 1, 0, 0, 4, 0, 0];
        let texts = ["a", "href", "#/", "class", "selected", "id", "all", "title", "All"];
        let mutation = mutation(&nums, &texts.join("\0")).unwrap();
        let NodeKind::Element(link) = &mutation.adds[0].kind else { panic!() };
        assert_eq!(link.attrs.len(), 4);
    }

    #[test]
    fn a_count_past_the_text_fields_stops_at_their_end() {
        // One element claiming 100,000 attributes, with the numbers to back the claim but no
        // text fields for them: refused, without reading on or reserving for all of them.
        let mut nums = vec![1, 2, 1, 0, 0, 0, 100_000];
        nums.resize(nums.len() + 100_000, 0);
        assert_eq!(snapshot(&nums, "div"), Err(TapeError::Truncated));
    }

    #[test]
    fn a_tape_that_disagrees_with_itself_is_an_error_not_a_panic() {
        assert_eq!(snapshot(&[1, 2, 3], ""), Err(TapeError::Truncated));
        assert_eq!(snapshot(&[u32::MAX], ""), Err(TapeError::Truncated), "a huge count reserves nothing");
        assert_eq!(snapshot(&[1, 9, 1, 0, 0], ""), Err(TapeError::UnknownKind(9)));
        assert_eq!(mutation(&[0, 0, 1, 3, 1], "name"), Err(TapeError::Truncated));
        // Every prefix of a valid tape fails cleanly.
        let nums = [1, 2, 3, 1, 0, 0, 1];
        for end in 0..nums.len() {
            assert!(snapshot(&nums[..end], "a\0b\0c").is_err());
        }
    }

    #[test]
    fn long_fields_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_FIELD);
        let snapshot = snapshot(&[1, 3, 1, 0, 0], &long).unwrap();
        let NodeKind::Text(text) = &snapshot.nodes[0].kind else { panic!() };
        assert!(text.len() <= MAX_FIELD && text.len() >= MAX_FIELD - 1);
    }
}
