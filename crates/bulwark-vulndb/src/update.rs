//! `bulwark db update`: downloads the public feeds and rebuilds the DB from them.
//!
//! For each ecosystem, osv.dev publishes `<base>/<ecosystem>/all.zip` (the ecosystem
//! URL-encoded as one path segment, e.g. `Debian%3A12`), `<base>/<ecosystem>/<id>.json` for
//! every record, and `<base>/<ecosystem>/modified_id.csv`: one `<RFC 3339 modified>,<id>` line
//! per record, newest first. The DB remembers per ecosystem the latest `modified` time it holds
//! (the watermark, see [`EcosystemState`]); an update then fetches only `modified_id.csv` and the
//! records newer than the watermark, and rebuilds the DB from the old DB's stored records plus
//! those. It falls back to `all.zip` when there is no previous state, the CSV is missing or
//! unreadable, a listed record cannot be fetched, or more than [`UpdateOptions::max_incremental`]
//! records changed.
//!
//! An update adds to the database, it never silently drops: every source of the previous
//! database that the update does not download (ecosystems not named, `db build` sources) is
//! carried over with its records and its fetch time, and so is any source whose download
//! fails (reported in [`UpdateReport::failed`]).
//!
//! CISA KEV (JSON) and FIRST EPSS (CSV or CSV.gz) are single files, downloaded whole each time.
//! Every download goes into a temp file beside the target (bounded by
//! [`UpdateOptions::max_download_bytes`]), with retries on connection errors, stalls, 5xx and
//! 429, and resumption by `Range` when a connection drops mid-body and the server answers `206`.
//! A response that sends no byte for [`UpdateOptions::stall_timeout`] counts as dropped.
//! The new DB is built with [`DbBuilder`], verified and swapped in atomically; when every
//! download failed, or on any other error, the existing DB stays untouched (byte for byte)
//! and the temp files are removed.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bulwark_core::time::instant as parse_time;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::build::{BuildReport, DbBuilder, Warning, rfc3339};
use crate::db::{Db, SourceInfo};
use crate::error::{DownloadFailure, Error, Result};
use crate::osv::{Format, MAX_RECORD_BYTES};

/// osv.dev's public bucket.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's Known Exploited Vulnerabilities catalog.
pub const DEFAULT_KEV_URL: &str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's current EPSS scores.
pub const DEFAULT_EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
/// Default bound on one download: 2 GiB.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 2 << 30;
/// Default for [`UpdateOptions::stall_timeout`].
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`UpdateOptions::max_incremental`]: past this many changed records one
/// `all.zip` is cheaper than as many single requests.
pub const DEFAULT_MAX_INCREMENTAL: usize = 1000;
/// The `meta` key holding the per-ecosystem [`EcosystemState`] map as JSON.
const STATE_KEY: &str = "osv_update_state";

/// What [`update`] downloads and how.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Base URL of an osv.dev-layout mirror (no trailing `/` needed).
    pub osv_base: String,
    /// OSV ecosystem names, e.g. `PyPI`, `Go`, `Debian:12`.
    pub ecosystems: Vec<String>,
    /// CISA KEV JSON, if wanted.
    pub kev_url: Option<String>,
    /// FIRST EPSS CSV or CSV.gz, if wanted.
    pub epss_url: Option<String>,
    /// Largest accepted size of one download.
    pub max_download_bytes: u64,
    /// Retries after the first attempt (connection errors, stalls, dropped bodies, 5xx, 429).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
    /// Connect / response-header timeout of each request.
    pub timeout: Duration,
    /// An attempt fails when no byte arrives for this long (headers or body).
    pub stall_timeout: Duration,
    /// Download `all.zip` instead when more records than this changed.
    pub max_incremental: usize,
    /// Always download `all.zip`, even when an incremental update is possible.
    pub force_full: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            osv_base: DEFAULT_OSV_BASE.to_owned(),
            ecosystems: Vec::new(),
            kev_url: Some(DEFAULT_KEV_URL.to_owned()),
            epss_url: Some(DEFAULT_EPSS_URL.to_owned()),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            retries: 3,
            retry_backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            max_incremental: DEFAULT_MAX_INCREMENTAL,
            force_full: false,
        }
    }
}

