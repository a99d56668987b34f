//! Parsers against the real files in `../shared/fixtures/os-pkgdb/` (Syft's and Clair's
//! test data, read in place) and `../shared/advisories/debian-security-support/`. Expected
//! values are taken from the files themselves; for rpm they were cross-checked with
//! `rpm -qa --dbpath … --define '_db_backend bdb_ro'` (rpm 4.18).

use std::path::PathBuf;

use bulwark_catalog::os::{self, OsInfo, ReleaseFiles};
use bulwark_catalog::{PackageKind, apk, debian_support, dpkg, rpm};

/// The shared data folder, checked to hold `fixtures/os-pkgdb`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("fixtures/os-pkgdb");
    bulwark_testkit::shared()
}

fn fixture(rel: &str) -> PathBuf {
    shared().join("fixtures/os-pkgdb").join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let p = fixture(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Detects the OS of a fixture root directory.
fn detect_root(rel: &str) -> Option<OsInfo> {
    let root = fixture(rel);
    let get = |p: &str| std::fs::read(root.join(p)).ok();
    let (a, b, c, d, e, f) = (
        get("etc/os-release"),
        get("usr/lib/os-release"),
        get("etc/alpine-release"),
        get("etc/debian_version"),
        get("etc/redhat-release"),
        get("etc/system-release"),
    );
    let status_d = root.join("var/lib/dpkg/status.d");
    os::detect(&ReleaseFiles {
        etc_os_release: a.as_deref(),
        usr_lib_os_release: b.as_deref(),
        alpine_release: c.as_deref(),
        debian_version: d.as_deref(),
        redhat_release: e.as_deref(),
        system_release: f.as_deref(),
        has_dpkg_status_d: std::fs::read_dir(status_d).is_ok_and(|mut d| d.next().is_some()),
    })
}

/// Detects the OS from a single os-release file.
fn detect_file(rel: &str) -> Option<OsInfo> {
    let bytes = read(rel);
    os::detect(&ReleaseFiles { etc_os_release: Some(&bytes), ..Default::default() })
}

type Want = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);

fn check_os(what: &str, got: Option<OsInfo>, want: Option<Want>) {
    let got = got.map(|i| (i.id, i.version_id, i.codename, i.osv_ecosystem));
    let want =
        want.map(|(id, v, c, e)| (id.to_owned(), v.map(str::to_owned), c.map(str::to_owned), e.map(str::to_owned)));
    assert_eq!(got, want, "{what}");
}

#[test]
fn os_detection_syft_fixtures() {
    let base = "syft/linux/testdata/os/";
    let cases: &[(&str, Option<Want>)] = &[
        ("alpine", Some(("alpine", Some("3.11.6"), None, Some("Alpine:v3.11")))),
        ("almalinux/from-os-release", Some(("almalinux", Some("8.4"), None, Some("AlmaLinux:8")))),
        ("almalinux/from-redhat-release", Some(("almalinux", Some("8.10"), None, Some("AlmaLinux:8")))),
        ("amazon", Some(("amzn", Some("2"), None, None))),
        ("arch", Some(("arch", None, None, None))),
        ("busybox", None),
        ("centos", Some(("centos", Some("8"), None, None))),
        ("centos5", Some(("centos", Some("5.7"), None, None))),
        // Only system-release-cpe, which is not read.
        ("centos6", None),
        ("custom", Some(("scientific", Some("8"), None, None))),
        ("debian/from-debian_version", Some(("debian", Some("10"), None, Some("Debian:10")))),
        ("debian/from-os-release", Some(("debian", Some("8"), Some("jessie"), Some("Debian:8")))),
        ("debian/with-point-release", Some(("debian", Some("13"), Some("trixie"), Some("Debian:13")))),
        ("empty", None),
        ("fedora", Some(("fedora", Some("36"), None, None))),
        ("mariner", Some(("mariner", Some("1.0"), None, None))),
        ("opensuse-leap", Some(("opensuse-leap", Some("15.2"), None, Some("openSUSE:openSUSE Leap 15.2")))),
        ("oraclelinux", Some(("ol", Some("8.3"), None, None))),
        ("photon", Some(("photon", Some("2.0"), None, Some("Photon OS:2.0")))),
        ("redhat/from-os-release", Some(("rhel", Some("7.3"), None, Some("Red Hat:enterprise_linux:7")))),
        ("redhat/from-redhat-release", Some(("rhel", Some("8.10"), None, Some("Red Hat:enterprise_linux:8")))),
        ("rockylinux/from-os-release", Some(("rocky", Some("8.4"), None, Some("Rocky Linux:8")))),
        ("rockylinux/from-redhat-release", Some(("rocky", Some("8.10"), None, Some("Rocky Linux:8")))),
        ("scientific/from-os-release", Some(("scientific", Some("7.5"), None, None))),
        ("scientific/from-redhat-release", Some(("scientific", Some("7.9"), None, None))),
        ("sles", Some(("sles", Some("15.2"), None, Some("SUSE:SUSE Linux Enterprise Server 15 SP2")))),
        ("ubuntu", Some(("ubuntu", Some("20.04"), Some("focal"), Some("Ubuntu:20.04:LTS")))),
        ("wolfi", Some(("wolfi", Some("20220914"), None, Some("Wolfi")))),
    ];
    for (dir, want) in cases {
        check_os(dir, detect_root(&format!("{base}{dir}")), *want);
    }
    let files: &[(&str, Option<Want>)] = &[
        ("debian-8", Some(("debian", Some("8"), Some("jessie"), Some("Debian:8")))),
        ("ubuntu-20.04", Some(("ubuntu", Some("20.04"), Some("focal"), Some("Ubuntu:20.04:LTS")))),
        ("centos-8", Some(("centos", Some("8"), None, None))),
        ("rhel-8", Some(("rhel", Some("8.1"), None, Some("Red Hat:enterprise_linux:8")))),
        ("unprintable", Some(("debian", Some("8"), Some("jessie"), Some("Debian:8")))),
        ("partial-fields/missing-id/usr/lib/os-release", None),
        ("partial-fields/missing-version/usr/lib/os-release", None),
        ("partial-fields/unknown-id/usr/lib/os-release", Some(("my-awesome-distro", Some("8"), None, None))),
    ];
    for (file, want) in files {
        check_os(file, detect_file(&format!("syft/linux/testdata/{file}")), *want);
    }
    // Not release files: the parser must not invent an OS from them.
    let bad = read("syft/linux/testdata/bad-redhat-release");
    let info = os::detect(&ReleaseFiles { redhat_release: Some(&bad), ..Default::default() }).unwrap();
    assert_eq!((info.id.as_str(), info.version_id.as_deref()), ("centos", Some("5")));
    let distroless = detect_root("syft/linux/testdata/os/debian/from-debian_version").unwrap();
    assert!(distroless.distroless);
    assert_eq!(distroless.point_release.as_deref(), Some("10.8"));
}

#[test]
fn os_detection_claircore_debian_and_alpine() {
    for n in 7..=12 {
        let info = detect_root(&format!("claircore/debian/testdata/dist/{n}")).unwrap();
        assert_eq!(info.osv_ecosystem, Some(format!("Debian:{n}")));
        assert!(!info.distroless);
    }
    for n in 9..=11 {
        let info = detect_root(&format!("claircore/debian/testdata/distroless_dist/{n}")).unwrap();
        assert_eq!(info.osv_ecosystem, Some(format!("Debian:{n}")));
        assert!(info.distroless, "distroless {n}");
    }
    // claircore's `want` files give the release branch for each os-release.
    let dir = fixture("claircore/alpine/testdata");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(want) = std::fs::read(path.join("want")) else { continue };
        let want: serde_json::Value = serde_json::from_slice(&want).unwrap();
        let branch = want[0]["version"].as_str().unwrap();
        let rel = path.strip_prefix(fixture("")).unwrap().to_str().unwrap().to_owned();
        let info = detect_root(&rel).unwrap();
        assert_eq!(info.id, "alpine");
        let expected = (branch != "edge").then(|| format!("Alpine:v{branch}"));
        assert_eq!(info.osv_ecosystem, expected, "{rel}");
        checked += 1;
    }
    assert_eq!(checked, 17);
}

