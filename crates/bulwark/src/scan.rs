//! `bulwark scan` and `bulwark policy`: scanner options, filters, the policy verdict, every
//! output format, and the exit code (0 passed, 1 policy failed, 2 error).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use bulwark_core::plural::count;
use bulwark_core::report::ScanReport;
use bulwark_core::time::Date;
use bulwark_scan::ScanSettings;
use bulwark_scan::settings::JunitCases;

use crate::cli::{PolicyCheckArgs, PolicyLintArgs, ReportFormat, ScanArgs};
use crate::commands::{OK, write_output};
use crate::output::{Output, OutputSpec};

/// Exit code: the policy failed.
pub(crate) const POLICY_FAILED: u8 = 1;

/// Default ignore file, used when present and no `--ignore-file` is given.
pub(crate) const DEFAULT_IGNORE_FILE: &str = ".bulwarkignore.yaml";

pub fn scan(args: ScanArgs, settings: ScanSettings) -> Result<u8> {
    if args.server.server.is_some() && !args.server.upload {
        return crate::client::scan_remote(&args, &settings);
    }
    let outputs = parse_outputs(&settings)?;
    // A bad policy is an error before any layer is read.
    let policy = settings.policy.as_deref().map(load_policy).transpose()?;
    let today = today()?;
    let mut settings = settings;
    if settings.ignore_file.as_ref().is_none_or(Vec::is_empty) && Path::new(DEFAULT_IGNORE_FILE).is_file() {
        settings.ignore_file = Some(vec![PathBuf::from(DEFAULT_IGNORE_FILE)]);
    }
    let quiet = settings.quiet.unwrap_or(false);
    let mut report = crate::commands::run_scan_with(&args.input.image, &settings, |opts| opts.today = today)?;
    // The gate sees every finding: `--severity` and `--ignore-unfixed` change what is shown,
    // never what passes (a policy denying fixable highs fails whatever is displayed).
    let how = bulwark_scan::Finish { policy: policy.as_ref(), today: Some(today), ..settings.finish() };
    // `--upload` sends the whole report, before display filters: the server judges it itself.
    let unfiltered = args.server.upload.then(|| report.clone());
    let gate = bulwark_scan::finish(&mut report, &how);
    // A signal that came during the scan wins; one that comes now lets the outputs finish.
    crate::interrupt::commit()?;
    emit(&report, &outputs, settings.junit_cases.unwrap_or(JunitCases::Rules), quiet)?;
    crate::interrupt::release();
    if let Some(full) = &unfiltered {
        crate::client::upload(&args, quiet, full)?;
    }
    let code = match (gate.policy_failed, gate.fail_on) {
        (true, _) => POLICY_FAILED,
        (false, Some(why)) => {
            let code = settings.exit_code.unwrap_or(POLICY_FAILED);
            if !quiet {
                let _ = writeln!(io::stderr().lock(), "failed: {why} (exit code {code})");
            }
            code
        }
        (false, None) => OK,
    };
    // `--sign` / `promote`: sign, attest or promote only what passed.
    crate::sign::after_scan(&args, &report, code, quiet)
}

/// `bulwark policy check`: the verdict of a saved report under a policy.
pub fn policy_check(args: PolicyCheckArgs) -> Result<u8> {
    let outputs = crate::output::resolve(&args.output, args.format).map_err(|e| anyhow!(e))?;
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
    bulwark_scan::finish(
        &mut report,
        &bulwark_scan::Finish { policy: Some(&policy), today: Some(today), ..Default::default() },
    );
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

pub(crate) fn load_policy(path: &Path) -> Result<bulwark_policy::Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading policy {}", path.display()))?;
    let policy = bulwark_policy::parse_with(&text, known_ids(&config_checks())).map_err(|diagnostics| {
        // `error: ` is already the line's prefix: the diagnostic gives position and message.
        let first = diagnostics.first().map(|d| format!("{}:{}: {}", d.line, d.column, d.message)).unwrap_or_default();
        anyhow!(
            "policy {}:{first} ({})\nhint: `bulwark policy lint {}` lists them all",
            path.display(),
            count(diagnostics.len(), "problem", "problems"),
            path.display()
        )
    })?;
    // Globs whose meaning changed with the one glob dialect: the policy still applies, as
    // it now reads, and the user learns what that is.
    let mut err = io::stderr().lock();
    for w in &policy.warnings {
        let _ = writeln!(err, "warning: policy {}:{w}", path.display());
    }
    Ok(policy)
}

/// Today, or `BULWARK_TODAY` (YYYY-MM-DD) for reproducible runs.
pub(crate) fn today() -> Result<Date> {
    match std::env::var("BULWARK_TODAY") {
        Ok(d) => Date::parse(&d).ok_or_else(|| anyhow!("BULWARK_TODAY={d:?} is not a YYYY-MM-DD date")),
        Err(_) => Ok(Date::today()),
    }
}

fn exit_code(report: &ScanReport) -> u8 {
    match &report.policy {
        Some(v) if !v.passed => POLICY_FAILED,
        _ => OK,
    }
}

/// `--output FILE` writes to FILE instead of stdout; `--output FORMAT=FILE` adds a file and
/// leaves stdout as it is (`crate::output` has the rules).
pub(crate) fn parse_outputs(settings: &ScanSettings) -> Result<Vec<Output>> {
    let specs = settings
        .output
        .iter()
        .flatten()
        .map(|o| crate::output::parse_output(o))
        .collect::<Result<Vec<OutputSpec>, String>>()
        .map_err(|e| anyhow!(e))?;
    let format = settings.format.map(crate::config_file::report_format);
    crate::output::resolve(&specs, format).map_err(|e| anyhow!(e))
}

fn emit(report: &ScanReport, outputs: &[Output], junit: JunitCases, quiet: bool) -> Result<()> {
    for (format, path) in outputs {
        let tty = path.is_none() && io::stdout().is_terminal();
        write_output(path.as_deref(), |w| render(w, report, *format, junit, tty))?;
    }
    print_verdict(report, quiet);
    Ok(())
}

/// The policy's verdict line on stderr (unless quiet).
pub(crate) fn print_verdict(report: &ScanReport, quiet: bool) {
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
}

pub(crate) fn render(
    w: &mut dyn Write,
    report: &ScanReport,
    format: ReportFormat,
    junit: JunitCases,
    tty: bool,
) -> io::Result<()> {
    let (width, color) = (crate::terminal::table_width(tty), crate::terminal::color(tty));
    let opts = bulwark_report::RenderOptions {
        table: bulwark_report::table::TableOptions {
            width,
            color,
            now_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok()),
            ..Default::default()
        },
        junit: match junit {
            JunitCases::Rules => bulwark_report::junit::Granularity::Rules,
            JunitCases::Findings => bulwark_report::junit::Granularity::Findings,
        },
    };
    bulwark_report::render(report, crate::config_file::library_format(format), &opts, w)
}
