//! `bulwark scan` and `bulwark policy`: scanner options, filters, the policy verdict, every
//! output format, and the exit code (0 passed, 1 policy failed, 2 error).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use bulwark_core::plural::count;
use bulwark_core::report::{FixState, ScanReport, Severity};
use bulwark_core::time::Date;
use bulwark_scan::Scanners;

use crate::cli::{
    JunitCases, MalwareEngine, PolicyCheckArgs, PolicyLintArgs, ReportFormat, ScanArgs, Scanner, SeverityArg,
};
use crate::commands::{OK, write_output};
use crate::output::{Output, OutputSpec};

/// Exit code: the policy failed.
pub(crate) const POLICY_FAILED: u8 = 1;

/// Default ignore file, used when present and no `--ignore-file` is given.
const DEFAULT_IGNORE_FILE: &str = ".bulwarkignore.yaml";

pub fn scan(args: ScanArgs) -> Result<u8> {
    let outputs = parse_outputs(&args.output, args.format)?;
    // A bad policy is an error before any layer is read.
    let policy = args.policy.as_deref().map(load_policy).transpose()?;
    let today = today()?;
    let mut ignore_files = args.ignore_file.clone();
    if ignore_files.is_empty() && Path::new(DEFAULT_IGNORE_FILE).is_file() {
        ignore_files.push(PathBuf::from(DEFAULT_IGNORE_FILE));
    }
    let scanners = Scanners {
        vuln: args.scanners.contains(&Scanner::Vuln),
        malware: args.scanners.contains(&Scanner::Malware),
        secret: args.scanners.contains(&Scanner::Secret),
        config: args.scanners.contains(&Scanner::Config),
    };
    let clamd = clamd_config(&args)?;
    let mut report = crate::commands::run_scan_with(&args.input, scanners.vuln, args.db_max_age_days, |opts| {
        opts.scanners = scanners;
        opts.read.offline = args.offline;
        opts.today = today;
        opts.ignore_files = ignore_files;
        opts.vex_files = args.vex.clone();
        opts.malware.bundled = !args.no_bundled_rules;
        opts.malware.rule_paths = args.yara_rules.clone();
        opts.malware.hash_lists = args.malware_hashes.clone();
        opts.secret.rule_files = args.secret_rules.clone();
        opts.secret.allow_paths = args.secret_allow_path.clone();
        for a in &args.secret_allow {
            // Fingerprints are hex; anything else names a rule.
            if a.len() >= 16 && a.bytes().all(|b| b.is_ascii_hexdigit()) {
                opts.secret.allow_fingerprints.push(a.clone());
            } else {
                opts.secret.allow_rules.push(a.clone());
            }
        }
        if let Some(max) = args.max_scan_file_bytes {
            opts.malware.max_file_bytes = max;
            opts.secret.max_file_bytes = max;
        }
        opts.malware.yara = args.malware_engine.contains(&MalwareEngine::Yara);
        opts.malware.clamd = clamd.clone();
    })?;
    // The gate sees every finding: `--severity` and `--ignore-unfixed` change what is shown,
    // never what passes (a policy denying fixable highs fails whatever is displayed).
    if let Some(policy) = &policy {
        report.policy = Some(policy.evaluate(&report, today));
    }
    let fail_on = fail_on_gate(&report, args.fail_on, args.exit_code);
    filter(&mut report, &args.severity, args.ignore_unfixed);
    emit(&report, &outputs, args.junit_cases, args.input.quiet)?;
    let code = exit_code(&report);
    if code != OK {
        return Ok(code);
    }
    match fail_on {
        Some((code, why)) => {
            if !args.input.quiet {
                let _ = writeln!(io::stderr().lock(), "failed: {why}");
            }
            Ok(code)
        }
        None => Ok(OK),
    }
}

