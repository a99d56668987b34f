//! `bulwark scan --server URL` and `bulwark scan --upload`: the CLI as a client of the
//! Bulwark server (`/api/v1`).
//!
//! With `--server`, the scan runs on the server's workers: the request carries the settings a
//! local scan would use (scanners, platform, policy, display filters, `--fail-on`), progress is
//! followed by long-polling `GET /scans/{id}`, and every output the user asked for is fetched
//! from `GET /scans/{id}/report` (the table, which depends on the terminal, and JUnit with one
//! case per finding are rendered here from the served JSON). The exit code is the local one:
//! 0 passed, 1 the policy or `--fail-on` failed, 2 the scan could not be checked (the server
//! was unreachable or refused the request, the job failed or was cancelled); never 0 for a
//! scan that did not complete.
//!
//! With `--upload` (and `--server`), the scan runs here as usual and its full JSON report
//! (before display filters) is sent to `POST /reports`, where the server redacts it again,
//! stores it and evaluates the policy itself.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bulwark_api::{Problem, ReportUpload, Scan, ScanRequest, ScanState, ScannerName, SeverityName, UploadResult};
use bulwark_core::report::ScanReport;
use clap::Args;

use bulwark_core::report::Severity;
use bulwark_scan::ScanSettings;
use bulwark_scan::settings::{JunitCases, ScannerName as SettingsScanner};

use crate::cli::{ReportFormat, ScanArgs};
use crate::commands::{OK, write_output};

/// How long one long-poll asks the server to wait (the server allows up to 60 s).
const POLL_WAIT_SECS: u64 = 30;

/// Consecutive failed polls (the server restarting, a proxy timing out) tolerated before the
/// scan is given up as not checked.
const POLL_RETRIES: u32 = 5;

/// The server flags of `bulwark scan`.
#[derive(Debug, Args, Default)]
pub struct ServerArgs {
    /// Scan on a Bulwark server (http(s)://HOST:PORT) instead of here, with the token in
    /// BULWARK_TOKEN (or --token-file); outputs and exit codes are those of a local scan
    #[arg(long, value_name = "URL", env = "BULWARK_SERVER")]
    pub server: Option<String>,
    /// Scan here, write the outputs as usual, then upload the JSON report to --server (which
    /// evaluates its own policy)
    #[arg(long, requires = "server", env = "BULWARK_UPLOAD")]
    pub upload: bool,
    /// File holding the API token (instead of BULWARK_TOKEN)
    #[arg(long, value_name = "FILE", env = "BULWARK_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// A policy stored on the server, by name (its latest version), instead of --policy FILE
    #[arg(long, value_name = "NAME", requires = "server", conflicts_with = "policy")]
    pub server_policy: Option<String>,
    /// A registry credential stored on the server, by name, for the server's workers to pull with
    #[arg(long, value_name = "NAME", requires = "server", conflicts_with = "upload")]
    pub credential: Option<String>,
    /// Seconds to wait for the server's scan before giving up (exit 2)
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub server_timeout: u64,
}

