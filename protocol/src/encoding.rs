//! Compact encodings the derive macros can't express: one-byte enums, and tagged unions written
//! as a tag byte followed by the variant's body (`[tag, body]`) instead of rmp-serde's default
//! `{ "VariantName": body }` map.

/// A field-less enum stored as one `u8`. Decoding an unknown byte yields `Unknown(byte)`, so a
/// newer SDK's values pass through an older collector.
macro_rules! byte_enum {
    ($(#[$doc:meta])* pub enum $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version does not know.
            Unknown(u8),
        }

        impl $name {
            /// The wire value.
            pub fn to_u8(self) -> u8 {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(v) => v,
                }
            }

            /// The variant for a wire value.
            pub fn from_u8(v: u8) -> Self {
                match v {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// Every known variant, for tests and documentation.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),*];
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(self.to_u8())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                u8::deserialize(d).map(Self::from_u8)
            }
        }
    };
}

/// An enum of newtype variants whose wire form is a tag byte and the variant's body.
///
/// The macro writes `tag()`, `serialize_body()` and `deserialize_body()`; the containing type
/// decides how the tag and body sit in its tuple (an event is `[dt, tag, body]`, a node kind is
/// `[tag, body]`).
macro_rules! tagged_union {
    ($(#[$doc:meta])* pub enum $name:ident { $($(#[$vdoc:meta])* $variant:ident($body:ty) = $tag:literal,)* } $(unknown: $unknown:ident)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($(#[$vdoc])* $variant($body),)*
            $(
                /// A kind this version does not know; its body was skipped when decoding and
                /// is written back as `nil`.
                $unknown(u8),
            )?
        }

        impl $name {
            /// The variant's tag on the wire.
            pub fn tag(&self) -> u8 {
                match self {
                    $(Self::$variant(_) => $tag,)*
                    $(Self::$unknown(tag) => *tag,)?
                }
            }

            /// Every known tag, for tests and documentation.
            pub const TAGS: &'static [u8] = &[$($tag),*];

            pub(crate) fn serialize_body<T: serde::ser::SerializeTuple>(
                &self,
                tuple: &mut T,
            ) -> Result<(), T::Error> {
                match self {
                    $(Self::$variant(body) => tuple.serialize_element(body),)*
                    $(Self::$unknown(_) => tuple.serialize_element(&()),)?
                }
            }

            /// Reads the body for `tag`; `Ok(None)` for a tag this version doesn't know, in
            /// which case the body has *not* been consumed.
            pub(crate) fn deserialize_body<'de, A: serde::de::SeqAccess<'de>>(
                tag: u8,
                seq: &mut A,
            ) -> Result<Option<Option<Self>>, A::Error> {
                Ok(match tag {
                    $($tag => Some(seq.next_element::<$body>()?.map(Self::$variant)),)*
                    _ => None,
                })
            }
        }
    };
}

pub(crate) use byte_enum;
pub(crate) use tagged_union;
