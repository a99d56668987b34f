//! The inventory end to end through the pipeline, on real package databases from
//! `../shared/fixtures/os-pkgdb`: OS detection, packages, purls, and the layer that
//! introduced (or removed) each package.

use bulwark_testkit::image as fixture;

use std::collections::BTreeMap;

use bulwark_core::report::{Package, ScanReport};
use bulwark_core::{Reference, WarningKind};
use bulwark_image::NoProgress;
use bulwark_image::spec::Compression;
use bulwark_scan::{ScanOptions, scan};
use fixture::*;

fn run(reference: &str) -> ScanReport {
    let r: Reference = reference.parse().unwrap();
    let opts = ScanOptions { cache_dir: None, ..Default::default() };
    scan(&r.into(), &opts, &NoProgress).unwrap_or_else(|e| panic!("{reference}: {e}")).0
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

/// Real language package files from this machine: the system Python's pip, node's bundled
/// npm dependencies and Debian's maven jars.
#[test]
fn language_packages_with_layers_and_os_ownership() {
    let site = std::path::Path::new("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages");
    let pip_metadata = std::fs::read_dir(site)
        .expect("the machine's Python")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("pip-"))
        .map(|e| e.path().join("METADATA"))
        .unwrap();
    let pip = std::fs::read(&pip_metadata).unwrap();
    let pip_version =
        String::from_utf8_lossy(&pip).lines().find_map(|l| l.strip_prefix("Version: ").map(str::to_owned)).unwrap();
    let npm = std::path::Path::new("/usr/lib/node_modules/npm/node_modules/semver/package.json");
    let npm = if npm.exists() {
        npm.to_path_buf()
    } else {
        let node = std::fs::canonicalize(which("node")).unwrap();
        node.parent().unwrap().join("../lib/node_modules/npm/node_modules/semver/package.json")
    };
    let semver_json = std::fs::read(&npm).unwrap();
    let jar = std::fs::read("/usr/share/maven/lib/commons-io.jar").expect("Debian's maven");

    let owned_metadata = "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA";
    let status = "Package: python3-six\nStatus: install ok installed\nArchitecture: all\nVersion: 1.16.0-4\n";
    let bin = |p: &str, c: &[u8]| Item::File(p.to_owned(), c.to_vec());
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
                file("var/lib/dpkg/status", status),
                file("var/lib/dpkg/info/python3-six.list", &format!("/.\n/{owned_metadata}\n")),
                file(owned_metadata, "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"),
                bin("usr/local/lib/python3.11/site-packages/pip-x.dist-info/METADATA", &pip),
                bin("app/node_modules/semver/package.json", &semver_json),
                file(
                    "app/package-lock.json",
                    r#"{"lockfileVersion":3,"packages":{"":{},"node_modules/left-pad":{"version":"1.3.0"}}}"#,
                ),
                bin("opt/lib/commons-io.jar", &jar),
            ],
        },
        Layer {
            compression: Compression::Zstd,
            // The same METADATA rewritten (a `chmod -R` step) keeps layer 0 as the introducer.
            items: vec![bin("usr/local/lib/python3.11/site-packages/pip-x.dist-info/METADATA", &pip)],
        },
        Layer { compression: Compression::Gzip, items: vec![whiteout("opt/lib/commons-io.jar")] },
    ];
    let built = build(&layers, "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "1");
    let report = run(&format!("oci:{}", tmp.path().display()));
    let find = |eco: &str, name: &str| report.packages.iter().find(|p| p.ecosystem == eco && p.name == name);

    assert!(find("pypi", "six").is_none(), "six belongs to the python3-six deb");
    assert!(find("deb", "python3-six").is_some());
    let pip = find("pypi", "pip").expect("pip found");
    assert_eq!(pip.version, pip_version);
    assert_eq!(pip.layer, Some(0));
    assert_eq!(pip.locations, ["/usr/local/lib/python3.11/site-packages/pip-x.dist-info/METADATA"]);
    let semver = find("npm", "semver").expect("semver found");
    assert_eq!(semver.purl, format!("pkg:npm/semver@{}", semver.version));
    assert!(find("npm", "left-pad").is_none(), "the installed node_modules tree wins over the lockfile");
    let commons =
        report.packages.iter().find(|p| p.ecosystem == "maven" && p.name.ends_with(":commons-io")).expect("jar");
    assert_eq!((commons.layer, commons.removed_in), (Some(0), Some(2)));
}

