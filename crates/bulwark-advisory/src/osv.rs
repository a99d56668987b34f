//! Lenient OSV records (<https://ossf.github.io/osv-schema/>).
//!
//! The structs accept what real feeds publish rather than what the schema promises: ecosystems
//! and range types are plain strings (a new ecosystem must never break a feed, unlike the
//! closed enum of the `osv` crate), unknown fields are ignored, `null` reads as empty, and a
//! single object where the schema wants a list is read as a one-element list (Debian ELTS
//! `ELA-669-1` publishes `"ranges": {...}`). What cannot be read at all (no `id`, not a
//! mapping, invalid JSON/YAML) is an [`Error::InvalidRecord`].

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

use crate::error::{Error, Result};

/// Records larger than this are rejected before parsing: real OSV records are a few KiB
/// (the largest in osv.dev's Linux feed is under 2 MiB), and the parsers are fed untrusted
/// bytes from downloaded archives.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Record {
    /// The record's own identifier (`GO-2024-2963`, `RUSTSEC-2026-0009`, `ELA-10-1`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// RFC 3339 time of the last change; required by the schema, optional here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was retracted; such records never match a package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// A `severity[]` entry: `type` is `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu`; `score` is the
/// vector (or, for `Ubuntu`, the priority word).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeverityEntry {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub score: String,
}

/// An `affected[]` entry: one package and the versions of it that are affected.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Affected {
    /// Absent for entries that only name a Git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// Per-package severity (schema 1.5+; the Kubernetes feed uses only this).
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions.
    #[serde(default, deserialize_with = "seq", skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// The affected package. `ecosystem` is kept exactly as published (`Debian:10`, `PyPI`,
/// `Ubuntu:Pro:20.04:LTS`, `kubernetes`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Package {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A version range: `type` is `ECOSYSTEM`, `SEMVER` or `GIT` (kept as a string; callers treat
/// other values as ranges they cannot evaluate).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, deserialize_with = "seq")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// One range event. The schema allows exactly one key per event; an event with no known key
/// is kept as [`Event::Unknown`] (with the key) so a matcher can refuse to evaluate the range
/// instead of silently misreading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
    Unknown(String),
}

impl Event {
    /// The version (or commit) the event names; for [`Event::Unknown`], the unknown key.
    pub fn value(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) | Event::Unknown(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event mapping such as {\"fixed\": \"1.2.3\"}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Event, A::Error> {
                let mut found: Option<Event> = None;
                let mut unknown: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let ctor: Option<fn(String) -> Event> = match key.as_str() {
                        "introduced" => Some(Event::Introduced),
                        "fixed" => Some(Event::Fixed),
                        "last_affected" => Some(Event::LastAffected),
                        "limit" => Some(Event::Limit),
                        _ => None,
                    };
                    match ctor {
                        Some(ctor) if found.is_none() => found = Some(ctor(map.next_value::<String>()?)),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            unknown.get_or_insert(key);
                        }
                    }
                }
                Ok(found.unwrap_or_else(|| Event::Unknown(unknown.unwrap_or_default())))
            }
        }
        d.deserialize_map(V)
    }
}

/// A `references[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

/// The serialisation a record was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format a file name implies (`.json`, `.yaml`, `.yml`, case-insensitive), if any.
    pub fn from_path(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }

    /// Sniffs the format: JSON when the first non-blank byte (after an optional UTF-8 BOM)
    /// is `{`, YAML otherwise (YAML is a superset of JSON, so this only picks the faster parser).
    pub fn sniff(bytes: &[u8]) -> Format {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::Json,
            _ => Format::Yaml,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// Parses one OSV record from JSON or YAML bytes (sniffed). Never panics; suitable as a fuzz
/// target.
pub fn parse_record(bytes: &[u8]) -> Result<Record> {
    parse_record_as(bytes, Format::sniff(bytes))
}

/// Parses one OSV record in the given format.
pub fn parse_record_as(bytes: &[u8], format: Format) -> Result<Record> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(invalid(format!("record is {} bytes, over the {MAX_RECORD_BYTES}-byte limit", bytes.len())));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let record: Record = match format {
        Format::Json => serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?,
        Format::Yaml => {
            let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("not UTF-8: {e}")))?;
            serde_saphyr::from_str(text).map_err(|e| invalid(first_line(&e.to_string())))?
        }
    };
    if record.id.trim().is_empty() {
        return Err(invalid("empty id".to_owned()));
    }
    Ok(record)
}

fn invalid(message: String) -> Error {
    Error::InvalidRecord { message }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

/// Accepts `null` (empty), a single mapping or string (one-element list) or a sequence.
///
/// Written as a visitor rather than an untagged enum: an untagged enum buffers the input, and
/// buffered YAML scalars lose their text (`1.10` would be the float 1.1 and then fail as a
/// string), while elements read straight from a sequence are typed by their target.
fn seq<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list, a single item or null")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| vec![t])
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Vec<T>, E> {
            T::deserialize(de::value::StrDeserializer::new(v)).map(|t| vec![t])
        }
        fn visit_none<E: de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> std::result::Result<Vec<T>, D2::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_shapes() {
        let r = parse_record(
            br#"{"id":"X-1","aliases":null,"related":"CVE-9","affected":[{"package":{"ecosystem":"Brand New Eco:7","name":"p"},
            "ranges":{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2"},{"weird":"3"}]},"extra":1}],"unknown_field":{}}"#,
        )
        .unwrap();
        assert_eq!(r.aliases, Vec::<String>::new());
        assert_eq!(r.related, ["CVE-9"]);
        let a = &r.affected[0];
        assert_eq!(a.package.as_ref().unwrap().ecosystem, "Brand New Eco:7");
        assert_eq!(
            a.ranges[0].events,
            vec![Event::Introduced("0".into()), Event::Fixed("2".into()), Event::Unknown("weird".into())]
        );
    }

    #[test]
    fn yaml_and_errors() {
        let r = parse_record(b"id: PYSEC-1\naffected:\n- package: {name: a, ecosystem: PyPI}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: \"1.10\"\n").unwrap();
        assert_eq!(r.affected[0].ranges[0].events[1], Event::Fixed("1.10".into()));
        for bad in [&b""[..], b"{", b"[]", b"{\"id\": \"  \"}", b"id: [", b"\xff\xfe", b"{\"k8s-vulndb\": \"x\"}"] {
            assert!(parse_record(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn yaml_unquoted_versions_stay_text() {
        // A plain YAML scalar is read as the string it spells when the field is a string:
        // `1.10` must not become the float 1.1.
        let r = parse_record(b"id: X\naffected:\n- versions: [1.10, 2]\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - fixed: 1.10\n").unwrap();
        assert_eq!(r.affected[0].versions, ["1.10", "2"]);
        assert_eq!(r.affected[0].ranges[0].events, [Event::Fixed("1.10".into())]);
    }

    #[test]
    fn event_round_trip() {
        let e = vec![Event::Introduced("0".into()), Event::LastAffected("1".into())];
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"[{"introduced":"0"},{"last_affected":"1"}]"#);
        assert_eq!(serde_json::from_str::<Vec<Event>>(&json).unwrap(), e);
    }
}
