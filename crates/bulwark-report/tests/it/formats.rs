//! Every report format on one realistic report: Debian 10 packages catalogued from a real
//! dpkg status file (`../shared/fixtures/os-pkgdb`), vulnerabilities built from real Debian
//! ELTS advisories (`../shared/advisories/debian-elts-osv`: id, CVE, package, fixed
//! version read from each record), the real EICAR file's hash, and hand-built secret,
//! config findings and policy verdict. Snapshots under `tests/it/snapshots/`; SARIF,
//! CycloneDX and our JSON validated against their schemas.

use std::path::{Path, PathBuf};

use bulwark_catalog::os::{Distro, ReleaseFiles};
use bulwark_core::Digest;
use bulwark_core::report::*;
use bulwark_report::junit::Granularity;
use bulwark_report::table::TableOptions;
use bulwark_report::{cyclonedx, html, junit, markdown, sarif, table};
use serde_json::Value;

use crate::{json, read};

/// The shared data folder, checked to hold `schemas`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("schemas");
    bulwark_testkit::shared()
}

fn layer(i: usize, step: &str) -> LayerSummary {
    LayerSummary {
        index: i,
        digest: Some(Digest::sha256_of(format!("blob {i}").as_bytes())),
        diff_id: Digest::sha256_of(format!("tar {i}").as_bytes()),
        media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
        size: 1000 * (i as u64 + 1),
        uncompressed_size: 3000 * (i as u64 + 1),
        entries: 10,
        whiteouts: 0,
        created_by: Some(step.into()),
    }
}

/// The first `n` Debian:10 ELTS records (by file name) whose package is the source package
/// of something installed: (record, affected source name, fixed version).
fn elts_records(sources: &[String], n: usize) -> Vec<(Value, String, String)> {
    let dir = shared().join("advisories/debian-elts-osv/advisories");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out: Vec<(Value, String, String)> = Vec::new();
    for f in files {
        let doc = json(&f);
        let Some(aff) = doc["affected"].as_array() else { continue };
        for a in aff {
            let name = a["package"]["name"].as_str().unwrap_or("");
            if a["package"]["ecosystem"] != "Debian:10" || !sources.iter().any(|s| s == name) {
                continue;
            }
            if out.iter().any(|(_, s, _)| s == name) {
                continue;
            }
            let fixed = a["ranges"][0]["events"]
                .as_array()
                .and_then(|e| e.iter().find_map(|ev| ev["fixed"].as_str()))
                .map(str::to_owned);
            if let Some(fixed) = fixed {
                out.push((doc.clone(), name.to_owned(), fixed));
                break;
            }
        }
        if out.len() == n {
            break;
        }
    }
    assert_eq!(out.len(), n, "not enough matching ELTS records");
    out
}