/// What a DB remembers about the last update of one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemState {
    /// The latest `modified` time of the ecosystem's records, as published (RFC 3339);
    /// `None` when no record had a readable one (the next update is then a full one).
    pub watermark: Option<String>,
    /// When `all.zip` was last downloaded (RFC 3339, UTC).
    pub last_full: String,
    /// When the last incremental update was made, if one was made since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_incremental: Option<String>,
}

/// The update state stored in `db`, by ecosystem (empty for a DB made by `db build`).
pub fn state(db: &Db) -> Result<BTreeMap<String, EcosystemState>> {
    let Some(json) = db.meta_value(STATE_KEY)? else { return Ok(BTreeMap::new()) };
    serde_json::from_str(&json)
        .map_err(|e| Error::Db { path: db.path().to_path_buf(), message: format!("corrupt update state: {e}") })
}

/// How one ecosystem was brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// `all.zip` was downloaded.
    Full,
    /// `modified_id.csv` and the changed records were downloaded.
    Incremental,
}

/// What [`update`] did for one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcosystemUpdate {
    pub ecosystem: String,
    pub kind: UpdateKind,
    /// Why `all.zip` was downloaded (`None` for incremental updates).
    pub reason: Option<String>,
    /// Records downloaded: the record files of `all.zip`, or the changed records.
    pub downloaded: u64,
    /// The watermark stored for the next update.
    pub watermark: Option<String>,
}

/// The outcome of [`update`].
#[derive(Debug, Clone)]
pub struct UpdateReport {
    pub build: BuildReport,
    /// One entry per requested ecosystem that was updated, in the order given.
    pub ecosystems: Vec<EcosystemUpdate>,
    /// Sources of the previous database kept as they were (not requested, or failed).
    pub carried: Vec<String>,
    /// Sources whose download (or feed) failed, with the error, sorted; each kept its
    /// previous data if the previous database had it.
    pub failed: Vec<(String, String)>,
}

/// The URL of osv.dev's `all.zip` for `ecosystem` under `base`.
pub fn osv_zip_url(base: &str, ecosystem: &str) -> String {
    format!("{}/{}/all.zip", base.trim_end_matches('/'), bulwark_core::percent_encode(ecosystem))
}

/// The URL of osv.dev's `modified_id.csv` for `ecosystem` under `base`.
pub fn osv_modified_url(base: &str, ecosystem: &str) -> String {
    format!("{}/{}/modified_id.csv", base.trim_end_matches('/'), bulwark_core::percent_encode(ecosystem))
}

/// The URL of one record of `ecosystem` under `base`.
pub fn osv_record_url(base: &str, ecosystem: &str, id: &str) -> String {
    format!(
        "{}/{}/{}.json",
        base.trim_end_matches('/'),
        bulwark_core::percent_encode(ecosystem),
        bulwark_core::percent_encode(id)
    )
}

/// The source name an ecosystem's OSV archive gets in the DB metadata (`osv:<ecosystem>`).
pub fn osv_source_name(ecosystem: &str) -> String {
    format!("osv:{ecosystem}")
}

/// Source name of the KEV feed in the DB metadata.
pub const KEV_SOURCE_NAME: &str = "cisa-kev";
/// Source name of the EPSS feed in the DB metadata.
pub const EPSS_SOURCE_NAME: &str = "first-epss";

/// A parsed `modified_id.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifiedList {
    /// `(modified, id)` in file order.
    pub entries: Vec<(String, String)>,
    /// Lines that were not `<RFC 3339 time>,<id>` (a header, garbage), skipped.
    pub invalid: usize,
}

/// Longest id accepted from `modified_id.csv` (real ids are under 60 characters).
const MAX_ID_LEN: usize = 256;

