//! Image references the way users type them (issue 12), through the binary, against the
//! real Docker engine and a real `docker-registry` on loopback. Each test first does what
//! the user did and checks what they should have seen:
//!
//! - a bare `app:1` that the local engine has is scanned from the engine, and says so;
//!   one it does not have comes from the registry, also when the engine is unreachable;
//! - `docker:repo` means `repo:latest`, never another tag of the repository;
//! - `container:NAME` scans a container's image, with a note on what that leaves out;
//! - `--docker-config DIR` works like `DOCKER_CONFIG=DIR`;
//! - `--platform` that the image does not have is an error (also with `-q`) unless
//!   `--platform-fallback`;
//! - `scan sbom:` reads every SBOM Bulwark writes, and finds the same packages and
//!   vulnerabilities as the scan of the image;
//! - Bulwark's own `Cargo.lock` is checked against RustSec, and the check can fail.
//!
//! Images for the engine are made with `docker import` of a small tar: an os-release, a
//! dpkg status, and the host's `/bin/sleep` with the libraries `ldd` names (so containers
//! can run without busybox). Every image and container is removed on drop.

use bulwark_testkit::image as fixture;
use bulwark_testkit::registry as harness;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bulwark_image::spec::Compression;
use fixture::*;
use harness::{RegistryAuth, RegistryProcess, htpasswd_file, skopeo_push};
use serde_json::{Value, json};

/// Runs the binary isolated like `support::bulwark_in`, plus `env` (set, or removed when
/// the value is `None`).
fn bulwark_env(args: &[&str], cache: &Path, env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args)
        .env("BULWARK_CACHE_DIR", cache)
        .env("HOME", cache)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONFIG")
        .env_remove("BULWARK_FORMAT")
        .env_remove("BULWARK_PLATFORM");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().unwrap()
}

fn bulwark(args: &[&str], cache: &Path) -> Output {
    bulwark_env(args, cache, &[])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn docker(args: &[&str]) -> Output {
    let out = Command::new("docker").args(args).output().expect("the docker CLI (the engine runs in CI)");
    assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
    out
}

/// Removes images and containers when the test ends, passed or not.
#[derive(Default)]
struct Cleanup {
    images: Vec<String>,
    containers: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
        for i in &self.images {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

/// A name unique to this test process and `what`.
fn unique(what: &str) -> String {
    format!("bulwark-refs-{what}-{}", std::process::id())
}

const DEBIAN_12: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
const DEBIAN_10: &str = "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\nVERSION=\"10 (buster)\"\nVERSION_CODENAME=buster\nID=debian\n";

/// A dpkg status with one entry per (package, source, version).
fn dpkg_status(entries: &[(&str, Option<&str>, &str)]) -> String {
    let mut out = String::new();
    for (name, source, version) in entries {
        out.push_str(&format!("Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 1\nMaintainer: Debian <debian@example.org>\nArchitecture: amd64\n"));
        if let Some(s) = source {
            out.push_str(&format!("Source: {s}\n"));
        }
        out.push_str(&format!("Version: {version}\nDescription: test package\n\n"));
    }
    out
}

/// The host's `/bin/sleep` and the libraries it loads, so a container can run it.
fn sleep_items() -> Vec<Item> {
    let out = Command::new("ldd").arg("/bin/sleep").output().expect("ldd");
    let mut paths = vec![PathBuf::from("/bin/sleep")];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(p) = line.split_whitespace().find(|w| w.starts_with('/')) {
            paths.push(PathBuf::from(p));
        }
    }
    let mut dirs = BTreeSet::new();
    let mut items = Vec::new();
    for p in &paths {
        let real = std::fs::canonicalize(p).unwrap();
        let rel = p.to_str().unwrap().trim_start_matches('/').to_owned();
        let mut parent = Path::new(&rel).parent();
        while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_str().unwrap().to_owned());
            parent = d.parent();
        }
        items.push(Item::Executable(rel, std::fs::read(real).unwrap()));
    }
    let mut all: Vec<Item> = dirs.into_iter().map(|d| dir(&d)).collect();
    all.extend(items);
    all
}

