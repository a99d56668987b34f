//! The Debian security tracker's per-release states: "will not fix" (`ignored`), `postponed`,
//! `unimportant`, `end-of-life`, `no-dsa`, … — what Debian's OSV export does not say.
//!
//! Two input shapes are read (auto-detected):
//!
//! - the tracker's own JSON (`https://security-tracker.debian.org/tracker/data/json`):
//!   `{ "<source package>": { "<CVE>": { "releases": { "<codename>": { "status": "open" |
//!   "resolved" | "undetermined", "urgency": "low" | "unimportant" | "end-of-life" | …,
//!   "nodsa": "…", "nodsa_reason": "ignored" | "postponed" | "" } } } } }`, plain or gzip;
//! - per-CVE files parsed from the tracker's `data/CVE/list` as published by
//!   aquasecurity/vuln-list-debian (`{"Header": {"ID": …}, "Annotations": [{"Type": "package",
//!   "Release": "buster", "Package": "openssl", "Kind": "postponed", "Description": …}]}`),
//!   one file, or a directory of them. An annotation without `Release` is about unstable.
//!
//! Releases are keyed by their OSV ecosystem (`buster` → `Debian:10`); codenames this module
//! does not know are kept as `Debian:<codename>` (never matched).

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// The tracker's full JSON is ~60 MB; gzip input is inflated up to this many bytes.
pub const MAX_TRACKER_BYTES: u64 = 1 << 30;

/// One statement of the tracker about a CVE in one source package of one release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackerState {
    /// `Debian:10`, …
    pub ecosystem: String,
    /// The source package.
    pub package: String,
    pub cve: String,
    /// `ignored` (will not fix), `postponed`, `unimportant`, `end-of-life`, `no-dsa`, `open`,
    /// `resolved`, `not-affected`, `undetermined`.
    pub state: String,
    /// The tracker's note (`Minor issue, DoS, Low severity`), or the fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The tracker's urgency for the release (`low`, `medium`, `high`, `unimportant`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    /// The name of the DB source it came from (filled in by the DB).
    #[serde(default)]
    pub source: String,
}

impl TrackerState {
    /// Whether Debian says this will not be fixed in the release (now): `ignored`,
    /// `postponed`, `unimportant` or `end-of-life`.
    pub fn is_wont_fix(&self) -> bool {
        matches!(self.state.as_str(), "ignored" | "postponed" | "unimportant" | "end-of-life")
    }

    /// A phrase for an explanation: `Debian security tracker (Debian:10): postponed (Minor issue)`.
    pub fn describe(&self) -> String {
        let what = match self.state.as_str() {
            "ignored" => "will not fix (ignored)".to_owned(),
            other => other.to_owned(),
        };
        match self.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => format!("Debian security tracker ({}): {what} ({r})", self.ecosystem),
            None => format!("Debian security tracker ({}): {what}", self.ecosystem),
        }
    }
}

/// The OSV ecosystem of a Debian codename.
pub fn debian_ecosystem(codename: &str) -> String {
    let c = codename.trim().to_ascii_lowercase();
    let n = match c.as_str() {
        "buzz" => "1.1",
        "rex" => "1.2",
        "bo" => "1.3",
        "hamm" => "2.0",
        "slink" => "2.1",
        "potato" => "2.2",
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4.0",
        "lenny" => "5.0",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        _ => return format!("Debian:{c}"),
    };
    format!("Debian:{n}")
}

fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Default)]
struct TrackerCve {
    #[serde(default, deserialize_with = "nullable")]
    releases: BTreeMap<String, TrackerRelease>,
}