/// Parses osv.dev's `modified_id.csv` (`<RFC 3339 modified>,<id>` per line, LF or CRLF).
/// Lenient: lines whose time does not parse or whose id is empty, too long or contains a
/// control character, `/` or `,` are counted in [`ModifiedList::invalid`].
pub fn parse_modified_csv(bytes: &[u8]) -> ModifiedList {
    let mut out = ModifiedList::default();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = std::str::from_utf8(line).ok().and_then(|l| {
            let (time, id) = l.split_once(',')?;
            let (time, id) = (time.trim(), id.trim());
            let id_ok =
                !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(|c| c.is_control() || c == '/' || c == ',');
            (id_ok && parse_time(time).is_some()).then(|| (time.to_owned(), id.to_owned()))
        });
        match parsed {
            Some(entry) => out.entries.push(entry),
            None => out.invalid += 1,
        }
    }
    out
}

/// The latest of `times` by instant (unparseable ones ignored), as written.
fn latest<'a>(times: impl IntoIterator<Item = &'a str>) -> Option<String> {
    times.into_iter().filter_map(|t| Some((parse_time(t)?, t))).max_by_key(|(k, _)| *k).map(|(_, t)| t.to_owned())
}

/// The plan for one ecosystem, with its downloads done.
enum Plan {
    Full { file: NamedTempFile, url: String, reason: String },
    Incremental { csv_url: String, changed: Vec<(String, String, Vec<u8>)>, watermark: Option<String> },
}

