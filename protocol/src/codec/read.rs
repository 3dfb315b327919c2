//! The MessagePack decoder for batches, written out by hand: the fast path of decoding.
//!
//! The collector decodes every batch it receives, and the viewer every batch it replays; the
//! structural scan followed by serde's generic decoding takes about twice as long as this
//! reader, which does both in one pass. It takes the forms the
//! encoders write (positional arrays of the exact length, `str` for text, `bin` for ids, `f32`
//! for the pixel ratio, integers in any width) and declines anything else by answering `None`.
//! A declined payload is decoded again through the serde derivations, which decide: so what is
//! accepted, and every error, stays exactly what serde says, and where this reader accepts, a
//! test holds it to serde's result.
//!
//! It holds the payload to the same [`Limits`] as the structural scan, as it goes, and declines
//! at the first one reached: the scan then names the limit. So it never takes what the scan would
//! refuse, and a payload it accepts needs no separate scan.

use crate::{
    AdoptedStyleSheets, AttributeChange, Batch, Body, CanvasFrame, Console, ConsoleLevel, Custom, DeviceType, Doctype,
    DocumentNode, Element, ErrorEvent, ErrorKind, Event, EventData, Feedback, Focus, HttpMessage, Identify, Initiator,
    Input, Key, Limits, MouseMove, MovePoint, Mutation, Namespace, Navigation, NavigationKind, Network, Node, NodeKind,
    PageMeta, Pointer, PointerKind, Scroll, SessionId, ShadowRootNode, Size, Snapshot, Software, SpanId, StyleRule,
    StyleSheet, Submit, TextChange, TraceContext, TraceId, TraceKey, Value, Viewport, Visibility,
};

/// Open levels of nesting the schema's own structure reaches (an attribute pair of an element
/// in a node list); below a `max_depth` this low, the reader leaves the payload to the scan.
const SCHEMA_DEPTH: usize = 10;

/// The reader recurses into user values; past this `max_depth` it leaves the payload to the
/// scan, which walks without recursion.
const RECURSION_DEPTH: usize = 64;

