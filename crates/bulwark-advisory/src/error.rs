/// Errors of reading advisory data from bytes. Parsers never panic; what they cannot read is
/// one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record or document could not be read at all (not JSON/YAML, no `id`, not a CSAF
    /// document, over the size limit). The message says which and why.
    #[error("invalid OSV record: {message}")]
    InvalidRecord { message: String },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
