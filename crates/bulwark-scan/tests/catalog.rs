//! The inventory end to end through the pipeline, on real package databases from
//! `../shared/fixtures/os-pkgdb`: OS detection, packages, purls, and the layer that
//! introduced (or removed) each package.

#[path = "../../bulwark-image/tests/fixture/mod.rs"]
mod fixture;

use std::collections::BTreeMap;

use bulwark_core::Reference;
use bulwark_core::report::{Package, ScanReport};
use bulwark_image::NoProgress;
use bulwark_image::spec::Compression;
use bulwark_scan::{ScanOptions, scan};
use fixture::*;

fn run(reference: &str) -> ScanReport {
    let r: Reference = reference.parse().unwrap();
    let opts = ScanOptions { cache_dir: None, ..Default::default() };
    scan(&r, &opts, &NoProgress).unwrap_or_else(|e| panic!("{reference}: {e}")).0
}

fn fixtures() -> std::path::PathBuf {
    shared().join("fixtures/os-pkgdb")
}

#[test]
fn rootfs_fixtures_give_os_and_packages() {
    let os = fixtures().join("syft/linux/testdata/os");
    for (dir, id, version) in [
        ("alpine", "alpine", "3.11.6"),
        ("debian/with-point-release", "debian", "13"),
        ("redhat/from-redhat-release", "rhel", "8.10"),
        ("centos5", "centos", "5.7"),
        ("amazon", "amzn", "2"),
        ("wolfi", "wolfi", "20220914"),
    ] {
        let report = run(&format!("dir:{}", os.join(dir).display()));
        let got = report.os.as_ref().unwrap_or_else(|| panic!("{dir}: no OS"));
        assert_eq!((got.id.as_str(), got.version_id.as_deref()), (id, Some(version)), "{dir}");
    }
    let apk = run(&format!("dir:{}", fixtures().join("syft/pkg/cataloger/alpine/testdata/multiple-2").display()));
    assert_eq!(apk.packages.len(), 14);
    assert!(apk.packages.iter().all(|p| p.ecosystem == "apk" && p.locations == ["/lib/apk/db/installed"]));
    assert!(apk.packages.iter().all(|p| p.layer == Some(0) && p.purl.starts_with("pkg:apk/alpine/")));
}

fn paragraphs(status: &str) -> Vec<String> {
    status.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| format!("{p}\n")).collect()
}

#[test]
fn layer_that_introduced_and_removed_each_package() {
    // A real dpkg status file (claircore's texlive image), split across layers the way
    // `apt-get install` in successive `RUN` steps rewrites it.
    let status = std::fs::read_to_string(fixtures().join("claircore/dpkg/testdata/texlive.status")).unwrap();
    let paras = paragraphs(&status);
    assert!(paras.len() > 300);
    let base: Vec<String> = paras[..100].to_vec();
    let all = paras.clone();
    let mut minus_one = paras.clone();
    let dropped = minus_one.remove(150);
    let dropped_name = dropped.lines().find_map(|l| l.strip_prefix("Package: ")).unwrap().to_owned();
    let os_release = "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file("etc/os-release", os_release),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                file("var/lib/dpkg/status", &base.join("\n")),
            ],
        },
        Layer { compression: Compression::Gzip, items: vec![file("var/lib/dpkg/status", &all.join("\n"))] },
        // Rewritten with the same content (e.g. `chmod -R`): must not move attribution.
        Layer { compression: Compression::Gzip, items: vec![file("var/lib/dpkg/status", &all.join("\n"))] },
        Layer { compression: Compression::Gzip, items: vec![file("var/lib/dpkg/status", &minus_one.join("\n"))] },
    ];
    let built = build(&layers, "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "1");
    let report = run(&format!("oci:{}", tmp.path().display()));

    assert_eq!(report.os.as_ref().unwrap().osv_ecosystem.as_deref(), Some("Debian:12"));
    let installed: Vec<&Package> = report.packages.iter().filter(|p| p.removed_in.is_none()).collect();
    let removed: Vec<&Package> = report.packages.iter().filter(|p| p.removed_in.is_some()).collect();
    let (expected, _) = bulwark_catalog::dpkg::parse_status(minus_one.join("\n").as_bytes(), "/var/lib/dpkg/status");
    assert_eq!(installed.len(), expected.len());
    let first_layer: BTreeMap<String, usize> = {
        let (b, _) = bulwark_catalog::dpkg::parse_status(base.join("\n").as_bytes(), "/x");
        b.into_iter().map(|p| (p.name, 0)).collect()
    };
    for p in &installed {
        let want = first_layer.get(&p.name).copied().unwrap_or(1);
        assert_eq!(p.layer, Some(want), "{} {}", p.name, p.version);
        assert!(p.purl.starts_with("pkg:deb/debian/") && p.purl.contains("distro=debian-12"), "{}", p.purl);
    }
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].name, dropped_name);
    assert_eq!(removed[0].removed_in, Some(3));
}
