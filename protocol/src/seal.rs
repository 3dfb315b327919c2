//! The session writer's seal: how a batch proves it comes from the browser tab that started its
//! session. The SDK draws 16 random bytes, the *writer secret*, when it starts a session, keeps
//! them with the session (in the tab's `sessionStorage`, and inside every batch it keeps for
//! later), and sends every batch sealed with them:
//!
//! ```text
//! offset  size  field
//! 0       3     magic "SLW"
//! 3       1     seal version (5, the protocol version that added it)
//! 4       16    the session's writer secret
//! 20      …     the framed batch (see [`crate::frame`])
//! ```
//!
//! The collector binds a session to the secret its first batch was sealed with, and refuses a
//! later batch of that session sealed with another secret, or not sealed: knowing a session's
//! id (it is in support links) is not enough to write into it. The secret is not stored with
//! the batch, so nobody who reads the session learns it.

use crate::DecodeError;

/// The first three bytes of a sealed batch.
pub const SEAL_MAGIC: [u8; 3] = *b"SLW";

/// The seal's version: the protocol version that added it.
pub const SEAL_VERSION: u8 = 5;

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
        assert_eq!(&sealed[..4], b"SLW\x05");
        assert_eq!(unseal(&sealed).unwrap(), (Some(secret), &b"SLB\x04rest"[..]));
        assert_eq!(unseal(b"SLB\x04rest").unwrap(), (None, &b"SLB\x04rest"[..]));
        assert_eq!(unseal(b"SLWxx"), Err(DecodeError::TooShort(5)));
        let mut other = sealed.clone();
        other[3] = 6;
        assert_eq!(unseal(&other), Err(DecodeError::UnsupportedVersion(6)));
        assert_eq!(format!("{secret:?}"), "WriterSecret(…)");
    }
}
