//! `ScanSettings`: every setting of a scan as one serde value, for `bulwark.yaml`, the
//! command line and environment, and the REST API's scan request alike.
//!
//! Keys are the long flag names of `bulwark scan` (`ignore-unfixed`; `ignore_unfixed` is
//! read the same). Every field is optional: a field that is absent says nothing, so that
//! layers of settings merge field by field.
//!
//! # Merge
//!
//! From strongest to weakest: command-line flags, then their `BULWARK_*` environment
//! variables, then the config file (`--config FILE`, else `./bulwark.yaml`), then the
//! built-in defaults. [`ScanSettings::or`] takes each field from the stronger layer when it
//! sets it, else from the weaker one; a list set in a stronger layer replaces the weaker
//! layer's list (it is not appended to), so `--severity critical` on the command line wins
//! over `severity: [high]` in the file.
//!
//! ```
//! use bulwark_scan::ScanSettings;
//!
//! let doc = serde_json::json!({"severity": "high", "ignore_unfixed": true});
//! let file = ScanSettings::from_value(doc).unwrap();
//! let flags = ScanSettings { severity: Some(vec![bulwark_core::report::Severity::Critical]), ..Default::default() };
//! let merged = flags.or(file);
//! assert_eq!(merged.severity.unwrap(), [bulwark_core::report::Severity::Critical]);
//! assert_eq!(merged.ignore_unfixed, Some(true));
//! ```

use std::path::PathBuf;

use bulwark_core::report::Severity;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

/// A scanner, by the name `--scanners` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerName {
    Vuln,
    Malware,
    Secret,
    Config,
}

/// A malware engine, by the name `--malware-engine` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MalwareEngineName {
    Yara,
    Clamav,
}

/// JUnit test cases: one per policy rule or one per finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JunitCases {
    Rules,
    Findings,
}

macro_rules! settings {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty $(=> $de:literal)? ),* $(,)?) => {
        /// Every setting of a scan; see the module documentation for keys and the merge.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct ScanSettings {
            $(
                $(#[$doc])*
                #[serde(default, skip_serializing_if = "Option::is_none" $(, deserialize_with = $de)?)]
                pub $field: Option<$ty>,
            )*
        }

        impl ScanSettings {
            /// Each field from `self` when set there, else from `weaker`.
            pub fn or(self, weaker: ScanSettings) -> ScanSettings {
                ScanSettings { $( $field: self.$field.or(weaker.$field), )* }
            }

            /// The keys a settings document may hold, for suggestions on a typo.
            pub fn keys() -> &'static [&'static str] {
                &[$( stringify!($field), )*]
            }
        }
    };
}

settings! {
    /// Scanners to run.
    scanners: Vec<ScannerName> => "lenient_list",
    /// Display filter: only findings of these severities.
    severity: Vec<Severity> => "lenient_list",
    /// Display filter: leave out vulnerabilities without a fixed version.
    ignore_unfixed: bool,
    /// Image assertion policy file.
    policy: PathBuf,
    /// Without a policy: fail on findings of this severity or worse.
    fail_on: Severity => "lenient_one",
    /// The exit code for `fail-on`.
    exit_code: u8,
    /// Report format on stdout (CLI only).
    format: bulwark_report::Format => "lenient_one",
    /// `[FORMAT=]FILE` outputs (CLI only).
    output: Vec<String> => "lenient_list",
    ignore_file: Vec<PathBuf> => "lenient_list",
    vex: Vec<PathBuf> => "lenient_list",
    yara_rules: Vec<PathBuf> => "lenient_list",
    no_bundled_rules: bool,
    malware_hashes: Vec<PathBuf> => "lenient_list",
    /// Malware engines (`yara`, `clamav`).
    malware_engine: Vec<MalwareEngineName> => "lenient_list",
    /// clamd's socket: a Unix socket path or host:port.
    clamd: String,
    /// Largest file streamed to clamd.
    clamd_max_stream_bytes: u64,
    /// Seconds clamd may take for one file.
    clamd_timeout: u64,
    secret_rules: Vec<PathBuf> => "lenient_list",
    secret_allow_path: Vec<String> => "lenient_list",
    secret_allow: Vec<String> => "lenient_list",
    max_scan_file_bytes: u64,
    offline: bool,
    junit_cases: JunitCases => "lenient_one",
    db_max_age_days: u64,
    /// Never draw progress bars (CLI only).
    no_progress: bool,
    /// Print nothing but the output and errors (CLI only).
    quiet: bool,
    cache_dir: PathBuf,
    no_cache: bool,
    cache_max_bytes: u64,
    db: PathBuf,
    no_db: bool,
    platform: String,
    platform_fallback: bool,
    insecure_registry: bool,
    username: String,
    /// Read the registry password from stdin (CLI only).
    password_stdin: bool,
    docker_config: PathBuf,
    jobs: usize,
    max_manifest_bytes: u64,
    max_config_bytes: u64,
    max_layer_bytes: u64,
    max_compression_ratio: u64,
    max_entries: u64,
    max_file_bytes: u64,
    max_layers: usize,
    max_packages: u64,
    max_package_files: u64,
    max_findings: u64,
    max_config_entries: u64,
    /// Memory budget of one layer's analyzer results.
    max_layer_results: u64,
    /// Memory budget of the analyzer results of all of an image's layers together.
    max_image_results: u64,
}

