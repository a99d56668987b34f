//! Checking a report against a policy.

use std::collections::BTreeSet;

use bulwark_core::glob;
use bulwark_core::report::{
    AffectedPackage, ExceptionOutcome, ExceptionStatus, FileLocation, FindingKind, FixState, NotCheckedReason,
    PolicyAction, PolicyVerdict, RuleOutcome, ScanReport, Severity, Violation, Vulnerability,
};
use bulwark_core::time::Date;
use bulwark_core::{DockerRef, Reference, Target};

use crate::eol::{self, Support};

use crate::{Check, Exception, Policy, Rule};

/// A finding a rule would report, before exceptions.
struct Finding<'r> {
    kind: FindingKind,
    id: String,
    /// Other ids an exception may name: aliases, a secret's fingerprint.
    aliases: Vec<&'r str>,
    target: Option<String>,
    package: Option<&'r AffectedPackage>,
    paths: Vec<&'r str>,
    severity: Severity,
    message: String,
}

impl Finding<'_> {
    fn violation(self) -> Violation {
        Violation { kind: self.kind, id: self.id, target: self.target, message: self.message }
    }
}

struct ExceptionState<'p> {
    exception: &'p Exception,
    expired: bool,
    matched: BTreeSet<String>,
}

impl Policy {
    /// Checks `report` against the policy on `today` (exceptions are valid through their
    /// expiry day). Rules come out in policy order, violations sorted.
    ///
    /// The verdict ends with the built-in rule [`CHECKS_COMPLETE`](crate::CHECKS_COMPLETE)
    /// (action `deny`): a rule cannot pass an image on findings nobody looked for.
    pub fn evaluate(&self, report: &ScanReport, today: Date) -> PolicyVerdict {
        let mut states: Vec<ExceptionState> = self
            .exceptions
            .iter()
            .map(|e| ExceptionState { exception: e, expired: e.is_expired(today), matched: BTreeSet::new() })
            .collect();
        // `unknown_severity: high`: vulnerability rules see unknown as that severity.
        let remapped;
        let report = match self.unknown_severity {
            Some(s) if report.vulnerabilities.iter().any(|v| v.severity == Severity::Unknown) => {
                let mut r = report.clone();
                for v in r.vulnerabilities.iter_mut().filter(|v| v.severity == Severity::Unknown) {
                    v.severity = s;
                }
                remapped = r;
                &remapped
            }
            _ => report,
        };
        let mut rules: Vec<RuleOutcome> = self
            .rules
            .iter()
            .map(|rule| {
                let mut violations = check(rule, report, today, &mut states);
                violations.sort();
                violations.dedup();
                RuleOutcome {
                    id: rule.id.clone(),
                    description: rule.description.clone(),
                    action: rule.action,
                    passed: violations.is_empty(),
                    violations,
                }
            })
            .collect();
        rules.push(self.checks_complete(report, &mut states));
        let exceptions = states
            .into_iter()
            .map(|s| ExceptionOutcome {
                id: s.exception.id.clone(),
                scope: s.exception.scope.describe(),
                reason: s.exception.reason.clone(),
                owner: s.exception.owner.clone(),
                expires: s.exception.expires.to_string(),
                status: if s.expired {
                    ExceptionStatus::Expired
                } else if s.matched.is_empty() {
                    ExceptionStatus::Unused
                } else {
                    ExceptionStatus::Applied
                },
                matched: s.matched.into_iter().collect(),
            })
            .collect();
        PolicyVerdict {
            policy: self.name.clone(),
            policy_digest: Some(self.digest.clone()),
            passed: !rules.iter().any(|r| !r.passed && r.action == PolicyAction::Deny),
            evaluated_on: today.to_string(),
            rules,
            exceptions,
        }
    }
}

