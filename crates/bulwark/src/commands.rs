//! What each command does, and how errors become exit codes.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulwark_core::report::ScanReport;
use bulwark_core::{Reference, ScanInput, Target};
use bulwark_image::source::ResolvedImage;
use bulwark_image::{Image, NoProgress, ReadOptions};
use bulwark_scan::{ScanOptions, ScanSettings};
use serde::Serialize;

use crate::cli::{Cli, Command, Format, ImageArgs, InspectArgs, SourceArgs};
use crate::progress::Bars;

/// Exit code: the scan ran and the policy passed (or there was none).
pub(crate) const OK: u8 = 0;
/// Exit code: something went wrong (bad reference, unreachable registry, bad input).
const ERROR: u8 = 2;

/// Runs a command and maps the outcome to an exit code. Errors go to stderr with their
/// causes and a hint where one helps; a closed stdout (`| head`) exits quietly.
pub fn run(cli: Cli) -> ExitCode {
    if matches!(cli.command, Command::Scan(_) | Command::Sbom(_) | Command::Promote(_)) {
        crate::interrupt::install();
    }
    let result = match cli.command {
        Command::Scan(args) => crate::sign::scan(*args),
        Command::Sign(args) => crate::sign::sign(args),
        Command::Verify(args) => crate::sign::verify(args),
        Command::Attest(args) => crate::sign::attest(args),
        Command::VerifyAttestation(args) => crate::sign::verify_attestation(args),
        Command::Promote(args) => crate::promote::run(*args),
        Command::Policy(crate::cli::PolicyCommand::Check(args)) => crate::scan::policy_check(args),
        Command::Policy(crate::cli::PolicyCommand::Lint(args)) => crate::scan::policy_lint(args),
        Command::Inspect(args) => inspect(args),
        Command::Key(command) => crate::key::run(command),
        Command::Worker(args) => crate::worker::run(*args),
        Command::Server(args) => crate::server::run(*args),
        Command::Secrets(command) => crate::secrets::run(command),
        Command::Sbom(args) => crate::sbom::run(args),
        Command::Db(crate::cli::DbCommand::Build(args)) => crate::db::build(args),
        Command::Db(crate::cli::DbCommand::Status(args)) => crate::db::status(args),
        Command::Db(crate::cli::DbCommand::Update(args)) => crate::db::update(args),
        Command::Db(crate::cli::DbCommand::Import(args)) => {
            crate::db::copy_checked(&args.file, &args.db.unwrap_or_else(crate::db::default_path))
        }
        Command::Db(crate::cli::DbCommand::Export(args)) => {
            crate::db::copy_checked(&args.db.unwrap_or_else(crate::db::default_path), &args.file)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(OK),
        Err(e) if crate::interrupt::cancelled_code(&e).is_some() => crate::interrupt::exit_cancelled(),
        Err(e) => {
            let mut text = render_error(&e);
            if let Some(hint) = crate::hints::hint(&e) {
                text.push_str(&format!("hint: {hint}\n"));
            }
            let _ = write!(io::stderr().lock(), "{}", terminal_safe_lines(&text));
            ExitCode::from(ERROR)
        }
    }
}

/// The built-in secret rules, compiled once, for text the scan library has not redacted
/// (errors, `inspect`).
fn redactor() -> Option<&'static bulwark_scan::Redactor> {
    static REDACTOR: std::sync::OnceLock<Option<bulwark_scan::Redactor>> = std::sync::OnceLock::new();
    // The built-in rules are constants covered by tests; should they ever fail to compile,
    // the terminal sanitiser still runs.
    REDACTOR.get_or_init(|| bulwark_scan::Redactor::builtin().ok()).as_ref()
}

/// Image-derived text for one line of terminal output: secrets masked, then every
/// character a terminal would act on made visible (`bulwark_core::term::escape`).
pub(crate) fn terminal_safe(text: &str) -> String {
    let redacted = redactor().map_or(std::borrow::Cow::Borrowed(text), |r| r.redact(text));
    bulwark_core::term::escape(&redacted).into_owned()
}

/// [`terminal_safe`] for a message of several lines (an error and its `hint:`).
pub(crate) fn terminal_safe_lines(text: &str) -> String {
    let redacted = redactor().map_or(std::borrow::Cow::Borrowed(text), |r| r.redact(text));
    bulwark_core::term::escape_lines(&redacted).into_owned()
}

/// Prints `warning: …` on stderr, terminal-safe.
pub(crate) fn print_warning(w: &str) {
    let _ = writeln!(io::stderr().lock(), "warning: {}", terminal_safe(w));
}