/// `bulwark scan --server URL` (without `--upload`), with the scan's merged settings
/// (flags, `BULWARK_*` environment, `bulwark.yaml`).
pub fn scan_remote(args: &ScanArgs, settings: &ScanSettings) -> Result<u8> {
    refuse_local_only(settings)?;
    if args.sign.sign || args.sign.key.is_some() || !args.sign.annotations.is_empty() {
        bail!(
            "--sign, --key and --annotation apply only to local scans, not with --server\nhint: use --upload to scan and sign here, or POST /api/v1/promotions with a key the server holds"
        );
    }
    let outputs = crate::scan::parse_outputs(settings)?;
    let client = Client::new(&args.server)?;
    let quiet = settings.quiet.unwrap_or(false);
    let junit_cases = settings.junit_cases.unwrap_or(JunitCases::Rules);
    // A bad policy is an error here, before anything is submitted, with the same messages
    // as a local scan; the server checks the same text again.
    let policy_yaml = match &settings.policy {
        Some(path) => {
            crate::scan::load_policy(path)?;
            Some(std::fs::read_to_string(path).with_context(|| format!("reading policy {}", path.display()))?)
        }
        None => None,
    };
    if settings.ignore_file.as_ref().is_none_or(Vec::is_empty)
        && Path::new(crate::scan::DEFAULT_IGNORE_FILE).is_file()
        && !quiet
    {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: {} is not applied to --server scans (the server applies its approved exceptions)",
            crate::scan::DEFAULT_IGNORE_FILE
        );
    }
    let gated = settings.fail_on.is_some() || settings.exit_code.is_some();
    let scanners = match &settings.scanners {
        Some(names) => names.iter().map(|s| scanner(*s)).collect(),
        None => vec![ScannerName::Vuln, ScannerName::Malware, ScannerName::Secret, ScannerName::Config],
    };
    let request = ScanRequest {
        reference: args.input.image.clone(),
        platform: settings.platform.clone(),
        scanners: Some(scanners),
        policy: args.server.server_policy.clone(),
        policy_yaml,
        credential: args.server.credential.clone(),
        priority: None,
        severity: settings
            .severity
            .as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().map(|s| severity(*s)).collect()),
        ignore_unfixed: settings.ignore_unfixed.filter(|u| *u),
        fail_on: gated.then(|| settings.fail_on.map_or(SeverityName::Unknown, severity)),
    };
    let body = serde_json::to_vec(&request)?;
    let scan: Scan = client.json("POST", "/scans", Some(body), "submitting the scan")?;
    let id = scan.id.clone();
    if !quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "bulwark: scan {id} submitted to {} ({})",
            client.base,
            bulwark_core::term::escape(&request.reference)
        );
    }
    let scan = client.wait(scan, Duration::from_secs(args.server.server_timeout), quiet)?;
    match scan.state {
        ScanState::Succeeded => {}
        ScanState::Failed | ScanState::Cancelled => {
            let (kind, message) = scan.error.as_ref().map_or(("", "no cause recorded"), |e| (&e.kind, &e.message));
            bail!(
                "the server could not scan {}: scan {id} {}{}: {}\nhint: the scan was not checked; GET {}/api/v1/scans/{id} has the details",
                bulwark_core::term::escape(&scan.reference),
                if scan.state == ScanState::Failed { "failed" } else { "was cancelled" },
                if kind.is_empty() { String::new() } else { format!(" ({kind})") },
                bulwark_core::term::escape(message),
                client.base
            );
        }
        ScanState::Queued | ScanState::Running => unreachable!("wait returns a final state"),
    }
    let json = client.bytes(&format!("/scans/{id}/report?format=json"), "fetching the report")?;
    let report: ScanReport =
        serde_json::from_slice(&json).context("the server's report is not a Bulwark JSON report")?;
    let mut served: Vec<(ReportFormat, Vec<u8>)> = vec![(ReportFormat::Json, json)];
    for (format, path) in &outputs {
        let local = match format {
            ReportFormat::Table => true,
            ReportFormat::Junit => junit_cases == JunitCases::Findings,
            _ => false,
        };
        if local {
            let tty = path.is_none() && io::IsTerminal::is_terminal(&io::stdout());
            write_output(path.as_deref(), |w| crate::scan::render(w, &report, *format, junit_cases, tty))?;
            continue;
        }
        if !served.iter().any(|(f, _)| f == format) {
            let name = api_format(*format);
            let bytes = client.bytes(&format!("/scans/{id}/report?format={name}"), "fetching the report")?;
            served.push((*format, bytes));
        }
        let bytes = &served.iter().find(|(f, _)| f == format).expect("fetched above").1;
        write_output(path.as_deref(), |w| w.write_all(bytes))?;
    }
    crate::scan::print_verdict(&report, quiet);
    let policy_failed = report.policy.as_ref().is_some_and(|v| !v.passed);
    Ok(match (policy_failed, &scan.fail_on) {
        (true, _) => crate::scan::POLICY_FAILED,
        (false, Some(why)) => {
            let code = settings.exit_code.unwrap_or(crate::scan::POLICY_FAILED);
            if !quiet {
                let _ = writeln!(io::stderr().lock(), "failed: {} (exit code {code})", bulwark_core::term::escape(why));
            }
            code
        }
        (false, None) => OK,
    })
}

