//! The MessagePack payload of a batch, written and read. The schema is the serde derivations
//! on the event types (`crate::event`); the hand-written codecs here take its canonical forms
//! in one pass, and the equivalence tests in each hold them to the derivations:
//!
//! - [`write`]: the encoder the SDK and the tests use, byte for byte what serde writes.
//! - [`read`]: the one-pass decoder for what [`write`] produces, bounded by the limits as it
//!   goes; anything else it declines, and the scan and serde decide.
//! - [`scan`]: the structural check of any payload against the limits, before serde reads it.

pub(crate) mod read;
pub(crate) mod scan;
pub(crate) mod write;