impl ScanSettings {
    /// Reads a settings document (YAML or JSON): keys with `_` are read as with `-`; an
    /// unknown key is an error that suggests the closest known one.
    pub fn from_value(doc: serde_json::Value) -> Result<ScanSettings, String> {
        let map = match doc {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => return Ok(ScanSettings::default()),
            _ => return Err("expected a mapping of setting names to values".to_owned()),
        };
        let mut normalised = serde_json::Map::new();
        for (key, value) in map {
            let long = key.replace('_', "-");
            let known = ScanSettings::keys().iter().any(|k| k.replace('_', "-") == long);
            if !known {
                let keys: Vec<String> = ScanSettings::keys().iter().map(|k| k.replace('_', "-")).collect();
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let hint = match bulwark_policy::closest(&long, &keys) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => {
                        "keys are the long flags of `bulwark scan --help`, e.g. severity, format, policy".to_owned()
                    }
                };
                return Err(format!("unknown key {key:?}\nhint: {hint}"));
            }
            normalised.insert(long, value);
        }
        serde_json::from_value(serde_json::Value::Object(normalised)).map_err(|e| e.to_string())
    }
}

/// A value as its serde form, accepting any case and surrounding spaces for names, and a
/// number or boolean written as a string: what users type in YAML.
fn lenient_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
    match serde_json::from_value::<T>(v.clone()) {
        Ok(t) => Ok(t),
        Err(first) => match &v {
            serde_json::Value::String(s) => serde_json::from_value(serde_json::Value::String(s.trim().to_lowercase()))
                .map_err(|_| first.to_string()),
            _ => Err(first.to_string()),
        },
    }
}

fn lenient_one<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    lenient_value(v).map(Some).map_err(serde::de::Error::custom)
}

/// A list, or one value standing for a list of one.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    let items = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items.into_iter().map(lenient_value).collect::<Result<Vec<T>, String>>().map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ScanSettings, String> {
        ScanSettings::from_value(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn keys_values_and_merge() {
        let s = parse(
            r#"{"severity": "HIGH", "ignore_unfixed": true, "scanners": ["vuln", " Secret "], "format": "json",
                "max-scan-file-bytes": 1024, "output": "json=r.json"}"#,
        )
        .unwrap();
        assert_eq!(s.severity, Some(vec![Severity::High]));
        assert_eq!(s.ignore_unfixed, Some(true));
        assert_eq!(s.scanners, Some(vec![ScannerName::Vuln, ScannerName::Secret]));
        assert_eq!(s.format, Some(bulwark_report::Format::Json));
        assert_eq!(s.max_scan_file_bytes, Some(1024));
        assert_eq!(s.output, Some(vec!["json=r.json".to_owned()]));
        // The stronger layer's list replaces the weaker one's; unset fields fall through.
        let flags = ScanSettings { severity: Some(vec![Severity::Critical]), ..Default::default() };
        let merged = flags.or(s.clone());
        assert_eq!(merged.severity, Some(vec![Severity::Critical]));
        assert_eq!(merged.format, s.format);
        // What serialises reads back the same: the REST body round-trips.
        let json = serde_json::to_value(&merged).unwrap();
        assert_eq!(ScanSettings::from_value(json).unwrap(), merged);
        assert_eq!(parse("null").unwrap(), ScanSettings::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = parse(r#"{"severty": "high"}"#).unwrap_err();
        assert!(e.contains("unknown key \"severty\"") && e.contains("did you mean `severity`?"), "{e}");
        let e = parse(r#"{"ignore_unfxed": true}"#).unwrap_err();
        assert!(e.contains("did you mean `ignore-unfixed`?"), "{e}");
        assert!(parse(r#"{"colour": "never"}"#).unwrap_err().contains("keys are the long flags"));
        assert!(parse(r#"["a"]"#).unwrap_err().contains("expected a mapping"));
        assert!(parse(r#"{"severity": "severe"}"#).is_err());
        assert!(parse(r#"{"jobs": "many"}"#).is_err());
    }
}