/// Downloads the feeds of `opts` and replaces the DB at `target` with one built from them,
/// incrementally where the previous DB's state allows (see the module docs).
///
/// An update adds, it never silently drops: every source of the previous database that this
/// update does not download (other ecosystems, `db build` sources such as CSAF, NVD or the
/// Debian tracker, KEV and EPSS when not requested) is carried over with its records and its
/// fetch time. A source whose download fails keeps its previous data and is named in
/// [`UpdateReport::failed`]; the others are still updated. Only when every requested download
/// failed is it an error. Either way the file on disk is replaced atomically or not at all.
pub fn update(target: &Path, opts: &UpdateOptions) -> Result<UpdateReport> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let agent = agent(opts);

    // An old DB that does not open (other schema, corrupt) just means a full update with
    // nothing to carry over.
    let old = if target.is_file() { Db::open(target).ok() } else { None };
    let prev_state = old.as_ref().and_then(|db| state(db).ok()).unwrap_or_default();
    let old_meta = old.as_ref().and_then(|db| db.metadata().ok());
    let old_sources: Vec<SourceInfo> = old_meta.as_ref().map(|m| m.sources.clone()).unwrap_or_default();
    let old_fetched = old.as_ref().and_then(|db| db.fetched_at().ok()).unwrap_or_default();
    let has_old = |name: &str| old_sources.iter().any(|s| s.name == name);

    let mut failed: Vec<(String, String)> = Vec::new();
    // The first failure, typed, for the error when every download failed.
    let mut first_error: Option<Error> = None;
    let mut attempted = 0usize;
    let mut plans = Vec::new();
    for eco in &opts.ecosystems {
        attempted += 1;
        let name = osv_source_name(eco);
        let prev = prev_state.get(eco).filter(|_| has_old(&name));
        match plan(&agent, eco, old.is_some(), prev, &dir, opts) {
            Ok(p) => plans.push((eco, Some(p))),
            Err(e) => {
                failed.push((name, e.to_string()));
                first_error.get_or_insert(e);
                plans.push((eco, None));
            }
        }
    }
    let mut fetch_feed = |url: &Option<String>, suffix: &str, name: &str| match url {
        Some(url) => {
            attempted += 1;
            match download(&agent, url, &dir, suffix, opts) {
                Ok(f) => Some((f, url.clone())),
                Err(e) => {
                    failed.push((name.to_owned(), e.to_string()));
                    first_error.get_or_insert(e);
                    None
                }
            }
        }
        None => None,
    };
    let kev = fetch_feed(&opts.kev_url, ".json", KEV_SOURCE_NAME);
    let epss_suffix = if opts.epss_url.as_deref().is_some_and(|u| u.ends_with(".gz")) { ".csv.gz" } else { ".csv" };
    let epss = fetch_feed(&opts.epss_url, epss_suffix, EPSS_SOURCE_NAME);
    if attempted > 0
        && failed.len() == attempted
        && let Some(first) = first_error
    {
        let (name, _) = failed.swap_remove(0);
        return Err(Error::EveryDownloadFailed { path: target.to_path_buf(), name, first: Box::new(first) });
    }

    let now = rfc3339(SystemTime::now());
    let mut builder = DbBuilder::new(target)?;
    let mut new_state = BTreeMap::new();
    let mut done = Vec::new();
    let mut fresh: BTreeSet<String> = BTreeSet::new();
    for (eco, plan) in plans {
        let name = osv_source_name(eco);
        let Some(plan) = plan else { continue };
        fresh.insert(name.clone());
        let entry = match plan {
            Plan::Full { mut file, url, reason } => {
                let reader = file.as_file_mut();
                reader.seek(SeekFrom::Start(0)).map_err(Error::io("read", file_path(&url)))?;
                let downloaded = builder.add_osv_zip(&name, &url, &*reader)?.files;
                let watermark = latest(builder.modified_times(&name));
                new_state.insert(
                    eco.clone(),
                    EcosystemState { watermark: watermark.clone(), last_full: now.clone(), last_incremental: None },
                );
                EcosystemUpdate {
                    ecosystem: eco.clone(),
                    kind: UpdateKind::Full,
                    reason: Some(reason),
                    downloaded,
                    watermark,
                }
            }
            Plan::Incremental { csv_url, changed, watermark } => {
                let old = old.as_ref().expect("incremental updates need the old DB");
                apply_incremental(&mut builder, old, target, &name, &csv_url, &changed)?;
                let prev = &prev_state[eco];
                new_state.insert(
                    eco.clone(),
                    EcosystemState {
                        watermark: watermark.clone(),
                        last_full: prev.last_full.clone(),
                        last_incremental: Some(now.clone()),
                    },
                );
                EcosystemUpdate {
                    ecosystem: eco.clone(),
                    kind: UpdateKind::Incremental,
                    reason: None,
                    downloaded: changed.len() as u64,
                    watermark,
                }
            }
        };
        done.push(entry);
    }
    // A feed that downloads but does not parse counts as failed, like one that did not download.
    let feeds: [(&str, _, AddFeed); 2] = [
        (KEV_SOURCE_NAME, &kev, |b, n, p| b.add_kev(n, p).map(drop)),
        (EPSS_SOURCE_NAME, &epss, |b, n, p| b.add_epss(n, p).map(drop)),
    ];
    for (name, feed, add) in feeds {
        let Some((file, url)) = feed else { continue };
        match add(&mut builder, name, file.path()) {
            Ok(()) => {
                builder.set_source_location(name, url);
                fresh.insert(name.to_owned());
            }
            Err(e) => failed.push((name.to_owned(), relocate(e, file.path(), url).to_string())),
        }
    }
    // Everything else the previous database held stays, with its fetch time.
    let carried = match &old {
        Some(old) => carry_over(&mut builder, old, target, &old_sources, &old_fetched, &fresh)?,
        None => Vec::new(),
    };
    // Carried ecosystems keep their update state, so their next update can be incremental.
    for (eco, st) in &prev_state {
        if carried.contains(&osv_source_name(eco)) {
            new_state.entry(eco.clone()).or_insert_with(|| st.clone());
        }
    }
    builder.set_meta(STATE_KEY, serde_json::to_string(&new_state).expect("state serialises"));
    drop(old);
    failed.sort();
    Ok(UpdateReport { build: builder.finish()?, ecosystems: done, carried, failed })
}

