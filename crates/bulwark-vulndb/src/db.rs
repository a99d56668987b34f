//! The local advisory DB: one SQLite file, read side.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use bulwark_advisory::{Advisory, ecosystem_key, normalize_name, retain_entry_severities};

use crate::enrich::{EpssScore, KevEntry};
use crate::error::{Error, Result};
use crate::osv::{Affected, Format, Record, parse_record_as};
use crate::pool::{Conn, Pool, content_digest, open_connection};
use crate::severity::{Severity, dedupe};

/// The schema this crate writes and reads. Bump it on any incompatible change; [`Db::open`]
/// refuses other versions (the DB is rebuilt from feeds, never migrated).
pub const SCHEMA_VERSION: u32 = 1;

pub(crate) const SCHEMA: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    files INTEGER NOT NULL,
    records INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    invalid INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    detail TEXT
) WITHOUT ROWID;
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    modified TEXT,
    published TEXT,
    withdrawn TEXT,
    summary TEXT,
    aliases TEXT NOT NULL,
    upstream TEXT NOT NULL,
    related TEXT NOT NULL,
    severity TEXT NOT NULL,
    max_cvss REAL,
    format TEXT NOT NULL,
    raw_sha256 TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE TABLE aliases (
    alias TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (alias, advisory, kind)
) WITHOUT ROWID;
CREATE TABLE affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, advisory, idx)
) WITHOUT ROWID;
CREATE TABLE kev (
    cve TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    source TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE epss (
    cve TEXT PRIMARY KEY,
    epss REAL NOT NULL,
    percentile REAL NOT NULL,
    source TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE nvd_cvss (
    cve TEXT NOT NULL,
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (cve, seq)
) WITHOUT ROWID;
CREATE TABLE debian_tracker (
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL,
    cve TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    urgency TEXT,
    source TEXT NOT NULL,
    PRIMARY KEY (ecosystem, package, cve)
) WITHOUT ROWID;
"#;

/// An in-memory database with this version's schema, to compare a file's tables against.
fn schema_connection() -> Result<Connection> {
    let conn = Connection::open_in_memory().map_err(Error::db(":memory:"))?;
    conn.execute_batch(SCHEMA).map_err(Error::db(":memory:"))?;
    Ok(conn)
}

/// Every table and its columns (name and declared type), sorted by table.
fn table_columns(conn: &Connection) -> rusqlite::Result<std::collections::BTreeMap<String, Vec<String>>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = std::collections::BTreeMap::new();
    for t in tables {
        let cols: Vec<String> = conn
            .prepare("SELECT name || ' ' || type FROM pragma_table_info(?1) ORDER BY cid")?
            .query_map([&t], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        out.insert(t, cols);
    }
    Ok(out)
}

/// The SQLite header's promises a truncated or foreign file breaks, checked without SQLite
/// (which would read a short file's missing pages as absent rows).
fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let corrupt = |message: String| Error::Corrupt { path: path.to_path_buf(), message };
    let mut file = std::fs::File::open(path).map_err(Error::io("open advisory database", path))?;
    let len = file.metadata().map_err(Error::io("read", path))?.len();
    let mut header = [0u8; 100];
    if len < 100 || file.read_exact(&mut header).is_err() {
        return Err(corrupt(format!("not an SQLite database ({len} bytes, shorter than a header)")));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(corrupt("not an SQLite database (no SQLite header)".to_owned()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    let counter = &header[24..28];
    let valid_for = &header[92..96];
    // The page count in the header is valid only when written by a SQLite that keeps it
    // (3.7.0 and later) — then the two counters agree.
    if counter == valid_for && pages > 0 && page_size >= 512 {
        let expected = pages * page_size;
        if len < expected {
            return Err(corrupt(format!(
                "truncated: {len} bytes, its header says {pages} pages of {page_size} bytes ({expected} bytes)"
            )));
        }
    }
    Ok(())
}

/// A KEV entry with the source it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kev {
    pub entry: KevEntry,
    pub source: String,
}

/// An EPSS score with the source it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    pub cve: String,
    pub score: EpssScore,
    pub source: String,
}

/// One input of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    /// `osv`, `kev`, `epss` or `nvd`.
    pub kind: String,
    /// The path (or description) it was read from.
    pub location: String,
    /// `sha256:<hex>` of the file; for a directory, of the sorted list of
    /// `<relative path>\0<sha256 of file>\n` lines.
    pub sha256: String,
    /// Candidate files (or zip entries, or feed rows) read.
    pub files: u64,
    /// Records stored and active (OSV: not withdrawn; KEV/EPSS/NVD: rows).
    pub records: u64,
    pub withdrawn: u64,
    /// Records skipped as unreadable (each with a build warning).
    pub invalid: u64,
    /// Records superseded by a record with the same id and a later `modified`.
    pub duplicates: u64,
    /// Feed-specific facts (KEV catalog version, EPSS model and score date).
    pub detail: Option<String>,
}

/// One ecosystem the database covers (see [`Db::ecosystems`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemInfo {
    /// As published, e.g. `Debian:12`, `PyPI`.
    pub ecosystem: String,
    /// Active advisories naming a package of it.
    pub advisories: u64,
    /// The newest `modified` time among them, as published.
    pub newest_modified: Option<String>,
}

