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
    /// Most packages read from one package database, lockfile, manifest, archive or SBOM,
    /// and kept in one image's inventory. Unlike the limits above, reaching it does not
    /// stop the scan: the rest is counted in a warning (see `bulwark_core::report::limit_warning`).
    pub max_packages: u64,
    /// Most owned files recorded for one package (dpkg `info/*.list`, apk `R:` lines, rpm
    /// file lists); the rest is counted in a warning.
    pub max_package_files: u64,
    /// Most findings kept per rule and scanner (one secret rule, one malware rule, one
    /// misconfiguration check); the rest is counted in a warning.
    pub max_findings: u64,
    /// Most entries of one image config collection checked: `Env`, `Labels`, `history`,
    /// `ExposedPorts`; the rest is counted in a warning.
    pub max_config_entries: u64,
    /// Most memory (estimated bytes) the kept analyzer results and captured files of all
    /// layers of one image may take together; each layer also has its own budget
    /// (`AnalyzeOptions::max_result_bytes`). Reaching it stops the scan with
    /// [`LimitKind::ImageResults`](crate::LimitKind::ImageResults): leaving out whole
    /// layers would pass an image that was not checked.
    pub max_image_result_bytes: u64,
}

impl Limits {
    /// The default of [`Limits::max_image_result_bytes`]: two layers' worth of the default
    /// per-layer budget, far above what real images keep (a few MB to tens of MB, see
    /// `bench/README.md`), while the kept results of an image of many hostile layers stay
    /// within the 1 GB promise of `ARCHITECTURE.md`.
    pub const DEFAULT_MAX_IMAGE_RESULT_BYTES: u64 = 256 << 20;
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
            // A whole Debian or RHEL install has 100–5,000 packages and big monorepo
            // lockfiles about 20,000; more than this in one file is not a real inventory.
            max_packages: 50_000,
            // texlive and linux-firmware, the largest real packages, own about 40,000 files.
            max_package_files: 100_000,
            max_findings: 5_000,
            // Real images set tens of variables and labels, hundreds of history steps.
            max_config_entries: 10_000,
            max_image_result_bytes: Limits::DEFAULT_MAX_IMAGE_RESULT_BYTES,
        }
    }
}