/// The plan for one ecosystem, with its downloads done: incremental when the previous
/// database has this ecosystem's update state, else a full download (with the reason).
fn plan(
    agent: &ureq::Agent,
    eco: &str,
    have_old: bool,
    prev: Option<&EcosystemState>,
    dir: &Path,
    opts: &UpdateOptions,
) -> Result<Plan> {
    let reason = if opts.force_full {
        Err("full download requested".to_owned())
    } else if !have_old {
        Err("no previous database".to_owned())
    } else if let Some(watermark) = prev.and_then(|p| p.watermark.as_deref()) {
        plan_incremental(agent, eco, watermark, dir, opts)?
    } else {
        Err("no previous update state".to_owned())
    };
    Ok(match reason {
        Ok(plan) => plan,
        Err(reason) => {
            let url = osv_zip_url(&opts.osv_base, eco);
            Plan::Full { file: download(agent, &url, dir, ".zip", opts)?, url, reason }
        }
    })
}

/// Adds a downloaded KEV or EPSS file to the build under a source name.
type AddFeed = fn(&mut DbBuilder, &str, &Path) -> Result<()>;

/// The HTTP agent of one update: `timeout` to connect and for a response, `stall_timeout`
/// between two reads of a body.
fn agent(opts: &UpdateOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        // ureq 3 restarts this timer on every transport read: a stall watchdog, not a total.
        .timeout_per_read(Some(opts.stall_timeout))
        .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// An incremental update of source `name`: every record of the previous database that did
/// not change, then the changed ones as downloaded; the source's digest is over the sorted
/// `(id, record digest)` listing, as a full download's would be.
fn apply_incremental(
    builder: &mut DbBuilder,
    old: &Db,
    target: &Path,
    name: &str,
    csv_url: &str,
    changed: &[(String, String, Vec<u8>)],
) -> Result<()> {
    let idx = builder.begin_source(name, "osv", csv_url)?;
    let changed_ids: HashSet<&str> = changed.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut listing: Vec<(String, String)> = Vec::new();
    let old_location = target.display().to_string();
    old.for_each_raw_record(name, |id, format, bytes| {
        if changed_ids.contains(id.as_str()) {
            return Ok(());
        }
        builder.add_osv_record(idx, &format!("{old_location}!/{id}"), &bytes, format)?;
        listing.push((id, hex::encode(Sha256::digest(&bytes))));
        Ok(())
    })?;
    for (id, url, bytes) in changed {
        builder.add_osv_record(idx, url, bytes, Format::Json)?;
        listing.push((id.clone(), hex::encode(Sha256::digest(bytes))));
    }
    listing.sort();
    let mut h = Sha256::new();
    for (id, digest) in &listing {
        h.update(format!("{id}\0sha256:{digest}\n").as_bytes());
    }
    builder.source_mut(idx).sha256 = format!("sha256:{}", hex::encode(h.finalize()));
    Ok(())
}

/// Carries every source of the previous database that this update did not download
/// (`fresh`) into the new one, with its fetch time; returns the names carried. A source that
/// cannot be carried is a warning in the build report.
fn carry_over(
    builder: &mut DbBuilder,
    old: &Db,
    target: &Path,
    old_sources: &[SourceInfo],
    old_fetched: &BTreeMap<String, String>,
    fresh: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let mut carried = Vec::new();
    for source in old_sources.iter().filter(|s| !fresh.contains(&s.name)) {
        // A source whose every record came again with this update (the same advisory
        // published under another ecosystem, say) has nothing left to carry.
        if matches!(source.kind.as_str(), "osv" | "csaf") {
            let times = old.record_times(&source.name)?;
            if !times.is_empty() && times.iter().all(|(id, m)| builder.supersedes(id, m)) {
                continue;
            }
        }
        if carry(builder, old, source)? {
            if let Some(t) = old_fetched.get(&source.name) {
                builder.set_fetched(&source.name, t.clone());
            }
            carried.push(source.name.clone());
        } else {
            builder.push_warning(Warning {
                location: target.display().to_string(),
                message: format!(
                    "source {} ({}) of the previous database could not be carried over; add it again with `bulwark db build`",
                    source.name, source.kind
                ),
            });
        }
    }
    Ok(carried)
}

/// Copies one source of the previous database into the new one; `false` for a kind this
/// version does not know how to copy.
fn carry(builder: &mut DbBuilder, old: &Db, source: &SourceInfo) -> Result<bool> {
    let table = match source.kind.as_str() {
        "osv" | "csaf" => None,
        "kev" => Some("kev"),
        "epss" => Some("epss"),
        "nvd" => Some("nvd_cvss"),
        "debian-tracker" => Some("debian_tracker"),
        _ => return Ok(false),
    };
    let idx = builder.begin_source(&source.name, &source.kind, &source.location)?;
    match table {
        None => {
            let location = old.path().display().to_string();
            old.for_each_raw_record(&source.name, |id, format, bytes| {
                builder.add_osv_record(idx, &format!("{location}!/{id}"), &bytes, format)
            })?;
        }
        Some(table) => {
            builder.copy_rows(old, table, &source.name)?;
            let s = builder.source_mut(idx);
            s.files = source.files;
            s.records = source.records;
            s.invalid = source.invalid;
        }
    }
    let s = builder.source_mut(idx);
    s.sha256 = source.sha256.clone();
    s.detail = source.detail.clone();
    Ok(true)
}

/// Fetches `modified_id.csv` and the records changed since `watermark`. `Ok(Err(reason))`
/// when `all.zip` should be downloaded instead; `Err` for a download that failed outright.
fn plan_incremental(
    agent: &ureq::Agent,
    eco: &str,
    watermark: &str,
    dir: &Path,
    opts: &UpdateOptions,
) -> Result<std::result::Result<Plan, String>> {
    let Some(mark) = parse_time(watermark) else {
        return Ok(Err(format!("unreadable stored watermark {watermark:?}")));
    };
    let csv_url = osv_modified_url(&opts.osv_base, eco);
    let csv = match try_download(agent, &csv_url, dir, ".csv", opts, opts.max_download_bytes)? {
        Ok(mut file) => {
            let mut bytes = Vec::new();
            file.as_file_mut().read_to_end(&mut bytes).map_err(Error::io("read", file.path()))?;
            bytes
        }
        Err(status) => return Ok(Err(format!("no modified_id.csv (server answered {status})"))),
    };
    let list = parse_modified_csv(&csv);
    if list.entries.is_empty() && list.invalid > 0 {
        return Ok(Err("unreadable modified_id.csv".to_owned()));
    }
    // The newest time per id, for the ids changed after the watermark.
    let mut changed: BTreeMap<&str, ((i64, u32), &str)> = BTreeMap::new();
    for (time, id) in &list.entries {
        let t = parse_time(time).expect("parse_modified_csv checked the time");
        if t > mark && changed.get(id.as_str()).is_none_or(|(old, _)| t > *old) {
            changed.insert(id, (t, time));
        }
    }
    if changed.len() > opts.max_incremental {
        return Ok(Err(format!("{} records changed (more than {})", changed.len(), opts.max_incremental)));
    }
    let mut records = Vec::with_capacity(changed.len());
    for id in changed.keys() {
        let url = osv_record_url(&opts.osv_base, eco, id);
        let max = opts.max_download_bytes.min(MAX_RECORD_BYTES as u64);
        match try_download(agent, &url, dir, ".json", opts, max)? {
            Ok(mut file) => {
                let mut bytes = Vec::new();
                file.as_file_mut().read_to_end(&mut bytes).map_err(Error::io("read", file.path()))?;
                records.push(((*id).to_owned(), url, bytes));
            }
            Err(status) => return Ok(Err(format!("record {id} is not available (server answered {status})"))),
        }
    }
    let watermark = latest(list.entries.iter().map(|(t, _)| t.as_str()).chain([watermark]));
    Ok(Ok(Plan::Incremental { csv_url, changed: records, watermark }))
}

/// A URL where an error wants a path.
fn file_path(url: &str) -> PathBuf {
    PathBuf::from(url)
}

/// Names the URL instead of the temp file in a feed error.
fn relocate(e: Error, temp: &Path, url: &str) -> Error {
    match e {
        Error::Feed { feed, location, message } if Path::new(&location) == temp => {
            Error::Feed { feed, location: url.to_owned(), message }
        }
        other => other,
    }
}

fn download_error(url: &str, failure: DownloadFailure, attempts: u32) -> Error {
    Error::Download { url: url.to_owned(), failure, attempts }
}

fn status_failure(status: ureq::http::StatusCode) -> DownloadFailure {
    DownloadFailure::Status { status: status.as_u16(), text: status.to_string() }
}

/// Why one attempt failed, and whether another is worth it.
enum Failure {
    Retry(DownloadFailure),
    Fatal(DownloadFailure),
    /// The server answered this client-error status (not 429): the file is not there for us.
    Status(ureq::http::StatusCode),
}

/// Downloads `url` into a new temp file in `dir`.
fn download(agent: &ureq::Agent, url: &str, dir: &Path, suffix: &str, opts: &UpdateOptions) -> Result<NamedTempFile> {
    try_download(agent, url, dir, suffix, opts, opts.max_download_bytes)?
        .map_err(|status| download_error(url, status_failure(status), 0))
}

/// Downloads `url` (at most `max` bytes) into a new temp file in `dir`, rewound; `Ok(Err(status))`
/// when the server answers a 4xx status other than 429.
fn try_download(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    suffix: &str,
    opts: &UpdateOptions,
    max: u64,
) -> Result<std::result::Result<NamedTempFile, ureq::http::StatusCode>> {
    let mut temp = tempfile::Builder::new()
        .prefix(".bulwark-download-")
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(Error::io("create temp file in", dir))?;
    let mut written: u64 = 0;
    let mut attempt: u32 = 0;
    loop {
        match attempt_download(agent, url, temp.as_file_mut(), &mut written, max, opts.stall_timeout) {
            Ok(()) => break,
            Err(Failure::Status(status)) => return Ok(Err(status)),
            Err(Failure::Fatal(failure)) => return Err(download_error(url, failure, 0)),
            Err(Failure::Retry(failure)) => {
                if attempt >= opts.retries {
                    return Err(download_error(url, failure, attempt + 1));
                }
                std::thread::sleep(opts.retry_backoff.saturating_mul(1 << attempt.min(16)));
                attempt += 1;
            }
        }
    }
    let file = temp.as_file_mut();
    file.flush().map_err(Error::io("write", dir))?;
    file.seek(SeekFrom::Start(0)).map_err(Error::io("write", dir))?;
    Ok(Ok(temp))
}

/// Whether an error from ureq is its per-read (stall) timeout.
fn is_stall(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::PerRead),
        ureq::Error::Io(io) => is_stall_io(io),
        _ => false,
    }
}

