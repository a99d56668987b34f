//! Policy parsing, linting and evaluation, table-driven.

use std::path::PathBuf;

use bulwark_core::report::{
    ConfigFinding, ExceptionStatus, FileLocation, FixState, ImageSummary, MalwareFinding, OsRelease, PolicyVerdict,
    ScanReport, SecretFinding, Severity, Vulnerability,
};
use bulwark_core::time::Date;
use bulwark_policy::{DiagnosticSeverity, parse};
use bulwark_testkit::report::{deb, vulnerability};

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

const HEADER: &str = "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: test\n";

fn vuln(id: &str, severity: Severity, state: FixState) -> Vulnerability {
    let openssl = deb("openssl", "3.0.2", "openssl").layer(0).build();
    let v = vulnerability(id, &openssl)
        .alias(&format!("GHSA-{}", id.to_lowercase()))
        .severity(severity)
        .state(state)
        .sources(&[]);
    if state == FixState::Fixed { v.fixed("3.0.13").build() } else { v.build() }
}

fn loc(path: &str) -> FileLocation {
    FileLocation { path: path.into(), layer: Some(1), removed_in: None, line: Some(3), entry: None }
}

/// A report with something for every rule kind.
fn report() -> ScanReport {
    let mut kev = vuln("CVE-2024-0003", Severity::Medium, FixState::NotFixed);
    kev.kev = true;
    kev.epss = Some((0.92, 0.99));
    let mut low_epss = vuln("CVE-2024-0004", Severity::Low, FixState::Fixed);
    low_epss.epss = Some((0.01, 0.2));
    low_epss.package.name = "zlib".into();
    low_epss.package.version = "1.2.13".into();
    ScanReport {
        image: ImageSummary {
            reference: "registry:ghcr.io/acme/app:1.0".into(),
            created: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        },
        os: Some(OsRelease {
            id: "debian".into(),
            version_id: Some("10".into()),
            version_codename: None,
            pretty_name: Some("Debian GNU/Linux 10 (buster)".into()),
            source: "/etc/os-release".into(),
            osv_ecosystem: Some("Debian:10".into()),
            distroless: false,
        }),
        scanners: ["vuln", "malware", "secret", "config"].map(String::from).to_vec(),
        vulnerabilities: vec![
            vuln("CVE-2024-0001", Severity::Critical, FixState::Fixed),
            vuln("CVE-2024-0002", Severity::High, FixState::NotFixed),
            kev,
            low_epss,
        ],
        malware: vec![MalwareFinding {
            rule: "EICAR_Test_File".into(),
            source: "bundled".into(),
            engine: "yara".into(),
            title: "EICAR test file".into(),
            severity: Severity::High,
            location: loc("/tmp/eicar.com"),
            sha256: None,
            tags: vec![],
        }],
        secrets: vec![
            SecretFinding {
                rule: "private-key".into(),
                title: "Private key".into(),
                severity: Severity::Critical,
                location: loc("/root/.ssh/id_rsa"),
                preview: "-----BEGIN ****".into(),
                fingerprint: "fp-key".into(),
            },
            SecretFinding {
                rule: "jwt".into(),
                title: "JSON Web Token".into(),
                severity: Severity::Medium,
                location: loc("/app/config.js"),
                preview: "eyJ****".into(),
                fingerprint: "fp-jwt".into(),
            },
        ],
        misconfigurations: vec![ConfigFinding {
            id: "BW-CFG-006".into(),
            title: "No HEALTHCHECK".into(),
            severity: Severity::Low,
            cis: Some("4.6".into()),
            message: "the image declares no HEALTHCHECK".into(),
            location: None,
            remediation: Some("add a HEALTHCHECK instruction".into()),
        }],
        ..Default::default()
    }
}

fn policy_text(rules: &str, exceptions: &str) -> String {
    format!("{HEADER}rules:\n{rules}exceptions:\n{exceptions}")
}

fn one_rule(check: &str) -> String {
    format!("  - id: r\n    description: d\n    action: deny\n{check}")
}

fn evaluate(text: &str, report: &ScanReport, today: &str) -> PolicyVerdict {
    let policy = parse(text).unwrap_or_else(|d| panic!("{text}\n{d:#?}"));
    policy.evaluate(report, day(today))
}

