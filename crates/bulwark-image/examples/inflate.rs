//! Decompress-only baseline for `bench/run.sh`: streams each gzip file through the same
//! decoder Bulwark's layer reader uses (`flate2::bufread::MultiGzDecoder` over a 256 KiB
//! `BufReader`, flate2 with zlib-rs + runtime_detection from the workspace) into nothing,
//! files in parallel on as many threads as `bulwark scan` uses by default
//! (`available_parallelism` clamped to 2..=8). No hashing, no tar parsing.
//!
//! ```text
//! cargo run --release -p bulwark-image --example inflate -- [-j N] [-v] FILE...
//! ```

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Same input buffer as `bulwark_image::layer::analyze_layer`.
const IN_BUF: usize = 256 * 1024;
/// Output chunk the sink reads at a time.
const OUT_BUF: usize = 256 * 1024;

fn inflate(path: &str) -> io::Result<u64> {
    let file = BufReader::with_capacity(IN_BUF, File::open(path)?);
    let mut decoder = flate2::bufread::MultiGzDecoder::new(file);
    let mut buf = vec![0u8; OUT_BUF];
    let mut total = 0u64;
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn main() {
    let mut jobs = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let mut verbose = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-j" => jobs = args.next().and_then(|n| n.parse().ok()).unwrap_or(jobs).max(1),
            "-v" => verbose = true,
            _ => files.push(a),
        }
    }
    let mut err = io::stderr().lock();
    if files.is_empty() {
        let _ = writeln!(err, "usage: inflate [-j N] [-v] FILE...");
        std::process::exit(2);
    }
    drop(err);
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, io::Result<u64>, f64)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(files.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = files.get(i) else { break };
                    let t = Instant::now();
                    let r = inflate(path);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, r, t.elapsed().as_secs_f64()));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.0);
    let mut err = io::stderr().lock();
    let mut failed = false;
    let mut total = 0u64;
    for (i, r, secs) in &results {
        match r {
            Ok(n) => {
                total += n;
                if verbose {
                    let _ =
                        writeln!(err, "{}: {n} bytes in {secs:.3} s ({:.0} MB/s)", files[*i], *n as f64 / secs / 1e6);
                }
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(err, "{}: {e}", files[*i]);
            }
        }
    }
    if verbose {
        let secs = start.elapsed().as_secs_f64();
        let _ = writeln!(
            err,
            "total: {total} bytes in {secs:.3} s on {jobs} threads ({:.0} MB/s)",
            total as f64 / secs / 1e6
        );
    }
    if failed {
        std::process::exit(1);
    }
}
