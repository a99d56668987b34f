//! The one error type of this crate.

use bulwark_core::Digest;

/// Everything that can go wrong while attaching, fetching or promoting.
///
/// Registry and signing failures keep their own typed errors as the source; the variants
/// here are the decisions this crate makes (a tag that may not move, an attachment that
/// cannot be extended safely, a promotion whose result did not verify).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry failed or refused.
    #[error(transparent)]
    Registry(#[from] bulwark_registry::Error),
    /// Signing, or a signature/attestation object, failed.
    #[error(transparent)]
    Sign(#[from] bulwark_sign::Error),
    /// An existing attachment manifest that cannot be extended without losing what it
    /// holds (malformed, or over a limit): we refuse rather than replace it.
    #[error("existing {what} {reference} cannot be extended: {reason}")]
    ExistingAttachment {
        /// "signature manifest" or "attestation manifest".
        what: &'static str,
        /// Where it is (`registry/repo:tag`).
        reference: String,
        /// Why.
        reason: String,
    },
    /// The destination tag points at another image and retagging was not allowed.
    #[error("{reference} already points at {current}, not {wanted}; the tag is never moved without allow-retag")]
    TagExists {
        /// `registry/repo:tag`.
        reference: String,
        /// What it points at now.
        current: Digest,
        /// What the promotion would set.
        wanted: Digest,
    },
    /// A manifest of the image being promoted is not one we can copy.
    #[error("{what}: {reason}")]
    Unsupported {
        /// The manifest.
        what: String,
        /// Why.
        reason: String,
    },
    /// After signing, the destination's signature did not verify: the tag is not set.
    #[error("the signature pushed to {reference} does not verify ({reason}); the tag was not set")]
    NotSigned {
        /// `registry/repo@digest`.
        reference: String,
        /// The verification failure.
        reason: String,
    },
    /// A copy worker thread panicked (a bug); reported, never ignored.
    #[error("internal error: {0}")]
    Internal(String),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
