//! The MessagePack encoder for batches, written out by hand.
//!
//! It produces exactly the bytes the serde derivations produce through rmp-serde (a property
//! test and the golden vectors hold it to that), but without serde's generic machinery, which
//! would otherwise be instantiated for every type of the model in every build that encodes:
//! the browser SDK pays for each of those bytes on every page load. The one place it writes
//! what serde does not is a request whose trace ids derive from the batch's [`TraceKey`]: a
//! `true` in place of the ids.

use crate::{Batch, Event, EventData, Network, Node, NodeKind, PageMeta, Size, Software, TraceKey, Value};

/// A growing MessagePack buffer with the shortest encoding of every value, and the key of the
/// batch being written, if it has one.
pub(crate) struct Writer(pub(crate) Vec<u8>, pub(crate) Option<TraceKey>);

impl Writer {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn nil(&mut self) {
        self.byte(0xc0);
    }

    fn bool(&mut self, v: bool) {
        self.byte(if v { 0xc3 } else { 0xc2 });
    }

    fn uint(&mut self, v: u64) {
        match v {
            0..=0x7f => self.byte(v as u8),
            0x80..=0xff => self.bytes(&[0xcc, v as u8]),
            0x100..=0xffff => {
                self.byte(0xcd);
                self.bytes(&(v as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.byte(0xce);
                self.bytes(&(v as u32).to_be_bytes());
            }
            _ => {
                self.byte(0xcf);
                self.bytes(&v.to_be_bytes());
            }
        }
    }

    fn int(&mut self, v: i64) {
        match v {
            0.. => self.uint(v as u64),
            -32..=-1 => self.byte(v as i8 as u8),
            -128..=-33 => self.bytes(&[0xd0, v as i8 as u8]),
            -32_768..=-129 => {
                self.byte(0xd1);
                self.bytes(&(v as i16).to_be_bytes());
            }
            -2_147_483_648..=-32_769 => {
                self.byte(0xd2);
                self.bytes(&(v as i32).to_be_bytes());
            }
            _ => {
                self.byte(0xd3);
                self.bytes(&v.to_be_bytes());
            }
        }
    }

    fn f32(&mut self, v: f32) {
        self.byte(0xca);
        self.bytes(&v.to_be_bytes());
    }

    fn f64(&mut self, v: f64) {
        self.byte(0xcb);
        self.bytes(&v.to_be_bytes());
    }

    fn len(&mut self, len: usize, fix: u8, fix_max: usize, m8: Option<u8>, m16: u8, m32: u8) {
        if len <= fix_max {
            self.byte(fix | len as u8);
        } else if let (Some(m8), true) = (m8, len <= 0xff) {
            self.bytes(&[m8, len as u8]);
        } else if len <= 0xffff {
            self.byte(m16);
            self.bytes(&(len as u16).to_be_bytes());
        } else {
            self.byte(m32);
            self.bytes(&(len as u32).to_be_bytes());
        }
    }

    fn array(&mut self, len: usize) {
        self.len(len, 0x90, 15, None, 0xdc, 0xdd);
    }

    fn map(&mut self, len: usize) {
        self.len(len, 0x80, 15, None, 0xde, 0xdf);
    }

    fn str(&mut self, s: &str) {
        self.len(s.len(), 0xa0, 31, Some(0xd9), 0xda, 0xdb);
        self.bytes(s.as_bytes());
    }

    fn bin(&mut self, b: &[u8]) {
        if b.len() <= 0xff {
            self.bytes(&[0xc4, b.len() as u8]);
        } else {
            self.len(b.len(), 0, 0, None, 0xc5, 0xc6);
        }
        self.bytes(b);
    }

    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            Some(s) => self.str(s),
            None => self.nil(),
        }
    }

    fn opt_uint(&mut self, v: Option<u64>) {
        match v {
            Some(v) => self.uint(v),
            None => self.nil(),
        }
    }

    fn strs(&mut self, items: &[String]) {
        self.array(items.len());
        items.iter().for_each(|s| self.str(s));
    }

    fn uints(&mut self, items: &[u32]) {
        self.array(items.len());
        items.iter().for_each(|v| self.uint(u64::from(*v)));
    }

    fn pairs(&mut self, pairs: &[(String, String)]) {
        self.array(pairs.len());
        for (k, v) in pairs {
            self.array(2);
            self.str(k);
            self.str(v);
        }
    }
}

/// A value with a MessagePack form.
pub(crate) trait Encode {
    fn encode(&self, w: &mut Writer);
}

impl Encode for Batch {
    fn encode(&self, w: &mut Writer) {
        w.array(if self.trace_key.is_some() { 8 } else { 7 });
        w.str(&self.project);
        w.bin(self.session.as_bytes());
        w.uint(u64::from(self.page));
        w.uint(u64::from(self.seq));
        w.uint(self.start);
        w.uint(self.sent);
        w.1 = self.trace_key;
        w.array(self.events.len());
        self.events.iter().for_each(|e| e.encode(w));
        if let Some(key) = &self.trace_key {
            w.bin(key.as_bytes());
        }
    }
}

