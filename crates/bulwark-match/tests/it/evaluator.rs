//! The range evaluator on hand-made event lists (the OSV spec's evaluation rules), a
//! property test against an independent reference, and the matcher's handling of records it
//! cannot evaluate, with an in-memory advisory source (`MemorySource`, plus one injected
//! lookup failure).

use bulwark_advisory::osv::Event;
use bulwark_advisory::{Advisory, EpssScore, MemorySource, SourceError, parse_record};
use bulwark_core::report::{FixState, OsRelease, Package, SourcePackage};
use bulwark_match::range::{Hit, RangeError, Upper, evaluate};
use bulwark_match::{AdvisorySource, match_packages};
use bulwark_version::{Ecosystem, Version};

fn ev(list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .map(|(k, v)| match *k {
            "introduced" => Event::Introduced((*v).into()),
            "fixed" => Event::Fixed((*v).into()),
            "last_affected" => Event::LastAffected((*v).into()),
            "limit" => Event::Limit((*v).into()),
            other => Event::Unknown(other.into()),
        })
        .collect()
}

fn semver(events: &[(&str, &str)], v: &str) -> Result<Option<Hit>, RangeError> {
    evaluate(Ecosystem::Semver, &Version::parse(Ecosystem::Semver, v).unwrap(), &ev(events))
}

fn affected(events: &[(&str, &str)], v: &str) -> bool {
    semver(events, v).unwrap().is_some()
}

#[test]
fn spec_examples() {
    // "introduced 0, fixed 1.0.0": everything before 1.0.0.
    let e = [("introduced", "0"), ("fixed", "1.0.0")];
    assert!(affected(&e, "0.0.1"));
    assert!(affected(&e, "1.0.0-rc.1"));
    assert!(!affected(&e, "1.0.0"));
    assert_eq!(semver(&e, "0.5.0").unwrap(), Some(Hit { introduced: "0".into(), upper: Upper::Fixed("1.0.0".into()) }));
    // Two intervals: [1.0.0, 1.2.0) and [2.0.0, 2.2.0).
    let e = [("introduced", "1.0.0"), ("fixed", "1.2.0"), ("introduced", "2.0.0"), ("fixed", "2.2.0")];
    for (v, want) in
        [("0.9.0", false), ("1.0.0", true), ("1.2.0", false), ("1.9.9", false), ("2.1.0", true), ("2.2.0", false)]
    {
        assert_eq!(affected(&e, v), want, "{v}");
    }
    // last_affected is inclusive.
    let e = [("introduced", "0"), ("last_affected", "1.0.0")];
    assert!(affected(&e, "1.0.0"));
    assert!(!affected(&e, "1.0.1"));
    assert_eq!(semver(&e, "1.0.0").unwrap().unwrap().upper, Upper::LastAffected("1.0.0".into()));
    // Introduced only: open-ended.
    assert_eq!(semver(&[("introduced", "1.0.0")], "9.0.0").unwrap().unwrap().upper, Upper::Open);
    assert!(!affected(&[("introduced", "1.0.0")], "0.9.0"));
    // limit: the range only counts below a limit.
    let e = [("introduced", "0"), ("limit", "2.0.0")];
    assert!(affected(&e, "1.0.0"));
    assert!(!affected(&e, "2.0.0"));
    // An empty interval [1.0.0, 1.0.0) affects nothing.
    assert!(!affected(&[("introduced", "1.0.0"), ("fixed", "1.0.0")], "1.0.0"));
}

#[test]
fn unevaluable_ranges_are_errors() {
    assert_eq!(
        semver(&[("introduced", "0"), ("unfixed", "2.0.0")], "1.0.0"),
        Err(RangeError::UnknownEvent("unfixed".into()))
    );
    assert!(matches!(
        semver(&[("introduced", "0"), ("fixed", "not a version")], "1.0.0"),
        Err(RangeError::InvalidVersion { .. })
    ));
}

/// A small deterministic generator (no test-only dependencies).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The spec's algorithm restated without sorting: affected iff some `introduced` i <= v and
/// no closing event (fixed f <= v, last_affected l < v) lies at or after i (closing events
/// at i's version sort after it).
fn reference(events: &[(u8, u64)], v: u64) -> bool {
    let Some(i) = events.iter().filter(|(k, x)| *k == 0 && *x <= v).map(|(_, x)| *x).max() else {
        return false;
    };
    !events.iter().any(|&(k, x)| (k == 1 && x <= v && x >= i) || (k == 2 && x < v && x >= i))
}