/// A root filesystem tar: os-release, a dpkg status, a marker file and `/bin/sleep`.
fn rootfs(os_release: &str, status: &str, marker: &str) -> Vec<u8> {
    let mut items = vec![
        dir("etc"),
        file("etc/os-release", os_release),
        file("etc/marker", marker),
        dir("var"),
        dir("var/lib"),
        dir("var/lib/dpkg"),
        file("var/lib/dpkg/status", status),
    ];
    items.extend(sleep_items());
    tar_bytes(&items)
}

/// `docker import` of `tar` as `name`, removed by `cleanup`.
fn import(tar: &[u8], name: &str, cleanup: &mut Cleanup, dir: &Path) {
    let path = dir.join(format!("{}.tar", name.replace([':', '/'], "_")));
    std::fs::write(&path, tar).unwrap();
    docker(&["import", path.to_str().unwrap(), name]);
    cleanup.images.push(name.to_owned());
}

fn marker_of(r: &Value) -> String {
    r["image"]["reference"].as_str().unwrap_or_default().to_owned()
}

fn package_names(r: &Value) -> Vec<String> {
    r["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn bare_reference_is_read_from_the_local_engine_then_the_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let mut cleanup = Cleanup::default();
    let name = format!("{}:1", unique("bare"));
    import(&rootfs(DEBIAN_12, &dpkg_status(&[("local-only", None, "1.0")]), "engine"), &name, &mut cleanup, tmp.path());

    // What the user typed after `docker build -t app:1 .`: before, this went to Docker Hub.
    let out = bulwark(&["scan", &name, "--format", "json", "--scanners", "vuln", "--no-cache"], &cache);
    let r = report(&out);
    assert_eq!(r["image"]["source"], "docker", "{}", stderr(&out));
    assert_eq!(marker_of(&r), format!("docker:{name}"));
    assert_eq!(package_names(&r), ["local-only"]);
    assert!(stderr(&out).contains(&format!("note: {name}: read from the local Docker engine")), "{}", stderr(&out));
    // `-q` keeps stderr for errors only.
    let out = bulwark(&["scan", &name, "-q", "--format", "json", "--scanners", "vuln", "--no-cache"], &cache);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // --offline is no reason to refuse an image that is on this machine.
    let out = bulwark(&["scan", &name, "--offline", "--format", "json", "--scanners", "vuln"], &cache);
    assert_eq!(report(&out)["image"]["source"], "docker");

    // An image the engine does not have comes from the registry: with the engine running,
    // and, quietly, with an engine that cannot be reached at all.
    let reg = RegistryProcess::start(RegistryAuth::None);
    let built = build_with_config(
        &[Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file("etc/os-release", DEBIAN_12),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                file("var/lib/dpkg/status", &dpkg_status(&[("registry-only", None, "2.0")])),
            ],
        }],
        "amd64",
        json!({}),
    );
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &built, "1");
    let remote = format!("{}/app:1", reg.host());
    skopeo_push(&layout, "1", &remote, false, None);
    for docker_host in [None, Some("unix:///nonexistent/docker.sock"), Some("tcp://127.0.0.1:1")] {
        let env = [("DOCKER_HOST", docker_host)];
        let out = bulwark_env(&["scan", &remote, "--format", "json", "--scanners", "vuln", "--no-cache"], &cache, &env);
        let r = report(&out);
        assert_eq!(r["image"]["source"], "registry", "{docker_host:?}");
        assert_eq!(marker_of(&r), format!("registry:{remote}"));
        assert_eq!(package_names(&r), ["registry-only"]);
        let err = stderr(&out);
        assert!(err.contains("not in the local Docker engine, read from the registry"), "{err}");
        assert!(!err.contains("docker engine:") && !err.contains("cannot connect"), "{docker_host:?}: {err}");
    }
    // With --offline, an image the engine does not have is an error that says why.
    let out = bulwark_env(&["scan", &remote, "--offline", "--scanners", "vuln"], &cache, &[]);
    assert_eq!(out.status.code(), Some(2));
    // The library says what happened; the CLI's hint names the flag.
    let err = stderr(&out);
    assert!(err.contains("not in the local Docker engine, and offline mode forbids the registry"), "{err}");
    assert!(err.contains("\nhint: `skopeo copy` it to an `oci:` layout first, or drop --offline"), "{err}");
    // `registry:` says where to look: the engine is not asked.
    let out = bulwark(&["scan", &format!("registry:{name}"), "--offline"], &cache);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("is a registry reference and offline mode forbids the network"), "{err}");
    assert!(err.contains("hint: `skopeo copy` it"), "{err}");
}

