//! The key layout in the single sled tree `v1`. Every key starts with a one-byte space tag and
//! the project id (u32 big-endian), so each project's data is a contiguous range and range
//! scans return keys in numeric order.
//!
//! | tag | rest of key                                   | value                          |
//! |-----|-----------------------------------------------|--------------------------------|
//! | `s` | session (16)                                  | summary, JSON                  |
//! | `b` | session (16) · page (u32) · seq (u32)         | the batch as received          |
//! | `t` | first_seen ms (u64) · session (16)            | empty (listing, newest last)   |
//! | `u` | user length (u16) · user (UTF-8) · session    | empty                          |
//! | `r` | trace id (16) · session (16)                  | page (u32) · seq (u32) · ms (u64) |
//! | `i` | session (16) · key of a `t`, `u` or `r` entry | empty (what to delete with it) |
//! | `x` | session (16)                                  | deleted at, ms (u64)           |
//! | `n` | session (16) · moment ms (u64) · note id (8)  | a support engineer's note, JSON |
//! | `o` | trace id (16) · 0 (u32)                        | trace header: first received ms (u64) · records (u32) |
//! | `o` | trace id (16) · n (u32), n ≥ 1                 | backend record n, JSON         |
//! | `p` | first received ms (u64) · trace id (16)        | empty (telemetry by age, for retention) |
//! | `q` | trace id (16)                                  | deleted at, ms (u64): a trace of a deleted session |
//! | `w` | (nothing)                                      | bytes of the project's stored batches (u64) |
//!
//! Metadata lives under `m` followed by its name, outside any project.
//!
//! Deleting a session walks its `i` entries alone: they name every index entry it has and,
//! through its `r` entries, the trace ids whose backend records go with it. Stores written
//! before `r` entries had back-references are given them once when opened (see
//! [`LAYOUT_META`]).

use std::fmt;
use std::str::FromStr;

use sightline_protocol::{SessionId, TraceId};

use super::BatchKey;

pub(super) const SUMMARY: u8 = b's';
pub(super) const BATCH: u8 = b'b';
pub(super) const LISTED: u8 = b't';
pub(super) const USER: u8 = b'u';
pub(super) const TRACE: u8 = b'r';
pub(super) const SESSION_INDEX: u8 = b'i';
pub(super) const TOMBSTONE: u8 = b'x';
pub(super) const NOTE: u8 = b'n';
pub(super) const META: u8 = b'm';
pub(super) const TELEMETRY: u8 = b'o';
pub(super) const TELEMETRY_AGE: u8 = b'p';
pub(super) const TRACE_TOMBSTONE: u8 = b'q';
pub(super) const USAGE: u8 = b'w';

/// The metadata entry holding the layout version of the tree: absent in stores whose `r`
/// entries have no `i` back-references, `2` once they all have.
pub(super) const LAYOUT_META: &str = "layout";
pub(super) const LAYOUT: &[u8] = b"2";

/// The metadata entry saying the `w` entries are counted: absent in stores written before
/// they were, which count them once when opened.
pub(super) const USAGE_META: &str = "usage";

/// Key of `tag`, project and the given parts, concatenated.
pub(super) fn key(tag: u8, project: u32, parts: &[&[u8]]) -> Vec<u8> {
    let len = 5 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut key = Vec::with_capacity(len);
    key.push(tag);
    key.extend_from_slice(&project.to_be_bytes());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

pub(super) fn batch(k: &BatchKey) -> Vec<u8> {
    key(BATCH, k.project, &[k.session.as_bytes(), &k.page.to_be_bytes(), &k.seq.to_be_bytes()])
}

pub(super) fn user(project: u32, user: &str, session: Option<SessionId>) -> Vec<u8> {
    let len = u16::try_from(user.len()).unwrap_or(u16::MAX);
    let user = &user.as_bytes()[..usize::from(len)];
    match session {
        Some(s) => key(USER, project, &[&len.to_be_bytes(), user, s.as_bytes()]),
        None => key(USER, project, &[&len.to_be_bytes(), user]),
    }
}

pub(super) fn trace(project: u32, trace: TraceId, session: Option<SessionId>) -> Vec<u8> {
    match session {
        Some(s) => key(TRACE, project, &[trace.as_bytes(), s.as_bytes()]),
        None => key(TRACE, project, &[trace.as_bytes()]),
    }
}

pub(super) fn telemetry(project: u32, trace: TraceId, record: Option<u32>) -> Vec<u8> {
    match record {
        Some(n) => key(TELEMETRY, project, &[trace.as_bytes(), &n.to_be_bytes()]),
        None => key(TELEMETRY, project, &[trace.as_bytes()]),
    }
}

pub(super) fn telemetry_age(project: u32, first_received: u64, trace: TraceId) -> Vec<u8> {
    key(TELEMETRY_AGE, project, &[&first_received.to_be_bytes(), trace.as_bytes()])
}

/// The trace id of an `r` key found behind an `i` back-reference, if it is one.
pub(super) fn trace_of_index_key(index_key: &[u8]) -> Option<TraceId> {
    if index_key.len() != 37 || index_key[0] != TRACE {
        return None;
    }
    Some(TraceId(index_key[5..21].try_into().ok()?))
}

/// The trailing 16 bytes of a key, as a session id.
pub(super) fn session_suffix(key: &[u8]) -> Option<SessionId> {
    let tail = key.len().checked_sub(16).map(|start| &key[start..])?;
    Some(SessionId(tail.try_into().ok()?))
}

/// A position in the newest-first session listing: the last session of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// First-seen time of that session.
    pub first_seen: u64,
    /// Its id.
    pub session: SessionId,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{}", self.first_seen, self.session)
    }
}

impl FromStr for Cursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 48 || !s.is_ascii() {
            return Err(());
        }
        let first_seen = u64::from_str_radix(&s[..16], 16).map_err(|_| ())?;
        let session = s[16..].parse().map_err(|_| ())?;
        Ok(Cursor { first_seen, session })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_keys_sort_by_page_then_seq() {
        let k = |page, seq| batch(&BatchKey { project: 1, session: SessionId([9; 16]), page, seq });
        assert!(k(0, 255) < k(0, 256));
        assert!(k(0, u32::MAX) < k(1, 0));
        assert!(key(BATCH, 1, &[]) < key(BATCH, 2, &[]));
    }

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor { first_seen: 1_780_000_000_000, session: SessionId([0xab; 16]) };
        assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
        assert!("zz".parse::<Cursor>().is_err());
    }

    #[test]
    fn a_trace_key_behind_a_back_reference_gives_its_trace_id() {
        let trace = TraceId([0x4b; 16]);
        assert_eq!(trace_of_index_key(&self::trace(7, trace, Some(SessionId([1; 16])))), Some(trace));
        // A user key of the same length: `u`, project 4, user length 2, user 14, session 16.
        let user_key = user(7, "jane@acme.test", Some(SessionId([1; 16])));
        assert_eq!(user_key.len(), 37);
        assert_eq!(trace_of_index_key(&user_key), None);
        assert_eq!(trace_of_index_key(&self::trace(7, trace, None)), None);
    }

    #[test]
    fn user_keys_of_different_users_do_not_share_prefixes() {
        // "ann" must not match the prefix scan for "an".
        assert!(!user(1, "ann", None).starts_with(&user(1, "an", None)));
    }
}