fn report() -> ScanReport {
    let pkgdb = shared().join("fixtures/os-pkgdb");
    let osr = read(&pkgdb.join("claircore/debian/testdata/dist/10/etc/os-release"));
    let files = ReleaseFiles {
        etc_os_release: Some(&osr),
        usr_lib_os_release: None,
        alpine_release: None,
        debian_version: None,
        redhat_release: None,
        system_release: None,
        has_dpkg_status_d: false,
    };
    let os = bulwark_catalog::os::detect(&files).expect("os");
    let distro: Distro = os.distro();
    let (found, _) = bulwark_catalog::dpkg::parse_status(
        &read(&pkgdb.join("claircore/dpkg/testdata/texlive.status")),
        "/var/lib/dpkg/status",
    );
    let packages: Vec<Package> = found
        .iter()
        .enumerate()
        .map(|(i, p)| p.to_report(Some(&distro), Some(usize::from(i % 4 == 0)), None))
        .collect();
    let source_of = |p: &Package| p.source.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| p.name.clone());
    let sources: Vec<String> = packages.iter().map(source_of).collect();

    let sev = [Severity::Critical, Severity::High, Severity::High, Severity::Medium, Severity::Low];
    let mut vulnerabilities = Vec::new();
    for (i, (doc, src, fixed)) in elts_records(&sources, 5).into_iter().enumerate() {
        let pkg = packages.iter().find(|p| source_of(p) == src).unwrap();
        let ela = doc["id"].as_str().unwrap().to_owned();
        let cve = doc["related"].as_array().and_then(|r| r.first()).and_then(Value::as_str).map(str::to_owned);
        let (id, aliases) = match cve {
            Some(c) => (c, vec![ela.clone()]),
            None => (ela.clone(), vec![]),
        };
        vulnerabilities.push(Vulnerability {
            id,
            aliases,
            package: AffectedPackage {
                ecosystem: pkg.ecosystem.clone(),
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                purl: pkg.purl.clone(),
                matched_as: pkg.source.clone(),
                layer: pkg.layer,
                locations: pkg.locations.clone(),
            },
            state: if i == 4 { FixState::NotFixed } else { FixState::Fixed },
            fixed_versions: if i == 4 { vec![] } else { vec![fixed.clone()] },
            severity: sev[i],
            severity_source: (i != 0).then(|| "osv:Debian:10".to_owned()),
            cvss: (i == 0).then(|| CvssScore {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                score: 9.8,
                source: "nvd:nvd@nist.gov (Primary)".into(),
            }),
            kev: i == 0,
            epss: (i < 2).then_some((0.4213, 0.97)),
            title: Some(format!("{src} security update")),
            sources: vec![format!("osv:Debian:10/{ela}")],
            explanation: format!("{} {} < {fixed} (dpkg order)", src, pkg.version),
        });
    }
    let suppressed_v = vulnerabilities.pop().unwrap();
    let eicar_sha = Digest::sha256_of(&read(&shared().join("malware/eicar/eicar.com"))).hex().to_owned();
    let first = vulnerabilities[0].clone();
    let first_target = format!("{}@{}", first.package.name, first.package.version);
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        bulwark_version: env!("CARGO_PKG_VERSION").into(),
        image: ImageSummary {
            reference: "registry:registry.example.com/team/app:1.4".into(),
            source: None,
            manifest_digest: Some(Digest::sha256_of(b"manifest")),
            config_digest: Some(Digest::sha256_of(b"config")),
            platform: Some(bulwark_core::Platform::new("linux", "amd64", None)),
            created: Some("2024-05-13T22:53:54.5+02:00".into()),
        },
        os: Some(OsRelease {
            id: os.id.clone(),
            version_id: os.version_id.clone(),
            version_codename: os.codename.clone(),
            pretty_name: os.pretty_name.clone(),
            source: os.source.to_owned(),
            osv_ecosystem: os.osv_ecosystem.clone(),
            distroless: false,
        }),
        layers: vec![
            layer(
                0,
                "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ",
            ),
            layer(
                1,
                "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends texlive-latex-recommended git # buildkit",
            ),
            layer(2, "COPY vendor/ /opt/ # buildkit"),
        ],
        files: FileCounts {
            files: 12000,
            directories: 900,
            symlinks: 300,
            hardlinks: 2,
            bytes: 400_000_000,
            shadowed: 4,
        },
        packages,
        vulnerabilities: vulnerabilities.clone(),
        database: Some(DatabaseSummary {
            built_at: "2024-06-01T04:00:00Z".into(),
            digest: format!("sha256:{}", Digest::sha256_of(b"db").hex()),
            sources: vec![("osv:Debian:10".into(), 503), ("kev".into(), 1200)],
        }),
        scanners: vec!["vuln".into(), "malware".into(), "secret".into(), "config".into()],
        malware: vec![MalwareFinding {
            rule: "EICAR_Test_File".into(),
            source: "bundled".into(),
            engine: "yara".into(),
            title: "EICAR anti-virus test file".into(),
            severity: Severity::Critical,
            location: FileLocation {
                path: "/opt/archive.tar.gz!eicar.com".into(),
                layer: Some(2),
                removed_in: None,
                line: None,
                entry: None,
            },
            sha256: Some(eicar_sha),
            tags: vec!["test".into()],
        }],
        secrets: vec![
            SecretFinding {
                rule: "aws-access-key-id".into(),
                title: "AWS access key ID".into(),
                severity: Severity::High,
                location: FileLocation {
                    path: "/opt/app/.env".into(),
                    layer: Some(2),
                    removed_in: None,
                    line: Some(3),
                    entry: None,
                },
                preview: "AWS_ACCESS_KEY_ID=AKIA****************".into(),
                fingerprint: "0f1e2d3c4b5a6978".into(),
            },
            SecretFinding {
                rule: "generic-password".into(),
                title: "Password in environment".into(),
                severity: Severity::Medium,
                location: FileLocation {
                    path: "config:Env".into(),
                    layer: None,
                    removed_in: None,
                    line: None,
                    entry: None,
                },
                preview: "DB_PASSWORD=hu******".into(),
                fingerprint: "8899aabbccddeeff".into(),
            },
        ],
        misconfigurations: vec![
            ConfigFinding {
                id: "BW-CFG-001".into(),
                title: "Image runs as root".into(),
                severity: Severity::High,
                cis: Some("4.1".into()),
                message: "The image config sets no USER, so containers run as root.".into(),
                location: None,
                remediation: Some("Add a USER instruction with a non-root user.".into()),
            },
            ConfigFinding {
                id: "BW-CFG-007".into(),
                title: "Package lists left in the image".into(),
                severity: Severity::Low,
                cis: None,
                message: "apt-get update without removing /var/lib/apt/lists.".into(),
                location: Some(FileLocation {
                    path: "config:history[1]".into(),
                    layer: Some(1),
                    removed_in: None,
                    line: None,
                    entry: None,
                }),
                remediation: None,
            },
        ],
        skipped: vec![SkippedFiles {
            scanner: "malware".into(),
            reason: "larger than 67108864 bytes".into(),
            files: 1,
            bytes: 90_000_000,
            examples: vec!["/opt/big.bin".into()],
        }],
        not_run: vec![NotRun {
            scanner: "config".into(),
            checks: vec!["BW-CFG-008".into(), "BW-CFG-009".into()],
            reason: "the base image's layers are not known".into(),
        }],
        suppressions: vec![Suppression {
            source: "openvex:vex.json".into(),
            id: suppressed_v.id.clone(),
            scope: Some(suppressed_v.package.purl.clone()),
            reason: "not_affected: vulnerable_code_not_in_execute_path".into(),
            expires: None,
            status: ExceptionStatus::Applied,
            matched: vec![format!(
                "{} {}@{}",
                suppressed_v.id, suppressed_v.package.name, suppressed_v.package.version
            )],
        }],
        suppressed: vec![SuppressedVulnerability {
            vulnerability: suppressed_v,
            by: "openvex:vex.json".into(),
            justification: "vulnerable_code_not_in_execute_path".into(),
        }],
        policy: Some(PolicyVerdict {
            policy: "production".into(),
            policy_digest: Some(Digest::sha256_of(b"policy").hex().to_owned()),
            passed: false,
            evaluated_on: "2024-06-02".into(),
            rules: vec![
                RuleOutcome {
                    id: "no-fixable-critical".into(),
                    description: "No critical vulnerabilities with a fix".into(),
                    action: PolicyAction::Deny,
                    passed: false,
                    violations: vec![Violation {
                        kind: FindingKind::Vulnerability,
                        id: first.id.clone(),
                        target: Some(first_target.clone()),
                        message: format!(
                            "{} in {} (critical, fixed in {}): upgrade",
                            first.id, first_target, first.fixed_versions[0]
                        ),
                    }],
                },
                RuleOutcome {
                    id: "no-malware".into(),
                    description: "No malware".into(),
                    action: PolicyAction::Deny,
                    passed: false,
                    violations: vec![Violation {
                        kind: FindingKind::Malware,
                        id: "EICAR_Test_File".into(),
                        target: Some("/opt/archive.tar.gz!eicar.com".into()),
                        message: "EICAR_Test_File in /opt/archive.tar.gz!eicar.com: malware is never allowed".into(),
                    }],
                },
                RuleOutcome {
                    id: "secrets".into(),
                    description: "Warn on secrets".into(),
                    action: PolicyAction::Warn,
                    passed: false,
                    violations: vec![Violation {
                        kind: FindingKind::Secret,
                        id: "aws-access-key-id".into(),
                        target: Some("/opt/app/.env".into()),
                        message: "aws-access-key-id in /opt/app/.env: revoke the key".into(),
                    }],
                },
                RuleOutcome {
                    id: "max-age".into(),
                    description: "Image at most 90 days old".into(),
                    action: PolicyAction::Deny,
                    passed: true,
                    violations: vec![],
                },
            ],
            exceptions: vec![ExceptionOutcome {
                id: "CVE-2000-0001".into(),
                scope: None,
                reason: "old".into(),
                owner: "secteam".into(),
                expires: "2024-01-01".into(),
                status: ExceptionStatus::Expired,
                matched: vec![],
            }],
        }),
        warnings: vec![bulwark_core::Warning::layer(2, None, "skipped a device node /dev/x")],
        not_checked: vec![],
        hidden_by_filters: 0,
    }
}

