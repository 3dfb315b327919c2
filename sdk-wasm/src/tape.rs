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
    /// A node kind this recorder does not know.
    UnknownKind(u32),
}

/// Reads a tape front to back. A read past the end yields a default and is noted, as is an
/// unknown node kind: the tape is refused once read, which keeps every read free of error
/// paths (smaller wasm, and faster on big snapshots).
struct Reader<'a> {
    nums: std::slice::Iter<'a, u32>,
    texts: std::str::Split<'a, char>,
    error: Option<TapeError>,
}

impl<'a> Reader<'a> {
    fn new(nums: &'a [u32], texts: &'a str) -> Reader<'a> {
        Reader { nums: nums.iter(), texts: texts.split('\0'), error: None }
    }

    fn fail(&mut self, error: TapeError) {
        self.error.get_or_insert(error);
    }

    fn num(&mut self) -> u32 {
        match self.nums.next() {
            Some(n) => *n,
            None => {
                self.fail(TapeError::Truncated);
                0
            }
        }
    }

    /// A count, which can't exceed the numbers left: a wrong count fails instead of reserving
    /// memory for it.
    fn count(&mut self) -> usize {
        let count = self.num() as usize;
        if count > self.nums.len() + 1 {
            self.fail(TapeError::Truncated);
            return 0;
        }
        count
    }

    fn text(&mut self) -> String {
        match self.texts.next() {
            Some(text) => clip(text, MAX_FIELD),
            None => {
                self.fail(TapeError::Truncated);
                String::new()
            }
        }
    }

    fn node(&mut self) -> Node {
        let kind = self.num();
        let (id, parent, next) = (self.num(), self.num(), self.num());
        let kind = match kind {
            0 => NodeKind::Document(DocumentNode {}),
            1 => NodeKind::Doctype(Doctype { name: self.text(), public_id: self.text(), system_id: self.text() }),
            2 => {
                let ns = Namespace::from_u8(u8::try_from(self.num()).unwrap_or(u8::MAX));
                let count = self.count();
                let tag = self.text();
                let attrs = (0..count).map(|_| (self.text(), self.text())).collect();
                NodeKind::Element(Element { tag, attrs, ns })
            }
            3 => NodeKind::Text(self.text()),
            4 => NodeKind::Comment(self.text()),
            5 => NodeKind::CData(self.text()),
            6 => NodeKind::ShadowRoot(ShadowRootNode {}),
            other => {
                self.fail(TapeError::UnknownKind(other));
                NodeKind::Document(DocumentNode {})
            }
        };
        Node { id, parent, next, kind }
    }

    fn nodes(&mut self) -> Vec<Node> {
        let count = self.count();
        (0..count).map(|_| self.node()).collect()
    }

    fn finish<T>(self, read: T) -> Result<T, TapeError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(read),
        }
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
    let removes = (0..count).map(|_| tape.num()).collect();
    let adds = tape.nodes();
    let count = tape.count();
    let attrs = (0..count)
        .map(|_| {
            let (id, has_value) = (tape.num(), tape.num() != 0);
            let name = tape.text();
            let value = has_value.then(|| tape.text());
            AttributeChange { id, name, value }
        })
        .collect();
    let count = tape.count();
    let texts = (0..count).map(|_| TextChange { id: tape.num(), text: tape.text() }).collect();
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
