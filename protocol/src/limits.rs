//! Ceilings that every decode is held to.

/// Limits applied by [`decode_batch`](crate::decode_batch). The defaults suit batches from the
/// browser SDK, which ships at most a few hundred KiB at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The framed batch as received, header included. Defaults to 1 MiB.
    pub max_compressed: usize,
    /// The MessagePack payload after decompression. Defaults to 16 MiB.
    pub max_decompressed: usize,
    /// Nesting of arrays and maps. Defaults to 32; the schema itself needs 10 (an element's
    /// attribute pair in a snapshot) and 4 plus the depth of user traits.
    pub max_depth: usize,
    /// One string or binary value, in bytes. Defaults to 4 MiB (canvas images are long).
    pub max_string: usize,
    /// One array or map, in elements. Defaults to 500,000.
    pub max_collection: usize,
    /// Values in the whole payload, counting every array, map, key and scalar. Defaults to
    /// 2,000,000, which bounds the memory a decoded batch can take.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed: 1 << 20,
            max_decompressed: 16 << 20,
            max_depth: 32,
            max_string: 4 << 20,
            max_collection: 500_000,
            max_items: 2_000_000,
        }
    }
}
