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
    #[error("{what} is {size} bytes, over the limit of {limit} bytes (hint: raise it with --{flag})")]
    TooLarge { what: String, size: u64, limit: u64, flag: &'static str },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: Digest, actual: Digest },
    #[error("size mismatch for {what}: descriptor says {expected} bytes, got {actual}")]
    SizeMismatch { what: String, expected: u64, actual: u64 },
    #[error(
        "{reference}: Docker image manifest schema 1 is unsupported (deprecated since 2017; hint: re-push the image with a current client, e.g. `skopeo copy --format v2s2`)"
    )]
    Schema1 { reference: String },
    #[error(
        "{reference}: no image for platform {wanted} (available: {available}; hint: --platform-fallback scans what is available instead)"
    )]
    NoMatchingPlatform { reference: String, wanted: String, available: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Unsupported(String),
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
