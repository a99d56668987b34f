//! `bulwark.yaml`: the settings of `bulwark scan` as a file, read into the library's
//! [`ScanSettings`] (keys are the long flag names: `severity`, `ignore-unfixed` or
//! `ignore_unfixed`, `output`, …). A flag given on the command line or through its
//! `BULWARK_*` environment variable wins over the file; the file wins over the defaults
//! (the merge is documented in `bulwark_scan::settings`).
//!
//! ```yaml
//! scanners: [vuln, secret]
//! severity: [critical, high]
//! ignore-unfixed: true
//! policy: policies/release.yaml
//! output: [json=bulwark.json, sarif=bulwark.sarif]
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use bulwark_core::report::Severity;
use bulwark_scan::ScanSettings;
use bulwark_scan::settings::{JunitCases as SettingsJunit, MalwareEngineName, ScannerName, SettingsError};
use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::{ImageArgs, JunitCases, MalwareEngine, ReportFormat, ScanArgs, Scanner, SeverityArg, SourceArgs};
use crate::output::OutputSpec;

/// The file read when `--config` is not given, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "bulwark.yaml";

/// The settings of `bulwark scan`, merged from strongest to weakest: the command line,
/// then the `BULWARK_*` environment (both as `matches`, the scan subcommand's, tell), then
/// the config file, then the built-in defaults (which `ScanSettings::scan_options` and the
/// CLI apply to what is still unset).
pub fn settings(args: &ScanArgs, matches: &ArgMatches) -> Result<ScanSettings> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return merged(args, matches, None),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("reading config file {}: {e}", path.display()))?;
    merged(args, matches, Some((&text, &path)))
}

/// [`settings`] with the config file's text given.
fn merged(args: &ScanArgs, matches: &ArgMatches, file: Option<(&str, &Path)>) -> Result<ScanSettings> {
    let from = |source: ValueSource| {
        scan_layer(args, |id| matches.try_get_raw(id).is_ok() && matches.value_source(id) == Some(source))
    };
    let (flags, env) = (from(ValueSource::CommandLine), from(ValueSource::EnvVariable));
    let Some((text, path)) = file else { return Ok(flags.or(env)) };
    let file = settings_from(text, path)?;
    check_file(&file).map_err(|e| anyhow!("config file {}: {e}", path.display()))?;
    let merged = flags.or(env).or(file);
    if merged.db.is_some() && merged.no_db == Some(true) {
        return Err(anyhow!("config file {}: `db` and `no-db` cannot be used together", path.display()));
    }
    Ok(merged)
}

/// Every setting `args` holds, defaults included: the settings of a scan that reads no
/// config file (`bulwark promote`).
pub fn all_of(args: &ScanArgs) -> ScanSettings {
    scan_layer(args, |_| true)
}

/// The settings of the image arguments (`bulwark sbom`, a worker's job), defaults included.
pub fn image_settings(input: &ImageArgs) -> ScanSettings {
    image_layer(input, |_| true)
}

/// The settings a config file holds.
fn settings_from(text: &str, path: &Path) -> Result<ScanSettings> {
    let doc = bulwark_policy::to_json(text).map_err(|d| anyhow!("config file {}:{d}", path.display()))?;
    ScanSettings::from_value(doc).map_err(|e| anyhow!("config file {}: {}", path.display(), settings_error(&e)))
}

/// A settings error in this binary's terms: an unknown key gets the closest key, or the
/// flags the keys come from.
pub fn settings_error(e: &SettingsError) -> String {
    match e {
        SettingsError::UnknownKey { closest: Some(c), .. } => format!("{e}\nhint: did you mean `{c}`?"),
        SettingsError::UnknownKey { closest: None, .. } => {
            format!("{e}\nhint: keys are the long flags of `bulwark scan --help`, e.g. severity, format, policy")
        }
        SettingsError::ClamdWithoutClamav => {
            "--clamd is set but clamav is not among --malware-engine\nhint: add --malware-engine yara,clamav".to_owned()
        }
        SettingsError::ClamdAddress(why) => format!("--clamd: {why}"),
        _ => e.to_string(),
    }
}