/// Violation targets (`id target`) of the single rule `r`.
fn violations(check: &str, report: &ScanReport) -> Vec<String> {
    let v = evaluate(&policy_text(&one_rule(check), "  []\n"), report, "2025-01-15");
    assert_eq!(v.passed, v.rules[0].violations.is_empty());
    v.rules[0].violations.iter().map(|v| format!("{} {}", v.id, v.target.as_deref().unwrap_or("-"))).collect()
}

#[test]
fn every_rule_kind_fails_and_passes() {
    let full = report();
    let clean = ScanReport {
        image: ImageSummary {
            reference: "registry:ghcr.io/acme/app:2.0".into(),
            created: Some("2025-01-10T00:00:00Z".into()),
            ..Default::default()
        },
        os: Some(OsRelease { version_id: Some("12".into()), ..full.os.clone().unwrap() }),
        scanners: full.scanners.clone(),
        ..Default::default()
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "    max_severity_counts: {critical: 0, high: 0}\n",
            &["CVE-2024-0001 openssl@3.0.2", "CVE-2024-0002 openssl@3.0.2"],
        ),
        ("    max_severity_counts: {critical: 0, high: 0}\n    fixable_only: true\n", &["CVE-2024-0001 openssl@3.0.2"]),
        ("    max_severity_counts: {high: 1, medium: 1, low: 5}\n", &[]),
        ("    deny_ids: [cve-2024-0002]\n", &["CVE-2024-0002 openssl@3.0.2"]),
        ("    deny_ids: [GHSA-cve-2024-0001]\n", &["CVE-2024-0001 openssl@3.0.2"]),
        ("    deny_kev: true\n", &["CVE-2024-0003 openssl@3.0.2"]),
        ("    deny_kev: true\n    fixable_only: true\n", &[]),
        ("    max_epss: 0.5\n", &["CVE-2024-0003 openssl@3.0.2"]),
        ("    max_epss: {percentile: 0.1}\n", &["CVE-2024-0003 openssl@3.0.2", "CVE-2024-0004 zlib@1.2.13"]),
        ("    deny_malware: true\n", &["EICAR_Test_File /tmp/eicar.com"]),
        ("    deny_secrets: {rules: [private-key]}\n", &["private-key /root/.ssh/id_rsa"]),
        ("    deny_secrets: {min_severity: medium}\n", &["jwt /app/config.js", "private-key /root/.ssh/id_rsa"]),
        ("    deny_secrets: true\n", &["jwt /app/config.js", "private-key /root/.ssh/id_rsa"]),
        ("    deny_config: {ids: [BW-CFG-006]}\n", &["BW-CFG-006 -"]),
        ("    deny_config: {min_severity: high}\n", &[]),
        ("    allowed_os: ['debian:12', 'alpine:3.20']\n", &["os debian:10"]),
        ("    allowed_os: [debian]\n", &[]),
        ("    allowed_os: [debian]\n    deny_end_of_life: true\n", &["end-of-life debian:10"]),
        ("    deny_end_of_life: true\n", &["end-of-life debian:10"]),
        ("    allowed_base_registries: [ghcr.io/acme]\n", &[]),
        ("    allowed_base_registries: ['*.io']\n", &[]),
        ("    max_image_age_days: 30\n", &["age 2024-01-01"]),
        ("    max_image_age_days: 400\n", &[]),
    ];
    for (check, want) in cases {
        assert_eq!(violations(check, &full), *want, "{check}");
        assert_eq!(violations(check, &clean), Vec::<String>::new(), "clean image, {check}");
    }
    let registries = "    allowed_base_registries: [docker.io, 'registry.example.com']\n";
    assert_eq!(violations(registries, &full), ["registry ghcr.io"]);
    let from_docker_hub = ScanReport {
        image: ImageSummary { reference: "docker:nginx:1.27".into(), ..Default::default() },
        ..Default::default()
    };
    assert!(violations(registries, &from_docker_hub).is_empty());
    let from_archive = ScanReport {
        image: ImageSummary { reference: "oci-archive:/tmp/app.tar".into(), ..Default::default() },
        ..Default::default()
    };
    assert_eq!(violations(registries, &from_archive), ["registry -"]);
}

