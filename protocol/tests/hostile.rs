#![cfg(not(target_arch = "wasm32"))]
//! The decoder against truncated, corrupted and oversized input: every outcome is a typed
//! error or a batch, never a panic, and nothing allocates past the limits.

use proptest::prelude::*;
use sightline_protocol::frame::{frame_payload, HEADER_LEN};
use sightline_protocol::{
    decode_batch, decode_payload, encode_batch, encode_payload, fixtures, DecodeError, LimitKind, Limits,
    PROTOCOL_VERSION,
};

fn samples() -> Vec<Vec<u8>> {
    fixtures::all().iter().map(|(_, b)| encode_batch(b).unwrap()).collect()
}

#[test]
fn every_truncation_is_an_error() {
    for bytes in samples() {
        for len in 0..bytes.len() {
            assert!(decode_batch(&bytes[..len], &Limits::default()).is_err(), "prefix of {len} bytes");
        }
    }
}

#[test]
fn node_deltas_that_leave_the_id_range_are_schema_errors() {
    // page_start's snapshot opens with the document: id 1 (delta 1), parent 0 (delta 1).
    let payload = encode_payload(&fixtures::all()[0].1).unwrap();
    let document = [0x94, 0x01, 0x01, 0x00, 0x92, 0x00, 0x90];
    let at = payload.windows(document.len()).position(|w| w == document).expect("the document node");
    assert!(decode_payload(&payload, &Limits::default()).is_ok());
    for (offset, byte, what) in [(1, 0x00, "id 0"), (1, 0xff, "id -1"), (2, 0x02, "parent -1")] {
        let mut bad = payload.clone();
        bad[at + offset] = byte;
        assert!(matches!(decode_payload(&bad, &Limits::default()), Err(DecodeError::Schema(_))), "{what}");
    }
}

#[test]
fn header_checks_come_before_decompression() {
    let good = &samples()[0];
    let mut foreign = good.clone();
    foreign[0] = b'{';
    assert_eq!(decode_batch(&foreign, &Limits::default()), Err(DecodeError::BadMagic));
    assert_eq!(decode_batch(b"{\"a\":1}", &Limits::default()), Err(DecodeError::BadMagic));

    for version in [0, 1, 5, 9] {
        let mut other = good.clone();
        other[3] = version;
        assert_eq!(decode_batch(&other, &Limits::default()), Err(DecodeError::UnsupportedVersion(version)));
    }

    // A header claiming 4 GiB must be refused without allocating it.
    let mut bomb = good.clone();
    bomb[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode_batch(&bomb, &Limits::default()),
        Err(DecodeError::DecompressedTooLarge { size, .. }) if size == u32::MAX as usize
    ));

    let small = Limits { max_compressed: good.len() - 1, ..Limits::default() };
    assert!(matches!(decode_batch(good, &small), Err(DecodeError::CompressedTooLarge { .. })));
}

#[test]
fn declared_length_must_match_the_block() {
    let mut lying = samples()[1].clone();
    let declared = u32::from_le_bytes(lying[4..8].try_into().unwrap());
    lying[4..8].copy_from_slice(&(declared + 10).to_le_bytes());
    assert!(matches!(decode_batch(&lying, &Limits::default()), Err(DecodeError::Decompress(_))));
    lying[4..8].copy_from_slice(&(declared - 1).to_le_bytes());
    assert!(matches!(decode_batch(&lying, &Limits::default()), Err(DecodeError::Decompress(_))));
}

#[test]
fn structure_limits_are_enforced_after_decompression() {
    // A compressible payload: an array of 100,000 nils, 3 bytes of header plus 100,000 bytes.
    let mut payload = vec![0xdd, 0x00, 0x01, 0x86, 0xa0];
    payload.resize(5 + 100_000, 0xc0);
    let framed = frame_payload(&payload).unwrap();
    assert!(framed.len() < 1_000, "LZ4 should shrink a run of nils");
    let limits = Limits { max_collection: 50_000, ..Limits::default() };
    assert_eq!(
        decode_batch(&framed, &limits),
        Err(DecodeError::Limit { kind: LimitKind::CollectionLength, limit: 50_000 })
    );

    // Deep nesting: 10,000 nested one-element arrays.
    let mut deep = vec![0x91; 10_000];
    deep.push(0xc0);
    let framed = frame_payload(&deep).unwrap();
    assert!(matches!(
        decode_batch(&framed, &Limits::default()),
        Err(DecodeError::Limit { kind: LimitKind::Depth, .. })
    ));
}

#[test]
fn valid_msgpack_of_the_wrong_shape_is_a_schema_error() {
    let framed = frame_payload(&[0x93, 0x01, 0x02, 0x03]).unwrap();
    assert!(matches!(decode_batch(&framed, &Limits::default()), Err(DecodeError::Schema(_))));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_bytes_never_panic(sample in 0usize..3, flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = samples()[sample].clone();
        for (at, value) in flips {
            let at = HEADER_LEN.min(bytes.len() - 1) + at % (bytes.len() - HEADER_LEN);
            bytes[at] = value;
        }
        let _ = decode_batch(&bytes, &Limits::default());
    }

    #[test]
    fn corrupted_payloads_never_panic(sample in 0usize..3, flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let (_, batch) = &fixtures::all()[sample];
        let mut payload = sightline_protocol::encode_payload(batch).unwrap();
        for (at, value) in flips {
            let at = at % payload.len();
            payload[at] = value;
        }
        let _ = decode_batch(&frame_payload(&payload).unwrap(), &Limits::default());
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_batch(&bytes, &Limits::default());
        if bytes.len() >= HEADER_LEN {
            bytes[..3].copy_from_slice(b"SLB");
            bytes[3] = PROTOCOL_VERSION;
            let _ = decode_batch(&bytes, &Limits::default());
        }
    }
}