/// What the file may not say, checked as the flags' parsers check the command line.
fn check_file(file: &ScanSettings) -> Result<(), String> {
    if file.exit_code == Some(0) {
        return Err("exit-code: 0 is not in 1..=255".to_owned());
    }
    for o in file.output.iter().flatten() {
        crate::output::parse_output(o)?;
    }
    Ok(())
}

/// The settings of `args` that `is_set` (by clap id) says were given.
fn scan_layer(args: &ScanArgs, is_set: impl Fn(&str) -> bool) -> ScanSettings {
    macro_rules! take {
        ($field:ident, $conv:expr) => {
            #[allow(clippy::redundant_closure_call)]
            let $field = if is_set(stringify!($field)) { ($conv)(&args.$field) } else { None };
        };
    }
    take!(scanners, |v: &Vec<Scanner>| Some(v.iter().map(|s| scanner_name(*s)).collect()));
    take!(severity, |v: &Vec<SeverityArg>| Some(v.iter().map(|s| severity_of(*s)).collect()));
    take!(ignore_unfixed, |v: &bool| Some(*v));
    take!(policy, |v: &Option<PathBuf>| v.clone());
    take!(fail_on, |v: &Option<SeverityArg>| v.map(severity_of));
    take!(exit_code, |v: &Option<u8>| *v);
    take!(format, |v: &Option<ReportFormat>| v.map(library_format));
    take!(output, |v: &Vec<OutputSpec>| Some(v.iter().map(output_string).collect()));
    take!(ignore_file, |v: &Vec<PathBuf>| Some(v.clone()));
    take!(vex, |v: &Vec<PathBuf>| Some(v.clone()));
    take!(yara_rules, |v: &Vec<PathBuf>| Some(v.clone()));
    take!(no_bundled_rules, |v: &bool| Some(*v));
    take!(malware_hashes, |v: &Vec<PathBuf>| Some(v.clone()));
    take!(malware_engine, |v: &Vec<MalwareEngine>| Some(
        v.iter()
            .map(|e| match e {
                MalwareEngine::Yara => MalwareEngineName::Yara,
                MalwareEngine::Clamav => MalwareEngineName::Clamav,
            })
            .collect()
    ));
    take!(clamd, |v: &Option<String>| v.clone());
    take!(clamd_max_stream_bytes, |v: &Option<u64>| *v);
    take!(clamd_timeout, |v: &u64| Some(*v));
    take!(secret_rules, |v: &Vec<PathBuf>| Some(v.clone()));
    take!(secret_allow_path, |v: &Vec<String>| Some(v.clone()));
    take!(secret_allow, |v: &Vec<String>| Some(v.clone()));
    take!(max_scan_file_bytes, |v: &Option<u64>| *v);
    take!(offline, |v: &bool| Some(*v));
    take!(junit_cases, |v: &JunitCases| Some(match v {
        JunitCases::Rules => SettingsJunit::Rules,
        JunitCases::Findings => SettingsJunit::Findings,
    }));
    take!(db_max_age_days, |v: &u64| Some(*v));
    ScanSettings {
        scanners,
        severity,
        ignore_unfixed,
        policy,
        fail_on,
        exit_code,
        format,
        output,
        ignore_file,
        vex,
        yara_rules,
        no_bundled_rules,
        malware_hashes,
        malware_engine,
        clamd,
        clamd_max_stream_bytes,
        clamd_timeout,
        secret_rules,
        secret_allow_path,
        secret_allow,
        max_scan_file_bytes,
        offline,
        junit_cases,
        db_max_age_days,
        ..image_layer(&args.input, is_set)
    }
}

/// The settings of the image arguments that `is_set` (by clap id) says were given.
fn image_layer(input: &ImageArgs, is_set: impl Fn(&str) -> bool) -> ScanSettings {
    let mut s = ScanSettings::default();
    macro_rules! take {
        ($field:ident, $value:expr) => {
            if is_set(stringify!($field)) {
                s.$field = $value;
            }
        };
    }
    take!(no_progress, Some(input.no_progress));
    take!(quiet, Some(input.quiet));
    take!(cache_dir, input.cache_dir.clone());
    take!(no_cache, Some(input.no_cache));
    take!(cache_max_bytes, Some(input.cache_max_bytes));
    take!(db, input.db.clone());
    take!(no_db, Some(input.no_db));
    source_layer(&input.source, s, is_set)
}

