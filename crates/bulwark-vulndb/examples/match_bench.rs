//! Builds a DB from the OSV data in `../shared/advisories` (read in place), then times
//! opening it plus matching 1,000 real packages (250 each of Debian 10 source packages, Go
//! modules, PyPI and crates.io packages, named by those records, each at the first `fixed`
//! version its first record names, so that older advisories still match).
//!
//! ```text
//! cargo run --release -p bulwark-vulndb --example match_bench [-- <existing.db>]
//! ```
//!
//! `BULWARK_SHARED` overrides the shared folder (default `<crate>/../../../shared`).

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bulwark_core::report::{OsRelease, Package, SourcePackage};
use bulwark_match::match_packages;
use bulwark_vulndb::osv::Event;
use bulwark_vulndb::{Db, DbBuilder, Format, parse_record};

const OSV: [(&str, &str, &str); 4] = [
    ("debian-elts-osv", "advisories/debian-elts-osv/advisories", "deb"),
    ("go-vulndb", "advisories/go-vulndb/data/osv", "golang"),
    ("pypa-advisory-db", "advisories/pypa-advisory-db/vulns", "pypi"),
    ("rustsec-osv", "advisories/rustsec-osv/crates", "cargo"),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files(&p, out);
        } else if Format::from_path(&p.to_string_lossy()).is_some() {
            out.push(p);
        }
    }
}

/// 250 (name, version) pairs per purl type, from the records themselves.
fn packages(shared: &Path) -> Vec<Package> {
    let mut out = Vec::new();
    for (_, rel, purl_type) in OSV {
        let mut paths = Vec::new();
        files(&shared.join(rel), &mut paths);
        let mut chosen: BTreeMap<String, String> = BTreeMap::new();
        for path in paths {
            let Ok(record) = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| parse_record(&b).map_err(|e| e.to_string()))
            else {
                continue;
            };
            for a in &record.affected {
                let Some(p) = &a.package else { continue };
                if purl_type == "deb" && p.ecosystem != "Debian:10" {
                    continue;
                }
                let fixed = a.ranges.iter().filter(|r| r.kind != "GIT").flat_map(|r| &r.events).find_map(|e| match e {
                    Event::Fixed(v) => Some(v.clone()),
                    _ => None,
                });
                if let Some(v) = fixed {
                    chosen.entry(p.name.clone()).or_insert(v);
                }
            }
        }
        for (name, version) in chosen.into_iter().take(250) {
            let version = if purl_type == "golang" { format!("v{version}") } else { version };
            out.push(Package {
                ecosystem: purl_type.into(),
                purl: format!("pkg:{purl_type}/{name}@{version}"),
                source: (purl_type == "deb").then(|| SourcePackage { name: name.clone(), version: None }),
                name,
                version,
                arch: None,
                license: None,
                locations: vec!["/bench".into()],
                layer: Some(0),
                removed_in: None,
                dependencies: Vec::new(),
                identification: None,
            });
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shared = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if !shared.join("advisories").is_dir() {
        return Err(format!("shared data not found at {} (set BULWARK_SHARED)", shared.display()).into());
    }
    let tmp = tempfile::tempdir()?;
    let db_path = match std::env::args_os().nth(1) {
        Some(p) => PathBuf::from(p),
        None => {
            let path = tmp.path().join("bulwark.db");
            let start = Instant::now();
            let mut builder = DbBuilder::new(&path)?;
            for (name, rel, _) in OSV {
                builder.add_osv(name, shared.join(rel))?;
            }
            builder.add_osv("ghsa-sample", shared.join("advisories/index-samples/ghsa-osv"))?;
            builder.add_osv("k8s-cve-feed-osv", shared.join("advisories/k8s-cve-feed-osv/vulns"))?;
            builder.add_kev("cisa-kev", shared.join("advisories/cisa-kev/known_exploited_vulnerabilities.json"))?;
            let report = builder.finish()?;
            println!("build: {:.2} s, DB {:.1} MiB", start.elapsed().as_secs_f64(), report.size as f64 / 1048576.0);
            path
        }
    };
    let packages = packages(&shared);
    let os = OsRelease {
        id: "debian".into(),
        version_id: Some("10".into()),
        version_codename: Some("buster".into()),
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: Some("Debian:10".into()),
        distroless: false,
    };

    let mut times: Vec<Duration> = Vec::new();
    let mut last = (0, 0);
    for _ in 0..20 {
        let start = Instant::now();
        let db = Db::open(&db_path)?;
        let (found, warnings) = match_packages(&packages, Some(&os), &db);
        times.push(start.elapsed());
        last = (found.len(), warnings.len());
        if std::env::var_os("BENCH_WARNINGS").is_some() && times.len() == 1 {
            for w in &warnings {
                println!("warning: {w}");
            }
        }
    }
    times.sort();
    // The DB share: the same lookups without matching.
    let mut lookups: Vec<Duration> = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let db = Db::open(&db_path)?;
        let mut seen = std::collections::HashSet::new();
        for p in &packages {
            let (eco, name) = match p.ecosystem.as_str() {
                "deb" => ("Debian:10", p.name.as_str()),
                other => (bulwark_match::osv_ecosystem_of_purl_type(other).unwrap_or_default(), p.name.as_str()),
            };
            if seen.insert((eco, name)) {
                db.advisories_for(eco, name)?;
            }
        }
        lookups.push(start.elapsed());
    }
    lookups.sort();
    println!("of which open + advisories_for alone: median {:.2} ms", lookups[lookups.len() / 2].as_secs_f64() * 1e3);
    let median = times[times.len() / 2];
    println!(
        "open + match {} packages: min {:.2} ms, median {:.2} ms (20 runs, cold first run {:.2} ms max); {} findings, {} warnings; {:.0} packages/s",
        packages.len(),
        times[0].as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        last.0,
        last.1,
        packages.len() as f64 / median.as_secs_f64()
    );
    Ok(())
}
