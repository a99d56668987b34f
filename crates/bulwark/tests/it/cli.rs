//! The `bulwark` binary end to end: exit codes, output formats, the layer cache, and the
//! real Docker engine.

use crate::support;
use bulwark_testkit::image as fixture;

use std::path::Path;
use std::process::{Command, Output};

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::Value;

fn bulwark(args: &[&str], cache: &Path) -> Output {
    support::bulwark_in(Path::new("."), args, cache)
}

fn image_layers() -> Vec<Layer> {
    vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file(
                    "etc/os-release",
                    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
                ),
                file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
            ],
        },
        Layer {
            compression: Compression::Zstd,
            items: vec![dir("app"), file("app/main", "binary"), whiteout("etc/passwd")],
        },
    ]
}

#[test]
fn scan_json_table_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let built = build(&image_layers(), "amd64");
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1.0");
    let reference = format!("oci:{}:1.0", layout.display());
    let cache = tmp.path().join("cache");

    let out = bulwark(&["scan", &reference, "--format", "json", "--no-progress"], &cache);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["os"]["id"], "debian");
    assert_eq!(report["os"]["version_id"], "12");
    assert_eq!(report["image"]["manifest_digest"], built.manifest_digest.to_string());
    assert_eq!(report["layers"].as_array().unwrap().len(), 2);
    assert_eq!(report["layers"][1]["whiteouts"], 1);
    assert_eq!(report["layers"][0]["created_by"], "RUN step 0");
    assert_eq!(report["files"]["files"], 2, "os-release and app/main remain");
    assert_eq!(report["files"]["shadowed"], 1, "etc/passwd was deleted by layer 1");

    // The same report, byte for byte, on a second run (served from the layer cache).
    let again = bulwark(&["scan", &reference, "--format", "json", "--no-progress"], &cache);
    assert_eq!(again.stdout, out.stdout);

    let table = bulwark(&["scan", &reference, "--no-progress"], &cache);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("Debian GNU/Linux 12 (bookworm)") && text.contains("RUN step 1"), "{text}");

    let bad = bulwark(&["scan", "Not A Reference", "--no-progress"], &cache);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.starts_with("error: invalid image reference") && err.contains("hint:"), "{err}");

    let missing = bulwark(&["scan", &format!("oci:{}", tmp.path().join("nope").display())], &cache);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is this an OCI layout?"));
}

#[test]
fn second_scan_reads_only_new_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let base = image_layers();
    let first = build(&base[..1], "amd64");
    let layout1 = tmp.path().join("base");
    write_oci_layout(&layout1, &first, "1");
    let out = bulwark(&["scan", &format!("oci:{}", layout1.display()), "--format", "json"], &cache);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // A second image on the same base whose base layer blob is missing: only the cache can
    // supply it, so success proves the base layer was not read again.
    let second = build(&base, "amd64");
    let layout2 = tmp.path().join("app");
    write_oci_layout(&layout2, &second, "1");
    let base_blob = layout2.join("blobs/sha256").join(second.layers[0].0.hex());
    std::fs::remove_file(&base_blob).unwrap();
    let out = bulwark(&["scan", &format!("oci:{}", layout2.display()), "--format", "json"], &cache);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["os"]["id"], "debian");
    // Without the cache the missing blob is an error naming it.
    let out = bulwark(&["scan", &format!("oci:{}", layout2.display()), "--no-cache"], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&second.layers[0].0.to_string()));
}

