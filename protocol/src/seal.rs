//! The session writer's seal: how a batch proves it comes from the browser tab that started its
//! session. The SDK draws 16 random bytes, the *writer secret*, when it starts a session, keeps
//! them with the session (in the tab's `sessionStorage`, and inside every batch it keeps for
//! later), and sends every batch sealed with them:
//!
//! ```text
//! offset  size  field
//! 0       3     magic "SLW"
//! 3       1     seal version (6)
//! 4       16    the session's writer secret
//! 20      …     the framed batch (see [`crate::frame`])
//! ```
//!
//! A sealed session's id is not drawn on its own: it is derived from the secret
//! ([`WriterSecret::session_id`]), one way. So the collector can tell, from any batch alone,
//! whether it was sealed by the writer of its session, the first batch included: nobody who
//! merely knows a session's id (it is in support links) can write into it, nor claim it before
//! its writer's first batch arrives. The collector also binds a session to the secret its first
//! batch was sealed with and refuses a later batch that is not sealed with it. The secret is not
//! stored with the batch, so nobody who reads the session learns it.

use crate::trace_key::chacha20_block;
use crate::{DecodeError, SessionId};

/// The first three bytes of a sealed batch.
pub const SEAL_MAGIC: [u8; 3] = *b"SLW";

/// The seal's version: 6, the first whose session ids are derived from the secret (5 sealed
/// sessions of random ids, and is refused).
pub const SEAL_VERSION: u8 = 6;

/// The last two bytes of every id derived from a secret. An unsealed batch of such a session
/// can't be its writer's: a receiver that takes unsealed batches from older SDKs still refuses
/// it, so nobody claims a sealed session, unsealed, before its writer's first batch. One random
/// id in 65,536 an older SDK draws ends the same way, and is refused too.
pub const SEALED_ID_MARK: [u8; 2] = [0x5e, 0xa1];

/// Size of the seal before the framed batch.
pub const SEAL_LEN: usize = 20;

/// A session's writer secret: 16 random bytes only the SDK that started the session holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WriterSecret(pub [u8; 16]);

impl std::fmt::Debug for WriterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret in a log line is a secret no more.
        f.write_str("WriterSecret(…)")
    }
}

/// What a session id is derived under, as the second half of ChaCha20's key: ids derived from a
/// secret are kept apart from anything else that might ever be.
const SESSION_ID_DOMAIN: [u8; 16] = *b"sightline/sessid";

impl WriterSecret {
    /// The id of the session this secret writes: the first 14 bytes of ChaCha20's block 0
    /// (RFC 8439) under the key `secret ‖ "sightline/sessid"`, with a zero nonce, then
    /// [`SEALED_ID_MARK`]. A keyed pseudo-random function of the secret: the id tells nothing
    /// of it, and nobody finds a secret for a given id.
    pub fn session_id(&self) -> SessionId {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(&self.0);
        key[16..].copy_from_slice(&SESSION_ID_DOMAIN);
        let block = chacha20_block(&key, 0, [0; 3]);
        let mut id = [0u8; 16];
        for (out, word) in id.chunks_exact_mut(4).zip(block) {
            out.copy_from_slice(&word.to_le_bytes());
        }
        id[14..].copy_from_slice(&SEALED_ID_MARK);
        SessionId(id)
    }
}

/// Whether `id` has the form of an id derived from a writer secret.
pub fn is_sealed_id(id: &SessionId) -> bool {
    id.0[14..] == SEALED_ID_MARK
}

/// The framed batch `framed`, sealed with `secret`.
pub fn seal(secret: &WriterSecret, framed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SEAL_LEN + framed.len());
    out.extend_from_slice(&SEAL_MAGIC);
    out.push(SEAL_VERSION);
    out.extend_from_slice(&secret.0);
    out.extend_from_slice(framed);
    out
}

/// The secret a batch was sealed with, if it was, and the framed batch inside: bytes that don't
/// start with the seal's magic are a batch as SDKs before version 5 send it, unsealed.
pub fn unseal(bytes: &[u8]) -> Result<(Option<WriterSecret>, &[u8]), DecodeError> {
    if !bytes.starts_with(&SEAL_MAGIC) {
        return Ok((None, bytes));
    }
    if bytes.len() < SEAL_LEN {
        return Err(DecodeError::TooShort(bytes.len()));
    }
    if bytes[3] != SEAL_VERSION {
        return Err(DecodeError::UnsupportedVersion(bytes[3]));
    }
    let mut secret = [0u8; 16];
    secret.copy_from_slice(&bytes[4..SEAL_LEN]);
    Ok((Some(WriterSecret(secret)), &bytes[SEAL_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_batch_opens_to_its_secret_and_the_batch_and_an_unsealed_one_is_as_it_was() {
        let secret = WriterSecret([7; 16]);
        let sealed = seal(&secret, b"SLB\x04rest");
        assert_eq!(&sealed[..4], b"SLW\x06");
        assert_eq!(unseal(&sealed).unwrap(), (Some(secret), &b"SLB\x04rest"[..]));
        assert_eq!(unseal(b"SLB\x04rest").unwrap(), (None, &b"SLB\x04rest"[..]));
        assert_eq!(unseal(b"SLWxx"), Err(DecodeError::TooShort(5)));
        let mut other = sealed.clone();
        other[3] = 5;
        assert_eq!(unseal(&other), Err(DecodeError::UnsupportedVersion(5)), "random ids, sealed");
        assert_eq!(format!("{secret:?}"), "WriterSecret(…)");
    }

    #[test]
    fn a_session_id_is_derived_from_its_secret_one_way_and_apart() {
        let a = WriterSecret([7; 16]);
        let b = WriterSecret([8; 16]);
        assert_eq!(a.session_id(), a.session_id());
        assert_ne!(a.session_id(), b.session_id());
        // Golden: ChaCha20 block 0 under [7; 16] ‖ "sightline/sessid", then the mark, as the
        // collector and every SDK compute it.
        assert_eq!(a.session_id().to_string(), "1f57ad74d6f5700a0a63e78415ff5ea1");
        assert!(is_sealed_id(&a.session_id()) && is_sealed_id(&b.session_id()));
        assert!(!is_sealed_id(&SessionId([7; 16])));
    }
}
