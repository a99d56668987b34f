//! Building the DB: ingest sources into a temp file beside the target, then fsync and rename.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bulwark_fs::AtomicFile;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use crate::db::{Metadata, SCHEMA, SCHEMA_VERSION, SourceInfo};
use crate::enrich::{self, MAX_FEED_BYTES};
use crate::error::{Error, Result};
use crate::osv::{Format, MAX_RECORD_BYTES, parse_record_as};
use crate::severity::severities_of;
use crate::{ecosystem_key, normalize_name};

/// The `meta` key of the per-source fetch times (JSON map of source name to RFC 3339).
pub(crate) const FETCHED_KEY: &str = "source_fetched_at";

/// Something a build skipped, naming where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// A path, or `archive.zip!/entry.json` for a zip entry.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The outcome of [`DbBuilder::finish`].
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub path: PathBuf,
    pub metadata: Metadata,
    pub warnings: Vec<Warning>,
    /// Size of the written file in bytes.
    pub size: u64,
}

struct Existing {
    rowid: i64,
    modified: String,
    source: usize,
    withdrawn: bool,
}

/// Builds a DB file. Sources are ingested as they are added into a temp file in the target's
/// directory; [`DbBuilder::finish`] seals it and atomically replaces the target. Dropping the
/// builder (for example after an error) deletes the temp file and leaves any existing DB
/// untouched.
///
/// Unreadable records are skipped with a [`Warning`]; IO errors, corrupt archives and
/// unreadable enrichment feeds abort (return `Err`).
pub struct DbBuilder {
    target: PathBuf,
    temp: AtomicFile,
    conn: Connection,
    sources: Vec<SourceInfo>,
    ids: HashMap<String, Existing>,
    warnings: Vec<Warning>,
    built_at: SystemTime,
    /// Extra `meta` rows (e.g. the update state of [`crate::update`]).
    extra_meta: Vec<(String, String)>,
    /// When each source's data was fetched, where it was not now (sources an update carried
    /// over from the previous database).
    fetched: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for DbBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbBuilder").field("target", &self.target).field("temp", &self.temp.path()).finish()
    }
}

