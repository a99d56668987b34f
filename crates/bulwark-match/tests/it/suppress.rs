//! Ignore files and VEX documents applied to findings matched against real advisories from
//! `../shared/advisories` (read in place, held in a `MemorySource`: no database needed).
//! The ignore files and VEX documents are written here; the ids, packages and versions are
//! read off the named records.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bulwark_advisory::{MemorySource, parse_record};
use bulwark_core::Digest;
use bulwark_core::report::{ExceptionStatus, OsRelease, Package, ScanReport, SourcePackage, Suppression};
use bulwark_core::time::Date;
use bulwark_match::match_packages;
use bulwark_match::suppress::{self, IgnoreFile, Vex, VexFormat, VexStatus};

/// The shared data folder, checked to hold `advisories`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories");
    bulwark_testkit::shared()
}

/// The records the findings come from:
/// - GO-2023-1571 = CVE-2022-41723 (alias GHSA-vvpx-j8f3-3w6h): golang.org/x/net < 0.7.0;
/// - PYSEC-2021-871/-872 = CVE-2021-42343: distributed < 2021.10.0;
/// - PYSEC-2022-42969 = CVE-2022-42969: py <= 1.11.0, no fix;
/// - ELA-1619-1 and ELA-1692-1: inetutils (Debian:10) < 2:1.9.4-7+deb10u4 / +deb10u5.
const RECORDS: [&str; 6] = [
    "go-vulndb/data/osv/GO-2023-1571.json",
    "pypa-advisory-db/vulns/distributed/PYSEC-2021-871.yaml",
    "pypa-advisory-db/vulns/distributed/PYSEC-2021-872.yaml",
    "pypa-advisory-db/vulns/py/PYSEC-2022-42969.yaml",
    "debian-elts-osv/advisories/ELA-1619-1.json",
    "debian-elts-osv/advisories/ELA-1692-1.json",
];

const DIGEST: &str = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126";

fn source() -> &'static MemorySource {
    static SOURCE: OnceLock<MemorySource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let mut source = MemorySource::new();
        for (i, rel) in RECORDS.iter().enumerate() {
            let bytes = std::fs::read(shared().join("advisories").join(rel)).unwrap();
            source.add_record(&format!("record-{i}"), &parse_record(&bytes).unwrap());
        }
        source
    })
}

fn package(ty: &str, name: &str, version: &str, purl: &str, location: &str) -> Package {
    bulwark_testkit::report::package(ty, name, version).purl(purl).location(location).layer(1).build()
}

/// A report with the five findings of the records above.
fn report() -> ScanReport {
    let mut telnet = package(
        "deb",
        "inetutils-telnet",
        "2:1.9.4-7+deb10u3",
        "pkg:deb/debian/inetutils-telnet@2%3A1.9.4-7%2Bdeb10u3?arch=amd64&distro=debian-10",
        "/var/lib/dpkg/status",
    );
    telnet.source = Some(SourcePackage { name: "inetutils".into(), version: None });
    let packages = [
        package("golang", "golang.org/x/net", "v0.6.0", "pkg:golang/golang.org/x/net@v0.6.0", "/usr/local/bin/app"),
        package(
            "pypi",
            "distributed",
            "2021.9.0",
            "pkg:pypi/distributed@2021.9.0",
            "/usr/lib/python3/site-packages/distributed-2021.9.0.dist-info/METADATA",
        ),
        package(
            "pypi",
            "py",
            "1.11.0",
            "pkg:pypi/py@1.11.0",
            "/usr/lib/python3/site-packages/py-1.11.0.dist-info/METADATA",
        ),
        telnet,
    ];
    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("10".into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some("Debian:10".into()),
        distroless: false,
    };
    let (vulnerabilities, warnings) = match_packages(&packages, Some(&os), source());
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut report = ScanReport { vulnerabilities, ..ScanReport::default() };
    report.image.reference = "registry:ghcr.io/acme/app:1.0".into();
    report.image.manifest_digest = Some(DIGEST.parse::<Digest>().unwrap());
    assert_eq!(ids(&report), ["CVE-2021-42343", "CVE-2022-41723", "CVE-2022-42969", "ELA-1619-1", "ELA-1692-1"]);
    report
}