/// The settings of the source arguments (`bulwark inspect`), defaults included.
pub fn source_settings(source: &SourceArgs) -> ScanSettings {
    source_layer(source, ScanSettings::default(), |_| true)
}

/// `s` with the source arguments that `is_set` (by clap id) says were given.
fn source_layer(source: &SourceArgs, mut s: ScanSettings, is_set: impl Fn(&str) -> bool) -> ScanSettings {
    macro_rules! take {
        ($field:ident) => {
            if is_set(stringify!($field)) {
                s.$field = source.$field;
            }
        };
        ($field:ident, $value:expr) => {
            if is_set(stringify!($field)) {
                s.$field = $value;
            }
        };
    }
    take!(platform, source.platform.clone());
    take!(platform_fallback, Some(source.platform_fallback));
    take!(insecure_registry, Some(source.insecure_registry));
    take!(username, source.username.clone());
    take!(password_stdin, Some(source.password_stdin));
    take!(docker_config, source.docker_config.clone());
    take!(jobs);
    take!(max_manifest_bytes);
    take!(max_config_bytes);
    take!(max_layer_bytes);
    take!(max_compression_ratio);
    take!(max_entries);
    take!(max_file_bytes);
    take!(max_layers);
    take!(max_packages);
    take!(max_package_files);
    take!(max_findings);
    take!(max_config_entries);
    take!(max_layer_results);
    take!(max_image_results);
    s
}

/// One `--output` as it is typed; `output::parse_output` reads it back the same.
fn output_string(o: &OutputSpec) -> String {
    match o.format {
        Some(f) => format!("{}={}", format_name(f), o.path.display()),
        None => o.path.display().to_string(),
    }
}

fn format_name(f: ReportFormat) -> String {
    use clap::ValueEnum;
    f.to_possible_value().map(|p| p.get_name().to_owned()).unwrap_or_default()
}

fn scanner_name(s: Scanner) -> ScannerName {
    match s {
        Scanner::Vuln => ScannerName::Vuln,
        Scanner::Malware => ScannerName::Malware,
        Scanner::Secret => ScannerName::Secret,
        Scanner::Config => ScannerName::Config,
    }
}

/// The library's severity for the CLI's.
pub fn severity_of(s: SeverityArg) -> Severity {
    match s {
        SeverityArg::Critical => Severity::Critical,
        SeverityArg::High => Severity::High,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Unknown => Severity::Unknown,
    }
}

/// The library's format for the CLI's.
pub fn library_format(f: ReportFormat) -> bulwark_report::Format {
    use bulwark_report::Format as F;
    match f {
        ReportFormat::Table => F::Table,
        ReportFormat::Json => F::Json,
        ReportFormat::Sarif => F::Sarif,
        ReportFormat::Junit => F::Junit,
        ReportFormat::Cyclonedx => F::Cyclonedx,
        ReportFormat::Spdx => F::Spdx,
        ReportFormat::Html => F::Html,
        ReportFormat::Markdown => F::Markdown,
    }
}