impl DbBuilder {
    /// Starts a build that will replace `target` when finished.
    pub fn new(target: impl AsRef<Path>) -> Result<DbBuilder> {
        let target = target.as_ref().to_path_buf();
        // Private until it replaces the target, as the databases it replaces were.
        let temp = AtomicFile::create_with_mode(&target, 0o600).map_err(Error::from_fs)?;
        let conn = Connection::open(temp.path()).map_err(Error::db(temp.path()))?;
        // The temp file is private until the rename and is fsynced before it, so SQLite's own
        // journaling would only slow the build down; a crash leaves a temp file, never a bad DB.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA page_size = 4096; BEGIN;",
        )
        .map_err(Error::db(temp.path()))?;
        conn.execute_batch(SCHEMA).map_err(Error::db(temp.path()))?;
        Ok(DbBuilder {
            target,
            temp,
            conn,
            sources: Vec::new(),
            ids: HashMap::new(),
            warnings: Vec::new(),
            built_at: SystemTime::now(),
            extra_meta: Vec::new(),
            fetched: std::collections::BTreeMap::new(),
        })
    }

    /// Sets the build time recorded in the metadata (default: now), e.g. from
    /// `SOURCE_DATE_EPOCH` for reproducible files.
    pub fn built_at(&mut self, time: SystemTime) -> &mut Self {
        self.built_at = time;
        self
    }

    /// Warnings so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Adds OSV records from `path`: a directory (searched recursively for `.json`, `.yaml`
    /// and `.yml` files; names starting with `.` are skipped), a `.zip` archive (osv.dev's
    /// `all.zip`), or a single record file.
    pub fn add_osv(&mut self, name: &str, path: impl AsRef<Path>) -> Result<&SourceInfo> {
        let path = path.as_ref();
        let meta = fs::metadata(path).map_err(Error::io("read", path))?;
        if meta.is_dir() {
            self.add_osv_dir(name, path)
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
            let file = File::open(path).map_err(Error::io("open", path))?;
            self.add_osv_zip(name, &path.display().to_string(), file)
        } else {
            let bytes = read_limited(path, MAX_RECORD_BYTES as u64)?;
            let idx = self.begin_source(name, "osv", &path.display().to_string())?;
            self.sources[idx].sha256 = sha256_hex(&bytes);
            let location = path.display().to_string();
            let format = Format::from_path(&location).unwrap_or_else(|| Format::sniff(&bytes));
            self.ingest(idx, &location, &bytes, format)?;
            Ok(&self.sources[idx])
        }
    }

    fn add_osv_dir(&mut self, name: &str, dir: &Path) -> Result<&SourceInfo> {
        let idx = self.begin_source(name, "osv", &dir.display().to_string())?;
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        let mut listing = Sha256::new();
        for (rel, path) in files {
            let bytes = read_limited(&path, MAX_RECORD_BYTES as u64 + 1)?;
            add_to_listing(&mut listing, &rel, &sha256_hex(&bytes));
            let location = path.display().to_string();
            let format = Format::from_path(&rel).unwrap_or(Format::Json);
            self.ingest(idx, &location, &bytes, format)?;
        }
        self.sources[idx].sha256 = format!("sha256:{}", hex::encode(listing.finalize()));
        Ok(&self.sources[idx])
    }

    /// Adds OSV records from a zip archive read from `reader` (`location` names it in warnings
    /// and metadata). Entries that are not `.json`/`.yaml`/`.yml` files are ignored. A
    /// reader error or an unreadable archive aborts with an error.
    pub fn add_osv_zip<R: Read + Seek>(&mut self, name: &str, location: &str, mut reader: R) -> Result<&SourceInfo> {
        let idx = self.begin_source(name, "osv", location)?;
        let mut hasher = Sha256::new();
        io::copy(&mut reader, &mut hasher).map_err(Error::io("read", location))?;
        self.sources[idx].sha256 = format!("sha256:{}", hex::encode(hasher.finalize()));
        reader.seek(SeekFrom::Start(0)).map_err(Error::io("read", location))?;
        let archive_err =
            |e: zip::result::ZipError| Error::Archive { location: location.to_owned(), message: e.to_string() };
        let mut archive = zip::ZipArchive::new(reader).map_err(archive_err)?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(archive_err)?;
            if !entry.is_file() {
                continue;
            }
            let entry_name = entry.name().map_err(archive_err)?.into_owned();
            let Some(format) = Format::from_path(&entry_name) else { continue };
            let entry_location = format!("{location}!/{entry_name}");
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_RECORD_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::Archive { location: entry_location.clone(), message: e.to_string() })?;
            self.ingest(idx, &entry_location, &bytes, format)?;
        }
        Ok(&self.sources[idx])
    }

    /// Adds CISA's `known_exploited_vulnerabilities.json`.
    pub fn add_kev(&mut self, name: &str, path: impl AsRef<Path>) -> Result<&SourceInfo> {
        let path = path.as_ref();
        let bytes = read_limited(path, MAX_FEED_BYTES)?;
        let location = path.display().to_string();
        let feed = enrich::parse_kev(&bytes).map_err(|message| Error::Feed {
            feed: "KEV",
            location: location.clone(),
            message,
        })?;
        let idx = self.begin_source(name, "kev", &location)?;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO kev (cve, entry, source) VALUES (?1, ?2, ?3)")
            .map_err(Error::db(self.temp.path()))?;
        for entry in &feed.entries {
            let json = serde_json::to_string(entry).expect("KEV entries serialise");
            stmt.execute(params![entry.cve_id, json, name]).map_err(Error::db(self.temp.path()))?;
        }
        drop(stmt);
        let source = &mut self.sources[idx];
        source.sha256 = sha256_hex(&bytes);
        source.files = (feed.entries.len() + feed.skipped) as u64;
        source.records = feed.entries.len() as u64;
        source.invalid = feed.skipped as u64;
        source.detail = Some(format!(
            "catalogVersion={} dateReleased={}",
            feed.catalog_version.as_deref().unwrap_or("?"),
            feed.date_released.as_deref().unwrap_or("?")
        ));
        Ok(&self.sources[idx])
    }

    /// Adds a FIRST EPSS daily CSV (plain or gzip). A later EPSS source replaces earlier
    /// scores for the same CVE.
    pub fn add_epss(&mut self, name: &str, path: impl AsRef<Path>) -> Result<&SourceInfo> {
        let path = path.as_ref();
        let bytes = read_limited(path, MAX_FEED_BYTES)?;
        let location = path.display().to_string();
        let feed = enrich::parse_epss(&bytes).map_err(|message| Error::Feed {
            feed: "EPSS",
            location: location.clone(),
            message,
        })?;
        let idx = self.begin_source(name, "epss", &location)?;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO epss (cve, epss, percentile, source) VALUES (?1, ?2, ?3, ?4)")
            .map_err(Error::db(self.temp.path()))?;
        for (cve, s) in &feed.scores {
            stmt.execute(params![cve, s.epss, s.percentile, name]).map_err(Error::db(self.temp.path()))?;
        }
        drop(stmt);
        let source = &mut self.sources[idx];
        source.sha256 = sha256_hex(&bytes);
        source.files = (feed.scores.len() + feed.skipped) as u64;
        source.records = feed.scores.len() as u64;
        source.invalid = feed.skipped as u64;
        source.detail = Some(format!(
            "model_version={} score_date={}",
            feed.model_version.as_deref().unwrap_or("?"),
            feed.score_date.as_deref().unwrap_or("?")
        ));
        Ok(&self.sources[idx])
    }

    /// Adds NVD 2.0 JSON (a feed/API file or one CVE object per file; a directory is searched
    /// recursively for `.json`). Its CVSS is attached at [`DbBuilder::finish`] to advisories
    /// that have no CVSS of their own, by CVE id or alias.
    pub fn add_nvd(&mut self, name: &str, path: impl AsRef<Path>) -> Result<&SourceInfo> {
        let path = path.as_ref();
        let location = path.display().to_string();
        let mut files = Vec::new();
        if fs::metadata(path).map_err(Error::io("read", path))?.is_dir() {
            walk(path, &mut files)?;
            files.sort();
        } else {
            files.push((String::new(), path.to_path_buf()));
        }
        let idx = self.begin_source(name, "nvd", &location)?;
        let mut listing = Sha256::new();
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO nvd_cvss (cve, seq, severity, source) VALUES (?1, ?2, ?3, ?4)")
            .map_err(Error::db(self.temp.path()))?;
        let (mut records, mut invalid) = (0u64, 0u64);
        for (rel, file) in &files {
            let bytes = read_limited(file, MAX_FEED_BYTES)?;
            add_to_listing(&mut listing, rel, &sha256_hex(&bytes));
            let metrics = match enrich::parse_nvd(&bytes) {
                Ok(m) => m,
                Err(message) => {
                    invalid += 1;
                    self.warnings.push(Warning { location: file.display().to_string(), message });
                    continue;
                }
            };
            let mut seq: HashMap<&str, i64> = HashMap::new();
            for m in &metrics {
                if let (Some(computed), Some(published)) = (m.severity.score, m.published_score)
                    && (computed - published).abs() > 0.05
                {
                    self.warnings.push(Warning {
                        location: file.display().to_string(),
                        message: format!(
                            "{}: computed CVSS {computed} for {} but NVD published {published}",
                            m.cve,
                            m.severity.vector.as_deref().unwrap_or("")
                        ),
                    });
                }
                let n = seq.entry(&m.cve).or_default();
                let json = serde_json::to_string(&m.severity).expect("severities serialise");
                stmt.execute(params![m.cve, *n, json, name]).map_err(Error::db(self.temp.path()))?;
                *n += 1;
                records += 1;
            }
        }
        drop(stmt);
        let digest = if files.len() == 1 && files[0].0.is_empty() {
            sha256_hex(&read_limited(path, MAX_FEED_BYTES)?)
        } else {
            format!("sha256:{}", hex::encode(listing.finalize()))
        };
        let source = &mut self.sources[idx];
        source.sha256 = digest;
        source.files = files.len() as u64;
        source.records = records;
        source.invalid = invalid;
        Ok(&self.sources[idx])
    }

    /// Seals the DB: attaches NVD CVSS where needed, writes metadata, fsyncs and renames the
    /// temp file over the target (atomic on the same filesystem), then fsyncs the directory.
    pub fn finish(self) -> Result<BuildReport> {
        let DbBuilder { target, temp, conn, mut sources, warnings, built_at, mut extra_meta, mut fetched, .. } = self;
        let db = Error::db(temp.path());
        attach_nvd(&conn).map_err(db)?;
        let content_digest = content_digest(&conn).map_err(Error::db(temp.path()))?;
        let built_at = rfc3339(built_at);
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        fetched.retain(|name, _| sources.iter().any(|s| &s.name == name));
        for s in &sources {
            fetched.entry(s.name.clone()).or_insert_with(|| built_at.clone());
        }
        extra_meta.push((FETCHED_KEY.to_owned(), serde_json::to_string(&fetched).expect("strings serialise")));
        {
            let mut stmt = conn
                .prepare(
                    "INSERT INTO sources (name, kind, location, sha256, files, records, withdrawn, invalid, duplicates, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(Error::db(temp.path()))?;
            for s in &sources {
                stmt.execute(params![
                    s.name,
                    s.kind,
                    s.location,
                    s.sha256,
                    s.files as i64,
                    s.records as i64,
                    s.withdrawn as i64,
                    s.invalid as i64,
                    s.duplicates as i64,
                    s.detail
                ])
                .map_err(Error::db(temp.path()))?;
            }
            let builder = format!("bulwark-vulndb {}", env!("CARGO_PKG_VERSION"));
            let mut meta =
                conn.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)").map_err(Error::db(temp.path()))?;
            for (k, v) in [
                ("schema_version", SCHEMA_VERSION.to_string()),
                ("built_at", built_at.clone()),
                ("builder", builder),
                ("content_digest", content_digest.clone()),
            ] {
                meta.execute(params![k, v]).map_err(Error::db(temp.path()))?;
            }
            for (k, v) in &extra_meta {
                meta.execute(params![k, v]).map_err(Error::db(temp.path()))?;
            }
        }
        conn.execute_batch("COMMIT; PRAGMA optimize;").map_err(Error::db(temp.path()))?;
        conn.close().map_err(|(_, e)| Error::db(temp.path())(e))?;
        // Read back what was written before it replaces anything: a bad disk, a full
        // filesystem or a bug here must leave the old database in place.
        crate::Db::open(temp.path())?.verify()?;
        // Fsynced, renamed over the target, the directory fsynced.
        temp.commit().map_err(Error::from_fs)?;
        let size = fs::metadata(&target).map_err(Error::io("read", &target))?.len();
        let builder = format!("bulwark-vulndb {}", env!("CARGO_PKG_VERSION"));
        Ok(BuildReport {
            path: target,
            metadata: Metadata { schema_version: SCHEMA_VERSION, built_at, builder, content_digest, sources },
            warnings,
            size,
        })
    }

    /// Whether a record with this id is already stored with a `modified` at least as late (a
    /// record read later with the same id would be dropped as a duplicate).
    pub(crate) fn supersedes(&self, id: &str, modified: &str) -> bool {
        self.ids.get(id).is_some_and(|e| e.modified.as_str() >= modified)
    }

    /// Records that source `name`'s data was fetched at `time` (RFC 3339), not now.
    pub(crate) fn set_fetched(&mut self, name: &str, time: String) {
        self.fetched.insert(name.to_owned(), time);
    }

    /// Copies the rows `source` contributed to an enrichment `table` (`kev`, `epss`,
    /// `nvd_cvss`, `debian_tracker`) of `old`; returns how many.
    pub(crate) fn copy_rows(&mut self, old: &crate::Db, table: &str, source: &str) -> Result<u64> {
        let columns = match table {
            "kev" => 3,
            "epss" | "nvd_cvss" => 4,
            "debian_tracker" => 7,
            _ => return Ok(0),
        };
        let old_conn = old.conn();
        let mut read =
            old_conn.prepare(&format!("SELECT * FROM {table} WHERE source = ?1")).map_err(Error::db(old.path()))?;
        let placeholders = (1..=columns).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let mut write = self
            .conn
            .prepare(&format!("INSERT OR REPLACE INTO {table} VALUES ({placeholders})"))
            .map_err(Error::db(self.temp.path()))?;
        let mut rows = read.query([source]).map_err(Error::db(old.path()))?;
        let mut n = 0;
        while let Some(row) = rows.next().map_err(Error::db(old.path()))? {
            let values: Vec<rusqlite::types::Value> =
                (0..columns).map(|i| row.get(i)).collect::<rusqlite::Result<_>>().map_err(Error::db(old.path()))?;
            write.execute(rusqlite::params_from_iter(values)).map_err(Error::db(self.temp.path()))?;
            n += 1;
        }
        Ok(n)
    }

    /// Stores an extra `meta` row with the DB (not part of the content digest).
    pub(crate) fn set_meta(&mut self, key: &str, value: String) {
        self.extra_meta.retain(|(k, _)| k != key);
        self.extra_meta.push((key.to_owned(), value));
    }

    /// Adds one OSV record's bytes to a source started with [`DbBuilder::begin_source`]
    /// (incremental updates feed records one by one).
    pub(crate) fn add_osv_record(&mut self, idx: usize, location: &str, bytes: &[u8], format: Format) -> Result<()> {
        self.ingest(idx, location, bytes, format)
    }

    /// The `modified` times of the records a source holds so far (empty strings for none).
    pub(crate) fn modified_times(&self, name: &str) -> impl Iterator<Item = &str> {
        let idx = self.sources.iter().position(|s| s.name == name);
        self.ids.values().filter(move |e| Some(e.source) == idx).map(|e| e.modified.as_str())
    }

    /// A started source, to fill in its counts, digest and detail.
    pub(crate) fn source_mut(&mut self, idx: usize) -> &mut SourceInfo {
        &mut self.sources[idx]
    }

    /// The connection of the DB being built and the temp file's path (for error messages).
    pub(crate) fn connection(&self) -> (&Connection, &Path) {
        (&self.conn, self.temp.path())
    }

    pub(crate) fn push_warning(&mut self, warning: Warning) {
        self.warnings.push(warning);
    }

    /// Records where a source really came from (a download's URL rather than its temp file).
    pub(crate) fn set_source_location(&mut self, name: &str, location: &str) {
        if let Some(s) = self.sources.iter_mut().find(|s| s.name == name) {
            s.location = location.to_owned();
        }
    }

    /// Starts a source of `kind` (`osv`, `kev`, `csaf`, `debian-tracker`, …); returns its index.
    pub(crate) fn begin_source(&mut self, name: &str, kind: &str, location: &str) -> Result<usize> {
        if self.sources.iter().any(|s| s.name == name) {
            return Err(Error::DuplicateSource { name: name.to_owned() });
        }
        self.sources.push(SourceInfo {
            name: name.to_owned(),
            kind: kind.to_owned(),
            location: location.to_owned(),
            sha256: String::new(),
            files: 0,
            records: 0,
            withdrawn: 0,
            invalid: 0,
            duplicates: 0,
            detail: None,
        });
        Ok(self.sources.len() - 1)
    }

    fn ingest(&mut self, idx: usize, location: &str, bytes: &[u8], format: Format) -> Result<()> {
        self.sources[idx].files += 1;
        let record = match parse_record_as(bytes, format) {
            Ok(r) => r,
            Err(e) => {
                self.sources[idx].invalid += 1;
                self.warnings.push(Warning { location: location.to_owned(), message: e.to_string() });
                return Ok(());
            }
        };
        let modified = record.modified.clone().unwrap_or_default();
        let withdrawn = record.withdrawn.is_some();
        if let Some(old) = self.ids.get(&record.id) {
            // The same id from two inputs (or twice in one): the later `modified` wins, as
            // osv.dev resolves it; on a tie the first one read stays. RFC 3339 UTC strings
            // order lexicographically.
            let superseded = if modified > old.modified { old.source } else { idx };
            self.sources[superseded].duplicates += 1;
            self.warnings.push(Warning {
                location: location.to_owned(),
                message: format!("duplicate id {}: keeping the record with the later `modified`", record.id),
            });
            if superseded == idx {
                return Ok(());
            }
            let (rowid, old_source, old_withdrawn) = (old.rowid, old.source, old.withdrawn);
            let s = &mut self.sources[old_source];
            if old_withdrawn {
                s.withdrawn -= 1;
            } else {
                s.records -= 1;
            }
            for sql in [
                "DELETE FROM advisories WHERE rowid = ?1",
                "DELETE FROM aliases WHERE advisory = ?1",
                "DELETE FROM affected WHERE advisory = ?1",
            ] {
                self.conn.execute(sql, [rowid]).map_err(Error::db(self.temp.path()))?;
            }
        }
        let severities = severities_of(&record);
        let max_cvss = severities.iter().filter_map(|s| s.score).reduce(f64::max);
        let compressed = zstd::bulk::compress(bytes, 3).map_err(Error::io("compress", location))?;
        let to_json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
        let db = |e| Error::db(self.temp.path())(e);
        self.conn
            .prepare_cached(
                "INSERT INTO advisories (id, source, modified, published, withdrawn, summary, aliases, upstream, related,
                                         severity, max_cvss, format, raw_sha256, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.id,
                    self.sources[idx].name,
                    record.modified,
                    record.published,
                    record.withdrawn,
                    record.summary,
                    to_json(&record.aliases),
                    to_json(&record.upstream),
                    to_json(&record.related),
                    serde_json::to_string(&severities).expect("severities serialise"),
                    max_cvss,
                    format.as_str(),
                    sha256_hex(bytes),
                    compressed,
                ])
            })
            .map_err(db)?;
        let rowid = self.conn.last_insert_rowid();
        {
            let mut alias = self
                .conn
                .prepare_cached("INSERT OR IGNORE INTO aliases (alias, advisory, kind) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (kind, list) in
                [("alias", &record.aliases), ("upstream", &record.upstream), ("related", &record.related)]
            {
                for a in list {
                    alias.execute(params![a.trim(), rowid, kind]).map_err(db)?;
                }
            }
            // Withdrawn records are kept (so an id lookup can say so) but never indexed by
            // package, so they cannot match.
            if !withdrawn {
                let mut affected = self
                    .conn
                    .prepare_cached(
                        "INSERT INTO affected (ecosystem, name, advisory, idx, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db)?;
                for (i, a) in record.affected.iter().enumerate() {
                    let Some(p) = &a.package else { continue };
                    let name = normalize_name(&p.ecosystem, &p.name);
                    if name.is_empty() || p.ecosystem.trim().is_empty() {
                        continue;
                    }
                    let entry = serde_json::to_string(a).expect("affected entries serialise");
                    affected.execute(params![ecosystem_key(&p.ecosystem), name, rowid, i as i64, entry]).map_err(db)?;
                }
            }
        }
        let s = &mut self.sources[idx];
        if withdrawn {
            s.withdrawn += 1;
        } else {
            s.records += 1;
        }
        self.ids.insert(record.id, Existing { rowid, modified, source: idx, withdrawn });
        Ok(())
    }
}

