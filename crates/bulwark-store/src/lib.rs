//! The store: every image Bulwark has seen, with its references, layers, packages, findings,
//! verdicts and full scan reports, plus the durable job queue that workers take scans from.
//!
//! One API over two backends, chosen by the URL given to [`Store::open`]:
//! - embedded SQLite (`sqlite:///var/lib/bulwark/bulwark.db`, or [`Store::open_data_dir`]),
//!   in WAL mode with a busy timeout, so `bulwark server` alone is a working install;
//! - PostgreSQL (`postgres://user@host/db`), for many servers and workers.
//!
//! Opening applies the embedded migrations ([`migrate`]) and refuses a store whose schema is
//! newer than this build knows.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bulwark_store::Error> {
//! use bulwark_store::{Store, jobs::{NewJob, Priority}};
//! let store = Store::open("sqlite:///tmp/bulwark.db").await?;
//! let job = store.enqueue(&NewJob::scan("registry:localhost:5000/app:1", serde_json::json!({}), Priority::CI)).await?;
//! println!("job {} (attached to an existing one: {})", job.id, job.attached);
//! # Ok(()) }
//! ```
//!
//! Public API, by module:
//! - [`Store`]: `open`, `open_with`, `open_data_dir`, `backend`, `schema`, `close`, and the
//!   raw pool (`pool`, `now_sql`, `begin_write`) for modules of this crate.
//! - [`images`]: `record_scan` (a report → image, refs, layers, inventory, findings, verdict
//!   and the compressed report), `image`, `list_images`, `scan_report`, `scan_history`.
//! - [`inventory`]: `images_with_vulnerability`, `find_packages` — the inventory questions,
//!   answered from the store without rescanning, cursor-paginated ([`cursor`]: the
//!   cursors' one strict form).
//! - [`jobs`]: `enqueue` (priority, dedup), `claim` (lease), `heartbeat`, `complete`
//!   (exactly one result per job), `fail` (retry with backoff, or permanent), `release`,
//!   `cancel`, `job`, `list_jobs`, `queue_depth`.
//! - [`worker`]: [`worker::run`], the claim → scan → record loop over a caller's
//!   [`worker::ScanRunner`], with heartbeats and graceful shutdown.
//! - [`secrets`]: `put_secret`, `secrets`, `secret_info`, `open_secret`, `delete_secret`,
//!   `rotate_secrets` — registry credentials and signing keys sealed with AES-256-GCM under
//!   a key-encryption key ([`secrets::Kek`]) the store never holds.
//! - [`promotions`]: `add_promotion`, `promotion`, `promotions`, `record_promotion_outcome`,
//!   `promotion_outcome` — promotions requested through the server, run as `promote` jobs.
//! - `testing` (feature `testing`): a throwaway PostgreSQL server for test suites.
//!
//! Adding tables: put `NNNN_name.sql` in `migrations/` (versions 0001–0099 belong to this
//! crate's core tables, 0100 and up to the server's auth, policy and audit tables, 0200 and up to its secrets). The file
//! is embedded by `build.rs`; `${ID}` and `${BLOB}` are replaced per backend (see
//! [`migrate`]). Never edit an applied migration: its checksum is recorded and checked.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor as _};

mod error;
// The server's tables (migration 0100): users and tokens, the audit log, stored policies and
// exceptions, and the API's scan requests.
pub mod audit;
pub mod auth;
pub mod cursor;
pub mod images;
pub mod inventory;
pub mod jobs;
pub mod migrate;
pub mod policies;
pub mod promotions;
pub mod requests;
pub mod secrets;
#[cfg(feature = "testing")]
pub mod testing;
pub mod worker;

pub use error::{Error, Result};
pub use images::{ImageDetail, ImageFilter, ImageSummary, RecordedScan, ScanOrigin, Verdict};
pub use inventory::{PackageHit, PackageQuery, VulnerableImage};
pub use jobs::{ClaimedJob, Job, JobFailure, JobState, NewJob, Priority};

/// The file name of the SQLite store inside a data directory.
pub const SQLITE_FILE: &str = "bulwark.db";

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection settings; the defaults suit a server with a few workers.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Pool size (SQLite writes are serialised whatever the size; readers run in parallel).
    pub max_connections: u32,
    /// How long a SQLite statement waits for another writer before failing.
    pub busy_timeout: Duration,
    /// How long to wait for a free connection from the pool.
    pub acquire_timeout: Duration,
    /// Apply pending migrations (false: only check that none is pending or unknown).
    pub migrate: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            migrate: true,
        }
    }
}