#[test]
fn messages_say_what_to_do() {
    let v = evaluate(
        &policy_text(&one_rule("    max_severity_counts: {critical: 0}\n"), "  []\n"),
        &report(),
        "2025-01-15",
    );
    assert_eq!(
        v.rules[0].violations[0].message,
        "CVE-2024-0001 in openssl@3.0.2 (critical, fixed in 3.0.13, layer 0): upgrade openssl to 3.0.13 or later \
         [1 critical found, at most 0 allowed]"
    );
    let v = evaluate(&policy_text(&one_rule("    deny_end_of_life: true\n"), "  []\n"), &report(), "2025-01-15");
    assert!(v.rules[0].violations[0].message.contains("stopped receiving security updates on 2024-06-30"));
    // Debian 10 was supported through 2024-06-30.
    let v = evaluate(&policy_text(&one_rule("    deny_end_of_life: true\n"), "  []\n"), &report(), "2024-06-30");
    assert!(v.passed);
}

#[test]
fn warn_rules_do_not_fail_the_image() {
    let text = policy_text(
        "  - id: w\n    description: d\n    action: warn\n    deny_malware: true\n  - id: d\n    description: d\n    action: deny\n    deny_ids: [CVE-1999-0001]\n",
        "  []\n",
    );
    let v = evaluate(&text, &report(), "2025-01-15");
    assert!(v.passed);
    assert_eq!(v.warnings().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["w"]);
    assert_eq!(v.failures().count(), 0);
    assert_eq!(v.evaluated_on, "2025-01-15");
    assert!(v.policy_digest.as_deref().unwrap().starts_with("sha256:"));
}

fn exception(id: &str, scope: &str, expires: &str) -> String {
    format!("  - id: {id}\n{scope}    reason: accepted risk\n    owner: sec@example.com\n    expires: {expires}\n")
}

#[test]
fn exceptions_expire_after_their_day() {
    let rules = one_rule("    max_severity_counts: {critical: 0}\n");
    for (today, status, passed) in [
        ("2025-01-14", ExceptionStatus::Applied, true),
        ("2025-01-15", ExceptionStatus::Applied, true), // expires today: still valid
        ("2025-01-16", ExceptionStatus::Expired, false), // expired yesterday
    ] {
        let v = evaluate(&policy_text(&rules, &exception("CVE-2024-0001", "", "2025-01-15")), &report(), today);
        assert_eq!(v.exceptions[0].status, status, "{today}");
        assert_eq!(v.passed, passed, "{today}");
        if passed {
            assert_eq!(v.exceptions[0].matched, ["CVE-2024-0001 openssl@3.0.2"]);
        } else {
            assert!(v.exceptions[0].matched.is_empty());
        }
    }
}

#[test]
fn exception_ids_and_scopes() {
    let rules = format!(
        "{}  - id: secrets\n    description: d\n    action: deny\n    deny_secrets: true\n",
        one_rule("    max_severity_counts: {critical: 0, high: 0}\n")
    );
    // (exception id, scope, excused findings)
    let cases: &[(&str, &str, &[&str])] = &[
        ("CVE-2024-0002", "", &["CVE-2024-0002 openssl@3.0.2"]),
        ("GHSA-cve-2024-0002", "", &["CVE-2024-0002 openssl@3.0.2"]), // by alias
        ("CVE-2024-0002", "    scope: {package: openssl}\n", &["CVE-2024-0002 openssl@3.0.2"]),
        ("CVE-2024-0002", "    scope: {package: 'openssl@3.0.2'}\n", &["CVE-2024-0002 openssl@3.0.2"]),
        ("CVE-2024-0002", "    scope: {package: zlib}\n", &[]),
        ("CVE-2024-0002", "    scope: {image: 'ghcr.io/acme/*'}\n", &["CVE-2024-0002 openssl@3.0.2"]),
        ("CVE-2024-0002", "    scope: {image: 'docker.io/*'}\n", &[]),
        ("CVE-2024-0002", "    scope: {path: /var/lib/dpkg/*}\n", &["CVE-2024-0002 openssl@3.0.2"]),
        ("jwt", "    scope: {path: /app/*}\n", &["jwt /app/config.js"]),
        ("jwt", "    scope: {path: /srv/*}\n", &[]),
        ("fp-key", "", &["private-key /root/.ssh/id_rsa"]), // a secret's fingerprint
        ("r", "", &["CVE-2024-0001 openssl@3.0.2", "CVE-2024-0002 openssl@3.0.2"]), // a whole rule
        ("CVE-1999-0001", "", &[]),
    ];
    for (id, scope, excused) in cases {
        let v = evaluate(&policy_text(&rules, &exception(id, scope, "2030-01-01")), &report(), "2025-01-15");
        let e = &v.exceptions[0];
        assert_eq!(e.matched, *excused, "{id} {scope}");
        let status = if excused.is_empty() { ExceptionStatus::Unused } else { ExceptionStatus::Applied };
        assert_eq!(e.status, status, "{id} {scope}");
        let reported: Vec<String> = v
            .rules
            .iter()
            .flat_map(|r| &r.violations)
            .map(|x| format!("{} {}", x.id, x.target.as_deref().unwrap_or("-")))
            .collect();
        for finding in *excused {
            assert!(!reported.contains(&finding.to_string()), "{finding} still reported with {id} {scope}");
        }
        assert_eq!(reported.len() + excused.len(), 4, "{id} {scope}: {reported:?}");
    }
}

