//! `update::update` against an in-process HTTP/1.1 server on 127.0.0.1 serving osv.dev's
//! layout (`all.zip`, `modified_id.csv`, `<id>.json`) built here from the real records in
//! `../shared/advisories/`, and the real KEV feed.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bulwark_vulndb::osv::Event;
use bulwark_vulndb::update::{self, UpdateKind, UpdateOptions};
use bulwark_vulndb::{Db, DbBuilder, Error};

/// The shared data folder, checked to hold `advisories`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("advisories");
    bulwark_testkit::shared()
}

fn adv(rel: &str) -> PathBuf {
    shared().join("advisories").join(rel)
}

/// (ecosystem as served, directory of its records).
const ECOSYSTEMS: [(&str, &str); 2] = [("Go", "go-vulndb/data/osv"), ("crates.io", "rustsec-osv/crates")];

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            collect(&path, root, out);
        } else if [".json", ".yaml", ".yml"].iter().any(|e| name.ends_with(e)) {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push((rel, path));
        }
    }
}

/// An `all.zip` of every record under `dir`.
fn zip_of(dir: &Path) -> Vec<u8> {
    zip_of_with(dir, &HashMap::new())
}

/// An `all.zip` of every record under `dir`, with the files named in `replaced` (by relative
/// path) replaced by other bytes.
fn zip_of_with(dir: &Path, replaced: &HashMap<String, Vec<u8>>) -> Vec<u8> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (rel, path) in files {
        let bytes = replaced.get(&rel).cloned().unwrap_or_else(|| fs::read(&path).unwrap());
        w.start_file(rel, opts).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `(modified, id)` of every JSON record under `dir`, from the records themselves.
fn modified_of(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files
        .iter()
        .map(|(_, path)| {
            let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
            (v["modified"].as_str().unwrap().to_owned(), v["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// osv.dev's `modified_id.csv`: `<modified>,<id>` lines, newest first.
fn csv_of(mut entries: Vec<(String, String)>) -> Vec<u8> {
    entries.sort_by(|a, b| b.cmp(a));
    entries.iter().map(|(m, id)| format!("{m},{id}\n")).collect::<String>().into_bytes()
}

/// The served files, by URL path.
fn files() -> &'static HashMap<String, Arc<Vec<u8>>> {
    static FILES: OnceLock<HashMap<String, Arc<Vec<u8>>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut m = HashMap::new();
        for (eco, rel) in ECOSYSTEMS {
            m.insert(format!("/{eco}/all.zip"), Arc::new(zip_of(&adv(rel))));
            m.insert(format!("/{eco}/modified_id.csv"), Arc::new(csv_of(modified_of(&adv(rel)))));
            let mut records = Vec::new();
            collect(&adv(rel), &adv(rel), &mut records);
            for (file, path) in records {
                m.insert(format!("/{eco}/{file}"), Arc::new(fs::read(path).unwrap()));
            }
        }
        // FIRST's daily EPSS file format, gzipped, written from the real time series of
        // CVE-2024-3094 (index-samples/epss-timeseries: 2025-08-15, epss 0.83739, percentile 0.99245).
        let series = fs::read_to_string(adv("index-samples/epss-timeseries/CVE-2024-3094.epss.excerpt.csv")).unwrap();
        let last: Vec<&str> = series.lines().last().unwrap().split(',').collect();
        let csv = format!(
            "#model_version:v2025.03.14,score_date:2025-08-15T00:00:00+0000\ncve,epss,percentile\nCVE-2024-3094,{},{}\n",
            last[2], last[3]
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(csv.as_bytes()).unwrap();
        m.insert("/epss_scores-current.csv.gz".to_owned(), Arc::new(gz.finish().unwrap()));
        m.insert(
            "/kev.json".to_owned(),
            Arc::new(fs::read(adv("cisa-kev/known_exploited_vulnerabilities.json")).unwrap()),
        );
        m
    })
}

/// How the test server misbehaves.
#[derive(Clone, Default)]
struct Behaviour {
    /// Close the connection after this many body bytes of a full (200) response...
    drop_after: Option<usize>,
    /// ...for this many responses (then serve normally); `usize::MAX`: always.
    drops: usize,
    /// Honour `Range: bytes=N-` with 206.
    ranges: bool,
    /// Answer 503 to this many requests first.
    unavailable: usize,
    /// Serve this path with the last 10 bytes (inside the central directory) cut off.
    corrupt: Option<String>,
    /// Files served instead of (or besides) [`files`], by path.
    overrides: HashMap<String, Arc<Vec<u8>>>,
    /// Paths answered with 404.
    missing: Vec<String>,
    /// (path, n): send the headers and the first n body bytes of this path, then nothing.
    stall: Option<(String, usize)>,
}

/// (path, Range header) of every request.
type Log = Mutex<Vec<(String, Option<String>)>>;

struct Server {
    base: String,
    /// (path, Range header) of every request.
    log: Arc<Log>,
}

fn serve(behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let state = Arc::new((behaviour, AtomicUsize::new(0), AtomicUsize::new(0)));
    let thread_log = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let log = Arc::clone(&thread_log);
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let _ = handle(stream, &state.0, &state.1, &state.2, &log);
            });
        }
    });
    Server { base, log }
}

