//! Batch framing: the fixed header, LZ4 compression and bounded decoding.
//!
//! ```text
//! offset  size  field
//! 0       3     magic "SLB"
//! 3       1     protocol version (2 or 3)
//! 4       4     decompressed payload length, u32 little-endian
//! 8       …     LZ4 block (no frame, no checksum) of the MessagePack payload
//! ```
//!
//! The header lets a receiver reject foreign bytes, unknown versions and oversized payloads
//! before it decompresses anything; the decompressed length must match exactly.

use crate::codec::write::{Encode, Writer};
use crate::codec::{read, scan};
use crate::{trace_key, Batch, DecodeError, EncodeError, Limits};

/// The newest protocol version, which this build writes for batches that use what it added
/// (inputs set by script); it reads every version from [`OLDEST_VERSION`] on.
pub const PROTOCOL_VERSION: u8 = 4;

/// The version that added derived trace ids.
pub const TRACE_KEY_VERSION: u8 = 3;

/// The oldest protocol version this build reads, and writes for batches that need nothing
/// newer, so receivers that predate the newer versions still take them.
pub const OLDEST_VERSION: u8 = 2;

/// The first three bytes of every batch.
pub const MAGIC: [u8; 3] = *b"SLB";

/// Size of the fixed header.
pub const HEADER_LEN: usize = 8;

/// Encodes a batch as MessagePack (no framing, no compression).
pub fn encode_payload(batch: &Batch) -> Result<Vec<u8>, EncodeError> {
    let mut writer = Writer(Vec::with_capacity(1024), None);
    batch.encode(&mut writer);
    Ok(writer.0)
}

/// Encodes a batch for the wire: header, then the LZ4-compressed MessagePack payload.
pub fn encode_batch(batch: &Batch) -> Result<Vec<u8>, EncodeError> {
    frame(&encode_payload(batch)?, version_needed(batch))
}

/// The oldest version that can carry `batch`: what a batch doesn't use, older receivers take.
pub fn version_needed(batch: &Batch) -> u8 {
    let scripted = batch.events.iter().any(|e| matches!(&e.data, crate::EventData::Input(i) if i.scripted));
    if scripted {
        PROTOCOL_VERSION
    } else if batch.trace_key.is_some() {
        TRACE_KEY_VERSION
    } else {
        OLDEST_VERSION
    }
}

/// Frames an already encoded MessagePack payload as the newest version.
pub fn frame_payload(payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    frame(payload, PROTOCOL_VERSION)
}

fn frame(payload: &[u8], version: u8) -> Result<Vec<u8>, EncodeError> {
    let len = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLarge(payload.len()))?;
    let compressed = lz4_flex::block::compress(payload);
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len());
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// Checks the header and returns the decompressed MessagePack payload, allocating no more than
/// `limits.max_decompressed`.
pub fn unframe(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    if bytes.len() > limits.max_compressed {
        return Err(DecodeError::CompressedTooLarge { size: bytes.len(), limit: limits.max_compressed });
    }
    if bytes.len() < HEADER_LEN {
        // A short prefix of the magic is still foreign bytes if it doesn't match.
        if !MAGIC.starts_with(&bytes[..bytes.len().min(3)]) {
            return Err(DecodeError::BadMagic);
        }
        return Err(DecodeError::TooShort(bytes.len()));
    }
    if bytes[..3] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if !(OLDEST_VERSION..=PROTOCOL_VERSION).contains(&bytes[3]) {
        return Err(DecodeError::UnsupportedVersion(bytes[3]));
    }
    let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if declared > limits.max_decompressed {
        return Err(DecodeError::DecompressedTooLarge { size: declared, limit: limits.max_decompressed });
    }
    let mut payload = vec![0u8; declared];
    let written = lz4_flex::block::decompress_into(&bytes[HEADER_LEN..], &mut payload)
        .map_err(|e| DecodeError::Decompress(e.to_string()))?;
    if written != declared {
        return Err(DecodeError::Decompress(format!("block holds {written} bytes, header declares {declared}")));
    }
    Ok(payload)
}

/// Decodes a MessagePack payload after checking its structure against `limits`.
pub fn decode_payload(payload: &[u8], limits: &Limits) -> Result<Batch, DecodeError> {
    // The hand-written reader takes the forms the encoders write, within the limits; the scan
    // and serde decide the rest, and name what is wrong.
    if let Some(batch) = read::batch(payload, limits) {
        return Ok(batch);
    }
    scan::check(payload, limits)?;
    #[allow(clippy::disallowed_methods)] // the one sanctioned call: the scan above bounds it
    let mut batch: Batch = rmp_serde::from_slice(payload).map_err(|e| DecodeError::Schema(e.to_string()))?;
    trace_key::settle(&mut batch)
        .map_err(|()| DecodeError::Schema("requests with derived trace ids in a batch without a key".into()))?;
    Ok(batch)
}

/// Decodes a framed batch as received from the network, within `limits`.
pub fn decode_batch(bytes: &[u8], limits: &Limits) -> Result<Batch, DecodeError> {
    decode_payload(&unframe(bytes, limits)?, limits)
}
