//! `bulwark.yaml`: the flags of `bulwark scan` as a file. Keys are the long flag names
//! (`severity`, `ignore-unfixed` or `ignore_unfixed`, `output`, …); a flag given on the
//! command line or through its `BULWARK_*` environment variable wins over the file.
//!
//! ```yaml
//! scanners: [vuln, secret]
//! severity: [critical, high]
//! ignore-unfixed: true
//! policy: policies/release.yaml
//! output: [json=bulwark.json, sarif=bulwark.sarif]
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::CommandFactory;
use clap::parser::ValueSource;

/// The file read when `--config` is not given, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "bulwark.yaml";

/// Inserts the config file's settings into `argv` as flags, right after `scan`, for every
/// key the command line and environment do not already set. Other commands are unchanged.
pub fn apply(argv: Vec<OsString>) -> Result<Vec<OsString>> {
    if argv.get(1).is_none_or(|a| a != "scan") {
        return Ok(argv);
    }
    // A command line clap rejects is left for clap to explain.
    let Ok(matches) = crate::cli::Cli::command().try_get_matches_from(&argv) else { return Ok(argv) };
    let Some(scan) = matches.subcommand_matches("scan") else { return Ok(argv) };
    let path = match scan.get_one::<PathBuf>("config") {
        Some(p) => p.clone(),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(argv),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("reading config file {}: {e}", path.display()))?;
    let flags = flags_from(&text, &path, |id| {
        matches!(scan.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
    })?;
    let mut out = argv[..2].to_vec();
    out.extend(flags);
    out.extend(argv[2..].iter().cloned());
    Ok(out)
}

/// The flags a config file stands for, leaving out those `is_set` says are given already.
fn flags_from(text: &str, path: &Path, is_set: impl Fn(&str) -> bool) -> Result<Vec<OsString>> {
    let doc = bulwark_policy::to_json(text).map_err(|d| anyhow!("config file {}:{d}", path.display()))?;
    let map = match doc {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => return Ok(Vec::new()),
        _ => bail!("config file {}: expected a mapping of flag names to values", path.display()),
    };
    let cli = crate::cli::Cli::command();
    let scan = cli.find_subcommand("scan").ok_or_else(|| anyhow!("no scan command"))?;
    let mut flags = Vec::new();
    for (key, value) in map {
        let long = key.replace('_', "-");
        let Some(arg) = scan.get_arguments().find(|a| a.get_long() == Some(long.as_str())) else {
            let keys: Vec<&str> =
                scan.get_arguments().filter_map(|a| a.get_long()).filter(|l| *l != "config").collect();
            let hint = match bulwark_policy::closest(&long, &keys) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "keys are the long flags of `bulwark scan --help`, e.g. severity, format, policy".to_owned(),
            };
            bail!("config file {}: unknown key {key:?}\nhint: {hint}", path.display());
        };
        if long == "config" {
            bail!("config file {}: `config` cannot be set from a config file", path.display());
        }
        if is_set(arg.get_id().as_str()) {
            continue;
        }
        let takes_values = arg.get_action().takes_values();
        let items = match value {
            serde_json::Value::Array(items) => items,
            v => vec![v],
        };
        for item in items {
            match item {
                serde_json::Value::Bool(b) if !takes_values => {
                    if b {
                        flags.push(OsString::from(format!("--{long}")));
                    }
                }
                serde_json::Value::String(s) => flags.push(OsString::from(format!("--{long}={s}"))),
                serde_json::Value::Number(n) => flags.push(OsString::from(format!("--{long}={n}"))),
                serde_json::Value::Bool(b) => flags.push(OsString::from(format!("--{long}={b}"))),
                other => bail!("config file {}: {key}: unsupported value {other}", path.display()),
            }
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(text: &str, set: &[&str]) -> Result<Vec<String>> {
        flags_from(text, Path::new("bulwark.yaml"), |id| set.contains(&id))
            .map(|v| v.into_iter().map(|f| f.into_string().unwrap()).collect())
    }

    #[test]
    fn keys_become_flags_unless_already_set() {
        let text = "severity: [critical, high]\nignore_unfixed: true\nno-progress: false\nformat: json\nmax-scan-file-bytes: 1024\n";
        assert_eq!(
            flags(text, &[]).unwrap(),
            // Keys in sorted order; list values in file order.
            [
                "--format=json",
                "--ignore-unfixed",
                "--max-scan-file-bytes=1024",
                "--severity=critical",
                "--severity=high"
            ]
        );
        assert_eq!(flags(text, &["format", "severity"]).unwrap(), ["--ignore-unfixed", "--max-scan-file-bytes=1024"]);
        assert_eq!(flags("", &[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn unknown_keys_and_bad_yaml_are_errors() {
        let e = flags("severty: high\n", &[]).unwrap_err().to_string();
        assert!(e.contains("unknown key \"severty\""), "{e}");
        assert!(e.contains("did you mean `severity`?"), "{e}");
        let e = flags("ignore_unfxed: true\n", &[]).unwrap_err().to_string();
        assert!(e.contains("did you mean `ignore-unfixed`?"), "{e}");
        let e = flags("colour: never\n", &[]).unwrap_err().to_string();
        assert!(e.contains("keys are the long flags"), "{e}");
        assert!(flags("- a\n- b\n", &[]).unwrap_err().to_string().contains("expected a mapping"));
        assert!(flags("format: [json\n", &[]).is_err());
        assert!(flags("config: other.yaml\n", &[]).is_err());
    }
}