/// `--fail-on SEVERITY` / `--exit-code N`, the gate for users without a policy: the exit code
/// and why, when any finding is at `SEVERITY` or worse (or of unknown severity, which could be
/// anything), or when an enabled scanner could not check everything. Judged before display
/// filters are applied.
/// clamd's settings when `--malware-engine clamav` is chosen (with the malware scanner).
fn clamd_config(args: &ScanArgs) -> Result<Option<bulwark_detect::malware::clamd::ClamdConfig>> {
    use bulwark_detect::malware::clamd::ClamdConfig;
    if !args.malware_engine.contains(&MalwareEngine::Clamav) || !args.scanners.contains(&Scanner::Malware) {
        if args.clamd.is_some() && !args.malware_engine.contains(&MalwareEngine::Clamav) {
            bail!("--clamd is set but clamav is not among --malware-engine\nhint: add --malware-engine yara,clamav");
        }
        return Ok(None);
    }
    let mut config = ClamdConfig::default();
    if let Some(a) = &args.clamd {
        config.address = a.parse().map_err(|e: String| anyhow!("--clamd: {e}"))?;
    }
    if let Some(max) = args.clamd_max_stream_bytes {
        config.max_stream_bytes = max;
    }
    config.timeout = std::time::Duration::from_secs(args.clamd_timeout.max(1));
    Ok(Some(config))
}

fn fail_on_gate(report: &ScanReport, fail_on: Option<SeverityArg>, exit_code: Option<u8>) -> Option<(u8, String)> {
    if fail_on.is_none() && exit_code.is_none() {
        return None;
    }
    let code = exit_code.unwrap_or(POLICY_FAILED);
    let min = fail_on.map(severity_of).unwrap_or(Severity::Unknown);
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
        (n, 0) => Some((code, format!("{n} finding(s) of {at} (or of unknown severity) (exit code {code})"))),
        (n, g) => Some((
            code,
            format!("{n} finding(s) of {at}, and {g} check(s) not completed (see `not checked`) (exit code {code})"),
        )),
    }
}

fn severity_of(s: SeverityArg) -> Severity {
    match s {
        SeverityArg::Critical => Severity::Critical,
        SeverityArg::High => Severity::High,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Unknown => Severity::Unknown,
    }
}

/// `bulwark policy check`: the verdict of a saved report under a policy.
pub fn policy_check(args: PolicyCheckArgs) -> Result<u8> {
    let outputs = parse_outputs(&args.output, args.format)?;
    let policy = load_policy(&args.policy)?;
    let today = match &args.date {
        Some(d) => Date::parse(d).ok_or_else(|| anyhow!("--date {d:?} is not a YYYY-MM-DD date"))?,
        None => today()?,
    };
    let bytes = std::fs::read(&args.report).with_context(|| format!("reading {}", args.report.display()))?;
    let mut report: ScanReport = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a Bulwark JSON report\nhint: write one with `bulwark scan --format json`",
            args.report.display()
        )
    })?;
    // A saved report may come from an older Bulwark or another tool: it is printed only
    // through the same redaction step a scan's report goes through.
    bulwark_scan::Redactor::builtin()?.redact_report(&mut report);
    report.policy = Some(policy.evaluate(&report, today));
    emit(&report, &outputs, JunitCases::Rules, false)?;
    Ok(exit_code(&report))
}

/// `bulwark policy lint`: every problem with line and column; exit 2 when there are errors.
pub fn policy_lint(args: PolicyLintArgs) -> Result<u8> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let diagnostics = bulwark_policy::lint_with(&text, today()?, known_ids(&config_checks()));
    let mut out = io::stdout().lock();
    let mut errors = 0;
    for d in &diagnostics {
        writeln!(out, "{}:{d}", args.file.display())?;
        errors += usize::from(d.severity == bulwark_policy::DiagnosticSeverity::Error);
    }
    if errors > 0 {
        bail!("{}: {}", args.file.display(), count(errors, "error", "errors"));
    }
    writeln!(out, "{}: ok ({})", args.file.display(), count(diagnostics.len(), "warning", "warnings"))?;
    Ok(OK)
}

/// The config check ids a policy may name, from the checks themselves.
fn config_checks() -> Vec<&'static str> {
    bulwark_detect::config::checks().iter().map(|c| c.id).collect()
}

