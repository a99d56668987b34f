//! Matching against a DB built from the real advisories in `../shared/advisories` (read in
//! place). Every expectation is read off the named record.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_core::report::{FixState, OsRelease, Package, Severity, SourcePackage, Vulnerability};
use bulwark_match::match_packages;
use bulwark_testkit::report;
use bulwark_vulndb::{Db, DbBuilder};

/// The shared data folder, checked to hold `advisories`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories");
    bulwark_testkit::shared()
}

const SOURCES: [(&str, &str); 5] = [
    ("debian-elts-osv", "debian-elts-osv/advisories"),
    ("go-vulndb", "go-vulndb/data/osv"),
    ("rustsec-osv", "rustsec-osv/crates"),
    ("pypa-advisory-db", "pypa-advisory-db/vulns"),
    ("ghsa-sample", "index-samples/ghsa-osv"),
];

/// One DB for all tests (built once into the target's temp dir).
fn db() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-match-tests.db");
        let adv = shared().join("advisories");
        let mut b = DbBuilder::new(&path).unwrap();
        for (name, rel) in SOURCES {
            b.add_osv(name, adv.join(rel)).unwrap();
        }
        b.add_kev("cisa-kev", adv.join("cisa-kev/known_exploited_vulnerabilities.json")).unwrap();
        b.finish().unwrap();
        path
    })
}

fn package(ecosystem: &str, name: &str, version: &str) -> Package {
    report::package(ecosystem, name, version).location(&format!("/fake/{name}")).layer(0).build()
}

fn deb(name: &str, version: &str, source: &str) -> Package {
    report::package("deb", name, version).source(source).location("/var/lib/dpkg/status").layer(0).build()
}

fn debian(release: &str, osv: Option<&str>) -> OsRelease {
    OsRelease {
        id: "debian".into(),
        version_id: Some(release.into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: osv.map(Into::into),
        distroless: false,
    }
}

fn run(packages: &[Package], os: Option<&OsRelease>) -> (Vec<Vulnerability>, Vec<String>) {
    let db = Db::open(db()).unwrap();
    match_packages(packages, os, &db)
}

fn ids(found: &[Vulnerability]) -> Vec<&str> {
    let mut ids: Vec<&str> = found.iter().map(|v| v.id.as_str()).collect();
    ids.sort();
    ids
}

fn find<'a>(found: &'a [Vulnerability], id: &str) -> &'a Vulnerability {
    found.iter().find(|v| v.id == id).unwrap_or_else(|| panic!("{id} not found in {:?}", ids(found)))
}