fn handle(
    mut stream: TcpStream,
    b: &Behaviour,
    drops: &AtomicUsize,
    unavailable: &AtomicUsize,
    log: &Log,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.trim().eq_ignore_ascii_case("range")
        {
            range = Some(v.trim().to_owned());
        }
    }
    log.lock().unwrap().push((path.clone(), range.clone()));

    if unavailable.fetch_add(1, Ordering::SeqCst) < b.unavailable {
        stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    let found = if b.missing.contains(&path) { None } else { b.overrides.get(&path).or_else(|| files().get(&path)) };
    let Some(body) = found else {
        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")?;
        return Ok(());
    };
    let mut body: &[u8] = body;
    if b.corrupt.as_deref() == Some(path.as_str()) {
        body = &body[..body.len() - 10];
    }
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok());
    if let (true, Some(start)) = (b.ranges, start) {
        let len = body.len();
        write!(
            stream,
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{len}\r\nConnection: close\r\n\r\n",
            len - start,
            len - 1
        )?;
        stream.write_all(&body[start..])?;
        return Ok(());
    }
    write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    if let Some((stall_path, n)) = &b.stall
        && *stall_path == path
    {
        stream.write_all(&body[..(*n).min(body.len())])?;
        stream.flush()?;
        // Keep the connection open and silent well past the client's stall timeout.
        std::thread::sleep(Duration::from_secs(30));
        return Ok(());
    }
    if let Some(n) = b.drop_after
        && drops.fetch_add(1, Ordering::SeqCst) < b.drops
    {
        stream.write_all(&body[..n.min(body.len())])?;
        stream.flush()?;
        return Ok(()); // dropped: the connection closes short of Content-Length
    }
    stream.write_all(body)
}

fn options(server: &Server, ecosystems: &[&str]) -> UpdateOptions {
    UpdateOptions {
        osv_base: server.base.clone(),
        ecosystems: ecosystems.iter().map(|s| s.to_string()).collect(),
        kev_url: Some(format!("{}/kev.json", server.base)),
        epss_url: None,
        retry_backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(20),
        ..UpdateOptions::default()
    }
}

/// A DB built from the same directories the server's zips were made from.
fn reference() -> &'static bulwark_vulndb::BuildReport {
    static REPORT: OnceLock<bulwark_vulndb::BuildReport> = OnceLock::new();
    REPORT.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-update-reference.db");
        let mut b = DbBuilder::new(&path).unwrap();
        for (eco, rel) in ECOSYSTEMS {
            b.add_osv(&update::osv_source_name(eco), adv(rel)).unwrap();
        }
        b.add_kev(update::KEV_SOURCE_NAME, adv("cisa-kev/known_exploited_vulnerabilities.json")).unwrap();
        b.finish().unwrap()
    })
}