/// Gives advisories without a scored CVSS of their own NVD's metrics for the first of their
/// id, the CVE embedded in a distro id, aliases and upstream ids that NVD has. `related` ids
/// are not used: they name other vulnerabilities.
fn attach_nvd(conn: &Connection) -> rusqlite::Result<()> {
    let mut find = conn.prepare(
        "SELECT rowid, id, aliases, upstream, severity FROM advisories WHERE max_cvss IS NULL AND withdrawn IS NULL",
    )?;
    let mut nvd = conn.prepare("SELECT severity FROM nvd_cvss WHERE cve = ?1 ORDER BY seq")?;
    let mut update = conn.prepare("UPDATE advisories SET severity = ?1, max_cvss = ?2 WHERE rowid = ?3")?;
    let candidates: Vec<(i64, String, String, String, String)> = find
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    for (rowid, id, aliases, upstream, severity) in candidates {
        // Distro records keyed by CVE (`UBUNTU-CVE-2024-3094`, `DEBIAN-CVE-…`) name it in their id.
        let embedded = id.find("-CVE-").map(|i| id[i + 1..].to_owned());
        let mut ids = vec![id];
        ids.extend(embedded);
        ids.extend(serde_json::from_str::<Vec<String>>(&aliases).unwrap_or_default());
        ids.extend(serde_json::from_str::<Vec<String>>(&upstream).unwrap_or_default());
        for cve in ids.iter().filter(|i| i.starts_with("CVE-")) {
            let extra: Vec<String> = nvd.query_map([cve], |r| r.get(0))?.collect::<Result<_, _>>()?;
            if extra.is_empty() {
                continue;
            }
            let mut all: Vec<crate::severity::Severity> = serde_json::from_str(&severity).unwrap_or_default();
            all.extend(extra.iter().filter_map(|s| serde_json::from_str(s).ok()));
            let max = all.iter().filter_map(|s| s.score).reduce(f64::max);
            update.execute(params![serde_json::to_string(&all).expect("severities serialise"), max, rowid])?;
            break;
        }
    }
    Ok(())
}

