//! Golden vectors: the sample batches, checked in as bytes. Decoding each file must give the
//! sample, and encoding the sample must give the file, byte for byte. The same test runs natively
//! and compiled to wasm (`cargo xtask test` runs both), so the SDK's and the collector's builds
//! are held to the same bytes.
//!
//! A change to the wire format shows up here first; regenerate the files with
//! `SIGHTLINE_BLESS=1 cargo test -p sightline-protocol --test golden` only together with a
//! protocol version bump.

use sightline_protocol::frame::unframe;
use sightline_protocol::{
    decode_batch, decode_payload, encode_batch, encode_payload, fixtures, EventData, Limits, NodeKind,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

macro_rules! vectors {
    ($($name:literal),*) => {
        [$((
            $name,
            include_bytes!(concat!("vectors/", $name, ".msgpack")).as_slice(),
            include_bytes!(concat!("vectors/", $name, ".slb")).as_slice(),
        )),*]
    };
}

const VECTORS: [(&str, &[u8], &[u8]); 6] =
    vectors!("page_start", "interaction", "facts", "derived_traces", "scripted_input", "feedback");

/// The sample session, a batch with derived trace ids, one with an input set by script, and one
/// with the user's feedback.
fn samples() -> Vec<(&'static str, sightline_protocol::Batch)> {
    let mut samples = fixtures::all();
    samples.push(("derived_traces", fixtures::derived_traces()));
    samples.push(("scripted_input", fixtures::scripted_input()));
    samples.push(("feedback", fixtures::feedback()));
    samples
}

#[cfg(not(target_arch = "wasm32"))]
fn bless() {
    if std::env::var_os("SIGHTLINE_BLESS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for (name, batch) in samples() {
        std::fs::write(dir.join(format!("{name}.msgpack")), encode_payload(&batch).unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.slb")), encode_batch(&batch).unwrap()).unwrap();
    }
    panic!("vectors rewritten; run again without SIGHTLINE_BLESS to check them");
}

#[test]
fn golden_vectors_decode_and_reencode_identically() {
    #[cfg(not(target_arch = "wasm32"))]
    bless();
    let samples = samples();
    assert_eq!(samples.len(), VECTORS.len());
    for ((name, batch), (file, golden_payload, golden_framed)) in samples.into_iter().zip(VECTORS) {
        assert_eq!(name, file);
        assert_eq!(decode_payload(golden_payload, &Limits::default()).unwrap(), batch, "{name}");
        assert_eq!(decode_batch(golden_framed, &Limits::default()).unwrap(), batch, "{name}");
        assert_eq!(unframe(golden_framed, &Limits::default()).unwrap(), golden_payload, "{name}");
        assert_eq!(encode_payload(&batch).unwrap(), golden_payload, "{name}: payload encoding changed");
        assert_eq!(encode_batch(&batch).unwrap(), golden_framed, "{name}: framed encoding changed");
    }
}

#[test]
fn samples_cover_every_event_and_node_kind() {
    let mut event_tags = Vec::new();
    let mut node_tags = Vec::new();
    for (_, batch) in samples() {
        for event in &batch.events {
            event_tags.push(event.data.tag());
            let nodes = match &event.data {
                EventData::Snapshot(s) => &s.nodes,
                EventData::Mutation(m) => &m.adds,
                _ => continue,
            };
            node_tags.extend(nodes.iter().map(|n| n.kind.tag()));
        }
    }
    for tag in EventData::TAGS {
        assert!(event_tags.contains(tag), "no sample of event kind {tag}");
    }
    for tag in NodeKind::TAGS {
        assert!(node_tags.contains(tag), "no sample of node kind {tag}");
    }
}
