//! The Debian security tracker's per-release states in the DB: reading files (plain or
//! gzip), storing and looking up. The states and the JSON parsing are pure and live in
//! `bulwark_advisory::debian_tracker`, re-exported here.

use std::collections::BTreeMap;
use std::io::Read;

pub use bulwark_advisory::debian_tracker::*;

use crate::error::{Error, Result};

/// The tracker's full JSON is ~60 MB; gzip input is inflated up to this many bytes.
pub const MAX_TRACKER_BYTES: u64 = 1 << 30;

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

/// Parses tracker data (either shape, plain or gzip) into the states worth keeping (see
/// [`parse_tracker_json`]). Never panics.
pub fn parse_tracker(bytes: &[u8]) -> Result<Vec<TrackerState>> {
    let bytes = maybe_gunzip(bytes)?;
    Ok(parse_tracker_json(&bytes)?)
}

impl crate::Db {
    /// What the Debian security tracker says about `cve` in source package `package` of the
    /// release with OSV ecosystem `ecosystem` (`Debian:10`), if it was ingested
    /// (`DbBuilder::add_debian_tracker`). A DB built before the table existed answers `None`.
    pub fn debian_tracker(&self, ecosystem: &str, package: &str, cve: &str) -> Result<Option<TrackerState>> {
        use rusqlite::OptionalExtension;
        let conn = self.conn();
        let mut stmt = match conn.prepare_cached(
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
                state: TrackerStatus::from_word(&r.get::<_, String>(0)?),
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
        let conn = self.conn();
        conn.prepare_cached("SELECT 1 FROM affected WHERE ecosystem = ?1 LIMIT 1")
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
            for s in parsed.iter().filter(|s| s.state != TrackerStatus::Resolved) {
                *counts.entry(s.state.as_str().to_owned()).or_default() += 1;
                stmt.execute(rusqlite::params![
                    crate::ecosystem_key(&s.ecosystem),
                    s.package,
                    s.cve,
                    s.state.as_str(),
                    s.reason,
                    s.urgency,
                    name
                ])
                .map_err(Error::db(temp))?;
            }
        }
        let resolved = parsed.iter().filter(|s| s.state == TrackerStatus::Resolved).count();
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
    fn gzip_input() {
        use std::io::Write;
        let json = br#"{"openssl": {"CVE-2099-1": {"releases": {"buster": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed"}}}}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json).unwrap();
        let states = parse_tracker(&gz.finish().unwrap()).unwrap();
        assert_eq!(states, parse_tracker(json).unwrap());
        assert_eq!(states[0].state, TrackerStatus::Postponed);
        assert!(parse_tracker(b"\x1f\x8bnot gzip").is_err());
    }
}
