//! Fixed-size identifiers, encoded as MessagePack `bin` and shown as lowercase hex.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A hex identifier that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} hex digits")]
pub struct IdParseError {
    expected: usize,
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $len:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The identifier's bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Whether every byte is zero, which W3C trace context treats as invalid.
            pub fn is_zero(&self) -> bool {
                self.0.iter().all(|b| *b == 0)
            }

            /// Appends the identifier as lowercase hex. Unlike `Display`, this needs none of
            /// `core::fmt`, which the browser SDK keeps out of its wasm for size.
            pub fn push_hex(&self, out: &mut String) {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                for byte in self.0 {
                    out.push(char::from(DIGITS[usize::from(byte >> 4)]));
                    out.push(char::from(DIGITS[usize::from(byte & 15)]));
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut hex = String::with_capacity($len * 2);
                self.push_hex(&mut hex);
                f.write_str(&hex)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let err = IdParseError { expected: $len * 2 };
                let digits = s.as_bytes();
                if digits.len() != $len * 2 {
                    return Err(err);
                }
                let mut out = [0u8; $len];
                for (i, pair) in digits.chunks_exact(2).enumerate() {
                    let hi = hex_value(pair[0]).ok_or(err.clone())?;
                    let lo = hex_value(pair[1]).ok_or(err.clone())?;
                    out[i] = hi << 4 | lo;
                }
                Ok(Self(out))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct IdVisitor;
                impl<'de> Visitor<'de> for IdVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, concat!("{} bytes of ", stringify!($name)), $len)
                    }
                    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<$name, E> {
                        <[u8; $len]>::try_from(v)
                            .map($name)
                            .map_err(|_| E::invalid_length(v.len(), &self))
                    }
                }
                deserializer.deserialize_bytes(IdVisitor)
            }
        }
    };
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

hex_id!(
    /// A session's identity: 16 random bytes chosen by the SDK.
    SessionId,
    16
);
hex_id!(
    /// A W3C trace id (the `trace-id` field of `traceparent`).
    TraceId,
    16
);
hex_id!(
    /// A W3C span id (the `parent-id` field of `traceparent`).
    SpanId,
    8
);
hex_id!(
    /// A page's key for the trace ids the SDK derives: 32 random bytes (see
    /// [`TraceKey::derive`](crate::TraceKey::derive)).
    TraceKey,
    32
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
        assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(id.0[0], 0x4b);
        assert!("4bf92f35".parse::<TraceId>().is_err());
        assert!("zz".repeat(8).parse::<SpanId>().is_err());
        assert!(SpanId([0; 8]).is_zero());
    }
}