impl Policy {
    /// The built-in rule: one violation per check a rule of this policy needs that did not
    /// run or did not complete ([`ScanReport::not_checked`]). Exceptions apply as to any rule
    /// (by `checks-complete`, by reason code, scoped by path for skipped files).
    fn checks_complete(&self, report: &ScanReport, states: &mut [ExceptionState]) -> RuleOutcome {
        let rule = Rule {
            id: crate::CHECKS_COMPLETE.to_owned(),
            description: "every check the policy's rules need ran to completion".to_owned(),
            action: PolicyAction::Deny,
            check: Check::DenyMalware, // unused: the findings are made here
        };
        let needed: BTreeSet<&str> = self.rules.iter().filter_map(|r| r.check.scanner()).collect();
        let mut found = Vec::new();
        for scanner in &needed {
            // A scanner that was asked for but could not run (no database) is listed in
            // `not_checked` with its own reason below; one cause per scanner.
            let covered = report.not_checked.iter().any(|n| n.scanner == *scanner);
            if !covered && !report.scanners.iter().any(|s| s == scanner) {
                let users: Vec<&str> =
                    self.rules.iter().filter(|r| r.check.scanner() == Some(scanner)).map(|r| r.id.as_str()).collect();
                found.push(Finding {
                    kind: FindingKind::NotChecked,
                    id: NotCheckedReason::ScannerNotRun.code().to_owned(),
                    aliases: vec![],
                    target: Some((*scanner).to_owned()),
                    package: None,
                    paths: vec![],
                    severity: Severity::Unknown,
                    message: format!(
                        "the {scanner} scanner did not run, so rule{} {} judged nothing: enable it (`--scanners` includes {scanner}) or drop the rule",
                        if users.len() == 1 { "" } else { "s" },
                        users.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        for n in report.not_checked.iter().filter(|n| needed.contains(n.scanner.as_str())) {
            found.push(Finding {
                kind: FindingKind::NotChecked,
                id: n.reason.code().to_owned(),
                aliases: vec![],
                target: n.scope.clone().or_else(|| Some(n.scanner.clone())),
                package: None,
                paths: n.scope.iter().map(String::as_str).collect(),
                severity: Severity::Unknown,
                message: format!("{} not checked: {}", n.scanner, n.message),
            });
        }
        let mut violations: Vec<Violation> =
            unexcused(&rule, report, found, states).into_iter().map(Finding::violation).collect();
        violations.sort();
        violations.dedup();
        RuleOutcome {
            id: rule.id,
            description: rule.description,
            action: rule.action,
            passed: violations.is_empty(),
            violations,
        }
    }
}

/// The findings of `candidates` that no valid exception excuses; the exceptions that do
/// excuse one remember it.
fn unexcused<'r>(
    rule: &Rule,
    report: &ScanReport,
    candidates: Vec<Finding<'r>>,
    states: &mut [ExceptionState],
) -> Vec<Finding<'r>> {
    candidates
        .into_iter()
        .filter(|f| {
            let Some(state) = states.iter_mut().find(|s| !s.expired && excuses(s.exception, rule, report, f)) else {
                return true;
            };
            let what = match &f.target {
                Some(t) => format!("{} {t}", f.id),
                None => f.id.clone(),
            };
            state.matched.insert(what);
            false
        })
        .collect()
}

fn excuses(e: &Exception, rule: &Rule, report: &ScanReport, f: &Finding) -> bool {
    let id_matches = |id: &str| id.eq_ignore_ascii_case(&e.id);
    if !(id_matches(&f.id) || f.aliases.iter().any(|a| id_matches(a)) || e.id == rule.id) {
        return false;
    }
    if let Some(pattern) = &e.scope.image {
        let reference = report.image.reference.as_str();
        let bare = reference.strip_prefix("registry:").unwrap_or(reference);
        if !pattern.is_match(reference) && !pattern.is_match(bare) {
            return false;
        }
    }
    if let Some(want) = &e.scope.package {
        let Some(p) = f.package else { return false };
        let names = [
            p.name.clone(),
            format!("{}@{}", p.name, p.version),
            p.purl.clone(),
            p.matched_as.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        ];
        if !names.iter().any(|n| !n.is_empty() && n == want) {
            return false;
        }
    }
    if let Some(pattern) = &e.scope.path
        && !f.paths.iter().any(|p| pattern.is_match(p))
    {
        return false;
    }
    true
}

fn check(rule: &Rule, report: &ScanReport, today: Date, states: &mut [ExceptionState]) -> Vec<Violation> {
    let vulns =
        |fixable_only: bool| report.vulnerabilities.iter().filter(move |v| !fixable_only || v.state == FixState::Fixed);
    let found = match &rule.check {
        Check::MaxSeverityCounts { limits, fixable_only } => {
            let candidates =
                vulns(*fixable_only).filter(|v| limits.get(v.severity).is_some()).map(|v| vuln(v, "")).collect();
            let remaining = unexcused(rule, report, candidates, states);
            let mut out = Vec::new();
            for severity in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Unknown] {
                let Some(limit) = limits.get(severity) else { continue };
                let of: Vec<&Finding> = remaining.iter().filter(|f| f.severity == severity).collect();
                let n = of.len() as u64;
                if n <= limit {
                    continue;
                }
                let fixable = if *fixable_only { " fixable" } else { "" };
                let sev = severity_word(severity);
                for f in of {
                    out.push(Violation {
                        kind: f.kind,
                        id: f.id.clone(),
                        target: f.target.clone(),
                        message: format!("{} [{n}{fixable} {sev} found, at most {limit} allowed]", f.message),
                    });
                }
            }
            return out;
        }
        Check::DenyIds { ids, fixable_only } => {
            let listed = |v: &Vulnerability| {
                ids.iter()
                    .any(|id| v.id.eq_ignore_ascii_case(id) || v.aliases.iter().any(|a| a.eq_ignore_ascii_case(id)))
            };
            vulns(*fixable_only).filter(|v| listed(v)).map(|v| vuln(v, ", denied by id")).collect()
        }
        Check::DenyKev { fixable_only } => {
            vulns(*fixable_only).filter(|v| v.kev).map(|v| vuln(v, ", in CISA KEV: exploited in the wild")).collect()
        }
        Check::MaxEpss { probability, percentile, fixable_only } => vulns(*fixable_only)
            .filter_map(|v| {
                let (prob, pct) = v.epss?;
                let over = probability.is_some_and(|max| prob > max) || percentile.is_some_and(|max| pct > max);
                over.then(|| {
                    let limit = match (probability, percentile) {
                        (Some(p), Some(q)) => format!("probability {p} / percentile {q}"),
                        (Some(p), None) => format!("{p}"),
                        (None, Some(q)) => format!("percentile {q}"),
                        (None, None) => String::new(),
                    };
                    vuln(v, &format!(", EPSS {prob:.3} (percentile {pct:.3}) above {limit}"))
                })
            })
            .collect(),
        Check::DenyMalware => report
            .malware
            .iter()
            .map(|m| {
                let hash = m.sha256.as_deref().map(|h| format!(", sha256 {h}")).unwrap_or_default();
                file_finding(
                    FindingKind::Malware,
                    &m.rule,
                    vec![],
                    &m.location,
                    m.severity,
                    format!("malware `{}` ({}{hash}) in {}", m.rule, m.title, place(&m.location)),
                    "delete the file and rebuild from a trusted base image",
                )
            })
            .collect(),
        Check::DenySecrets(filter) => report
            .secrets
            .iter()
            .filter(|s| filter.matches(&s.rule, s.severity))
            .map(|s| {
                file_finding(
                    FindingKind::Secret,
                    &s.rule,
                    vec![s.fingerprint.as_str()],
                    &s.location,
                    s.severity,
                    format!("{} ({}, {}) in {}", s.rule, s.title, severity_word(s.severity), place(&s.location)),
                    "revoke and rotate the credential, then remove it from every layer (pass it at run time instead)",
                )
            })
            .collect(),
        Check::DenyConfig(filter) => report
            .misconfigurations
            .iter()
            .filter(|c| filter.matches(&c.id, c.severity))
            .map(|c| {
                let mut message = format!(
                    "{} {} ({}): {}",
                    c.id,
                    c.title,
                    severity_word(c.severity),
                    c.message.trim_end_matches('.')
                );
                if let Some(fix) = &c.remediation {
                    message.push_str(&format!("; fix: {fix}"));
                }
                Finding {
                    kind: FindingKind::Config,
                    id: c.id.clone(),
                    aliases: vec![],
                    target: c.location.as_ref().map(|l| l.path.clone()),
                    package: None,
                    paths: c.location.iter().map(|l| l.path.as_str()).collect(),
                    severity: c.severity,
                    message,
                }
            })
            .collect(),
        Check::AllowedOs { allowed, deny_end_of_life } => {
            let mut out = allowed_os(report, allowed).into_iter().collect::<Vec<_>>();
            if *deny_end_of_life {
                out.extend(end_of_life(report, today));
            }
            out
        }
        Check::DenyEndOfLife => end_of_life(report, today).into_iter().collect(),
        Check::AllowedBaseRegistries(allowed) => registry(report, allowed).into_iter().collect(),
        Check::MaxImageAgeDays(max) => image_age(report, *max, today).into_iter().collect(),
    };
    unexcused(rule, report, found, states).into_iter().map(Finding::violation).collect()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown severity",
    }
}

/// `CVE-2023-1234 in openssl@3.0.2 (high, fixed in 3.0.13{extra}): upgrade to 3.0.13`.
fn vuln<'r>(v: &'r Vulnerability, extra: &str) -> Finding<'r> {
    let p = &v.package;
    let (state, action) = match (v.state, v.fixed_versions.first()) {
        (FixState::Fixed, Some(fixed)) => {
            (format!("fixed in {fixed}"), format!("upgrade {} to {fixed} or later", p.name))
        }
        (FixState::Fixed, None) => ("fixed upstream".to_owned(), format!("upgrade {}", p.name)),
        (FixState::NotFixed, _) => (
            "no fix released yet".to_owned(),
            "remove the package if unused, or add a time-limited exception with a reason".to_owned(),
        ),
        (FixState::WontFix, _) => (
            "the distribution will not fix it".to_owned(),
            "remove the package or switch base image, or add an exception with a reason".to_owned(),
        ),
    };
    let layer = p.layer.map(|l| format!(", layer {l}")).unwrap_or_default();
    Finding {
        kind: FindingKind::Vulnerability,
        id: v.id.clone(),
        aliases: v.aliases.iter().map(String::as_str).collect(),
        target: Some(format!("{}@{}", p.name, p.version)),
        package: Some(p),
        paths: p.locations.iter().map(String::as_str).collect(),
        severity: v.severity,
        message: format!(
            "{} in {}@{} ({}, {state}{layer}{extra}): {action}",
            v.id,
            p.name,
            p.version,
            severity_word(v.severity)
        ),
    }
}

