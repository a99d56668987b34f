/// Errors from parsing Bulwark's domain types.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A digest string is not `algorithm:hex` with a supported algorithm and length.
    #[error("invalid digest {value:?}: {reason}")]
    InvalidDigest { value: String, reason: &'static str },
    /// An image reference cannot be parsed.
    #[error("invalid image reference {value:?}: {reason}")]
    InvalidReference { value: String, reason: String },
    /// An `sbom:` input where an image is needed: an SBOM has no layers to read.
    #[error("{reference}: an SBOM holds no image to read")]
    NotAnImage { reference: String },
    /// A package URL cannot be parsed.
    #[error("invalid purl {value:?}: {reason}")]
    InvalidPurl { value: String, reason: String },
    /// A platform string is not `os/arch[/variant]`.
    #[error("invalid platform {value:?}: expected os/arch[/variant], e.g. linux/arm64/v8")]
    InvalidPlatform { value: String },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
