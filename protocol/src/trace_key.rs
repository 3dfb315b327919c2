//! Trace ids derived from a key instead of drawn one by one. A random trace id and span id are
//! 24 bytes no compressor can shrink, three quarters of what a recorded request weighs. So the
//! SDK draws one random [`TraceKey`] per page and gives its `n`th request the ids
//! [`TraceKey::derive`] makes of `n`. The batch carries the key once, each such request a
//! one-byte marker, and decoding derives the ids again.
//!
//! The mix is MurmurHash3's 32-bit finaliser, a bijection, applied twice around the key: for a
//! given key each output word takes a different value for every `n`, so a page's ids never
//! repeat, and pages' ids are as unrelated as their random keys. The SDK's JavaScript
//! (`npm/src/network.js`) computes the same words when it writes the `traceparent` header.

use serde::{de, Deserialize, Deserializer};

use crate::{SpanId, TraceContext, TraceId, TraceKey};

fn mix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl TraceKey {
    /// The trace and span id of the page's request number `n`.
    pub fn derive(&self, n: u32) -> TraceContext {
        let key = self.as_bytes();
        // Six words, little-endian: four make the trace id, two the span id.
        let mut trace = [0u8; 16];
        let mut span = [0u8; 8];
        for j in 0..6 {
            let at = (j % 4) * 4;
            let k = u32::from_le_bytes([key[at], key[at + 1], key[at + 2], key[at + 3]]);
            let word = mix(k ^ mix(n ^ (j as u32).wrapping_mul(0x85eb_ca6b).wrapping_add(0x9e37_79b9)));
            let out = if j < 4 { &mut trace[j * 4..j * 4 + 4] } else { &mut span[(j - 4) * 4..(j - 4) * 4 + 4] };
            out.copy_from_slice(&word.to_le_bytes());
        }
        // All-zero ids are invalid in W3C trace context.
        if trace == [0; 16] {
            trace[0] = 1;
        }
        if span == [0; 8] {
            span[0] = 1;
        }
        TraceContext { trace_id: TraceId(trace), span_id: SpanId(span) }
    }
}

/// What a derived trace stands for while a batch is read: the ids come once the batch's key
/// is known. All-zero ids never occur otherwise, since W3C trace context declares them invalid.
pub(crate) const PENDING: TraceContext = TraceContext { trace_id: TraceId([0; 16]), span_id: SpanId([0; 8]) };

/// Reads a request's `trace` as encoded: nil, its ids, or `true` for ids derived from the
/// batch's key, which [`settle`] fills in. All-zero ids, invalid in W3C trace context, are no
/// trace.
pub(crate) fn deserialize_trace<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TraceContext>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Encoded {
        Derived(bool),
        Ids(TraceContext),
    }
    Ok(match Option::<Encoded>::deserialize(d)? {
        None => None,
        Some(Encoded::Derived(true)) => Some(PENDING),
        Some(Encoded::Derived(false)) => return Err(de::Error::custom("a trace is its ids or `true`")),
        Some(Encoded::Ids(ids)) => (ids != PENDING).then_some(ids),
    })
}