#[test]
fn violations_are_sorted_and_deterministic() {
    let mut r = report();
    r.vulnerabilities.reverse();
    let text = policy_text(&one_rule("    max_severity_counts: {critical: 0, high: 0, medium: 0, low: 0}\n"), "  []\n");
    let a = evaluate(&text, &r, "2025-01-15");
    let b = evaluate(&text, &report(), "2025-01-15");
    assert_eq!(a, b);
    let ids: Vec<&str> = a.rules[0].violations.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004"]);
}

/// `(line, column, message fragment)` of each diagnostic.
fn diagnostics(text: &str) -> Vec<(usize, usize, String)> {
    match parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d.into_iter().map(|d| (d.line, d.column, d.message)).collect(),
    }
}

/// Expected `(line, column, message prefix)` of each diagnostic.
type Expected = &'static [(usize, usize, &'static str)];

#[test]
fn malformed_policies_point_at_the_problem() {
    let cases: &[(&str, Expected)] = &[
        ("", &[(1, 1, "the policy is empty")]),
        ("rules: [\n", &[(1, 8, "invalid YAML: unclosed bracket")]),
        (
            "apiVersion: bulwark.dev/v2\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    description: d\n    action: deny\n    deny_kev: true\n",
            &[(1, 13, "unsupported apiVersion `bulwark.dev/v2`")],
        ),
        (
            // unknown key (with a suggestion), wrong type, bad action
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    descripton: d\n    action: block\n    deny_kev: yes\n",
            &[
                (5, 5, "a rule is missing `description`"),
                (6, 5, "unknown key `descripton` in a rule: did you mean `description`?"),
                (7, 13, "`action` must be `deny` or `warn`, not `block`"),
                (8, 15, "`deny_kev` must be true or false, not a string"),
            ],
        ),
        (
            // zero kinds, two kinds, duplicate ids
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    description: d\n    action: deny\n  - id: b\n    description: d\n    action: deny\n    deny_kev: true\n    deny_malware: true\n  - id: c\n    description: d\n    action: warn\n    max_image_age_days: 10\n  - id: c\n    description: d\n    action: warn\n    max_epss: 1.5\n",
            &[
                (5, 5, "a rule needs one check"),
                (12, 5, "a rule has exactly one check, this one has `deny_kev`, `deny_malware`"),
                (20, 15, "`max_epss` must be between 0 and 1, not 1.5"),
            ],
        ),
        (
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: c\n    description: d\n    action: warn\n    max_image_age_days: 10\n  - id: c\n    description: d\n    action: warn\n    max_image_age_days: -1\n",
            &[(12, 25, "`max_image_age_days` must be a whole number")],
        ),
        (
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: c\n    description: d\n    action: warn\n    deny_malware: true\n  - id: c\n    description: e\n    action: deny\n    deny_kev: true\n",
            &[(9, 5, "duplicate rule id `c` (first used at line 5)")],
        ),
        (
            // exceptions: missing fields, bad date, unknown scope key
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    description: d\n    action: deny\n    deny_kev: true\nexceptions:\n  - id: CVE-1\n    reason: r\n  - id: CVE-2\n    reason: r\n    owner: o\n    expires: 2025-02-30\n    scope: {img: x}\n",
            &[
                (10, 5, "an exception is missing `expires`"),
                (10, 5, "an exception is missing `owner`"),
                (15, 14, "`expires` must be a date, YYYY-MM-DD, not `2025-02-30`"),
                (16, 13, "unknown key `img` in `scope`: did you mean `image`?"),
            ],
        ),
        (
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nname: y\nrules: {}\n",
            &[(4, 1, "duplicate key `name` in the policy"), (5, 8, "`rules` must be a list, not a mapping")],
        ),
        (
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    description: d\n    action: deny\n    deny_malware: true\n    fixable_only: true\n",
            &[(9, 5, "`fixable_only` applies to vulnerability checks")],
        ),
    ];
    for (text, want) in cases {
        let got = diagnostics(text);
        assert_eq!(got.len(), want.len(), "{text}\n{got:#?}");
        for ((line, col, msg), (wl, wc, wm)) in got.iter().zip(want.iter()) {
            assert_eq!((*line, *col), (*wl, *wc), "{msg}");
            assert!(msg.starts_with(wm), "{msg:?} does not start with {wm:?}");
        }
    }
}

