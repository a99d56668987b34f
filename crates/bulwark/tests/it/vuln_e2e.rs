//! The vulnerability scanner end to end through the binary, on an image made of real
//! packages, against a database built from the real feeds in ../shared/advisories.
//!
//! - layer 0: a Debian 10 base whose `dpkg/status` names source packages from Debian ELTS
//!   advisories, at versions just before, exactly at and past their fixed versions;
//! - layer 1: the `.dist-info` directories of old PyPI releases installed by pip
//!   (`requests 2.19.1`, `urllib3 1.24.1`, `pyyaml 5.3`);
//! - layer 2: a real `cargo auditable` binary (`itoa 1.0.11`, `hex 0.4.3`) from
//!   `crates/bulwark-catalog/tests/data/make-binary-fixtures.sh rust`.
//!
//! The expected findings are derived from the records, not from Bulwark's range code: PyPA
//! records list every affected release in `affected[].versions`, so the PyPI set is "records
//! whose list holds the installed version"; RustSec has no record for `itoa` or `hex` at all
//! (checked below), so the cargo set is empty; the Debian ELTS records each have a single
//! `introduced: 0` / `fixed: X` range, read by hand below and written with their ids.
//!
//! Go is left out: go-vulndb records give semver ranges only (no version lists), so an
//! expected set for Syft's 185 modules could not be derived here without re-implementing the
//! range comparison under test.
//!
//! The pip packages and the binary are cached outside the repository, in
//! `${BULWARK_FIXTURE_CACHE:-$HOME/.cache/bulwark-fixtures}`; the first run needs PyPI and
//! crates.io, and fails (never skips) if they cannot be fetched.

use crate::support;
use bulwark_testkit::image as fixture;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;

fn fixture_cache() -> PathBuf {
    std::env::var_os("BULWARK_FIXTURE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/bulwark-fixtures"))
}

/// The installed PyPI releases: (normalized name, version).
const PYPI: [(&str, &str); 3] = [("requests", "2.19.1"), ("urllib3", "1.24.1"), ("pyyaml", "5.3")];

