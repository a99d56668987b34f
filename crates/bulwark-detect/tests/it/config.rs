//! The misconfiguration checks on real images: each test case writes an OCI layout (tar
//! layers with the modes it needs, a config with the history it needs), reads it back with
//! `bulwark_image::read_image`, and compares every finding (id, location) with what the case
//! expects, so a check that fires where it should not fails as surely as one that is missed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_core::report::{Package, ScanReport};
use bulwark_core::{Digest, Reference};
use bulwark_detect::config::{self, ConfigOptions};
use bulwark_image::{Image, NoCache, NoProgress, ReadOptions, read_image};
use serde_json::{Value, json};

/// One tar member: path, mode, and content (`None` for a directory).
enum Item {
    File(&'static str, u32, Vec<u8>),
    Dir(&'static str, u32),
    Symlink(&'static str, &'static str),
    Whiteout(&'static str),
}
use Item::*;

fn f(path: &'static str, mode: u32) -> Item {
    File(path, mode, b"content\n".to_vec())
}

fn sized(path: &'static str, mode: u32, size: usize) -> Item {
    File(path, mode, vec![b'x'; size])
}

fn tar_bytes(items: &[Item]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let header = |kind, size: usize, mode| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h
    };
    for item in items {
        match item {
            File(p, mode, c) => b.append_data(&mut header(tar::EntryType::Regular, c.len(), *mode), p, &c[..]).unwrap(),
            Dir(p, mode) => {
                b.append_data(&mut header(tar::EntryType::Directory, 0, *mode), format!("{p}/"), &[][..]).unwrap()
            }
            Symlink(p, t) => b.append_link(&mut header(tar::EntryType::Symlink, 0, 0o777), p, t).unwrap(),
            Whiteout(p) => {
                let (dir, name) = p.rsplit_once('/').unwrap();
                let mut h = header(tar::EntryType::Regular, 0, 0o644);
                b.append_data(&mut h, format!("{dir}/.wh.{name}"), &[][..]).unwrap()
            }
        }
    }
    b.into_inner().unwrap()
}

fn write_blob(root: &Path, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let dir = root.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(d.hex()), data).unwrap();
    d
}

/// An image to build: layers, history (`created_by`, `empty_layer`) and the config's
/// `config` object.
struct Spec {
    layers: Vec<Vec<Item>>,
    history: Vec<(&'static str, bool)>,
    config: Value,
}

/// Writes `spec` as an OCI layout under `root` and reads it back.
fn build(root: &Path, spec: Spec) -> Image {
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for items in &spec.layers {
        let tar = tar_bytes(items);
        let d = write_blob(root, &tar);
        descs.push(
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d.to_string(), "size": tar.len()}),
        );
        diff_ids.push(d.to_string());
    }
    let history: Vec<Value> =
        spec.history.iter().map(|(c, empty)| json!({"created_by": c, "empty_layer": empty})).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": spec.config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .unwrap();
    let config_digest = write_blob(root, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let manifest_digest = write_blob(root, &manifest);
    std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest.to_string(),
        "size": manifest.len(),
    }]});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    read(&format!("oci:{}", root.display()))
}

fn read(reference: &str) -> Image {
    let r: Reference = reference.parse().unwrap();
    read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_or_else(|e| panic!("{reference}: {e}"))
}

/// A Debian-like base layer: a setuid `passwd`, a sticky `/tmp`, a symlink; created by the
/// classic builder's `ADD file:… in /` and closed by the base's `CMD`.
fn base_layer() -> Vec<Item> {
    vec![
        Dir("etc", 0o755),
        f("etc/os-release", 0o644),
        Dir("usr", 0o755),
        Dir("usr/bin", 0o755),
        f("usr/bin/passwd", 0o4755),
        f("usr/bin/wall", 0o2755),
        Dir("tmp", 0o1777),
        Symlink("bin", "usr/bin"),
    ]
}

const BASE_HISTORY: [(&str, bool); 2] =
    [("/bin/sh -c #(nop) ADD file:0d1c2b3a4e5f in / ", false), ("/bin/sh -c #(nop)  CMD [\"bash\"]", true)];

