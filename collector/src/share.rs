//! Share links: one session, read-only, for a while, without the project's read token. A
//! support engineer puts one in a ticket; whoever opens it sees that session (the viewer, its
//! digest, the backend records of its requests) and nothing else, until it expires or is
//! revoked.
//!
//! A share token carries what it grants and when it ends, signed with the collector's own key
//! (HMAC-SHA256, kept in the store and made at first start), so checking one needs no lookup
//! but the revocation list: `sls_{project}_{session}_{expires}_{id}_{signature}`, all hex or
//! decimal, safe in a URL.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sightline_protocol::SessionId;

use crate::store::{Store, StoreError};

/// The signing key's name among the store's metadata.
const KEY_META: &str = "share-key";
/// Where a revoked link's id is kept.
const REVOKED_META: &str = "share-revoked/";
/// What every share token starts with.
pub const PREFIX: &str = "sls_";

type Signer = Hmac<Sha256>;

/// What a valid share token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// The project's internal id.
    pub project: u32,
    /// The one session it opens.
    pub session: SessionId,
    /// When it stops working, in ms since the epoch.
    pub expires: u64,
    /// Its id, to revoke it by.
    pub id: u64,
}

/// Why a share token opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// Not a share token, or one this collector didn't sign.
    #[error("not a valid share link")]
    Invalid,
    /// Past its expiry.
    #[error("this share link has expired")]
    Expired,
    /// Revoked.
    #[error("this share link was revoked")]
    Revoked,
}

/// The collector's signing key for share links.
#[derive(Clone)]
pub struct ShareKey([u8; 32]);

impl fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareKey(…)")
    }
}

impl ShareKey {
    /// The store's key, made now if it has none.
    pub fn load(store: &dyn Store) -> Result<ShareKey, StoreError> {
        if let Some(bytes) = store.meta(KEY_META)? {
            if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(ShareKey(key));
            }
        }
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the operating system's random source is unavailable");
        store.set_meta(KEY_META, &key)?;
        Ok(ShareKey(key))
    }

    fn signer(&self) -> Signer {
        Signer::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }

    /// The key's MAC of `body` in `domain` (a prefix no share token's body starts with: they
    /// start with a digit), for the collector's other signed tokens.
    pub fn mac(&self, domain: &[u8], body: &[u8]) -> [u8; 32] {
        let mut signer = self.signer();
        signer.update(domain);
        signer.update(body);
        signer.finalize().into_bytes().into()
    }

    /// Whether `signature` is the key's MAC of `body` in `domain`, compared in constant time.
    pub fn verify(&self, domain: &[u8], body: &[u8], signature: &[u8]) -> bool {
        let mut signer = self.signer();
        signer.update(domain);
        signer.update(body);
        signer.verify_slice(signature).is_ok()
    }

    /// A token granting `share`.
    pub fn issue(&self, share: &Share) -> String {
        let body = format!("{}_{}_{}_{:016x}", share.project, share.session, share.expires, share.id);
        let mut signer = self.signer();
        signer.update(body.as_bytes());
        let signature: String = signer.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{body}_{signature}")
    }

    /// The same link id for a session all through one day (`day`, days since the epoch): a link
    /// handed out again and again (to a helpdesk sidebar, on each look at a ticket) is one
    /// link, revoked as one.
    pub fn daily_id(&self, project: u32, session: SessionId, day: u64) -> u64 {
        let mut signer = self.signer();
        signer.update(format!("daily_{project}_{session}_{day}").as_bytes());
        let digest = signer.finalize().into_bytes();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }

    /// What `token` grants at `now`, if this collector signed it, it has not expired and it was
    /// not revoked.
    pub fn check(&self, store: &dyn Store, token: &str, now: u64) -> Result<Share, ShareError> {
        let rest = token.strip_prefix(PREFIX).ok_or(ShareError::Invalid)?;
        let (body, signature) = rest.rsplit_once('_').ok_or(ShareError::Invalid)?;
        let signature = hex(signature).ok_or(ShareError::Invalid)?;
        let mut signer = self.signer();
        signer.update(body.as_bytes());
        signer.verify_slice(&signature).map_err(|_| ShareError::Invalid)?;
        let mut parts = body.split('_');
        let mut next = || parts.next().ok_or(ShareError::Invalid);
        let project = next()?.parse().map_err(|_| ShareError::Invalid)?;
        let session = next()?.parse().map_err(|_| ShareError::Invalid)?;
        let expires = next()?.parse().map_err(|_| ShareError::Invalid)?;
        let id = u64::from_str_radix(next()?, 16).map_err(|_| ShareError::Invalid)?;
        if now >= expires {
            return Err(ShareError::Expired);
        }
        if is_revoked(store, project, id).map_err(|_| ShareError::Invalid)? {
            return Err(ShareError::Revoked);
        }
        Ok(Share { project, session, expires, id })
    }
}

/// A fresh random id: a share link's, and (as hex) a note's or a webhook delivery's.
pub fn new_id() -> u64 {
    let mut bytes = [0; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    u64::from_le_bytes(bytes)
}

/// Revokes the link `id` of `project` for good.
pub fn revoke(store: &dyn Store, project: u32, id: u64) -> Result<(), StoreError> {
    store.set_meta(&format!("{REVOKED_META}{project}/{id:016x}"), b"revoked")
}

fn is_revoked(store: &dyn Store, project: u32, id: u64) -> Result<bool, StoreError> {
    Ok(store.meta(&format!("{REVOKED_META}{project}/{id:016x}"))?.is_some())
}

/// Hex digits as bytes.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[test]
    fn a_token_opens_its_session_until_it_expires_or_is_revoked_and_cant_be_forged() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let key = ShareKey::load(&store).unwrap();
        assert_eq!(ShareKey::load(&store).unwrap().0, key.0, "the key is kept");
        let share = Share { project: 3, session: SessionId([7; 16]), expires: 2_000, id: new_id() };
        let token = key.issue(&share);
        assert!(token.starts_with("sls_3_0707"), "{token}");
        assert_eq!(key.check(&store, &token, 1_999), Ok(share));
        assert_eq!(key.check(&store, &token, 2_000), Err(ShareError::Expired));

        // Another session, a later expiry, another collector's key: none verifies.
        let other = key.issue(&Share { session: SessionId([8; 16]), ..share });
        let (_, signature) = other.rsplit_once('_').unwrap();
        let (body, _) = token.rsplit_once('_').unwrap();
        assert_eq!(key.check(&store, &format!("{body}_{signature}"), 0), Err(ShareError::Invalid));
        let later = token.replacen("_2000_", "_9000_", 1);
        assert_eq!(key.check(&store, &later, 0), Err(ShareError::Invalid));
        let elsewhere = ShareKey([1; 32]).issue(&share);
        assert_eq!(key.check(&store, &elsewhere, 0), Err(ShareError::Invalid));
        for junk in ["", "sls_", "sls__", "slr_abc", "sls_1_2_3_4_zz", &token[..token.len() - 1]] {
            assert_eq!(key.check(&store, junk, 0), Err(ShareError::Invalid), "{junk:?}");
        }

        revoke(&store, 4, share.id).unwrap();
        assert_eq!(key.check(&store, &token, 0), Ok(share), "another project's revocation is not this one's");
        revoke(&store, 3, share.id).unwrap();
        assert_eq!(key.check(&store, &token, 0), Err(ShareError::Revoked));
    }
}