/// The digest of the stored content (see [`Metadata::content_digest`]).
pub(crate) fn content_digest(conn: &Connection) -> rusqlite::Result<String> {
    let mut h = Sha256::new();
    for (sql, tag) in [
        ("SELECT id, raw_sha256 || ' ' || severity FROM advisories ORDER BY id", "advisory"),
        ("SELECT cve, entry FROM kev ORDER BY cve", "kev"),
        ("SELECT cve, epss || ' ' || percentile FROM epss ORDER BY cve", "epss"),
        ("SELECT cve || ' ' || seq, severity FROM nvd_cvss ORDER BY cve, seq", "nvd"),
        (
            "SELECT ecosystem || ' ' || package || ' ' || cve, state || ' ' || ifnull(reason, '') || ' ' || ifnull(urgency, '')
             FROM debian_tracker ORDER BY ecosystem, package, cve",
            "debian-tracker",
        ),
    ] {
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (k, v): (String, String) = (r.get(0)?, r.get(1)?);
            for part in [tag, "\t", &k, "\t", &v, "\n"] {
                h.update(part.as_bytes());
            }
        }
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

pub(crate) fn walk(dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
        for entry in fs::read_dir(dir).map_err(Error::io("read directory", dir))? {
            let entry = entry.map_err(Error::io("read directory", dir))?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let ft = entry.file_type().map_err(Error::io("read", &path))?;
            if ft.is_dir() {
                go(root, &path, out)?;
            } else if (ft.is_file() || ft.is_symlink()) && Format::from_path(&name.to_string_lossy()).is_some() {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push((rel, path));
            }
        }
        Ok(())
    }
    go(dir, dir, out)
}

pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(Error::io("open", path))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(Error::io("read", path))?;
    if bytes.len() as u64 > limit {
        return Err(Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidData, format!("file is over the {limit}-byte limit")),
        });
    }
    Ok(bytes)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Adds one file of a directory source to the source's digest: `rel \0 sha256 \n`, in
/// walk order, so that renaming, adding or changing any file changes the digest.
pub(crate) fn add_to_listing(listing: &mut Sha256, rel: &str, file_sha256: &str) {
    listing.update(rel.as_bytes());
    listing.update(b"\0");
    listing.update(file_sha256.as_bytes());
    listing.update(b"\n");
}

/// RFC 3339 UTC with whole seconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    bulwark_core::time::format_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_756_166_659)), "2025-08-26T00:04:19Z");
    }
}
