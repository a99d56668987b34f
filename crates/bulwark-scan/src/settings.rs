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
//! variables (`BULWARK_` and the key in upper case with `_`, e.g. `BULWARK_IGNORE_UNFIXED`),
//! then the config file (`--config FILE`, else `./bulwark.yaml`), then the built-in
//! defaults. [`ScanSettings::or`] takes each field from the stronger layer when it sets it,
//! else from the weaker one; a list set in a stronger layer replaces the weaker layer's list
//! (it is not appended to), so `--severity critical` on the command line wins over
//! `severity: [high]` in the file. A REST scan request is one more layer, merged the same
//! way over the server's own settings.
//!
//! # Use
//!
//! The merged settings become a scan through [`ScanSettings::scan_options`] (the options an
//! [`crate::Engine`] is built with; defaults fill every unset field) and
//! [`ScanSettings::finish`] (the display filters and the `fail-on` gate). The CLI, `bulwark
//! worker` and the server all build their scans this way, so one document means one scan.
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

use crate::{ScanOptions, Scanners};

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
    /// unknown key is [`SettingsError::UnknownKey`], with the closest known key.
    pub fn from_value(doc: serde_json::Value) -> Result<ScanSettings, SettingsError> {
        let map = match doc {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => return Ok(ScanSettings::default()),
            _ => return Err(SettingsError::NotAMapping),
        };
        let mut normalised = serde_json::Map::new();
        for (key, value) in map {
            let long = key.replace('_', "-");
            let keys: Vec<String> = ScanSettings::keys().iter().map(|k| k.replace('_', "-")).collect();
            if !keys.contains(&long) {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let closest = bulwark_policy::closest(&long, &keys).map(str::to_owned);
                return Err(SettingsError::UnknownKey { key, closest });
            }
            normalised.insert(long, value);
        }
        serde_json::from_value(serde_json::Value::Object(normalised)).map_err(|e| SettingsError::Value(e.to_string()))
    }

    /// The scan options these settings describe, with the built-in default for every
    /// field that is not set: the one conversion the CLI, `bulwark worker` and the server
    /// build a scan with. What only the caller can know stays the caller's: the registry
    /// password, the advisory database's default path (`db` is used as given, and only
    /// when the vuln scanner runs and `no-db` is not set), and the day.
    pub fn scan_options(&self) -> Result<ScanOptions, SettingsError> {
        let scanners = match &self.scanners {
            Some(list) => Scanners {
                vuln: list.contains(&ScannerName::Vuln),
                malware: list.contains(&ScannerName::Malware),
                secret: list.contains(&ScannerName::Secret),
                config: list.contains(&ScannerName::Config),
            },
            None => Scanners::ALL,
        };
        let engines = self.malware_engine.clone().unwrap_or_else(|| vec![MalwareEngineName::Yara]);
        let clamav = engines.contains(&MalwareEngineName::Clamav);
        let mut read = bulwark_image::ReadOptions::default();
        if let Some(p) = &self.platform {
            read.platform = Some(p.parse::<bulwark_core::Platform>().map_err(SettingsError::Platform)?);
        }
        read.platform_fallback = self.platform_fallback.unwrap_or(false);
        read.offline = self.offline.unwrap_or(false);
        read.registry.insecure = self.insecure_registry.unwrap_or(false);
        read.registry.username = self.username.clone();
        read.registry.docker_config = self.docker_config.clone();
        if let Some(j) = self.jobs {
            read.jobs = j.max(1);
        }
        let l = bulwark_image::Limits::default();
        read.limits = bulwark_image::Limits {
            max_manifest_bytes: self.max_manifest_bytes.unwrap_or(l.max_manifest_bytes),
            max_config_bytes: self.max_config_bytes.unwrap_or(l.max_config_bytes),
            max_layer_bytes: self.max_layer_bytes.unwrap_or(l.max_layer_bytes),
            max_compression_ratio: self.max_compression_ratio.unwrap_or(l.max_compression_ratio),
            max_entries: self.max_entries.unwrap_or(l.max_entries),
            max_file_bytes: self.max_file_bytes.unwrap_or(l.max_file_bytes),
            max_layers: self.max_layers.unwrap_or(l.max_layers),
            max_packages: self.max_packages.unwrap_or(l.max_packages),
            max_package_files: self.max_package_files.unwrap_or(l.max_package_files),
            max_findings: self.max_findings.unwrap_or(l.max_findings),
            max_config_entries: self.max_config_entries.unwrap_or(l.max_config_entries),
            max_image_result_bytes: self.max_image_results.unwrap_or(l.max_image_result_bytes),
            ..l
        };
        if let Some(n) = self.max_layer_results {
            read.analyze.max_result_bytes = n;
        }
        let clamd = match (clamav && scanners.malware, &self.clamd) {
            (true, address) => {
                let mut config = bulwark_detect::malware::clamd::ClamdConfig::default();
                if let Some(a) = address {
                    config.address = a.parse().map_err(SettingsError::ClamdAddress)?;
                }
                if let Some(max) = self.clamd_max_stream_bytes {
                    config.max_stream_bytes = max;
                }
                config.timeout = std::time::Duration::from_secs(self.clamd_timeout.unwrap_or(120).max(1));
                Some(config)
            }
            (false, Some(_)) if !clamav => return Err(SettingsError::ClamdWithoutClamav),
            (false, _) => None,
        };
        let mut malware = bulwark_detect::malware::MalwareConfig {
            bundled: !self.no_bundled_rules.unwrap_or(false),
            rule_paths: self.yara_rules.clone().unwrap_or_default(),
            hash_lists: self.malware_hashes.clone().unwrap_or_default(),
            yara: engines.contains(&MalwareEngineName::Yara),
            clamd,
            ..Default::default()
        };
        let mut secret = bulwark_detect::secret::SecretConfig {
            rule_files: self.secret_rules.clone().unwrap_or_default(),
            allow_paths: self.secret_allow_path.clone().unwrap_or_default(),
            ..Default::default()
        };
        for a in self.secret_allow.iter().flatten() {
            // Fingerprints are hex; anything else names a rule.
            if a.len() >= 16 && a.bytes().all(|b| b.is_ascii_hexdigit()) {
                secret.allow_fingerprints.push(a.clone());
            } else {
                secret.allow_rules.push(a.clone());
            }
        }
        if let Some(max) = self.max_scan_file_bytes {
            malware.max_file_bytes = max;
            secret.max_file_bytes = max;
        }
        let no_db = self.no_db.unwrap_or(false);
        Ok(ScanOptions {
            read,
            cache_dir: match self.no_cache.unwrap_or(false) {
                true => None,
                false => self.cache_dir.clone().or_else(crate::DiskCache::default_dir),
            },
            cache_max_bytes: self.cache_max_bytes.unwrap_or(DEFAULT_CACHE_MAX_BYTES),
            db: self.db.clone().filter(|_| scanners.vuln && !no_db),
            scanners,
            malware,
            secret,
            ignore_files: self.ignore_file.clone().unwrap_or_default(),
            vex_files: self.vex.clone().unwrap_or_default(),
            ..ScanOptions::default()
        })
    }

    /// The display filters and the `fail-on` gate of these settings, for [`crate::finish`]
    /// (the policy, loaded by the caller, and the day are added there).
    pub fn finish(&self) -> crate::Finish<'static> {
        let gated = self.fail_on.is_some() || self.exit_code.is_some();
        crate::Finish {
            policy: None,
            today: None,
            fail_on: gated.then(|| crate::FailOn { min: self.fail_on.unwrap_or(Severity::Unknown) }),
            severities: self.severity.clone().unwrap_or_default(),
            ignore_unfixed: self.ignore_unfixed.unwrap_or(false),
        }
    }
}

