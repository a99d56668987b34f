//! What redaction costs against the whole scan it belongs to, in the same run: scans the
//! Debian minbase image (`BULWARK_MINBASE_TAR`, from `scripts/minbase.sh`) without a cache,
//! then times `Redactor::redact_report` on copies of its report (the clone's own cost is
//! measured and taken off) and prints the ratio to the scan.
//!
//! `bench/redaction.sh` runs it (release build).
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use bulwark_image::spec::Compression;
use bulwark_testkit::image::{build_from_tars, write_oci_layout};

fn main() {
    let tar = std::env::var_os("BULWARK_MINBASE_TAR")
        .expect("set BULWARK_MINBASE_TAR to the tar of scripts/minbase.sh (bench/redaction.sh does)");
    let layer = std::fs::read(Path::new(&tar)).expect("read BULWARK_MINBASE_TAR");
    let tmp = tempfile::tempdir().expect("temp dir");
    let built = build_from_tars(vec![(layer, Compression::None)], "amd64", serde_json::json!({"Cmd": ["bash"]}));
    write_oci_layout(tmp.path(), &built, "1");
    let reference = format!("oci:{}", tmp.path().display()).parse().expect("reference");

    let opts = bulwark_scan::ScanOptions { cache_dir: None, ..Default::default() };
    let start = Instant::now();
    let (report, _) = bulwark_scan::scan(&reference, &opts, &bulwark_image::NoProgress).expect("scan");
    let scan = start.elapsed();
    let redactor = bulwark_scan::Redactor::builtin().expect("built-in redactor");
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        let mut r = report.clone();
        redactor.redact_report(&mut r);
    }
    let redact = start.elapsed() / runs;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(report.clone());
    }
    let clone = start.elapsed() / runs;
    let json = serde_json::to_string(&report).expect("report serialises").len();
    let cost = redact.saturating_sub(clone);
    println!(
        "scan {scan:?} ({} packages, {json} bytes of JSON); redact_report {cost:?} = {:.3}% of the scan",
        report.packages.len(),
        100.0 * cost.as_secs_f64() / scan.as_secs_f64()
    );
}