/// `bulwark scan --upload`: sends the local scan's full report (before display filters) to
/// the server. An upload that fails is an error (exit 2): the pipeline asked for it.
pub fn upload(args: &ScanArgs, quiet: bool, report: &ScanReport) -> Result<()> {
    let client = Client::new(&args.server)?;
    let body = ReportUpload {
        report: serde_json::to_value(report)?,
        reference: None,
        policy: args.server.server_policy.clone(),
    };
    let uploaded: UploadResult =
        client.json("POST", "/reports", Some(serde_json::to_vec(&body)?), "uploading the report")?;
    if !quiet {
        let verdict = match &uploaded.verdict {
            Some(v) => format!(
                "; server verdict: {} (policy {}{})",
                if v.passed { "passed" } else { "FAILED" },
                bulwark_core::term::escape(&v.policy),
                v.policy_version.map(|n| format!(" version {n}")).unwrap_or_default()
            ),
            None => String::new(),
        };
        let _ = writeln!(
            io::stderr().lock(),
            "bulwark: report uploaded to {} (image {}, result {}){verdict}",
            client.base,
            uploaded.digest,
            uploaded.result
        );
    }
    Ok(())
}

/// Settings that only a local scan can apply are an error with `--server`: the server's
/// workers have their own cache, database, rules and registry access, and silently dropping
/// one would change what is checked.
fn refuse_local_only(s: &ScanSettings) -> Result<()> {
    let given: [(&str, bool); 37] = [
        ("--cache-dir", s.cache_dir.is_some()),
        ("--no-cache", s.no_cache == Some(true)),
        ("--cache-max-bytes", s.cache_max_bytes.is_some()),
        ("--db", s.db.is_some()),
        ("--no-db", s.no_db == Some(true)),
        ("--platform-fallback", s.platform_fallback == Some(true)),
        ("--insecure-registry", s.insecure_registry == Some(true)),
        ("--username", s.username.is_some()),
        ("--password-stdin", s.password_stdin == Some(true)),
        ("--docker-config", s.docker_config.is_some()),
        ("--jobs", s.jobs.is_some()),
        ("--max-manifest-bytes", s.max_manifest_bytes.is_some()),
        ("--max-config-bytes", s.max_config_bytes.is_some()),
        ("--max-layer-bytes", s.max_layer_bytes.is_some()),
        ("--max-compression-ratio", s.max_compression_ratio.is_some()),
        ("--max-entries", s.max_entries.is_some()),
        ("--max-file-bytes", s.max_file_bytes.is_some()),
        ("--max-layers", s.max_layers.is_some()),
        ("--max-packages", s.max_packages.is_some()),
        ("--max-package-files", s.max_package_files.is_some()),
        ("--max-findings", s.max_findings.is_some()),
        ("--max-config-entries", s.max_config_entries.is_some()),
        ("--max-layer-results", s.max_layer_results.is_some()),
        ("--max-image-results", s.max_image_results.is_some()),
        ("--ignore-file", s.ignore_file.as_ref().is_some_and(|v| !v.is_empty())),
        ("--vex", s.vex.as_ref().is_some_and(|v| !v.is_empty())),
        ("--yara-rules", s.yara_rules.as_ref().is_some_and(|v| !v.is_empty())),
        ("--no-bundled-rules", s.no_bundled_rules == Some(true)),
        ("--malware-hashes", s.malware_hashes.as_ref().is_some_and(|v| !v.is_empty())),
        ("--malware-engine", s.malware_engine.is_some()),
        ("--clamd", s.clamd.is_some() || s.clamd_max_stream_bytes.is_some() || s.clamd_timeout.is_some()),
        ("--secret-rules", s.secret_rules.as_ref().is_some_and(|v| !v.is_empty())),
        ("--secret-allow-path", s.secret_allow_path.as_ref().is_some_and(|v| !v.is_empty())),
        ("--secret-allow", s.secret_allow.as_ref().is_some_and(|v| !v.is_empty())),
        ("--max-scan-file-bytes", s.max_scan_file_bytes.is_some()),
        ("--offline", s.offline == Some(true)),
        ("--db-max-age-days", s.db_max_age_days.is_some()),
    ];
    let refused: Vec<&str> = given.iter().filter(|(_, set)| *set).map(|(flag, _)| *flag).collect();
    if let Some(first) = refused.first() {
        let env = format!("BULWARK_{}", first.trim_start_matches("--").replace('-', "_").to_uppercase());
        bail!(
            "{} {} only to local scans, not with --server (the server's workers use their own cache, database, rules and registry access)\nhint: drop {} (from the command line, {env} or bulwark.yaml), or use --upload to scan here and send the report",
            refused.join(", "),
            if refused.len() == 1 { "applies" } else { "apply" },
            if refused.len() == 1 { "it" } else { "them" },
        );
    }
    Ok(())
}