/// A directory holding an existing (small) DB; returns (dir, db path, its bytes).
fn existing_db() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");
    let mut b = DbBuilder::new(&db).unwrap();
    b.add_osv("one", adv("go-vulndb/data/osv/GO-2022-0969.json")).unwrap();
    b.finish().unwrap();
    let bytes = fs::read(&db).unwrap();
    (dir, db, bytes)
}

fn assert_untouched(dir: &Path, db: &Path, bytes: &[u8]) {
    assert!(fs::read(db).unwrap() == bytes, "the existing DB changed");
    let names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("bulwark.db")], "temp files left behind");
    Db::open(db).unwrap().advisory("GO-2022-0969").unwrap().expect("old DB still answers");
}

/// The source named `name` (metadata lists sources by name).
fn source<'a>(report: &'a bulwark_vulndb::BuildReport, name: &str) -> &'a bulwark_vulndb::SourceInfo {
    report.metadata.sources.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no source {name}"))
}

fn counts(report: &bulwark_vulndb::BuildReport) -> Vec<(String, String, u64, u64, u64, u64, u64)> {
    report
        .metadata
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.kind.clone(), s.files, s.records, s.withdrawn, s.invalid, s.duplicates))
        .collect()
}

#[test]
fn update_builds_the_same_db_as_the_directories() {
    let server = serve(Behaviour::default());
    let (dir, db, _) = existing_db();
    let report = update::update(&db, &options(&server, &["Go", "crates.io"])).unwrap().build;
    let reference = reference();
    assert_eq!(counts(&report), counts(reference));
    let go = source(&report, "osv:Go");
    assert!(go.records > 1000, "{go:?}");
    assert!(source(&report, "osv:crates.io").records > 500);
    assert!(source(&report, "cisa-kev").records > 1000);
    // Feeds are recorded under their URL, not the temp file they were downloaded to.
    assert_eq!(source(&report, "cisa-kev").location, format!("{}/kev.json", server.base));
    assert_eq!(report.metadata.content_digest, reference.metadata.content_digest);
    // The archive digest is the digest of the served bytes; the location is the URL.
    let zip = &files()["/Go/all.zip"];
    let digest = {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(zip.as_slice())))
    };
    assert_eq!(go.sha256, digest);
    assert_eq!(go.location, format!("{}/Go/all.zip", server.base));
    let opened = Db::open(&db).unwrap();
    assert_eq!(opened.metadata().unwrap().content_digest, reference.metadata.content_digest);
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
}

/// An update adds: sources it does not download (here a CSAF source and the Debian tracker
/// from `db build`) stay in the database with their records, rows and digests.
#[test]
fn sources_update_does_not_download_are_kept() {
    let server = serve(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");
    let mut b = DbBuilder::new(&db).unwrap();
    b.add_osv("osv:Go", adv("go-vulndb/data/osv/GO-2022-0969.json")).unwrap();
    b.add_csaf("redhat", adv("redhat-csaf-vex-samples")).unwrap();
    let before = b.finish().unwrap();
    let report = update::update(&db, &options(&server, &["Go"])).unwrap();
    let build = &report.build;
    assert!(build.warnings.iter().all(|w| !w.message.contains("no longer")), "{:?}", build.warnings);
    let old = source(&before, "redhat");
    let kept = source(build, "redhat");
    assert_eq!((kept.kind.as_str(), kept.records, &kept.sha256), ("csaf", old.records, &old.sha256));
    assert!(old.records > 0);
    assert_eq!(report.carried, ["redhat"]);
    assert!(report.failed.is_empty());
    assert_eq!(source(build, "osv:Go").records, source(reference(), "osv:Go").records);
}

#[test]
fn dropped_connection_without_ranges_fails_and_keeps_the_old_db() {
    let server = serve(Behaviour { drop_after: Some(100_000), drops: usize::MAX, ..Behaviour::default() });
    let (dir, db, bytes) = existing_db();
    // The only download fails: an error, and nothing written.
    let opts = UpdateOptions { kev_url: None, ..options(&server, &["Go"]) };
    let err = update::update(&db, &opts).unwrap_err();
    let msg = err.to_string();
    let url = format!("{}/Go/all.zip", server.base);
    assert!(msg.contains(&url) && msg.contains("every download failed"), "{msg}");
    assert!(msg.contains("connection dropped after 100000 bytes"), "{msg}");
    assert!(msg.contains("4 attempts"), "{msg}");
    // The first attempt and 3 retries; each retry asked to resume and got the whole file.
    let log = server.log.lock().unwrap();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[1].1.as_deref(), Some("bytes=100000-"));
    assert_untouched(dir.path(), &db, &bytes);
}

