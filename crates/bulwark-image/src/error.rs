use bulwark_core::Digest;

/// Errors from reading images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Core(#[from] bulwark_core::Error),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    /// A limit of [`Limits`](crate::Limits) was exceeded; `kind` says which, for the
    /// caller to name what raises it (the CLI's flag).
    #[error("{what} is {size}{unit}, over the limit of {limit}{unit}", unit = kind.unit())]
    TooLarge { what: String, size: u64, limit: u64, kind: LimitKind },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: Digest, actual: Digest },
    #[error("size mismatch for {what}: descriptor says {expected} bytes, got {actual}")]
    SizeMismatch { what: String, expected: u64, actual: u64 },
    /// A Docker schema 1 manifest (deprecated since 2017): the image must be re-pushed.
    #[error("{reference}: Docker image manifest schema 1 is unsupported (deprecated since 2017)")]
    Schema1 { reference: String },
    #[error("{reference}: no image for platform {wanted} (available: {available})")]
    NoMatchingPlatform { reference: String, wanted: String, available: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Unsupported(String),
    /// Reading the image needs the network and [`ReadOptions::offline`](crate::ReadOptions)
    /// forbids it; `bare` when the local Docker engine was looked in first.
    #[error("{reference} {}", if *bare {
        "is not in the local Docker engine, and offline mode forbids the registry"
    } else {
        "is a registry reference and offline mode forbids the network"
    })]
    Offline { reference: String, bare: bool },
    /// A registry request failed: the registry client's typed error (status, object,
    /// limit), for callers (the CLI's hints, a job queue's retry decision) to match on.
    #[error(transparent)]
    Registry(bulwark_registry::Error),
    #[error("docker engine: {0}")]
    Docker(String),
    #[error("layer {layer}: {message}")]
    Layer { layer: String, message: String },
    /// The caller asked to stop ([`crate::Progress::cancelled`]); nothing half-read was kept.
    #[error("cancelled")]
    Cancelled,
    /// A layer exceeded a limit while it was read (size, compression ratio, entries).
    #[error("layer {layer}: {message}")]
    LayerLimit { layer: String, kind: LimitKind, message: String },
}

/// Which of the [`Limits`](crate::Limits) an image exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    ManifestBytes,
    ConfigBytes,
    Layers,
    LayerBytes,
    CompressionRatio,
    Entries,
    /// The analysis results kept for all layers of one image together
    /// ([`Limits::max_image_result_bytes`](crate::Limits::max_image_result_bytes)).
    ImageResults,
}

impl LimitKind {
    /// What the limit counts, as a suffix for a number (` bytes`, or nothing for a count).
    pub fn unit(self) -> &'static str {
        match self {
            LimitKind::ManifestBytes | LimitKind::ConfigBytes | LimitKind::LayerBytes | LimitKind::ImageResults => {
                " bytes"
            }
            LimitKind::Layers | LimitKind::Entries | LimitKind::CompressionRatio => "",
        }
    }
}

impl Error {
    /// An IO error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { context: context.into(), source }
    }

    /// A malformed document or value.
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid { what: what.into(), reason: reason.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<bulwark_layer::InvalidConfig> for Error {
    fn from(e: bulwark_layer::InvalidConfig) -> Error {
        Error::Invalid { what: e.what, reason: e.reason }
    }
}
