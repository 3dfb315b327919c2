//! A structural pass over MessagePack bytes that enforces [`Limits`] before anything is
//! allocated for the values: one well-formed value filling the input exactly, no reserved or
//! extension markers, and every depth, length and count within its ceiling.
//!
//! It walks iteratively with an explicit stack, so hostile nesting can't exhaust the call stack.

use crate::{DecodeError, LimitKind, Limits};

/// Checks that `bytes` hold exactly one MessagePack value within `limits`.
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    let mut reader = Reader { bytes, pos: 0, bin_bytes: 0 };
    // Values still to read at each open level; the bottom entry is the single top-level value.
    let mut pending: Vec<u64> = vec![1];
    let mut items: usize = 0;

    while let Some(remaining) = pending.last_mut() {
        if *remaining == 0 {
            pending.pop();
            continue;
        }
        *remaining -= 1;
        items += 1;
        let children = reader.skip_value(limits)?;
        if items.saturating_add(reader.bin_bytes) > limits.max_items {
            return Err(limit(LimitKind::TotalItems, limits.max_items));
        }
        if children > 0 {
            if pending.len() > limits.max_depth {
                return Err(limit(LimitKind::Depth, limits.max_depth));
            }
            pending.push(children);
        }
    }
    if reader.pos != bytes.len() {
        return Err(DecodeError::Malformed(format!("{} trailing bytes after the batch", bytes.len() - reader.pos)));
    }
    Ok(())
}

fn limit(kind: LimitKind, limit: usize) -> DecodeError {
    DecodeError::Limit { kind, limit }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Bytes of `bin` values so far. A decoder may read a `bin` where the schema has an array
    /// of small integers, one element per byte, so each byte counts as an item.
    bin_bytes: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| DecodeError::Malformed(format!("truncated at byte {}", self.pos)))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, width: usize) -> Result<u64, DecodeError> {
        Ok(self.take(width)?.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }

    /// Consumes one marker and its scalar payload; returns how many child values follow it
    /// (elements of an array, keys plus values of a map).
    fn skip_value(&mut self, limits: &Limits) -> Result<u64, DecodeError> {
        let marker = self.take(1)?[0];
        let (len_width, kind) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => return Ok(0),
            0x80..=0x8f => return self.collection(u64::from(marker & 0x0f), 2, limits),
            0x90..=0x9f => return self.collection(u64::from(marker & 0x0f), 1, limits),
            0xa0..=0xbf => return self.blob(u64::from(marker & 0x1f), limits),
            0xca => return self.take(4).map(|_| 0),
            0xcb => return self.take(8).map(|_| 0),
            0xcc | 0xd0 => return self.take(1).map(|_| 0),
            0xcd | 0xd1 => return self.take(2).map(|_| 0),
            0xce | 0xd2 => return self.take(4).map(|_| 0),
            0xcf | 0xd3 => return self.take(8).map(|_| 0),
            0xd9 => (1, Kind::Str),
            0xda => (2, Kind::Str),
            0xdb => (4, Kind::Str),
            0xc4 => (1, Kind::Bin),
            0xc5 => (2, Kind::Bin),
            0xc6 => (4, Kind::Bin),
            0xdc => (2, Kind::Array),
            0xdd => (4, Kind::Array),
            0xde => (2, Kind::Map),
            0xdf => (4, Kind::Map),
            0xc1 => return Err(DecodeError::Malformed("reserved marker 0xc1".into())),
            0xc7..=0xc9 | 0xd4..=0xd8 => return Err(DecodeError::Malformed("extension types are not used".into())),
        };
        let len = self.uint(len_width)?;
        match kind {
            Kind::Str => self.blob(len, limits),
            Kind::Bin => {
                if len > limits.max_collection as u64 {
                    return Err(limit(LimitKind::CollectionLength, limits.max_collection));
                }
                self.bin_bytes = self.bin_bytes.saturating_add(len as usize);
                self.blob(len, limits)
            }
            Kind::Array => self.collection(len, 1, limits),
            Kind::Map => self.collection(len, 2, limits),
        }
    }

    fn blob(&mut self, len: u64, limits: &Limits) -> Result<u64, DecodeError> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > limits.max_string {
            return Err(limit(LimitKind::StringLength, limits.max_string));
        }
        self.take(len).map(|_| 0)
    }

    fn collection(&mut self, len: u64, per_element: u64, limits: &Limits) -> Result<u64, DecodeError> {
        if len > limits.max_collection as u64 {
            return Err(limit(LimitKind::CollectionLength, limits.max_collection));
        }
        // Every value takes at least one byte, so a length the input can't hold is truncation.
        let children = len * per_element;
        if children > (self.bytes.len() - self.pos) as u64 {
            return Err(DecodeError::Malformed(format!("truncated at byte {}", self.pos)));
        }
        Ok(children)
    }
}

enum Kind {
    Str,
    Bin,
    Array,
    Map,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { max_depth: 4, max_string: 8, max_collection: 4, max_items: 20, ..Limits::default() }
    }

    #[test]
    fn accepts_values_within_limits() {
        // [1, "abc", {"k": nil}, 1.5f32]
        let bytes = [0x94, 0x01, 0xa3, b'a', b'b', b'c', 0x81, 0xa1, b'k', 0xc0, 0xca, 0x3f, 0xc0, 0, 0];
        assert_eq!(check(&bytes, &limits()), Ok(()));
    }

    #[test]
    fn rejects_each_limit() {
        let deep = [0x91, 0x91, 0x91, 0x91, 0x91, 0xc0];
        assert!(matches!(check(&deep, &limits()), Err(DecodeError::Limit { kind: LimitKind::Depth, .. })));
        let long = [0xa9, b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x'];
        assert!(matches!(check(&long, &limits()), Err(DecodeError::Limit { kind: LimitKind::StringLength, .. })));
        let wide = [0x95, 0, 0, 0, 0, 0];
        assert!(matches!(check(&wide, &limits()), Err(DecodeError::Limit { kind: LimitKind::CollectionLength, .. })));
        let many = [0x94, 0x94, 0, 0, 0, 0, 0x94, 0, 0, 0, 0, 0x94, 0, 0, 0, 0, 0x94, 0, 0, 0, 0];
        assert!(matches!(check(&many, &limits()), Err(DecodeError::Limit { kind: LimitKind::TotalItems, .. })));
    }

    #[test]
    fn bin_bytes_count_as_collection_elements() {
        // A bin can stand where the schema has an array of small integers: 6 bytes are 6 items.
        let wide_bin = [0xc4, 6, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            check(&wide_bin, &limits()),
            Err(DecodeError::Limit { kind: LimitKind::CollectionLength, .. })
        ));
        let many = Limits { max_items: 5, ..limits() };
        let bins = [0x92, 0xc4, 2, 0, 0, 0xc4, 2, 0, 0];
        assert!(matches!(check(&bins, &many), Err(DecodeError::Limit { kind: LimitKind::TotalItems, .. })));
        assert_eq!(check(&bins, &limits()), Ok(()));
    }

    #[test]
    fn rejects_malformed_input() {
        for bytes in [
            &[][..],
            &[0x92, 0x01],                   // truncated array
            &[0xdd, 0xff, 0xff, 0xff, 0xff], // claims 4 billion elements
            &[0xc1],                         // reserved
            &[0xd4, 0x01, 0x00],             // extension
            &[0x01, 0x02],                   // trailing byte
            &[0xdb, 0xff, 0xff, 0xff],       // truncated length
        ] {
            assert!(check(bytes, &Limits::default()).is_err(), "{bytes:x?}");
        }
    }
}