fn known_ids<'a>(config_checks: &'a [&'a str]) -> bulwark_policy::KnownIds<'a> {
    bulwark_policy::KnownIds { config_checks }
}

fn load_policy(path: &Path) -> Result<bulwark_policy::Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading policy {}", path.display()))?;
    bulwark_policy::parse_with(&text, known_ids(&config_checks())).map_err(|diagnostics| {
        // `error: ` is already the line's prefix: the diagnostic gives position and message.
        let first = diagnostics.first().map(|d| format!("{}:{}: {}", d.line, d.column, d.message)).unwrap_or_default();
        anyhow!(
            "policy {}:{first} ({})\nhint: `bulwark policy lint {}` lists them all",
            path.display(),
            count(diagnostics.len(), "problem", "problems"),
            path.display()
        )
    })
}

/// Today, or `BULWARK_TODAY` (YYYY-MM-DD) for reproducible runs.
fn today() -> Result<Date> {
    match std::env::var("BULWARK_TODAY") {
        Ok(d) => Date::parse(&d).ok_or_else(|| anyhow!("BULWARK_TODAY={d:?} is not a YYYY-MM-DD date")),
        Err(_) => Ok(Date::today()),
    }
}

/// `--severity` and `--ignore-unfixed`: what is left out of every output, after the policy
/// and `--fail-on` have seen everything. How many were left out is kept in the report.
fn filter(report: &mut ScanReport, severities: &[SeverityArg], ignore_unfixed: bool) {
    let before = finding_count(report);
    if !severities.is_empty() {
        let keep: Vec<Severity> = severities.iter().copied().map(severity_of).collect();
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

fn exit_code(report: &ScanReport) -> u8 {
    match &report.policy {
        Some(v) if !v.passed => POLICY_FAILED,
        _ => OK,
    }
}

/// `--output FILE` writes to FILE instead of stdout; `--output FORMAT=FILE` adds a file and
/// leaves stdout as it is (`crate::output` has the rules).
fn parse_outputs(specs: &[OutputSpec], format: Option<ReportFormat>) -> Result<Vec<Output>> {
    crate::output::resolve(specs, format).map_err(|e| anyhow!(e))
}

fn emit(report: &ScanReport, outputs: &[Output], junit: JunitCases, quiet: bool) -> Result<()> {
    for (format, path) in outputs {
        let tty = path.is_none() && io::stdout().is_terminal();
        write_output(path.as_deref(), |w| render(w, report, *format, junit, tty))?;
    }
    if !quiet && let Some(v) = &report.policy {
        let mut err = io::stderr().lock();
        let failed = v.failures().count();
        let name = bulwark_core::term::escape(&v.policy);
        let _ = if v.passed {
            writeln!(err, "policy {name}: passed ({})", count(v.warnings().count(), "warning", "warnings"))
        } else {
            writeln!(err, "policy {name}: FAILED ({} violated)", count(failed, "rule", "rules"))
        };
    }
    Ok(())
}

fn render(
    w: &mut dyn Write,
    report: &ScanReport,
    format: ReportFormat,
    junit: JunitCases,
    tty: bool,
) -> io::Result<()> {
    match format {
        ReportFormat::Table => {
            let (width, color) = (crate::terminal::table_width(tty), crate::terminal::color(tty));
            let opts = bulwark_report::table::TableOptions {
                width,
                color,
                now_unix: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_secs()).ok()),
                ..Default::default()
            };
            w.write_all(bulwark_report::table::render(report, &opts).as_bytes())
        }
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, report)?;
            writeln!(w)
        }
        ReportFormat::Sarif => w.write_all(&bulwark_report::sarif::to_vec(report)),
        ReportFormat::Junit => w.write_all(&bulwark_report::junit::to_vec(
            report,
            match junit {
                JunitCases::Rules => bulwark_report::junit::Granularity::Rules,
                JunitCases::Findings => bulwark_report::junit::Granularity::Findings,
            },
        )),
        ReportFormat::Cyclonedx => w.write_all(&bulwark_report::cyclonedx::to_vec(report)),
        ReportFormat::Spdx => w.write_all(&bulwark_report::spdx::to_vec(report)),
        ReportFormat::Html => w.write_all(&bulwark_report::html::to_vec(report)),
        ReportFormat::Markdown => w.write_all(bulwark_report::markdown::to_string(report).as_bytes()),
    }
}
