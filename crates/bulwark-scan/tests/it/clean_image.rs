//! The false-positive check: a clean Debian bookworm minbase image (a real debootstrap root
//! filesystem, `scripts/minbase.sh`, passed in `BULWARK_MINBASE_TAR`) scanned with every
//! scanner gives no malware and no secret finding, and only the misconfigurations that are
//! true of such an image.

use bulwark_testkit::image as fixture;

use std::collections::BTreeSet;
use std::path::Path;

use bulwark_image::spec::Compression;
use bulwark_scan::{ScanOptions, scan};
use serde_json::json;

#[test]
fn clean_debian_minbase_has_no_secret_or_malware_finding() {
    let Some(tar) = std::env::var_os("BULWARK_MINBASE_TAR") else {
        bulwark_testkit::skip_unless_ci(
            "BULWARK_MINBASE_TAR is not set (scripts/test.sh sets it from scripts/minbase.sh)",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // One uncompressed layer, as `docker import` makes it.
    let layer = std::fs::read(Path::new(&tar)).unwrap();
    let built = fixture::build_from_tars(vec![(layer, Compression::None)], "amd64", json!({"Cmd": ["bash"]}));
    fixture::write_oci_layout(tmp.path(), &built, "1");
    let reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let opts = ScanOptions { cache_dir: None, ..ScanOptions::default() };
    let (report, _) = scan(&reference, &opts, &bulwark_image::NoProgress).unwrap();

    // No advisory database: vuln is named as not run, not among the scanners that ran.
    assert_eq!(report.scanners, ["malware", "secret", "config"]);
    assert_eq!(report.not_run.iter().map(|n| n.scanner.as_str()).collect::<Vec<_>>(), ["vuln"]);
    assert_eq!(report.os.as_ref().map(|o| o.id.as_str()), Some("debian"));
    assert!(report.packages.len() > 80, "{} packages", report.packages.len());
    assert!(report.malware.is_empty(), "malware false positives: {:#?}", report.malware);
    assert!(report.secrets.is_empty(), "secret false positives: {:#?}", report.secrets);

    // What remains is true of this image and expected:
    // - BW-CFG-001: no `User` (the image runs as root);
    // - BW-CFG-006: no HEALTHCHECK;
    // - BW-CFG-010: debootstrap leaves the downloaded .debs in /var/cache/apt/archives and
    //   the package lists in /var/lib/apt/lists.
    // The distribution's own setuid binaries (passwd, su, mount…) are in the base layer and
    // not reported (docs/misconfig.md, base-layer rule 4).
    let ids: BTreeSet<&str> = report.misconfigurations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["BW-CFG-001", "BW-CFG-006", "BW-CFG-010"]), "{:#?}", report.misconfigurations);
}
