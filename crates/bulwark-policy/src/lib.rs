//! Image assertion policies: a YAML file of rules and exceptions, and the verdict it gives
//! on a scan report.
//!
//! [`parse`] reads a policy and reports every problem in it with its line and column;
//! [`lint`] adds warnings (exceptions that expired or expire soon); [`Policy::evaluate`]
//! checks a [`ScanReport`] and returns a [`PolicyVerdict`]: pure data, deterministic,
//! with a message per violating finding. The format is documented in `docs/policy.md` and
//! `schemas/policy.schema.json`.
//!
//! ```
//! use bulwark_core::{report::ScanReport, time::Date};
//!
//! let policy = bulwark_policy::parse(
//!     "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: demo\nrules:\n  - id: no-kev\n    description: nothing actively exploited\n    action: deny\n    deny_kev: true\n",
//! )
//! .unwrap();
//! let report = ScanReport { scanners: vec!["vuln".into()], ..Default::default() };
//! let verdict = policy.evaluate(&report, Date::parse("2025-01-01").unwrap());
//! assert!(verdict.passed);
//! // The built-in rule fails images whose checks did not run.
//! let verdict = policy.evaluate(&ScanReport::default(), Date::parse("2025-01-01").unwrap());
//! assert!(!verdict.passed);
//! assert_eq!(verdict.rules.last().unwrap().id, bulwark_policy::CHECKS_COMPLETE);
//! ```

mod eol;
mod eval;
mod parse;
mod yaml;

use bulwark_core::glob::Glob;
use bulwark_core::report::{PolicyAction, Severity};
use bulwark_core::time::Date;

pub use parse::{KnownIds, closest, lint, lint_with, parse, parse_with};

/// The policy text as JSON (YAML core schema: plain `true`/`false`, numbers and null are
/// typed, everything else is a string), e.g. to check it against
/// `schemas/policy.schema.json` or to show what a YAML construct means.
pub fn to_json(text: &str) -> Result<serde_json::Value, Diagnostic> {
    match yaml::parse(text) {
        Ok(root) => Ok(root.as_ref().map_or(serde_json::Value::Null, yaml::Node::to_json)),
        Err(e) => Err(Diagnostic {
            line: e.pos.line,
            column: e.pos.column,
            severity: DiagnosticSeverity::Error,
            message: format!("invalid YAML: {}", e.message),
        }),
    }
}

/// The `apiVersion` a policy must declare.
pub const API_VERSION: &str = "bulwark.dev/v1";
/// The `kind` a policy must declare.
pub const KIND: &str = "ImageAssertion";
/// `lint` warns about exceptions that expire within this many days.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// A problem in a policy file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub severity: DiagnosticSeverity,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        };
        write!(f, "{}:{}: {level}: {}", self.line, self.column, self.message)
    }
}

/// Whether a diagnostic makes the policy unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiagnosticSeverity {
    Error,
    Warning,
}

/// The id of the built-in rule every verdict ends with: it fails when a check that one of the
/// policy's rules needs could not be completed (a scanner that did not run, no or a broken
/// advisory database, an ecosystem the database lacks, files skipped for a limit). Policies
/// may not use the id for a rule of their own; an exception naming it excuses such gaps.
pub const CHECKS_COMPLETE: &str = "checks-complete";

/// A parsed policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    /// The severity vulnerability rules count a vulnerability of unknown severity as
    /// (`unknown_severity: high`); `None` keeps it `unknown`.
    pub unknown_severity: Option<Severity>,
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Exception>,
    /// `sha256:<hex>` of the policy text.
    pub digest: String,
    /// What does not stop the policy from being used but should be fixed: globs whose
    /// meaning changed with the one glob dialect (`docs/globs.md`). [`lint`] lists them too.
    pub warnings: Vec<Diagnostic>,
}

/// One rule: what it checks and what happens when it is violated.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub action: PolicyAction,
    pub check: Check,
}