/// Derives the ids of the requests a decoded batch marked as derived; `Err` when it marked some
/// without carrying a key.
pub(crate) fn settle(batch: &mut crate::Batch) -> Result<(), ()> {
    for event in &mut batch.events {
        if let crate::EventData::Network(call) = &mut event.data {
            if call.trace == Some(PENDING) {
                call.trace = Some(batch.trace_key.ok_or(())?.derive(call.id));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_never_derives_the_same_ids_twice_and_pages_differ() {
        let key = TraceKey([7; 16]);
        let other = TraceKey([8; 16]);
        let mut traces = std::collections::HashSet::new();
        let mut spans = std::collections::HashSet::new();
        for n in 0..20_000 {
            let ids = key.derive(n);
            assert!(!ids.trace_id.is_zero() && !ids.span_id.is_zero());
            assert!(traces.insert(ids.trace_id) && spans.insert(ids.span_id), "request {n} repeats an id");
            assert_ne!(other.derive(n).trace_id, ids.trace_id);
        }
    }

    #[test]
    fn derived_ids_look_random() {
        // Each bit of the trace id is set in about half of consecutive requests' ids.
        let key = TraceKey(*b"0123456789abcdef");
        let mut ones = [0u32; 128];
        for n in 0..4_096 {
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += u32::from(key.derive(n).trace_id.0[bit / 8] >> (bit % 8) & 1);
            }
        }
        assert!(ones.iter().all(|c| (1_800..2_300).contains(c)), "{ones:?}");
    }

    fn call(id: u32, trace: Option<TraceContext>) -> crate::Event {
        let call = crate::Network {
            id,
            method: "GET".into(),
            url: "https://app.example/api".into(),
            trace,
            ..Default::default()
        };
        crate::Event { dt: 1, data: crate::EventData::Network(Box::new(call)) }
    }

    fn keyed_batch() -> crate::Batch {
        let key = TraceKey([42; 16]);
        let own = TraceContext { trace_id: TraceId([9; 16]), span_id: SpanId([8; 8]) };
        let events =
            vec![call(1, Some(key.derive(1))), call(2, Some(own)), call(3, None), call(4, Some(key.derive(4)))];
        crate::Batch {
            project: "slk".into(),
            session: crate::SessionId([1; 16]),
            page: 0,
            seq: 0,
            start: 1_000,
            sent: 2_000,
            events,
            trace_key: Some(key),
        }
    }

    #[test]
    fn derived_ids_travel_as_a_marker_and_are_derived_again_on_both_decoding_paths() {
        let batch = keyed_batch();
        let framed = crate::encode_batch(&batch).unwrap();
        assert_eq!(framed[3], crate::PROTOCOL_VERSION, "a keyed batch is version 3");
        let payload = crate::encode_payload(&batch).unwrap();
        let unkeyed = crate::encode_payload(&crate::Batch { trace_key: None, ..batch.clone() }).unwrap();
        // Two derived requests: 29 bytes of ids become 1 each, and the key costs 18.
        assert_eq!(unkeyed.len() - payload.len(), 2 * 28 - 18);
        assert_eq!(crate::decode_batch(&framed, &crate::Limits::default()).unwrap(), batch);
        // Limits beyond the hand-written reader's leave the payload to the scan and serde.
        let deep = crate::Limits { max_depth: 100, ..crate::Limits::default() };
        assert_eq!(crate::decode_payload(&payload, &deep).unwrap(), batch);
    }

    #[test]
    fn a_batch_without_derived_ids_stays_version_2() {
        let batch = crate::Batch { trace_key: None, ..keyed_batch() };
        let framed = crate::encode_batch(&batch).unwrap();
        assert_eq!(framed[3], crate::OLDEST_VERSION);
        assert_eq!(crate::decode_batch(&framed, &crate::Limits::default()).unwrap(), batch);
    }

    #[test]
    fn derived_ids_without_a_key_are_refused() {
        let payload = crate::encode_payload(&keyed_batch()).unwrap();
        // The same batch as an array of 7, without the key at its end.
        assert_eq!(payload[0], 0x98);
        let mut keyless = payload[..payload.len() - 18].to_vec();
        keyless[0] = 0x97;
        for limits in [crate::Limits::default(), crate::Limits { max_depth: 100, ..crate::Limits::default() }] {
            assert!(
                matches!(crate::decode_payload(&keyless, &limits), Err(crate::DecodeError::Schema(_))),
                "{limits:?}"
            );
        }
    }

    #[test]
    fn all_zero_ids_are_no_trace() {
        let zero = call(5, Some(PENDING));
        let batch = crate::Batch { events: vec![zero], trace_key: None, ..keyed_batch() };
        let decoded = crate::decode_batch(&crate::encode_batch(&batch).unwrap(), &crate::Limits::default()).unwrap();
        let crate::EventData::Network(call) = &decoded.events[0].data else { panic!("{decoded:?}") };
        assert_eq!(call.trace, None);
    }
}