#[test]
fn docker_repository_without_a_tag_means_latest() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let mut cleanup = Cleanup::default();
    let repo = unique("latest");
    let status = |n: &str| dpkg_status(&[(n, None, "1.0")]);
    import(&rootfs(DEBIAN_12, &status("tagged-one"), "1"), &format!("{repo}:1"), &mut cleanup, tmp.path());
    import(&rootfs(DEBIAN_12, &status("tagged-two"), "2"), &format!("{repo}:2"), &mut cleanup, tmp.path());

    // The engine saves every tag of a repository named without one; Bulwark used to scan
    // whichever came first. There is no `latest` here: that is an error, not a guess.
    let out = bulwark(&["scan", &format!("docker:{repo}"), "--scanners", "vuln", "--no-cache"], &cache);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let err = stderr(&out);
    assert!(err.contains(&format!("{repo}:latest")) && err.contains("hint:"), "{err}");

    import(&rootfs(DEBIAN_12, &status("the-latest"), "latest"), &format!("{repo}:latest"), &mut cleanup, tmp.path());
    for reference in [format!("docker:{repo}"), repo.clone()] {
        let out = bulwark(&["scan", &reference, "--format", "json", "--scanners", "vuln", "--no-cache"], &cache);
        let r = report(&out);
        assert_eq!(package_names(&r), ["the-latest"], "{reference}");
        assert_eq!(r["image"]["source"], "docker");
    }
    let out = bulwark(&["scan", &format!("docker:{repo}:2"), "--format", "json", "--scanners", "vuln"], &cache);
    assert_eq!(package_names(&report(&out)), ["tagged-two"]);
}

#[test]
fn container_is_scanned_through_its_image() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let mut cleanup = Cleanup::default();
    let image = format!("{}:1", unique("ctr-image"));
    import(&rootfs(DEBIAN_12, &dpkg_status(&[("in-image", None, "1.0")]), "c"), &image, &mut cleanup, tmp.path());
    let name = unique("ctr");
    cleanup.containers.push(name.clone());
    docker(&["run", "-d", "--name", &name, &image, "/bin/sleep", "300"]);
    let id = String::from_utf8(docker(&["inspect", "-f", "{{.Id}}", &name]).stdout).unwrap().trim().to_owned();

    for reference in [format!("container:{name}"), format!("container:{}", &id[..12])] {
        let out = bulwark(&["scan", &reference, "--format", "json", "--scanners", "vuln", "--no-cache"], &cache);
        let r = report(&out);
        assert_eq!(r["image"]["source"], "container");
        assert_eq!(r["image"]["reference"], reference);
        assert_eq!(package_names(&r), ["in-image"]);
        let warnings = r["warnings"].to_string();
        assert!(
            warnings.contains(&name) && warnings.contains("not included") && warnings.contains("sensor"),
            "{warnings}"
        );
        assert!(stderr(&out).contains("sensor"), "the note is on stderr too: {}", stderr(&out));
    }
    // A container name is not an image name: `docker:` says so, `container:` of an unknown
    // name says how to list them.
    let out = bulwark(&["scan", &format!("docker:{name}"), "--scanners", "vuln"], &cache);
    assert_eq!(out.status.code(), Some(2));
    let out = bulwark(&["scan", &format!("container:{}-gone", name), "--scanners", "vuln"], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("docker ps -a"), "{}", stderr(&out));
}