fn ids(report: &ScanReport) -> Vec<&str> {
    let mut ids: Vec<&str> = report.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
    ids.sort();
    ids
}

fn suppressed(report: &ScanReport) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> =
        report.suppressed.iter().map(|s| (s.vulnerability.id.as_str(), s.justification.as_str())).collect();
    out.sort();
    out
}

fn status(report: &ScanReport) -> Vec<(&str, ExceptionStatus, &[String])> {
    report.suppressions.iter().map(|s| (s.id.as_str(), s.status, s.matched.as_slice())).collect()
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn ignore_file_scopes_expiry_and_unused_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "ignore.yaml",
        r#"
ignores:
  # An alias of the finding (CVE-2022-41723), scoped to the package by name.
  - id: GHSA-vvpx-j8f3-3w6h
    package: golang.org/x/net
    reason: the HTTP/2 server is not used
    expires: 2030-01-01
  # Right id, wrong version: matches nothing.
  - id: CVE-2021-42343
    package: pkg:pypi/distributed@2021.8.0
    reason: not reachable
    expires: 2030-01-01
  # Expired the day before "today".
  - id: CVE-2022-42969
    reason: py is only used in tests
    expires: 2025-05-31
  # Path and image globs; expires today, so still applies.
  - id: ela-1619-1
    path: /var/lib/dpkg/**
    image: ghcr.io/acme/*
    reason: telnet client is never run
    expires: "2025-06-01"
"#,
    );
    let ignores = suppress::load_ignore_file(&path).unwrap();
    assert_eq!(ignores.entries.len(), 4);
    assert_eq!(ignores.entries[3].expires, day("2025-06-01"));

    let mut report = report();
    suppress::apply(&mut report, &[ignores], &[], day("2025-06-01"));
    assert_eq!(ids(&report), ["CVE-2021-42343", "CVE-2022-42969", "ELA-1692-1"]);
    assert_eq!(
        suppressed(&report),
        [("CVE-2022-41723", "the HTTP/2 server is not used"), ("ELA-1619-1", "telnet client is never run")]
    );
    let source = format!("ignore:{}", path.display());
    assert!(report.suppressed.iter().all(|s| s.by == source));
    let applied = |m: &str| vec![m.to_owned()];
    assert_eq!(
        status(&report),
        [
            (
                "GHSA-vvpx-j8f3-3w6h",
                ExceptionStatus::Applied,
                applied("CVE-2022-41723 golang.org/x/net@v0.6.0").as_slice()
            ),
            ("CVE-2021-42343", ExceptionStatus::Unused, &[][..]),
            ("CVE-2022-42969", ExceptionStatus::Expired, &[][..]),
            (
                "ela-1619-1",
                ExceptionStatus::Applied,
                applied("ELA-1619-1 inetutils-telnet@2:1.9.4-7+deb10u3").as_slice()
            ),
        ]
    );
    assert_eq!(report.suppressions[1].scope.as_deref(), Some("package=pkg:pypi/distributed@2021.8.0"));
    assert_eq!(report.suppressions[2].expires.as_deref(), Some("2025-05-31"));

    // The day after, the last entry has expired too and its finding is back.
    let mut report2 = self::report();
    let ignores = suppress::load_ignore_file(&path).unwrap();
    suppress::apply(&mut report2, &[ignores], &[], day("2025-06-02"));
    assert_eq!(ids(&report2), ["CVE-2021-42343", "CVE-2022-42969", "ELA-1619-1", "ELA-1692-1"]);
    assert_eq!(report2.suppressions[3].status, ExceptionStatus::Expired);
}

#[test]
fn ignore_scope_mismatches_do_not_suppress() {
    let text = r#"{"ignores": [
        {"id": "CVE-2021-42343", "image": "ghcr.io/other/*", "reason": "r", "expires": "2030-01-01"},
        {"id": "CVE-2021-42343", "path": "/opt/**", "reason": "r", "expires": "2030-01-01"},
        {"id": "CVE-2021-42343", "package": "py", "reason": "r", "expires": "2030-01-01"},
        {"id": "ELA-1692-1", "package": "inetutils", "image": "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126", "reason": "source package and digest", "expires": "2030-01-01"}
    ]}"#;
    let ignores = suppress::parse_ignore_file(text.as_bytes(), "ignore:test.json").unwrap();
    let mut report = report();
    suppress::apply(&mut report, &[ignores], &[], day("2025-06-01"));
    assert_eq!(ids(&report), ["CVE-2021-42343", "CVE-2022-41723", "CVE-2022-42969", "ELA-1619-1"]);
    let statuses: Vec<ExceptionStatus> = report.suppressions.iter().map(|s| s.status).collect();
    use ExceptionStatus::{Applied, Unused};
    assert_eq!(statuses, [Unused, Unused, Unused, Applied]);
}

#[test]
fn ignore_file_errors() {
    for (text, want) in [
        ("ignores:\n  - id: CVE-1\n    expires: 2030-01-01\n", "no reason"),
        ("ignores:\n  - id: CVE-1\n    reason: x\n", "no expires date"),
        ("ignores:\n  - id: CVE-1\n    reason: x\n    expires: 2030-02-30\n", "not a date"),
        ("ignores:\n  - id: CVE-1\n    reason: x\n    expires: 2030-01-01\n    expiry: 2031-01-01\n", "expiry"),
        ("ignores:\n  - id: ' '\n    reason: x\n    expires: 2030-01-01\n", "empty id"),
        ("ignores:\n  - id: CVE-1\n    package: 'pkg:'\n    reason: x\n    expires: 2030-01-01\n", "package"),
        (r#"{"ignores": [{"id": "CVE-1", "reason": "x"}]}"#, "no expires date"),
        ("[1, 2", "ignore:f"),
    ] {
        let err = suppress::parse_ignore_file(text.as_bytes(), "ignore:f").unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
        assert!(err.starts_with("ignore:f: "), "{err}");
    }
    assert!(suppress::parse_ignore_file(b"", "ignore:f").unwrap().entries.is_empty());
    let missing = suppress::load_ignore_file("/nonexistent/ignore.yaml").unwrap_err().to_string();
    assert!(missing.contains("/nonexistent/ignore.yaml"), "{missing}");
}

fn openvex(dir: &Path) -> (PathBuf, Vex) {
    let text = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/app-1.0",
        "author": "ACME security team",
        "timestamp": "2025-05-01T10:00:00Z",
        "version": 1,
        "statements": [
            {   // The image, limited to a subcomponent given without version: any version.
                "vulnerability": {"name": "CVE-2021-42343"},
                "products": [{"@id": format!("pkg:oci/app@{}", DIGEST.replace(':', "%3A")),
                              "subcomponents": [{"@id": "pkg:pypi/Distributed"}]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "the scheduler is not exposed"
            },
            {   // Does not suppress, but is recorded on the finding.
                "vulnerability": {"name": "CVE-2022-42969"},
                "products": [{"identifiers": {"purl": "pkg:pypi/py@1.11.0"}}],
                "status": "under_investigation"
            },
            {   // A different version of the package: matches nothing.
                "vulnerability": {"name": "GO-2023-1571", "aliases": ["CVE-2022-41723"]},
                "products": [{"@id": "pkg:golang/golang.org/x/net@v0.7.0"}],
                "status": "fixed"
            },
            {   // The source package at the installed version (epoch in the purl version).
                "vulnerability": {"name": "ELA-1692-1"},
                "products": [{"@id": "pkg:deb/debian/inetutils@2%3A1.9.4-7%2Bdeb10u3?distro=debian-10"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_present"
            },
            {   // Another image.
                "vulnerability": {"name": "ELA-1619-1"},
                "products": [{"@id": "pkg:oci/app@sha256%3A0000000000000000000000000000000000000000000000000000000000000000"}],
                "status": "not_affected",
                "justification": "component_not_present"
            }
        ]
    });
    let path = write(dir, "app.openvex.json", &serde_json::to_string_pretty(&text).unwrap());
    let vex = suppress::load_vex(&path).unwrap();
    (path, vex)
}

#[test]
fn openvex_statements() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vex) = openvex(dir.path());
    assert_eq!(vex.format, VexFormat::OpenVex);
    assert_eq!(vex.source, format!("openvex:{}", path.display()));
    assert_eq!(vex.statements.len(), 5);
    assert_eq!(vex.statements[2].aliases, ["CVE-2022-41723"]);

    let mut report = report();
    suppress::apply(&mut report, &[], &[vex], day("2025-06-01"));
    assert_eq!(ids(&report), ["CVE-2022-41723", "CVE-2022-42969", "ELA-1619-1"]);
    assert_eq!(
        suppressed(&report),
        [
            ("CVE-2021-42343", "not_affected: vulnerable_code_not_in_execute_path: the scheduler is not exposed"),
            ("ELA-1692-1", "not_affected: vulnerable_code_not_present"),
        ]
    );
    let py = report.vulnerabilities.iter().find(|v| v.id == "CVE-2022-42969").unwrap();
    assert!(
        py.explanation.ends_with(&format!("; VEX openvex:{}: under_investigation", path.display())),
        "{}",
        py.explanation
    );
    use ExceptionStatus::{Applied, Unused};
    let got: Vec<(&str, ExceptionStatus)> = report.suppressions.iter().map(|s| (s.id.as_str(), s.status)).collect();
    // The under_investigation statement matched a finding: recorded there, not listed.
    assert_eq!(
        got,
        [("CVE-2021-42343", Applied), ("GO-2023-1571", Unused), ("ELA-1692-1", Applied), ("ELA-1619-1", Unused)]
    );
    assert_eq!(report.suppressions[0].matched, ["CVE-2021-42343 distributed@2021.9.0"]);
}

#[test]
fn cyclonedx_vex_statements() {
    let dir = tempfile::tempdir().unwrap();
    let bom = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {"type": "library", "bom-ref": "py-lib", "name": "py", "version": "1.11.0", "purl": "pkg:pypi/py@1.11.0"}
        ],
        "vulnerabilities": [
            {   "id": "CVE-2022-42969",
                "analysis": {"state": "false_positive", "detail": "py.path.svnwc is never used"},
                "affects": [{"ref": "py-lib"}] },
            {   "id": "CVE-2021-42343",
                "analysis": {"state": "in_triage"},
                "affects": [{"ref": "pkg:pypi/distributed@2021.9.0"}] },
            {   "id": "ELA-1619-1",
                "analysis": {"state": "resolved", "response": ["update"]},
                "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:deb/debian/inetutils-telnet@2%3A1.9.4-7%2Bdeb10u3"}] },
            {   "id": "CVE-2022-41723",
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "pkg:golang/golang.org/x/net@0.6.0"}] },
            {   "id": "CVE-2099-0001",
                "analysis": {"state": "exploitable"},
                "affects": [{"ref": "py-lib"}] },
            {   "id": "CVE-2099-0002", "description": "a finding without analysis is not a statement",
                "affects": [{"ref": "py-lib"}] }
        ]
    });
    let path = write(dir.path(), "bom.vex.json", &serde_json::to_string(&bom).unwrap());
    let vex = suppress::load_vex(&path).unwrap();
    assert_eq!(vex.format, VexFormat::CycloneDx);
    assert_eq!(vex.statements.len(), 5);
    assert_eq!(vex.statements[0].products[0].id, "pkg:pypi/py@1.11.0");
    assert_eq!(vex.statements[4].status, VexStatus::Exploitable);

    let mut report = report();
    suppress::apply(&mut report, &[], &[vex], day("2025-06-01"));
    // `0.6.0` names Go's v0.6.0: versions compare by the ecosystem's ordering.
    assert_eq!(ids(&report), ["CVE-2021-42343", "ELA-1692-1"]);
    assert_eq!(
        suppressed(&report),
        [
            ("CVE-2022-41723", "not_affected: code_not_reachable"),
            ("CVE-2022-42969", "false_positive: py.path.svnwc is never used"),
            ("ELA-1619-1", "resolved: response: update"),
        ]
    );
    let distributed = report.vulnerabilities.iter().find(|v| v.id == "CVE-2021-42343").unwrap();
    assert!(distributed.explanation.contains("; VEX cyclonedx-vex:"), "{}", distributed.explanation);
    assert!(distributed.explanation.ends_with(": in_triage"), "{}", distributed.explanation);
    let unused: Vec<&Suppression> =
        report.suppressions.iter().filter(|s| s.status == ExceptionStatus::Unused).collect();
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].id, "CVE-2099-0001");
}

#[test]
fn ignore_files_come_before_vex() {
    let dir = tempfile::tempdir().unwrap();
    let (_, vex) = openvex(dir.path());
    let ignores: IgnoreFile = suppress::parse_ignore_file(
        b"ignores:\n  - id: CVE-2021-42343\n    reason: accepted risk\n    expires: 2030-01-01\n",
        "ignore:team.yaml",
    )
    .unwrap();
    let mut report = report();
    suppress::apply(&mut report, &[ignores], &[vex], day("2025-06-01"));
    let s = report.suppressed.iter().find(|s| s.vulnerability.id == "CVE-2021-42343").unwrap();
    assert_eq!((s.by.as_str(), s.justification.as_str()), ("ignore:team.yaml", "accepted risk"));
    // The VEX statement for the same finding then matched nothing.
    let vex_entry = report.suppressions.iter().find(|s| s.source.starts_with("openvex:") && s.id == "CVE-2021-42343");
    assert_eq!(vex_entry.unwrap().status, ExceptionStatus::Unused);
    // Deterministic: applying the same inputs again gives the same report.
    let mut again = self::report();
    let (_, vex) = openvex(dir.path());
    let ignores = suppress::parse_ignore_file(
        b"ignores:\n  - id: CVE-2021-42343\n    reason: accepted risk\n    expires: 2030-01-01\n",
        "ignore:team.yaml",
    )
    .unwrap();
    suppress::apply(&mut again, &[ignores], &[vex], day("2025-06-01"));
    assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&report).unwrap());
}

#[test]
fn go_vex_sample_documents() {
    let dir = shared().join("schemas/openvex/testdata/go-vex");
    // v0.2.0.json: five statements about an Alpine image's libssl3/libcrypto3.
    let vex = suppress::load_vex(dir.join("v0.2.0.json")).unwrap();
    let statuses: Vec<(&str, VexStatus)> =
        vex.statements.iter().map(|s| (s.vulnerability.as_str(), s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("CVE-2023-1255", VexStatus::Fixed),
            ("CVE-2023-2650", VexStatus::Fixed),
            ("CVE-2023-2975", VexStatus::Fixed),
            ("CVE-2023-3446", VexStatus::NotAffected),
            ("CVE-2023-3817", VexStatus::NotAffected),
        ]
    );
    assert_eq!(
        vex.statements[0].products[0].subcomponents,
        ["pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3"]
    );
    assert_eq!(vex.statements[3].detail.as_deref(), Some("affected functions were removed before packaging"));
    // The pre-0.2.0 form: string vulnerability and products.
    let old = suppress::load_vex(dir.join("v0.0.1.json")).unwrap();
    assert_eq!(old.statements[0].vulnerability, "CVE-2023-12345");
    assert_eq!(old.statements[0].products.len(), 2);
    let partial = suppress::load_vex(dir.join("v020-1.vex.json")).unwrap();
    assert_eq!(partial.statements[0].status, VexStatus::UnderInvestigation);
}

#[test]
fn vex_errors() {
    for (text, want) in [
        ("not json", "not JSON"),
        ("[]", "not a JSON object"),
        ("{}", "neither OpenVEX"),
        (
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}], "status": "resolved"}]}"#,
            "not an OpenVEX status",
        ),
        (
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "fixed"}]}"#,
            "no products",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "fixed"}, "affects": [{"ref": "x"}]}]}"#,
            "not a CycloneDX state",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "resolved"}}]}"#,
            "no affects",
        ),
    ] {
        let err = suppress::parse_vex(text.as_bytes(), "v.json").unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}
