//! An advisory source held in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::advisory::{Advisory, EpssScore, ecosystem_key, normalize_name};
use crate::debian_tracker::{TrackerState, TrackerStatus};
use crate::osv::Record;
use crate::severity::dedupe;
use crate::source::{AdvisorySource, SourceError};

/// An [`AdvisorySource`] held in memory, answering as the advisory database does for the
/// same inputs: a later `modified` wins between two records of one id, withdrawn records
/// never match a package, tracker statements that say `resolved` are not kept.
///
/// For tests, tools and small feeds (a server's uploaded VEX-derived records); the advisory
/// database is the source a scan uses. It does not attach NVD's CVSS to records without one.
///
/// ```
/// use bulwark_advisory::{AdvisorySource, MemorySource, parse_record};
///
/// let record = parse_record(br#"{"id": "GO-2099-0001", "aliases": ["CVE-2099-1"],
///     "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
///                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}]}"#)
///     .unwrap();
/// let mut source = MemorySource::new();
/// source.add_record("example", &record);
/// source.add_kev("CVE-2099-1");
/// assert_eq!(source.advisories_for("go", "example.com/m").unwrap()[0].id, "GO-2099-0001");
/// assert_eq!(source.has_ecosystem("PyPI").unwrap(), Some(false));
/// assert!(source.kev("CVE-2099-1").unwrap());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    /// Every record by id, withdrawn ones included (an id lookup can say so).
    by_id: BTreeMap<String, Advisory>,
    /// Ids of the active records naming each (ecosystem key, normalised name).
    by_package: HashMap<(String, String), BTreeSet<String>>,
    /// Ids of the records listing an id in `aliases`, `upstream` or `related`.
    by_alias: HashMap<String, BTreeSet<String>>,
    kev: BTreeSet<String>,
    epss: HashMap<String, EpssScore>,
    /// By (ecosystem key, source package, CVE).
    tracker: HashMap<(String, String, String), TrackerState>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Adds a record read from source `source` (the name findings cite). A record whose id
    /// is already held replaces it only when its `modified` is later (RFC 3339 UTC times
    /// order as text), as the database build resolves duplicates.
    pub fn add_record(&mut self, source: &str, record: &Record) {
        if let Some(old) = self.by_id.get(&record.id) {
            if record.modified.clone().unwrap_or_default() <= old.modified.clone().unwrap_or_default() {
                return;
            }
            let old = old.clone();
            self.unindex(&old);
        }
        let advisory = Advisory::from_record(source, record);
        for alias in advisory.aliases.iter().chain(&advisory.upstream).chain(&advisory.related) {
            self.by_alias.entry(alias.trim().to_owned()).or_default().insert(advisory.id.clone());
        }
        if advisory.withdrawn.is_none() {
            for key in package_keys(&advisory) {
                self.by_package.entry(key).or_default().insert(advisory.id.clone());
            }
        }
        self.by_id.insert(advisory.id.clone(), advisory);
    }

    /// Marks a CVE as in CISA's Known Exploited Vulnerabilities catalog.
    pub fn add_kev(&mut self, cve: &str) {
        self.kev.insert(cve.trim().to_owned());
    }

    /// Sets a CVE's EPSS score.
    pub fn add_epss(&mut self, cve: &str, score: EpssScore) {
        self.epss.insert(cve.trim().to_owned(), score);
    }

    /// Adds Debian security tracker statements read from source `source`; a later statement
    /// for the same release, package and CVE replaces an earlier one. `resolved` statements
    /// are not kept (the OSV records carry the fixed versions).
    pub fn add_tracker_states(&mut self, source: &str, states: impl IntoIterator<Item = TrackerState>) {
        for mut state in states.into_iter().filter(|s| s.state != TrackerStatus::Resolved) {
            state.source = source.to_owned();
            let key = (ecosystem_key(&state.ecosystem), state.package.trim().to_owned(), state.cve.trim().to_owned());
            self.tracker.insert(key, state);
        }
    }

    /// How many records (withdrawn ones included) the source holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the source holds no record.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn unindex(&mut self, old: &Advisory) {
        for key in package_keys(old) {
            if let Some(ids) = self.by_package.get_mut(&key) {
                ids.remove(&old.id);
                if ids.is_empty() {
                    self.by_package.remove(&key);
                }
            }
        }
        for alias in old.aliases.iter().chain(&old.upstream).chain(&old.related) {
            if let Some(ids) = self.by_alias.get_mut(alias.trim()) {
                ids.remove(&old.id);
            }
        }
    }
}

/// The (ecosystem key, normalised name) of every package an advisory's entries name.
fn package_keys(advisory: &Advisory) -> BTreeSet<(String, String)> {
    advisory
        .affected
        .iter()
        .filter_map(|a| a.package.as_ref())
        .filter(|p| !p.ecosystem.trim().is_empty())
        .map(|p| (ecosystem_key(&p.ecosystem), normalize_name(&p.ecosystem, &p.name)))
        .filter(|(_, name)| !name.is_empty())
        .collect()
}

impl AdvisorySource for MemorySource {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        let key = (ecosystem_key(ecosystem), normalize_name(ecosystem, name));
        Ok(self
            .by_package
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id)?.restricted_to(ecosystem, name))
            .collect())
    }

    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        let key = ecosystem_key(ecosystem);
        Ok(Some(self.by_package.keys().any(|(eco, _)| *eco == key)))
    }

    fn kev(&self, cve: &str) -> Result<bool, SourceError> {
        Ok(self.kev.contains(cve))
    }

    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError> {
        Ok(self.epss.get(cve).copied())
    }

    fn debian_tracker(&self, ecosystem: &str, package: &str, cve: &str) -> Result<Option<TrackerState>, SourceError> {
        let key = (ecosystem_key(ecosystem), package.trim().to_owned(), cve.trim().to_owned());
        Ok(self.tracker.get(&key).map(|s| TrackerState {
            ecosystem: ecosystem.trim().to_owned(),
            package: package.trim().to_owned(),
            cve: cve.trim().to_owned(),
            ..s.clone()
        }))
    }

    fn maven_names_with_artifact(&self, artifact: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        let maven = ecosystem_key("Maven");
        let names: BTreeSet<&String> = self
            .by_package
            .keys()
            .filter(|(eco, name)| *eco == maven && name.rsplit_once(':').is_some_and(|(_, a)| a == artifact))
            .map(|(_, name)| name)
            .collect();
        Ok(names.into_iter().take(limit).cloned().collect())
    }

    fn advisories_aliasing(&self, id: &str) -> Result<Vec<Advisory>, SourceError> {
        let mut ids: BTreeSet<&String> = self.by_alias.get(id).into_iter().flatten().collect();
        let own = id.to_owned();
        ids.insert(&own);
        Ok(ids
            .into_iter()
            .filter_map(|other| self.by_id.get(other))
            .filter(|a| a.withdrawn.is_none() && (a.id == id || a.aliases.iter().chain(&a.upstream).any(|x| x == id)))
            .map(|a| {
                let mut a = a.clone();
                dedupe(&mut a.severities);
                a
            })
            .collect())
    }
}
