//! Trace ids derived from a key instead of drawn one by one. A random trace id and span id are
//! 24 bytes no compressor can shrink, three quarters of what a recorded request weighs. So the
//! SDK draws one random [`TraceKey`] per page and gives its `n`th request the ids
//! [`TraceKey::derive`] makes of `n`. The batch carries the key once, each such request a
//! one-byte marker, and decoding derives the ids again.
//!
//! The ids are the first 24 bytes of ChaCha20's block `n` (RFC 8439) under the key, with a zero
//! nonce: a keyed pseudo-random function, so ids a backend or a third party sees tell nothing
//! of the key or of the page's other ids, which repeat no more than random ones. The SDK's
//! JavaScript (`npm/src/network.js`) computes the same block when it writes the `traceparent`
//! header.

use serde::{de, Deserialize, Deserializer};

use crate::{SpanId, TraceContext, TraceId, TraceKey};

/// The state indices of the quarter rounds of ChaCha20's double round: columns, then diagonals.
const QUARTER_ROUNDS: [[usize; 4]; 8] = [
    [0, 4, 8, 12],
    [1, 5, 9, 13],
    [2, 6, 10, 14],
    [3, 7, 11, 15],
    [0, 5, 10, 15],
    [1, 6, 11, 12],
    [2, 7, 8, 13],
    [3, 4, 9, 14],
];

/// ChaCha20's block function (RFC 8439, section 2.3): 16 little-endian words of key stream.
// Index loops, not iterator adapters: this runs in the browser SDK, and they cost it less.
#[allow(clippy::needless_range_loop)]
pub(crate) fn chacha20_block(key: &[u8; 32], counter: u32, nonce: [u32; 3]) -> [u32; 16] {
    let mut state = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574, 0, 0, 0, 0, 0, 0, 0, 0, counter, 0, 0, 0];
    for i in 0..8 {
        state[4 + i] = u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
    }
    state[13..].copy_from_slice(&nonce);
    let mut x = state;
    for _ in 0..10 {
        for q in &QUARTER_ROUNDS {
            quarter_round(&mut x, q);
        }
    }
    for i in 0..16 {
        x[i] = x[i].wrapping_add(state[i]);
    }
    x
}

fn quarter_round(x: &mut [u32; 16], &[ia, ib, ic, id]: &[usize; 4]) {
    let (mut a, mut b, mut c, mut d) = (x[ia], x[ib], x[ic], x[id]);
    for (r1, r2) in [(16, 12), (8, 7)] {
        a = a.wrapping_add(b);
        d = (d ^ a).rotate_left(r1);
        c = c.wrapping_add(d);
        b = (b ^ c).rotate_left(r2);
    }
    (x[ia], x[ib], x[ic], x[id]) = (a, b, c, d);
}

impl TraceKey {
    /// The trace and span id of the page's request number `n`.
    pub fn derive(&self, n: u32) -> TraceContext {
        let block = chacha20_block(self.as_bytes(), n, [0; 3]);
        let mut trace = [0u8; 16];
        let mut span = [0u8; 8];
        for (i, word) in block[..6].iter().enumerate() {
            let bytes = word.to_le_bytes();
            let out = if i < 4 { &mut trace[i * 4..i * 4 + 4] } else { &mut span[i * 4 - 16..i * 4 - 12] };
            out.copy_from_slice(&bytes);
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
/// batch's key, which [`settle`] fills in. An all-zero trace or span id, invalid in W3C trace
/// context, is no trace.
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
        Some(Encoded::Ids(ids)) => (!ids.trace_id.is_zero() && !ids.span_id.is_zero()).then_some(ids),
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
    fn the_block_function_is_chacha20() {
        // RFC 8439, section 2.3.2.
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let block = chacha20_block(&key, 1, [0x0900_0000, 0x4a00_0000, 0]);
        assert_eq!(block[..4], [0xe4e7_f110, 0x1559_3bd1, 0x1fdd_0f50, 0xc471_20a3]);
        assert_eq!(block[12..], [0xd19c_12b5, 0xb94e_16de, 0xe883_d0cb, 0x4e3c_50a2][..]);
    }

    #[test]
    fn a_page_derives_distinct_ids_and_pages_differ() {
        let key = TraceKey([7; 32]);
        let other = TraceKey([8; 32]);
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
        let key = TraceKey(*b"0123456789abcdef0123456789abcdef");
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
        let key = TraceKey([42; 32]);
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
        assert_eq!(framed[3], crate::frame::TRACE_KEY_VERSION, "a keyed batch is version 3");
        let payload = crate::encode_payload(&batch).unwrap();
        let unkeyed = crate::encode_payload(&crate::Batch { trace_key: None, ..batch.clone() }).unwrap();
        // Two derived requests: 29 bytes of ids become 1 each, and the key costs 34.
        assert_eq!(unkeyed.len() - payload.len(), 2 * 28 - 34);
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
        let mut keyless = payload[..payload.len() - 34].to_vec();
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
        let half = TraceContext { trace_id: TraceId([3; 16]), span_id: SpanId([0; 8]) };
        let batch = crate::Batch {
            events: vec![call(5, Some(PENDING)), call(6, Some(half))],
            trace_key: None,
            ..keyed_batch()
        };
        let payload = crate::encode_payload(&batch).unwrap();
        let deep = crate::Limits { max_depth: 100, ..crate::Limits::default() };
        for limits in [crate::Limits::default(), deep] {
            let decoded = crate::decode_payload(&payload, &limits).unwrap();
            for event in &decoded.events {
                let crate::EventData::Network(call) = &event.data else { panic!("{decoded:?}") };
                assert_eq!(call.trace, None, "{limits:?}");
            }
        }
    }
}