#[test]
fn debian_epoch_source_package_below_and_at_fix() {
    let os = debian("10", Some("Debian:10"));
    // ELA-1619-1: inetutils fixed in 2:1.9.4-7+deb10u4; ELA-1692-1: fixed in 2:1.9.4-7+deb10u5.
    // The binary package inetutils-telnet is matched by its source package name.
    let (found, warnings) = run(&[deb("inetutils-telnet", "2:1.9.4-7+deb10u3", "inetutils")], Some(&os));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(ids(&found), ["ELA-1619-1", "ELA-1692-1"]);
    let v = find(&found, "ELA-1619-1");
    assert_eq!(v.state, FixState::Fixed);
    assert_eq!(v.fixed_versions, ["2:1.9.4-7+deb10u4"]);
    assert_eq!(v.sources, ["osv:Debian:10/ELA-1619-1"]);
    assert_eq!(v.package.name, "inetutils-telnet");
    assert_eq!(
        v.package.matched_as,
        Some(SourcePackage { name: "inetutils".into(), version: Some("2:1.9.4-7+deb10u3".into()) })
    );
    assert!(v.explanation.contains("installed 2:1.9.4-7+deb10u3 < fixed 2:1.9.4-7+deb10u4"), "{}", v.explanation);
    assert!(v.explanation.contains("Debian:10 ECOSYSTEM range, dpkg ordering"), "{}", v.explanation);
    assert_eq!(find(&found, "ELA-1692-1").fixed_versions, ["2:1.9.4-7+deb10u5"]);

    // At ELA-1619-1's fixed version only ELA-1692-1 remains; at ELA-1692-1's nothing.
    let (found, _) = run(&[deb("inetutils-telnet", "2:1.9.4-7+deb10u4", "inetutils")], Some(&os));
    assert_eq!(ids(&found), ["ELA-1692-1"]);
    let (found, _) = run(&[deb("inetutils-telnet", "2:1.9.4-7+deb10u5", "inetutils")], Some(&os));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn debian_tilde_backport_version() {
    let os = debian("10", Some("Debian:10"));
    // ELA-1474-1: catdoc fixed in 1:0.95-4.1+deb11u1~deb10u1 (a bullseye backport, `~`).
    let (found, _) = run(&[deb("catdoc", "1:0.95-4.1", "catdoc")], Some(&os));
    assert_eq!(ids(&found), ["ELA-1474-1"]);
    assert_eq!(found[0].fixed_versions, ["1:0.95-4.1+deb11u1~deb10u1"]);
    assert_eq!(found[0].package.matched_as, None, "binary and source are the same");
    let (found, _) = run(&[deb("catdoc", "1:0.95-4.1+deb11u1~deb10u1", "catdoc")], Some(&os));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn debian_really_version() {
    let os = debian("10", Some("Debian:10"));
    // ELA-1742-1: p7zip fixed in 16.02+really25.01+dfsg-0+deb10u1; ELA-1794-1 in
    // 16.02+really26.02+dfsg-0+deb10u1. buster shipped 16.02+dfsg-6.
    let (found, _) = run(&[deb("p7zip-full", "16.02+dfsg-6", "p7zip")], Some(&os));
    assert_eq!(ids(&found), ["ELA-1742-1", "ELA-1794-1"]);
    let (found, _) = run(&[deb("p7zip-full", "16.02+really25.01+dfsg-0+deb10u1", "p7zip")], Some(&os));
    assert_eq!(ids(&found), ["ELA-1794-1"]);
    assert_eq!(found[0].fixed_versions, ["16.02+really26.02+dfsg-0+deb10u1"]);
}

#[test]
fn debian_backport_with_old_upstream_is_not_reported() {
    let os = debian("10", Some("Debian:10"));
    // krb5: ELA-1141-1 fixed 1.17-3+deb10u7, ELA-1328-1 fixed +deb10u8, ELA-1450-1 fixed
    // +deb10u9. Upstream 1.17 is old, but +deb10u9 carries every fix: nothing to report.
    let (found, _) = run(&[deb("libkrb5-3", "1.17-3+deb10u9", "krb5")], Some(&os));
    assert!(found.is_empty(), "{found:?}");
    let (found, _) = run(&[deb("libkrb5-3", "1.17-3+deb10u7", "krb5")], Some(&os));
    assert_eq!(ids(&found), ["ELA-1328-1", "ELA-1450-1"]);
    // The source version wins over the binary's own (a binNMU `+b1` binary of +deb10u9).
    let mut binnmu = deb("libkrb5-3", "1.17-3+deb10u9+b1", "krb5");
    binnmu.source.as_mut().unwrap().version = Some("1.17-3+deb10u9".into());
    assert!(run(&[binnmu], Some(&os)).0.is_empty());
}

#[test]
fn only_the_distro_release_is_matched() {
    // krb5 in Debian 9 at 1.15-1+deb9u4: ELA-753-1 (fixed +deb9u4) no longer applies;
    // ELA-987-1 (+deb9u5), ELA-1141-1 (+deb9u6), ELA-1328-1 (+deb9u7) and ELA-1450-1 (+deb9u8)
    // do, each with its Debian:9 fixed version.
    let (found, _) = run(&[deb("libkrb5-3", "1.15-1+deb9u4", "krb5")], Some(&debian("9", Some("Debian:9"))));
    assert_eq!(ids(&found), ["ELA-1141-1", "ELA-1328-1", "ELA-1450-1", "ELA-987-1"]);
    assert_eq!(find(&found, "ELA-987-1").fixed_versions, ["1.15-1+deb9u5"]);
    assert!(found.iter().all(|v| v.sources.iter().all(|s| s.starts_with("osv:Debian:9/"))), "{found:?}");
    // The same version string on Debian 10 is compared with Debian:10 records only:
    // ELA-987-1 has no Debian:10 entry.
    let (found, _) = run(&[deb("libkrb5-3", "1.15-1+deb9u4", "krb5")], Some(&debian("10", Some("Debian:10"))));
    assert_eq!(ids(&found), ["ELA-1141-1", "ELA-1328-1", "ELA-1450-1"]);
    assert_eq!(find(&found, "ELA-1141-1").fixed_versions, ["1.17-3+deb10u7"]);
}

#[test]
fn unknown_distro_is_a_warning_not_findings() {
    let eol = debian("6", None);
    let (found, warnings) = run(&[deb("libkrb5-3", "1.8.3-1", "krb5")], Some(&eol));
    assert!(found.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("no advisory ecosystem for debian 6"), "{warnings:?}");
    let (found, warnings) = run(&[deb("libkrb5-3", "1.17-3", "krb5")], None);
    assert!(found.is_empty());
    assert!(warnings[0].contains("distribution was not identified"), "{warnings:?}");
    // This DB has no Red Hat CSAF VEX entries: a warning naming what is missing, never a
    // silent clean result (matching against them: tests/distro_states.rs).
    let mut rhel = debian("9.3", Some("Red Hat:enterprise_linux:9"));
    rhel.id = "rhel".into();
    let mut rpm = deb("openssl-libs", "1:3.0.7-24.el9", "openssl");
    rpm.ecosystem = "rpm".into();
    let (found, warnings) = run(&[rpm], Some(&rhel));
    assert!(found.is_empty());
    assert!(warnings.len() == 1 && warnings[0].contains("no Red Hat:enterprise_linux:9 advisories"), "{warnings:?}");
}

#[test]
fn removed_packages_are_not_matched() {
    let os = debian("10", Some("Debian:10"));
    let mut p = deb("catdoc", "1:0.95-4.1", "catdoc");
    p.removed_in = Some(1);
    assert!(run(&[p], Some(&os)).0.is_empty());
}

#[test]
fn pypi_duplicate_records_are_merged() {
    // PYSEC-2021-871 and PYSEC-2021-872 are both CVE-2021-42343 (distributed < 2021.10.0).
    let (found, warnings) = run(&[package("pypi", "Distributed", "2021.9.0")], None);
    assert!(warnings.is_empty(), "{warnings:?}");
    let v = find(&found, "CVE-2021-42343");
    assert_eq!(found.iter().filter(|v| v.id == "CVE-2021-42343").count(), 1);
    assert_eq!(v.sources, ["osv:PyPI/PYSEC-2021-871", "osv:PyPI/PYSEC-2021-872"]);
    assert_eq!(v.aliases, ["GHSA-hwqr-f3v9-hwxr", "GHSA-j8fq-86c5-5v2r", "PYSEC-2021-871", "PYSEC-2021-872"]);
    assert_eq!(v.fixed_versions, ["2021.10.0"]);
    assert_eq!(v.state, FixState::Fixed);
    assert!(v.explanation.starts_with("PYSEC-2021-871: installed 2021.9.0 < fixed 2021.10.0"), "{}", v.explanation);
    assert!(run(&[package("pypi", "distributed", "2021.10.0")], None).0.iter().all(|v| v.id != "CVE-2021-42343"));
}

#[test]
fn pypi_last_affected() {
    // PYSEC-2022-42969: py, introduced 0, last_affected 1.11.0 (no fix published).
    let (found, _) = run(&[package("pypi", "py", "1.11.0")], None);
    let v = find(&found, "CVE-2022-42969");
    assert_eq!(v.state, FixState::NotFixed);
    assert!(v.fixed_versions.is_empty());
    assert!(v.explanation.contains("installed 1.11.0 <= last_affected 1.11.0"), "{}", v.explanation);
    assert!(v.explanation.contains("PEP 440 ordering"), "{}", v.explanation);
}

#[test]
fn go_module_and_pseudo_versions() {
    // GO-2023-1571 (CVE-2022-41723): golang.org/x/net fixed in 0.7.0.
    let (found, warnings) = run(&[package("golang", "golang.org/x/net", "v0.6.0")], None);
    assert!(warnings.is_empty(), "{warnings:?}");
    let v = find(&found, "CVE-2022-41723");
    assert_eq!(v.fixed_versions, ["0.7.0"]);
    assert_eq!(v.aliases, ["GHSA-vvpx-j8f3-3w6h", "GO-2023-1571"]);
    assert_eq!(
        v.title.as_deref(),
        Some("Denial of service via crafted HTTP/2 stream in net/http and golang.org/x/net")
    );
    let (found, _) = run(&[package("golang", "golang.org/x/net", "v0.7.0")], None);
    assert!(found.iter().all(|v| v.id != "CVE-2022-41723"));
    // GO-2023-1495 (CVE-2022-41721): introduced and fixed at pseudo-versions.
    let (found, _) = run(&[package("golang", "golang.org/x/net", "v0.1.0")], None);
    assert_eq!(find(&found, "CVE-2022-41721").fixed_versions, ["0.1.1-0.20221104162952-702349b0e862"]);
}

#[test]
fn go_stdlib() {
    // GO-2024-2887 (CVE-2024-24790): fixed 1.21.11 and, from 1.22.0-0, 1.22.4.
    // GO-2024-2824 (CVE-2024-24788): introduced 1.22.0-0, fixed 1.22.3.
    let (found, _) = run(&[package("golang", "stdlib", "v1.22.1")], None);
    assert_eq!(find(&found, "CVE-2024-24790").fixed_versions, ["1.22.4"]);
    assert_eq!(find(&found, "CVE-2024-24788").fixed_versions, ["1.22.3"]);
    let (found, _) = run(&[package("golang", "stdlib", "v1.21.11")], None);
    assert!(found.iter().all(|v| v.id != "CVE-2024-24790" && v.id != "CVE-2024-24788"));
}

#[test]
fn crates_io_unfixed_and_merged() {
    // RUSTSEC-2019-0036 and RUSTSEC-2020-0036 (failure, introduced 0.0.0-0, no fix) share
    // CVE-2019-25010 and CVE-2020-25575: one finding, the lower CVE as id, not fixed.
    let (found, warnings) = run(&[package("cargo", "failure", "0.1.8")], None);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(ids(&found), ["CVE-2019-25010"]);
    let v = &found[0];
    assert_eq!(v.state, FixState::NotFixed);
    assert_eq!(v.sources, ["osv:crates.io/RUSTSEC-2019-0036", "osv:crates.io/RUSTSEC-2020-0036"]);
    assert!(v.aliases.contains(&"CVE-2020-25575".to_owned()));
    assert!(v.explanation.contains("no fixed version in crates.io SEMVER range, SemVer ordering"), "{}", v.explanation);
}

#[test]
fn withdrawn_advisories_never_match() {
    // RUSTSEC-2020-0053 (dirs) and PYSEC-2023-73 (redis) are withdrawn.
    let (found, _) = run(&[package("cargo", "dirs", "1.0.5"), package("pypi", "redis", "4.5.3")], None);
    assert!(
        found
            .iter()
            .all(|v| !v.sources.iter().any(|s| s.ends_with("/RUSTSEC-2020-0053") || s.ends_with("/PYSEC-2023-73")))
    );
}

#[test]
fn maven_ghsa_with_kev_and_cvss() {
    // GHSA-jfh8-c2jp-5v3q (CVE-2021-44228, in CISA KEV): log4j-core 2.13.0 <= v < 2.15.0,
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H = 10.0.
    let (found, _) = run(&[package("maven", "org.apache.logging.log4j:log4j-core", "2.14.1")], None);
    let v = find(&found, "CVE-2021-44228");
    assert!(v.kev);
    assert_eq!(v.severity, Severity::Critical);
    let cvss = v.cvss.as_ref().unwrap();
    assert_eq!((cvss.version.as_str(), cvss.score), ("3.1", 10.0));
    assert_eq!(v.fixed_versions, ["2.15.0"]);
    assert_eq!(v.title.as_deref(), Some("Remote code injection in Log4j"));
    assert!(v.severity_source.as_deref().unwrap().starts_with("GHSA-jfh8-c2jp-5v3q osv:severity"));
}

#[test]
fn output_is_sorted_and_deterministic() {
    let os = debian("10", Some("Debian:10"));
    let packages = [
        deb("p7zip-full", "16.02+dfsg-6", "p7zip"),
        package("golang", "stdlib", "v1.20.0"),
        package("pypi", "distributed", "2021.9.0"),
        package("maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
        package("unknown-type", "x", "1"),
    ];
    let (a, wa) = run(&packages, Some(&os));
    let mut reversed = packages.to_vec();
    reversed.reverse();
    let (b, wb) = run(&reversed, Some(&os));
    assert_eq!(a, b);
    assert_eq!(wa, wb);
    assert_eq!(wa, ["unknown-type packages not matched: no OSV ecosystem for this package type"]);
    assert!(a.len() > 10);
    assert!(
        a.windows(2).all(|w| w[0].severity > w[1].severity || (w[0].severity == w[1].severity && w[0].id <= w[1].id))
    );
    assert_eq!(a[0].severity, Severity::Critical);
}