#[test]
fn property_matches_reference_and_is_order_independent() {
    let mut rng = Lcg(42);
    let kinds = ["introduced", "fixed", "last_affected"];
    for _ in 0..2000 {
        let n = 1 + rng.next(6) as usize;
        let events: Vec<(u8, u64)> = (0..n).map(|_| (rng.next(3) as u8, rng.next(10))).collect();
        let as_strings: Vec<(String, String)> = events
            .iter()
            .map(|&(k, x)| {
                let v = if k == 0 && x == 0 { "0".to_owned() } else { format!("{x}.0.0") };
                (kinds[k as usize].to_owned(), v)
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = as_strings.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let mut reversed = borrowed.clone();
        reversed.reverse();
        for v in 0..11 {
            let vs = format!("{v}.0.0");
            let got = affected(&borrowed, &vs);
            assert_eq!(got, reference(&events, v), "{borrowed:?} at {vs}");
            assert_eq!(got, affected(&reversed, &vs), "order matters for {borrowed:?} at {vs}");
        }
    }
}

/// Advisories from OSV JSON in a [`MemorySource`] that cannot tell which ecosystems it
/// covers, with CVE-2099-0001 in KEV, and one failure injected: looking up package `broken`
/// fails as a damaged store would.
struct Memory(MemorySource);

impl Memory {
    fn new(records: &[&str]) -> Memory {
        let mut source = MemorySource::new();
        for json in records {
            source.add_record("test", &parse_record(json.as_bytes()).unwrap());
        }
        source.add_kev("CVE-2099-0001");
        source.add_epss("CVE-2099-0001", EpssScore { epss: 0.5, percentile: 0.9 });
        Memory(source)
    }
}

impl AdvisorySource for Memory {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        if name == "broken" {
            return Err(SourceError::Service { location: "memory".into(), message: "disk on fire".into() });
        }
        self.0.advisories_for(ecosystem, name)
    }
    fn has_ecosystem(&self, _ecosystem: &str) -> Result<Option<bool>, SourceError> {
        Ok(None)
    }
    fn kev(&self, cve: &str) -> Result<bool, SourceError> {
        self.0.kev(cve)
    }
    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError> {
        self.0.epss(cve)
    }
}

fn package(ecosystem: &str, name: &str, version: &str) -> Package {
    bulwark_testkit::report::package(ecosystem, name, version).location("/app").build()
}

const RECORDS: &[&str] = &[
    // GIT range plus an explicit versions list: only the list is evaluable.
    r#"{"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "summary": "s",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "gitonly"},
          "ranges": [{"type": "GIT", "repo": "https://example.com/r", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}],
          "versions": ["1.0", "1.1"]}]}"#,
    // An unknown event and an unparsable version: skipped with warnings, never a match.
    r#"{"id": "PYSEC-2099-2", "affected": [{"package": {"ecosystem": "PyPI", "name": "odd"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"unfixed": "2.0"}]},
                     {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not/a/version"}]}]}]}"#,
    // Debian: unimportant urgency and no fix -> will not fix.
    r#"{"id": "DEBIAN-CVE-2099-0002", "upstream": ["CVE-2099-0002"],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "src"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
          "ecosystem_specific": {"urgency": "unimportant"}}]}"#,
    // A fixed version that a later range still lists as affected is not a fix.
    r#"{"id": "GHSA-xxxx-yyyy-zzzz", "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "npm", "name": "leftpad"},
          "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.5.0"}]},
                     {"type": "SEMVER", "events": [{"introduced": "1.5.0"}, {"fixed": "1.6.0"}]}]}]}"#,
];

#[test]
fn versions_list_kev_epss() {
    let src = Memory::new(RECORDS);
    let (found, warnings) = match_packages(&[package("pypi", "gitonly", "1.1")], None, &src);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(found.len(), 1);
    let v = &found[0];
    assert_eq!((v.id.as_str(), v.state), ("CVE-2099-0001", FixState::NotFixed));
    assert!(v.kev);
    assert_eq!(v.epss, Some((0.5, 0.9)));
    assert!(v.explanation.contains("listed in the affected versions of PyPI"), "{}", v.explanation);
    assert!(match_packages(&[package("pypi", "gitonly", "1.2")], None, &src).0.is_empty());
}

#[test]
fn unevaluable_records_warn_and_do_not_match() {
    let src = Memory::new(RECORDS);
    let (found, warnings) = match_packages(
        &[package("pypi", "odd", "1.0"), package("npm", "leftpad", "1.0.0.0.0"), package("pypi", "broken", "1")],
        None,
        &src,
    );
    assert!(found.is_empty(), "{found:?}");
    // One per unevaluable range, the failed lookup, and leftpad's invalid version.
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("PyPI/PYSEC-2099-2: unknown range event \"unfixed\"")));
    assert!(warnings.iter().any(|w| w.contains("PyPI/PYSEC-2099-2: invalid PEP 440 version \"not/a/version\"")));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("advisory lookup for PyPI broken failed: advisory service memory: disk on fire"))
    );
    assert!(warnings.iter().any(|w| w.starts_with("npm leftpad 1.0.0.0.0: not a valid npm version")));
}

