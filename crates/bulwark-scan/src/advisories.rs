//! The advisory database handle an [`crate::Engine`] shares between scans.
//!
//! The one place that knows the advisories come from `bulwark-vulndb`'s SQLite file: when
//! the pure advisory model (`AdvisorySource` in `bulwark-advisory`) lands, this type wraps
//! that trait object instead and nothing else in the pipeline changes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bulwark_core::report::{DatabaseSummary, ScanReport};

use crate::{Error, Result};

/// An opened advisory database, safe to share between threads.
///
/// SQLite connections are `Send` but not `Sync`, so lookups take a lock: scans running at
/// once on one engine match one after another (matching is a small part of a scan; a
/// pool of connections can replace the lock if it ever shows in a profile).
pub struct AdvisoryDb {
    path: PathBuf,
    db: Mutex<bulwark_vulndb::Db>,
    summary: DatabaseSummary,
}

impl std::fmt::Debug for AdvisoryDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvisoryDb").field("path", &self.path).finish_non_exhaustive()
    }
}

impl AdvisoryDb {
    /// Opens the database at `path` and reads its metadata once.
    pub fn open(path: &Path) -> Result<AdvisoryDb> {
        let err = |e: &dyn std::fmt::Display| Error::Db { path: path.to_owned(), message: e.to_string() };
        let db = bulwark_vulndb::Db::open(path).map_err(|e| err(&e))?;
        let meta = db.metadata().map_err(|e| err(&e))?;
        let summary = DatabaseSummary {
            built_at: meta.built_at,
            digest: meta.content_digest,
            sources: meta.sources.iter().map(|s| (s.name.clone(), s.records)).collect(),
        };
        Ok(AdvisoryDb { path: path.to_owned(), db: Mutex::new(db), summary })
    }

    /// Where the database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Matches the report's packages: sets its vulnerabilities and database summary, and
    /// adds the matcher's warnings and what it could not check.
    pub(crate) fn match_into(&self, report: &mut ScanReport) {
        let matched = {
            let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
            bulwark_match::match_packages_checked(&report.packages, report.os.as_ref(), &*db)
        };
        report.vulnerabilities = matched.vulnerabilities;
        report.warnings.extend(matched.warnings);
        // Said twice on purpose: `warnings` for people reading the log, `not_checked` for gates.
        report.warnings.extend(matched.not_checked.iter().map(|n| n.message.clone()));
        for n in matched.not_checked {
            report.add_not_checked(n);
        }
        report.database = Some(self.summary.clone());
    }
}