/// Decodes a batch within `limits`, or `None` to leave the payload to the scan and serde.
pub(crate) fn batch(bytes: &[u8], limits: &Limits) -> Option<Batch> {
    if !(SCHEMA_DEPTH..=RECURSION_DEPTH).contains(&limits.max_depth) {
        return None;
    }
    let mut r = Reader { bytes, pos: 0, limits, items: 0, bin_bytes: 0 };
    let batch = r.batch()?;
    let within = r.items.saturating_add(r.bin_bytes) <= limits.max_items;
    (r.pos == bytes.len() && within).then_some(batch)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    /// Values read so far, counted as the scan counts them.
    items: usize,
    /// Bytes of `bin` values so far, which the scan counts as items too.
    bin_bytes: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// The marker that starts a value, counted against the limit on values.
    fn marker(&mut self) -> Option<u8> {
        self.items += 1;
        if self.items.saturating_add(self.bin_bytes) > self.limits.max_items {
            return None;
        }
        self.byte()
    }

    /// A length of a string or `bin`, within the limit on one.
    fn blob_len(&self, len: u64) -> Option<usize> {
        usize::try_from(len).ok().filter(|len| *len <= self.limits.max_string)
    }

    /// An element count of an array or map, within the limit on one.
    fn collection_len(&self, len: u64) -> Option<usize> {
        usize::try_from(len).ok().filter(|len| *len <= self.limits.max_collection)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(slice)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        Some(self.take(n)?.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }

    /// Consumes `nil` if it comes next.
    fn nil(&mut self) -> bool {
        let is_nil = self.bytes.get(self.pos) == Some(&0xc0);
        if is_nil {
            self.pos += 1;
            self.items += 1;
        }
        is_nil
    }

    fn array(&mut self) -> Option<usize> {
        self.collection(0x90, 0xdc, 0xdd)
    }

    /// An array of exactly `len` elements, as a struct or tuple is written.
    fn fields(&mut self, len: usize) -> Option<()> {
        (self.array()? == len).then_some(())
    }

    fn map(&mut self) -> Option<usize> {
        self.collection(0x80, 0xde, 0xdf)
    }

    /// The element count of an array or map, whose markers are `fix` (with the count in its
    /// low four bits), `m16` and `m32`.
    fn collection(&mut self, fix: u8, m16: u8, m32: u8) -> Option<usize> {
        let marker = self.marker()?;
        let len = match marker {
            m if m & 0xf0 == fix => u64::from(m & 0x0f),
            m if m == m16 => self.be(2)?,
            m if m == m32 => self.be(4)?,
            _ => return None,
        };
        self.collection_len(len)
    }

    /// Room to reserve for `len` elements: every element takes at least a byte, and this reader
    /// runs before anything else has checked the length against the bytes left.
    fn capacity(&self, len: usize) -> usize {
        len.min(4096).min(self.bytes.len() - self.pos)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.marker()? {
            0xc2 => Some(false),
            0xc3 => Some(true),
            _ => None,
        }
    }

    /// An integer in any of MessagePack's widths.
    fn integer(&mut self) -> Option<i128> {
        let marker = self.marker()?;
        Some(match marker {
            0x00..=0x7f => i128::from(marker),
            0xe0..=0xff => i128::from(marker as i8),
            0xcc => i128::from(self.be(1)?),
            0xcd => i128::from(self.be(2)?),
            0xce => i128::from(self.be(4)?),
            0xcf => i128::from(self.be(8)?),
            0xd0 => i128::from(self.be(1)? as u8 as i8),
            0xd1 => i128::from(self.be(2)? as u16 as i16),
            0xd2 => i128::from(self.be(4)? as u32 as i32),
            0xd3 => i128::from(self.be(8)? as i64),
            _ => return None,
        })
    }

    fn int<T: TryFrom<i128>>(&mut self) -> Option<T> {
        T::try_from(self.integer()?).ok()
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = match self.marker()? {
            m @ 0xa0..=0xbf => u64::from(m & 0x1f),
            0xd9 => self.be(1)?,
            0xda => self.be(2)?,
            0xdb => self.be(4)?,
            _ => return None,
        };
        let len = self.blob_len(len)?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// `nil` as `None`, anything else as `read` reads it.
    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.nil() {
            return Some(None);
        }
        read(self).map(Some)
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        self.optional(Self::string)
    }

    fn bin(&mut self) -> Option<&'a [u8]> {
        let len = match self.marker()? {
            0xc4 => self.be(1)?,
            0xc5 => self.be(2)?,
            0xc6 => self.be(4)?,
            _ => return None,
        };
        self.bin_len(len)?;
        self.take(len as usize)
    }

    /// Counts a `bin` of `len` bytes as the scan does: within the limit on a collection (a
    /// decoder may read it as an array of small integers), each byte an item, and within the
    /// limit on a string.
    fn bin_len(&mut self, len: u64) -> Option<usize> {
        self.collection_len(len)?;
        self.bin_bytes = self.bin_bytes.saturating_add(len as usize);
        if self.items.saturating_add(self.bin_bytes) > self.limits.max_items {
            return None;
        }
        self.blob_len(len)
    }

    fn id<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bin()?.try_into().ok()
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let len = self.array()?;
        let mut items = Vec::with_capacity(self.capacity(len));
        for _ in 0..len {
            items.push(item(self)?);
        }
        Some(items)
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        self.list(Self::string)
    }

    fn u32s(&mut self) -> Option<Vec<u32>> {
        self.list(Self::int)
    }

    fn pairs(&mut self) -> Option<Vec<(String, String)>> {
        self.list(|r| {
            r.fields(2)?;
            Some((r.string()?, r.string()?))
        })
    }

    /// Moves past one value of any shape, as serde's `IgnoredAny` does; `level` is the open
    /// levels of nesting around it.
    fn skip(&mut self, level: usize) -> Option<()> {
        let marker = self.marker()?;
        let (len, elements, per_element) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0, 1),
            0x80..=0x8f => (0, u64::from(marker & 0x0f), 2),
            0x90..=0x9f => (0, u64::from(marker & 0x0f), 1),
            0xa0..=0xbf => (self.blob_len(u64::from(marker & 0x1f))?, 0, 1),
            0xcc | 0xd0 => (1, 0, 1),
            0xcd | 0xd1 => (2, 0, 1),
            0xca | 0xce | 0xd2 => (4, 0, 1),
            0xcb | 0xcf | 0xd3 => (8, 0, 1),
            0xd9 => (self.be(1).and_then(|len| self.blob_len(len))?, 0, 1),
            0xda => (self.be(2).and_then(|len| self.blob_len(len))?, 0, 1),
            0xdb => (self.be(4).and_then(|len| self.blob_len(len))?, 0, 1),
            0xc4 => (self.be(1).and_then(|len| self.bin_len(len))?, 0, 1),
            0xc5 => (self.be(2).and_then(|len| self.bin_len(len))?, 0, 1),
            0xc6 => (self.be(4).and_then(|len| self.bin_len(len))?, 0, 1),
            0xdc => (0, self.be(2)?, 1),
            0xdd => (0, self.be(4)?, 1),
            0xde => (0, self.be(2)?, 2),
            0xdf => (0, self.be(4)?, 2),
            _ => return None,
        };
        self.take(len)?;
        let elements = self.collection_len(elements)?;
        if elements > 0 && level > self.limits.max_depth {
            return None;
        }
        for _ in 0..elements.checked_mul(per_element)? {
            self.skip(level + 1)?;
        }
        Some(())
    }

    fn batch(&mut self) -> Option<Batch> {
        // Version 3 added the trace key at the end; version 2 batches have none.
        let keyed = match self.array()? {
            7 => false,
            8 => true,
            _ => return None,
        };
        let mut batch = Batch {
            project: self.string()?,
            session: SessionId(self.id()?),
            page: self.int()?,
            seq: self.int()?,
            start: self.int()?,
            sent: self.int()?,
            events: self.list(Self::event)?,
            trace_key: None,
        };
        if keyed {
            batch.trace_key = Some(TraceKey(self.id()?));
        }
        crate::trace_key::settle(&mut batch).ok()?;
        Some(batch)
    }

    fn event(&mut self) -> Option<Event> {
        self.fields(3)?;
        let dt = self.int()?;
        let tag: u8 = self.int()?;
        let data = match tag {
            1 => EventData::Meta(Box::new(self.page_meta()?)),
            2 => {
                self.fields(1)?;
                EventData::Snapshot(Snapshot { nodes: self.nodes()? })
            }
            3 => EventData::Mutation(self.mutation()?),
            4 => {
                self.fields(4)?;
                EventData::StyleSheet(StyleSheet {
                    id: self.int()?,
                    owner: self.int()?,
                    rules: self.strings()?,
                    media: self.string()?,
                })
            }
            5 => {
                self.fields(3)?;
                EventData::StyleRule(StyleRule { sheet: self.int()?, path: self.u32s()?, rule: self.opt_string()? })
            }
            6 => {
                self.fields(2)?;
                EventData::AdoptedStyleSheets(AdoptedStyleSheets { host: self.int()?, sheets: self.u32s()? })
            }
            7 => {
                self.fields(4)?;
                EventData::Pointer(Pointer {
                    kind: PointerKind::from_u8(self.int()?),
                    target: self.int()?,
                    x: self.int()?,
                    y: self.int()?,
                })
            }
            8 => {
                self.fields(1)?;
                let points = self.list(|r| {
                    r.fields(3)?;
                    Some(MovePoint { x: r.int()?, y: r.int()?, offset: r.int()? })
                })?;
                EventData::MouseMove(MouseMove { points })
            }
            9 => {
                self.fields(3)?;
                EventData::Scroll(Scroll { target: self.int()?, x: self.int()?, y: self.int()? })
            }
            10 => {
                self.fields(1)?;
                EventData::Viewport(Viewport { size: self.size()? })
            }
            11 => {
                // The fifth field, `scripted`, is written only when set.
                let fields = self.array()?;
                if !(4..=5).contains(&fields) {
                    return None;
                }
                let target = self.int()?;
                let value = self.string()?;
                let checked = self.optional(Self::bool)?;
                let masked = self.bool()?;
                let scripted = if fields == 5 { self.bool()? } else { false };
                EventData::Input(Input { target, value, checked, masked, scripted })
            }
            12 => {
                self.fields(2)?;
                EventData::Focus(Focus { target: self.int()?, focused: self.bool()? })
            }
            21 => {
                self.fields(3)?;
                EventData::Key(Key { target: self.int()?, key: self.string()?, modifiers: self.int()? })
            }
            22 => {
                self.fields(1)?;
                EventData::Submit(Submit { target: self.int()? })
            }
            23 => {
                self.fields(1)?;
                EventData::Feedback(Feedback { text: self.string()? })
            }
            13 => {
                self.fields(1)?;
                EventData::Visibility(Visibility { visible: self.bool()? })
            }
            14 => {
                self.fields(3)?;
                EventData::Navigation(Navigation {
                    kind: NavigationKind::from_u8(self.int()?),
                    url: self.string()?,
                    title: self.string()?,
                })
            }
            15 => EventData::Network(Box::new(self.network()?)),
            16 => {
                self.fields(3)?;
                EventData::Console(Console {
                    level: ConsoleLevel::from_u8(self.int()?),
                    args: self.strings()?,
                    stack: self.opt_string()?,
                })
            }
            17 => {
                self.fields(8)?;
                EventData::Error(Box::new(ErrorEvent {
                    kind: ErrorKind::from_u8(self.int()?),
                    name: self.string()?,
                    message: self.string()?,
                    stack: self.opt_string()?,
                    source: self.string()?,
                    line: self.int()?,
                    column: self.int()?,
                    target: self.int()?,
                }))
            }
            18 => {
                self.fields(2)?;
                EventData::Identify(Identify { user_id: self.string()?, traits: self.value(5)? })
            }
            19 => {
                self.fields(2)?;
                EventData::Custom(Custom { name: self.string()?, props: self.value(5)? })
            }
            20 => {
                self.fields(2)?;
                EventData::Canvas(CanvasFrame { target: self.int()?, data_url: self.string()? })
            }
            _ => {
                // An event's body sits at the fourth level: batch, events, event, body.
                self.skip(4)?;
                EventData::Unknown(tag)
            }
        };
        Some(Event { dt, data })
    }

    fn size(&mut self) -> Option<Size> {
        self.fields(2)?;
        Some(Size { width: self.int()?, height: self.int()? })
    }

    fn software(&mut self) -> Option<Software> {
        self.fields(2)?;
        Some(Software { name: self.string()?, version: self.string()? })
    }

    fn page_meta(&mut self) -> Option<PageMeta> {
        self.fields(14)?;
        Some(PageMeta {
            url: self.string()?,
            referrer: self.string()?,
            title: self.string()?,
            user_agent: self.string()?,
            browser: self.software()?,
            os: self.software()?,
            device: DeviceType::from_u8(self.int()?),
            screen: self.size()?,
            viewport: self.size()?,
            pixel_ratio: match self.marker()? {
                0xca => f32::from_bits(self.be(4)? as u32),
                _ => return None,
            },
            language: self.string()?,
            timezone: self.string()?,
            utc_offset: self.int()?,
            sdk: self.string()?,
        })
    }

    fn mutation(&mut self) -> Option<Mutation> {
        self.fields(4)?;
        Some(Mutation {
            removes: self.u32s()?,
            adds: self.nodes()?,
            attrs: self.list(|r| {
                r.fields(3)?;
                Some(AttributeChange { id: r.int()?, name: r.string()?, value: r.opt_string()? })
            })?,
            texts: self.list(|r| {
                r.fields(2)?;
                Some(TextChange { id: r.int()?, text: r.string()? })
            })?,
        })
    }

    /// A node list: ids as deltas from the previous node, parents as deltas from the node.
    fn nodes(&mut self) -> Option<Vec<Node>> {
        let mut previous = 0i64;
        self.list(|r| {
            r.fields(4)?;
            let id_delta: i64 = r.int()?;
            let parent_delta: i64 = r.int()?;
            let next = r.int()?;
            let kind = r.node_kind()?;
            let id = previous.checked_add(id_delta).and_then(|id| u32::try_from(id).ok()).filter(|id| *id != 0)?;
            let parent = i64::from(id).checked_sub(parent_delta).and_then(|p| u32::try_from(p).ok())?;
            previous = i64::from(id);
            Some(Node { id, parent, next, kind })
        })
    }

    fn node_kind(&mut self) -> Option<NodeKind> {
        self.fields(2)?;
        let tag: u8 = self.int()?;
        Some(match tag {
            0 => {
                self.fields(0)?;
                NodeKind::Document(DocumentNode {})
            }
            1 => {
                self.fields(3)?;
                NodeKind::Doctype(Doctype {
                    name: self.string()?,
                    public_id: self.string()?,
                    system_id: self.string()?,
                })
            }
            2 => {
                self.fields(3)?;
                NodeKind::Element(Element {
                    tag: self.string()?,
                    attrs: self.pairs()?,
                    ns: Namespace::from_u8(self.int()?),
                })
            }
            3 => NodeKind::Text(self.string()?),
            4 => NodeKind::Comment(self.string()?),
            5 => NodeKind::CData(self.string()?),
            6 => {
                self.fields(0)?;
                NodeKind::ShadowRoot(ShadowRootNode {})
            }
            _ => return None,
        })
    }

    fn network(&mut self) -> Option<Network> {
        self.fields(12)?;
        Some(Network {
            id: self.int()?,
            initiator: Initiator::from_u8(self.int()?),
            method: self.string()?,
            url: self.string()?,
            status: self.int()?,
            duration: self.int()?,
            request_size: self.optional(Self::int)?,
            response_size: self.optional(Self::int)?,
            request: self.optional(Self::http_message)?,
            response: self.optional(Self::http_message)?,
            error: self.opt_string()?,
            trace: self.trace()?,
        })
    }

    /// A request's trace: nil, its ids, or `true` for ids derived from the batch's key once
    /// that is read. An all-zero trace or span id, invalid in W3C trace context, is no trace.
    fn trace(&mut self) -> Option<Option<TraceContext>> {
        if self.nil() {
            return Some(None);
        }
        if self.bytes.get(self.pos) == Some(&0xc3) {
            return self.bool().map(|_| Some(crate::trace_key::PENDING));
        }
        self.fields(2)?;
        let ids = TraceContext { trace_id: TraceId(self.id()?), span_id: SpanId(self.id()?) };
        Some((!ids.trace_id.is_zero() && !ids.span_id.is_zero()).then_some(ids))
    }

    fn http_message(&mut self) -> Option<HttpMessage> {
        self.fields(2)?;
        let headers = self.pairs()?;
        let body = self.optional(|r| {
            r.fields(3)?;
            Some(Body { text: r.opt_string()?, size: r.int()?, truncated: r.bool()? })
        })?;
        Some(HttpMessage { headers, body })
    }

    /// A JSON-like value, as [`Value`]'s own deserialisation reads it; `level` is the open
    /// levels of nesting around it.
    fn value(&mut self, level: usize) -> Option<Value> {
        let marker = *self.bytes.get(self.pos)?;
        Some(match marker {
            0xc0 => {
                self.marker()?;
                Value::Null
            }
            0xc2 | 0xc3 => Value::Bool(self.bool()?),
            0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xcf | 0xd0..=0xd3 => {
                let v = self.integer()?;
                // Integers beyond i64 (only large unsigned ones) are kept as floats.
                i64::try_from(v).map_or(Value::Float(v as f64), Value::Int)
            }
            0xca => {
                self.marker()?;
                Value::Float(f64::from(f32::from_bits(self.be(4)? as u32)))
            }
            0xcb => {
                self.marker()?;
                Value::Float(f64::from_bits(self.be(8)?))
            }
            0xa0..=0xbf | 0xd9..=0xdb => Value::Str(self.string()?),
            0x90..=0x9f | 0xdc | 0xdd => {
                let len = self.array()?;
                if len > 0 && level > self.limits.max_depth {
                    return None;
                }
                let mut items = Vec::with_capacity(self.capacity(len));
                for _ in 0..len {
                    items.push(self.value(level + 1)?);
                }
                Value::List(items)
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let len = self.map()?;
                if len > 0 && level > self.limits.max_depth {
                    return None;
                }
                let mut entries = Vec::with_capacity(self.capacity(len));
                for _ in 0..len {
                    entries.push((self.string()?, self.value(level + 1)?));
                }
                Value::Map(entries)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(payload: &[u8]) -> Option<Batch> {
        #[allow(clippy::disallowed_methods)] // the reference this reader is held to
        rmp_serde::from_slice(payload).ok()
    }

    /// Whether two decodings agree, compared as encoded bytes so that a NaN equals itself.
    fn same(a: Option<&Batch>, b: Option<&Batch>) -> bool {
        let bytes = |b: Option<&Batch>| b.map(|b| crate::encode_payload(b).unwrap());
        bytes(a) == bytes(b)
    }

    /// User values nested `depth` deep under one key each.
    fn nested(depth: usize) -> Value {
        (0..depth).fold(Value::Str("deep".into()), |inner, _| Value::Map(vec![("k".into(), inner)]))
    }

    /// A batch of one custom event whose properties nest eight deep, and the same batch with
    /// the event's tag made unknown, so that its body is skipped rather than read.
    fn deep() -> [Vec<u8>; 2] {
        let custom = Custom { name: "deep".into(), props: nested(8) };
        let batch =
            Batch { events: vec![Event { dt: 0, data: EventData::Custom(custom) }], ..crate::fixtures::page_start() };
        let payload = crate::encode_payload(&batch).unwrap();
        let mut unknown = payload.clone();
        // The event is [dt 0, tag 19, [name, props]].
        let at = unknown.windows(4).position(|w| w == [0x93, 0x00, 0x13, 0x92]).unwrap();
        unknown[at + 2] = 99;
        [payload, unknown]
    }

    /// The fixtures, which cover every event and node kind, as the encoders write them, and the
    /// deep batches.
    fn payloads() -> Vec<Vec<u8>> {
        let mut payloads: Vec<Vec<u8>> =
            crate::fixtures::all().iter().map(|(_, b)| crate::encode_payload(b).unwrap()).collect();
        payloads.extend(deep());
        payloads
    }

    #[test]
    fn reads_every_fixture_as_serde_does() {
        for payload in payloads() {
            let ours = batch(&payload, &Limits::default());
            assert!(ours.is_some());
            assert!(same(ours.as_ref(), serde(&payload).as_ref()));
        }
    }

    /// Every length and integer width the encoders use, user values nested and wide, and an
    /// unsigned integer beyond `i64` in a user value, which becomes a float.
    #[test]
    fn reads_every_width_and_length() {
        let text = |len: usize| "é".repeat(len / 2);
        let value = Value::Map(vec![
            ("big".into(), Value::Float(0.25)),
            ("negative".into(), Value::Int(i64::MIN)),
            ("list".into(), Value::List((0..40).map(Value::Int).collect())),
            ("nested".into(), Value::List(vec![Value::Map(vec![("k".into(), Value::Str(text(70_000)))])])),
            ("nothing".into(), Value::Null),
            ("yes".into(), Value::Bool(true)),
        ]);
        let events = vec![
            Event { dt: u32::MAX, data: EventData::Identify(Identify { user_id: text(40), traits: value }) },
            Event {
                dt: 0,
                data: EventData::MouseMove(MouseMove {
                    points: (0..70_000).map(|i| MovePoint { x: -i, y: i * 1_000, offset: i as u32 }).collect(),
                }),
            },
            Event { dt: 300, data: EventData::Scroll(Scroll { target: u32::MAX, x: i32::MIN, y: i32::MAX }) },
            Event { dt: 1, data: EventData::Unknown(99) },
        ];
        let original = Batch {
            project: text(300),
            session: SessionId([7; 16]),
            page: u32::MAX,
            seq: 65_536,
            start: u64::MAX,
            sent: 255,
            events,
            trace_key: None,
        };
        let payload = crate::encode_payload(&original).unwrap();
        assert_eq!(batch(&payload, &Limits::default()).as_ref(), Some(&original));
        // The "big" float (0.25, nine bytes as f64) becomes u64::MAX written as a uint64.
        let mut big = payload.clone();
        let at = big.windows(9).position(|w| w == [0xcb, 0x3f, 0xd0, 0, 0, 0, 0, 0, 0]).unwrap();
        big[at..at + 9].copy_from_slice(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let ours = batch(&big, &Limits::default());
        let EventData::Identify(identify) = &ours.as_ref().unwrap().events[0].data else { panic!("not identify") };
        let Value::Map(traits) = &identify.traits else { panic!("not a map") };
        assert_eq!(traits[0], ("big".into(), Value::Float(u64::MAX as f64)));
        assert!(same(ours.as_ref(), serde(&big).as_ref()));
    }

    /// Sets one limit.
    type Set = fn(&mut Limits, usize);

    const LIMITS: [Set; 4] =
        [|l, v| l.max_items = v, |l, v| l.max_string = v, |l, v| l.max_collection = v, |l, v| l.max_depth = v];

    fn with(set: Set, value: usize) -> Limits {
        let mut limits = Limits::default();
        set(&mut limits, value);
        limits
    }

    /// The smallest value of one limit under which the scan passes `payload`.
    fn tightest(payload: &[u8], set: Set) -> usize {
        let (mut low, mut high) = (0, 1 << 24);
        while low < high {
            let mid = (low + high) / 2;
            if crate::codec::scan::check(payload, &with(set, mid)).is_ok() {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        low
    }

    /// Each payload under each limit set as tight as the payload allows, and one notch tighter:
    /// the reader accepts it exactly when the scan passes it. The deep batches reach 12 levels,
    /// past the schema's own 10, so the depth of user values is held too, read and skipped.
    #[test]
    fn holds_each_limit_exactly_where_the_scan_does() {
        for payload in payloads() {
            for set in LIMITS {
                let at = tightest(&payload, set);
                if with(set, at).max_depth >= SCHEMA_DEPTH {
                    assert!(batch(&payload, &with(set, at)).is_some(), "{:?}", with(set, at));
                }
                assert!(crate::codec::scan::check(&payload, &with(set, at - 1)).is_err());
                assert_eq!(batch(&payload, &with(set, at - 1)), None, "{:?}", with(set, at - 1));
            }
        }
        for payload in deep() {
            assert_eq!(tightest(&payload, LIMITS[3]), 12);
        }
    }

    /// Corrupts the payloads (bytes changed, inserted or removed) and reads them under the
    /// default limits and under each limit as tight as the payload allows: wherever this reader
    /// accepts a payload, the scan passes it and serde reads the same batch; where it declines,
    /// their answer stands.
    #[test]
    fn accepts_only_what_the_scan_passes_and_serde_reads_alike() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut tried, mut accepted) = (0, 0);
        for payload in payloads() {
            let mut limit_sets = vec![Limits::default()];
            limit_sets.extend(LIMITS.map(|set| with(set, tightest(&payload, set).max(SCHEMA_DEPTH))));
            for _ in 0..4_000 {
                let mut bytes = payload.clone();
                for _ in 0..1 + random(3) {
                    let at = random(bytes.len());
                    match random(8) {
                        0 => bytes.insert(at, random(256) as u8),
                        1 => drop(bytes.remove(at)),
                        _ => bytes[at] = random(256) as u8,
                    }
                }
                for limits in &limit_sets {
                    tried += 1;
                    let Some(ours) = batch(&bytes, limits) else { continue };
                    accepted += 1;
                    assert_eq!(crate::codec::scan::check(&bytes, limits), Ok(()), "{limits:?} {bytes:02x?}");
                    assert!(same(serde(&bytes).as_ref(), Some(&ours)), "{bytes:02x?}");
                }
            }
        }
        assert!(accepted > tried / 10, "{accepted} of {tried} corrupted payloads decoded");
    }

    /// Lengths the bytes can't hold, even under a limit that allows them, and nesting past the
    /// depth limit are declined.
    #[test]
    fn declines_hostile_lengths_and_nesting() {
        let limits = Limits { max_collection: usize::MAX, ..Limits::default() };
        // A batch whose only event has an unknown tag and a map claiming 2^31 entries.
        let mut claims: Vec<u8> = vec![0x97, 0xa0, 0xc4, 16];
        claims.extend([0; 16]);
        claims.extend([0, 0, 0, 0, 0x91, 0x93, 0x00, 0x63, 0xdf, 0x80, 0, 0, 0]);
        assert_eq!(batch(&claims, &limits), None);
        // Traits of maps nested a thousand deep, each claiming 4,096 entries.
        let mut deep = crate::encode_payload(&Batch {
            events: vec![Event {
                dt: 0,
                data: EventData::Identify(Identify { user_id: "u".into(), traits: Value::Null }),
            }],
            ..crate::fixtures::page_start()
        })
        .unwrap();
        assert_eq!(deep.pop(), Some(0xc0));
        for _ in 0..1_000 {
            deep.extend([0xde, 0x10, 0x00, 0xa1, b'k']);
        }
        assert_eq!(batch(&deep, &Limits::default()), None);
    }

    #[test]
    fn declines_forms_it_does_not_write() {
        let limits = Limits::default();
        let batch = &crate::fixtures::page_start();
        // An extra field.
        let mut extra = crate::encode_payload(batch).unwrap();
        assert_eq!(extra[0], 0x97);
        extra[0] = 0x98;
        extra.push(0xc0);
        assert_eq!(super::batch(&extra, &limits), None);
        // Structs as maps with field names.
        let named = rmp_serde::to_vec_named(batch).unwrap();
        assert_eq!(super::batch(&named, &limits), None);
        // Limits the schema itself can't live within, or too deep to read by recursion.
        let payload = crate::encode_payload(batch).unwrap();
        for max_depth in [SCHEMA_DEPTH - 1, RECURSION_DEPTH + 1] {
            assert_eq!(super::batch(&payload, &Limits { max_depth, ..limits }), None);
        }
    }
}