#[test]
fn os_detection_claircore_osrelease_txtar() {
    let dir = fixture("claircore/osrelease/testdata");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let section = |name: &str| {
            let start = text.find(&format!("-- {name} --\n"))? + name.len() + 7;
            let end = text[start..].find("\n-- ").map_or(text.len(), |e| start + e + 1);
            Some(&text[start..end])
        };
        let (Some(release), Some(dist)) = (section("os-release"), section("Distribution")) else { continue };
        let dist: serde_json::Value = serde_json::from_str(dist).unwrap();
        let info = os::detect(&ReleaseFiles { etc_os_release: Some(release.as_bytes()), ..Default::default() })
            .unwrap_or_else(|| panic!("{}: nothing detected", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(Some(info.id.as_str()), dist["did"].as_str(), "{name}");
        assert_eq!(info.version_id.as_deref(), dist["version_id"].as_str(), "{name}");
        if let Some(code) = dist["version_code_name"].as_str() {
            assert_eq!(info.codename.as_deref(), Some(code), "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} txtar cases");
}

#[test]
fn dpkg_status_files() {
    // claircore's real status files: every paragraph is `install ok installed`. vcpkg's
    // status file borrows dpkg's format: its 9 `Feature:` paragraphs have no Version and
    // are reported as warnings, its 15 packages are read.
    for (file, count, warned) in [("texlive", 357, 0), ("vcpkg", 15, 9), ("postgresql", 3, 0), ("debian-only", 1, 0)] {
        let bytes = read(&format!("claircore/dpkg/testdata/{file}.status"));
        let (pkgs, warnings) = dpkg::parse_status(&bytes, "/var/lib/dpkg/status");
        assert_eq!(pkgs.len(), count, "{file}");
        assert_eq!(warnings.len(), warned, "{file}: {warnings:?}");
        assert!(pkgs.iter().all(|p| p.kind == PackageKind::Deb && p.source_name.is_some()));
    }

    // Syft's image-dpkg: an empty `Package:` paragraph (warned) and libpam-runtime, whose
    // Conffiles and info/*.md5sums give its files.
    let status = read("syft/pkg/cataloger/debian/testdata/image-dpkg/var/lib/dpkg/status");
    let md5 = read("syft/pkg/cataloger/debian/testdata/image-dpkg/var/lib/dpkg/info/libpam-runtime.md5sums");
    let (pkgs, warnings) = dpkg::catalog(&status, "/var/lib/dpkg/status", [("libpam-runtime.md5sums", &md5[..])]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!((p.name.as_str(), p.version.as_str(), p.arch.as_deref()), ("libpam-runtime", "1.1.8-3.6", Some("all")));
    assert_eq!((p.source_name.as_deref(), p.source_version.as_deref()), (Some("pam"), Some("1.1.8-3.6")));
    assert!(p.files.contains(&"/etc/pam.conf".to_owned()) && p.files.contains(&"/etc/pam.d/other".to_owned()));
    assert_eq!(p.files.len(), 2 + 4, "{:?}", p.files);

    // `Source: libselinux (3.4-1)` carries the source version.
    let (pkgs, _) = dpkg::parse_status(
        &read("syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/coreutils-relationships"),
        "/var/lib/dpkg/status.d/coreutils-relationships",
    );
    assert_eq!(pkgs.len(), 9);
    let selinux = pkgs.iter().find(|p| p.name == "libselinux1").unwrap();
    assert_eq!(selinux.version, "3.4-1+b6");
    assert_eq!(
        (selinux.source_name.as_deref(), selinux.source_version.as_deref()),
        (Some("libselinux"), Some("3.4-1"))
    );
    let purl = selinux.purl(Some(&os::Distro::new("debian", "12"))).to_string();
    assert_eq!(purl, "pkg:deb/debian/libselinux1@3.4-1%2Bb6?arch=arm64&distro=debian-12");

    // `deinstall ok config-files` is not installed.
    let (pkgs, _) =
        dpkg::parse_status(&read("syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/deinstall"), "/d");
    assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["linux-image-6.14.0-1012-aws"]);

    // status.d/multiple: an empty paragraph name and a package without a version are
    // warnings; tzdata and util-linux are read.
    let (pkgs, warnings) =
        dpkg::parse_status(&read("syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/multiple"), "/m");
    assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["tzdata", "util-linux"]);
    assert_eq!(warnings.len(), 2, "{warnings:?}");

    // A corrupt file: no package, only warnings.
    let (pkgs, warnings) =
        dpkg::parse_status(&read("syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/corrupt"), "/c");
    assert!(pkgs.is_empty());
    assert!(!warnings.is_empty());
    let (pkgs, _) = dpkg::parse_status(&read("syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/empty"), "/e");
    assert!(pkgs.is_empty());
}

#[test]
fn dpkg_distroless_status_d() {
    let base = "syft/pkg/cataloger/debian/testdata/image-distroless-deb/var/lib/dpkg/status.d/";
    let status = read(&format!("{base}libsqlite3-0"));
    let md5 = read(&format!("{base}libsqlite3-0.md5sums"));
    let (pkgs, warnings) =
        dpkg::catalog(&status, "/var/lib/dpkg/status.d/libsqlite3-0", [("libsqlite3-0.md5sums", &md5[..])]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!((p.name.as_str(), p.version.as_str(), p.arch.as_deref()), ("libsqlite3-0", "3.34.1-3", Some("arm64")));
    assert_eq!(p.source_name.as_deref(), Some("sqlite3"));
    assert_eq!(p.files.len(), 6);
    assert!(p.files.contains(&"/usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6".to_owned()));
    assert!(detect_root("syft/pkg/cataloger/debian/testdata/image-distroless-deb").unwrap().distroless);
}

#[test]
fn apk_installed_dbs() {
    let base = "syft/pkg/cataloger/alpine/testdata/";
    for (file, count) in [
        ("single", 1),
        ("base", 1),
        ("extra-file-attributes", 1),
        ("empty-deps-and-provides", 1),
        ("multiple-1/lib/apk/db/installed", 4),
        ("multiple-2/lib/apk/db/installed", 14),
    ] {
        let (pkgs, warnings) = apk::parse_installed(&read(&format!("{base}{file}")), "/lib/apk/db/installed");
        assert_eq!(pkgs.len(), count, "{file}");
        assert!(warnings.is_empty(), "{file}: {warnings:?}");
    }
    let (pkgs, _) = apk::parse_installed(&read(&format!("{base}single")), "/lib/apk/db/installed");
    let p = &pkgs[0];
    assert_eq!((p.name.as_str(), p.version.as_str(), p.arch.as_deref()), ("musl-utils", "1.1.24-r2", Some("x86_64")));
    assert_eq!(p.source_name.as_deref(), Some("musl"));
    assert_eq!(p.license.as_deref(), Some("MIT BSD GPL2+"));
    assert_eq!(p.files.len(), 5, "{:?}", p.files);
    assert!(p.files.contains(&"/usr/bin/iconv".to_owned()) && p.files.contains(&"/sbin/ldconfig".to_owned()));
    let purl = p.purl(Some(&os::Distro::new("alpine", "3.11.6"))).to_string();
    assert_eq!(purl, "pkg:apk/alpine/musl-utils@1.1.24-r2?arch=x86_64&distro=alpine-3.11.6");

    let (pkgs, _) = apk::parse_installed(&read(&format!("{base}multiple-1/lib/apk/db/installed")), "/i");
    let busybox = pkgs.iter().find(|p| p.name == "busybox-binsh").unwrap();
    assert_eq!((busybox.version.as_str(), busybox.source_name.as_deref()), ("1.36.1-r15", Some("busybox")));

    // A corrupt first line is a warning; the package after it is still read.
    let (pkgs, warnings) = apk::parse_installed(&read(&format!("{base}corrupt/lib/apk/db/installed")), "/i");
    assert_eq!(pkgs.len(), 1);
    assert_eq!(pkgs[0].name, "alpine-baselayout-data");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (pkgs, warnings) = apk::parse_installed(&read(&format!("{base}glob-paths/lib/apk/db/installed")), "/i");
    assert!(pkgs.is_empty() && warnings.len() <= 1);
}

#[test]
fn rpm_berkeley_db_fixture() {
    // Cross-checked with rpm 4.18: `rpm -qa --dbpath <dir> --define '_db_backend bdb_ro'
    // --qf '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{VENDOR}|%{LICENSE}|[%{FILENAMES} ]'`
    // prints `dive|(none)|0.9.2|1|x86_64|dive-0.9.2-1.src.rpm||MIT|/usr/local/bin/dive`.
    let bytes = read("syft/pkg/cataloger/redhat/testdata/Packages");
    assert_eq!(rpm::sniff(&bytes), Some(rpm::DbFormat::BerkeleyDb));
    let (pkgs, warnings) = rpm::parse_rpmdb(&bytes, "/var/lib/rpm/Packages").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!((p.name.as_str(), p.version.as_str(), p.epoch), ("dive", "0.9.2-1", None));
    assert_eq!((p.release.as_deref(), p.arch.as_deref()), (Some("1"), Some("x86_64")));
    assert_eq!((p.source_name.as_deref(), p.source_version.as_deref()), (Some("dive"), Some("0.9.2-1")));
    assert_eq!((p.license.as_deref(), p.vendor.as_deref()), (Some("MIT"), None));
    assert_eq!(p.files, ["/usr/local/bin/dive"]);
    let purl = p.purl(Some(&os::Distro::new("rocky", "9.3"))).to_string();
    assert_eq!(purl, "pkg:rpm/rocky/dive@0.9.2-1?arch=x86_64&distro=rocky-9.3");

    // Syft's glob-path placeholders (`bogus`, empty files) and a non-rpm file are errors.
    for rel in [
        "syft/pkg/cataloger/redhat/testdata/glob-paths/var/lib/rpm/Packages",
        "syft/pkg/cataloger/redhat/testdata/glob-paths/var/lib/rpm/rpmdb.sqlite",
        "syft/pkg/cataloger/redhat/testdata/glob-paths/var/lib/rpm/Packages.db",
        "syft/pkg/cataloger/redhat/testdata/glob-paths/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "syft/pkg/cataloger/redhat/testdata/bad/bad.rpm",
    ] {
        assert!(rpm::parse_rpmdb(&read(rel), rel).is_err(), "{rel}");
    }
}

#[test]
fn debian_security_support_lists() {
    let dir = shared().join("advisories/debian-security-support");
    let ended = std::fs::read(dir.join("security-support-ended.deb12")).unwrap();
    let limited = std::fs::read(dir.join("security-support-limited")).unwrap();
    let (lists, warnings) = debian_support::SupportLists::parse(&ended, &limited);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(lists.ended.len(), 16);
    assert_eq!(lists.limited.len(), 32);
    let flags = lists.flags_for("php-horde-imp");
    assert!(
        matches!(&flags[..], [debian_support::SupportFlag::Ended(e)] if e.last_version == "0" && e.date.as_deref() == Some("2025-03-22"))
    );
    let suricata = lists.flags_for("suricata");
    assert!(matches!(&suricata[..], [debian_support::SupportFlag::Ended(e)] if e.last_version == "1:6.0.10-1"));
    assert!(matches!(&lists.flags_for("golang-1.19")[..], [debian_support::SupportFlag::Limited(_)]));
    assert!(lists.flags_for("curl").is_empty());
    for file in ["security-support-ended.deb9", "security-support-ended.deb10", "security-support-ended.deb11"] {
        let (entries, warnings) = debian_support::parse_ended(&std::fs::read(dir.join(file)).unwrap());
        assert!(warnings.is_empty(), "{file}: {warnings:?}");
        assert!(entries.iter().all(|e| !e.source.is_empty()), "{file}");
    }
}
