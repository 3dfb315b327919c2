//! Signatures as the Standard Webhooks specification has them, so that receivers verify with
//! its libraries or a few lines of their own: `webhook-id`, `webhook-timestamp` (seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the
//! secret's bytes (`whsec_` and base64). A receiver refuses timestamps far from its clock and
//! ids it has seen, which is what keeps a captured delivery from being replayed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a secret made by the collector starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh secret: 24 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the system's random source");
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// Whether a configured secret is strong enough: `whsec_` and valid base64 of 16 bytes or
/// more, or other text of 16 characters or more.
pub fn is_strong(secret: &str) -> bool {
    match secret.strip_prefix(SECRET_PREFIX) {
        Some(b64) => STANDARD.decode(b64).is_ok_and(|key| key.len() >= 16),
        None => secret.chars().count() >= 16,
    }
}

/// The key a secret stands for: the bytes after `whsec_`, else the text itself.
fn key_of(secret: &str) -> Vec<u8> {
    secret.strip_prefix(SECRET_PREFIX).and_then(|b64| STANDARD.decode(b64).ok()).unwrap_or_else(|| secret.into())
}

/// The `webhook-signature` header's value for a delivery.
pub fn signature(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_of(secret)).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_fresh_and_keyed_by_their_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a != b);
        assert_eq!(key_of(&a).len(), 24);
        assert_eq!(key_of("plain text secret"), b"plain text secret");
        assert!(is_strong(&a) && is_strong("a plain secret of words"));
        assert!(!is_strong("whsec_not!base64") && !is_strong("whsec_c2hvcnQ=") && !is_strong("short"));
    }
}