fn place(l: &FileLocation) -> String {
    let mut s = l.path.clone();
    if let Some(line) = l.line {
        s.push_str(&format!(" line {line}"));
    }
    if let Some(layer) = l.layer {
        s.push_str(&format!(" (layer {layer}"));
        if let Some(r) = l.removed_in {
            s.push_str(&format!(", deleted in layer {r} but still shipped in the image's layers"));
        }
        s.push(')');
    }
    s
}

fn file_finding<'r>(
    kind: FindingKind,
    id: &str,
    aliases: Vec<&'r str>,
    location: &'r FileLocation,
    severity: Severity,
    what: String,
    action: &str,
) -> Finding<'r> {
    Finding {
        kind,
        id: id.to_owned(),
        aliases,
        target: Some(location.path.clone()),
        package: None,
        paths: vec![location.path.as_str()],
        severity,
        message: format!("{what}: {action}"),
    }
}

fn image_finding(id: &str, target: Option<String>, message: String) -> Finding<'static> {
    Finding {
        kind: FindingKind::Image,
        id: id.to_owned(),
        aliases: vec![],
        target,
        package: None,
        paths: vec![],
        severity: Severity::Unknown,
        message,
    }
}

fn os_name(report: &ScanReport) -> Option<String> {
    let os = report.os.as_ref()?;
    Some(match &os.version_id {
        Some(v) => format!("{}:{v}", os.id),
        None => os.id.clone(),
    })
}