fn which(cmd: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(cmd)).find(|p| p.exists()))
        .unwrap_or_else(|| panic!("{cmd} not on PATH"))
}

/// Package files that are only partly readable give warnings about the file, named once:
/// in the warning's `path` (as the report shows paths, with a leading `/`), not glued into
/// the message too. Limit warnings name the file in their message and have no path.
#[test]
fn package_warnings_name_their_file_once() {
    let status = "Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\n\
                  Package: b\nStatus: install ok installed\n\n\
                  this is not a field\n\n\
                  Package: c\nStatus: install ok installed\nVersion: 2\n\n";
    let lock = r#"{"lockfileVersion":3,"packages":{"":{},"node_modules/x":{},"node_modules/y":{"version":"1.0.0"},"node_modules/z":{"version":"2.0.0"}}}"#;
    let layers = vec![Layer {
        compression: Compression::Gzip,
        items: vec![
            file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            file("var/lib/dpkg/status", status),
            file("var/lib/dpkg/info/a.md5sums", "zzz not md5\n"),
            file("app/package-lock.json", lock),
            // A lockfile reached through a link to a path no cataloger reads.
            file("data/lock.json", "{ not json"),
            symlink("srv/package-lock.json", "../data/lock.json"),
        ],
    }];
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &build(&layers, "amd64"), "1");
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let mut opts = ScanOptions { cache_dir: None, ..Default::default() };
    // One package per file: the lockfile's second package is over the limit.
    opts.read.limits.max_packages = 1;
    let report = scan(&r.into(), &opts, &NoProgress).unwrap().0;
    let about = |path: &str| -> Vec<(WarningKind, String)> {
        let ws = report.warnings.iter().filter(|w| w.path.as_deref() == Some(path));
        ws.map(|w| (w.kind, w.message.clone())).collect()
    };
    let package = |m: &str| (WarningKind::Package, m.to_owned());
    assert_eq!(
        about("/var/lib/dpkg/status"),
        [
            package("package b at line 6: no Version field, skipped"),
            package("line 9: not a field: this is not a field")
        ],
        "{:#?}",
        report.warnings
    );
    assert_eq!(about("/var/lib/dpkg/info/a.md5sums"), [package("line 1: not an md5sums line: zzz not md5")]);
    assert_eq!(about("/app/package-lock.json"), [package("packages[node_modules/x]: no version, skipped")]);
    let linked = about("/srv/package-lock.json");
    assert!(linked.len() == 1 && linked[0].1.starts_with("invalid JSON: "), "{linked:?}");
    // Each file is named once in each warning's text.
    for w in report.warnings.iter().filter(|w| w.kind != WarningKind::Limit && w.path.is_some()) {
        let text = w.to_string();
        let path = w.path.as_deref().unwrap();
        assert_eq!(text.matches(path).count(), 1, "{text}");
        assert_eq!(text, format!("{path}: {}", w.message));
    }
    let limits: Vec<String> =
        report.warnings.iter().filter(|w| w.kind == WarningKind::Limit).map(ToString::to_string).collect();
    assert!(
        limits.contains(
            &"limit reached: --max-packages=1: /app/package-lock.json: packages (1 more not checked)".to_owned()
        ),
        "{limits:?}"
    );
    assert!(report.warnings.iter().filter(|w| w.kind == WarningKind::Limit).all(|w| w.path.is_none()));
}