/// `pip install --no-deps --target` of the old releases, once: into a private directory,
/// then renamed into place, so that test binaries running at once never see half of it.
fn pypi_old() -> PathBuf {
    let cache = fixture_cache();
    let target = cache.join("pypi-old");
    if !target.join(".complete").exists() {
        std::fs::create_dir_all(&cache).unwrap();
        let tmp = tempfile::tempdir_in(&cache).unwrap();
        let specs: Vec<String> = PYPI.iter().map(|(n, v)| format!("{n}=={v}")).collect();
        let out = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
            .arg(tmp.path().join("site"))
            .args(&specs)
            .output()
            .expect("python3 -m pip (scripts/setup-dev.sh installs it)");
        assert!(out.status.success(), "pip install {specs:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(tmp.path().join("site/.complete"), "").unwrap();
        // Another process may have won the race: then its copy is as good as ours.
        if std::fs::rename(tmp.path().join("site"), &target).is_err() {
            assert!(
                target.join(".complete").exists(),
                "could not move pip's output to {} (remove it if a broken run left it)",
                target.display()
            );
        }
    }
    target
}

/// The real cargo-auditable binary, built by the catalog crate's fixture script when missing.
fn auditable_hello() -> Vec<u8> {
    let path = fixture_cache().join("rust/auditable-hello");
    if !path.exists() {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../bulwark-catalog/tests/data/make-binary-fixtures.sh");
        let status = Command::new("bash").arg(&script).arg("rust").status().expect("run make-binary-fixtures.sh");
        assert!(status.success(), "{} rust failed", script.display());
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file and directory under `src`, as tar items under `prefix`.
fn tree_items(src: &Path, prefix: &str, items: &mut Vec<Item>) {
    let mut entries: Vec<_> = std::fs::read_dir(src).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = format!("{prefix}/{}", path.file_name().unwrap().to_str().unwrap());
        if path.is_dir() {
            items.push(dir(&name));
            tree_items(&path, &name, items);
        } else {
            items.push(Item::File(name, std::fs::read(&path).unwrap()));
        }
    }
}

// ---- Debian 10 (ELTS), read by hand from ../shared/advisories/debian-elts-osv/advisories.
// Every Debian:10 entry there has one range, `introduced: 0` then `fixed: X`: a package is
// affected exactly when its source version is below X (dpkg order).

/// (record id, source package, its `fixed` event for `Debian:10`), as the files say; the
/// test checks these against the files so that the hand-derived sets below cannot drift.
const ELTS: &[(&str, &str, &str)] = &[
    ("ELA-1176-1", "libxml2", "2.9.4+dfsg1-7+deb10u7"),
    ("ELA-1195-1", "libxml2", "2.9.4+dfsg1-7+deb10u8"),
    ("ELA-1227-1", "libxml2", "2.9.4+dfsg1-7+deb10u9"),
    ("ELA-1327-1", "libxml2", "2.9.4+dfsg1-7+deb10u10"),
    ("ELA-1412-1", "libxml2", "2.9.4+dfsg1-7+deb10u11"),
    ("ELA-1487-1", "libxml2", "2.9.4+dfsg1-7+deb10u12"),
    ("ELA-1542-1", "libxml2", "2.9.4+dfsg1-7+deb10u13"),
    ("ELA-1753-1", "libxml2", "2.9.4+dfsg1-7+deb10u14"),
    ("ELA-1190-1", "expat", "2.2.6-2+deb10u8"),
    ("ELA-1411-1", "expat", "2.2.6-2+deb10u9"),
    ("ELA-1476-1", "sudo", "1.8.27-1+deb10u7"),
    ("ELA-1336-1", "libtasn1-6", "4.13-3+deb10u2"),
    ("ELA-1256-1", "openssl", "1.1.1n-0+deb10u7"),
    ("ELA-1558-1", "openssl", "1.1.1n-0+deb10u8"),
    ("ELA-1658-1", "openssl", "1.1.1n-0+deb10u9"),
    ("ELA-1773-1", "openssl", "1.1.1n-0+deb10u10"),
];

/// Binary packages of the base layer: (package, `Source:` line or none, version).
const DPKG: &[(&str, Option<&str>, &str)] = &[
    // Exactly at ELA-1327-1's fix (not reported, nor the older ELA-1176/1195/1227), below
    // the fixes of ELA-1412-1, ELA-1487-1, ELA-1542-1 and ELA-1753-1 (all four reported).
    ("libxml2", Some("libxml2"), "2.9.4+dfsg1-7+deb10u10"),
    // Exactly at ELA-1190-1's fix (not reported), just before ELA-1411-1's (reported).
    ("libexpat1", Some("expat"), "2.2.6-2+deb10u8"),
    // No `Source:` line: the source is the package itself; just before ELA-1476-1's fix.
    ("sudo", None, "1.8.27-1+deb10u6"),
    // Exactly at ELA-1336-1's fix, the only libtasn1-6 record: not reported.
    ("libtasn1-6", Some("libtasn1-6"), "4.13-3+deb10u2"),
    // The backport case: upstream 1.1.1n (March 2022) predates the upstream releases fixing
    // the CVEs ELA-1256-1 and ELA-1773-1 name (CVE-2023-5678, CVE-2024-9143, ... fixed
    // upstream in 1.1.1w and later / 3.x), so the upstream part looks vulnerable, but the
    // Debian revision +deb10u10 is ELA-1773-1's fix, the newest openssl record: a binNMU of
    // it (`+b1`, source version in parentheses) must not be reported.
    ("libssl1.1", Some("openssl (1.1.1n-0+deb10u10)"), "1.1.1n-0+deb10u10+b1"),
    ("openssl", Some("openssl"), "1.1.1n-0+deb10u10"),
];

/// What the ELTS records above say about `DPKG`: binary package -> record ids reported.
fn expected_debian() -> BTreeMap<String, BTreeSet<String>> {
    [
        ("libxml2", &["ELA-1412-1", "ELA-1487-1", "ELA-1542-1", "ELA-1753-1"][..]),
        ("libexpat1", &["ELA-1411-1"][..]),
        ("sudo", &["ELA-1476-1"][..]),
    ]
    .into_iter()
    .map(|(p, ids)| (p.to_owned(), ids.iter().map(|s| s.to_string()).collect()))
    .collect()
}

fn dpkg_status() -> String {
    let mut out = String::new();
    for (pkg, source, version) in DPKG {
        out.push_str(&format!(
            "Package: {pkg}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
        ));
        if let Some(source) = source {
            out.push_str(&format!("Source: {source}\n"));
        }
        out.push_str(&format!("Version: {version}\nDescription: {pkg}\n\n"));
    }
    out
}

/// The Debian:10 `fixed` events of an ELTS record file.
fn elts_fixed(id: &str) -> Vec<(String, String)> {
    let path = shared().join(format!("advisories/debian-elts-osv/advisories/{id}.json"));
    let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(record["id"], id);
    let mut out = Vec::new();
    for affected in record["affected"].as_array().unwrap() {
        if affected["package"]["ecosystem"] != "Debian:10" {
            continue;
        }
        for range in affected["ranges"].as_array().unwrap() {
            for event in range["events"].as_array().unwrap() {
                if let Some(fixed) = event["fixed"].as_str() {
                    out.push((affected["package"]["name"].as_str().unwrap().to_owned(), fixed.to_owned()));
                }
            }
        }
    }
    out
}

// ---- PyPA: the YAML records, read with a reader for the few keys needed.

#[derive(Debug, Default)]
struct PypaRecord {
    id: String,
    aliases: Vec<String>,
    /// (package name, the releases listed in its `versions`).
    affected: Vec<(String, Vec<String>)>,
    /// Every `fixed` event (ECOSYSTEM versions and GIT commits).
    fixed: Vec<String>,
    withdrawn: bool,
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '\'' || c == '"').to_owned()
}

/// Reads `id`, `aliases`, `withdrawn`, `affected[].package.name`, `affected[].versions` and
/// the `fixed` events of a PyPA record as pypa/advisory-database writes them: top-level keys
/// at column 0, lists of scalars as `- x` lines, `affected` entries as `- package:`.
fn parse_pypa(text: &str) -> PypaRecord {
    let mut rec = PypaRecord::default();
    let mut list: Option<&str> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if indent == 0 && !body.starts_with('-') {
            list = None;
            let (key, value) = body.split_once(':').unwrap_or((body, ""));
            match key {
                "id" => rec.id = unquote(value),
                "withdrawn" => rec.withdrawn = true,
                "aliases" => list = Some("aliases"),
                "affected" => list = Some("affected"),
                _ => {}
            }
            continue;
        }
        match list {
            Some("aliases") if indent == 0 => rec.aliases.push(unquote(&body[1..])),
            Some("affected" | "versions") => {
                if indent == 0 && body.starts_with("- package:") {
                    rec.affected.push((String::new(), Vec::new()));
                    list = Some("affected");
                } else if indent == 4 && body.starts_with("name:") {
                    rec.affected.last_mut().unwrap().0 = unquote(&body["name:".len()..]).to_lowercase();
                } else if indent == 2 && body == "versions:" {
                    list = Some("versions");
                } else if indent == 2 && body.starts_with("- ") && list == Some("versions") {
                    rec.affected.last_mut().unwrap().1.push(unquote(&body[2..]));
                } else if indent == 2 && !body.starts_with('-') {
                    list = Some("affected");
                }
                if let Some(fixed) = body.strip_prefix("- fixed:") {
                    rec.fixed.push(unquote(fixed));
                }
            }
            _ => {}
        }
    }
    rec
}

