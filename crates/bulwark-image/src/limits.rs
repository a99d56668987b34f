/// Resource limits applied while reading untrusted images. Every limit produces a clear
/// error naming what exceeded it and the flag that raises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest or index document accepted (containerd also uses 4 MiB).
    pub max_manifest_bytes: u64,
    /// Largest image config blob accepted.
    pub max_config_bytes: u64,
    /// Largest uncompressed size of one layer.
    pub max_layer_bytes: u64,
    /// Largest ratio of uncompressed to compressed bytes once a layer has produced
    /// `ratio_grace_bytes`; stops decompression bombs early.
    pub max_compression_ratio: u64,
    /// Uncompressed bytes a layer may produce before the ratio check applies.
    pub ratio_grace_bytes: u64,
    /// Most tar entries accepted in one layer.
    pub max_entries: u64,
    /// Largest single file read into memory (package databases, os-release).
    pub max_file_bytes: u64,
    /// Deepest nesting of image indexes followed.
    pub max_index_depth: u32,
    /// Most layers accepted in one image.
    pub max_layers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: 4 << 20,
            max_config_bytes: 8 << 20,
            max_layer_bytes: 32 << 30,
            max_compression_ratio: 200,
            ratio_grace_bytes: 128 << 20,
            max_entries: 500_000,
            max_file_bytes: 64 << 20,
            max_index_depth: 4,
            max_layers: 1000,
        }
    }
}