/// An error as the contract says: one `error:` line with the causes joined by `: `, then one
/// `hint:` line per distinct hint. Hints may sit in any cause's message (`…\nhint: …`); a
/// cause whose text the line already holds is not repeated.
pub(crate) fn render_error(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for cause in e.chain() {
        let mut text = Vec::new();
        for line in cause.to_string().lines() {
            let line = line.trim();
            if let Some(h) = line.strip_prefix("hint:") {
                let h = h.trim().to_owned();
                if !h.is_empty() && !hints.contains(&h) {
                    hints.push(h);
                }
            } else if !line.is_empty() {
                text.push(line.to_owned());
            }
        }
        let text = text.join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    let mut out = format!("error: {}\n", parts.join(": "));
    for h in hints {
        out.push_str(&format!("hint: {h}\n"));
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// How `inspect` reads an image: the image arguments' settings, through the one
/// conversion every scan uses.
fn read_options(args: &SourceArgs) -> Result<ReadOptions> {
    let settings = crate::config_file::source_settings(args);
    let mut opts = settings.scan_options().map_err(|e| anyhow::anyhow!(crate::config_file::settings_error(&e)))?.read;
    if args.password_stdin {
        opts.registry.password = Some(stdin_password()?);
    }
    Ok(opts)
}

/// The registry options of a scan's settings (for `scan --sign` and `promote`, which
/// resolve the tag before the scan reads the image).
pub(crate) fn registry_options_of(settings: &ScanSettings) -> Result<bulwark_registry::RegistryOptions> {
    let mut opts = ReadOptions::default().registry;
    opts.insecure = settings.insecure_registry.unwrap_or(false);
    opts.username = settings.username.clone();
    opts.docker_config = settings.docker_config.clone();
    if settings.password_stdin == Some(true) {
        opts.password = Some(stdin_password()?);
    }
    Ok(opts)
}

/// The registry part of [`read_options`] (`promote`'s source).
pub(crate) fn registry_options(args: &SourceArgs) -> Result<bulwark_registry::RegistryOptions> {
    registry_options_of(&crate::config_file::source_settings(args))
}

/// The `--password-stdin` password, read once: `scan --sign` and `promote` need it before
/// the scan does.
fn stdin_password() -> Result<String> {
    static PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(p) = PASSWORD.get() {
        return Ok(p.clone());
    }
    let mut password = String::new();
    io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("--password-stdin: stdin was empty");
    }
    Ok(PASSWORD.get_or_init(|| password).clone())
}

/// An image reference from the command line. An `sbom:` input is refused as no image, with
/// its own hint (`hints.rs`); other errors point at the syntax.
fn parse_reference(s: &str) -> Result<Reference> {
    s.parse::<Reference>().map_err(|e| match e {
        bulwark_core::Error::NotAnImage { .. } => anyhow::Error::new(e),
        e => syntax_error(&e),
    })
}

/// What a scan reads, from the command line: an image reference or `sbom:<file>`.
fn parse_input(s: &str) -> Result<ScanInput> {
    s.parse::<ScanInput>().map_err(|e| syntax_error(&e))
}

/// A reference that does not parse: the parse error first and the hint last.
fn syntax_error(e: &bulwark_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}\nhint: see `bulwark scan --help` for the reference syntax")
}

pub(crate) fn write_output(
    path: Option<&std::path::Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(p) => {
            let mut f =
                io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?);
            render(&mut f).with_context(|| format!("writing {}", p.display()))?;
            f.flush()?;
        }
        None => {
            let mut out = io::stdout().lock();
            render(&mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Scans the image (or SBOM) `input` names for packages and vulnerabilities only.
pub(crate) fn run_scan(input: &ImageArgs) -> Result<ScanReport> {
    let settings = ScanSettings {
        scanners: Some(vec![bulwark_scan::settings::ScannerName::Vuln]),
        ..crate::config_file::image_settings(input)
    };
    run_scan_with(&input.image, &settings, |_| {})
}

/// Scans `image` with `settings` (through `ScanSettings::scan_options`, the conversion the
/// worker and the server use too) and what `customize` adds, printing warnings unless
/// quiet. Here, not in the library: the registry password from stdin, the advisory
/// database's default path and its age check, and the note when there is none.
pub(crate) fn run_scan_with(
    image: &str,
    settings: &ScanSettings,
    customize: impl FnOnce(&mut ScanOptions),
) -> Result<ScanReport> {
    let input = parse_input(image)?;
    let mut opts = settings.scan_options().map_err(|e| anyhow::anyhow!(crate::config_file::settings_error(&e)))?;
    if settings.password_stdin == Some(true) {
        opts.read.registry.password = Some(stdin_password()?);
    }
    customize(&mut opts);
    let (vuln, no_db, quiet) = (opts.scanners.vuln, settings.no_db.unwrap_or(false), settings.quiet.unwrap_or(false));
    let mut notes = Vec::new();
    let mut missing = None;
    if vuln && !no_db {
        let path = settings.db.clone().unwrap_or_else(crate::db::default_path);
        if settings.db.is_some() || path.exists() {
            let (_, age_warning) = crate::db::open_for_scan(&path, settings.db_max_age_days.unwrap_or(7))?;
            notes.extend(age_warning);
            opts.db = Some(path);
        } else {
            missing = Some(format!(
                "no advisory database at {}: vulnerabilities were not checked (build one with `bulwark db build --osv …` or `bulwark db update`, or give --db)",
                path.display()
            ));
        }
    } else if vuln {
        missing = Some("--no-db: vulnerabilities were not checked".to_owned());
    }
    let bars = Bars::new(!settings.no_progress.unwrap_or(false) && !quiet);
    let request =
        bulwark_scan::ScanRequest { scanners: Some(opts.scanners), ..bulwark_scan::ScanRequest::new(input.clone()) };
    if let ScanInput::Sbom(_) = input {
        // An SBOM has no files: its scan needs no malware or secret rules compiled.
        opts.scanners = bulwark_scan::Scanners { malware: false, secret: false, ..opts.scanners };
    }
    let engine = bulwark_scan::Engine::new(opts)?;
    let mut report = engine.scan(&request, &bars, &crate::interrupt::token())?.report;
    report.warnings.extend(notes.into_iter().map(bulwark_core::Warning::matching));
    if let Some(message) = missing {
        // A gate must not read "no database" as "no vulnerabilities".
        report.warnings.push(bulwark_core::Warning::matching(message.clone()));
        report.add_not_checked(bulwark_core::report::NotChecked {
            scanner: "vuln".to_owned(),
            reason: bulwark_core::report::NotCheckedReason::NoDatabase,
            scope: None,
            message,
        });
    }
    if !quiet {
        if let Some(Target::Registry { bare: true, .. }) = input.image().map(Reference::target) {
            let note = bare_source_note(image, &report);
            let _ = writeln!(io::stderr().lock(), "{}", terminal_safe(&note));
        }
        // The report's warnings are redacted already; they still carry tar paths and
        // other image text, which must not reach the terminal raw.
        for w in &report.warnings {
            print_warning(&w.to_string());
        }
    }
    Ok(report)
}

/// Which source a bare reference was read from, since `app:1` can name both a local image
/// and a registry's.
fn bare_source_note(typed: &str, report: &ScanReport) -> String {
    match report.image.source.as_deref() {
        Some("docker") => format!("note: {typed}: read from the local Docker engine ({})", report.image.reference),
        _ => format!(
            "note: {typed}: not in the local Docker engine, read from the registry ({})",
            report.image.reference
        ),
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

fn truncate(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n { s } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// What `inspect` shows. Every string from the image went through [`terminal_safe`]:
/// secrets masked (a history step, Cmd or Entrypoint often carries one) and terminal
/// controls made visible, in the table and in JSON alike.
#[derive(Serialize)]
struct InspectView {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// Environment variable names only: values often hold secrets.
    env: Vec<String>,
    exposed_ports: Vec<String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    history: Vec<HistoryView>,
    layers: Vec<LayerView>,
    files: usize,
}

#[derive(Serialize)]
struct HistoryView {
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    created_by: String,
    empty_layer: bool,
}

#[derive(Serialize)]
struct LayerView {
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    size: u64,
    uncompressed_size: u64,
    files: usize,
}

fn inspect_view(image: &Image, resolved: Option<&ResolvedImage>) -> InspectView {
    let safe = |s: &str| terminal_safe(s);
    let cfg = resolved.map(|r| &r.config.config);
    let layers = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, ix)| {
            let lr = resolved.and_then(|r| r.layers.get(i));
            LayerView {
                digest: lr.map(|l| l.descriptor.digest.to_string()),
                diff_id: ix.diff_id.as_ref().map(ToString::to_string),
                media_type: lr.map(|l| safe(&l.descriptor.media_type)),
                size: lr.map(|l| l.descriptor.size()).unwrap_or(ix.compressed_size),
                uncompressed_size: ix.uncompressed_size,
                files: ix.entries.iter().filter(|e| matches!(e.kind, bulwark_image::layer::EntryKind::File)).count(),
            }
        })
        .collect();
    let argv = |v: &[String]| -> Vec<String> { v.iter().map(|a| safe(a)).collect() };
    InspectView {
        reference: safe(&image.reference),
        manifest_digest: resolved.and_then(|r| r.manifest_digest.as_ref()).map(ToString::to_string),
        index_digest: resolved.and_then(|r| r.index_digest.as_ref()).map(ToString::to_string),
        config_digest: resolved.map(|r| r.config_digest.to_string()),
        platform: resolved.and_then(|r| r.platform.as_ref()).map(|p| safe(&p.to_string())),
        created: resolved.and_then(|r| r.config.created.as_deref()).map(safe),
        user: cfg.and_then(|c| c.user.as_deref()).filter(|u| !u.is_empty()).map(safe),
        env: cfg
            .map(|c| c.env.iter().map(|e| safe(e.split('=').next().unwrap_or_default())).collect())
            .unwrap_or_default(),
        exposed_ports: cfg.map(|c| c.exposed_ports.keys().map(|p| safe(p)).collect()).unwrap_or_default(),
        entrypoint: cfg.map(|c| argv(&c.entrypoint)).unwrap_or_default(),
        cmd: cfg.map(|c| argv(&c.cmd)).unwrap_or_default(),
        working_dir: cfg.and_then(|c| c.working_dir.as_deref()).filter(|w| !w.is_empty()).map(safe),
        history: resolved
            .map(|r| {
                r.config
                    .history
                    .iter()
                    .map(|h| HistoryView {
                        created: h.created.as_deref().map(safe),
                        created_by: safe(h.created_by.as_deref().unwrap_or("")),
                        empty_layer: h.empty_layer,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        layers,
        files: image.view.len(),
    }
}

fn inspect(args: InspectArgs) -> Result<u8> {
    let reference = parse_reference(&args.image)?;
    let opts = read_options(&args.source)?;
    let cache = bulwark_scan::DiskCache::default_dir().and_then(|d| bulwark_scan::DiskCache::new(&d, 2 << 30).ok());
    let image = match &cache {
        Some(c) => bulwark_image::read_image(&reference, &opts, c, &NoProgress)?,
        None => bulwark_image::read_image(&reference, &opts, &bulwark_image::NoCache, &NoProgress)?,
    };
    let view = inspect_view(&image, image.resolved.as_ref());
    write_output(None, |w| match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &view)?;
            writeln!(w)
        }
        Format::Table => render_inspect_table(w, &view),
    })?;
    Ok(OK)
}

fn render_inspect_table(w: &mut dyn Write, v: &InspectView) -> io::Result<()> {
    writeln!(w, "Image:        {}", v.reference)?;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    writeln!(w, "Manifest:     {}", opt(&v.manifest_digest))?;
    if v.index_digest.is_some() {
        writeln!(w, "Index:        {}", opt(&v.index_digest))?;
    }
    writeln!(w, "Config:       {}", opt(&v.config_digest))?;
    writeln!(w, "Platform:     {}", opt(&v.platform))?;
    writeln!(w, "Created:      {}", v.created.as_deref().unwrap_or("-"))?;
    writeln!(w, "User:         {}", v.user.as_deref().unwrap_or("(root)"))?;
    writeln!(w, "Env:          {}", v.env.join(", "))?;
    writeln!(w, "Ports:        {}", v.exposed_ports.join(", "))?;
    writeln!(w, "Entrypoint:   {}", v.entrypoint.join(" "))?;
    writeln!(w, "Cmd:          {}", v.cmd.join(" "))?;
    writeln!(w, "WorkingDir:   {}", v.working_dir.as_deref().unwrap_or("-"))?;
    writeln!(w, "\nHistory:")?;
    for h in &v.history {
        writeln!(w, "  {}{}", if h.empty_layer { "  " } else { "+ " }, truncate(&h.created_by, 100))?;
    }
    writeln!(w, "\nLayers:")?;
    for (i, l) in v.layers.iter().enumerate() {
        writeln!(
            w,
            "  {i:>3} {} diff_id {} {:>10} {:>8} files",
            l.digest.as_deref().unwrap_or("-"),
            l.diff_id.as_deref().map(|d| &d[..d.len().min(19)]).unwrap_or("-"),
            human(l.size),
            l.files
        )?;
    }
    writeln!(w, "\n{} paths in the final image", v.files)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::render_error;

    #[test]
    fn errors_are_one_line_and_hints() {
        // The hint sits in the middle of the chain, as `with_context` leaves it.
        let e = anyhow::anyhow!("advisory database /x is damaged: truncated\nhint: rebuild it")
            .context("opening the advisory database /x\nhint: build it with `bulwark db build`");
        assert_eq!(
            render_error(&e),
            "error: opening the advisory database /x: advisory database /x is damaged: truncated\n\
             hint: build it with `bulwark db build`\nhint: rebuild it\n"
        );
        // A cause the line already says is not said twice.
        let e = anyhow::anyhow!("no such file").context("reading p: no such file");
        assert_eq!(render_error(&e), "error: reading p: no such file\n");
    }
}