/// Every PyPA record for the installed releases, and which of them list the installed
/// version: package -> (record ids that affect it, every record's `fixed` events by id).
type RecordIds = BTreeMap<String, BTreeSet<String>>;

fn expected_pypi() -> (RecordIds, BTreeMap<String, Vec<String>>, usize) {
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut fixed = BTreeMap::new();
    let mut read = 0;
    for (name, version) in PYPI {
        let dir = shared().join("advisories/pypa-advisory-db/vulns").join(name);
        let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let rec = parse_pypa(&std::fs::read_to_string(&path).unwrap());
            read += 1;
            assert!(rec.id.starts_with("PYSEC-") && !rec.affected.is_empty(), "{}: {rec:?}", path.display());
            assert!(rec.affected.iter().all(|(n, v)| n == name && !v.is_empty()), "{}: {rec:?}", path.display());
            if !rec.withdrawn && rec.affected.iter().any(|(_, vs)| vs.iter().any(|v| v == version)) {
                expected.entry(name.to_owned()).or_default().insert(rec.id.clone());
            }
            fixed.insert(rec.id, rec.fixed);
        }
    }
    (expected, fixed, read)
}

#[test]
fn pypa_reader_reads_both_record_layouts() {
    // One record written by each of the two generators in the feed (keys in different order,
    // single- and double-quoted versions), against facts read from the files by eye.
    let dir = shared().join("advisories/pypa-advisory-db/vulns");
    let a = parse_pypa(&std::fs::read_to_string(dir.join("requests/PYSEC-2018-28.yaml")).unwrap());
    assert_eq!(a.id, "PYSEC-2018-28");
    assert_eq!(a.aliases, ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]);
    assert_eq!(a.affected.len(), 1);
    assert_eq!(a.affected[0].0, "requests");
    assert_eq!(a.affected[0].1.len(), 134); // as PyYAML counts them
    assert!(a.affected[0].1.contains(&"2.19.1".to_owned()) && !a.affected[0].1.contains(&"2.20.0".to_owned()));
    assert_eq!(a.fixed, ["c45d7c49ea75133e52ab22a8e9e13173938e36ff", "2.20.0"]);
    let b = parse_pypa(&std::fs::read_to_string(dir.join("urllib3/PYSEC-2023-192.yaml")).unwrap());
    assert_eq!(b.aliases, ["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]);
    assert_eq!(b.affected[0].0, "urllib3");
    assert!(b.affected[0].1.contains(&"1.24.1".to_owned()) && b.affected[0].1.contains(&"1.0".to_owned()));
    assert!(!b.affected[0].1.contains(&"1.26.17".to_owned()));
    assert!(b.fixed.contains(&"1.26.17".to_owned()) && b.fixed.contains(&"2.0.6".to_owned()));
}

/// RustSec records naming a crate, by id.
fn rustsec_records_for(crates: &[&str]) -> BTreeSet<String> {
    let dir = shared().join("advisories/rustsec-osv/crates");
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for affected in record["affected"].as_array().into_iter().flatten() {
            if crates.iter().any(|c| affected["package"]["name"] == *c) {
                ids.insert(record["id"].as_str().unwrap().to_owned());
            }
        }
    }
    ids
}

