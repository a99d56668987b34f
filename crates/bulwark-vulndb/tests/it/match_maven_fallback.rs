//! The low-confidence Maven fallback (issue 15): a jar whose group is unknown is matched by
//! its artifact name only when exactly one Maven package in the advisories has it. The
//! advisory is the real GHSA record of Log4Shell (`index-samples/ghsa-osv`), read in place.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_advisory::{EpssScore, SourceError};
use bulwark_core::report::{Confidence, Identification, NotCheckedReason, Package};
use bulwark_match::{AdvisorySource, match_packages_checked};
use bulwark_vulndb::{Advisory, Db, DbBuilder};

fn db() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = bulwark_testkit::shared_dir("advisories/index-samples/ghsa-osv");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-match-maven-fallback.db");
        let mut b = DbBuilder::new(&path).unwrap();
        b.add_osv("ghsa-sample", &dir).unwrap();
        b.finish().unwrap();
        path
    })
}

/// A jar identified without a group, as the Java cataloger reports it.
fn jar(name: &str, version: &str) -> Package {
    bulwark_testkit::report::package("maven", name, version)
        .location(&format!("/opt/app/lib/{name}-{version}.jar"))
        .layer(1)
        .identification(Identification {
            confidence: Confidence::Low,
            group: None,
            artifact: "file-name".into(),
            version: "file-name".into(),
            alternatives: Vec::new(),
        })
        .build()
}

#[test]
fn names_by_artifact_are_exact() {
    let db = Db::open(db()).unwrap();
    assert_eq!(db.maven_names_with_artifact("log4j-core", 4).unwrap(), ["org.apache.logging.log4j:log4j-core"]);
    // Exact artifact, and LIKE's wildcards are escaped.
    for other in ["core", "log4j", "log4j_core", "log4j%", "Log4j-Core"] {
        assert!(db.maven_names_with_artifact(other, 4).unwrap().is_empty(), "{other}");
    }
}

#[test]
fn a_unique_artifact_is_matched_and_says_how() {
    let db = Db::open(db()).unwrap();
    let m = match_packages_checked(&[jar("log4j-core", "2.14.1")], None, &db);
    assert!(m.not_checked.is_empty(), "{:?}", m.not_checked);
    assert_eq!(m.vulnerabilities.len(), 1, "{:?}", m.vulnerabilities);
    let v = &m.vulnerabilities[0];
    assert_eq!(v.id, "CVE-2021-44228");
    assert_eq!(v.package.name, "log4j-core");
    assert_eq!(v.package.matched_as.as_ref().map(|s| s.name.as_str()), Some("org.apache.logging.log4j:log4j-core"));
    assert!(v.explanation.contains("low-confidence identity"), "{}", v.explanation);
    // A fixed version is checked and clean.
    let m = match_packages_checked(&[jar("log4j-core", "2.17.1")], None, &db);
    assert!(m.vulnerabilities.is_empty() && m.not_checked.is_empty());
    // An artifact no advisory names is checked, with nothing to find.
    let m = match_packages_checked(&[jar("not-in-any-advisory", "1.0")], None, &db);
    assert!(m.vulnerabilities.is_empty() && m.not_checked.is_empty());
}

/// The real database, plus a second group with the same artifact name (as `commons-io`
/// and `org.apache.commons:commons-io` would be in a full GHSA import).
struct TwoGroups(Db);

impl AdvisorySource for TwoGroups {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        AdvisorySource::advisories_for(&self.0, ecosystem, name)
    }
    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        AdvisorySource::has_ecosystem(&self.0, ecosystem)
    }
    fn kev(&self, _: &str) -> Result<bool, SourceError> {
        Ok(false)
    }
    fn epss(&self, _: &str) -> Result<Option<EpssScore>, SourceError> {
        Ok(None)
    }
    fn maven_names_with_artifact(&self, artifact: &str, limit: usize) -> Result<Vec<String>, SourceError> {
        let mut names = AdvisorySource::maven_names_with_artifact(&self.0, artifact, limit)?;
        names.push(format!("org.example.fork:{artifact}"));
        Ok(names)
    }
}

/// A source that cannot list names by artifact (the trait's default).
struct NoListing(Db);

impl AdvisorySource for NoListing {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        AdvisorySource::advisories_for(&self.0, ecosystem, name)
    }
    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        AdvisorySource::has_ecosystem(&self.0, ecosystem)
    }
    fn kev(&self, _: &str) -> Result<bool, SourceError> {
        Ok(false)
    }
    fn epss(&self, _: &str) -> Result<Option<EpssScore>, SourceError> {
        Ok(None)
    }
}

#[test]
fn an_ambiguous_or_unlisted_artifact_is_not_checked_never_clean() {
    let m = match_packages_checked(&[jar("log4j-core", "2.14.1")], None, &TwoGroups(Db::open(db()).unwrap()));
    assert!(m.vulnerabilities.is_empty());
    assert_eq!(m.not_checked.len(), 1, "{:?}", m.not_checked);
    assert_eq!(m.not_checked[0].reason, NotCheckedReason::IdentityAmbiguous);
    assert!(m.warnings.iter().any(|w| w.contains("org.example.fork:log4j-core")), "{:?}", m.warnings);

    let m = match_packages_checked(&[jar("log4j-core", "2.14.1")], None, &NoListing(Db::open(db()).unwrap()));
    assert!(m.vulnerabilities.is_empty());
    assert_eq!(m.not_checked.len(), 1, "{:?}", m.not_checked);
    assert_eq!(m.not_checked[0].reason, NotCheckedReason::LookupFailed);
}