impl Encode for Event {
    fn encode(&self, w: &mut Writer) {
        w.array(3);
        w.uint(u64::from(self.dt));
        w.uint(u64::from(self.data.tag()));
        match &self.data {
            EventData::Meta(m) => m.encode(w),
            EventData::Snapshot(s) => {
                w.array(1);
                nodes(w, &s.nodes);
            }
            EventData::Mutation(m) => {
                w.array(4);
                w.uints(&m.removes);
                nodes(w, &m.adds);
                w.array(m.attrs.len());
                for a in &m.attrs {
                    w.array(3);
                    w.uint(u64::from(a.id));
                    w.str(&a.name);
                    w.opt_str(&a.value);
                }
                w.array(m.texts.len());
                for t in &m.texts {
                    w.array(2);
                    w.uint(u64::from(t.id));
                    w.str(&t.text);
                }
            }
            EventData::StyleSheet(s) => {
                w.array(4);
                w.uint(u64::from(s.id));
                w.uint(u64::from(s.owner));
                w.strs(&s.rules);
                w.str(&s.media);
            }
            EventData::StyleRule(r) => {
                w.array(3);
                w.uint(u64::from(r.sheet));
                w.uints(&r.path);
                w.opt_str(&r.rule);
            }
            EventData::AdoptedStyleSheets(a) => {
                w.array(2);
                w.uint(u64::from(a.host));
                w.uints(&a.sheets);
            }
            EventData::Pointer(p) => {
                w.array(4);
                w.uint(u64::from(p.kind.to_u8()));
                w.uint(u64::from(p.target));
                w.int(i64::from(p.x));
                w.int(i64::from(p.y));
            }
            EventData::MouseMove(m) => {
                w.array(1);
                w.array(m.points.len());
                for p in &m.points {
                    w.array(3);
                    w.int(i64::from(p.x));
                    w.int(i64::from(p.y));
                    w.uint(u64::from(p.offset));
                }
            }
            EventData::Scroll(s) => {
                w.array(3);
                w.uint(u64::from(s.target));
                w.int(i64::from(s.x));
                w.int(i64::from(s.y));
            }
            EventData::Viewport(v) => {
                w.array(1);
                size(w, v.size);
            }
            EventData::Input(i) => {
                w.array(if i.scripted { 5 } else { 4 });
                w.uint(u64::from(i.target));
                w.str(&i.value);
                match i.checked {
                    Some(c) => w.bool(c),
                    None => w.nil(),
                }
                w.bool(i.masked);
                if i.scripted {
                    w.bool(true);
                }
            }
            EventData::Focus(f) => {
                w.array(2);
                w.uint(u64::from(f.target));
                w.bool(f.focused);
            }
            EventData::Key(k) => {
                w.array(3);
                w.uint(u64::from(k.target));
                w.str(&k.key);
                w.uint(u64::from(k.modifiers));
            }
            EventData::Submit(s) => {
                w.array(1);
                w.uint(u64::from(s.target));
            }
            EventData::Feedback(f) => {
                w.array(1);
                w.str(&f.text);
            }
            EventData::Visibility(v) => {
                w.array(1);
                w.bool(v.visible);
            }
            EventData::Navigation(n) => {
                w.array(3);
                w.uint(u64::from(n.kind.to_u8()));
                w.str(&n.url);
                w.str(&n.title);
            }
            EventData::Network(n) => n.encode(w),
            EventData::Console(c) => {
                w.array(3);
                w.uint(u64::from(c.level.to_u8()));
                w.strs(&c.args);
                w.opt_str(&c.stack);
            }
            EventData::Error(e) => {
                w.array(8);
                w.uint(u64::from(e.kind.to_u8()));
                w.str(&e.name);
                w.str(&e.message);
                w.opt_str(&e.stack);
                w.str(&e.source);
                w.uint(u64::from(e.line));
                w.uint(u64::from(e.column));
                w.uint(u64::from(e.target));
            }
            EventData::Identify(i) => {
                w.array(2);
                w.str(&i.user_id);
                i.traits.encode(w);
            }
            EventData::Custom(c) => {
                w.array(2);
                w.str(&c.name);
                c.props.encode(w);
            }
            EventData::Canvas(c) => {
                w.array(2);
                w.uint(u64::from(c.target));
                w.str(&c.data_url);
            }
            EventData::Unknown(_) => w.nil(),
        }
    }
}

fn size(w: &mut Writer, s: Size) {
    w.array(2);
    w.uint(u64::from(s.width));
    w.uint(u64::from(s.height));
}

fn software(w: &mut Writer, s: &Software) {
    w.array(2);
    w.str(&s.name);
    w.str(&s.version);
}