#[test]
fn docker_config_dir_works_like_the_environment_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let htpasswd = htpasswd_file(tmp.path(), "user", "s3cret-pass");
    let reg = RegistryProcess::start(RegistryAuth::Htpasswd(htpasswd));
    let built = build_with_config(
        &[Layer { compression: Compression::Gzip, items: vec![dir("etc"), file("etc/os-release", DEBIAN_12)] }],
        "amd64",
        json!({}),
    );
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &built, "1");
    let remote = format!("registry:{}/app:1", reg.host());
    skopeo_push(&layout, "1", &format!("{}/app:1", reg.host()), false, Some("user:s3cret-pass"));
    let config_dir = tmp.path().join("docker-config");
    std::fs::create_dir(&config_dir).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("user:s3cret-pass");
    std::fs::write(config_dir.join("config.json"), json!({"auths": {reg.host(): {"auth": auth}}}).to_string()).unwrap();
    let dir_arg = config_dir.to_str().unwrap();

    // DOCKER_CONFIG=DIR is what `docker login --config DIR` writes.
    let out = bulwark_env(
        &["scan", &remote, "--format", "json", "--scanners", "vuln"],
        &cache,
        &[("DOCKER_CONFIG", Some(dir_arg))],
    );
    assert_eq!(report(&out)["os"]["id"], "debian");
    // The flag with the same directory: before, "reading Docker config …: Is a directory".
    let out = bulwark(&["scan", &remote, "--docker-config", dir_arg, "--format", "json", "--scanners", "vuln"], &cache);
    assert_eq!(report(&out)["os"]["id"], "debian");
    // The file itself still works; a directory without config.json is an error naming it.
    let file_arg = config_dir.join("config.json");
    let out = bulwark(
        &["scan", &remote, "--docker-config", file_arg.to_str().unwrap(), "--format", "json", "--scanners", "vuln"],
        &cache,
    );
    assert_eq!(report(&out)["os"]["id"], "debian");
    let empty = tmp.path().join("empty-config");
    std::fs::create_dir(&empty).unwrap();
    let out = bulwark(&["scan", &remote, "--docker-config", empty.to_str().unwrap(), "--scanners", "vuln"], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&empty.join("config.json").display().to_string()), "{}", stderr(&out));
}

#[test]
fn platform_the_image_lacks_is_an_error_unless_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let layer = |arch: &str| Layer { compression: Compression::Gzip, items: vec![file("arch", arch)] };
    let amd = build_with_config(&[layer("amd64")], "amd64", json!({}));
    let arm = build_with_config(&[layer("arm64")], "arm64", json!({}));
    let single = tmp.path().join("single");
    write_oci_layout(&single, &amd, "1");
    let multi = tmp.path().join("multi");
    write_multiarch_layout(&multi, &[(&amd, "amd64"), (&arm, "arm64")], "1");
    let single_ref = format!("oci:{}", single.display());
    let multi_ref = format!("oci:{}:1", multi.display());

    // A single-platform amd64 image scanned for arm64: before, a warning that `-q` hid.
    for quiet in [false, true] {
        let mut args = vec!["scan", single_ref.as_str(), "--platform", "linux/arm64", "--scanners", "vuln"];
        if quiet {
            args.push("-q");
        }
        let out = bulwark(&args, &cache);
        assert_eq!(out.status.code(), Some(2), "quiet={quiet}");
        let err = stderr(&out);
        assert!(err.contains("no image for platform linux/arm64") && err.contains("linux/amd64"), "{err}");
        assert!(err.contains("--platform-fallback"), "{err}");
    }
    let out = bulwark(
        &[
            "scan",
            &single_ref,
            "--platform",
            "linux/arm64",
            "--platform-fallback",
            "--format",
            "json",
            "--scanners",
            "vuln",
        ],
        &cache,
    );
    let r = report(&out);
    assert_eq!(r["image"]["platform"]["architecture"], "amd64");
    assert!(r["warnings"].to_string().contains("--platform-fallback"), "{}", r["warnings"]);
    // The platform it has is no mismatch.
    let out =
        bulwark(&["scan", &single_ref, "--platform", "linux/amd64", "--format", "json", "--scanners", "vuln"], &cache);
    let warnings = report(&out)["warnings"].to_string();
    assert!(!warnings.contains("platform"), "{warnings}");

    // A multi-platform image without the platform: the host's with the fallback.
    let out = bulwark(&["scan", &multi_ref, "--platform", "linux/s390x", "-q", "--scanners", "vuln"], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("available: linux/amd64, linux/arm64"), "{}", stderr(&out));
    let out = bulwark(
        &[
            "scan",
            &multi_ref,
            "--platform",
            "linux/s390x",
            "--platform-fallback",
            "--format",
            "json",
            "--scanners",
            "vuln",
        ],
        &cache,
    );
    let r = report(&out);
    let host = bulwark_core::Platform::host();
    assert_eq!(r["image"]["platform"]["architecture"], host.architecture.as_str());
    assert!(r["warnings"].to_string().contains("linux/s390x"), "{}", r["warnings"]);

    // The Docker engine's images are checked before they are exported.
    let mut cleanup = Cleanup::default();
    let name = format!("{}:1", unique("platform"));
    import(&rootfs(DEBIAN_12, "", "p"), &name, &mut cleanup, tmp.path());
    let other = if host.architecture == "arm64" { "linux/amd64" } else { "linux/arm64" };
    let out = bulwark(&["scan", &format!("docker:{name}"), "--platform", other, "-q", "--scanners", "vuln"], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("no image for platform {other}")), "{}", stderr(&out));
}

