//! Red Hat CSAF VEX and Debian security tracker states, from the real documents in
//! `../shared/advisories` (read in place, converted by `bulwark_advisory` and held in a
//! `MemorySource`: no database needed). Every expectation names the document it is read from.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_advisory::csaf::{parse_csaf, to_records};
use bulwark_advisory::debian_tracker::parse_tracker_json;
use bulwark_advisory::{MemorySource, parse_record};
use bulwark_core::report::{FixState, OsRelease, Package, Severity, Vulnerability};
use bulwark_match::match_packages;
use bulwark_testkit::report;

/// The shared data folder, checked to hold `advisories`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories");
    bulwark_testkit::shared()
}

/// A record in the shape osv.dev publishes for Debian's open issues (DEBIAN-CVE-…): the CVE is
/// open in buster's openssl, with no fixed version and no severity of its own.
const DEBIAN_OPEN: &str = r#"{"id": "DEBIAN-CVE-2024-0727", "modified": "2024-02-01T00:00:00Z",
  "upstream": ["CVE-2024-0727"],
  "affected": [{"package": {"ecosystem": "Debian:10", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#;

/// The `.json` files under `dir`, sorted by path (the order the DB build reads them in).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The CSAF samples, the open Debian record and the tracker files, as the DB build names them.
fn source() -> &'static MemorySource {
    static SOURCE: OnceLock<MemorySource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let adv = shared().join("advisories");
        let mut source = MemorySource::new();
        let csaf = adv.join("redhat-csaf-vex-samples");
        for file in json_files(&csaf) {
            let doc = parse_csaf(&std::fs::read(&file).unwrap()).unwrap();
            let rel = file.strip_prefix(&csaf).unwrap().display().to_string();
            for record in to_records(&doc, &format!("csaf:{rel}")).0 {
                source.add_record("csaf:redhat-csaf-vex-samples", &record);
            }
        }
        source.add_record("debian-open", &parse_record(DEBIAN_OPEN.as_bytes()).unwrap());
        for file in json_files(&adv.join("index-samples/debian-tracker-cve")) {
            source.add_tracker_states("debian-tracker", parse_tracker_json(&std::fs::read(&file).unwrap()).unwrap());
        }
        source
    })
}

fn os(id: &str, version: &str, eco: &str) -> OsRelease {
    OsRelease {
        id: id.into(),
        version_id: Some(version.into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some(eco.into()),
        distroless: false,
    }
}

/// A binary rpm built from `source` at `source_version` (SOURCERPM carries no epoch).
fn rpm(name: &str, version: &str, source: &str, source_version: &str) -> Package {
    report::rpm(name, version, source, source_version).layer(0).build()
}

fn scan(packages: &[Package], os: &OsRelease) -> (Vec<Vulnerability>, Vec<String>) {
    match_packages(packages, Some(os), source())
}

/// The finding with `id`, and the other ids found.
fn one<'a>(found: &'a [Vulnerability], id: &str) -> &'a Vulnerability {
    let hits: Vec<&Vulnerability> = found.iter().filter(|v| v.id == id).collect();
    assert_eq!(hits.len(), 1, "{id} in {found:#?}");
    hits[0]
}

fn ids(found: &[Vulnerability]) -> Vec<(&str, FixState)> {
    found.iter().map(|v| (v.id.as_str(), v.state)).collect()
}

fn rhel9() -> OsRelease {
    os("rhel", "9.4", "Red Hat:enterprise_linux:9")
}

#[test]
fn rhel9_openssl_below_and_at_fixed() {
    // cve-2024-0727-openssl.json: fixed in AppStream-9.4.0.GA / BaseOS-9.4.0.GA as
    // openssl-1:3.0.7-27.el9 (RHSA-2024:2447); CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H (5.5),
    // Red Hat impact Low.
    let below = rpm("openssl-libs", "1:3.0.7-26.el9", "openssl", "3.0.7-26.el9");
    let (found, warnings) = scan(&[below], &rhel9());
    // cve-2026-2673.json: red_hat_enterprise_linux_9:openssl is known_affected, none_available
    // "Fix deferred" — affected at any version.
    assert_eq!(ids(&found), vec![("CVE-2024-0727", FixState::Fixed), ("CVE-2026-2673", FixState::NotFixed)]);
    let v = one(&found, "CVE-2024-0727");
    assert_eq!(v.id, "CVE-2024-0727");
    assert!(v.aliases.contains(&"REDHAT-CVE-2024-0727".to_owned()), "{:?}", v.aliases);
    assert_eq!(v.state, FixState::Fixed);
    assert_eq!(v.fixed_versions, vec!["1:3.0.7-27.el9".to_owned()]);
    assert_eq!(v.severity, Severity::Medium);
    let cvss = v.cvss.as_ref().unwrap();
    assert_eq!((cvss.vector.as_str(), cvss.score), ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5));
    assert_eq!(v.sources, vec!["csaf:redhat-csaf-vex-samples/REDHAT-CVE-2024-0727".to_owned()]);
    // The source version got the binary's epoch: without it, 3.0.7-27.el9 would sort below
    // 1:3.0.7-27.el9 and the fixed build would be reported too.
    assert_eq!(v.package.matched_as.as_ref().unwrap().version.as_deref(), Some("1:3.0.7-26.el9"));
    assert!(warnings.iter().any(|w| w.contains("Red Hat:enterprise_linux:9 advisories from Red Hat CSAF VEX")));

    let at = rpm("openssl-libs", "1:3.0.7-27.el9", "openssl", "3.0.7-27.el9");
    assert_eq!(ids(&scan(&[at], &rhel9()).0), vec![("CVE-2026-2673", FixState::NotFixed)]);
}