fn is_stall_io(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
        || e.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()).is_some_and(is_stall)
}

fn stalled(after_bytes: u64, stall: Duration) -> DownloadFailure {
    DownloadFailure::Stalled { after_bytes, stall }
}

/// One request; appends to `file` (which holds `written` bytes of a previous attempt).
fn attempt_download(
    agent: &ureq::Agent,
    url: &str,
    file: &mut File,
    written: &mut u64,
    max: u64,
    stall: Duration,
) -> std::result::Result<(), Failure> {
    let mut request = agent.get(url);
    if *written > 0 {
        request = request.header("Range", format!("bytes={}-", *written));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(e) => {
            return Err(match e {
                e if is_stall(&e) => Failure::Retry(stalled(*written, stall)),
                ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
                | ureq::Error::Protocol(_) => Failure::Retry(DownloadFailure::Transport { message: e.to_string() }),
                other => Failure::Fatal(DownloadFailure::Transport { message: other.to_string() }),
            });
        }
    };
    let status = response.status();
    let code = status.as_u16();
    if code == 429 || status.is_server_error() {
        return Err(Failure::Retry(status_failure(status)));
    }
    let fatal_write = |e: io::Error| Failure::Fatal(DownloadFailure::Write { message: e.to_string() });
    if code == 206 {
        if *written == 0 || content_range_start(&response) != Some(*written) {
            // A range we did not ask for: start over without one.
            restart(file, written).map_err(fatal_write)?;
            return Err(Failure::Retry(DownloadFailure::UnexpectedRange));
        }
    } else if status.is_success() {
        if *written > 0 {
            // The server ignored the Range request: the body is the whole file again.
            restart(file, written).map_err(fatal_write)?;
        }
    } else if status.is_client_error() {
        return Err(Failure::Status(status));
    } else {
        return Err(Failure::Fatal(status_failure(status)));
    }
    let remaining = max.saturating_sub(*written);
    let body = response.into_body();
    if let Some(len) = body.content_length()
        && len > remaining
    {
        return Err(Failure::Fatal(DownloadFailure::TooLarge { limit: max, size: Some(len.saturating_add(*written)) }));
    }
    let mut reader = body.into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if is_stall_io(&e) => return Err(Failure::Retry(stalled(*written, stall))),
            Err(e) => {
                return Err(Failure::Retry(DownloadFailure::Dropped { after_bytes: *written, message: e.to_string() }));
            }
        };
        if *written + n as u64 > max {
            return Err(Failure::Fatal(DownloadFailure::TooLarge { limit: max, size: None }));
        }
        file.write_all(&buf[..n]).map_err(fatal_write)?;
        *written += n as u64;
    }
    Ok(())
}