fn nodes(w: &mut Writer, nodes: &[Node]) {
    w.array(nodes.len());
    let mut previous = 0;
    for n in nodes {
        let (id, parent) = crate::event::node_list::deltas(previous, n);
        previous = n.id;
        w.array(4);
        w.int(id);
        w.int(parent);
        w.uint(u64::from(n.next));
        w.array(2);
        w.uint(u64::from(n.kind.tag()));
        match &n.kind {
            NodeKind::Document(_) | NodeKind::ShadowRoot(_) => w.array(0),
            NodeKind::Doctype(d) => {
                w.array(3);
                w.str(&d.name);
                w.str(&d.public_id);
                w.str(&d.system_id);
            }
            NodeKind::Element(e) => {
                w.array(3);
                w.str(&e.tag);
                w.pairs(&e.attrs);
                w.uint(u64::from(e.ns.to_u8()));
            }
            NodeKind::Text(t) | NodeKind::Comment(t) | NodeKind::CData(t) => w.str(t),
        }
    }
}

impl Encode for PageMeta {
    fn encode(&self, w: &mut Writer) {
        w.array(14);
        w.str(&self.url);
        w.str(&self.referrer);
        w.str(&self.title);
        w.str(&self.user_agent);
        software(w, &self.browser);
        software(w, &self.os);
        w.uint(u64::from(self.device.to_u8()));
        size(w, self.screen);
        size(w, self.viewport);
        w.f32(self.pixel_ratio);
        w.str(&self.language);
        w.str(&self.timezone);
        w.int(i64::from(self.utc_offset));
        w.str(&self.sdk);
    }
}

impl Encode for Network {
    fn encode(&self, w: &mut Writer) {
        w.array(12);
        w.uint(u64::from(self.id));
        w.uint(u64::from(self.initiator.to_u8()));
        w.str(&self.method);
        w.str(&self.url);
        w.uint(u64::from(self.status));
        w.uint(u64::from(self.duration));
        w.opt_uint(self.request_size);
        w.opt_uint(self.response_size);
        for message in [&self.request, &self.response] {
            match message {
                Some(m) => {
                    w.array(2);
                    w.pairs(&m.headers);
                    match &m.body {
                        Some(b) => {
                            w.array(3);
                            w.opt_str(&b.text);
                            w.uint(b.size);
                            w.bool(b.truncated);
                        }
                        None => w.nil(),
                    }
                }
                None => w.nil(),
            }
        }
        w.opt_str(&self.error);
        match &self.trace {
            Some(t) if w.1.is_some_and(|key| key.derive(self.id) == *t) => w.bool(true),
            Some(t) => {
                w.array(2);
                w.bin(t.trace_id.as_bytes());
                w.bin(t.span_id.as_bytes());
            }
            None => w.nil(),
        }
    }
}

impl Encode for Value {
    fn encode(&self, w: &mut Writer) {
        match self {
            Value::Null => w.nil(),
            Value::Bool(b) => w.bool(*b),
            Value::Int(i) => w.int(*i),
            Value::Float(f) => w.f64(*f),
            Value::Str(s) => w.str(s),
            Value::List(items) => {
                w.array(items.len());
                items.iter().for_each(|v| v.encode(w));
            }
            Value::Map(entries) => {
                w.map(entries.len());
                for (k, v) in entries {
                    w.str(k);
                    v.encode(w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer(Vec::new(), None);
        f(&mut w);
        w.0
    }

    fn serde(v: &impl serde::Serialize) -> Vec<u8> {
        rmp_serde::to_vec(v).unwrap()
    }

    #[test]
    fn every_length_and_integer_boundary_matches_rmp_serde() {
        for len in [0, 1, 15, 16, 31, 32, 255, 256, 65_535, 65_536] {
            let s = "x".repeat(len);
            assert_eq!(ours(|w| w.str(&s)), serde(&s), "str {len}");
            let items = vec![1u32; len];
            assert_eq!(ours(|w| w.uints(&items)), serde(&items), "array {len}");
            let id = vec![7u8; len];
            assert_eq!(ours(|w| w.bin(&id)), rmp_serde::to_vec(&serde_bytes_like(&id)).unwrap(), "bin {len}");
            let map = Value::Map((0..len.min(70_000)).map(|i| (i.to_string(), Value::Null)).collect());
            assert_eq!(ours(|w| map.encode(w)), serde(&map), "map {len}");
        }
        for v in [0u64, 127, 128, 255, 256, 65_535, 65_536, u32::MAX as u64, u32::MAX as u64 + 1, u64::MAX] {
            assert_eq!(ours(|w| w.uint(v)), serde(&v), "uint {v}");
        }
        for v in [
            0i64,
            1,
            127,
            128,
            -1,
            -32,
            -33,
            -128,
            -129,
            -32_768,
            -32_769,
            i32::MIN as i64,
            i32::MIN as i64 - 1,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(ours(|w| w.int(v)), serde(&v), "int {v}");
        }
        assert_eq!(ours(|w| w.f32(1.5)), serde(&1.5f32));
        assert_eq!(ours(|w| w.f64(-0.25)), serde(&-0.25f64));
    }

    /// Serialises as MessagePack `bin`, as the id types do.
    fn serde_bytes_like(bytes: &[u8]) -> impl serde::Serialize + '_ {
        struct Bin<'a>(&'a [u8]);
        impl serde::Serialize for Bin<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Bin(bytes)
    }
}
