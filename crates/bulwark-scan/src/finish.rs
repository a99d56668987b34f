//! After a scan: the gate (policy verdict, `--fail-on`) and the display filters, in that
//! order, so that the gate sees every finding and the filters change only what is shown.
//! The CLI and the server call this one function.

use bulwark_core::report::{FixState, ScanReport, Severity};
use bulwark_core::time::Date;

/// The gate for callers without a policy (`--fail-on`, `--exit-code`): fail when a finding
/// of `min` or worse is found, or one of unknown severity (which could be anything), or when
/// an enabled scanner could not check everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn {
    /// [`Severity::Unknown`] counts every finding.
    pub min: Severity,
}

/// What [`finish`] does to a report.
#[derive(Debug, Clone, Default)]
pub struct Finish<'a> {
    /// Evaluated into `report.policy`.
    pub policy: Option<&'a bulwark_policy::Policy>,
    /// The day policy exceptions expire against.
    pub today: Option<Date>,
    pub fail_on: Option<FailOn>,
    /// Display filter: keep only findings of these severities (all kinds); empty keeps all.
    pub severities: Vec<Severity>,
    /// Display filter: leave out vulnerabilities without a fixed version.
    pub ignore_unfixed: bool,
}

/// The gate's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gate {
    /// The policy was evaluated and failed.
    pub policy_failed: bool,
    /// Why [`Finish::fail_on`] fails the scan, when it does.
    pub fail_on: Option<String>,
}

impl Gate {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        self.policy_failed || self.fail_on.is_some()
    }
}

/// Evaluates the policy and the `fail_on` gate on the whole report, then applies the display
/// filters; how many findings they left out is kept in `report.hidden_by_filters`.
pub fn finish(report: &mut ScanReport, how: &Finish<'_>) -> Gate {
    if let Some(policy) = how.policy {
        report.policy = Some(policy.evaluate(report, how.today.unwrap_or_else(Date::today)));
    }
    let gate = Gate {
        policy_failed: report.policy.as_ref().is_some_and(|v| !v.passed),
        fail_on: how.fail_on.and_then(|f| fail_on(report, f)),
    };
    filter(report, &how.severities, how.ignore_unfixed);
    gate
}

fn fail_on(report: &ScanReport, fail_on: FailOn) -> Option<String> {
    let min = fail_on.min;
    let counts = |s: Severity| s >= min || s == Severity::Unknown;
    let found = report.vulnerabilities.iter().filter(|v| counts(v.severity)).count()
        + report.malware.iter().filter(|m| counts(m.severity)).count()
        + report.secrets.iter().filter(|s| counts(s.severity)).count()
        + report.misconfigurations.iter().filter(|c| counts(c.severity)).count();
    // `not_checked` names only checks that were asked for (a scanner that could not run at
    // all, such as vuln without a database, is no longer in `scanners` but is listed here).
    let gaps = report.not_checked.len();
    let at =
        if min == Severity::Unknown { "any severity".to_owned() } else { format!("{min:?} or worse").to_lowercase() };
    match (found, gaps) {
        (0, 0) => None,
        (n, 0) => Some(format!("{n} finding(s) of {at} (or of unknown severity)")),
        (n, g) => Some(format!("{n} finding(s) of {at}, and {g} check(s) not completed (see `not checked`)")),
    }
}

fn filter(report: &mut ScanReport, keep: &[Severity], ignore_unfixed: bool) {
    let before = finding_count(report);
    if !keep.is_empty() {
        report.vulnerabilities.retain(|v| keep.contains(&v.severity));
        report.malware.retain(|m| keep.contains(&m.severity));
        report.secrets.retain(|s| keep.contains(&s.severity));
        report.misconfigurations.retain(|c| keep.contains(&c.severity));
    }
    if ignore_unfixed {
        report.vulnerabilities.retain(|v| v.state == FixState::Fixed);
    }
    report.hidden_by_filters += (before - finding_count(report)) as u64;
}

fn finding_count(r: &ScanReport) -> usize {
    r.vulnerabilities.len() + r.malware.len() + r.secrets.len() + r.misconfigurations.len()
}