#[derive(Deserialize, Default)]
struct TrackerRelease {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListCve {
    #[serde(default, deserialize_with = "nullable")]
    header: ListHeader,
    #[serde(default, deserialize_with = "nullable")]
    annotations: Vec<Annotation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListHeader {
    #[serde(default, rename = "ID", deserialize_with = "nullable")]
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Annotation {
    #[serde(default, deserialize_with = "nullable")]
    r#type: String,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Inflates gzip input (by magic bytes), bounded.
fn maybe_gunzip(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.into());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_TRACKER_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidRecord { message: format!("gzip: {e}") })?;
    if out.len() as u64 > MAX_TRACKER_BYTES {
        return Err(Error::InvalidRecord { message: format!("inflates to over {MAX_TRACKER_BYTES} bytes") });
    }
    Ok(out.into())
}

/// Parses tracker data (either shape, plain or gzip) into the states worth keeping: those
/// with a state other than a plain `resolved`/`open` without urgency. Never panics.
pub fn parse_tracker(bytes: &[u8]) -> Result<Vec<TrackerState>> {
    let bytes = maybe_gunzip(bytes)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::InvalidRecord { message: format!("not Debian security tracker JSON: {e}") })?;
    let obj = value
        .as_object()
        .ok_or_else(|| Error::InvalidRecord { message: "not Debian security tracker JSON: not an object".into() })?;
    let mut out = Vec::new();
    if obj.contains_key("Header") || obj.contains_key("Annotations") {
        let cve: ListCve = serde_json::from_value(value)
            .map_err(|e| Error::InvalidRecord { message: format!("not a vuln-list-debian CVE file: {e}") })?;
        from_list(&cve, &mut out);
    } else {
        for (package, cves) in obj {
            let Some(cves) = cves.as_object() else { continue };
            for (cve, entry) in cves {
                let Ok(entry) = TrackerCve::deserialize(entry) else { continue };
                for (codename, r) in &entry.releases {
                    from_release(package, cve, codename, r, &mut out);
                }
            }
        }
    }
    Ok(out)
}

fn from_release(package: &str, cve: &str, codename: &str, r: &TrackerRelease, out: &mut Vec<TrackerState>) {
    let urgency = clean(r.urgency.as_deref());
    let status = clean(r.status.as_deref()).unwrap_or_default();
    let nodsa = clean(r.nodsa.as_deref());
    let reason_word = clean(r.nodsa_reason.as_deref()).map(|s| s.to_ascii_lowercase());
    let urgency_word = urgency.as_deref().map(|u| u.trim_end_matches('*').to_ascii_lowercase());
    let state = if status == "resolved" {
        "resolved".to_owned()
    } else if reason_word.as_deref() == Some("ignored") {
        "ignored".to_owned()
    } else if reason_word.as_deref() == Some("postponed") {
        "postponed".to_owned()
    } else if urgency_word.as_deref() == Some("end-of-life") {
        "end-of-life".to_owned()
    } else if urgency_word.as_deref() == Some("unimportant") {
        "unimportant".to_owned()
    } else if nodsa.is_some() {
        "no-dsa".to_owned()
    } else if status.is_empty() {
        return;
    } else {
        status
    };
    let reason = if state == "resolved" { clean(r.fixed_version.as_deref()) } else { nodsa };
    out.push(TrackerState {
        ecosystem: debian_ecosystem(codename),
        package: package.trim().to_owned(),
        cve: cve.trim().to_owned(),
        state,
        reason,
        urgency,
        source: String::new(),
    });
}

fn from_list(cve: &ListCve, out: &mut Vec<TrackerState>) {
    let id = cve.header.id.trim();
    if id.is_empty() {
        return;
    }
    for a in cve.annotations.iter().filter(|a| a.r#type == "package") {
        let (Some(package), Some(kind)) = (clean(a.package.as_deref()), clean(a.kind.as_deref())) else { continue };
        let severity = clean(a.severity.as_deref());
        let state = match kind.as_str() {
            "fixed" => "resolved",
            "unfixed" if severity.as_deref() == Some("unimportant") => "unimportant",
            "unfixed" => "open",
            "ignored" | "postponed" | "end-of-life" | "no-dsa" | "not-affected" | "undetermined" => kind.as_str(),
            other => other,
        };
        let reason = if state == "resolved" { clean(a.version.as_deref()) } else { clean(a.description.as_deref()) };
        out.push(TrackerState {
            ecosystem: debian_ecosystem(a.release.as_deref().unwrap_or("sid")),
            package,
            cve: id.to_owned(),
            state: state.to_owned(),
            reason,
            urgency: severity,
            source: String::new(),
        });
    }
}

impl crate::Db {
    /// What the Debian security tracker says about `cve` in source package `package` of the
    /// release with OSV ecosystem `ecosystem` (`Debian:10`), if it was ingested
    /// (`DbBuilder::add_debian_tracker`). A DB built before the table existed answers `None`.
    pub fn debian_tracker(&self, ecosystem: &str, package: &str, cve: &str) -> Result<Option<TrackerState>> {
        use rusqlite::OptionalExtension;
        let mut stmt = match self.conn.prepare_cached(
            "SELECT state, reason, urgency, source FROM debian_tracker WHERE ecosystem = ?1 AND package = ?2 AND cve = ?3",
        ) {
            Ok(s) => s,
            Err(e) if e.to_string().contains("no such table") => return Ok(None),
            Err(e) => return Err(Error::db(&self.path)(e)),
        };
        stmt.query_row(rusqlite::params![crate::ecosystem_key(ecosystem), package.trim(), cve.trim()], |r| {
            Ok(TrackerState {
                ecosystem: ecosystem.trim().to_owned(),
                package: package.trim().to_owned(),
                cve: cve.trim().to_owned(),
                state: r.get(0)?,
                reason: r.get(1)?,
                urgency: r.get(2)?,
                source: r.get(3)?,
            })
        })
        .optional()
        .map_err(Error::db(&self.path))
    }

