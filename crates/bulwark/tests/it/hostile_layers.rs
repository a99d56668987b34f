//! Images crafted to hide things from the scanner, scanned through the binary (issue 10,
//! items 1, 2 and 7): a path written twice in one layer, with and without a hard link
//! that keeps the first copy alive; package databases and manifests reached through hard
//! links and symbolic links, within a layer and across layers; and a layer cache entry
//! copied under another layer's key.

use crate::support;
use bulwark_testkit::image as fixture;

use std::path::{Path, PathBuf};

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::Value;
use support::bulwark_in;

fn eicar() -> Vec<u8> {
    std::fs::read(shared().join("malware/eicar/eicar.com")).expect("../shared/malware/eicar/eicar.com")
}

/// A real dpkg status file (vcpkg's) from Clair's test data: 15 installed packages with
/// versions (9 more stanzas have no Version field and are skipped with a warning).
fn dpkg_status() -> Vec<u8> {
    std::fs::read(shared().join("fixtures/os-pkgdb/claircore/dpkg/testdata/vcpkg.status")).unwrap()
}

const DPKG_PACKAGES: usize = 15;

fn os_release() -> Item {
    file("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
}

/// A Python package's METADATA.
const METADATA: &str = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n";

/// An AWS key pair the secret scanner finds (AWS's documented example values).
const CREDENTIALS: &str = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

fn layer(items: Vec<Item>) -> Layer {
    Layer { items, compression: Compression::Gzip }
}

/// Writes `layers` as an OCI layout under `tmp/name` and returns its reference.
fn image(tmp: &Path, name: &str, layers: &[Layer]) -> String {
    let built = build(layers, "amd64");
    let layout = tmp.join(name);
    write_oci_layout(&layout, &built, "1");
    format!("oci:{}:1", layout.display())
}

fn scan(tmp: &Path, reference: &str, cache: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", reference, "--format", "json", "--no-progress"];
    args.extend_from_slice(extra);
    let out = bulwark_in(tmp, &args, cache);
    assert!(
        out.status.code() == Some(0),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (path, layer, removed_in, entry) of a finding.
type Location = (String, Option<u64>, Option<u64>, Option<u64>);

fn locations(report: &Value, kind: &str) -> Vec<Location> {
    let mut v: Vec<_> = report[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {report}"))
        .iter()
        .map(|f| {
            let l = &f["location"];
            let entry = l["entry"].as_u64();
            (l["path"].as_str().unwrap().to_owned(), l["layer"].as_u64(), l["removed_in"].as_u64(), entry)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn packages(report: &Value, purl_prefix: &str) -> Vec<Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["purl"].as_str().is_some_and(|u| u.starts_with(purl_prefix)))
        .cloned()
        .collect()
}

/// The report's warnings as the text they display as.
fn warnings(report: &Value) -> Vec<String> {
    let parsed: Vec<bulwark_core::Warning> = serde_json::from_value(report["warnings"].clone()).unwrap_or_default();
    parsed.iter().map(ToString::to_string).collect()
}

#[test]
fn a_hard_link_keeps_the_first_copy_of_a_rewritten_path() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // The example: EICAR at opt/x, opt/y a hard link to it, then a harmless opt/x.
    let reference = image(
        tmp.path(),
        "eicar",
        &[layer(vec![
            dir("opt"),
            Item::File("opt/x".into(), eicar()),
            hardlink("opt/y", "opt/x"),
            file("opt/x", "harmless\n"),
        ])],
    );
    for pass in ["cold", "cached"] {
        let report = scan(tmp.path(), &reference, &cache, &["--scanners", "malware"]);
        let found = locations(&report, "malware");
        assert_eq!(
            found,
            // Entry 1 is `opt/`, entry 2 the first opt/x.
            [("/opt/x".to_owned(), Some(0), Some(0), Some(2)), ("/opt/y".to_owned(), Some(0), None, Some(2))],
            "{pass}: the link's path holds EICAR in the container, and the replaced copy ships in the blob"
        );
    }
    // The same with a credentials file, and the link in a later layer (across layers).
    let reference = image(
        tmp.path(),
        "secret",
        &[
            layer(vec![dir("root"), dir("root/.aws"), file("root/.aws/credentials", CREDENTIALS)]),
            layer(vec![
                dir("srv"),
                hardlink("srv/keep", "root/.aws/credentials"),
                file("root/.aws/credentials", "[default]\n"),
            ]),
        ],
    );
    let report = scan(tmp.path(), &reference, &cache, &["--scanners", "secret"]);
    let found = locations(&report, "secrets");
    assert!(found.contains(&("/srv/keep".to_owned(), Some(0), None, None)), "{found:?}");
    assert!(found.contains(&("/root/.aws/credentials".to_owned(), Some(0), Some(1), None)), "{found:?}");
}

#[test]
fn a_copy_replaced_in_the_same_layer_is_still_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // No hard link: only the blob holds the first copy. Once for malware, once for secrets,
    // and three copies of one path, the middle one planted.
    let reference = image(
        tmp.path(),
        "dup",
        &[layer(vec![
            dir("opt"),
            file("opt/app.conf", "first\n"),
            Item::File("opt/app.conf".into(), eicar()),
            file("opt/app.conf", "last\n"),
            dir("home"),
            file("home/.env", CREDENTIALS),
            file("home/.env", "HOME=/home\n"),
        ])],
    );
    let report = scan(tmp.path(), &reference, &cache, &["--scanners", "malware,secret"]);
    // Entries: 1 opt/, 2 and 3 the first two copies of opt/app.conf, 4 the last, 5 home/,
    // 6 the planted .env.
    assert_eq!(locations(&report, "malware"), [("/opt/app.conf".to_owned(), Some(0), Some(0), Some(3))]);
    let secrets = locations(&report, "secrets");
    assert!(!secrets.is_empty());
    assert!(secrets.iter().all(|s| *s == ("/home/.env".to_owned(), Some(0), Some(0), Some(6))), "{secrets:?}");
}

#[test]
fn package_databases_reached_through_links_are_catalogued() {
    let tmp = tempfile::tempdir().unwrap();
    let status = dpkg_status();
    let neutral = |p: &str| Item::File(p.into(), status.clone());
    let variants: Vec<(&str, Vec<Layer>)> = vec![
        (
            "the file itself (control)",
            vec![layer(vec![
                dir("etc"),
                os_release(),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                neutral("var/lib/dpkg/status"),
            ])],
        ),
        (
            "hard link, same layer",
            vec![layer(vec![
                dir("etc"),
                os_release(),
                dir("opt"),
                neutral("opt/blob"),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                hardlink("var/lib/dpkg/status", "opt/blob"),
            ])],
        ),
        (
            "hard link to a lower layer",
            vec![
                layer(vec![dir("etc"), os_release(), dir("opt"), neutral("opt/blob")]),
                layer(vec![
                    dir("var"),
                    dir("var/lib"),
                    dir("var/lib/dpkg"),
                    hardlink("var/lib/dpkg/status", "opt/blob"),
                ]),
            ],
        ),
        (
            "symlink, same layer, target after the link",
            vec![layer(vec![
                dir("etc"),
                os_release(),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                symlink("var/lib/dpkg/status", "../../../srv/s"),
                dir("srv"),
                neutral("srv/s"),
            ])],
        ),
        (
            "absolute symlink to an upper layer",
            vec![
                layer(vec![
                    dir("etc"),
                    os_release(),
                    dir("var"),
                    dir("var/lib"),
                    dir("var/lib/dpkg"),
                    symlink("var/lib/dpkg/status", "/srv/s"),
                ]),
                layer(vec![dir("srv"), neutral("srv/s")]),
            ],
        ),
        (
            "linked directory",
            vec![
                layer(vec![dir("etc"), os_release(), dir("srv"), dir("srv/db"), neutral("srv/db/status")]),
                layer(vec![dir("var"), dir("var/lib"), symlink("var/lib/dpkg", "/srv/db")]),
            ],
        ),
    ];
    for (i, (name, layers)) in variants.iter().enumerate() {
        let cache = tmp.path().join(format!("cache{i}"));
        let reference = image(tmp.path(), &format!("dpkg{i}"), layers);
        for pass in ["cold", "cached"] {
            let report = scan(tmp.path(), &reference, &cache, &["--scanners", "vuln"]);
            let debs = packages(&report, "pkg:deb/");
            assert_eq!(debs.len(), DPKG_PACKAGES, "{name} ({pass}): {:#?}", warnings(&report));
            assert_eq!(report["os"]["id"], "debian", "{name}");
        }
    }
}

#[test]
fn python_metadata_reached_through_links_is_catalogued() {
    let tmp = tempfile::tempdir().unwrap();
    let site = "usr/lib/python3/dist-packages";
    let parents = || vec![dir("usr"), dir("usr/lib"), dir("usr/lib/python3"), dir(site)];
    let dist = format!("{site}/requests-2.31.0.dist-info");
    let variants: Vec<(&str, Vec<Layer>)> = vec![
        (
            "symlink",
            vec![layer(
                [
                    parents(),
                    vec![
                        dir(&dist),
                        symlink(&format!("{dist}/METADATA"), "/opt/m"),
                        dir("opt"),
                        file("opt/m", METADATA),
                    ],
                ]
                .concat(),
            )],
        ),
        (
            "hard link across layers",
            vec![
                layer(vec![dir("opt"), file("opt/m", METADATA)]),
                layer([parents(), vec![dir(&dist), hardlink(&format!("{dist}/METADATA"), "opt/m")]].concat()),
            ],
        ),
        (
            "linked dist-info directory",
            vec![
                layer(vec![dir("opt"), dir("opt/pkg"), file("opt/pkg/METADATA", METADATA)]),
                layer([parents(), vec![symlink(&dist, "/opt/pkg")]].concat()),
            ],
        ),
    ];
    for (i, (name, layers)) in variants.iter().enumerate() {
        let cache = tmp.path().join(format!("cache{i}"));
        let reference = image(tmp.path(), &format!("py{i}"), layers);
        let report = scan(tmp.path(), &reference, &cache, &["--scanners", "vuln"]);
        let pypi = packages(&report, "pkg:pypi/");
        assert_eq!(pypi.len(), 1, "{name}: {:#?} {:#?}", report["packages"], warnings(&report));
        assert_eq!(pypi[0]["name"], "requests");
        assert_eq!(pypi[0]["locations"][0], format!("/{dist}/METADATA"), "{name}");
    }
}

#[test]
fn a_link_the_catalogers_cannot_follow_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let parents = || vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg")];
    for (name, link) in [
        ("dangling symlink", symlink("var/lib/dpkg/status", "/nowhere/status")),
        ("symlink loop", symlink("var/lib/dpkg/status", "status")),
        ("hard link to nothing", hardlink("var/lib/dpkg/status", "opt/missing")),
    ] {
        let reference = image(tmp.path(), name.replace(' ', "-").as_str(), &[layer([parents(), vec![link]].concat())]);
        let report = scan(tmp.path(), &reference, &cache, &["--scanners", "vuln"]);
        let w = warnings(&report);
        assert!(
            w.iter().any(|w| w.starts_with("/var/lib/dpkg/status: a link that cannot be followed")),
            "{name}: {w:#?}"
        );
    }
}

fn cache_entries(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walk(cache).into_iter().filter(|p| p.to_string_lossy().ends_with(".json.zst")).collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_cache_entry_under_another_layers_key_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let clean = image(tmp.path(), "clean", &[layer(vec![dir("opt"), file("opt/readme", "nothing here\n")])]);
    let planted = image(tmp.path(), "planted", &[layer(vec![dir("opt"), Item::File("opt/x".into(), eicar())])]);
    scan(tmp.path(), &clean, &cache, &["--scanners", "malware"]);
    let clean_entry = cache_entries(&cache);
    assert_eq!(clean_entry.len(), 1, "{clean_entry:?}");
    let report = scan(tmp.path(), &planted, &cache, &["--scanners", "malware"]);
    assert_eq!(locations(&report, "malware").len(), 1);
    let planted_entry: Vec<PathBuf> = cache_entries(&cache).into_iter().filter(|p| !clean_entry.contains(p)).collect();
    assert_eq!(planted_entry.len(), 1);
    // An attacker with write access to a shared cache copies the clean layer's entry over
    // the planted layer's: the entry names another diff_id, so it is a miss, with a warning.
    std::fs::copy(&clean_entry[0], &planted_entry[0]).unwrap();
    let report = scan(tmp.path(), &planted, &cache, &["--scanners", "malware"]);
    assert_eq!(locations(&report, "malware"), [("/opt/x".to_owned(), Some(0), None, None)]);
    let w = warnings(&report);
    assert!(w.iter().any(|w| w.contains("layer cache") && w.contains("another key")), "{w:#?}");
}

#[test]
fn links_in_a_docker_archive_are_followed_by_reading_the_archive_again() {
    // `docker save` streams are read once; a body needed only through a link is read
    // again from the archive's member for that layer, not skipped.
    let tmp = tempfile::tempdir().unwrap();
    let status = dpkg_status();
    let layers = vec![
        layer(vec![dir("etc"), os_release(), dir("opt"), Item::File("opt/blob".into(), status)]),
        layer(vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg"), hardlink("var/lib/dpkg/status", "opt/blob")]),
    ];
    let built = build(&layers, "amd64");
    let archive = tmp.path().join("saved.tar");
    write_docker_archive(&archive, &built, "hostile:1");
    let reference = format!("docker-archive:{}", archive.display());
    let cache = tmp.path().join("cache");
    for pass in ["cold", "cached"] {
        let report = scan(tmp.path(), &reference, &cache, &["--scanners", "vuln"]);
        assert_eq!(packages(&report, "pkg:deb/").len(), DPKG_PACKAGES, "{pass}: {:#?}", warnings(&report));
    }
}
