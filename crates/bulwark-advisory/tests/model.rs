//! The advisory model on real records from `../shared/advisories` (read in place;
//! `BULWARK_SHARED` overrides the folder). Each expectation names the record it is read from.

use std::path::{Path, PathBuf};

use bulwark_advisory::csaf::{parse_csaf, to_records};
use bulwark_advisory::debian_tracker::parse_tracker_json;
use bulwark_advisory::{AdvisorySource, MemorySource, RedHatState, Scheme, TrackerStatus, parse_record};

fn adv(rel: &str) -> PathBuf {
    let dir = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(dir.join("advisories").is_dir(), "shared test data not found at {} (set BULWARK_SHARED)", dir.display());
    dir.join("advisories").join(rel)
}

fn record(rel: &str) -> bulwark_advisory::Record {
    parse_record(&std::fs::read(adv(rel)).unwrap()).unwrap()
}

#[test]
fn lookups_by_package_and_alias() {
    let mut source = MemorySource::new();
    // GO-2023-1571 = CVE-2022-41723 (alias GHSA-vvpx-j8f3-3w6h): golang.org/x/net and the
    // stdlib; PYSEC-2022-42969: py (YAML, PEP 503 names).
    source.add_record("go-vulndb", &record("go-vulndb/data/osv/GO-2023-1571.json"));
    source.add_record("pypa", &record("pypa-advisory-db/vulns/py/PYSEC-2022-42969.yaml"));
    let found = source.advisories_for("go", "golang.org/x/net").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "GO-2023-1571");
    assert!(found[0].affected.iter().all(|a| a.package.as_ref().unwrap().name == "golang.org/x/net"));
    assert!(source.advisories_for("Go", "golang.org/x/nets").unwrap().is_empty());
    assert_eq!(source.advisories_for("PyPI", "Py").unwrap()[0].id, "PYSEC-2022-42969");
    assert_eq!(source.has_ecosystem("pypi").unwrap(), Some(true));
    assert_eq!(source.has_ecosystem("npm").unwrap(), Some(false));
    let aliasing = source.advisories_aliasing("CVE-2022-41723").unwrap();
    assert_eq!(aliasing.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["GO-2023-1571"]);
    // The whole record, every entry.
    assert_eq!(aliasing[0].affected.len(), record("go-vulndb/data/osv/GO-2023-1571.json").affected.len());
}

#[test]
fn withdrawn_records_never_match() {
    // GO-2022-0617 carries `withdrawn`.
    let r = record("go-vulndb/data/osv/GO-2022-0617.json");
    assert!(r.withdrawn.is_some());
    let mut source = MemorySource::new();
    source.add_record("go-vulndb", &r);
    for p in r.affected.iter().filter_map(|a| a.package.as_ref()) {
        assert!(source.advisories_for(&p.ecosystem, &p.name).unwrap().is_empty(), "{}", p.name);
    }
    assert_eq!(source.len(), 1);
}

#[test]
fn severities_stated_for_one_release_stay_with_it() {
    // UBUNTU-CVE-2024-3094: xz-utils in Ubuntu 20.04, 22.04 and 24.04, each entry with
    // ubuntu_priority "critical", and one CVSS 3.1 vector for the record.
    let r = record("index-samples/ubuntu-osv/UBUNTU-CVE-2024-3094.json");
    let mut source = MemorySource::new();
    source.add_record("ubuntu", &r);
    let found = source.advisories_for("Ubuntu:22.04:LTS", "xz-utils").unwrap();
    assert_eq!(found[0].affected.len(), 1);
    let priorities: Vec<&str> =
        found[0].severities.iter().filter(|s| s.scheme == Scheme::UbuntuPriority).map(|s| s.origin.as_str()).collect();
    assert_eq!(priorities, ["osv:affected[1].ecosystem_specific.ubuntu_priority"]);
    assert!(found[0].severities.iter().any(|s| s.scheme == Scheme::CvssV3 && s.origin == "osv:severity"));
}

#[test]
fn red_hat_states_are_typed() {
    // cve-2024-0727-openssl.json: RHEL 9 openssl fixed (RHSA-2024:2447), RHEL 7 openssl
    // known_affected with no_fix_planned "Out of support scope", RHEL 9 compat-openssl11
    // known_affected with none_available "Fix deferred".
    let doc = parse_csaf(&std::fs::read(adv("redhat-csaf-vex-samples/cve-2024-0727-openssl.json")).unwrap()).unwrap();
    let (records, stats) = to_records(&doc, "csaf:cve-2024-0727-openssl.json");
    let mut source = MemorySource::new();
    for r in &records {
        source.add_record("csaf:samples", r);
    }
    let state = |eco: &str, name: &str| {
        let found = source.advisories_for(eco, name).unwrap();
        let a = found.iter().find(|a| a.id == "REDHAT-CVE-2024-0727").unwrap();
        a.affected[0].redhat_statement().unwrap()
    };
    assert_eq!(state("Red Hat:enterprise_linux:9", "openssl").state, RedHatState::Fixed);
    let el7 = state("Red Hat:enterprise_linux:7", "openssl");
    assert_eq!((el7.state, el7.reason.as_deref()), (RedHatState::WontFix, Some("Out of support scope")));
    let compat = state("Red Hat:enterprise_linux:9", "compat-openssl11");
    assert_eq!((compat.state, compat.reason.as_deref()), (RedHatState::Affected, Some("Fix deferred")));
    assert_eq!(compat.describe().as_deref(), Some("Red Hat: affected, no fix available (Fix deferred)"));
    // The conversion counts entries by the stored words.
    assert!(stats.entries.contains_key("wont_fix") && stats.entries.contains_key("fixed"), "{:?}", stats.entries);
}

#[test]
fn tracker_states_are_typed() {
    // index-samples/debian-tracker-cve/CVE-2024-0727.json: "[buster] - openssl <postponed>
    // (Minor issue, DoS, Low severity)".
    let states =
        parse_tracker_json(&std::fs::read(adv("index-samples/debian-tracker-cve/CVE-2024-0727.json")).unwrap())
            .unwrap();
    let mut source = MemorySource::new();
    source.add_tracker_states("tracker", states);
    let t = source.debian_tracker("Debian:10", "openssl", "CVE-2024-0727").unwrap().unwrap();
    assert_eq!(t.state, TrackerStatus::Postponed);
    assert!(t.is_wont_fix());
    assert_eq!(t.source, "tracker");
    assert_eq!(t.describe(), "Debian security tracker (Debian:10): postponed (Minor issue, DoS, Low severity)");
    assert_eq!(source.debian_tracker("Debian:11", "curl", "CVE-2024-0727").unwrap(), None);
}

#[test]
fn a_later_record_of_the_same_id_wins() {
    // ELA-1619-1 read twice: the copy with the later `modified` replaces the other, as the
    // database build resolves duplicates; an older copy read afterwards changes nothing.
    let r = record("debian-elts-osv/advisories/ELA-1619-1.json");
    let p = r.affected[0].package.clone().unwrap();
    let mut older = r.clone();
    older.modified = Some("2000-01-01T00:00:00Z".into());
    older.summary = Some("older copy".into());
    let mut source = MemorySource::new();
    source.add_record("first", &older);
    source.add_record("second", &r);
    source.add_record("third", &older);
    let found = source.advisories_for(&p.ecosystem, &p.name).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].source.as_str(), found[0].summary.as_deref()), ("second", r.summary.as_deref()));
}
