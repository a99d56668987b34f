//! JUnit XML for Jenkins (`junit` step) and GitLab (`artifacts:reports:junit`).
//!
//! Two shapes, chosen with [`Granularity`]:
//!
//! - [`Granularity::Rules`]: one test case per policy rule, in policy order. A violated
//!   `deny` rule is a `<failure>` listing its violations; a violated `warn` rule passes with
//!   the violations in `<system-out>`. Without a policy there are no rules to report, so
//!   each scanner that ran is one test case that fails when it found anything.
//! - [`Granularity::Findings`]: one test suite per finding kind and one test case per
//!   finding. With a policy, a finding fails when a violated `deny` rule names it (warned
//!   findings pass with the warning in `<system-out>`); without a policy every finding
//!   fails — there is no threshold to pass it.
//!
//! The writer escapes every value (`&`, `<`, `>`, quotes) and replaces characters XML 1.0
//! forbids, so hostile package names or file paths cannot break the document. No
//! timestamps: the same report gives the same bytes.

use std::fmt::Write as _;

use bulwark_core::report::{FindingKind, PolicyAction, ScanReport};

use crate::common::{self, escape_xml as x, fixed_text, location_text, one_line, severity_word, vuln_target};

/// One test case per policy rule or per finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Granularity {
    /// A test case per policy rule (per scanner without a policy).
    #[default]
    Rules,
    /// A test case per finding.
    Findings,
}