/// The layer cache's size bound when `cache-max-bytes` is not set.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 2 << 30;

/// Why a settings document, or settings, cannot describe a scan. Messages name the key;
/// advice in a caller's own terms (a flag, a form field) is the caller's to add.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The document is not a mapping of keys to values.
    #[error("expected a mapping of setting names to values")]
    NotAMapping,
    /// A key that is no setting; `closest` is the known key it most likely means.
    #[error("unknown key {key:?}")]
    UnknownKey { key: String, closest: Option<String> },
    /// A value of the wrong type or out of range.
    #[error("{0}")]
    Value(String),
    /// `platform` is not `os/arch[/variant]`.
    #[error(transparent)]
    Platform(bulwark_core::Error),
    /// `clamd` is not a socket path or host:port.
    #[error("clamd: {0}")]
    ClamdAddress(String),
    /// `clamd` is set but `malware-engine` does not include `clamav`.
    #[error("clamd is set but clamav is not among the malware engines")]
    ClamdWithoutClamav,
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

    fn parse(json: &str) -> Result<ScanSettings, SettingsError> {
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
        let closest = |json: &str| match parse(json) {
            Err(SettingsError::UnknownKey { closest, .. }) => closest,
            other => panic!("{other:?}"),
        };
        assert_eq!(closest(r#"{"severty": "high"}"#).as_deref(), Some("severity"));
        assert_eq!(closest(r#"{"ignore_unfxed": true}"#).as_deref(), Some("ignore-unfixed"));
        assert_eq!(closest(r#"{"colour": "never"}"#), None);
        assert_eq!(parse(r#"{"severty": "high"}"#).unwrap_err().to_string(), "unknown key \"severty\"");
        assert!(matches!(parse(r#"["a"]"#), Err(SettingsError::NotAMapping)));
        assert!(matches!(parse(r#"{"severity": "severe"}"#), Err(SettingsError::Value(_))));
        assert!(parse(r#"{"jobs": "many"}"#).is_err());
    }

    #[test]
    fn settings_make_scan_options() {
        let o = parse(
            r#"{"scanners": ["vuln", "config"], "platform": "linux/arm64", "max-layers": 3, "no-cache": true,
                "secret-allow": ["aws-access-key", "0123456789abcdef0123"], "max-scan-file-bytes": 10,
                "db": "/x.db", "offline": true}"#,
        )
        .unwrap()
        .scan_options()
        .unwrap();
        assert_eq!(o.scanners, Scanners { vuln: true, config: true, ..Scanners::default() });
        assert_eq!(o.read.platform.map(|p| p.to_string()).as_deref(), Some("linux/arm64"));
        assert_eq!(o.read.limits.max_layers, 3);
        assert!(o.read.offline && o.cache_dir.is_none());
        assert_eq!((o.secret.allow_rules.len(), o.secret.allow_fingerprints.len()), (1, 1));
        assert_eq!((o.malware.max_file_bytes, o.secret.max_file_bytes), (10, 10));
        assert_eq!(o.db.as_deref(), Some(std::path::Path::new("/x.db")));
        // `no-db`, or no vuln scanner, means no database.
        let no_db = parse(r#"{"db": "/x.db", "no-db": true}"#).unwrap().scan_options().unwrap();
        assert_eq!(no_db.db, None);
        // clamd only with the clamav engine; a bad address or platform is an error.
        let clamd = parse(r#"{"malware-engine": ["yara", "clamav"], "clamd": "127.0.0.1:3310"}"#).unwrap();
        assert!(clamd.scan_options().unwrap().malware.clamd.is_some());
        let stray = parse(r#"{"clamd": "127.0.0.1:3310"}"#).unwrap().scan_options();
        assert!(matches!(stray, Err(SettingsError::ClamdWithoutClamav)));
        assert!(matches!(parse(r#"{"platform": "linux"}"#).unwrap().scan_options(), Err(SettingsError::Platform(_))));
        let gate = parse(r#"{"exit-code": 3, "severity": "high"}"#).unwrap().finish();
        assert_eq!(gate.fail_on.map(|f| f.min), Some(Severity::Unknown));
        assert_eq!(gate.severities, [Severity::High]);
    }
}