/// The CLI's format for the library's.
pub fn report_format(f: bulwark_report::Format) -> ReportFormat {
    use bulwark_report::Format as F;
    match f {
        F::Table => ReportFormat::Table,
        F::Json => ReportFormat::Json,
        F::Sarif => ReportFormat::Sarif,
        F::Junit => ReportFormat::Junit,
        F::Cyclonedx => ReportFormat::Cyclonedx,
        F::Spdx => ReportFormat::Spdx,
        F::Html => ReportFormat::Html,
        F::Markdown => ReportFormat::Markdown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn parsed(argv: &[&str]) -> (ScanArgs, ArgMatches) {
        let mut full = vec!["bulwark", "scan"];
        full.extend(argv);
        let matches = crate::cli::Cli::command().try_get_matches_from(full).unwrap();
        let sub = matches.subcommand_matches("scan").unwrap().clone();
        let crate::cli::Command::Scan(args) = crate::cli::Cli::from_arg_matches(&matches).unwrap().command else {
            unreachable!()
        };
        (*args, sub)
    }

    fn scan_settings(argv: &[&str], file: &str) -> Result<ScanSettings> {
        let (args, sub) = parsed(argv);
        merged(&args, &sub, Some((file, Path::new("bulwark.yaml"))))
    }

    #[test]
    fn file_settings_apply_unless_the_flag_is_given() {
        let text = "severity: [critical, HIGH]\nignore_unfixed: true\nno-progress: false\nformat: json\nmax-scan-file-bytes: 1024\noutput: json=r.json\n";
        let s = scan_settings(&["img"], text).unwrap();
        assert_eq!(s.severity, Some(vec![Severity::Critical, Severity::High]));
        assert_eq!((s.ignore_unfixed, s.no_progress), (Some(true), Some(false)));
        assert_eq!(s.format, Some(bulwark_report::Format::Json));
        assert_eq!(s.max_scan_file_bytes, Some(1024));
        assert_eq!(s.output, Some(vec!["json=r.json".to_owned()]));
        let s = scan_settings(&["img", "--format", "sarif", "--severity", "low", "-o", "x.json"], text).unwrap();
        assert_eq!(s.format, Some(bulwark_report::Format::Sarif));
        assert_eq!(s.severity, Some(vec![Severity::Low]));
        assert_eq!(s.output, Some(vec!["x.json".to_owned()]));
        // Defaults stay unset where the file is silent; the conversion supplies them.
        assert_eq!(s.scanners, None);
        assert_eq!(s.scan_options().unwrap().scanners, bulwark_scan::Scanners::ALL);
        assert!(scan_settings(&["img"], "").is_ok());
    }

    #[test]
    fn defaults_of_the_flags_and_of_the_library_agree() {
        // Every flag at its clap default, taken as set, makes the same scan as no settings.
        let (args, _) = parsed(&["img"]);
        let from_flags = all_of(&args);
        assert!(from_flags.scanners.is_some() && from_flags.clamd_timeout.is_some());
        let a = format!("{:?}", from_flags.scan_options().unwrap());
        let b = format!("{:?}", ScanSettings::default().scan_options().unwrap());
        assert_eq!(a, b);
        assert_eq!(from_flags.finish().fail_on, None);
    }

    #[test]
    fn outputs_read_back_as_typed() {
        let (args, _) = parsed(&["img", "-o", "sarif=r.sarif", "-o", "./a=b.json", "--output", "report.md"]);
        let strings = all_of(&args).output.unwrap();
        let back: Vec<OutputSpec> = strings.iter().map(|o| crate::output::parse_output(o).unwrap()).collect();
        assert_eq!(back, args.output);
    }

    #[test]
    fn unknown_keys_and_bad_yaml_are_errors() {
        let e = scan_settings(&["img"], "severty: high\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"severty\""), "{e}");
        assert!(e.contains("did you mean `severity`?"), "{e}");
        let e = scan_settings(&["img"], "ignore_unfxed: true\n").unwrap_err().to_string();
        assert!(e.contains("did you mean `ignore-unfixed`?"), "{e}");
        let e = scan_settings(&["img"], "colour: never\n").unwrap_err().to_string();
        assert!(e.contains("keys are the long flags"), "{e}");
        assert!(scan_settings(&["img"], "- a\n- b\n").unwrap_err().to_string().contains("expected a mapping"));
        assert!(scan_settings(&["img"], "format: [json\n").is_err());
        assert!(scan_settings(&["img"], "config: other.yaml\n").is_err());
        assert!(scan_settings(&["img"], "output: sarif:r.sarif\n").is_err());
        assert!(scan_settings(&["img"], "exit-code: 0\n").unwrap_err().to_string().contains("0 is not in 1..=255"));
        let e = scan_settings(&["img", "--db", "x.db"], "no-db: true\n").unwrap_err().to_string();
        assert!(e.contains("`db` and `no-db` cannot be used together"), "{e}");
    }
}
