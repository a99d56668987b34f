//! `bulwark scan` and `bulwark policy`: scanner options, filters, the policy verdict, every
//! output format, and the exit code (0 passed, 1 policy failed, 2 error).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use bulwark_core::report::{FixState, ScanReport, Severity};
use bulwark_core::time::Date;
use bulwark_scan::Scanners;

use crate::cli::{JunitCases, PolicyCheckArgs, PolicyLintArgs, ReportFormat, ScanArgs, Scanner, SeverityArg};
use crate::commands::{OK, write_output};

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
    })?;
    filter(&mut report, &args.severity, args.ignore_unfixed);
    if let Some(policy) = &policy {
        report.policy = Some(policy.evaluate(&report, today));
    }
    emit(&report, &outputs, args.junit_cases, args.input.quiet)?;
    Ok(exit_code(&report))
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
    report.policy = Some(policy.evaluate(&report, today));
    emit(&report, &outputs, JunitCases::Rules, false)?;
    Ok(exit_code(&report))
}

/// `bulwark policy lint`: every problem with line and column; exit 2 when there are errors.
pub fn policy_lint(args: PolicyLintArgs) -> Result<u8> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let diagnostics = bulwark_policy::lint(&text, today()?);
    let mut out = io::stdout().lock();
    let mut errors = 0;
    for d in &diagnostics {
        writeln!(out, "{}:{d}", args.file.display())?;
        errors += usize::from(d.severity == bulwark_policy::DiagnosticSeverity::Error);
    }
    if errors > 0 {
        bail!("{}: {errors} error(s)", args.file.display());
    }
    writeln!(out, "{}: ok ({} warning(s))", args.file.display(), diagnostics.len())?;
    Ok(OK)
}

fn load_policy(path: &Path) -> Result<bulwark_policy::Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading policy {}", path.display()))?;
    bulwark_policy::parse(&text).map_err(|diagnostics| {
        let first = diagnostics.first().map(|d| d.to_string()).unwrap_or_default();
        anyhow!(
            "policy {}:{first} ({} problem(s))\nhint: `bulwark policy lint {}` lists them all",
            path.display(),
            diagnostics.len(),
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

/// `--severity` and `--ignore-unfixed`: what is left out of every output and of the policy.
fn filter(report: &mut ScanReport, severities: &[SeverityArg], ignore_unfixed: bool) {
    if !severities.is_empty() {
        let keep: Vec<Severity> = severities
            .iter()
            .map(|s| match s {
                SeverityArg::Critical => Severity::Critical,
                SeverityArg::High => Severity::High,
                SeverityArg::Medium => Severity::Medium,
                SeverityArg::Low => Severity::Low,
                SeverityArg::Unknown => Severity::Unknown,
            })
            .collect();
        report.vulnerabilities.retain(|v| keep.contains(&v.severity));
        report.malware.retain(|m| keep.contains(&m.severity));
        report.secrets.retain(|s| keep.contains(&s.severity));
        report.misconfigurations.retain(|c| keep.contains(&c.severity));
    }
    if ignore_unfixed {
        report.vulnerabilities.retain(|v| v.state == FixState::Fixed);
    }
}

fn exit_code(report: &ScanReport) -> u8 {
    match &report.policy {
        Some(v) if !v.passed => POLICY_FAILED,
        _ => OK,
    }
}

/// Where a report goes: `None` is stdout.
type Output = (ReportFormat, Option<PathBuf>);

/// `--output FILE` writes `--format` to FILE instead of stdout; `--output FORMAT=FILE` adds a
/// file and leaves stdout as it is.
fn parse_outputs(specs: &[String], format: ReportFormat) -> Result<Vec<Output>> {
    use clap::ValueEnum;
    let mut outputs = Vec::new();
    let mut stdout_replaced = false;
    for spec in specs {
        let parsed = spec.split_once('=').and_then(|(f, p)| Some((ReportFormat::from_str(f, true).ok()?, p)));
        match parsed {
            Some((f, p)) => outputs.push((f, Some(PathBuf::from(p)))),
            None => {
                stdout_replaced = true;
                outputs.push((format, Some(PathBuf::from(spec))));
            }
        }
    }
    if !stdout_replaced {
        outputs.insert(0, (format, None));
    }
    Ok(outputs)
}

fn emit(report: &ScanReport, outputs: &[Output], junit: JunitCases, quiet: bool) -> Result<()> {
    for (format, path) in outputs {
        let tty = path.is_none() && io::stdout().is_terminal();
        write_output(path.as_deref(), |w| render(w, report, *format, junit, tty))?;
    }
    if !quiet && let Some(v) = &report.policy {
        let mut err = io::stderr().lock();
        let failed = v.failures().count();
        let _ = if v.passed {
            writeln!(err, "policy {}: passed ({} warning(s))", v.policy, v.warnings().count())
        } else {
            writeln!(err, "policy {}: FAILED ({failed} rule(s) violated)", v.policy)
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
            let width =
                std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(if tty { 120 } else { 200 });
            let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_replace_or_add_to_stdout() {
        let o = parse_outputs(&[], ReportFormat::Table).unwrap();
        assert_eq!(o, vec![(ReportFormat::Table, None)]);
        let o = parse_outputs(&["json=r.json".into(), "sarif=r.sarif".into()], ReportFormat::Table).unwrap();
        assert_eq!(
            o,
            vec![
                (ReportFormat::Table, None),
                (ReportFormat::Json, Some("r.json".into())),
                (ReportFormat::Sarif, Some("r.sarif".into()))
            ]
        );
        let o = parse_outputs(&["out.txt".into()], ReportFormat::Markdown).unwrap();
        assert_eq!(o, vec![(ReportFormat::Markdown, Some("out.txt".into()))]);
        // Not a format name: the whole thing is a path.
        let o = parse_outputs(&["a=b.json".into()], ReportFormat::Json).unwrap();
        assert_eq!(o, vec![(ReportFormat::Json, Some("a=b.json".into()))]);
    }
}