fn history(own: &[(&'static str, bool)]) -> Vec<(&'static str, bool)> {
    BASE_HISTORY.iter().copied().chain(own.iter().copied()).collect()
}

/// A config that passes every config check: a non-root user, a healthcheck, a harmless
/// port, and a secret passed by file.
fn clean_config() -> Value {
    json!({
        "User": "1000",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/usr/local/bin:/usr/bin", "DB_PASSWORD_FILE=/run/secrets/db", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"],
        "Healthcheck": {"Test": ["CMD", "/app/bin/app", "health"], "Interval": 30000000000u64},
        "Cmd": ["/app/bin/app"],
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

fn deb(name: &str, layer: usize, removed_in: Option<usize>) -> Package {
    Package {
        ecosystem: "deb".into(),
        name: name.into(),
        version: "1.0-1".into(),
        purl: format!("pkg:deb/debian/{name}@1.0-1"),
        arch: None,
        source: None,
        license: None,
        locations: vec!["/var/lib/dpkg/status".into()],
        layer: Some(layer),
        removed_in,
        dependencies: Vec::new(),
        identification: None,
    }
}

struct Case {
    name: &'static str,
    spec: Spec,
    packages: Vec<Package>,
    opts: ConfigOptions,
    /// Every expected finding: (check id, location path, layer).
    expect: &'static [(&'static str, &'static str, Option<usize>)],
}

fn app_layer() -> Vec<Item> {
    vec![Dir("app", 0o755), Dir("app/bin", 0o755), f("app/bin/app", 0o755)]
}

fn case(name: &'static str, config: Value, expect: &'static [(&'static str, &'static str, Option<usize>)]) -> Case {
    Case {
        name,
        spec: Spec {
            layers: vec![base_layer(), app_layer()],
            history: history(&[("COPY app /app # buildkit", false), ("CMD [\"/app/bin/app\"]", true)]),
            config,
        },
        packages: Vec::new(),
        opts: ConfigOptions::default(),
        expect,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // Only what the base image ships (setuid passwd, setgid wall, sticky /tmp): nothing.
        case("clean image with User 1000 and a HEALTHCHECK", clean_config(), &[]),
        case(
            "root user, SSH and RDP ports, password in Env, HEALTHCHECK NONE",
            json!({
                "ExposedPorts": {"22/tcp": {}, "3389/udp": {}, "8080/tcp": {}, "2222/tcp": {}},
                "Env": ["PATH=/usr/bin", "DB_PASSWORD=s3cr3t-Pa55", "API_TOKEN=", "SECRET_KEY_FILE=/run/secrets/k"],
                "Healthcheck": {"Test": ["NONE"]},
            }),
            &[
                ("BW-CFG-001", "config:User", None),
                ("BW-CFG-002", "config:ExposedPorts[22/tcp]", None),
                ("BW-CFG-002", "config:ExposedPorts[3389/udp]", None),
                ("BW-CFG-003", "config:Env[DB_PASSWORD]", None),
                ("BW-CFG-006", "config:Healthcheck", None),
            ],
        ),
        case(
            "User root:root",
            with(clean_config(), "User", json!("root:root")),
            &[("BW-CFG-001", "config:User", None)],
        ),
        case("User 0", with(clean_config(), "User", json!("0")), &[("BW-CFG-001", "config:User", None)]),
        case("User 1000:0 is not root", with(clean_config(), "User", json!("1000:0")), &[]),
        case("no healthcheck", without(clean_config(), "Healthcheck"), &[("BW-CFG-006", "config:Healthcheck", None)]),
        case(
            "telnet exposed without a protocol",
            with(clean_config(), "ExposedPorts", json!({"23": {}})),
            &[("BW-CFG-002", "config:ExposedPorts[23]", None)],
        ),
        case(
            "base image named with latest",
            with(
                clean_config(),
                "Labels",
                json!({"org.opencontainers.image.base.name": "docker.io/library/debian:latest"}),
            ),
            &[("BW-CFG-007", "config:Labels[org.opencontainers.image.base.name]", None)],
        ),
        case(
            "base image with no tag",
            with(clean_config(), "Labels", json!({"org.opencontainers.image.base.name": "registry.local:5000/debian"})),
            &[("BW-CFG-007", "config:Labels[org.opencontainers.image.base.name]", None)],
        ),
        case(
            "base image pinned by digest",
            with(
                clean_config(),
                "Labels",
                json!({"org.opencontainers.image.base.name": "debian:12@sha256:4b8b7e3b0e8d1cd7a3fd1b6e3ba9b5b1c2c4a43ba6a4b4d57c0e1f0a9d4a3c21"}),
            ),
            &[],
        ),
        Case {
            name: "remote ADD and curl | sh in history, a verified download is fine",
            spec: Spec {
                layers: vec![
                    base_layer(),
                    app_layer(),
                    vec![f("opt/tool.tgz", 0o644)],
                    vec![f("opt/x", 0o755)],
                    vec![f("opt/y", 0o755)],
                ],
                history: history(&[
                    ("COPY app /app # buildkit", false),
                    ("ADD https://downloads.example.com/tool.tgz?token=abc /opt/ # buildkit", false),
                    ("/bin/sh -c curl -fsSL https://get.example.com/install.sh | sh", false),
                    (
                        "RUN |1 V=2 /bin/sh -c curl -fsSLo /opt/y https://example.com/y && echo \"abc  /opt/y\" | sha256sum -c - # buildkit",
                        false,
                    ),
                    ("CMD [\"/app/bin/app\"]", true),
                ]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions::default(),
            expect: &[("BW-CFG-004", "config:history[3]", None), ("BW-CFG-005", "config:history[4]", None)],
        },
        Case {
            name: "setuid, setgid and world-writable files added by the image's own layer",
            spec: Spec {
                layers: vec![
                    base_layer(),
                    vec![
                        Dir("usr/local", 0o755),
                        Dir("usr/local/bin", 0o755),
                        f("usr/local/bin/helper", 0o4755),
                        f("usr/local/bin/grouper", 0o2711),
                        f("usr/local/bin/fine", 0o755),
                        f("app.log", 0o666),
                        Dir("shared", 0o777),
                        Dir("scratch", 0o1777),
                        Symlink("usr/local/bin/link", "fine"),
                        // The base's own setuid binary rewritten (e.g. by an upgrade): not added here.
                        f("usr/bin/passwd", 0o4755),
                    ],
                ],
                history: history(&[("RUN /bin/sh -c make install # buildkit", false), ("CMD [\"x\"]", true)]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions::default(),
            expect: &[
                ("BW-CFG-008", "/usr/local/bin/grouper", Some(1)),
                ("BW-CFG-008", "/usr/local/bin/helper", Some(1)),
                ("BW-CFG-009", "/app.log", Some(1)),
                ("BW-CFG-009", "/shared", Some(1)),
            ],
        },
        Case {
            name: "the same setuid file in the base image is not reported",
            spec: Spec {
                layers: vec![
                    base_layer()
                        .into_iter()
                        .chain([
                            Dir("usr/local", 0o755),
                            Dir("usr/local/bin", 0o755),
                            f("usr/local/bin/helper", 0o4755),
                        ])
                        .collect(),
                    app_layer(),
                ],
                history: history(&[("COPY app /app # buildkit", false), ("CMD [\"x\"]", true)]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions::default(),
            expect: &[],
        },
        Case {
            name: "an imported distro root filesystem (no history marker) is the base; a later layer's setuid is not",
            spec: Spec {
                layers: vec![
                    base_layer(),
                    vec![Dir("usr/local", 0o755), Dir("usr/local/bin", 0o755), f("usr/local/bin/helper", 0o4755)],
                ],
                history: vec![("Imported from -", false), ("RUN install helper", false)],
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions::default(),
            expect: &[("BW-CFG-008", "/usr/local/bin/helper", Some(1))],
        },
        Case {
            name: "apt and pip caches left, one deleted later (its bytes still ship)",
            spec: Spec {
                layers: vec![
                    base_layer(),
                    vec![
                        Dir("var", 0o755),
                        Dir("var/cache/apt/archives", 0o755),
                        File("var/cache/apt/archives/lock", 0o640, Vec::new()),
                        sized("var/cache/apt/archives/curl_7.88.1-10_amd64.deb", 0o644, 3000),
                        sized("var/cache/apt/archives/libcurl4_7.88.1-10_amd64.deb", 0o644, 2000),
                        Dir("var/lib/apt/lists", 0o755),
                        sized(
                            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
                            0o644,
                            900,
                        ),
                        File("var/lib/apt/lists/lock", 0o640, Vec::new()),
                    ],
                    vec![
                        Whiteout("var/cache/apt/archives/curl_7.88.1-10_amd64.deb"),
                        Whiteout("var/cache/apt/archives/libcurl4_7.88.1-10_amd64.deb"),
                        sized("root/.cache/pip/http-v2/a/b/c", 0o600, 700),
                    ],
                ],
                history: history(&[
                    ("RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit", false),
                    ("RUN /bin/sh -c rm /var/cache/apt/archives/*.deb && pip install x # buildkit", false),
                    ("CMD [\"x\"]", true),
                ]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions::default(),
            expect: &[
                ("BW-CFG-010", "/root/.cache/pip", Some(2)),
                ("BW-CFG-010", "/var/cache/apt/archives", Some(1)),
                ("BW-CFG-010", "/var/lib/apt/lists", Some(1)),
            ],
        },
        Case {
            name: "sudo and openssh-server installed; removed dropbear and a PyPI 'sudo' are not",
            spec: Spec {
                layers: vec![base_layer(), app_layer()],
                history: history(&[("RUN /bin/sh -c apt-get install -y sudo openssh-server # buildkit", false)]),
                config: clean_config(),
            },
            packages: vec![
                deb("sudo", 1, None),
                deb("openssh-server", 1, None),
                deb("dropbear", 1, Some(1)),
                deb("curl", 1, None),
                {
                    let mut p = deb("sudo", 1, None);
                    p.ecosystem = "pypi".into();
                    p.locations = vec!["/usr/lib/python3/dist-packages/sudo-1.0.dist-info/METADATA".into()];
                    p
                },
            ],
            opts: ConfigOptions::default(),
            expect: &[("BW-CFG-011", "/var/lib/dpkg/status", Some(1)), ("BW-CFG-012", "/var/lib/dpkg/status", Some(1))],
        },
        Case {
            name: "one layer is most of the image",
            spec: Spec {
                layers: vec![base_layer(), vec![sized("opt/data.bin", 0o644, 60_000)]],
                history: history(&[("COPY data.bin /opt/ # buildkit", false)]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions {
                large_layer_bytes: 50_000,
                large_layer_share: 0.5,
                base_layers: None,
                ..Default::default()
            },
            expect: &[("BW-CFG-013", "/", Some(1))],
        },
        Case {
            name: "a big layer under the size threshold is fine",
            spec: Spec {
                layers: vec![base_layer(), vec![sized("opt/data.bin", 0o644, 60_000)]],
                history: history(&[("COPY data.bin /opt/ # buildkit", false)]),
                config: clean_config(),
            },
            packages: Vec::new(),
            opts: ConfigOptions {
                large_layer_bytes: 100_000,
                large_layer_share: 0.5,
                base_layers: None,
                ..Default::default()
            },
            expect: &[],
        },
    ]
}

fn key(f: &bulwark_core::report::ConfigFinding) -> (String, String, Option<usize>) {
    let loc = f.location.as_ref().expect("every finding here has a location");
    (f.id.clone(), loc.path.clone(), loc.layer)
}

#[test]
fn every_check_positive_and_negative() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, c) in cases().into_iter().enumerate() {
        let root = tmp.path().join(i.to_string());
        let image = build(&root, c.spec);
        let report = ScanReport { packages: c.packages, ..Default::default() };
        let findings = config::check(&image, &report, &c.opts);
        let got: BTreeSet<_> = findings.iter().map(key).collect();
        let want: BTreeSet<_> = c.expect.iter().map(|(id, p, l)| (id.to_string(), p.to_string(), *l)).collect();
        assert_eq!(got, want, "{}: {findings:#?}", c.name);
        assert_eq!(got.len(), findings.len(), "{}: duplicate findings", c.name);
        for f in &findings {
            let info = config::checks().iter().find(|i| i.id == f.id).unwrap();
            assert_eq!((f.severity, f.cis.as_deref(), f.title.as_str()), (info.severity, info.cis, info.title));
            assert!(f.remediation.is_some() && !f.message.is_empty(), "{}", c.name);
        }
        assert!(config::skipped(&image, &c.opts).is_empty(), "{}", c.name);
    }
}

#[test]
fn messages_are_specific_and_never_show_env_values() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cases().into_iter().nth(1).unwrap();
    let image = build(tmp.path(), c.spec);
    let findings = config::check(&image, &ScanReport::default(), &ConfigOptions::default());
    let all = serde_json::to_string(&findings).unwrap();
    assert!(!all.contains("s3cr3t-Pa55"), "{all}");
    let msg = |id: &str| findings.iter().filter(|f| f.id == id).map(|f| f.message.as_str()).collect::<Vec<_>>();
    assert!(msg("BW-CFG-003")[0].contains("DB_PASSWORD"));
    assert!(msg("BW-CFG-002").iter().any(|m| m.contains("22/tcp") && m.contains("SSH")));
    assert!(msg("BW-CFG-002").iter().any(|m| m.contains("3389/udp") && m.contains("RDP")));
    assert!(msg("BW-CFG-006")[0].contains("disabled"));
    // Worst first, then by id: high (root, secret), medium (ports), low (healthcheck).
    let order: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(order, ["BW-CFG-001", "BW-CFG-003", "BW-CFG-002", "BW-CFG-002", "BW-CFG-006"]);
}

#[test]
fn remote_add_message_hides_query_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cases().into_iter().find(|c| c.name.starts_with("remote ADD")).unwrap();
    let image = build(tmp.path(), c.spec);
    let findings = config::check(&image, &ScanReport::default(), &ConfigOptions::default());
    let add = findings.iter().find(|f| f.id == "BW-CFG-004").unwrap();
    assert!(add.message.contains("https://downloads.example.com/tool.tgz"), "{}", add.message);
    assert!(!add.message.contains("token=abc"), "{}", add.message);
    let pipe = findings.iter().find(|f| f.id == "BW-CFG-005").unwrap();
    assert!(
        pipe.message.contains("curl") && pipe.message.contains("https://get.example.com/install.sh"),
        "{}",
        pipe.message
    );
}

#[test]
fn cache_sizes_and_layers_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let c = cases().into_iter().find(|c| c.name.starts_with("apt and pip")).unwrap();
    let image = build(tmp.path(), c.spec);
    let findings = config::check(&image, &ScanReport::default(), &ConfigOptions::default());
    let archives = findings.iter().find(|f| f.location.as_ref().unwrap().path == "/var/cache/apt/archives").unwrap();
    assert!(archives.message.contains("2 files, 5.0 kB"), "{}", archives.message);
    assert!(archives.message.contains("deleted by a later layer"), "{}", archives.message);
    let lists = findings.iter().find(|f| f.location.as_ref().unwrap().path == "/var/lib/apt/lists").unwrap();
    assert!(lists.message.contains("1 file, 900 B") && !lists.message.contains("deleted"), "{}", lists.message);
}

#[test]
fn dir_source_skips_config_checks_but_runs_file_checks() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("var/cache/apk")).unwrap();
    std::fs::write(root.join("usr/bin/helper"), b"x").unwrap();
    std::fs::set_permissions(root.join("usr/bin/helper"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::write(root.join("var/cache/apk/APKINDEX.5a59b88b.tar.gz"), vec![0u8; 1234]).unwrap();
    let image = read(&format!("dir:{}", root.display()));
    let opts = ConfigOptions::default();
    let findings = config::check(&image, &ScanReport::default(), &opts);
    let got: BTreeSet<_> = findings.iter().map(key).collect();
    // No config: no root-user, healthcheck… findings; no history: no base, so setuid is not judged.
    assert_eq!(got, BTreeSet::from([("BW-CFG-010".to_string(), "/var/cache/apk".to_string(), Some(0))]));
    let skipped = config::skipped(&image, &opts);
    let needs_config: Vec<&str> = config::checks().iter().filter(|c| c.needs_config).map(|c| c.id).collect();
    assert!(needs_config.iter().all(|id| skipped.contains(id)), "{skipped:?}");
    assert!(skipped.contains(&"BW-CFG-008") && skipped.contains(&"BW-CFG-009"));
    // A caller who knows there is no base image gets the setuid check.
    let opts = ConfigOptions { base_layers: Some(0), ..ConfigOptions::default() };
    let ids: Vec<String> = config::check(&image, &ScanReport::default(), &opts).into_iter().map(|f| f.id).collect();
    assert_eq!(ids, ["BW-CFG-008", "BW-CFG-010"]);
}

#[test]
fn check_ids_are_stable_and_unique() {
    let ids: Vec<&str> = config::checks().iter().map(|c| c.id).collect();
    let expected: Vec<String> = (1..=ids.len()).map(|i| format!("BW-CFG-{i:03}")).collect();
    assert_eq!(ids, expected);
}

fn shared() -> PathBuf {
    bulwark_testkit::shared()
}

/// Every CIS id a check cites is a real recommendation in both CIS check lists in
/// `../shared/misconfig/`, and its text is about what the check looks for.
#[test]
fn cited_cis_ids_exist_in_the_benchmark() {
    let dir = shared().join("misconfig");
    let json = std::fs::read_to_string(dir.join("docker-bench-security-checks/checks.json"))
        .unwrap_or_else(|e| panic!("{}: {e} (set BULWARK_SHARED)", dir.display()));
    let bench: Vec<Value> = serde_json::from_str(&json).unwrap();
    let yaml =
        std::fs::read_to_string(dir.join("cis-docker-benchmark-aquasec/cfg/cis-1.6.0/definitions.yaml")).unwrap();
    // The words each cited recommendation's title must contain.
    let topics = [
        ("4.1", "user"),
        ("4.3", "unnecessary packages"),
        ("4.6", "healthcheck"),
        ("4.8", "setuid and setgid"),
        ("4.9", "copy is used instead of add"),
        ("4.10", "secrets"),
        ("4.11", "verified packages"),
        ("5.7", "sshd"),
        ("5.9", "only needed ports"),
    ];
    let mut cited = 0;
    for check in config::checks() {
        let Some(cis) = check.cis else { continue };
        cited += 1;
        let desc = bench
            .iter()
            .find(|c| c["id"] == cis)
            .and_then(|c| c["desc"].as_str())
            .unwrap_or_else(|| panic!("{}: CIS {cis} not in docker-bench-security checks.json", check.id));
        let topic =
            topics.iter().find(|(id, _)| *id == cis).map(|(_, t)| *t).unwrap_or_else(|| panic!("{cis}: no topic"));
        assert!(desc.to_lowercase().contains(topic), "{}: CIS {cis} is {desc:?}", check.id);
        let yaml_desc = yaml
            .lines()
            .skip_while(|l| l.trim() != format!("- id: {cis}"))
            .nth(1)
            .unwrap_or_else(|| panic!("{}: CIS {cis} not in cis-1.6.0/definitions.yaml", check.id));
        assert!(yaml_desc.to_lowercase().contains(topic), "{}: CIS {cis} is {yaml_desc:?}", check.id);
    }
    assert!(cited >= 8, "{cited}");
}
