//! The store's errors.

use std::path::PathBuf;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot connect to the store at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(
        "the store's schema is at version {found}, newer than this Bulwark knows ({known}): upgrade Bulwark, or point it at another store"
    )]
    SchemaNewer { found: u32, known: u32 },
    #[error(
        "migration {version} ({name}) was changed after it was applied to this store (checksum {applied}, this build has {embedded})"
    )]
    MigrationChanged { version: u32, name: String, applied: String, embedded: String },
    #[error("the store's schema is not up to date: migration {version} ({name}) is pending")]
    MigrationPending { version: u32, name: String },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: u32, name: String, source: sqlx::Error },
    #[error("store: {0}")]
    Sql(#[from] sqlx::Error),
    /// A report that cannot be stored (not Bulwark JSON, no image digest).
    #[error("report: {0}")]
    Report(String),
    /// A stored value that does not decode (a damaged store, or one written by a newer build).
    #[error("stored {what}: {message}")]
    Corrupt { what: String, message: String },
    /// A query parameter that is not valid (names the parameter).
    #[error("{parameter}: {message}")]
    InvalidQuery { parameter: &'static str, message: String },
    /// A key-encryption key that cannot be used (bad file mode, bad format).
    #[error("key-encryption key: {0}")]
    Kek(String),
    /// A stored secret that cannot be opened (another KEK sealed it, or it was altered).
    #[error("secret {purpose} {name:?}: {reason}")]
    Secret { purpose: String, name: String, reason: String },
    #[error("job {0} not found")]
    JobNotFound(i64),
    /// The worker no longer holds the job's lease (it expired and another worker took the
    /// job, or the job was cancelled): its result is not recorded.
    #[error("job {job}: the lease is no longer held ({state})")]
    LeaseLost { job: i64, state: String },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
