//! Builds a DB from all OSV data in `../shared/advisories` (read in place) and times opening
//! it plus 1,000 `advisories_for` queries with real package names from those records.
//!
//! ```text
//! cargo run --release -p bulwark-vulndb --example query_bench [-- <output.db>]
//! ```
//!
//! `BULWARK_SHARED` overrides the shared folder (default `<crate>/../../../shared`).

#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bulwark_vulndb::{Db, DbBuilder, Format, parse_record};

/// The OSV sources in the shared folder, with the names they get in the DB.
const OSV: [(&str, &str); 7] = [
    ("go-vulndb", "advisories/go-vulndb/data/osv"),
    ("rustsec-osv", "advisories/rustsec-osv/crates"),
    ("pypa-advisory-db", "advisories/pypa-advisory-db/vulns"),
    ("debian-elts-osv", "advisories/debian-elts-osv/advisories"),
    ("k8s-cve-feed-osv", "advisories/k8s-cve-feed-osv/vulns"),
    ("ghsa-sample", "advisories/index-samples/ghsa-osv"),
    ("ubuntu-sample", "advisories/index-samples/ubuntu-osv"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shared = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if !shared.join("advisories").is_dir() {
        return Err(format!("shared data not found at {} (set BULWARK_SHARED)", shared.display()).into());
    }
    let tmp = tempfile::tempdir()?;
    let out = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(|| tmp.path().join("bulwark.db"));

    let start = Instant::now();
    let mut builder = DbBuilder::new(&out)?;
    for (name, rel) in OSV {
        builder.add_osv(name, shared.join(rel))?;
    }
    builder.add_kev("cisa-kev", shared.join("advisories/cisa-kev/known_exploited_vulnerabilities.json"))?;
    builder.add_nvd("nvd-sample", shared.join("advisories/index-samples/nvd-json2"))?;
    let report = builder.finish()?;
    let build = start.elapsed();
    println!("build: {:.2} s, {} warnings, DB {:.1} MiB", build.as_secs_f64(), report.warnings.len(), mib(report.size));
    for s in &report.metadata.sources {
        println!(
            "  {:<18} files {:>5}  records {:>5}  withdrawn {:>3}  invalid {:>2}  duplicates {:>2}",
            s.name, s.files, s.records, s.withdrawn, s.invalid, s.duplicates
        );
    }

    // Real (ecosystem, name) pairs from the records, spread evenly over the sorted list.
    let mut pairs = BTreeSet::new();
    for (_, rel) in OSV {
        collect(&shared.join(rel), &mut pairs)?;
    }
    let pairs: Vec<_> = pairs.into_iter().collect();
    let step = (pairs.len() / 1000).max(1);
    let queries: Vec<_> = pairs.iter().step_by(step).take(1000).cloned().collect();
    let misses: Vec<_> = queries.iter().map(|(e, n)| (e.clone(), format!("{n}-not-a-package"))).collect();
    println!("{} distinct packages in the records; querying {}", pairs.len(), queries.len());

    for (label, set) in [("hits", &queries), ("misses", &misses)] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let t = Instant::now();
            let db = Db::open(&out)?;
            found = 0;
            for (eco, name) in set.iter() {
                found += db.advisories_for(eco, name)?.len();
            }
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "open + {} queries ({label}, {found} advisories): min {:.1} ms, median {:.1} ms, max {:.1} ms",
            set.len(),
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}

fn collect(dir: &Path, out: &mut BTreeSet<(String, String)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if Format::from_path(&path.to_string_lossy()).is_some()
            && let Ok(record) = parse_record(&std::fs::read(&path)?)
            && record.withdrawn.is_none()
        {
            for a in record.affected {
                if let Some(p) = a.package {
                    out.insert((p.ecosystem, p.name));
                }
            }
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