#[test]
fn rhel9_curl_newest_stream_fix_applies() {
    // cve-2023-38545.json: RHEL 9 curl fixed as 7.76.1-23.el9_2.4 (9.2 EUS) and
    // 7.76.1-26.el9_3.2 (9.3 main): a 9.3 build below 26.el9_3.2 is affected.
    let p = rpm("libcurl", "7.76.1-26.el9_3", "curl", "7.76.1-26.el9_3");
    let (found, _) = scan(&[p], &rhel9());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].id.as_str(), found[0].state), ("CVE-2023-38545", FixState::Fixed));
    assert_eq!(found[0].fixed_versions, vec!["7.76.1-26.el9_3.2".to_owned()]);
    let fixed = rpm("libcurl", "7.76.1-26.el9_3.2", "curl", "7.76.1-26.el9_3.2");
    assert!(scan(&[fixed], &rhel9()).0.is_empty());
    // RHEL 8 curl is known_not_affected in the same document.
    let el8 = rpm("curl", "7.61.1-30.el8", "curl", "7.61.1-30.el8");
    assert!(scan(&[el8], &os("rhel", "8.8", "Red Hat:enterprise_linux:8")).0.is_empty());
}

#[test]
fn not_affected_products_are_not_reported() {
    // cve-2024-0727-openssl.json: BaseOS-9.4.0.GA openssl-fips-provider-0:3.0.7-2.el9 is
    // known_not_affected (vulnerable_code_not_present), though cve-2026-2673.json lists it as
    // known_affected; cve-2023-4154.json and cve-2023-42670.json: RHEL 9 samba (ctdb, …) is
    // known_not_affected.
    let fips = rpm("openssl-fips-provider", "3.0.7-2.el9", "openssl-fips-provider", "3.0.7-2.el9");
    let (found, _) = scan(&[fips], &rhel9());
    assert_eq!(ids(&found), vec![("CVE-2026-2673", FixState::NotFixed)]);
    let ctdb = rpm("ctdb", "4.18.6-100.el9", "samba", "4.18.6-100.el9");
    let (found, _) = scan(&[ctdb], &rhel9());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn no_fix_planned_is_wont_fix_and_fix_deferred_is_not_fixed() {
    // cve-2024-0727-openssl.json: red_hat_enterprise_linux_7:openssl is known_affected with a
    // no_fix_planned remediation "Out of support scope".
    let el7 = rpm("openssl-libs", "1:1.0.2k-26.el7_9", "openssl", "1.0.2k-26.el7_9");
    let (found, _) = scan(&[el7], &os("rhel", "7.9", "Red Hat:enterprise_linux:7"));
    // cve-2026-2673.json: red_hat_enterprise_linux_7:openssl known_affected, "Fix deferred".
    assert_eq!(ids(&found), vec![("CVE-2024-0727", FixState::WontFix), ("CVE-2026-2673", FixState::NotFixed)]);
    let v = one(&found, "CVE-2024-0727");
    assert!(v.explanation.contains("Red Hat: will not fix (Out of support scope)"), "{}", v.explanation);
    assert!(v.fixed_versions.is_empty());

    // Same document: red_hat_enterprise_linux_9:compat-openssl11 is known_affected with
    // none_available "Fix deferred".
    let compat = rpm("compat-openssl11", "1:1.1.1k-4.el9_0", "compat-openssl11", "1.1.1k-4.el9_0");
    let (found, _) = scan(&[compat], &rhel9());
    // cve-2026-2673.json also lists compat-openssl11 on RHEL 9 as known_affected, Fix deferred.
    assert_eq!(ids(&found), vec![("CVE-2024-0727", FixState::NotFixed), ("CVE-2026-2673", FixState::NotFixed)]);
    let v = one(&found, "CVE-2024-0727");
    assert!(v.explanation.contains("Red Hat: affected, no fix available (Fix deferred)"), "{}", v.explanation);
}

#[test]
fn rocky_falls_back_to_red_hat_with_a_warning() {
    // No Rocky Linux:9 records in the DB, so the RHEL 9 entries apply (cve-2025-6176.json:
    // brotli fixed in RHEL 9 as 1.0.9-9.el9_7).
    let p = rpm("brotli", "1.0.9-7.el9_5", "brotli", "1.0.9-7.el9_5");
    let (found, warnings) = scan(&[p], &os("rocky", "9.5", "Rocky Linux:9"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].id.as_str(), found[0].fixed_versions.as_slice()),
        ("CVE-2025-6176", &["1.0.9-9.el9_7".to_owned()][..])
    );
    assert!(
        warnings.iter().any(|w| w.contains("rpm packages of rocky matched against Red Hat:enterprise_linux:9")),
        "{warnings:?}"
    );
}