#[test]
fn lint_warns_about_expiring_exceptions() {
    let text = policy_text(
        &one_rule("    deny_kev: true\n"),
        &[
            exception("CVE-1", "", "2025-01-10"), // expired
            exception("CVE-2", "", "2025-01-29"), // in 14 days
            exception("CVE-3", "", "2025-01-30"), // in 15 days: fine
        ]
        .concat(),
    );
    let got = bulwark_policy::lint(&text, day("2025-01-15"));
    let want = [
        (13, 14, "exception `CVE-1` expired on 2025-01-10 and no longer applies: renew it or remove it"),
        (17, 14, "exception `CVE-2` expires in 14 days (2025-01-29)"),
    ];
    assert_eq!(got.len(), 2, "{got:#?}");
    for (d, (line, column, message)) in got.iter().zip(want) {
        assert_eq!((d.line, d.column, d.message.as_str()), (line, column, message));
        assert_eq!(d.severity, DiagnosticSeverity::Warning);
    }
    assert!(bulwark_policy::lint(&text, day("2024-12-01")).is_empty());
}

#[test]
fn the_shipped_example_parses_and_gates() {
    let text = std::fs::read_to_string(repo().join("examples/policy.yaml")).unwrap();
    let policy = parse(&text).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(policy.name, "bulwark-default");
    let v = policy.evaluate(&report(), day("2025-01-15"));
    assert!(!v.passed);
    let failed: Vec<&str> = v.failures().map(|r| r.id.as_str()).collect();
    assert_eq!(
        failed,
        [
            "no-fixable-critical-high",
            "no-known-exploited",
            "no-malware",
            "no-private-keys-or-cloud-credentials",
            "supported-os"
        ]
    );
    let warned: Vec<&str> = v.warnings().map(|r| r.id.as_str()).collect();
    assert_eq!(warned, ["likely-exploited", "no-unfixed-critical", "other-secrets", "healthcheck", "fresh-image"]);
    assert!(bulwark_policy::lint(&text, day("2025-01-15")).is_empty());
}

fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("schemas/policy.schema.json")).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

/// The policy YAML as JSON, through our own tree (YAML core schema: plain `true`,
/// numbers; everything else a string).
fn yaml_to_json(text: &str) -> serde_json::Value {
    bulwark_policy::to_json(text).unwrap()
}

#[test]
fn json_schema_accepts_the_example_and_rejects_bad_policies() {
    let validator = schema_validator();
    let example = yaml_to_json(&std::fs::read_to_string(repo().join("examples/policy.yaml")).unwrap());
    let errors: Vec<String> = validator.iter_errors(&example).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let with_exception = yaml_to_json(&policy_text(
        &one_rule("    deny_kev: true\n"),
        &exception("CVE-1", "    scope: {package: openssl}\n", "2025-01-10"),
    ));
    assert!(validator.is_valid(&with_exception));
    for bad in [
        policy_text(&one_rule("    deny_kev: true\n    deny_malware: true\n"), "  []\n"), // two kinds
        policy_text(&one_rule(""), "  []\n"),                                             // no kind
        policy_text(&one_rule("    deny_kev: true\n    colour: red\n"), "  []\n"),        // unknown key
        policy_text(&one_rule("    max_epss: 2\n"), "  []\n"),                            // out of range
        policy_text(&one_rule("    deny_kev: true\n"), "  - id: CVE-1\n    reason: r\n    owner: o\n"), // no expiry
        policy_text(&one_rule("    deny_kev: true\n"), &exception("CVE-1", "", "31/12/2025")), // bad date
    ] {
        let json = yaml_to_json(&bad);
        assert!(!validator.is_valid(&json), "schema accepted {json}");
        assert!(parse(&bad).is_err(), "parser accepted {bad}");
    }
}

