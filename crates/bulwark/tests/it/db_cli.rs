//! `bulwark db update` and `db status` as a user runs them, against an in-process HTTP server
//! on 127.0.0.1 serving osv.dev's layout for crates.io, made from the real RustSec records in
//! `../shared/advisories/rustsec-osv/crates`.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

fn records_dir() -> PathBuf {
    let shared = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("advisories/rustsec-osv/crates");
    assert!(dir.is_dir(), "shared test data not found at {} (set BULWARK_SHARED)", dir.display());
    dir
}

/// A zip of `files` with stored (uncompressed) entries, the simplest form osv.dev's readers
/// accept; written by hand to keep the CLI's dev-dependencies small.
fn stored_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let (len, name_len) = (data.len() as u32, name.len() as u16);
        // Local file header: signature, version 2.0, flags, method 0 (stored), time, date.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [crc.sum(), len, len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [crc.sum(), len, len] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_len, n) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The crates.io files of osv.dev's layout: all.zip, modified_id.csv (from each record's
/// `modified`, newest first) and `<id>.json`.
fn crates_io_files() -> (HashMap<String, Arc<Vec<u8>>>, usize, String) {
    let mut records: Vec<(String, Vec<u8>)> = fs::read_dir(records_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
        .collect();
    records.sort();
    let mut lines: Vec<String> = records
        .iter()
        .map(|(_, bytes)| {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            format!("{},{}\n", v["modified"].as_str().unwrap(), v["id"].as_str().unwrap())
        })
        .collect();
    lines.sort_by(|a, b| b.cmp(a));
    // All of RustSec's times are `YYYY-MM-DDTHH:MM:SSZ`, so the first line has the latest.
    let latest = lines[0].split(',').next().unwrap().to_owned();
    let mut m = HashMap::new();
    m.insert("/crates.io/all.zip".to_owned(), Arc::new(stored_zip(&records)));
    m.insert("/crates.io/modified_id.csv".to_owned(), Arc::new(lines.concat().into_bytes()));
    let n = records.len();
    for (name, bytes) in records {
        m.insert(format!("/crates.io/{name}"), Arc::new(bytes));
    }
    (m, n, latest)
}

/// Serves `files`; with `stall`, every response sends its headers and 100 body bytes, then
/// nothing. Returns the base URL.
fn serve(files: HashMap<String, Arc<Vec<u8>>>, stall: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let files = Arc::clone(&files);
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut reader = BufReader::new(stream.try_clone()?);
                let mut line = String::new();
                reader.read_line(&mut line)?;
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let Some(body) = files.get(&path) else {
                    return stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                };
                write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
                if stall {
                    stream.write_all(&body[..100])?;
                    stream.flush()?;
                    std::thread::sleep(Duration::from_secs(60));
                    return Ok(());
                }
                stream.write_all(body)
            });
        }
    });
    base
}

fn bulwark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulwark")).args(args).env("NO_COLOR", "1").output().unwrap()
}

fn update(db: &Path, base: &str, extra: &[&str]) -> Output {
    let db = db.to_str().unwrap();
    let mut args = vec!["db", "update", "--db", db, "--ecosystem", "crates.io", "--osv-base", base, "--no-kev"];
    args.extend_from_slice(&["--no-epss"]);
    args.extend_from_slice(extra);
    bulwark(&args)
}

#[test]
fn update_is_full_then_incremental_and_status_says_so() {
    let (files, n, latest) = crates_io_files();
    let base = serve(files, false);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");

    let first = update(&db, &base, &[]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("crates.io: full download, {n} records (no previous database)")), "{stderr}");

    let second = update(&db, &base, &[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("crates.io: incremental, 0 changed records, records up to {latest}")), "{stderr}");

    let forced = update(&db, &base, &["--full"]);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert!(stderr.contains("crates.io: full download") && stderr.contains("full download requested"), "{stderr}");

    let status = bulwark(&["db", "status", "--db", db.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0));
    assert!(stdout.contains("Updates:\n  crates.io"), "{stdout}");
    assert!(stdout.contains(&format!("records up to {latest}; full download ")), "{stdout}");
}

#[test]
fn stalled_server_gives_a_clear_error_and_keeps_the_database() {
    let (files, _, _) = crates_io_files();
    let good = serve(files.clone(), false);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");
    assert_eq!(update(&db, &good, &[]).status.code(), Some(0));
    let before = fs::read(&db).unwrap();

    let stalled = serve(files, true);
    let out = update(&db, &stalled, &["--stall-timeout", "1", "--full"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{stalled}/crates.io/all.zip")), "{stderr}");
    assert!(stderr.contains("stalled: no data for 1 s after 100 bytes"), "{stderr}");
    assert!(stderr.contains("hint: for a slow mirror, raise --stall-timeout"), "{stderr}");
    assert!(fs::read(&db).unwrap() == before, "the database changed");
    let status = bulwark(&["db", "status", "--db", db.to_str().unwrap()]);
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stderr));
}