// ---- SBOM round trips against a database built from the real feeds.

fn build_db(tmp: &Path, osv: &[&str]) -> PathBuf {
    let db = tmp.join("bulwark.db");
    let adv = shared().join("advisories");
    let mut args = vec!["db".to_owned(), "build".to_owned(), "--db".to_owned(), db.display().to_string()];
    for o in osv {
        args.push("--osv".to_owned());
        args.push(adv.join(o).display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bulwark(&args, &tmp.join("c"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    db
}

/// (ecosystem, name, version, purl) of every package.
fn package_keys(r: &Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = r["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            (s("ecosystem"), s("name"), s("version"), s("purl"))
        })
        .collect();
    v.sort();
    v
}

/// (id, package, version) of every vulnerability.
fn vulnerability_keys(r: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = r["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let p = &x["package"];
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (s(&x["id"]), s(&p["name"]), s(&p["version"]))
        })
        .collect();
    v.sort();
    v
}

const VULNERABLE_LOCK: &str = "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e\"\n";

#[test]
fn every_sbom_bulwark_writes_scans_like_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let db = build_db(tmp.path(), &["debian-elts-osv/advisories", "rustsec-osv/crates"]);
    let db_arg = db.to_str().unwrap();
    // Debian 10 packages before the fixes of Debian ELTS advisories (ELA-1176-1 fixes
    // libxml2 in 2.9.4+dfsg1-7+deb10u7; expat's libexpat1 by its source package), and a
    // Cargo.lock with smallvec 1.6.0 (RUSTSEC-2021-0003, fixed in 1.6.1).
    let status = dpkg_status(&[
        ("libxml2", None, "2.9.4+dfsg1-7+deb10u6"),
        ("libexpat1", Some("expat"), "2.2.6-2+deb10u7"),
        ("zlib1g", Some("zlib (1:1.2.11.dfsg-1)"), "1:1.2.11.dfsg-1+deb10u2"),
    ]);
    let built = build_with_config(
        &[
            Layer {
                compression: Compression::Gzip,
                items: vec![
                    dir("etc"),
                    file("etc/os-release", DEBIAN_10),
                    dir("var"),
                    dir("var/lib"),
                    dir("var/lib/dpkg"),
                    file("var/lib/dpkg/status", &status),
                ],
            },
            Layer { compression: Compression::Gzip, items: vec![dir("app"), file("app/Cargo.lock", VULNERABLE_LOCK)] },
        ],
        "amd64",
        json!({}),
    );
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1");
    let image = format!("oci:{}", layout.display());
    let scan_args = |r: &str| {
        vec![
            "scan".to_owned(),
            r.to_owned(),
            "--format".into(),
            "json".into(),
            "--scanners".into(),
            "vuln".into(),
            "--db".into(),
            db_arg.to_owned(),
        ]
    };
    let run = |r: &str| {
        let args = scan_args(r);
        bulwark(&args.iter().map(String::as_str).collect::<Vec<_>>(), &cache)
    };
    let scanned = report(&run(&image));
    let vulns = vulnerability_keys(&scanned);
    assert!(vulns.iter().any(|v| v.0 == "ELA-1176-1" && v.1 == "libxml2"), "{vulns:?}");
    // RUSTSEC-2021-0003 is reported under its CVE alias.
    assert!(scanned["vulnerabilities"].to_string().contains("RUSTSEC-2021-0003"), "{vulns:?}");
    assert!(vulns.iter().any(|v| v.1 == "smallvec" && v.2 == "1.6.0"), "{vulns:?}");
    assert!(vulns.iter().any(|v| v.1 == "libexpat1"), "matched by source package: {vulns:?}");

    for format in ["cyclonedx", "spdx", "json"] {
        let file = tmp.path().join(format!("bom.{format}.json"));
        let out = bulwark(&["sbom", &image, "-f", format, "-o", file.to_str().unwrap()], &cache);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        let out = run(&format!("sbom:{}", file.display()));
        // Before: the JSON report was "sbom format not recognised", and the SPDX SBOM's
        // Debian was "unknown or end-of-life", so its packages were never matched.
        let back = report(&out);
        assert_eq!(back["image"]["source"], "sbom");
        assert_eq!(package_keys(&back), package_keys(&scanned), "{format}: packages");
        assert_eq!(vulnerability_keys(&back), vulns, "{format}: vulnerabilities");
        assert_eq!(back["os"]["osv_ecosystem"], "Debian:10", "{format}");
        assert!(!back["warnings"].to_string().contains("end-of-life"), "{format}: {}", back["warnings"]);
    }
}

#[test]
fn spdx_sbom_of_debian_12_maps_to_its_ecosystem() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let db = build_db(tmp.path(), &["debian-elts-osv/advisories"]);
    let built = build_with_config(
        &[Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file("etc/os-release", DEBIAN_12),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                file("var/lib/dpkg/status", &dpkg_status(&[("libc6", Some("glibc"), "2.36-9+deb12u4")])),
            ],
        }],
        "amd64",
        json!({}),
    );
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1");
    let spdx = tmp.path().join("bom.spdx.json");
    let out =
        bulwark(&["sbom", &format!("oci:{}", layout.display()), "-f", "spdx", "-o", spdx.to_str().unwrap()], &cache);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = bulwark(
        &["scan", &format!("sbom:{}", spdx.display()), "--format", "json", "--db", db.to_str().unwrap()],
        &cache,
    );
    let r = report(&out);
    assert_eq!(r["os"]["id"], "debian");
    assert_eq!(r["os"]["osv_ecosystem"], "Debian:12");
    assert!(!stderr(&out).contains("unknown or end-of-life"), "{}", stderr(&out));
}

