//! The events stream: a session's stored batches as the collector serves them
//! ([`MEDIA_TYPE`]) and the player reads them, each batch as a `u32` little-endian length and
//! the framed batch, in `(page, seq)` order.
//!
//! A stored batch passed the limits the collector was configured with when it arrived, which
//! may be larger than the defaults; reading it back is held only to [`STORED_LIMITS`], so that
//! whatever a collector stored, its own viewer and analyzer can read.

use crate::{decode_batch, Batch, DecodeError, Limits};

/// The media type of an events stream.
pub const MEDIA_TYPE: &str = "application/vnd.sightline.batches";

/// Ceilings for reading back stored batches: a sanity bound, not the configured limits.
pub const STORED_LIMITS: Limits = Limits {
    max_compressed: 1 << 30,
    max_decompressed: 1 << 30,
    max_depth: 64,
    max_string: 1 << 30,
    max_collection: 1 << 26,
    max_items: 1 << 28,
};

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A length runs past the end of the stream.
    #[error("the events stream ends inside a batch")]
    Truncated,
    /// A batch in it is not valid.
    #[error("a batch in the events stream: {0}")]
    Batch(#[from] DecodeError),
}

/// A stored batch as one frame of the stream.
pub fn frame(batch: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + batch.len());
    frame.extend_from_slice(&(batch.len() as u32).to_le_bytes());
    frame.extend_from_slice(batch);
    frame
}

/// The framed batches of a stream, as they are; a stream cut short ends with
/// [`StreamError::Truncated`].
pub fn frames(stream: &[u8]) -> Frames<'_> {
    Frames { rest: stream }
}

/// See [`frames`].
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let taken = self.rest.split_first_chunk::<4>().and_then(|(length, rest)| {
            let length = u32::from_le_bytes(*length) as usize;
            Some((rest.get(..length)?, rest.get(length..)?))
        });
        match taken {
            Some((frame, rest)) => {
                self.rest = rest;
                Some(Ok(frame))
            }
            None => {
                self.rest = &[];
                Some(Err(StreamError::Truncated))
            }
        }
    }
}

/// The batches of a stream, each decoded within [`STORED_LIMITS`].
pub fn read_stream(stream: &[u8]) -> Result<Vec<Batch>, StreamError> {
    frames(stream).map(|frame| Ok(decode_batch(frame?, &STORED_LIMITS)?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{encode_batch, fixtures};

    #[test]
    fn a_stream_reads_back_as_its_batches_and_a_cut_one_is_an_error() {
        let batches: Vec<Batch> = fixtures::all().into_iter().map(|(_, b)| b).collect();
        let stream: Vec<u8> = batches.iter().flat_map(|batch| frame(&encode_batch(batch).unwrap())).collect();
        assert_eq!(read_stream(&stream).unwrap(), batches);
        assert_eq!(read_stream(&stream[..stream.len() - 1]), Err(StreamError::Truncated));
        assert_eq!(read_stream(&stream[..2]), Err(StreamError::Truncated));
        assert_eq!(read_stream(&[]).unwrap(), vec![]);
        assert_eq!(frames(&stream).count(), batches.len());
    }

    #[test]
    fn a_batch_larger_than_the_default_limits_reads_back() {
        let big = crate::Value::Str("x".repeat(Limits::default().max_string + 1));
        let custom = crate::Custom { name: "big".into(), props: big };
        let event = crate::Event { dt: 0, data: crate::EventData::Custom(custom) };
        let batch = Batch { events: vec![event], ..fixtures::page_start() };
        let bytes = encode_batch(&batch).unwrap();
        assert!(decode_batch(&bytes, &Limits::default()).is_err());
        assert_eq!(read_stream(&frame(&bytes)).unwrap(), vec![batch]);
    }
}