#[test]
fn dropped_connection_without_ranges_restarts_and_succeeds() {
    let server = serve(Behaviour { drop_after: Some(100_000), drops: 1, ..Behaviour::default() });
    let (_dir, db, _) = existing_db();
    let report = update::update(&db, &options(&server, &["Go"])).unwrap().build;
    assert_eq!(source(&report, "osv:Go").records, source(reference(), "osv:Go").records);
}

#[test]
fn dropped_connection_with_ranges_resumes() {
    let server = serve(Behaviour { drop_after: Some(123_457), drops: 1, ranges: true, ..Behaviour::default() });
    let (_dir, db, _) = existing_db();
    let report = update::update(&db, &options(&server, &["Go", "crates.io"])).unwrap().build;
    assert_eq!(counts(&report), counts(reference()));
    assert_eq!(report.metadata.content_digest, reference().metadata.content_digest);
    let log = server.log.lock().unwrap();
    assert_eq!(log[0], ("/Go/all.zip".to_owned(), None));
    assert_eq!(log[1], ("/Go/all.zip".to_owned(), Some("bytes=123457-".to_owned())));
}

#[test]
fn server_errors_are_retried() {
    let server = serve(Behaviour { unavailable: 2, ..Behaviour::default() });
    let (_dir, db, _) = existing_db();
    let report = update::update(&db, &options(&server, &["crates.io"])).unwrap().build;
    assert_eq!(source(&report, "osv:crates.io").records, source(reference(), "osv:crates.io").records);
    assert_eq!(server.log.lock().unwrap().len(), 4); // 2×503, crates.io, KEV
}