#[test]
fn wont_fix_and_os_family_checks() {
    let src = Memory::new(RECORDS);
    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some("Debian:12".into()),
        distroless: false,
    };
    let mut p = package("deb", "bin", "1.0-1");
    p.source = Some(SourcePackage { name: "src".into(), version: Some("1.0-1".into()) });
    let (found, _) = match_packages(std::slice::from_ref(&p), Some(&os), &src);
    assert_eq!(found[0].id, "CVE-2099-0002");
    assert_eq!(found[0].state, FixState::WontFix);
    assert_eq!(found[0].aliases, ["DEBIAN-CVE-2099-0002"]);
    // An apk package in a Debian image is not matched against Debian's advisories.
    let (found, warnings) = match_packages(&[package("apk", "src", "1.0-r0")], Some(&os), &src);
    assert!(found.is_empty());
    assert!(warnings[0].contains("Debian:12 advisories use dpkg ordering"), "{warnings:?}");
}

#[test]
fn fixed_version_must_be_unaffected() {
    let src = Memory::new(RECORDS);
    let (found, _) = match_packages(&[package("npm", "leftpad", "1.2.0")], None, &src);
    let v = &found[0];
    assert_eq!(v.fixed_versions, ["1.6.0"], "1.5.0 is inside the second range");
    assert_eq!(v.severity, bulwark_core::report::Severity::High);
    assert_eq!(
        v.severity_source.as_deref(),
        Some("GHSA-xxxx-yyyy-zzzz osv:database_specific.severity (GHSA severity HIGH)")
    );
    assert_eq!(v.cvss, None);
}

/// [`Memory`] that knows which ecosystems it covers, with a GHSA record for the Debian CVE.
struct Covered(Memory, Memory);

impl AdvisorySource for Covered {
    fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, SourceError> {
        self.0.advisories_for(ecosystem, name)
    }
    fn kev(&self, cve: &str) -> Result<bool, SourceError> {
        self.0.kev(cve)
    }
    fn epss(&self, cve: &str) -> Result<Option<EpssScore>, SourceError> {
        self.0.epss(cve)
    }
    fn has_ecosystem(&self, ecosystem: &str) -> Result<Option<bool>, SourceError> {
        Ok(Some(["pypi", "debian:12", "npm"].contains(&ecosystem.to_ascii_lowercase().as_str())))
    }
    fn advisories_aliasing(&self, id: &str) -> Result<Vec<Advisory>, SourceError> {
        self.1.0.advisories_aliasing(id)
    }
}

#[test]
fn what_could_not_be_checked_is_reported_never_read_as_clean() {
    use bulwark_core::report::{NotCheckedReason, Severity};
    let ghsa = r#"{"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2099-0002"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Go", "name": "x"}}]}"#;
    let src = Covered(Memory::new(RECORDS), Memory::new(&[ghsa]));
    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some("Debian:12".into()),
        distroless: false,
    };
    let mut deb = package("deb", "bin", "1.0-1");
    deb.source = Some(SourcePackage { name: "src".into(), version: Some("1.0-1".into()) });
    let packages =
        [deb, package("pypi", "broken", "1"), package("gem", "rails", "7.0.0"), package("gem", "rack", "2.0")];
    let m = bulwark_match::match_packages_checked(&packages, Some(&os), &src);
    let gaps: Vec<(NotCheckedReason, Option<&str>)> =
        m.not_checked.iter().map(|n| (n.reason, n.scope.as_deref())).collect();
    assert_eq!(
        gaps,
        [(NotCheckedReason::LookupFailed, Some("PyPI")), (NotCheckedReason::EcosystemMissing, Some("RubyGems"))]
    );
    assert!(m.not_checked[0].message.contains("disk on fire"), "{:?}", m.not_checked);
    assert!(m.not_checked[1].message.contains("2 packages (gem rack, gem rails)"), "{:?}", m.not_checked);
    // The Debian record states only an urgency word of its own; with none, the GHSA record
    // of the same CVE would give the severity. Here the urgency is present, so it stays.
    assert_eq!(m.vulnerabilities[0].id, "CVE-2099-0002");
    assert_ne!(m.vulnerabilities[0].severity, Severity::Unknown);

    // A Debian record that states nothing takes the GHSA record's CVSS, and names it.
    let bare = r#"{"id": "DEBIAN-CVE-2099-0002", "upstream": ["CVE-2099-0002"],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "src"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#;
    let src = Covered(Memory::new(&[bare]), Memory::new(&[ghsa]));
    let m = bulwark_match::match_packages_checked(&packages[..1], Some(&os), &src);
    let v = &m.vulnerabilities[0];
    assert_eq!(v.severity, Severity::Critical);
    assert!(v.severity_source.as_deref().unwrap().starts_with("GHSA-aaaa-bbbb-cccc"), "{:?}", v.severity_source);
    assert!(m.not_checked.is_empty());
}