// ---- Bulwark checks itself: its Cargo.lock against RustSec (scripts/self-check.sh).

#[test]
fn own_cargo_lock_is_checked_against_rustsec() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let db = build_db(tmp.path(), &["rustsec-osv/crates"]);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let policy = repo.join("scripts/self-check-policy.yaml");
    let check = |lock: &[u8]| {
        let dir = tmp.path().join("locks");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
        bulwark(
            &[
                "scan",
                &format!("dir:{}", dir.display()),
                "--scanners",
                "vuln",
                "--db",
                db.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
                "--format",
                "json",
            ],
            &cache,
        )
    };
    // The gate fails on a dependency with a known vulnerability.
    let out = check(VULNERABLE_LOCK.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("RUSTSEC-2021-0003"));
    // Bulwark's own lock: every crate is read, and none has a RustSec advisory.
    let out = check(&std::fs::read(repo.join("Cargo.lock")).unwrap());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(package_names(&r).iter().any(|n| n == "serde"), "the lock was catalogued");
    assert_eq!(out.status.code(), Some(0), "known vulnerabilities in Bulwark's dependencies: {}", r["vulnerabilities"]);
}

// ---- Bulwark's own image (scripts/build-image.sh), as a pipeline runs it.

/// Opt-in: the image needs a release build and a debootstrap root filesystem (minutes the
/// first time), so `scripts/test.sh` does not build it. The release workflow runs this after
/// `scripts/build-image.sh`; locally: `scripts/build-image.sh && cargo test -p bulwark --test
/// image_refs -- --ignored release_image`. `BULWARK_IMAGE` names another tag.
#[test]
#[ignore = "needs the image from scripts/build-image.sh (a release build)"]
fn release_image_scans_a_registry_and_a_mounted_layout() {
    let image = std::env::var("BULWARK_IMAGE").unwrap_or_else(|_| "bulwark:dev".to_owned());
    let inspect = Command::new("docker").args(["image", "inspect", &image]).output().expect("docker CLI");
    assert!(inspect.status.success(), "no image {image}: build it with scripts/build-image.sh");
    let started = std::time::Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("docker").args(["run", "--rm", "--network", "host"]).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
    };

    // It is Bulwark, and it carries its own SBOM: the Debian packages and the crates.
    let (code, out, _) = run(&[&image, "--version"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("bulwark "), "{out}");
    let (code, sbom, err) = run(&["--entrypoint", "cat", &image, "/usr/share/doc/bulwark/sbom.cdx.json"]);
    assert_eq!(code, Some(0), "{err}");
    let sbom: Value = serde_json::from_str(&sbom).unwrap();
    let purls = sbom["components"].to_string();
    assert!(purls.contains("pkg:deb/debian/libc6@"), "Debian packages in the SBOM");
    assert!(purls.contains("pkg:cargo/serde@"), "Bulwark's crates in the SBOM");

    // A database built on the host, mounted read-only; an image with known vulnerabilities.
    let db = build_db(tmp.path(), &["debian-elts-osv/advisories"]);
    let status = dpkg_status(&[("libxml2", None, "2.9.4+dfsg1-7+deb10u6")]);
    let built = build_with_config(
        &[Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file("etc/os-release", DEBIAN_10),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                file("var/lib/dpkg/status", &status),
            ],
        }],
        "amd64",
        json!({}),
    );
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &built, "1");
    let reg = RegistryProcess::start(RegistryAuth::None);
    let remote = format!("{}/app:1", reg.host());
    skopeo_push(&layout, "1", &remote, false, None);
    let db_mount = format!("{}:/db:ro", db.parent().unwrap().display());
    let layout_mount = format!("{}:/in:ro", layout.display());
    let scan = |reference: &str| {
        let (code, out, err) = run(&[
            "-v",
            &db_mount,
            "-v",
            &layout_mount,
            &image,
            "scan",
            reference,
            "--db",
            "/db/bulwark.db",
            "--db-max-age-days",
            "100000",
            "--format",
            "json",
        ]);
        assert_eq!(code, Some(0), "{reference}: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let from_registry = scan(&format!("registry:{remote}"));
    let from_layout = scan("oci:/in:1");
    assert_eq!(from_registry["image"]["manifest_digest"], built.manifest_digest.to_string());
    assert_eq!(from_layout["image"]["manifest_digest"], built.manifest_digest.to_string());
    for r in [&from_registry, &from_layout] {
        assert!(vulnerability_keys(r).iter().any(|v| v.0 == "ELA-1176-1"), "{}", r["vulnerabilities"]);
    }
    assert_eq!(vulnerability_keys(&from_registry), vulnerability_keys(&from_layout));
    // What the test costs, for whoever decides whether to run it on every push.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("release image test: {:.1} s", started.elapsed().as_secs_f64());
    }
}