/// `db update --ecosystem crates.io` on a database built from local feeds (Debian ELTS, the
/// PyPA advisories, KEV), with the KEV download failing: the user saw every other ecosystem
/// and KEV vanish. Now they stay, KEV keeps its previous data and says so, crates.io is added.
#[test]
fn update_adds_to_a_built_database_and_survives_a_failing_source() {
    let (files, n, _) = crates_io_files();
    let base = serve(files, false);
    let shared = records_dir().join("../../..");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bulwark.db");
    let db_arg = db.to_str().unwrap();
    let feed = |p: &str| shared.join(p).to_str().unwrap().to_owned();
    let built = bulwark(&[
        "db",
        "build",
        "--db",
        db_arg,
        "--osv",
        &format!("elts={}", feed("advisories/debian-elts-osv/advisories")),
        "--osv",
        &format!("pypa={}", feed("advisories/pypa-advisory-db")),
        "--kev",
        &format!("kev={}", feed("advisories/cisa-kev/known_exploited_vulnerabilities.json")),
    ]);
    assert_eq!(built.status.code(), Some(0), "{}", String::from_utf8_lossy(&built.stderr));
    let status = |db: &str| -> serde_json::Value {
        let out = bulwark(&["db", "status", "--db", db, "-f", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = status(db_arg);
    let records = |s: &serde_json::Value, name: &str| {
        s["sources"].as_array().unwrap().iter().find(|x| x["name"] == name).map(|x| x["records"].as_u64().unwrap())
    };
    let ecosystems = |s: &serde_json::Value| -> Vec<String> {
        s["ecosystems"].as_array().unwrap().iter().map(|e| e["ecosystem"].as_str().unwrap().to_owned()).collect()
    };
    let (elts, pypa, kev) = (records(&before, "elts"), records(&before, "pypa"), records(&before, "kev"));
    assert!(elts.unwrap() > 1000 && pypa.unwrap() > 1000 && kev.unwrap() > 1000, "{before}");
    let fetched_before = before["sources"][0]["fetched_at"].clone();

    // KEV's URL answers 404: that source fails, the others go on.
    let kev_url = format!("{base}/kev/known_exploited_vulnerabilities.json");
    let out = bulwark(&[
        "db",
        "update",
        "--db",
        db_arg,
        "--ecosystem",
        "crates.io",
        "--osv-base",
        &base,
        "--kev-url",
        &kev_url,
        "--no-epss",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("crates.io: full download, {n} records")), "{stderr}");
    assert!(stderr.contains("warning: cisa-kev was not updated (it is not in the database)"), "{stderr}");
    assert!(stderr.contains("kev: kept from the previous database"), "{stderr}");
    assert!(stderr.contains("elts: kept from the previous database") && stderr.contains("pypa: kept"), "{stderr}");
    assert!(stderr.contains("hint: ") && stderr.contains("--osv-base") && stderr.contains("db import"), "{stderr}");

    let after = status(db_arg);
    assert_eq!(
        (records(&after, "elts"), records(&after, "pypa"), records(&after, "kev")),
        (elts, pypa, kev),
        "{after}"
    );
    let crates = after["sources"].as_array().unwrap().iter().find(|x| x["name"] == "osv:crates.io").unwrap();
    assert_eq!(crates["files"], n, "{after}");
    let ecos = ecosystems(&after);
    for e in ["crates.io", "Debian:10", "PyPI"] {
        assert!(ecos.iter().any(|x| x == e), "{e} missing from {ecos:?}");
    }
    // Carried sources keep the time they were fetched.
    let elts_after = after["sources"].as_array().unwrap().iter().find(|x| x["name"] == "elts").unwrap();
    assert_eq!(elts_after["fetched_at"], fetched_before, "{after}");

    // A second update is incremental for crates.io and still keeps everything.
    let out = update(&db, &base, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("crates.io: incremental"), "{stderr}");
    assert_eq!(records(&status(db_arg), "pypa"), pypa);

    // When every download fails nothing is written, and the error names the cures.
    let bytes = fs::read(&db).unwrap();
    let out = bulwark(&[
        "db",
        "update",
        "--db",
        db_arg,
        "--ecosystem",
        "npm",
        "--osv-base",
        &base,
        "--kev-url",
        &kev_url,
        "--no-epss",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains("every download failed"), "{stderr}");
    assert!(
        stderr.contains("\nhint: ") && stderr.contains("--osv-base") && stderr.contains("`bulwark db import FILE`"),
        "{stderr}"
    );
    assert!(fs::read(&db).unwrap() == bytes, "the database changed");
}
