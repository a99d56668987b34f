//! Secret scanner throughput over the files of `/usr/lib/python3*` and `/usr/share` that the
//! scanner wants, held in memory: the built-in rules, then the built-in rules plus the real
//! gitleaks rule file (`../shared/secrets/gitleaks`). The baseline, measured in the same run
//! over the same bytes, is one SHA-256 pass (what reading a layer costs anyway), so the ratio
//! says how many hash passes a secret scan is worth on this CPU.
//!
//! `bench/secret.sh` runs it (release build).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use bulwark_detect::secret::{SecretConfig, SecretScanner};
use bulwark_layer::FileAnalyzer as _;
use sha2::{Digest as _, Sha256};

fn files(roots: &[PathBuf], out: &mut Vec<PathBuf>) {
    for root in roots {
        let Ok(rd) = std::fs::read_dir(root) else { continue };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                files(&[e.path()], out);
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
}

fn main() {
    let mut roots: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("python3")))
                .collect()
        })
        .unwrap_or_default();
    roots.sort();
    roots.push(PathBuf::from("/usr/share"));
    let mut paths = Vec::new();
    files(&roots, &mut paths);
    let builtin = SecretScanner::new(&SecretConfig::default()).expect("built-in rules");
    let contents: Vec<(String, Vec<u8>)> = paths
        .iter()
        .filter(|p| builtin.wants(&p.to_string_lossy(), std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), 0o644))
        .filter_map(|p| Some((p.to_string_lossy().into_owned(), std::fs::read(p).ok()?)))
        .collect();
    assert!(!contents.is_empty(), "no file to scan under {roots:?}");
    let mb = contents.iter().map(|c| c.1.len()).sum::<usize>() as f64 / 1e6;

    let start = Instant::now();
    let mut sink = 0u8;
    for (_, c) in &contents {
        sink ^= Sha256::digest(c)[0];
    }
    let sha = start.elapsed().as_secs_f64();
    std::hint::black_box(sink);

    let gitleaks = bulwark_testkit::shared_dir("secrets/gitleaks/config/gitleaks.toml");
    let with_gitleaks = SecretScanner::new(&SecretConfig { rule_files: vec![gitleaks], ..Default::default() })
        .expect("gitleaks rule file");
    println!("{} files, {mb:.1} MB in memory; sha256 baseline {:.0} MB/s", contents.len(), mb / sha);
    for (label, scanner) in [("built-in", &builtin), ("built-in + gitleaks", &with_gitleaks)] {
        let start = Instant::now();
        let mut hits = 0;
        for (p, c) in &contents {
            hits += scanner.scan_bytes(p, c).len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!("{label}: {:.0} MB/s = {:.2} x sha256 time ({hits} hits)", mb / secs, secs / sha);
    }
}