#[test]
fn corrupt_zip_fails_and_keeps_the_old_db() {
    let server = serve(Behaviour { corrupt: Some("/crates.io/all.zip".to_owned()), ..Behaviour::default() });
    let (dir, db, bytes) = existing_db();
    let err = update::update(&db, &options(&server, &["Go", "crates.io"])).unwrap_err();
    assert!(matches!(err, Error::Archive { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("corrupt archive {}/crates.io/all.zip: ", server.base)), "{msg}");
    assert_untouched(dir.path(), &db, &bytes);
}

/// One source failing does not stop the others: Go and KEV are updated, Debian:12 (404) is
/// reported as failed, and the old database's own record stays.
#[test]
fn missing_ecosystem_fails_alone() {
    let server = serve(Behaviour::default());
    let (_dir, db, _) = existing_db();
    let report = update::update(&db, &options(&server, &["Go", "Debian:12"])).unwrap();
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    let (name, msg) = &report.failed[0];
    assert_eq!(name, "osv:Debian:12");
    assert!(msg.contains(&format!("{}/Debian%3A12/all.zip", server.base)) && msg.contains("404"), "{msg}");
    // Not retried: Go, Debian:12 once, KEV.
    assert_eq!(server.log.lock().unwrap().len(), 3);
    assert_eq!(source(&report.build, "osv:Go").records, source(reference(), "osv:Go").records);
    assert!(source(&report.build, "cisa-kev").records > 1000);
    Db::open(&db).unwrap().advisory("GO-2022-0969").unwrap().expect("still answers");
    // Every requested download failing is an error that leaves the database alone.
    let bytes = fs::read(&db).unwrap();
    let opts = UpdateOptions { kev_url: None, ..options(&server, &["Debian:12"]) };
    let msg = update::update(&db, &opts).unwrap_err().to_string();
    assert!(msg.contains("every download failed") && msg.contains("404"), "{msg}");
    assert!(fs::read(&db).unwrap() == bytes);
}

#[test]
fn oversized_download_is_refused() {
    let server = serve(Behaviour::default());
    let (dir, db, bytes) = existing_db();
    let opts = UpdateOptions { max_download_bytes: 1000, ..options(&server, &["Go"]) };
    let msg = update::update(&db, &opts).unwrap_err().to_string();
    assert!(msg.contains("over the 1000-byte download limit"), "{msg}");
    assert_untouched(dir.path(), &db, &bytes);
}

#[test]
fn epss_csv_gz_is_downloaded() {
    let server = serve(Behaviour::default());
    let (_dir, db, _) = existing_db();
    let opts = UpdateOptions {
        epss_url: Some(format!("{}/epss_scores-current.csv.gz", server.base)),
        kev_url: None,
        ..options(&server, &[])
    };
    let report = update::update(&db, &opts).unwrap().build;
    assert_eq!(source(&report, "first-epss").records, 1);
    let e = Db::open(&db).unwrap().epss("CVE-2024-3094").unwrap().unwrap();
    assert_eq!((e.score.epss, e.score.percentile, e.source.as_str()), (0.83739, 0.99245, "first-epss"));
    // An update adds: the old advisory is still there.
    assert!(Db::open(&db).unwrap().advisory("GO-2022-0969").unwrap().is_some());
}

/// The time the test's changed records get: after every real record's `modified`.
const NEW_TIME: &str = "2099-01-02T03:04:05Z";
/// The `fixed` version the changed records get.
const NEW_FIXED: &str = "99.0.0-bulwark";

/// Copies of two real crates.io records (the first two, by file name, whose first range has a
/// `fixed` event) with a later `modified` and that `fixed` changed: (relative path, id, bytes).
fn changed_records() -> Vec<(String, String, Vec<u8>)> {
    let dir = adv("rustsec-osv/crates");
    let mut files = Vec::new();
    collect(&dir, &dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for (rel, path) in files {
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let Some(events) = v["affected"][0]["ranges"][0]["events"].as_array_mut() else { continue };
        let Some(fixed) = events.iter_mut().find(|e| e.get("fixed").is_some()) else { continue };
        fixed["fixed"] = NEW_FIXED.into();
        v["modified"] = NEW_TIME.into();
        let id = v["id"].as_str().unwrap().to_owned();
        out.push((rel, id, serde_json::to_vec_pretty(&v).unwrap()));
        if out.len() == 2 {
            break;
        }
    }
    assert_eq!(out.len(), 2);
    out
}

/// Overrides that make the server publish `changed`: the CSV lists them at [`NEW_TIME`] on top,
/// `<id>.json` serves the changed copies; `all.zip` stays the old one.
fn publish(changed: &[(String, String, Vec<u8>)]) -> HashMap<String, Arc<Vec<u8>>> {
    let mut entries = modified_of(&adv("rustsec-osv/crates"));
    entries.retain(|(_, id)| !changed.iter().any(|(_, c, _)| c == id));
    entries.extend(changed.iter().map(|(_, id, _)| (NEW_TIME.to_owned(), id.clone())));
    let mut m = HashMap::new();
    m.insert("/crates.io/modified_id.csv".to_owned(), Arc::new(csv_of(entries)));
    for (_, id, bytes) in changed {
        m.insert(format!("/crates.io/{id}.json"), Arc::new(bytes.clone()));
    }
    m
}

/// A DB at `<new temp dir>/bulwark.db` made by a first, full update of crates.io.
fn first_update() -> (tempfile::TempDir, PathBuf) {
    let server = serve(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");
    let report = update::update(&db, &UpdateOptions { kev_url: None, ..options(&server, &["crates.io"]) }).unwrap();
    let eco = &report.ecosystems[0];
    assert_eq!(
        (eco.ecosystem.as_str(), eco.kind, eco.reason.as_deref()),
        ("crates.io", UpdateKind::Full, Some("no previous database"))
    );
    assert_eq!(eco.downloaded, source(reference(), "osv:crates.io").files);
    // The watermark is the latest `modified` among the records, read from the records.
    let latest = modified_of(&adv("rustsec-osv/crates")).into_iter().map(|(m, _)| m).max();
    assert_eq!(eco.watermark, latest);
    let state = update::state(&Db::open(&db).unwrap()).unwrap();
    assert_eq!(state["crates.io"].watermark, latest);
    assert_eq!(state["crates.io"].last_incremental, None);
    let log = server.log.lock().unwrap();
    assert_eq!(log.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["/crates.io/all.zip"]);
    (dir, db)
}

#[test]
fn second_update_is_incremental() {
    let (_dir, db) = first_update();
    let changed = changed_records();
    let server = serve(Behaviour { overrides: publish(&changed), ..Behaviour::default() });
    let opts = UpdateOptions { kev_url: None, ..options(&server, &["crates.io"]) };
    let report = update::update(&db, &opts).unwrap();
    let eco = &report.ecosystems[0];
    assert_eq!((eco.kind, eco.reason.as_deref(), eco.downloaded), (UpdateKind::Incremental, None, 2));
    assert_eq!(eco.watermark.as_deref(), Some(NEW_TIME));
    // Only the CSV and the two changed records were fetched, never all.zip.
    let mut paths: Vec<String> = server.log.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
    paths.sort();
    let mut expected: Vec<String> = changed.iter().map(|(_, id, _)| format!("/crates.io/{id}.json")).collect();
    expected.push("/crates.io/modified_id.csv".to_owned());
    expected.sort();
    assert_eq!(paths, expected);

    // The DB holds the changed records...
    let opened = Db::open(&db).unwrap();
    for (_, id, bytes) in &changed {
        let record = opened.record(id).unwrap().unwrap();
        assert_eq!(record.modified.as_deref(), Some(NEW_TIME), "{id}");
        let events = &record.affected[0].ranges[0].events;
        assert!(events.contains(&Event::Fixed(NEW_FIXED.to_owned())), "{id}: {events:?}");
        assert_eq!(&opened.raw_record(id).unwrap().unwrap().1, bytes, "{id}");
    }
    // ...and the same content as a full build from an all.zip that has them.
    let replaced: HashMap<String, Vec<u8>> = changed.iter().map(|(rel, _, b)| (rel.clone(), b.clone())).collect();
    let zip = zip_of_with(&adv("rustsec-osv/crates"), &replaced);
    let full_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-update-incremental-reference.db");
    let mut b = DbBuilder::new(&full_path).unwrap();
    b.add_osv_zip("osv:crates.io", "all.zip", Cursor::new(zip)).unwrap();
    let full = b.finish().unwrap();
    assert_eq!(report.build.metadata.content_digest, full.metadata.content_digest);
    assert_eq!(counts(&report.build), counts(&full));
    let state = update::state(&opened).unwrap();
    assert_eq!(state["crates.io"].watermark.as_deref(), Some(NEW_TIME));
    assert!(state["crates.io"].last_incremental.is_some());
    drop(opened);

    // A third update finds nothing new and downloads no record.
    server.log.lock().unwrap().clear();
    let again = update::update(&db, &opts).unwrap();
    assert_eq!((again.ecosystems[0].kind, again.ecosystems[0].downloaded), (UpdateKind::Incremental, 0));
    assert_eq!(again.build.metadata.content_digest, full.metadata.content_digest);
    assert_eq!(server.log.lock().unwrap().len(), 1);
}

#[test]
fn missing_csv_falls_back_to_all_zip() {
    let (_dir, db) = first_update();
    let server = serve(Behaviour { missing: vec!["/crates.io/modified_id.csv".to_owned()], ..Behaviour::default() });
    let report = update::update(&db, &UpdateOptions { kev_url: None, ..options(&server, &["crates.io"]) }).unwrap();
    let eco = &report.ecosystems[0];
    assert_eq!(eco.kind, UpdateKind::Full);
    let reason = eco.reason.as_deref().unwrap();
    assert!(reason.contains("modified_id.csv") && reason.contains("404"), "{reason}");
    let paths: Vec<String> = server.log.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(paths, ["/crates.io/modified_id.csv", "/crates.io/all.zip"]);
    assert_eq!(report.build.metadata.content_digest, reference_crates_digest());
}

#[test]
fn too_many_changes_fall_back_to_all_zip() {
    let (_dir, db) = first_update();
    let server = serve(Behaviour { overrides: publish(&changed_records()), ..Behaviour::default() });
    let opts = UpdateOptions { kev_url: None, max_incremental: 1, ..options(&server, &["crates.io"]) };
    let report = update::update(&db, &opts).unwrap();
    let eco = &report.ecosystems[0];
    assert_eq!((eco.kind, eco.reason.as_deref()), (UpdateKind::Full, Some("2 records changed (more than 1)")));
    let paths: Vec<String> = server.log.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(paths, ["/crates.io/modified_id.csv", "/crates.io/all.zip"]);
}

#[test]
fn full_update_can_be_forced() {
    let (_dir, db) = first_update();
    let server = serve(Behaviour::default());
    let opts = UpdateOptions { kev_url: None, force_full: true, ..options(&server, &["crates.io"]) };
    let report = update::update(&db, &opts).unwrap();
    assert_eq!(report.ecosystems[0].kind, UpdateKind::Full);
    assert_eq!(server.log.lock().unwrap().len(), 1);
}

/// The content digest of a DB of the crates.io records alone.
fn reference_crates_digest() -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulwark-update-crates-reference.db");
    let mut b = DbBuilder::new(&path).unwrap();
    b.add_osv("osv:crates.io", adv("rustsec-osv/crates")).unwrap();
    b.finish().unwrap().metadata.content_digest
}

#[test]
fn stalled_download_is_a_clear_error_and_keeps_the_old_db() {
    let server = serve(Behaviour { stall: Some(("/crates.io/all.zip".to_owned(), 50_000)), ..Behaviour::default() });
    let (dir, db, bytes) = existing_db();
    let opts = UpdateOptions {
        stall_timeout: Duration::from_millis(500),
        retries: 1,
        kev_url: None,
        ..options(&server, &["crates.io"])
    };
    let started = std::time::Instant::now();
    let err = update::update(&db, &opts).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    // Typed, so that callers (the CLI's `--stall-timeout` hint) never match on the text.
    let Error::EveryDownloadFailed { first, .. } = &err else { panic!("{err:?}") };
    assert!(
        matches!(
            **first,
            Error::Download {
                failure: bulwark_vulndb::DownloadFailure::Stalled { after_bytes: 50_000, .. },
                attempts: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    let url = format!("{}/crates.io/all.zip", server.base);
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.contains("stalled: no data for 0.5 s after 50000 bytes"), "{msg}");
    assert!(msg.contains("gave up after 2 attempts"), "{msg}");
    assert_untouched(dir.path(), &db, &bytes);
}

#[test]
fn stalled_record_download_keeps_the_old_db() {
    let (dir, db) = first_update();
    let before = fs::read(&db).unwrap();
    let changed = changed_records();
    let stalled = format!("/crates.io/{}.json", changed[1].1);
    let server =
        serve(Behaviour { overrides: publish(&changed), stall: Some((stalled.clone(), 10)), ..Behaviour::default() });
    let opts = UpdateOptions {
        kev_url: None,
        stall_timeout: Duration::from_millis(300),
        retries: 0,
        ..options(&server, &["crates.io"])
    };
    let msg = update::update(&db, &opts).unwrap_err().to_string();
    assert!(msg.contains(&format!("{}{stalled}", server.base)) && msg.contains("stalled"), "{msg}");
    assert!(fs::read(&db).unwrap() == before, "the existing DB changed");
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
    assert_eq!(Db::open(&db).unwrap().metadata().unwrap().content_digest, reference_crates_digest());
}
