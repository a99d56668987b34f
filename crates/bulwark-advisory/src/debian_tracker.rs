//! The Debian security tracker's per-release states: "will not fix" (`ignored`), `postponed`,
//! `unimportant`, `end-of-life`, `no-dsa`, … — what Debian's OSV export does not say.
//!
//! Two input shapes are read (auto-detected):
//!
//! - the tracker's own JSON (`https://security-tracker.debian.org/tracker/data/json`):
//!   `{ "<source package>": { "<CVE>": { "releases": { "<codename>": { "status": "open" |
//!   "resolved" | "undetermined", "urgency": "low" | "unimportant" | "end-of-life" | …,
//!   "nodsa": "…", "nodsa_reason": "ignored" | "postponed" | "" } } } } }`;
//! - per-CVE files parsed from the tracker's `data/CVE/list` as published by
//!   aquasecurity/vuln-list-debian (`{"Header": {"ID": …}, "Annotations": [{"Type": "package",
//!   "Release": "buster", "Package": "openssl", "Kind": "postponed", "Description": …}]}`).
//!   An annotation without `Release` is about unstable.
//!
//! Releases are keyed by their OSV ecosystem (`buster` → `Debian:10`); codenames this module
//! does not know are kept as `Debian:<codename>` (never matched). Reading files and inflating
//! gzip is the database crate's job (`bulwark_vulndb::debian_tracker`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// What the tracker says about a CVE in one release. The stored and serialised form is the
/// word ([`TrackerStatus::as_str`]), as in advisory databases since schema 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", from = "String")]
pub enum TrackerStatus {
    /// `ignored`: Debian will not fix it in this release.
    Ignored,
    /// `postponed`: a fix waits for a later point release or a more important update.
    Postponed,
    /// `unimportant`: not treated as a security issue in Debian.
    Unimportant,
    /// `end-of-life`: the package is no longer supported in this release.
    EndOfLife,
    /// `no-dsa`: minor; fixed, if at all, through a point release.
    NoDsa,
    /// `open`: affected, no fix yet.
    Open,
    /// `resolved`: fixed (the reason holds the fixed version).
    Resolved,
    /// `not-affected`: the release's package does not have the flaw.
    NotAffected,
    /// `undetermined`: not yet triaged.
    Undetermined,
    /// A word this version does not know, kept as published (never read as "will not fix").
    Other(String),
}

impl TrackerStatus {
    /// The tracker's word for the state.
    pub fn as_str(&self) -> &str {
        match self {
            TrackerStatus::Ignored => "ignored",
            TrackerStatus::Postponed => "postponed",
            TrackerStatus::Unimportant => "unimportant",
            TrackerStatus::EndOfLife => "end-of-life",
            TrackerStatus::NoDsa => "no-dsa",
            TrackerStatus::Open => "open",
            TrackerStatus::Resolved => "resolved",
            TrackerStatus::NotAffected => "not-affected",
            TrackerStatus::Undetermined => "undetermined",
            TrackerStatus::Other(word) => word,
        }
    }

    /// The state a word names (exact, as the tracker and the stored form spell it).
    pub fn from_word(word: &str) -> TrackerStatus {
        match word {
            "ignored" => TrackerStatus::Ignored,
            "postponed" => TrackerStatus::Postponed,
            "unimportant" => TrackerStatus::Unimportant,
            "end-of-life" => TrackerStatus::EndOfLife,
            "no-dsa" => TrackerStatus::NoDsa,
            "open" => TrackerStatus::Open,
            "resolved" => TrackerStatus::Resolved,
            "not-affected" => TrackerStatus::NotAffected,
            "undetermined" => TrackerStatus::Undetermined,
            other => TrackerStatus::Other(other.to_owned()),
        }
    }

    /// Whether Debian says this will not be fixed in the release (now): `ignored`,
    /// `postponed`, `unimportant` or `end-of-life`.
    pub fn is_wont_fix(&self) -> bool {
        matches!(
            self,
            TrackerStatus::Ignored | TrackerStatus::Postponed | TrackerStatus::Unimportant | TrackerStatus::EndOfLife
        )
    }
}

