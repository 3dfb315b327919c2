//! Errors at the protocol boundary. Every way a batch can be refused is a variant here, with a
//! stable machine-readable [`code`](DecodeError::code) that the collector puts in its replies.

use std::fmt;

/// Which limit a batch broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Nesting of arrays and maps.
    Depth,
    /// Length of one string or binary value.
    StringLength,
    /// Number of elements of one array or map.
    CollectionLength,
    /// Number of values in the whole batch.
    TotalItems,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Depth => "nesting depth",
            LimitKind::StringLength => "string length",
            LimitKind::CollectionLength => "collection length",
            LimitKind::TotalItems => "total item count",
        })
    }
}

/// Why bytes could not be decoded as a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the fixed header.
    #[error("batch is {0} bytes, shorter than the 8-byte header")]
    TooShort(usize),
    /// The bytes don't start with the batch magic.
    #[error("not a Sightline batch (bad magic bytes)")]
    BadMagic,
    /// A protocol version this build does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// The compressed batch is larger than allowed.
    #[error("compressed batch is {size} bytes, over the limit of {limit}")]
    CompressedTooLarge {
        /// Actual size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The header claims a decompressed size larger than allowed.
    #[error("batch declares {size} decompressed bytes, over the limit of {limit}")]
    DecompressedTooLarge {
        /// Declared size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The LZ4 block is corrupt or does not fill the declared size exactly.
    #[error("corrupt LZ4 block: {0}")]
    Decompress(String),
    /// The MessagePack is malformed (truncated, reserved marker, trailing bytes…).
    #[error("malformed MessagePack: {0}")]
    Malformed(String),
    /// A size limit was exceeded inside the MessagePack.
    #[error("{kind} over the limit of {limit}")]
    Limit {
        /// Which limit.
        kind: LimitKind,
        /// Its value.
        limit: usize,
    },
    /// Well-formed MessagePack that does not match the batch schema.
    #[error("batch does not match the schema: {0}")]
    Schema(String),
}

impl DecodeError {
    /// A stable, machine-readable name for the error.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::TooShort(_) => "truncated",
            DecodeError::BadMagic => "bad_magic",
            DecodeError::UnsupportedVersion(_) => "unsupported_version",
            DecodeError::CompressedTooLarge { .. } => "too_large",
            DecodeError::DecompressedTooLarge { .. } => "decompressed_too_large",
            DecodeError::Decompress(_) => "corrupt_compression",
            DecodeError::Malformed(_) => "malformed",
            DecodeError::Limit { .. } => "limit_exceeded",
            DecodeError::Schema(_) => "schema",
        }
    }

    /// Whether the error is about size rather than content (HTTP 413 rather than 400).
    pub fn is_size(&self) -> bool {
        matches!(self, DecodeError::CompressedTooLarge { .. } | DecodeError::DecompressedTooLarge { .. })
    }
}

/// Why a batch could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoded payload does not fit the 32-bit length field.
    #[error("payload of {0} bytes is too large to frame")]
    TooLarge(usize),
}