/// What a rule checks. Each rule has exactly one.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// At most this many vulnerabilities per severity (`None`: no limit for it).
    MaxSeverityCounts { limits: SeverityLimits, fixable_only: bool },
    /// No vulnerability whose id or alias is listed.
    DenyIds { ids: Vec<String>, fixable_only: bool },
    /// No vulnerability in CISA's Known Exploited Vulnerabilities catalog.
    DenyKev { fixable_only: bool },
    /// No vulnerability with an EPSS probability (or percentile) above the threshold.
    MaxEpss { probability: Option<f64>, percentile: Option<f64>, fixable_only: bool },
    /// No malware finding.
    DenyMalware,
    /// No secret matching the filter.
    DenySecrets(FindingFilter),
    /// No misconfiguration matching the filter.
    DenyConfig(FindingFilter),
    /// The OS release must be listed (`debian:12`, `alpine:3.20`, `distroless`…); with
    /// `deny_end_of_life`, it must also still be supported.
    AllowedOs { allowed: Vec<String>, deny_end_of_life: bool },
    /// The OS release must still receive security updates.
    DenyEndOfLife,
    /// The image must come from one of these registries: globs (`docs/globs.md`) over the
    /// registry host or `host/repository`, or a repository prefix.
    AllowedBaseRegistries(Vec<String>),
    /// The image must have been created at most this many days before evaluation.
    MaxImageAgeDays(u64),
}

/// Limits per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityLimits {
    pub critical: Option<u64>,
    pub high: Option<u64>,
    pub medium: Option<u64>,
    pub low: Option<u64>,
    pub unknown: Option<u64>,
}

impl SeverityLimits {
    pub fn get(&self, severity: Severity) -> Option<u64> {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }
}

/// Which secrets or misconfigurations a rule denies: those whose rule/check id is listed
/// or whose severity is at least `min_severity`; everything when both are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    pub ids: Vec<String>,
    pub min_severity: Option<Severity>,
}

impl FindingFilter {
    pub fn matches(&self, id: &str, severity: Severity) -> bool {
        if self.ids.is_empty() && self.min_severity.is_none() {
            return true;
        }
        self.ids.iter().any(|i| i == id) || self.min_severity.is_some_and(|m| severity >= m)
    }
}

/// A finding a rule should not count, for a reason, until a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// Advisory id (or alias), secret rule id or fingerprint, malware rule, config check
    /// id, or a policy rule id (which excuses everything that rule would report).
    pub id: String,
    pub scope: Scope,
    pub reason: String,
    pub owner: String,
    /// The last day the exception applies.
    pub expires: Date,
    /// Where `expires` is written, for lint warnings.
    pub expires_at: (usize, usize),
}

/// Narrows an exception; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Glob over the image reference, with or without its `registry:` prefix
    /// (`docs/globs.md`).
    pub image: Option<Glob>,
    /// Package name, `name@version` or purl, for vulnerabilities.
    pub package: Option<String>,
    /// Glob over the finding's file path (for vulnerabilities, the package's locations).
    pub path: Option<Glob>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.image.is_none() && self.package.is_none() && self.path.is_none()
    }

    /// As written, for the verdict: `image=… package=… path=…`.
    pub fn describe(&self) -> Option<String> {
        let (image, path) = (self.image.as_ref().map(Glob::as_str), self.path.as_ref().map(Glob::as_str));
        let parts: Vec<String> = [("image", image), ("package", self.package.as_deref()), ("path", path)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

impl Check {
    /// The scanner whose findings this check judges, if any (`vuln`, `malware`, `secret`,
    /// `config`). Image-property checks need none.
    pub fn scanner(&self) -> Option<&'static str> {
        match self {
            Check::MaxSeverityCounts { .. } | Check::DenyIds { .. } | Check::DenyKev { .. } | Check::MaxEpss { .. } => {
                Some("vuln")
            }
            Check::DenyMalware => Some("malware"),
            Check::DenySecrets(_) => Some("secret"),
            Check::DenyConfig(_) => Some("config"),
            Check::AllowedOs { .. }
            | Check::DenyEndOfLife
            | Check::AllowedBaseRegistries(_)
            | Check::MaxImageAgeDays(_) => None,
        }
    }
}

impl Exception {
    /// Valid through its expiry day, inclusive.
    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expires
    }
}