impl fmt::Display for TrackerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for TrackerStatus {
    fn from(word: String) -> TrackerStatus {
        TrackerStatus::from_word(&word)
    }
}

impl From<TrackerStatus> for String {
    fn from(status: TrackerStatus) -> String {
        status.as_str().to_owned()
    }
}

/// One statement of the tracker about a CVE in one source package of one release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackerState {
    /// `Debian:10`, …
    pub ecosystem: String,
    /// The source package.
    pub package: String,
    pub cve: String,
    pub state: TrackerStatus,
    /// The tracker's note (`Minor issue, DoS, Low severity`), or the fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The tracker's urgency for the release (`low`, `medium`, `high`, `unimportant`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    /// The name of the source it came from (filled in by the DB).
    #[serde(default)]
    pub source: String,
}

impl TrackerState {
    /// Whether Debian says this will not be fixed in the release (now); see
    /// [`TrackerStatus::is_wont_fix`].
    pub fn is_wont_fix(&self) -> bool {
        self.state.is_wont_fix()
    }

    /// A phrase for an explanation: `Debian security tracker (Debian:10): postponed (Minor issue)`.
    pub fn describe(&self) -> String {
        let what = match &self.state {
            TrackerStatus::Ignored => "will not fix (ignored)",
            other => other.as_str(),
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

/// Parses tracker JSON (either shape, not compressed) into the states worth keeping: those
/// with a state other than a plain `resolved`/`open` without urgency. Never panics.
pub fn parse_tracker_json(bytes: &[u8]) -> Result<Vec<TrackerState>> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
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
        TrackerStatus::Resolved
    } else if reason_word.as_deref() == Some("ignored") {
        TrackerStatus::Ignored
    } else if reason_word.as_deref() == Some("postponed") {
        TrackerStatus::Postponed
    } else if urgency_word.as_deref() == Some("end-of-life") {
        TrackerStatus::EndOfLife
    } else if urgency_word.as_deref() == Some("unimportant") {
        TrackerStatus::Unimportant
    } else if nodsa.is_some() {
        TrackerStatus::NoDsa
    } else if status.is_empty() {
        return;
    } else {
        TrackerStatus::from_word(&status)
    };
    let reason = if state == TrackerStatus::Resolved { clean(r.fixed_version.as_deref()) } else { nodsa };
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
            "fixed" => TrackerStatus::Resolved,
            "unfixed" if severity.as_deref() == Some("unimportant") => TrackerStatus::Unimportant,
            "unfixed" => TrackerStatus::Open,
            other => TrackerStatus::from_word(other),
        };
        let reason = if state == TrackerStatus::Resolved {
            clean(a.version.as_deref())
        } else {
            clean(a.description.as_deref())
        };
        out.push(TrackerState {
            ecosystem: debian_ecosystem(a.release.as_deref().unwrap_or("sid")),
            package,
            cve: id.to_owned(),
            state,
            reason,
            urgency: severity,
            source: String::new(),
        });
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
        let states = parse_tracker_json(json).unwrap();
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
        assert!(parse_tracker_json(b"[1]").is_err());
        assert!(parse_tracker_json(b"\x1f\x8bnot gzip").is_err());
        assert!(parse_tracker_json(br#"{"pkg": {"CVE-1": {"releases": 5}}}"#).unwrap().is_empty());
    }

    #[test]
    fn states_keep_their_stored_words() {
        for word in [
            "ignored",
            "postponed",
            "unimportant",
            "end-of-life",
            "no-dsa",
            "open",
            "resolved",
            "not-affected",
            "undetermined",
            "a-word-from-the-future",
        ] {
            let status = TrackerStatus::from_word(word);
            assert_eq!(status.as_str(), word);
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("{word:?}"));
            assert_eq!(serde_json::from_str::<TrackerStatus>(&format!("{word:?}")).unwrap(), status);
        }
        assert_eq!(
            TrackerStatus::from_word("a-word-from-the-future"),
            TrackerStatus::Other("a-word-from-the-future".into())
        );
        assert!(!TrackerStatus::from_word("a-word-from-the-future").is_wont_fix());
    }
}
