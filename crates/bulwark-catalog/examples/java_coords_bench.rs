//! How much of the Java cataloger's time the coordinate resolution of jars without
//! `pom.properties` takes (issue 15: ≤ 2% of a scan of an image with 200 jars). Run by
//! `bench/java-coords.sh`, which compares the figure with the whole scan's time measured in
//! the same run.
//!
//!     java_coords_bench DIR [ROUNDS]
//!
//! Reads every `*.jar` under DIR into memory, then per round times (a) the whole cataloger,
//! `java::parse_archive`, over all of them and (b) the resolution work alone, as if every
//! jar lacked `pom.properties`: the class packages from the entry names, parsing the
//! manifest and `java_coords::resolve` (opening the zip and inflating the manifest were
//! done before this change too and are not counted).
//! Prints the medians in milliseconds as `key=value` lines.

// A benchmark program: its results are its output.
#![allow(clippy::print_stdout)]

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use bulwark_catalog::lang::java::{self, Limits};
use bulwark_catalog::lang::java_coords::{self, ClassPackages, Evidence};

fn jars(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            jars(&path, out);
        } else if meta.is_file() && java::is_archive_name(&path.to_string_lossy()) {
            out.push((path.display().to_string(), std::fs::read(&path).expect("read jar")));
        }
    }
}

/// What the cataloger has at hand when it resolves a jar: the entry names and the
/// manifest bytes (reading them was done before this change too, so it is not timed).
fn prepare(bytes: &[u8]) -> (Vec<String>, Vec<u8>) {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return (Vec::new(), Vec::new()) };
    let names: Vec<String> =
        (0..zip.len()).filter_map(|i| zip.name_for_index(i)?.ok().map(|n| n.into_owned())).collect();
    let mut mf = Vec::new();
    if let Ok(mut e) = zip.by_name("META-INF/MANIFEST.MF") {
        let _ = e.read_to_end(&mut mf);
    }
    (names, mf)
}

/// The resolution work of one jar, as `parse_archive` does it for a jar without
/// `pom.properties`: every entry name through `ClassPackages`, the manifest parsed, `resolve`.
fn resolve_only(path: &str, names: &[String], mf: &[u8]) -> usize {
    let mut classes = ClassPackages::default();
    for name in names {
        classes.add(name);
    }
    let manifest = java::parse_manifest(mf);
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let ev = Evidence { manifest: &manifest, file_name, class_package: classes.finish(), pom_xml: Vec::new() };
    java_coords::resolve(&ev).map_or(0, |c| c.artifact.len())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: java_coords_bench DIR [ROUNDS]");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(9);
    let mut all = Vec::new();
    jars(Path::new(&dir), &mut all);
    assert!(!all.is_empty(), "no jars under {dir}");
    let prepared: Vec<(Vec<String>, Vec<u8>)> = all.iter().map(|(_, b)| prepare(b)).collect();
    let (mut whole, mut resolve) = (Vec::new(), Vec::new());
    let mut sink = 0usize;
    for _ in 0..rounds {
        let t = Instant::now();
        for (path, bytes) in &all {
            sink += java::parse_archive(bytes, path, &Limits::default()).0.len();
        }
        whole.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        for ((path, _), (names, mf)) in all.iter().zip(&prepared) {
            sink += resolve_only(path, names, mf);
        }
        resolve.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("jars={}", all.len());
    println!("catalog_ms={:.2}", median(whole));
    println!("resolve_ms={:.2}", median(resolve));
    println!("sink={sink}");
}
