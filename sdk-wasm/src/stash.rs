//! Batches still undelivered when the page goes away are kept in `localStorage` and sent by the
//! next page of the same origin. They keep their session, page and sequence number, so a batch
//! that did get through after all is stored once.
//!
//! Stored form: one line per batch, `<page>:<seq>:<base64 of the framed batch>`, after a
//! version line `1`. The whole stash is capped; the oldest batches go first.

use crate::digits::push_decimal;
use crate::transport::Pending;

/// The `localStorage` key of the stash.
pub const STORAGE_KEY: &str = "sightline.unsent";
/// Bytes of batches (before base64) a stash holds at most.
pub const MAX_BYTES: usize = 512 * 1024;

/// The stored form of `batches`, keeping the newest that fit in [`MAX_BYTES`].
pub fn encode(batches: &[Pending]) -> String {
    let mut kept = Vec::new();
    let mut bytes = 0;
    for batch in batches.iter().rev() {
        if bytes + batch.bytes.len() > MAX_BYTES {
            break;
        }
        bytes += batch.bytes.len();
        kept.push(batch);
    }
    let mut out = String::from("1");
    for batch in kept.into_iter().rev() {
        out.push('\n');
        for n in [batch.page, batch.seq] {
            push_decimal(&mut out, u64::from(n));
            out.push(':');
        }
        base64_encode(&batch.bytes, &mut out);
    }
    out
}

/// Reads a stash; lines that don't parse are skipped, anything else unreadable yields nothing.
pub fn decode(stored: &str) -> Vec<Pending> {
    let mut lines = stored.lines();
    if lines.next() != Some("1") {
        return Vec::new();
    }
    lines
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let page = parts.next()?.parse().ok()?;
            let seq = parts.next()?.parse().ok()?;
            let bytes = base64_decode(parts.next()?)?;
            Some(Pending { page, seq, bytes, attempts: 0 })
        })
        .collect()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.chunks(4) {
        let padding = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if padding > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk[..4 - padding].iter().enumerate() {
            let value = ALPHABET.iter().position(|a| a == c)? as u32;
            n |= value << (18 - 6 * i);
        }
        for i in 0..3 - padding {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(page: u32, seq: u32, bytes: Vec<u8>) -> Pending {
        Pending { page, seq, bytes, attempts: 3 }
    }

    #[test]
    fn batches_survive_the_round_trip_in_order() {
        let batches: Vec<Pending> = (0..5).map(|i| pending(i / 2, i, (0..=i as u8 * 7).collect())).collect();
        let decoded = decode(&encode(&batches));
        assert_eq!(decoded.len(), 5);
        for (a, b) in batches.iter().zip(&decoded) {
            assert_eq!((a.page, a.seq, &a.bytes), (b.page, b.seq, &b.bytes));
            assert_eq!(b.attempts, 0, "a new page starts counting attempts afresh");
        }
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        let mut out = String::new();
        base64_encode(b"Man is", &mut out);
        assert_eq!(out, "TWFuIGlz");
        out.clear();
        base64_encode(b"Ma", &mut out);
        assert_eq!(out, "TWE=");
        assert_eq!(base64_decode("TWE="), Some(b"Ma".to_vec()));
        assert_eq!(base64_decode("TQ=="), Some(b"M".to_vec()));
        assert_eq!(base64_decode("T"), None);
        assert_eq!(base64_decode("T!=="), None);
    }

    #[test]
    fn the_stash_keeps_the_newest_batches_that_fit() {
        let big = vec![1u8; MAX_BYTES / 2 + 1];
        let batches = vec![pending(0, 0, big.clone()), pending(0, 1, big.clone()), pending(0, 2, vec![2; 10])];
        let kept = decode(&encode(&batches));
        assert_eq!(kept.iter().map(|b| b.seq).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn unreadable_stashes_yield_nothing_and_bad_lines_are_skipped() {
        assert!(decode("").is_empty());
        assert!(decode("2\n0:0:AAAA").is_empty());
        let mixed = decode("1\n0:0:AAAA\nnot a line\n0:x:AAAA\n1:2:AQID");
        assert_eq!(
            mixed.iter().map(|b| (b.page, b.seq, b.bytes.clone())).collect::<Vec<_>>(),
            vec![(0, 0, vec![0, 0, 0]), (1, 2, vec![1, 2, 3])]
        );
    }
}