#[test]
fn inspect_shows_config_without_env_values() {
    let tmp = tempfile::tempdir().unwrap();
    let built = build(&image_layers(), "amd64");
    write_oci_layout(tmp.path(), &built, "1");
    let out =
        bulwark(&["inspect", &format!("oci:{}", tmp.path().display()), "--format", "json"], &tmp.path().join("c"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["env"], serde_json::json!(["PATH", "API_TOKEN"]));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"), "env values never printed");
    assert_eq!(v["user"], "1000");
    assert_eq!(v["exposed_ports"], serde_json::json!(["8080/tcp"]));
    assert_eq!(v["layers"][1]["files"], 1);
    assert_eq!(v["layers"][0]["diff_id"], built.layers[0].1.to_string());
    assert_eq!(v["history"].as_array().unwrap().len(), 3);
}

#[test]
fn docker_engine_image_from_docker_import() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tar_bytes(&[
        dir("etc"),
        file("etc/alpine-release", "3.19.1\n"),
        dir("bin"),
        file("bin/busybox", "not really"),
        symlink("bin/sh", "busybox"),
    ]);
    let tarball = tmp.path().join("rootfs.tar");
    std::fs::write(&tarball, &rootfs).unwrap();
    let name = format!("bulwark-test/import:{}", std::process::id());
    let out = Command::new("docker").arg("import").arg(&tarball).arg(&name).output().expect("docker CLI");
    assert!(out.status.success(), "docker import: {}", String::from_utf8_lossy(&out.stderr));
    struct Rmi(String);
    impl Drop for Rmi {
        fn drop(&mut self) {
            let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
        }
    }
    let _rmi = Rmi(name.clone());
    let out = bulwark(&["scan", &format!("docker:{name}"), "--format", "json", "--no-cache"], &tmp.path().join("c"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["os"]["id"], "alpine");
    assert_eq!(report["os"]["version_id"], "3.19.1");
    assert_eq!(report["files"]["files"], 2);
    assert_eq!(report["files"]["symlinks"], 1);
    assert_eq!(report["layers"][0]["diff_id"], bulwark_core::Digest::sha256_of(&rootfs).to_string());

    let out = bulwark(&["scan", "docker:bulwark-test/does-not-exist:0"], &tmp.path().join("c"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not found") && err.contains("hint:"), "{err}");
}

#[test]
fn db_build_and_status_from_real_feeds() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("bulwark.db");
    let adv = shared().join("advisories");
    let kev = adv.join("cisa-kev/known_exploited_vulnerabilities.json");
    let out = bulwark(
        &[
            "db",
            "build",
            "--db",
            db.to_str().unwrap(),
            "--osv",
            &format!("rustsec={}", adv.join("rustsec-osv").display()),
            "--kev",
            kev.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let status = bulwark(&["db", "status", "--db", db.to_str().unwrap(), "--format", "json"], tmp.path());
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stderr));
    let meta: Value = serde_json::from_slice(&status.stdout).unwrap();
    let sources = meta["sources"].as_array().unwrap();
    let source = |name: &str| sources.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name}: {meta}"));
    let rustsec = source("rustsec");
    let files = rustsec["files"].as_u64().unwrap();
    let counted =
        ["records", "withdrawn", "invalid", "duplicates"].iter().map(|k| rustsec[k].as_u64().unwrap()).sum::<u64>();
    assert!(counted == files && rustsec["records"].as_u64().unwrap() > 1000, "every file accounted for: {meta}");
    assert_eq!(source("known_exploited_vulnerabilities")["kind"], "kev");
    // No source: a clear error, and the existing database is left alone.
    let before = std::fs::read(&db).unwrap();
    let out = bulwark(&["db", "build", "--db", db.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint:"));
    let out = bulwark(&["db", "build", "--db", db.to_str().unwrap(), "--osv", "/nonexistent/feed"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&db).unwrap(), before, "a failed build keeps the old database");

    // Export and import carry the database to another machine, unchanged.
    let carried = tmp.path().join("carried.db");
    let out = bulwark(&["db", "export", carried.to_str().unwrap(), "--db", db.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let installed = tmp.path().join("other/bulwark.db");
    let out = bulwark(&["db", "import", carried.to_str().unwrap(), "--db", installed.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let status2 = bulwark(&["db", "status", "--db", installed.to_str().unwrap(), "--format", "json"], tmp.path());
    let meta2: Value = serde_json::from_slice(&status2.stdout).unwrap();
    assert_eq!(meta2["content_digest"], meta["content_digest"]);
    // Importing something that is not a database fails and leaves the installed one alone.
    let junk = tmp.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let installed_before = std::fs::read(&installed).unwrap();
    let out = bulwark(&["db", "import", junk.to_str().unwrap(), "--db", installed.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a usable Bulwark advisory database"));
    assert_eq!(std::fs::read(&installed).unwrap(), installed_before);
}

#[test]
fn sbom_out_and_back_in() {
    let tmp = tempfile::tempdir().unwrap();
    let status = std::fs::read(shared().join("fixtures/os-pkgdb/claircore/dpkg/testdata/debian-only.status")).unwrap();
    let mut layers = image_layers();
    layers[0].items.push(Item::File("var/lib/dpkg/status".into(), status));
    let built = build(&layers, "amd64");
    write_oci_layout(&tmp.path().join("img"), &built, "1");
    let reference = format!("oci:{}", tmp.path().join("img").display());
    let cache = tmp.path().join("cache");
    let scanned = bulwark(&["scan", &reference, "--format", "json"], &cache);
    let scanned: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    assert!(!scanned["packages"].as_array().unwrap().is_empty());
    for format in ["cyclonedx", "spdx"] {
        let file = tmp.path().join(format!("bom.{format}.json"));
        let out = bulwark(&["sbom", &reference, "-f", format, "-o", file.to_str().unwrap()], &cache);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let first = std::fs::read(&file).unwrap();
        let again = bulwark(&["sbom", &reference, "-f", format], &cache);
        assert_eq!(again.stdout, first, "{format}: same image, same bytes");
        let back = bulwark(&["scan", &format!("sbom:{}", file.display()), "--format", "json"], &cache);
        assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
        let back: Value = serde_json::from_slice(&back.stdout).unwrap();
        let key = |r: &Value| -> Vec<(String, String, String)> {
            let mut v: Vec<_> = r["packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["name"].to_string(), p["version"].to_string(), p["purl"].to_string()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(key(&back), key(&scanned), "{format}");
        assert_eq!(back["os"]["id"], "debian", "{format}");
    }
}

#[test]
fn scan_matches_against_a_database_built_from_real_advisories() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("bulwark.db");
    let adv = shared().join("advisories");
    let out = bulwark(
        &["db", "build", "--db", db.to_str().unwrap(), "--osv", adv.join("debian-elts-osv").to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A Debian 10 image whose second layer installs the telnet client from inetutils at a
    // version ELA-1619-1 and ELA-1692-1 (real Debian ELTS advisories) fix later.
    let status = "Package: inetutils-telnet\nStatus: install ok installed\nArchitecture: amd64\nSource: inetutils\nVersion: 2:1.9.4-7+deb10u3\n";
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![dir("etc"), file("etc/os-release", "ID=debian\nVERSION_ID=\"10\"\nVERSION_CODENAME=buster\n")],
        },
        Layer { compression: Compression::Gzip, items: vec![file("var/lib/dpkg/status", status)] },
    ];
    let built = build(&layers, "amd64");
    write_oci_layout(&tmp.path().join("img"), &built, "1");
    let reference = format!("oci:{}", tmp.path().join("img").display());
    let out = bulwark(&["scan", &reference, "--format", "json", "--db", db.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vulns = report["vulnerabilities"].as_array().unwrap();
    let ids: Vec<&str> = vulns.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"ELA-1619-1") && ids.contains(&"ELA-1692-1"), "{ids:?}");
    for v in vulns {
        assert_eq!(v["package"]["name"], "inetutils-telnet");
        assert_eq!(v["package"]["matched_as"]["name"], "inetutils");
        assert_eq!(v["package"]["layer"], 1, "introduced by the second layer");
        assert_eq!(v["state"], "fixed");
        assert!(v["sources"][0].as_str().unwrap().contains("Debian:10"));
    }
    assert!(report["database"]["digest"].as_str().unwrap().starts_with("sha256:"));
    // The table says the same.
    let table = bulwark(&["scan", &reference, "--db", db.to_str().unwrap()], tmp.path());
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("ELA-1619-1") && text.contains("inetutils-telnet"), "{text}");
    // Without a database the scan still runs, and says vulnerabilities were not checked.
    let out = bulwark(&["scan", &reference, "--format", "json"], tmp.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vulnerabilities were not checked"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["vulnerabilities"].as_array().unwrap().is_empty() && report["database"].is_null());
}

/// `db update` against a real HTTP server (Python's http.server on loopback) serving an
/// osv.dev-layout mirror built from the real RustSec records.
#[test]
fn db_update_from_a_local_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    std::fs::create_dir_all(mirror.join("crates.io")).unwrap();
    let zip = mirror.join("crates.io/all.zip");
    let src = shared().join("advisories/rustsec-osv");
    let made = Command::new("python3")
        .args(["-c", "import sys,zipfile,pathlib\nz=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)\nfor p in sorted(pathlib.Path(sys.argv[2]).rglob('*.json')): z.write(p, p.name)\nz.close()"])
        .arg(&zip)
        .arg(&src)
        .status()
        .unwrap();
    assert!(made.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(&mirror)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let db = tmp.path().join("bulwark.db");
    let base = format!("http://127.0.0.1:{port}");
    let update = |eco: &str| {
        bulwark(
            &[
                "db",
                "update",
                "--db",
                db.to_str().unwrap(),
                "--ecosystem",
                eco,
                "--osv-base",
                &base,
                "--no-kev",
                "--no-epss",
            ],
            tmp.path(),
        )
    };
    let out = update("crates.io");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let status = bulwark(&["db", "status", "--db", db.to_str().unwrap(), "--format", "json"], tmp.path());
    let meta: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(meta["sources"][0]["records"].as_u64().unwrap() > 1000, "{meta}");
    // An ecosystem the mirror does not have: a clear error, and the database still works.
    let before = std::fs::read(&db).unwrap();
    let out = update("Debian:12");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Debian%3A12/all.zip") && err.contains("404") && err.contains("unchanged"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

/// The reference tables people read, `bulwark scan --help` and README.md, list every scheme
/// of `bulwark_core::SCHEMES` with its syntax (and `sbom:`): a new image source cannot be
/// added without telling users how to write it.
#[test]
fn help_and_readme_list_every_reference_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bulwark(&["scan", "--help"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let help = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let mut forms: Vec<String> = bulwark_core::SCHEMES
        .iter()
        .map(|s| if s.prefixed { format!("{}:{}", s.name, s.syntax) } else { s.syntax.to_owned() })
        .collect();
    forms.push(format!("{}:<file>", bulwark_core::SBOM_SCHEME));
    for form in &forms {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(form.as_str())),
            "`bulwark scan --help` does not list {form}:\n{help}"
        );
        // README's table escapes `|` inside code.
        let row = format!("`{}`", form.replace('|', "\\|"));
        assert!(readme.lines().any(|l| l.starts_with('|') && l.contains(&row)), "README.md's table has no row {row}");
    }
}