fn allowed_os(report: &ScanReport, allowed: &[String]) -> Option<Finding<'static>> {
    let list = allowed.join(", ");
    let Some(os) = &report.os else {
        return Some(image_finding(
            "os",
            None,
            format!("the distribution could not be identified (no os-release); allowed: {list}"),
        ));
    };
    let ok = allowed.iter().any(|entry| {
        let (id, version) = match entry.split_once(':') {
            Some((id, v)) => (id, Some(v)),
            None => (entry.as_str(), None),
        };
        os.id.eq_ignore_ascii_case(id)
            && version.is_none_or(|want| {
                os.version_id.as_deref().is_some_and(|have| {
                    have == want || have.strip_prefix(want).is_some_and(|rest| rest.starts_with('.'))
                })
            })
    });
    let name = os_name(report).unwrap_or_default();
    (!ok).then(|| {
        image_finding("os", Some(name.clone()), format!("{name} is not an allowed base: rebuild on one of {list}"))
    })
}

fn end_of_life(report: &ScanReport, today: Date) -> Option<Finding<'static>> {
    let os = report.os.as_ref()?;
    let version = os.version_id.as_deref()?;
    let name = os_name(report)?;
    let pretty = os.pretty_name.clone().unwrap_or_else(|| name.clone());
    let message = match eol::support(&os.id, version, today) {
        Support::Ended(day) => {
            format!("{pretty} stopped receiving security updates on {day}: move to a supported release of {}", os.id)
        }
        Support::Ancient => format!(
            "{pretty} is older than any release of {} that still receives security updates: move to a supported release",
            os.id
        ),
        Support::NotKnownEnded => return None,
    };
    Some(image_finding("end-of-life", Some(name), message))
}

