//! Golden vectors: the sample batches, checked in as bytes. Decoding each file must give the
//! sample, and encoding the sample must give the file, byte for byte. A change to the wire
//! format shows up here first; regenerate with `SIGHTLINE_BLESS=1 cargo test -p
//! sightline-protocol --test golden` only together with a protocol version bump.

use std::path::PathBuf;

use sightline_protocol::frame::unframe;
use sightline_protocol::{decode_batch, decode_payload, encode_batch, encode_payload, fixtures, Limits};

fn vector_path(name: &str, ext: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(format!("{name}.{ext}"))
}

#[test]
fn golden_vectors_decode_and_reencode_identically() {
    let bless = std::env::var_os("SIGHTLINE_BLESS").is_some();
    for (name, batch) in fixtures::all() {
        let payload = encode_payload(&batch).unwrap();
        let framed = encode_batch(&batch).unwrap();
        if bless {
            std::fs::write(vector_path(name, "msgpack"), &payload).unwrap();
            std::fs::write(vector_path(name, "slb"), &framed).unwrap();
        }
        let golden_payload = std::fs::read(vector_path(name, "msgpack")).unwrap();
        let golden_framed = std::fs::read(vector_path(name, "slb")).unwrap();

        assert_eq!(decode_payload(&golden_payload, &Limits::default()).unwrap(), batch, "{name}");
        assert_eq!(decode_batch(&golden_framed, &Limits::default()).unwrap(), batch, "{name}");
        assert_eq!(unframe(&golden_framed, &Limits::default()).unwrap(), golden_payload, "{name}");
        assert_eq!(payload, golden_payload, "{name}: payload encoding changed");
        assert_eq!(framed, golden_framed, "{name}: framed encoding changed");
    }
}

#[test]
fn samples_cover_every_event_and_node_kind() {
    use sightline_protocol::{EventData, NodeKind};
    let mut event_tags = Vec::new();
    let mut node_tags = Vec::new();
    for (_, batch) in fixtures::all() {
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