/// The Bulwark version is volatile; snapshots say `[version]`.
fn redact(s: &str) -> String {
    s.replace(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"[version]\"")
        .replace(&format!("Bulwark {}", env!("CARGO_PKG_VERSION")), "Bulwark [version]")
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("utf-8")
}

fn opts(width: usize, color: bool) -> TableOptions {
    TableOptions { width, color, now_unix: Some(1_717_372_800), max_rows: Some(10) }
}

#[test]
fn snapshots() {
    let r = report();
    insta::assert_snapshot!("sarif", redact(&text(sarif::to_vec(&r))));
    insta::assert_snapshot!("junit_rules", redact(&text(junit::to_vec(&r, Granularity::Rules))));
    insta::assert_snapshot!("junit_findings", redact(&text(junit::to_vec(&r, Granularity::Findings))));
    insta::assert_snapshot!("markdown", redact(&markdown::to_string(&r)));
    insta::assert_snapshot!("table_80", redact(&table::render(&r, &opts(80, false))));
    insta::assert_snapshot!("table_200", redact(&table::render(&r, &opts(200, false))));
    insta::assert_snapshot!("table_120_color", redact(&table::render(&r, &opts(120, true))));
    insta::assert_snapshot!(
        "cyclonedx_vulnerabilities",
        redact(&serde_json::to_string_pretty(&cyclonedx::write(&r)["vulnerabilities"]).unwrap())
    );
    // The HTML page is large (every package); its layout is covered by the checks below.
    let page = text(html::to_vec(&r));
    insta::assert_snapshot!("html_head", redact(&page[..page.find("<h2>Vulnerabilities").unwrap()]));
}