fn registry(report: &ScanReport, allowed: &[String]) -> Option<Finding<'static>> {
    let reference = report.image.reference.as_str();
    let parsed = reference.parse::<Reference>().ok();
    let docker_ref: Option<DockerRef> = match parsed.as_ref().map(Reference::target) {
        Some(Target::Registry { reference: r, bare: false }) => Some(r.clone()),
        // An image in the local engine is named like a registry image (`nginx:1` is
        // `docker.io/library/nginx:1`); where it was pulled from is what the name says.
        Some(Target::LocalImage(name)) => name.parse::<DockerRef>().ok(),
        _ => None,
    };
    let list = allowed.join(", ");
    let Some(r) = docker_ref else {
        return Some(image_finding(
            "registry",
            None,
            format!("`{reference}` is not a registry image, so its registry cannot be checked; allowed: {list}"),
        ));
    };
    let repo = format!("{}/{}", r.registry, r.repository);
    let ok = allowed.iter().any(|a| {
        let a = a.trim_end_matches('/');
        glob::matches(a, &r.registry) || glob::matches(a, &repo) || repo.starts_with(&format!("{a}/"))
    });
    (!ok).then(|| {
        image_finding(
            "registry",
            Some(r.registry.clone()),
            format!("{repo} comes from {}, which is not an allowed registry: use an image from {list}", r.registry),
        )
    })
}

fn image_age(report: &ScanReport, max: u64, today: Date) -> Option<Finding<'static>> {
    let Some(created) = report.image.created.as_deref().and_then(Date::parse) else {
        return Some(image_finding(
            "age",
            None,
            format!("the image records no creation time, so its age (at most {max} days) cannot be checked"),
        ));
    };
    let age = today.days_since(created);
    (age > i64::try_from(max).unwrap_or(i64::MAX)).then(|| {
        image_finding(
            "age",
            Some(created.to_string()),
            format!("the image was built {age} days ago ({created}), more than {max}: rebuild it to pick up updates"),
        )
    })
}