#[test]
fn rhel_without_csaf_data_warns() {
    // The DB has no RHEL 6..10 entries for RHEL 5 (no document names it).
    let p = rpm("openssl", "0.9.8e-40.el5", "openssl", "0.9.8e-40.el5");
    let (found, warnings) = scan(&[p], &os("rhel", "5.11", "Red Hat:enterprise_linux:5"));
    assert!(found.is_empty());
    assert!(warnings.iter().any(|w| w.contains("no Red Hat:enterprise_linux:5 advisories")), "{warnings:?}");
}

fn deb(name: &str, version: &str, source: &str) -> Package {
    report::deb(name, version, source).layer(0).build()
}

#[test]
fn debian_tracker_postponed_is_wont_fix() {
    // index-samples/debian-tracker-cve/CVE-2024-0727.json: "[buster] - openssl <postponed>
    // (Minor issue, DoS, Low severity)".
    let p = deb("libssl1.1", "1.1.1n-0+deb10u6", "openssl");
    let (found, _) = scan(&[p], &os("debian", "10", "Debian:10"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].id.as_str(), found[0].state), ("CVE-2024-0727", FixState::WontFix));
    assert!(
        found[0]
            .explanation
            .contains("Debian security tracker (Debian:10): postponed (Minor issue, DoS, Low severity)"),
        "{}",
        found[0].explanation
    );
}

#[test]
fn debian_tracker_official_json_urgency_and_states() {
    // The tracker's own JSON shape (written here; the real file is only online): bullseye
    // ignored (will not fix) with urgency low, bookworm a plain no-dsa.
    let tracker = br#"{"openssl": {"CVE-2024-0727": {"releases": {
            "bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
            "bookworm": {"status": "open", "urgency": "medium", "nodsa": "Minor issue", "nodsa_reason": ""}}}}}"#;
    // The DEBIAN-CVE shape again, open in bullseye and bookworm.
    let record = br#"{"id": "DEBIAN-CVE-2024-0727", "upstream": ["CVE-2024-0727"], "affected": [
            {"package": {"ecosystem": "Debian:11", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]},
            {"package": {"ecosystem": "Debian:12", "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#;
    let mut db = MemorySource::new();
    db.add_record("debian-open", &parse_record(record).unwrap());
    let states = parse_tracker_json(tracker).unwrap();
    assert_eq!(states.len(), 2);
    db.add_tracker_states("debian-tracker", states);
    let p = deb("libssl1.1", "1.1.1w-0+deb11u1", "openssl");
    let (found, _) = match_packages(&[p], Some(&os("debian", "11", "Debian:11")), &db);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].state, FixState::WontFix);
    assert_eq!(found[0].severity, Severity::Low);
    assert!(found[0].severity_source.as_deref().unwrap().starts_with("debian-tracker:debian-tracker"));
    assert!(found[0].explanation.contains("will not fix (ignored) (Minor issue)"), "{}", found[0].explanation);

    let p = deb("libssl3", "3.0.11-1~deb12u2", "openssl");
    let (found, _) = match_packages(&[p], Some(&os("debian", "12", "Debian:12")), &db);
    assert_eq!((found[0].state, found[0].severity), (FixState::NotFixed, Severity::Medium));
    assert!(found[0].explanation.contains("no-dsa (Minor issue)"), "{}", found[0].explanation);
}
