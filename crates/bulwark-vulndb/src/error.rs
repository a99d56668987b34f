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
    #[error("advisory database {path} is damaged: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// The path names a directory where a database file was expected.
    #[error(
        "advisory database {path} is a directory, not a database file\nhint: name the file inside it, e.g. {}", path.join("bulwark.db").display()
    )]
    IsDirectory { path: PathBuf },
    /// The file is an advisory DB of another schema version.
    #[error("advisory database {path} has schema version {found}, this Bulwark reads {expected}")]
    SchemaVersion { path: PathBuf, found: String, expected: u32 },
    /// A download failed; `attempts` is how many were made when the failure was worth
    /// retrying (0: it was not). The reason is typed so that callers act on it rather than
    /// on its text (a stall: a slow mirror wants a longer stall timeout).
    #[error("download {url}: {failure}{}", gave_up(*attempts))]
    Download { url: String, failure: DownloadFailure, attempts: u32 },
    /// `db update` could download nothing; `first` is the first source's error (`name`),
    /// kept typed (its text is part of this message, so it is not a separate cause).
    #[error("update {}: every download failed; {name}: {first}", path.display())]
    EveryDownloadFailed { path: PathBuf, name: String, first: Box<Error> },
}

fn gave_up(attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => " (gave up after 1 attempt)".to_owned(),
        n => format!(" (gave up after {n} attempts)"),
    }
}

/// Why one download attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadFailure {
    /// No byte arrived for `stall` (the per-read timeout) after `after_bytes` bytes.
    Stalled { after_bytes: u64, stall: std::time::Duration },
    /// The server answered this HTTP status (`text` as in `404 Not Found`).
    Status { status: u16, text: String },
    /// The download is larger than the limit (`size`: what the server announced).
    TooLarge { limit: u64, size: Option<u64> },
    /// The connection broke after `after_bytes` bytes.
    Dropped { after_bytes: u64, message: String },
    /// The server answered a byte range that was not asked for.
    UnexpectedRange,
    /// The connection could not be made or spoke broken HTTP.
    Transport { message: String },
    /// The downloaded bytes could not be written to the temporary file.
    Write { message: String },
}

impl std::fmt::Display for DownloadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownloadFailure::Stalled { after_bytes, stall } => {
                write!(f, "stalled: no data for {} s after {after_bytes} bytes", stall.as_secs_f64())
            }
            DownloadFailure::Status { text, .. } => write!(f, "server answered {text}"),
            DownloadFailure::TooLarge { limit, size: Some(size) } => {
                write!(f, "{size} bytes is over the {limit}-byte download limit")
            }
            DownloadFailure::TooLarge { limit, size: None } => write!(f, "download is over the {limit}-byte limit"),
            DownloadFailure::Dropped { after_bytes, message } => {
                write!(f, "connection dropped after {after_bytes} bytes: {message}")
            }
            DownloadFailure::UnexpectedRange => f.write_str("server answered an unexpected range"),
            DownloadFailure::Transport { message } => f.write_str(message),
            DownloadFailure::Write { message } => write!(f, "write temp file: {message}"),
        }
    }
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
    /// The atomic-write helper's error, with its action and path.
    pub(crate) fn from_fs(e: bulwark_fs::Error) -> Error {
        Error::Io { action: e.action, path: e.path, source: e.source }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    pub(crate) fn db(path: impl Into<PathBuf>) -> impl FnOnce(rusqlite::Error) -> Error {
        let path = path.into();
        move |e| Error::Db { path, message: e.to_string() }
    }
}