    /// Whether any active advisory names a package in `ecosystem` (exact, case-insensitive).
    pub fn has_ecosystem(&self, ecosystem: &str) -> Result<bool> {
        use rusqlite::OptionalExtension;
        self.conn
            .prepare_cached("SELECT 1 FROM affected WHERE ecosystem = ?1 LIMIT 1")
            .and_then(|mut s| s.query_row([crate::ecosystem_key(ecosystem)], |_| Ok(())).optional())
            .map(|found| found.is_some())
            .map_err(Error::db(&self.path))
    }
}

impl crate::DbBuilder {
    /// Adds Debian security tracker states from `path`: the tracker's JSON (plain or `.gz`), a
    /// vuln-list-debian per-CVE file, or a directory of `.json` files of either shape. Plain
    /// `resolved` statements are not stored (the OSV records carry the fixed versions); the
    /// rest are, keyed by release ecosystem, source package and CVE (a later file wins).
    /// A single unreadable file aborts the build; in a directory it is skipped with a warning.
    pub fn add_debian_tracker(&mut self, name: &str, path: impl AsRef<std::path::Path>) -> Result<&crate::SourceInfo> {
        use sha2::{Digest, Sha256};
        let path = path.as_ref();
        let location = path.display().to_string();
        let is_dir = std::fs::metadata(path).map_err(Error::io("read", path))?.is_dir();
        let mut files = Vec::new();
        if is_dir {
            crate::build::walk(path, &mut files)?;
            files.retain(|(rel, _)| rel.to_ascii_lowercase().ends_with(".json"));
            files.sort();
        } else {
            files.push((String::new(), path.to_path_buf()));
        }
        let mut parsed = Vec::new();
        let mut warnings = Vec::new();
        let mut listing = Sha256::new();
        let mut single_digest = None;
        let mut invalid = 0u64;
        for (rel, file) in &files {
            let bytes = crate::build::read_limited(file, MAX_TRACKER_BYTES)?;
            let digest = crate::build::sha256_hex(&bytes);
            crate::build::add_to_listing(&mut listing, rel, &digest);
            single_digest = Some(digest);
            match parse_tracker(&bytes) {
                Ok(states) => parsed.extend(states),
                Err(e) if is_dir => {
                    invalid += 1;
                    warnings.push(crate::Warning { location: file.display().to_string(), message: e.to_string() });
                }
                Err(e) => {
                    return Err(Error::Feed {
                        feed: "Debian security tracker",
                        location: location.clone(),
                        message: e.to_string(),
                    });
                }
            }
        }
        let idx = self.begin_source(name, "debian-tracker", &location)?;
        for w in warnings {
            self.push_warning(w);
        }
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        {
            let (conn, temp) = self.connection();
            let mut stmt = conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO debian_tracker (ecosystem, package, cve, state, reason, urgency, source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(Error::db(temp))?;
            for s in parsed.iter().filter(|s| s.state != "resolved") {
                *counts.entry(s.state.clone()).or_default() += 1;
                stmt.execute(rusqlite::params![
                    crate::ecosystem_key(&s.ecosystem),
                    s.package,
                    s.cve,
                    s.state,
                    s.reason,
                    s.urgency,
                    name
                ])
                .map_err(Error::db(temp))?;
            }
        }
        let resolved = parsed.iter().filter(|s| s.state == "resolved").count();
        let src = self.source_mut(idx);
        src.files = files.len() as u64;
        src.records = counts.values().sum();
        src.invalid = invalid;
        src.sha256 = match (is_dir, single_digest) {
            (false, Some(d)) => d,
            _ => format!("sha256:{}", hex::encode(listing.finalize())),
        };
        let states: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        src.detail = Some(format!("states: {}; {resolved} resolved statements not stored", states.join(" ")));
        Ok(self.source_mut(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_shape() {
        let json = br#"{"openssl": {"CVE-2099-1": {"description": "x", "scope": "local",
            "releases": {
              "buster": {"status": "open", "repositories": {"buster": "1.1.1n-0+deb10u3"}, "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
              "bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""},
              "bookworm": {"status": "resolved", "fixed_version": "3.0.13-1~deb12u1", "urgency": "not yet assigned"},
              "stretch": {"status": "open", "urgency": "end-of-life"},
              "trixie": {"status": "open", "urgency": "unimportant"},
              "sid": {"status": "open", "urgency": "low", "nodsa": "", "nodsa_reason": "ignored"}}}}}"#;
        let states = parse_tracker(json).unwrap();
        let by: BTreeMap<&str, &str> = states.iter().map(|s| (s.ecosystem.as_str(), s.state.as_str())).collect();
        assert_eq!(by["Debian:10"], "postponed");
        assert_eq!(by["Debian:11"], "no-dsa");
        assert_eq!(by["Debian:12"], "resolved");
        assert_eq!(by["Debian:9"], "end-of-life");
        assert_eq!(by["Debian:13"], "unimportant");
        assert_eq!(by["Debian:sid"], "ignored");
        let buster = states.iter().find(|s| s.ecosystem == "Debian:10").unwrap();
        assert!(buster.is_wont_fix());
        assert_eq!(buster.reason.as_deref(), Some("Minor issue"));
        assert!(!states.iter().find(|s| s.ecosystem == "Debian:11").unwrap().is_wont_fix());
    }

    #[test]
    fn bad_input() {
        assert!(parse_tracker(b"[1]").is_err());
        assert!(parse_tracker(b"\x1f\x8bnot gzip").is_err());
        assert!(parse_tracker(br#"{"pkg": {"CVE-1": {"releases": 5}}}"#).unwrap().is_empty());
    }
}
