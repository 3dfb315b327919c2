//! What each fuzz target does with its input: the same functions run the fuzzers
//! (`fuzz_targets/`, `cargo xtask fuzz`) and the regression test that replays every input kept
//! in `fuzz/regressions/` (`tests/fuzz_regressions.rs`). Each must return, whatever the bytes:
//! a panic, an overflow or a hang is a finding.

use sightline_collector::telemetry::otlp::{self, Encoding};
use sightline_player::html::to_html;
use sightline_player::live::LiveFrame;
use sightline_player::{facts, signals, Replay};
use sightline_protocol::stream::read_stream;
use sightline_protocol::{decode_batch, decode_payload, encode_batch, Limits};

/// A batch as the collector's ingest reads it (framed, compressed); one that decodes encodes
/// again and decodes to the same batch.
pub fn batch(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(batch) = decode_batch(data, &limits) {
        let again = encode_batch(&batch).expect("a decoded batch encodes");
        let decoded = decode_batch(&again, &limits).expect("an encoded batch decodes");
        assert_eq!(decoded, batch, "a batch survives a round trip");
    }
}

/// The events stream the viewer reads from the collector.
pub fn stream(data: &[u8]) {
    let _ = read_stream(data);
}

/// A recording replayed as the viewer and the analyzer do: an uncompressed batch payload,
/// whose events are rebuilt at moments through its span, written as inert HTML, played in the
/// live frame, and read for facts and signals.
pub fn replay(data: &[u8]) {
    let Ok(batch) = decode_payload(data, &Limits::default()) else { return };
    let replay = Replay::new(&[batch]);
    let _ = facts::facts(&replay);
    let _ = signals::signals(&replay);
    let Some((start, end)) = replay.span() else { return };
    let mut frame = LiveFrame::new();
    let step = ((end - start) / 8).max(1);
    let mut at = start;
    loop {
        let dom = replay.dom_at(at);
        if let Some(root) = dom.roots().next() {
            let _ = to_html(&dom, root);
        }
        let _ = frame.advance(&replay, at);
        if at >= end {
            break;
        }
        at = at.saturating_add(step).min(end);
    }
    // And back to the start: a build from the first keyframe.
    let _ = frame.advance(&replay, start);
}

/// OTLP logs and traces as the collector's endpoints read them, in both encodings.
pub fn otlp(data: &[u8]) {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let _ = otlp::logs(data, encoding, 10_000);
        let _ = otlp::spans(data, encoding, 10_000);
    }
}
