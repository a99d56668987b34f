//! Advisory feeds and the local advisory DB.
//!
//! The advisory model (OSV records, severities, CSAF conversion, typed Red Hat and Debian
//! tracker states, the `AdvisorySource` trait) is the pure crate `bulwark-advisory`; its
//! modules are re-exported here ([`osv`], [`severity`], [`csaf`], [`debian_tracker`]) so
//! that feed code reads as before. [`Db`] implements [`AdvisorySource`].
//!
//! - [`enrich`]: CISA KEV, FIRST EPSS and NVD 2.0 CVSS feeds.
//! - [`DbBuilder`] ingests OSV directories, files and `all.zip` archives plus enrichment
//!   feeds into one SQLite file, replaced atomically; [`Db`] opens it read-only and answers
//!   "which advisories name this package" ([`Db::advisories_for`]), KEV and EPSS lookups.
//! - [`csaf`]: Red Hat CSAF VEX documents as records keyed `Red Hat:enterprise_linux:<major>`
//!   ([`DbBuilder::add_csaf`]); [`debian_tracker`]: the Debian security tracker's per-release
//!   states ([`DbBuilder::add_debian_tracker`], [`Db::debian_tracker`]).
//! - [`update`]: downloads osv.dev's per-ecosystem feeds — incrementally through
//!   `modified_id.csv` once a DB holds an ecosystem, else `all.zip` — plus KEV and EPSS
//!   (retrying, resuming by `Range`, failing stalled transfers) and rebuilds the DB from them;
//!   a failed update leaves the old DB as it was.
//!
//! Version matching is not done here (see `bulwark-match` and `bulwark-version`).
//!
//! ```
//! use bulwark_vulndb::{Db, DbBuilder};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let record = dir.path().join("GO-2099-0001.json");
//! std::fs::write(&record, r#"{"id": "GO-2099-0001", "modified": "2099-01-01T00:00:00Z",
//!     "aliases": ["CVE-2099-1"],
//!     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
//!     "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
//!                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}]}"#)
//!     .unwrap();
//!
//! let db_path = dir.path().join("bulwark.db");
//! let mut builder = DbBuilder::new(&db_path).unwrap();
//! builder.add_osv("example", &record).unwrap();
//! let report = builder.finish().unwrap();
//! assert!(report.warnings.is_empty());
//!
//! let db = Db::open(&db_path).unwrap();
//! let found = db.advisories_for("Go", "example.com/m").unwrap();
//! assert_eq!(found[0].id, "GO-2099-0001");
//! assert_eq!(found[0].max_cvss(), Some(9.8));
//! assert_eq!(db.metadata().unwrap().sources[0].records, 1);
//! ```

mod build;
pub mod csaf;
mod db;
pub mod debian_tracker;
pub mod enrich;
mod error;
mod maven;
mod pool;
mod source;
pub mod update;

pub use bulwark_advisory::{AdvisorySource, SourceError, osv, severity};

pub use build::{BuildReport, DbBuilder, Warning};
pub use bulwark_advisory::{Advisory, TrackerState, TrackerStatus, ecosystem_key, normalize_name};
pub use db::{Db, EcosystemInfo, Epss, Kev, Metadata, SCHEMA_VERSION, SourceInfo};
pub use error::{DownloadFailure, Error, Result};
pub use osv::{Format, Record, parse_record};
pub use severity::{Rating, Scheme, Severity};
