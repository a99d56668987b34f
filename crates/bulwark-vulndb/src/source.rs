//! The advisory DB as the matcher's [`AdvisorySource`].

use bulwark_advisory::{Advisory, AdvisorySource, EpssScore, SourceError, TrackerState};

use crate::{Db, Error};

impl Db {
    /// This crate's error as the source error the matcher reports (same wording).
    fn source_error(&self, e: Error) -> SourceError {
        match e {
            Error::Db { path, message } => {
                SourceError::Store { store: "advisory database", location: path.display().to_string(), message }
            }
            other => SourceError::Store {
                store: "advisory database",
                location: self.path.display().to_string(),
                message: other.to_string(),
            },
        }
    }
}

impl AdvisorySource for Db {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        Db::advisories_for(self, ecosystem, name).map_err(|e| self.source_error(e))
    }

    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        Db::has_ecosystem(self, ecosystem).map(Some).map_err(|e| self.source_error(e))
    }

    fn kev(&self, cve: &str) -> Result<bool, SourceError> {
        Db::kev(self, cve).map(|k| k.is_some()).map_err(|e| self.source_error(e))
    }

    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError> {
        Db::epss(self, cve).map(|e| e.map(|e| e.score)).map_err(|e| self.source_error(e))
    }

    /// A DB built before the tracker table existed answers `None`.
    fn debian_tracker(&self, ecosystem: &str, package: &str, cve: &str) -> Result<Option<TrackerState>, SourceError> {
        Db::debian_tracker(self, ecosystem, package, cve).map_err(|e| self.source_error(e))
    }

    /// Records whose id is `id`, or that list it as an alias or upstream id (`related` ids
    /// name other vulnerabilities and are left out).
    fn maven_names_with_artifact(&self, artifact: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        Db::maven_names_with_artifact(self, artifact, limit).map_err(|e| self.source_error(e))
    }

    fn advisories_aliasing(&self, id: &str) -> Result<Vec<Advisory>, SourceError> {
        let mut ids = Db::ids_for_alias(self, id).map_err(|e| self.source_error(e))?;
        ids.push(id.to_owned());
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for other in ids {
            if let Some(a) = Db::advisory(self, &other).map_err(|e| self.source_error(e))?
                && a.withdrawn.is_none()
                && (a.id == id || a.aliases.iter().chain(&a.upstream).any(|x| x == id))
            {
                out.push(a);
            }
        }
        Ok(out)
    }
}