/// A handle on the store: cheap to clone (a connection pool inside), safe to share between
/// tasks and threads.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    signals: Arc<Signals>,
}

/// Wake-ups between the tasks of one process sharing a [`Store`] (its clones): a server's
/// in-process workers claim a job as soon as the API queues it, and a long-polling request
/// answers as soon as its job ends, instead of at their next poll. Processes elsewhere
/// still poll; these only shorten the wait.
#[derive(Debug, Default)]
struct Signals {
    /// A job was queued (or attached to) through this store.
    queued: tokio::sync::Notify,
    /// A job finished or failed an attempt through this store.
    finished: tokio::sync::Notify,
}

impl Store {
    /// Opens `url` (`sqlite://PATH`, `sqlite:PATH`, `postgres://…`, `postgresql://…`) with
    /// default options and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, &OpenOptions::default()).await
    }

    /// The SQLite store in `dir` (created if missing), `dir/bulwark.db`.
    pub async fn open_data_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|source| Error::DataDir { path: dir.to_owned(), source })?;
        let file = dir.join(SQLITE_FILE);
        Store::open(&format!("sqlite://{}", file.display())).await
    }

    /// Opens `url` with `options`.
    pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Store> {
        let (backend, url) = normalise_url(url)?;
        install_default_drivers();
        let busy_ms = options.busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never wait for the writer; NORMAL sync is durable
                        // across process crashes (a power loss may drop the last commits).
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
                        );
                        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| Error::Connect { url: redact_url(&url), source })?;
        let store = Store { pool, backend, signals: Arc::default() };
        if options.migrate {
            migrate::apply(&store).await?;
        } else {
            migrate::check(&store).await?;
        }
        Ok(store)
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for this crate's modules (and the server's, which live here).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The schema versions applied and known (for readiness checks).
    pub async fn schema(&self) -> Result<migrate::SchemaStatus> {
        migrate::status(self).await
    }

    /// Waits until a job run through this store (or a clone of it, in this process)
    /// finishes or fails an attempt, or `at_most` passes: for long polls, which look at
    /// the job again either way.
    pub async fn job_finished_or(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.signals.finished.notified()).await;
    }

    /// Closes every connection (waits for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A SQL expression for "now" in milliseconds since the epoch, on the store's clock, so
    /// that leases do not depend on the clocks of the machines workers run on.
    pub fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST(unixepoch('subsec') * 1000 AS BIGINT)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// `sql` with `{now}` replaced by [`Store::now_sql`].
    pub(crate) fn sql(&self, sql: &str) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(sql.replace("{now}", self.now_sql()))
    }

    /// Begins a transaction that writes: on SQLite an IMMEDIATE one (the write lock is taken
    /// at BEGIN, so two writers never both read and then collide; the second waits up to the
    /// busy timeout), on PostgreSQL a plain one (row locks do the rest).
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        tx.map_err(Error::from)
    }
}

/// The backend of `url` and the URL sqlx is given (SQLite files are created when missing).
fn normalise_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() || path.starts_with(":memory:") || path.contains('?') {
            return Err(Error::BadUrl {
                url: redact_url(url),
                reason: "give a file path (an in-memory database would be lost, and options are set by Bulwark)"
                    .to_owned(),
            });
        }
        return Ok((Backend::Sqlite, format!("sqlite://{path}?mode=rwc")));
    }
    Err(Error::BadUrl {
        url: redact_url(url),
        reason: "expected sqlite://PATH or postgres://USER@HOST[:PORT]/DATABASE".to_owned(),
    })
}

/// `url` without its password, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') { format!("{user}:****") } else { user.to_owned() };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Milliseconds since the Unix epoch on this machine's clock (for values the store only
/// records, never compares with leases).
pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_and_hide_passwords() {
        assert_eq!(normalise_url("sqlite:///a/b.db").unwrap(), (Backend::Sqlite, "sqlite:///a/b.db?mode=rwc".into()));
        assert_eq!(normalise_url("sqlite:rel.db").unwrap(), (Backend::Sqlite, "sqlite://rel.db?mode=rwc".into()));
        assert_eq!(normalise_url("postgres://u@h/d").unwrap().0, Backend::Postgres);
        assert!(matches!(normalise_url("sqlite::memory:"), Err(Error::BadUrl { .. })));
        assert!(matches!(normalise_url("mysql://x"), Err(Error::BadUrl { .. })));
        assert_eq!(redact_url("postgres://bob:secret@db:5432/b"), "postgres://bob:****@db:5432/b");
        assert_eq!(redact_url("postgres://bob@db/b"), "postgres://bob@db/b");
        let err = normalise_url("mysql://bob:secret@h/d").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
