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
use bulwark_scan::settings::{JunitCases as SettingsJunit, MalwareEngineName, ScannerName};
use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::{JunitCases, MalwareEngine, ReportFormat, ScanArgs, Scanner, SeverityArg};

/// The file read when `--config` is not given, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "bulwark.yaml";

/// Applies the config file to `args`: every setting the command line and environment do
/// not set (as `matches`, the scan subcommand's, tell) is taken from the file.
pub fn apply(args: &mut ScanArgs, matches: &ArgMatches) -> Result<()> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(()),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("reading config file {}: {e}", path.display()))?;
    let file = settings_from(&text, &path)?;
    merge(args, file, |id| {
        matches.try_get_raw(id).is_ok()
            && matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
    })
    .map_err(|e| anyhow!("config file {}: {e}", path.display()))
}

/// The settings a config file holds.
fn settings_from(text: &str, path: &Path) -> Result<ScanSettings> {
    let doc = bulwark_policy::to_json(text).map_err(|d| anyhow!("config file {}:{d}", path.display()))?;
    ScanSettings::from_value(doc).map_err(|e| anyhow!("config file {}: {e}", path.display()))
}

/// Sets each field of `args` from `file` unless `is_set` says the flag (by clap id) was given.
fn merge(args: &mut ScanArgs, file: ScanSettings, is_set: impl Fn(&str) -> bool) -> Result<(), String> {
    macro_rules! take {
        ($field:ident, $target:expr) => {
            take!($field, $target, |v| v)
        };
        ($field:ident, $target:expr, $conv:expr) => {
            if !is_set(stringify!($field))
                && let Some(v) = file.$field
            {
                #[allow(clippy::redundant_closure_call)]
                {
                    $target = ($conv)(v);
                }
            }
        };
    }
    take!(scanners, args.scanners, |v: Vec<ScannerName>| v.into_iter().map(scanner).collect());
    take!(severity, args.severity, |v: Vec<Severity>| v.into_iter().map(severity).collect());
    take!(ignore_unfixed, args.ignore_unfixed);
    take!(policy, args.policy, Some);
    take!(fail_on, args.fail_on, |s| Some(severity(s)));
    if file.exit_code == Some(0) {
        return Err("exit-code: 0 is not in 1..=255".to_owned());
    }
    take!(exit_code, args.exit_code, Some);
    take!(format, args.format, |f| Some(report_format(f)));
    if !is_set("output")
        && let Some(outputs) = file.output
    {
        args.output = outputs.iter().map(|o| crate::output::parse_output(o)).collect::<Result<_, _>>()?;
    }
    take!(ignore_file, args.ignore_file);
    take!(vex, args.vex);
    take!(yara_rules, args.yara_rules);
    take!(no_bundled_rules, args.no_bundled_rules);
    take!(malware_hashes, args.malware_hashes);
    take!(malware_engine, args.malware_engine, |v: Vec<MalwareEngineName>| v
        .into_iter()
        .map(|e| match e {
            MalwareEngineName::Yara => MalwareEngine::Yara,
            MalwareEngineName::Clamav => MalwareEngine::Clamav,
        })
        .collect());
    take!(clamd, args.clamd, Some);
    take!(clamd_max_stream_bytes, args.clamd_max_stream_bytes, Some);
    take!(clamd_timeout, args.clamd_timeout);
    take!(secret_rules, args.secret_rules);
    take!(secret_allow_path, args.secret_allow_path);
    take!(secret_allow, args.secret_allow);
    take!(max_scan_file_bytes, args.max_scan_file_bytes, Some);
    take!(offline, args.offline);
    take!(junit_cases, args.junit_cases, |j| match j {
        SettingsJunit::Rules => JunitCases::Rules,
        SettingsJunit::Findings => JunitCases::Findings,
    });
    take!(db_max_age_days, args.db_max_age_days);
    let input = &mut args.input;
    take!(no_progress, input.no_progress);
    take!(quiet, input.quiet);
    take!(cache_dir, input.cache_dir, Some);
    take!(no_cache, input.no_cache);
    take!(cache_max_bytes, input.cache_max_bytes);
    take!(db, input.db, Some);
    take!(no_db, input.no_db);
    if input.db.is_some() && input.no_db {
        return Err("`db` and `no-db` cannot be used together".to_owned());
    }
    let source = &mut input.source;
    take!(platform, source.platform, Some);
    take!(platform_fallback, source.platform_fallback);
    take!(insecure_registry, source.insecure_registry);
    take!(username, source.username, Some);
    take!(password_stdin, source.password_stdin);
    take!(docker_config, source.docker_config, Some);
    take!(jobs, source.jobs, Some);
    take!(max_manifest_bytes, source.max_manifest_bytes, Some);
    take!(max_config_bytes, source.max_config_bytes, Some);
    take!(max_layer_bytes, source.max_layer_bytes, Some);
    take!(max_compression_ratio, source.max_compression_ratio, Some);
    take!(max_entries, source.max_entries, Some);
    take!(max_file_bytes, source.max_file_bytes, Some);
    take!(max_layers, source.max_layers, Some);
    take!(max_packages, source.max_packages, Some);
    take!(max_package_files, source.max_package_files, Some);
    take!(max_findings, source.max_findings, Some);
    take!(max_config_entries, source.max_config_entries, Some);
    take!(max_layer_results, source.max_layer_results, Some);
    take!(max_image_results, source.max_image_results, Some);
    Ok(())
}

