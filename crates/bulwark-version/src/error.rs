/// Errors from parsing a version string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The string is not a valid version in the named scheme.
    #[error("invalid {scheme} version {version:?}: {reason}")]
    Invalid {
        /// The scheme's name, e.g. `dpkg` or `PEP 440`.
        scheme: &'static str,
        /// The input, as given.
        version: String,
        /// What is wrong with it, lower-case, no trailing period.
        reason: &'static str,
    },
}

impl Error {
    pub(crate) fn invalid(scheme: &'static str, version: &str, reason: &'static str) -> Self {
        Error::Invalid { scheme, version: version.to_owned(), reason }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
