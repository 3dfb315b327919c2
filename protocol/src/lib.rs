//! Sightline's wire format, shared by the browser SDK, the collector and the player.
//!
//! A *batch* is what the SDK ships: an [`Envelope`](Batch) naming the project, session, page
//! and sequence number, followed by the page's events in the order they happened. On the wire a
//! batch is a fixed 8-byte header followed by an LZ4 block holding the MessagePack encoding of
//! the batch (see [`frame`]). `protocol/README.md` specifies the format for other implementers;
//! the golden vectors in `protocol/tests/vectors/` pin it byte for byte.
//!
//! Decoding is bounded everywhere: [`decode_batch`] checks the header and every size against
//! [`Limits`] before it allocates, and holds the MessagePack structure (depth, string and
//! collection lengths, total item count) to them before or while it is turned into Rust values:
//! a hand-written reader takes the canonical forms in one pass, and a structural scan followed
//! by the serde derivations decides everything else.

mod batch;
mod codec;
mod encoding;
mod error;
mod event;
pub mod frame;
mod ids;
mod limits;
pub mod seal;
pub mod stream;
mod trace_key;
mod value;

#[cfg(feature = "fixtures")]
pub mod fixtures;

pub use batch::{Batch, TimedEvent};
pub use error::{DecodeError, EncodeError, LimitKind};
pub use event::*;
pub use frame::{decode_batch, decode_payload, encode_batch, encode_payload, OLDEST_VERSION, PROTOCOL_VERSION};
pub use ids::{IdParseError, SessionId, SpanId, TraceId, TraceKey};
pub use limits::Limits;
pub use seal::{is_sealed_id, seal, unseal, WriterSecret};
pub use value::Value;