fn scanner(s: ScannerName) -> Scanner {
    match s {
        ScannerName::Vuln => Scanner::Vuln,
        ScannerName::Malware => Scanner::Malware,
        ScannerName::Secret => Scanner::Secret,
        ScannerName::Config => Scanner::Config,
    }
}

fn severity(s: Severity) -> SeverityArg {
    match s {
        Severity::Critical => SeverityArg::Critical,
        Severity::High => SeverityArg::High,
        Severity::Medium => SeverityArg::Medium,
        Severity::Low => SeverityArg::Low,
        _ => SeverityArg::Unknown,
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

    fn scan_args(argv: &[&str], file: &str) -> Result<ScanArgs> {
        let mut full = vec!["bulwark", "scan"];
        full.extend(argv);
        let matches = crate::cli::Cli::command().try_get_matches_from(full)?;
        let sub = matches.subcommand_matches("scan").unwrap().clone();
        let crate::cli::Command::Scan(args) = crate::cli::Cli::from_arg_matches(&matches)?.command else {
            unreachable!()
        };
        let mut args = *args;
        let settings = settings_from(file, Path::new("bulwark.yaml"))?;
        merge(&mut args, settings, |id| matches!(sub.value_source(id), Some(ValueSource::CommandLine)))
            .map_err(|e| anyhow!(e))?;
        Ok(args)
    }

    #[test]
    fn file_settings_apply_unless_the_flag_is_given() {
        let text = "severity: [critical, HIGH]\nignore_unfixed: true\nno-progress: false\nformat: json\nmax-scan-file-bytes: 1024\noutput: json=r.json\n";
        let args = scan_args(&["img"], text).unwrap();
        assert_eq!(args.severity, [SeverityArg::Critical, SeverityArg::High]);
        assert!(args.ignore_unfixed && !args.input.no_progress);
        assert_eq!(args.format, Some(ReportFormat::Json));
        assert_eq!(args.max_scan_file_bytes, Some(1024));
        assert_eq!(args.output.len(), 1);
        let args = scan_args(&["img", "--format", "sarif", "--severity", "low"], text).unwrap();
        assert_eq!(args.format, Some(ReportFormat::Sarif));
        assert_eq!(args.severity, [SeverityArg::Low]);
        // Defaults stay where the file is silent.
        assert_eq!(args.scanners.len(), 4);
        assert!(scan_args(&["img"], "").is_ok());
    }

    #[test]
    fn unknown_keys_and_bad_yaml_are_errors() {
        let e = scan_args(&["img"], "severty: high\n").unwrap_err().to_string();
        assert!(e.contains("unknown key \"severty\""), "{e}");
        assert!(e.contains("did you mean `severity`?"), "{e}");
        let e = scan_args(&["img"], "ignore_unfxed: true\n").unwrap_err().to_string();
        assert!(e.contains("did you mean `ignore-unfixed`?"), "{e}");
        let e = scan_args(&["img"], "colour: never\n").unwrap_err().to_string();
        assert!(e.contains("keys are the long flags"), "{e}");
        assert!(scan_args(&["img"], "- a\n- b\n").unwrap_err().to_string().contains("expected a mapping"));
        assert!(scan_args(&["img"], "format: [json\n").is_err());
        assert!(scan_args(&["img"], "config: other.yaml\n").is_err());
        assert!(scan_args(&["img"], "output: sarif:r.sarif\n").is_err());
    }
}
