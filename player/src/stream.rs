//! The events stream the collector serves for a session (`application/vnd.sightline.batches`):
//! each batch as a u32 little-endian length and the framed batch, in `(page, seq)` order.

use sightline_protocol::{decode_batch, Batch, DecodeError, Limits};

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    /// A length runs past the end of the stream.
    Truncated,
    /// A batch in it is not valid.
    Batch(DecodeError),
}

/// The batches of a stream, each decoded within `limits`.
pub fn read_stream(mut stream: &[u8], limits: &Limits) -> Result<Vec<Batch>, StreamError> {
    let mut batches = Vec::new();
    while !stream.is_empty() {
        let (length, rest) = stream.split_first_chunk::<4>().ok_or(StreamError::Truncated)?;
        let length = u32::from_le_bytes(*length) as usize;
        let frame = rest.get(..length).ok_or(StreamError::Truncated)?;
        batches.push(decode_batch(frame, limits).map_err(StreamError::Batch)?);
        stream = &rest[length..];
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{encode_batch, fixtures};

    #[test]
    fn a_stream_reads_back_as_its_batches_and_a_cut_one_is_an_error() {
        let batches: Vec<Batch> = fixtures::all().into_iter().map(|(_, b)| b).collect();
        let mut stream = Vec::new();
        for batch in &batches {
            let bytes = encode_batch(batch).unwrap();
            stream.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            stream.extend_from_slice(&bytes);
        }
        assert_eq!(read_stream(&stream, &Limits::default()).unwrap(), batches);
        assert_eq!(read_stream(&stream[..stream.len() - 1], &Limits::default()), Err(StreamError::Truncated));
        assert_eq!(read_stream(&[], &Limits::default()).unwrap(), vec![]);
    }
}
