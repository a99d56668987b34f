use std::path::PathBuf;

/// Errors of this crate. Dependencies' error types (rusqlite, zip) are turned into text here
/// so that their versions do not leak into the public API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed; aborts a build.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One record could not be read as OSV; a build skips it with a warning.
    #[error("invalid OSV record: {message}")]
    InvalidRecord { message: String },
    /// An archive is not a readable zip (truncated or corrupt download); aborts a build.
    #[error("corrupt archive {location}: {message}")]
    Archive { location: String, message: String },
    /// An enrichment feed (KEV, EPSS, NVD) could not be read as a whole; aborts a build.
    #[error("invalid {feed} feed {location}: {message}")]
    Feed { feed: &'static str, location: String, message: String },
    /// Two sources of one build were given the same name.
    #[error("source name {name} is used twice in one build")]
    DuplicateSource { name: String },
    /// The SQLite database failed.
    #[error("advisory database {path}: {message}")]
    Db { path: PathBuf, message: String },
    /// The file is not an intact advisory database: not SQLite, truncated, failing SQLite's
    /// integrity check, tables other than this version's, or content that does not match
    /// the digest its metadata states.
    #[error(
        "advisory database {path} is damaged: {message}\nhint: rebuild it (`bulwark db build`, `bulwark db update`) or import a good copy (`bulwark db import FILE`)"
    )]
    Corrupt { path: PathBuf, message: String },
    /// The path names a directory where a database file was expected.
    #[error(
        "advisory database {path} is a directory, not a database file\nhint: name the file inside it, e.g. {}", path.join("bulwark.db").display()
    )]
    IsDirectory { path: PathBuf },
    /// The file is an advisory DB of another schema version.
    #[error(
        "advisory database {path} has schema version {found}, this Bulwark reads {expected}\nhint: rebuild it with `bulwark db build` or `bulwark db update`"
    )]
    SchemaVersion { path: PathBuf, found: String, expected: u32 },
}

/// Parse errors of the advisory model keep their wording (`invalid OSV record: …`).
impl From<bulwark_advisory::Error> for Error {
    fn from(e: bulwark_advisory::Error) -> Error {
        match e {
            bulwark_advisory::Error::InvalidRecord { message } => Error::InvalidRecord { message },
            other => Error::InvalidRecord { message: other.to_string() },
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    pub(crate) fn db(path: impl Into<PathBuf>) -> impl FnOnce(rusqlite::Error) -> Error {
        let path = path.into();
        move |e| Error::Db { path, message: e.to_string() }
    }
}
