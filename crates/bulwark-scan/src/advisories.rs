//! The advisory database handle an [`crate::Engine`] shares between scans.
//!
//! The one place that knows where the advisories come from: `bulwark-vulndb`'s SQLite file
//! ([`AdvisoryDb::open`]) or any other [`AdvisorySource`] ([`AdvisoryDb::from_source`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulwark_advisory::AdvisorySource;

use bulwark_core::report::{DatabaseSummary, ScanReport};

use crate::{Error, Result};

/// An opened advisory database, safe to share between threads.
///
/// Sources are `Send + Sync` (the SQLite database keeps a small pool of read connections),
/// so scans running at once on one engine match at the same time.
pub struct AdvisoryDb {
    path: PathBuf,
    source: Arc<dyn AdvisorySource>,
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
        let err = |source| Error::Db { path: path.to_owned(), source };
        let db = bulwark_vulndb::Db::open(path).map_err(err)?;
        let meta = db.metadata().map_err(err)?;
        let summary = DatabaseSummary {
            built_at: meta.built_at,
            digest: meta.content_digest,
            sources: meta.sources.iter().map(|s| (s.name.clone(), s.records)).collect(),
        };
        Ok(AdvisoryDb { path: path.to_owned(), source: Arc::new(db), summary })
    }

    /// Matches against `source` (e.g. an in-memory set of records), described by `summary`
    /// in reports; `path` names it in messages.
    pub fn from_source(path: PathBuf, source: Arc<dyn AdvisorySource>, summary: DatabaseSummary) -> AdvisoryDb {
        AdvisoryDb { path, source, summary }
    }

    /// Where the database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Matches the report's packages: sets its vulnerabilities and database summary, and
    /// adds the matcher's warnings and what it could not check.
    pub(crate) fn match_into(&self, report: &mut ScanReport) {
        let matched = bulwark_match::match_packages_checked(&report.packages, report.os.as_ref(), &*self.source);
        report.vulnerabilities = matched.vulnerabilities;
        report.warnings.extend(matched.warnings.into_iter().map(bulwark_core::Warning::matching));
        // Said twice on purpose: `warnings` for people reading the log, `not_checked` for gates.
        report.warnings.extend(matched.not_checked.iter().map(|n| bulwark_core::Warning::matching(n.message.clone())));
        for n in matched.not_checked {
            report.add_not_checked(n);
        }
        report.database = Some(self.summary.clone());
    }
}