#[test]
fn table_fits_the_width() {
    let r = report();
    for width in [80, 120, 200] {
        let t = table::render(&r, &opts(width, false));
        for line in t.lines() {
            assert!(line.chars().count() <= width, "{width}: {line:?}");
        }
        assert!(!t.contains('\x1b'), "colour without color");
    }
    let t = table::render(&r, &opts(80, true));
    assert!(t.contains("\x1b[1;31m"), "critical in bold red");
    // Without colour codes the coloured table says the same thing.
    let stripped = strip_ansi(&t);
    assert_eq!(stripped, table::render(&r, &opts(80, false)));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\x1b' {
            for d in it.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}

#[test]
fn sarif_validates_and_suits_github() {
    let doc = sarif::write(&report());
    let schema = json(&shared().join("schemas/sarif-2.1.0/sarif-schema-2.1.0.json"));
    let v = jsonschema::options().with_draft(jsonschema::Draft::Draft4).build(&schema).expect("SARIF schema compiles");
    let errs: Vec<String> = v.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).take(20).collect();
    assert!(errs.is_empty(), "{errs:#?}");
    // The validator rejects what it should.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&broken));
    // GitHub: every result has a physical location with a relative uri and a start line,
    // every rule a security-severity in its bands.
    let run = &doc["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4 + 1 + 2 + 2);
    for res in results {
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.is_empty() && !uri.starts_with('/') && !uri.contains(':'), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        let rule = &run["tool"]["driver"]["rules"][res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], res["ruleId"]);
        assert!(res["partialFingerprints"]["bulwark/v1"].is_string());
    }
    let secret = results.iter().find(|r| r["ruleId"] == "secret/aws-access-key-id").unwrap();
    assert_eq!(secret["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
    assert_eq!(secret["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "opt/app/.env");
    let crit =
        results.iter().find(|r| r["level"] == "error" && r["ruleId"].as_str().unwrap().starts_with("CVE-")).unwrap();
    let rule = &run["tool"]["driver"]["rules"][crit["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["properties"]["security-severity"], "9.8");
    assert_eq!(run["properties"]["policy"]["passed"], false);
}

#[test]
fn cyclonedx_with_vulnerabilities_validates() {
    let dir = shared().join("schemas/cyclonedx");
    let registry = jsonschema::Registry::new()
        .add("http://cyclonedx.org/schema/spdx.schema.json", json(&dir.join("spdx.schema.json")))
        .unwrap()
        .add("http://cyclonedx.org/schema/jsf-0.82.schema.json", json(&dir.join("jsf-0.82.schema.json")))
        .unwrap()
        .prepare()
        .unwrap();
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&json(&dir.join("bom-1.6.schema.json")))
        .unwrap();
    let r = report();
    let doc = cyclonedx::write(&r);
    let errs: Vec<String> = v.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).take(20).collect();
    assert!(errs.is_empty(), "{errs:#?}");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), r.vulnerabilities.len() + r.suppressed.len());
    let refs: Vec<&str> = doc["components"].as_array().unwrap().iter().filter_map(|c| c["bom-ref"].as_str()).collect();
    for x in vulns {
        assert!(refs.contains(&x["affects"][0]["ref"].as_str().unwrap()), "{x}");
    }
    let sup = vulns.iter().find(|x| x["id"] == r.suppressed[0].vulnerability.id).unwrap();
    assert_eq!(sup["analysis"]["state"], "not_affected");
    assert_eq!(sup["analysis"]["justification"], "code_not_reachable");
    let crit = vulns.iter().find(|x| x["id"] == r.vulnerabilities[0].id).unwrap();
    assert_eq!(crit["ratings"][0]["method"], "CVSSv31");
    assert_eq!(crit["analysis"]["response"][0], "update");
}

#[test]
fn our_json_validates_against_our_schema() {
    let schema: Value =
        serde_json::from_slice(&read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/report.schema.json")))
            .unwrap();
    assert_eq!(schema["properties"]["schema_version"]["const"], REPORT_SCHEMA_VERSION);
    let v = jsonschema::options().should_validate_formats(true).build(&schema).expect("report schema compiles");
    let r = report();
    let doc = serde_json::to_value(&r).unwrap();
    let errs: Vec<String> = v.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).take(20).collect();
    assert!(errs.is_empty(), "{errs:#?}");
    // A minimal report (every optional field absent) is valid too, and unknown fields are not.
    let minimal =
        serde_json::to_value(ScanReport { schema_version: REPORT_SCHEMA_VERSION, ..Default::default() }).unwrap();
    assert!(v.is_valid(&minimal), "{:?}", v.iter_errors(&minimal).map(|e| e.to_string()).collect::<Vec<_>>());
    let mut extra = doc.clone();
    extra["vulnerabilities"][0]["sevrity"] = "high".into();
    assert!(!v.is_valid(&extra));
}

#[test]
fn junit_is_well_formed_and_fails_what_the_policy_denies() {
    let r = report();
    let rules = text(junit::to_vec(&r, Granularity::Rules));
    assert!(rules.contains("tests=\"5\" failures=\"2\""), "{rules}");
    let findings = text(junit::to_vec(&r, Granularity::Findings));
    // Denied: the critical vulnerability and the malware.
    assert_eq!(findings.matches("<failure ").count(), 2, "{findings}");
    let mut no_policy = r.clone();
    no_policy.policy = None;
    let all = text(junit::to_vec(&no_policy, Granularity::Findings));
    assert_eq!(all.matches("<failure ").count(), 4 + 1 + 2 + 2);
    // Hostile names stay text.
    let mut hostile = no_policy;
    hostile.vulnerabilities[0].package.name = "a\"><x/>&\u{1}".into();
    let out = text(junit::to_vec(&hostile, Granularity::Findings));
    assert!(out.contains("a&quot;&gt;&lt;x/&gt;&amp;\u{FFFD}") && !out.contains("<x/>"));
}

#[test]
fn html_is_self_contained_and_escapes_hostile_strings() {
    let mut r = report();
    r.packages[0].name = "<script>alert('pkg')</script>".into();
    r.layers[1].created_by = Some("RUN echo \"<script>alert('step')</script>\"".into());
    let page = text(html::to_vec(&r));
    assert_eq!(page.matches("<script").count(), 1, "only our own script");
    assert!(page.contains("&lt;script&gt;alert(&#39;pkg&#39;)&lt;/script&gt;"));
    assert!(page.contains("&lt;script&gt;alert(&#39;step&#39;)"));
    for external in ["src=\"http", "href=\"http://", "<link", "@import", "url("] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("<svg") && page.contains("What each layer added"));
}

#[test]
fn outputs_are_deterministic_and_sorted() {
    let r = report();
    let mut shuffled = r.clone();
    shuffled.packages.reverse();
    shuffled.vulnerabilities.reverse();
    shuffled.secrets.reverse();
    shuffled.misconfigurations.reverse();
    let all = |r: &ScanReport| {
        vec![
            sarif::to_vec(r),
            junit::to_vec(r, Granularity::Rules),
            junit::to_vec(r, Granularity::Findings),
            markdown::to_string(r).into_bytes(),
            table::render(r, &opts(100, true)).into_bytes(),
            html::to_vec(r),
            cyclonedx::to_vec(r),
        ]
    };
    let a = all(&r);
    assert_eq!(a, all(&r));
    assert_eq!(a, all(&shuffled));
}

#[test]
fn markdown_caps_rows() {
    let mut r = report();
    let v = r.vulnerabilities[0].clone();
    for i in 0..30 {
        let mut x = v.clone();
        x.id = format!("CVE-2099-{i:04}");
        r.vulnerabilities.push(x);
    }
    let md = markdown::render(&r, 5);
    assert!(md.contains("… and 29 more"), "{md}");
    assert!(md.starts_with("### ❌ Bulwark:"));
}
