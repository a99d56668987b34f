//! The pure advisory model: what an advisory says, and where the matcher gets advisories.
//!
//! No IO: no files, no network, no database. The advisory database (`bulwark-vulndb`)
//! builds on these types and implements [`AdvisorySource`]; the matcher (`bulwark-match`)
//! depends only on this crate, so a server, a worker or an admission check can match
//! against any source (the database, a [`MemorySource`], a remote service).
//!
//! - [`osv`]: lenient OSV records (JSON or YAML), [`parse_record`] for untrusted bytes.
//! - [`severity`]: CVSS v2/v3.x/v4.0 base scores from vectors, GHSA severity, Debian urgency,
//!   Ubuntu priority, Red Hat impact — each with where it came from.
//! - [`csaf`]: Red Hat CSAF VEX documents converted to OSV-shaped records keyed
//!   `Red Hat:enterprise_linux:<major>`, with Red Hat's state per package typed
//!   ([`RedHatState`], read back with [`osv::Affected::redhat_statement`]).
//! - [`debian_tracker`]: the Debian security tracker's per-release states, typed
//!   ([`TrackerStatus`]).
//! - [`Advisory`], [`ecosystem_key`], [`normalize_name`], [`osv_ecosystem_of_purl_type`]:
//!   the advisory as a package lookup returns it, and how ecosystems and names compare.
//! - [`AdvisorySource`] (`Send + Sync`, `&self` lookups, [`SourceError`]) and
//!   [`MemorySource`], an in-memory implementation.
//!
//! ```
//! use bulwark_advisory::{AdvisorySource, MemorySource, Rating, parse_record};
//!
//! let record = parse_record(br#"{"id": "GO-2099-0001", "modified": "2099-01-01T00:00:00Z",
//!     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
//!     "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
//!                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}]}"#)
//!     .unwrap();
//! let mut source = MemorySource::new();
//! source.add_record("example", &record);
//! let found = source.advisories_for("Go", "example.com/m").unwrap();
//! assert_eq!(found[0].max_cvss(), Some(9.8));
//! assert_eq!(found[0].severities[0].rating, Rating::Critical);
//! ```

mod advisory;
pub mod csaf;
pub mod debian_tracker;
mod error;
mod memory;
pub mod osv;
mod redhat;
pub mod severity;
mod source;

pub use advisory::{
    Advisory, EpssScore, ecosystem_key, normalize_name, osv_ecosystem_of_purl_type, retain_entry_severities,
};
pub use debian_tracker::{TrackerState, TrackerStatus};
pub use error::{Error, Result};
pub use memory::MemorySource;
pub use osv::{Format, Record, parse_record};
pub use redhat::{RedHatState, RedHatStatement};
pub use severity::{Rating, Scheme, Severity};
pub use source::{AdvisorySource, SourceError};