fn kev_cves() -> BTreeSet<String> {
    let path = shared().join("advisories/cisa-kev/known_exploited_vulnerabilities.json");
    let kev: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    kev["vulnerabilities"].as_array().unwrap().iter().map(|v| v["cveID"].as_str().unwrap().to_owned()).collect()
}

/// A finding's aliases (absent from the JSON when there are none).
fn aliases(finding: &Value) -> impl Iterator<Item = &str> {
    finding["aliases"].as_array().into_iter().flatten().map(|a| a.as_str().unwrap())
}

/// The advisory record ids a finding stands for: its id and aliases that are records of the
/// feeds in the database (PyPA, Debian ELTS, RustSec), not CVE or GHSA ids.
fn record_ids(finding: &Value) -> BTreeSet<String> {
    let mut ids = vec![finding["id"].as_str().unwrap().to_owned()];
    ids.extend(aliases(finding).map(str::to_owned));
    ids.into_iter().filter(|i| ["PYSEC-", "ELA-", "RUSTSEC-"].iter().any(|p| i.starts_with(p))).collect()
}

#[test]
fn real_packages_get_exactly_the_findings_their_records_give() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let adv = shared().join("advisories");

    // The image.
    let site = pypi_old();
    let mut python = vec![
        dir("usr"),
        dir("usr/local"),
        dir("usr/local/lib"),
        dir("usr/local/lib/python3.11"),
        dir("usr/local/lib/python3.11/dist-packages"),
    ];
    let mut dist_infos: Vec<_> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dist-info"))
        .collect();
    dist_infos.sort();
    assert_eq!(dist_infos.len(), PYPI.len(), "{dist_infos:?}");
    for info in &dist_infos {
        let name = format!("usr/local/lib/python3.11/dist-packages/{}", info.file_name().unwrap().to_str().unwrap());
        python.push(dir(&name));
        tree_items(info, &name, &mut python);
    }
    let layers = [
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file(
                    "etc/os-release",
                    "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\nVERSION=\"10 (buster)\"\nVERSION_CODENAME=buster\nID=debian\n",
                ),
                dir("var"),
                dir("var/lib"),
                dir("var/lib/dpkg"),
                file("var/lib/dpkg/status", &dpkg_status()),
            ],
        },
        Layer { compression: Compression::Gzip, items: python },
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("usr/local/bin"),
                Item::Executable("usr/local/bin/auditable-hello".into(), auditable_hello()),
            ],
        },
    ];
    let layout = tmp.path().join("img");
    let config = json!({"Cmd": ["/usr/local/bin/auditable-hello"]});
    write_oci_layout(&layout, &build_with_config(&layers, "amd64", config), "1.0");
    let reference = format!("oci:{}:1.0", layout.display());

    // The database, from the shared feeds.
    let db = tmp.path().join("bulwark.db");
    let arg = |p: PathBuf| p.to_str().unwrap().to_owned();
    let out = bulwark_in(
        tmp.path(),
        &[
            "db",
            "build",
            "--db",
            &arg(db.clone()),
            "--osv",
            &arg(adv.join("pypa-advisory-db")),
            "--osv",
            &arg(adv.join("debian-elts-osv")),
            "--osv",
            &arg(adv.join("rustsec-osv")),
            "--kev",
            &arg(adv.join("cisa-kev/known_exploited_vulnerabilities.json")),
        ],
        &cache,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let out = bulwark_in(
        tmp.path(),
        &["scan", &reference, "--db", &arg(db), "--format", "json", "--scanners", "vuln", "--no-progress"],
        &cache,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["os"]["id"], "debian", "{}", report["os"]);

    // Every installed package was found, in the layer that added it; the cases below that
    // expect no finding are therefore about matching, not about a package that went unseen.
    let packages: BTreeMap<(String, String), (String, Option<u64>)> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let key = (p["ecosystem"].as_str().unwrap().to_owned(), p["name"].as_str().unwrap().to_lowercase());
            (key, (p["version"].as_str().unwrap().to_owned(), p["layer"].as_u64()))
        })
        .collect();
    let mut installed: Vec<(&str, &str, &str, u64)> = Vec::new();
    installed.extend(DPKG.iter().map(|(p, _, v)| ("deb", *p, *v, 0)));
    installed.extend(PYPI.iter().map(|(p, v)| ("pypi", *p, *v, 1)));
    installed.extend([
        ("cargo", "auditable-hello", "0.1.0", 2),
        ("cargo", "itoa", "1.0.11", 2),
        ("cargo", "hex", "0.4.3", 2),
    ]);
    for (eco, name, version, layer) in &installed {
        let got = packages.get(&(eco.to_string(), name.to_string()));
        assert_eq!(got, Some(&(version.to_string(), Some(*layer))), "{eco}/{name} in {packages:#?}");
    }
    let layer_of = |eco: &str, name: &str| installed.iter().find(|i| i.0 == eco && i.1 == name).map(|i| i.3);

    // The expected sets, from the records.
    for (id, source, fixed) in ELTS {
        assert_eq!(elts_fixed(id), [(source.to_string(), fixed.to_string())], "{id} is not as read");
    }
    let (pypi, pypi_fixed, read) = expected_pypi();
    assert_eq!(read, 20, "PyPA records for requests, urllib3 and pyyaml");
    assert!(rustsec_records_for(&["itoa", "hex"]).is_empty(), "RustSec now has itoa/hex records: re-derive");
    let mut expected: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (pkg, ids) in pypi {
        expected.insert(("pypi".into(), pkg), ids);
    }
    for (pkg, ids) in expected_debian() {
        expected.insert(("deb".into(), pkg), ids);
    }

    // What Bulwark reported, as record ids per package; every finding explained by a record.
    // None of the CVEs expected here is in the catalogue (so every `kev` below must be
    // false); the flag is still computed from the file, not assumed.
    let kev = kev_cves();
    assert!(kev.len() > 1000, "{} KEV entries", kev.len());
    let vulns = report["vulnerabilities"].as_array().unwrap();
    let mut got: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for v in vulns {
        let p = &v["package"];
        let key = (p["ecosystem"].as_str().unwrap().to_owned(), p["name"].as_str().unwrap().to_lowercase());
        let ids = record_ids(v);
        let want = expected.get(&key).cloned().unwrap_or_default();
        assert!(!ids.is_empty() && ids.is_subset(&want), "finding not explained by {want:?}: {v:#}");
        got.entry(key.clone()).or_default().extend(ids.iter().cloned());

        assert_eq!(p["layer"].as_u64(), layer_of(&key.0, &key.1), "layer of {v:#}");
        assert_eq!(v["state"], "fixed", "{v:#}");
        let fixed: Vec<&str> = v["fixed_versions"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert!(!fixed.is_empty(), "{v:#}");
        // Each fixed version is a `fixed` event of one of the records the finding stands for.
        let allowed: BTreeSet<String> = ids
            .iter()
            .flat_map(|id| match pypi_fixed.get(id) {
                Some(f) => f.clone(),
                None => ELTS.iter().filter(|e| e.0 == id).map(|e| e.2.to_owned()).collect(),
            })
            .collect();
        assert!(fixed.iter().all(|f| allowed.contains(*f)), "{fixed:?} not in {allowed:?}: {v:#}");
        // KEV, from CISA's file.
        let mut cves = vec![v["id"].as_str().unwrap()];
        cves.extend(aliases(v));
        // `kev` is left out of the JSON when false.
        assert_eq!(v["kev"].as_bool().unwrap_or(false), cves.iter().any(|c| kev.contains(*c)), "kev of {v:#}");
    }
    assert_eq!(got, expected);

    // PyPI findings carry the record's CVE as their id.
    for v in vulns.iter().filter(|v| v["package"]["ecosystem"] == "pypi") {
        assert!(v["id"].as_str().unwrap().starts_with("CVE-"), "{v:#}");
    }
}