fn scanner(s: SettingsScanner) -> ScannerName {
    match s {
        SettingsScanner::Vuln => ScannerName::Vuln,
        SettingsScanner::Malware => ScannerName::Malware,
        SettingsScanner::Secret => ScannerName::Secret,
        SettingsScanner::Config => ScannerName::Config,
    }
}

fn severity(s: Severity) -> SeverityName {
    match s {
        Severity::Critical => SeverityName::Critical,
        Severity::High => SeverityName::High,
        Severity::Medium => SeverityName::Medium,
        Severity::Low => SeverityName::Low,
        Severity::Unknown => SeverityName::Unknown,
    }
}

/// The `format` parameter of `GET /scans/{id}/report` for a format the server renders.
fn api_format(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Json | ReportFormat::Table => "json",
        ReportFormat::Sarif => "sarif",
        ReportFormat::Junit => "junit",
        ReportFormat::Cyclonedx => "cyclonedx",
        ReportFormat::Spdx => "spdx",
        ReportFormat::Html => "html",
        ReportFormat::Markdown => "markdown",
    }
}

/// The API client: the server's base URL and the bearer token. The token is never printed.
struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(args: &ServerArgs) -> Result<Client> {
        let url = args.server.as_deref().ok_or_else(|| anyhow!("--server is not set"))?;
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.contains(char::is_whitespace) {
            bail!(
                "--server {url:?} is not an http:// or https:// URL\nhint: e.g. --server https://bulwark.example:8443"
            );
        }
        let token = match &args.token_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?
                .trim()
                .to_owned(),
            None => std::env::var("BULWARK_TOKEN").unwrap_or_default().trim().to_owned(),
        };
        if token.is_empty() {
            bail!(
                "no API token for {base}\nhint: set BULWARK_TOKEN (or --token-file FILE) to a token with the ci role, made with POST /api/v1/tokens"
            );
        }
        if token.chars().any(|c| c.is_control() || c == ' ') {
            bail!("the API token contains spaces or control characters\nhint: the token is one line, `bwk_…`");
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            // A long poll waits up to POLL_WAIT_SECS; reports may be large.
            .timeout_global(Some(Duration::from_secs(POLL_WAIT_SECS + 600)))
            .build()
            .new_agent();
        Ok(Client { base, token, agent })
    }

    /// One request; a non-2xx answer is an error that says what the server said.
    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>, what: &str) -> Result<Vec<u8>> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json, application/problem+json, */*");
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(body.unwrap_or_default()).map_err(|e| anyhow!("{what}: bad request to {url}: {e}"))?;
        let mut res = self.agent.run(req).map_err(|e| {
            anyhow::Error::new(HttpError::Unreachable(format!(
                "{what}: cannot reach the server at {}: {e}\nhint: check --server and that the server is running",
                self.base
            )))
        })?;
        let status = res.status().as_u16();
        let bytes = res
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| anyhow!("{what}: reading the answer of {}: {e}", self.base))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(refusal(what, status, &bytes))
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<T> {
        let bytes = self.call(method, path, body, what)?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{what}: the server's answer is not what the API documents"))
    }

    fn bytes(&self, path: &str, what: &str) -> Result<Vec<u8>> {
        self.call("GET", path, None, what)
    }

    /// Long-polls the scan until it is final or `timeout` passes, printing each change of
    /// state on stderr (unless quiet).
    fn wait(&self, mut scan: Scan, timeout: Duration, quiet: bool) -> Result<Scan> {
        let started = Instant::now();
        let mut shown = None;
        let mut failures = 0;
        loop {
            if !quiet && shown != Some(scan.state) {
                let note = match scan.state {
                    ScanState::Running if scan.attempts > 1 => format!(" (attempt {})", scan.attempts),
                    _ => String::new(),
                };
                let _ = writeln!(io::stderr().lock(), "bulwark: scan {}: {}{note}", scan.id, state_name(scan.state));
                shown = Some(scan.state);
            }
            if scan.state.is_final() {
                return Ok(scan);
            }
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                bail!(
                    "scan {} did not finish within {} s (it is {}); it was not checked\nhint: raise --server-timeout, or follow it at {}/api/v1/scans/{}",
                    scan.id,
                    timeout.as_secs(),
                    state_name(scan.state),
                    self.base,
                    scan.id
                );
            }
            let wait = left.as_secs().clamp(1, POLL_WAIT_SECS);
            match self.json::<Scan>("GET", &format!("/scans/{}?wait={wait}", scan.id), None, "following the scan") {
                Ok(s) => {
                    scan = s;
                    failures = 0;
                }
                Err(e) if failures < POLL_RETRIES && is_transient(&e) => {
                    failures += 1;
                    std::thread::sleep(Duration::from_secs(1 << failures));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn state_name(s: ScanState) -> &'static str {
    match s {
        ScanState::Queued => "queued",
        ScanState::Running => "running",
        ScanState::Succeeded => "done",
        ScanState::Failed => "failed",
        ScanState::Cancelled => "cancelled",
    }
}

/// A failed API call: the server could not be reached, or answered an error status.
#[derive(Debug)]
enum HttpError {
    Unreachable(String),
    Status { status: u16, message: String },
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Unreachable(m) | HttpError::Status { message: m, .. } => f.write_str(m),
        }
    }
}

impl std::error::Error for HttpError {}

/// Whether a failed poll may succeed if tried again: the server was unreachable, or
/// answered 429, 502, 503 or 504.
fn is_transient(e: &anyhow::Error) -> bool {
    match e.downcast_ref::<HttpError>() {
        Some(HttpError::Unreachable(_)) => true,
        Some(HttpError::Status { status, .. }) => matches!(status, 429 | 502 | 503 | 504),
        None => false,
    }
}

/// The error for a non-2xx answer: the problem's title, detail and fields, with a hint for
/// authentication and permission failures.
fn refusal(what: &str, status: u16, body: &[u8]) -> anyhow::Error {
    let mut text = match serde_json::from_slice::<Problem>(body) {
        Ok(p) => {
            let mut t = p.title.clone();
            if let Some(d) = &p.detail {
                t.push_str(": ");
                t.push_str(d);
            }
            for f in &p.errors {
                t.push_str(&format!("; {}: {}", f.field, f.message));
            }
            t
        }
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_owned(),
    };
    text = bulwark_core::term::escape(&text).into_owned();
    let hint = match status {
        401 => {
            "\nhint: the token is missing, unknown, expired or revoked: set BULWARK_TOKEN (or --token-file) to a valid token"
        }
        403 => "\nhint: the token's role may not do this: scans and uploads need the ci role or higher",
        500..=599 => "\nhint: the server failed; the scan was not checked (see the server's log)",
        _ => "",
    };
    anyhow::Error::new(HttpError::Status {
        status,
        message: format!("{what}: the server answered {status}: {text}{hint}"),
    })
}
