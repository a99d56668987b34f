//! Where the matcher's advisories come from.

use std::sync::Arc;

use crate::advisory::{Advisory, EpssScore};
use crate::debian_tracker::TrackerState;

/// Why a lookup in an [`AdvisorySource`] failed. The matcher never reads a failed lookup as
/// "no advisories": it reports the packages concerned as not checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The store behind the source could not answer: a database error, a damaged row or
    /// stored record.
    #[error("{store} {location}: {message}")]
    Store {
        /// What kind of store (`advisory database`).
        store: &'static str,
        /// Which one (a path, a URL).
        location: String,
        message: String,
    },
    /// A source that relays another service (an API) got no usable answer.
    #[error("advisory service {location}: {message}")]
    Service { location: String, message: String },
    /// The source cannot answer this kind of question at all.
    #[error("this advisory source cannot answer: {what}")]
    Unsupported { what: &'static str },
}

/// Where advisories, KEV flags, EPSS scores and distribution tracker states come from.
///
/// Methods take `&self` and implementors are `Send + Sync`: one source (one open advisory
/// database) serves every scan of a process at once, as a server's workers need.
pub trait AdvisorySource: Send + Sync {
    /// The active (not withdrawn) advisories naming package `name` in OSV ecosystem
    /// `ecosystem`, sorted by id, each restricted to that package
    /// ([`Advisory::restricted_to`]: ecosystem exact but case-insensitive, name normalised).
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError>;

    /// Whether any active advisory names a package of `ecosystem`; `None` when the source
    /// cannot tell (then the ecosystem is assumed present).
    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError>;

    /// Whether a CVE is in CISA's Known Exploited Vulnerabilities catalog.
    fn kev(&self, cve: &str) -> Result<bool, SourceError>;

    /// The FIRST EPSS score of a CVE.
    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError>;

    /// What the Debian security tracker says about `cve` in source package `package` of the
    /// release `ecosystem` (`Debian:10`). A source without tracker data answers `None`.
    fn debian_tracker(
        &self,
        _ecosystem: &str,
        _package: &str,
        _cve: &str,
    ) -> Result<Option<TrackerState>, SourceError> {
        Ok(None)
    }

    /// The active advisories whose id is `id` or that name it as an alias or upstream id
    /// (a GHSA record for a CVE), with all their `affected` entries, sorted by id; for the
    /// severity of a finding whose own records state none.
    fn advisories_aliasing(&self, _id: &str) -> Result<Vec<Advisory>, SourceError> {
        Ok(Vec::new())
    }

    /// The distinct `group:artifact` names of Maven packages whose artifact is `artifact`
    /// (exact, as Maven compares), sorted, at most `limit`: for jars whose group no evidence
    /// names. A source that cannot list them says so, and the matcher counts such jars as
    /// not checked rather than clean.
    fn maven_names_with_artifact(&self, _artifact: &str, _limit: usize) -> Result<Vec<String>, SourceError> {
        Err(SourceError::Unsupported { what: "Maven packages by artifact name" })
    }
}

impl<T: AdvisorySource + ?Sized> AdvisorySource for Arc<T> {
    fn maven_names_with_artifact(&self, artifact: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        (**self).maven_names_with_artifact(artifact, limit)
    }
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        (**self).advisories_for(ecosystem, name)
    }
    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        (**self).has_ecosystem(ecosystem)
    }
    fn kev(&self, cve: &str) -> Result<bool, SourceError> {
        (**self).kev(cve)
    }
    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError> {
        (**self).epss(cve)
    }
    fn debian_tracker(&self, ecosystem: &str, package: &str, cve: &str) -> Result<Option<TrackerState>, SourceError> {
        (**self).debian_tracker(ecosystem, package, cve)
    }
    fn advisories_aliasing(&self, id: &str) -> Result<Vec<Advisory>, SourceError> {
        (**self).advisories_aliasing(id)
    }
}