/// What the DB says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub schema_version: u32,
    /// RFC 3339, UTC, seconds. The one timestamp in a DB; not part of the content digest.
    pub built_at: String,
    /// The Bulwark version that built it.
    pub builder: String,
    /// `sha256:<hex>` over the stored content (advisories by id with the digest of each raw
    /// record, KEV, EPSS and NVD rows): two DBs with the same content have the same digest
    /// whenever and wherever they were built.
    pub content_digest: String,
    pub sources: Vec<SourceInfo>,
}

/// An open advisory DB (read-only).
///
/// `Send + Sync`: one handle serves every thread of a process. Lookups borrow a connection
/// from a small pool (one per core, at most 8; see `pool.rs`), so concurrent scans query in
/// parallel rather than queueing behind one lock.
#[derive(Debug)]
pub struct Db {
    pub(crate) pool: Pool,
    pub(crate) path: PathBuf,
}

impl Db {
    /// Opens a DB read-only and checks its schema version.
    ///
    /// Cheap checks run here (it is a file, an SQLite file, no shorter than its header says);
    /// [`Db::verify`] checks everything and is run on every database written or imported.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::open_with_connections(path, Pool::default_max())
    }

    /// [`Db::open`], with at most `max` SQLite connections for concurrent lookups (at least
    /// one; [`Db::open`] allows one per core, at most 8). Connections are opened when
    /// concurrent lookups need them.
    pub fn open_with_connections(path: impl AsRef<Path>, max: usize) -> Result<Db> {
        let path = path.as_ref().to_path_buf();
        if path.is_dir() {
            return Err(Error::IsDirectory { path });
        }
        if !path.is_file() {
            return Err(Error::Io {
                action: "open advisory database",
                path,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        check_header(&path)?;
        let conn = open_connection(&path)?;
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(|e| Error::Db { path: path.clone(), message: format!("not a Bulwark advisory database ({e})") })?;
        let found = found.unwrap_or_default();
        if found != SCHEMA_VERSION.to_string() {
            return Err(Error::SchemaVersion { path, found, expected: SCHEMA_VERSION });
        }
        let digest = content_digest(&conn, &path)?;
        Ok(Db { pool: Pool::new(path.clone(), conn, digest, max), path })
    }

    /// A connection of the pool, for one lookup. Never take a second one while holding one.
    pub(crate) fn conn(&self) -> Conn<'_> {
        self.pool.get()
    }

    /// The file this DB was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the whole database before it is trusted: SQLite's `integrity_check` (every page
    /// and index), the schema (exactly the tables and columns this version writes), and the
    /// content digest recomputed from the stored rows against the one the metadata states.
    /// Reads every page, so it costs about as much as a copy of the file.
    pub fn verify(&self) -> Result<()> {
        let corrupt = |message: String| Error::Corrupt { path: self.path.clone(), message };
        let stated = self.meta_value("content_digest")?.unwrap_or_default();
        let conn = self.conn();
        let problems: Vec<String> = conn
            .prepare("PRAGMA integrity_check(20)")
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
            .map_err(|e| corrupt(format!("integrity check failed: {e}")))?;
        if problems.len() != 1 || problems[0] != "ok" {
            return Err(corrupt(format!("SQLite integrity check: {}", problems.join("; "))));
        }
        let expected = table_columns(&schema_connection()?).map_err(Error::db(&self.path))?;
        let found = table_columns(&conn).map_err(Error::db(&self.path))?;
        if found != expected {
            let names = |m: &std::collections::BTreeMap<String, Vec<String>>| {
                m.iter().map(|(t, c)| format!("{t}({})", c.join(","))).collect::<Vec<_>>().join(" ")
            };
            return Err(corrupt(format!(
                "unexpected tables or columns: found {}, expected {}",
                names(&found),
                names(&expected)
            )));
        }
        let computed = crate::build::content_digest(&conn).map_err(|e| corrupt(e.to_string()))?;
        if stated != computed {
            return Err(corrupt(format!(
                "its content digest is {computed} but its metadata says {}",
                if stated.is_empty() { "nothing" } else { &stated }
            )));
        }
        Ok(())
    }

    /// The active advisories affecting package `name` in OSV ecosystem `ecosystem`, sorted by
    /// id, each with only this package's `affected` entries.
    ///
    /// The ecosystem matches case-insensitively but otherwise exactly, release included:
    /// `Debian:10` finds only `Debian:10` records, never `Debian:11` or a bare `Debian`; the
    /// caller maps a distro release to its OSV ecosystem. The name is normalised with
    /// [`normalize_name`] on both sides. Version matching is the caller's job
    /// (`bulwark-match`).
    pub fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT a.id, a.source, a.modified, a.published, a.withdrawn, a.summary, a.aliases, a.upstream,
                        a.related, a.severity, f.entry, f.idx
                 FROM affected f JOIN advisories a ON a.rowid = f.advisory
                 WHERE f.ecosystem = ?1 AND f.name = ?2
                 ORDER BY f.advisory, f.idx",
            )
            .map_err(Error::db(&self.path))?;
        let mut rows = stmt
            .query(params![ecosystem_key(ecosystem), normalize_name(ecosystem, name)])
            .map_err(Error::db(&self.path))?;
        let mut out: Vec<(Advisory, Vec<usize>)> = Vec::new();
        while let Some(row) = rows.next().map_err(Error::db(&self.path))? {
            let id: String = row.get(0).map_err(Error::db(&self.path))?;
            let entry: String = row.get(10).map_err(Error::db(&self.path))?;
            let idx = usize::try_from(row.get::<_, i64>(11).map_err(Error::db(&self.path))?).unwrap_or(usize::MAX);
            let entry: Affected = self.json(&entry, &id)?;
            if let Some((last, idxs)) = out.last_mut().filter(|(a, _)| a.id == id) {
                last.affected.push(entry);
                idxs.push(idx);
                continue;
            }
            let mut advisory = self.advisory_row(row, id)?;
            advisory.affected.push(entry);
            out.push((advisory, vec![idx]));
        }
        // Rows come in primary-key order (no sort in SQLite); callers get them by id.
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        // Severities stated inside other packages' (other releases') affected entries do not
        // apply to this package.
        Ok(out
            .into_iter()
            .map(|(mut a, idxs)| {
                retain_entry_severities(&mut a.severities, &idxs);
                a
            })
            .collect())
    }

    /// One advisory by id with all its `affected` entries (withdrawn ones included).
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>> {
        let Some(record) = self.record(id)? else { return Ok(None) };
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, source, modified, published, withdrawn, summary, aliases, upstream, related, severity
                 FROM advisories WHERE id = ?1",
            )
            .map_err(Error::db(&self.path))?;
        let mut rows = stmt.query([id]).map_err(Error::db(&self.path))?;
        let Some(row) = rows.next().map_err(Error::db(&self.path))? else { return Ok(None) };
        let mut advisory = self.advisory_row(row, id.to_owned())?;
        advisory.affected = record.affected;
        dedupe(&mut advisory.severities);
        Ok(Some(advisory))
    }

    /// The full record as published (parsed from the stored original bytes).
    pub fn record(&self, id: &str) -> Result<Option<Record>> {
        let Some((format, bytes)) = self.raw_record(id)? else { return Ok(None) };
        Ok(Some(parse_record_as(&bytes, format)?))
    }

    /// The original bytes of a record and their format.
    pub fn raw_record(&self, id: &str) -> Result<Option<(Format, Vec<u8>)>> {
        let conn = self.conn();
        let row: Option<(String, Vec<u8>)> = conn
            .query_row("SELECT format, raw FROM advisories WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(Error::db(&self.path))?;
        let Some((format, compressed)) = row else { return Ok(None) };
        let bytes = zstd::bulk::decompress(&compressed, crate::osv::MAX_RECORD_BYTES)
            .map_err(|e| Error::Db { path: self.path.clone(), message: format!("record {id}: {e}") })?;
        let format = if format == "yaml" { Format::Yaml } else { Format::Json };
        Ok(Some((format, bytes)))
    }

    /// When each source's data was fetched (RFC 3339), by source name: the build time, or
    /// for a source `db update` carried over from the previous database, that database's.
    pub fn fetched_at(&self) -> Result<std::collections::BTreeMap<String, String>> {
        let mut map: std::collections::BTreeMap<String, String> = match self.meta_value(crate::build::FETCHED_KEY)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| Error::Db { path: self.path.clone(), message: format!("corrupt fetch times: {e}") })?,
            None => Default::default(),
        };
        let meta = self.metadata()?;
        for s in meta.sources {
            map.entry(s.name).or_insert_with(|| meta.built_at.clone());
        }
        Ok(map)
    }

    /// Every ecosystem the active advisories name packages in, with how many advisories name
    /// it and the newest `modified` among them, sorted by ecosystem (as published, e.g.
    /// `Debian:12`).
    pub fn ecosystems(&self) -> Result<Vec<EcosystemInfo>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT f.ecosystem, min(json_extract(f.entry, '$.package.ecosystem')), count(DISTINCT f.advisory),
                        max(a.modified)
                 FROM affected f JOIN advisories a ON a.rowid = f.advisory
                 GROUP BY f.ecosystem ORDER BY f.ecosystem",
            )
            .map_err(Error::db(&self.path))?;
        let rows = stmt
            .query_map([], |r| {
                let key: String = r.get(0)?;
                let name: Option<String> = r.get(1)?;
                Ok(EcosystemInfo {
                    ecosystem: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).unwrap_or(key),
                    advisories: r.get::<_, i64>(2)? as u64,
                    newest_modified: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(Error::db(&self.path))?;
        Ok(rows)
    }

    /// A `meta` row other than the ones [`Db::metadata`] reads (e.g. the update state).
    pub(crate) fn meta_value(&self, key: &str) -> Result<Option<String>> {
        let conn = self.conn();
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(Error::db(&self.path))
    }

    /// The id and `modified` time of every record read from `source`.
    pub(crate) fn record_times(&self, source: &str) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        conn.prepare("SELECT id, ifnull(modified, '') FROM advisories WHERE source = ?1")
            .and_then(|mut s| s.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(Error::db(&self.path))
    }

    /// Calls `f` with the id, format and original bytes of every record read from `source`.
    pub(crate) fn for_each_raw_record(
        &self,
        source: &str,
        mut f: impl FnMut(String, Format, Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, format, raw FROM advisories WHERE source = ?1 ORDER BY id")
            .map_err(Error::db(&self.path))?;
        let mut rows = stmt.query([source]).map_err(Error::db(&self.path))?;
        while let Some(row) = rows.next().map_err(Error::db(&self.path))? {
            let (id, format, compressed): (String, String, Vec<u8>) =
                (|| Ok::<_, rusqlite::Error>((row.get(0)?, row.get(1)?, row.get(2)?)))()
                    .map_err(Error::db(&self.path))?;
            let bytes = zstd::bulk::decompress(&compressed, crate::osv::MAX_RECORD_BYTES)
                .map_err(|e| Error::Db { path: self.path.clone(), message: format!("record {id}: {e}") })?;
            let format = if format == "yaml" { Format::Yaml } else { Format::Json };
            f(id, format, bytes)?;
        }
        Ok(())
    }

    /// Ids of the advisories that list `alias` in `aliases`, `upstream` or `related`, sorted.
    pub fn ids_for_alias(&self, alias: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT DISTINCT a.id FROM aliases x JOIN advisories a ON a.rowid = x.advisory
                 WHERE x.alias = ?1 ORDER BY a.id",
            )
            .map_err(Error::db(&self.path))?;
        let ids = stmt
            .query_map([alias], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(Error::db(&self.path))?;
        Ok(ids)
    }

    /// The KEV entry for a CVE, if it is a known exploited vulnerability.
    pub fn kev(&self, cve: &str) -> Result<Option<Kev>> {
        let conn = self.conn();
        let row: Option<(String, String)> = conn
            .prepare_cached("SELECT entry, source FROM kev WHERE cve = ?1")
            .and_then(|mut s| s.query_row([cve], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(Error::db(&self.path))?;
        row.map(|(entry, source)| Ok(Kev { entry: self.json(&entry, cve)?, source })).transpose()
    }

    /// The EPSS score of a CVE.
    pub fn epss(&self, cve: &str) -> Result<Option<Epss>> {
        let conn = self.conn();
        conn.prepare_cached("SELECT epss, percentile, source FROM epss WHERE cve = ?1")
            .and_then(|mut s| {
                s.query_row([cve], |r| {
                    Ok(Epss {
                        cve: cve.to_owned(),
                        score: EpssScore { epss: r.get(0)?, percentile: r.get(1)? },
                        source: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(Error::db(&self.path))
    }

    /// NVD's CVSS metrics for a CVE, as stored (whether or not an advisory used them).
    pub fn nvd_cvss(&self, cve: &str) -> Result<Vec<Severity>> {
        let conn = self.conn();
        let rows: Vec<String> = conn
            .prepare_cached("SELECT severity FROM nvd_cvss WHERE cve = ?1 ORDER BY seq")
            .and_then(|mut s| s.query_map([cve], |r| r.get(0))?.collect())
            .map_err(Error::db(&self.path))?;
        rows.iter().map(|s| self.json(s, cve)).collect()
    }

    /// Schema version, build time, sources and content digest.
    pub fn metadata(&self) -> Result<Metadata> {
        let conn = self.conn();
        let meta = |key: &str| -> Result<String> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(Error::db(&self.path))
                .map(Option::unwrap_or_default)
        };
        let mut stmt = conn
            .prepare(
                "SELECT name, kind, location, sha256, files, records, withdrawn, invalid, duplicates, detail
                 FROM sources ORDER BY name",
            )
            .map_err(Error::db(&self.path))?;
        let sources = stmt
            .query_map([], |r| {
                Ok(SourceInfo {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    location: r.get(2)?,
                    sha256: r.get(3)?,
                    files: r.get::<_, i64>(4)? as u64,
                    records: r.get::<_, i64>(5)? as u64,
                    withdrawn: r.get::<_, i64>(6)? as u64,
                    invalid: r.get::<_, i64>(7)? as u64,
                    duplicates: r.get::<_, i64>(8)? as u64,
                    detail: r.get(9)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(Error::db(&self.path))?;
        Ok(Metadata {
            schema_version: SCHEMA_VERSION,
            built_at: meta("built_at")?,
            builder: meta("builder")?,
            content_digest: meta("content_digest")?,
            sources,
        })
    }

    fn advisory_row(&self, row: &rusqlite::Row<'_>, id: String) -> Result<Advisory> {
        let db = Error::db(&self.path);
        let get = |i: usize| row.get::<_, Option<String>>(i);
        let (source, modified, published, withdrawn, summary, aliases, upstream, related, severity) = (|| {
            Ok::<_, rusqlite::Error>((
                row.get::<_, String>(1)?,
                get(2)?,
                get(3)?,
                get(4)?,
                get(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        })()
        .map_err(db)?;
        Ok(Advisory {
            source,
            modified,
            published,
            withdrawn,
            summary,
            aliases: self.json(&aliases, &id)?,
            upstream: self.json(&upstream, &id)?,
            related: self.json(&related, &id)?,
            severities: self.json(&severity, &id)?,
            affected: Vec::new(),
            id,
        })
    }

    fn json<T: serde::de::DeserializeOwned>(&self, s: &str, key: &str) -> Result<T> {
        serde_json::from_str(s)
            .map_err(|e| Error::Db { path: self.path.clone(), message: format!("corrupt row for {key}: {e}") })
    }
}