struct Case {
    classname: String,
    name: String,
    /// (message, type, body)
    failure: Option<(String, String, String)>,
    out: String,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

/// Writes the report as JUnit XML.
pub fn to_vec(report: &ScanReport, granularity: Granularity) -> Vec<u8> {
    let suites = match granularity {
        Granularity::Rules => rules(report),
        Granularity::Findings => findings(report),
    };
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().flat_map(|s| &s.cases).filter(|c| c.failure.is_some()).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        x(&format!("bulwark {}", report.image.reference))
    );
    for suite in &suites {
        let f = suite.cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\">",
            x(&suite.name),
            suite.cases.len()
        );
        for c in &suite.cases {
            let _ = write!(s, "    <testcase classname=\"{}\" name=\"{}\"", x(&c.classname), x(&c.name));
            if c.failure.is_none() && c.out.is_empty() {
                s.push_str("/>\n");
                continue;
            }
            s.push_str(">\n");
            if let Some((msg, ty, body)) = &c.failure {
                let _ = writeln!(s, "      <failure message=\"{}\" type=\"{}\">{}</failure>", x(msg), x(ty), x(body));
            }
            if !c.out.is_empty() {
                let _ = writeln!(s, "      <system-out>{}</system-out>", x(&c.out));
            }
            s.push_str("    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s.into_bytes()
}

fn rules(r: &ScanReport) -> Vec<Suite> {
    let Some(p) = &r.policy else {
        return vec![scanners(r)];
    };
    let mut cases = Vec::new();
    for rule in &p.rules {
        let lines: Vec<String> = rule.violations.iter().map(|v| one_line(&v.message)).collect();
        let body = lines.join("\n");
        let n = rule.violations.len();
        let (failure, out) = match (rule.passed, rule.action) {
            (true, _) => (None, String::new()),
            (false, PolicyAction::Deny) => (
                Some((
                    format!("{n} violation{}: {}", if n == 1 { "" } else { "s" }, one_line(&rule.description)),
                    "deny".into(),
                    body,
                )),
                String::new(),
            ),
            (false, PolicyAction::Warn) => {
                (None, format!("warning: {n} violation{}\n{body}", if n == 1 { "" } else { "s" }))
            }
        };
        cases.push(Case {
            classname: format!("bulwark.policy.{}", p.policy),
            name: format!("{}: {}", rule.id, one_line(&rule.description)),
            failure,
            out,
        });
    }
    for e in &p.exceptions {
        let status = match e.status {
            bulwark_core::report::ExceptionStatus::Applied => continue,
            bulwark_core::report::ExceptionStatus::Expired => "expired",
            bulwark_core::report::ExceptionStatus::Unused => "unused",
        };
        cases.push(Case {
            classname: format!("bulwark.policy.{}.exceptions", p.policy),
            name: format!("exception {} ({})", e.id, e.owner),
            failure: None,
            out: format!("{status}: expires {}; {}", e.expires, one_line(&e.reason)),
        });
    }
    vec![Suite { name: format!("policy {}", p.policy), cases }]
}

/// Without a policy: a test case per scanner that ran, failing when it found anything.
fn scanners(r: &ScanReport) -> Suite {
    let mut cases = Vec::new();
    let ran = |s: &str| r.scanners.iter().any(|x| x == s);
    let counts = common::vuln_counts(r);
    let mut add = |scanner: &str, n: usize, what: &str, detail: String| {
        let failure = (n > 0).then(|| (format!("{n} {what}"), "finding".to_owned(), detail));
        cases.push(Case {
            classname: "bulwark.scan".into(),
            name: format!("{scanner}: no {what}"),
            failure,
            out: String::new(),
        });
    };
    if ran("vuln") || r.database.is_some() || !r.vulnerabilities.is_empty() {
        let detail = common::SEVERITIES
            .iter()
            .enumerate()
            .filter(|(i, _)| counts.total[*i] > 0)
            .map(|(i, s)| format!("{} {} ({} fixable)", counts.total[i], severity_word(*s), counts.fixable[i]))
            .collect::<Vec<_>>()
            .join("\n");
        add("vuln", r.vulnerabilities.len(), "vulnerabilities", detail);
    }
    let list = |items: Vec<String>| items.join("\n");
    if ran("malware") || !r.malware.is_empty() {
        add(
            "malware",
            r.malware.len(),
            "malware",
            list(common::malware(r).iter().map(|m| format!("{} {}", m.rule, location_text(&m.location))).collect()),
        );
    }
    if ran("secret") || !r.secrets.is_empty() {
        add(
            "secret",
            r.secrets.len(),
            "secrets",
            list(common::secrets(r).iter().map(|s| format!("{} {}", s.rule, location_text(&s.location))).collect()),
        );
    }
    if ran("config") || !r.misconfigurations.is_empty() {
        add(
            "config",
            r.misconfigurations.len(),
            "misconfigurations",
            list(common::misconfigurations(r).iter().map(|c| format!("{} {}", c.id, one_line(&c.message))).collect()),
        );
    }
    Suite { name: "scan".into(), cases }
}

fn verdict(r: &ScanReport, kind: FindingKind, id: &str, target: Option<&str>) -> (bool, String) {
    if r.policy.is_none() {
        return (true, String::new());
    }
    let failed = common::denied(r, kind, id, target);
    let warned = common::violated(r, kind, id, target, PolicyAction::Warn);
    (failed, if warned { "policy warning: a warn rule names this finding".into() } else { String::new() })
}

fn findings(r: &ScanReport) -> Vec<Suite> {
    let mut suites = Vec::new();
    let mut cases = Vec::new();
    for v in common::vulnerabilities(r) {
        let target = vuln_target(v);
        let (fail, out) = verdict(r, FindingKind::Vulnerability, &v.id, Some(&target));
        let mut body = format!(
            "{} {} {} ({}), fixed: {}\n{}",
            v.id,
            severity_word(v.severity),
            target,
            v.package.ecosystem,
            fixed_text(v),
            one_line(&v.explanation)
        );
        if let Some(l) = v.package.layer {
            body.push_str(&format!("\nlayer {}", common::layer_label(r, l)));
        }
        let msg = format!(
            "{} {}: {}",
            severity_word(v.severity),
            v.id,
            v.title.as_deref().map(one_line).unwrap_or_else(|| target.clone())
        );
        cases.push(Case {
            classname: format!("bulwark.vulnerability.{}", v.package.name),
            name: format!("{} {target}", v.id),
            failure: fail.then(|| (msg, severity_word(v.severity).into(), body)),
            out,
        });
    }
    suites.push(Suite { name: "vulnerabilities".into(), cases: std::mem::take(&mut cases) });
    for m in common::malware(r) {
        let (fail, out) = verdict(r, FindingKind::Malware, &m.rule, Some(&m.location.path));
        let body = format!(
            "{}\n{}",
            location_text(&m.location),
            m.sha256.as_deref().map(|h| format!("sha256 {h}")).unwrap_or_default()
        );
        cases.push(Case {
            classname: "bulwark.malware".into(),
            name: format!("{} {}", m.rule, m.location.path),
            failure: fail.then(|| {
                (
                    format!("{} {}: {}", severity_word(m.severity), m.rule, one_line(&m.title)),
                    severity_word(m.severity).into(),
                    body.trim_end().to_owned(),
                )
            }),
            out,
        });
    }
    suites.push(Suite { name: "malware".into(), cases: std::mem::take(&mut cases) });
    for s in common::secrets(r) {
        let (fail, out) = verdict(r, FindingKind::Secret, &s.rule, Some(&s.location.path));
        cases.push(Case {
            classname: "bulwark.secret".into(),
            name: format!("{} {}", s.rule, location_text(&s.location)),
            failure: fail.then(|| {
                (
                    format!("{} {}: {}", severity_word(s.severity), s.rule, one_line(&s.title)),
                    severity_word(s.severity).into(),
                    one_line(&s.preview),
                )
            }),
            out,
        });
    }
    suites.push(Suite { name: "secrets".into(), cases: std::mem::take(&mut cases) });
    for c in common::misconfigurations(r) {
        let path = c.location.as_ref().map(|l| l.path.as_str());
        let (fail, out) = verdict(r, FindingKind::Config, &c.id, path);
        let mut body = one_line(&c.message);
        if let Some(fix) = &c.remediation {
            body.push_str(&format!("\nremediation: {}", one_line(fix)));
        }
        cases.push(Case {
            classname: "bulwark.config".into(),
            name: format!("{}: {}", c.id, one_line(&c.title)),
            failure: fail.then(|| {
                (
                    format!("{} {}: {}", severity_word(c.severity), c.id, one_line(&c.title)),
                    severity_word(c.severity).into(),
                    body,
                )
            }),
            out,
        });
    }
    suites.push(Suite { name: "misconfigurations".into(), cases });
    suites.retain(|s| !s.cases.is_empty());
    suites
}