#[test]
fn truncated_and_mangled_policies_never_panic() {
    // A cheap stand-in for the `policy_parse` fuzz target: every prefix of the example,
    // and the example with each byte replaced by a YAML-significant character.
    let text = std::fs::read_to_string(repo().join("examples/policy.yaml")).unwrap();
    let today = day("2025-01-15");
    let mut accepted = 0;
    for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
        if let Ok(p) = parse(&text[..end]) {
            accepted += 1;
            p.evaluate(&report(), today);
        }
    }
    for (i, c) in text.char_indices().step_by(7) {
        for r in [':', '[', '{', '&', '*', '-', '\t', '"'] {
            let mangled = format!("{}{r}{}", &text[..i], &text[i + c.len_utf8()..]);
            let _ = bulwark_policy::lint(&mangled, today);
        }
    }
    // Only prefixes that end after a complete rule list parse; the full text is one.
    assert!(accepted >= 1);
}

/// The built-in rule: a check the policy needs that did not run or did not complete fails
/// the image, each cause with its stable id; exceptions apply to it as to any rule.
#[test]
fn checks_complete_fails_what_was_not_checked() {
    use bulwark_core::report::{NotChecked, NotCheckedReason};
    let text = policy_text(&one_rule("    deny_malware: true\n"), "  []\n");
    let mut r = report();
    r.malware.clear();
    let v = evaluate(&text, &r, "2025-01-15");
    assert!(v.passed);
    assert_eq!(v.rules.last().unwrap().id, "checks-complete");

    // The scanner did not run.
    r.scanners = vec!["vuln".into()];
    let v = evaluate(&text, &r, "2025-01-15");
    assert!(!v.passed);
    let built_in = v.rules.last().unwrap();
    assert_eq!(built_in.violations[0].id, "scanner-not-run");
    assert_eq!(built_in.violations[0].target.as_deref(), Some("malware"));

    // It ran but skipped files; a gap of another scanner does not concern this policy.
    r.scanners = vec!["vuln".into(), "malware".into()];
    for (scanner, reason) in [("malware", NotCheckedReason::SkippedByLimit), ("vuln", NotCheckedReason::NoDatabase)] {
        r.add_not_checked(NotChecked {
            scanner: scanner.into(),
            reason,
            scope: Some("/opt/big.bin".into()),
            message: "x".into(),
        });
    }
    let v = evaluate(&text, &r, "2025-01-15");
    let ids: Vec<&str> = v.rules.last().unwrap().violations.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["skipped-by-limit"]);
    assert!(!v.passed);

    // An exception scoped to the path accepts it, and is reported as applied.
    let excused = policy_text(
        &one_rule("    deny_malware: true\n"),
        "  - id: skipped-by-limit\n    scope: {path: /opt/*}\n    reason: r\n    owner: o@example.com\n    expires: 2025-12-31\n",
    );
    let v = evaluate(&excused, &r, "2025-01-15");
    assert!(v.passed, "{v:#?}");
    assert_eq!(v.exceptions[0].status, ExceptionStatus::Applied);

    // The id is reserved.
    let own =
        policy_text("  - id: checks-complete\n    description: d\n    action: deny\n    deny_kev: true\n", "  []\n");
    let errors = parse(&own).unwrap_err();
    assert!(errors[0].message.contains("reserved"), "{errors:?}");
}

#[test]
fn unknown_severity_counts_as_the_policy_says() {
    let mut r = report();
    r.vulnerabilities = vec![vuln("CVE-2024-0009", Severity::Unknown, FixState::Fixed)];
    let rule = one_rule("    max_severity_counts: {high: 0}\n");
    let plain = policy_text(&rule, "  []\n");
    assert!(evaluate(&plain, &r, "2025-01-15").passed);
    let as_high = plain.replacen("rules:", "unknown_severity: high\nrules:", 1);
    let v = evaluate(&as_high, &r, "2025-01-15");
    assert!(!v.passed);
    assert!(v.rules[0].violations[0].message.contains("(high,"), "{:?}", v.rules[0].violations);
    let bad = plain.replacen("rules:", "unknown_severity: severe\nrules:", 1);
    assert!(parse(&bad).is_err());
}