fn restart(file: &mut File, written: &mut u64) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    *written = 0;
    Ok(())
}

/// The first byte of a `Content-Range: bytes <start>-<end>/<total>` header.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = range.split_once('-')?;
    start.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_segments_are_encoded() {
        assert_eq!(osv_zip_url("https://x/", "Debian:12"), "https://x/Debian%3A12/all.zip");
        assert_eq!(osv_zip_url("https://x", "crates.io"), "https://x/crates.io/all.zip");
        assert_eq!(osv_zip_url("https://x", "Red Hat"), "https://x/Red%20Hat/all.zip");
        assert_eq!(osv_modified_url("https://x/", "Debian:12"), "https://x/Debian%3A12/modified_id.csv");
        assert_eq!(osv_record_url("https://x", "Go", "GO-2022-0969"), "https://x/Go/GO-2022-0969.json");
    }

    #[test]
    fn times_compare_as_instants() {
        let t = |s| parse_time(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(t("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(t("2000-03-01T00:00:00Z").0 - t("2000-02-28T00:00:00Z").0, 2 * 86_400); // leap year
        assert_eq!(t("2025-08-26T00:04:19Z"), (1_756_166_659, 0));
        assert_eq!(t("2025-08-26T02:04:19+02:00"), (1_756_166_659, 0));
        assert_eq!(t("2025-08-26T00:04:19.5Z"), (1_756_166_659, 500_000_000));
        assert_eq!(t("2025-08-26T00:04:19.1234567891Z"), (1_756_166_659, 123_456_789));
        // As strings these order the other way round ('.' < 'Z').
        assert!(t("2025-08-26T00:04:19.5Z") > t("2025-08-26T00:04:19Z"));
        assert_eq!(t("0001-01-01T00:00:00Z").0, -62_135_596_800);
        for bad in [
            "",
            "2025-08-26",
            "2025-08-26T00:04:19",
            "2025-13-01T00:00:00Z",
            "2025-08-26T00:04:19.Z",
            "x025-08-26T00:04:19Z",
            "2025-08-26T00:04:19+0200",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(
            latest(["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.1Z", "garbage"]).as_deref(),
            Some("2024-01-01T00:00:00.1Z")
        );
    }

    #[test]
    fn modified_csv_lines() {
        let list = parse_modified_csv(
            b"modified,id\r\n2024-08-15T00:05:00Z,GHSA-aaaa-bbbb-cccc\r\n2024-08-14T10:00:00.123Z,PYSEC-2024-1\n\n\
              not a time,X\n2024-08-14T10:00:00Z,\n2024-08-14T10:00:00Z,a/b\n",
        );
        assert_eq!(
            list.entries,
            vec![
                ("2024-08-15T00:05:00Z".to_owned(), "GHSA-aaaa-bbbb-cccc".to_owned()),
                ("2024-08-14T10:00:00.123Z".to_owned(), "PYSEC-2024-1".to_owned()),
            ]
        );
        assert_eq!(list.invalid, 4);
    }
}
