//! Python catalogers against real files: the system Python's `*.dist-info` directories read in
//! place (expected values from Python's own `importlib.metadata`), Debian's `*.egg-info`, and
//! wheels installed by `tests/data/make-lang-fixtures.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::python;

/// Runs the fixture script; `None` when it cannot make the fixtures (no network on a first
/// run) outside CI, where that is a failure.
fn lang_fixtures() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-lang-fixtures.sh");
    let ok = Command::new("bash").arg(&script).output().is_ok_and(|o| o.status.success());
    assert!(ok || std::env::var_os("CI").is_none(), "{} failed", script.display());
    let out = Command::new("bash").arg(&script).arg("--print-dir").output().ok()?;
    ok.then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn python3(script: &str) -> String {
    let out = Command::new("python3").arg("-c").arg(script).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// name, version and resolved RECORD paths of every distribution in `dir`, by importlib.
fn importlib_view(dir: &Path) -> BTreeMap<String, (String, String, Vec<String>)> {
    let script = format!(
        r#"
import importlib.metadata as m, json, os
out = {{}}
for d in m.distributions(path=[{dir:?}]):
    info = os.path.basename(str(d._path))
    files = sorted({{os.path.normpath(os.path.join({dir:?}, str(f))) for f in (d.files or [])}})
    out[info] = [d.metadata["Name"], d.version, files]
print(json.dumps(out))
"#,
        dir = dir.to_str().expect("utf-8 path")
    );
    let v: serde_json::Value = serde_json::from_str(&python3(&script)).expect("json");
    let mut map = BTreeMap::new();
    for (info, t) in v.as_object().expect("object") {
        let files = t[2].as_array().expect("files").iter().map(|f| f.as_str().expect("str").to_owned()).collect();
        map.insert(info.clone(), (t[0].as_str().unwrap().to_owned(), t[1].as_str().unwrap().to_owned(), files));
    }
    map
}

/// Checks every `*.dist-info` in a site-packages directory against importlib; returns how
/// many were compared.
fn check_site_packages(site: &Path) -> usize {
    let expected = importlib_view(site);
    let mut n = 0;
    for (info, (name, version, files)) in &expected {
        if !info.ends_with(".dist-info") {
            continue;
        }
        let dir = site.join(info);
        let meta_path = dir.join("METADATA");
        let record = std::fs::read(dir.join("RECORD")).ok();
        let (pkgs, warnings) =
            python::parse_dist_info(&read(&meta_path), meta_path.to_str().unwrap(), record.as_deref());
        assert!(warnings.is_empty(), "{info}: {warnings:?}");
        assert_eq!(pkgs.len(), 1, "{info}");
        let p = &pkgs[0];
        assert_eq!(
            (p.kind, p.name.as_str(), p.version.as_str()),
            (PackageKind::Python, name.as_str(), version.as_str())
        );
        assert_eq!(&p.files, files, "{info}: RECORD paths");
        n += 1;
    }
    n
}

#[test]
fn system_site_packages_match_importlib() {
    let site = python3("import sysconfig; print(sysconfig.get_paths()['purelib'])");
    let site = Path::new(site.trim());
    let n = check_site_packages(site);
    // pip is in every Python installation made by ensurepip, pyenv's included.
    assert!(n >= 1, "no dist-info in {}", site.display());
    let pip = std::fs::read_dir(site)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("pip-"))
        .expect("pip's dist-info");
    let meta = pip.path().join("METADATA");
    let (p, _) = python::parse_metadata(&read(&meta), meta.to_str().unwrap());
    let dir_version =
        pip.file_name().to_string_lossy().trim_start_matches("pip-").trim_end_matches(".dist-info").to_owned();
    assert_eq!((p[0].name.as_str(), p[0].version.as_str()), ("pip", dir_version.as_str()));
    assert_eq!(p[0].license.as_deref(), Some("MIT"));
    assert!(p[0].files.is_empty(), "parse_metadata alone reads no RECORD");
}

#[test]
fn debian_egg_info_dirs_match_email_parser() {
    let dir = Path::new("/usr/lib/python3/dist-packages");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut n = 0;
    for e in entries.filter_map(|e| e.ok()) {
        let pkg_info = e.path().join("PKG-INFO");
        if !e.file_name().to_string_lossy().ends_with(".egg-info") || !pkg_info.is_file() {
            continue;
        }
        let script = format!(
            "import email; m = email.message_from_bytes(open({:?}, 'rb').read()); print(m['Name']); print(m['Version'])",
            pkg_info.to_str().unwrap()
        );
        let out = python3(&script);
        let mut lines = out.lines();
        let (name, version) = (lines.next().unwrap(), lines.next().unwrap());
        let (pkgs, warnings) = python::parse_metadata(&read(&pkg_info), pkg_info.to_str().unwrap());
        assert!(warnings.is_empty());
        assert_eq!((pkgs[0].name.as_str(), pkgs[0].version.as_str()), (name, version), "{}", pkg_info.display());
        n += 1;
    }
    assert!(n > 0, "no egg-info directories in {}", dir.display());
}

#[test]
fn pip_installed_wheels() {
    let Some(cache) = lang_fixtures() else { return };
    let site = cache.join("python/site-packages");
    assert_eq!(check_site_packages(&site), 3);
    let dist = |info: &str| {
        let meta = site.join(info).join("METADATA");
        let record = read(&site.join(info).join("RECORD"));
        python::parse_dist_info(&read(&meta), meta.to_str().unwrap(), Some(&record)).0.remove(0)
    };
    let six = dist("six-1.16.0.dist-info");
    assert_eq!(six.license.as_deref(), Some("MIT"));
    assert!(six.files.contains(&format!("{}/six.py", site.display())));
    assert!(six.dependencies.is_empty());
    assert_eq!(six.purl(None).to_string(), "pkg:pypi/six@1.16.0");
    let requests = dist("requests-2.31.0.dist-info");
    assert_eq!(requests.license.as_deref(), Some("Apache 2.0"));
    // PySocks and chardet are only required by the `socks` and `use_chardet_on_py3` extras.
    assert_eq!(requests.dependencies, ["certifi", "charset-normalizer", "idna", "urllib3"]);
}

#[test]
fn malformed_metadata_gives_warnings_not_panics() {
    for input in
        [&b""[..], b"\xff\xfe\x00garbage\x00", b"Name: x\n", b"Version: 1\n", b"\n\nName: after-blank\nVersion: 1\n"]
    {
        let (pkgs, warnings) = python::parse_metadata(input, "/m");
        assert!(pkgs.is_empty() && warnings.len() == 1, "{input:?}");
    }
    // A huge header is read up to the field limit, not rejected.
    let mut big = b"Name: big\nVersion: 1\n".to_vec();
    big.extend(b"Classifier: Topic :: X\n".repeat(200_000));
    assert_eq!(python::parse_metadata(&big, "/m").0.len(), 1);
    let (files, warnings) = python::parse_record(b"\x00\x01,\n\"open\n\n,,,\n", "/s");
    assert_eq!(files, ["/s/\u{0}\u{1}"]);
    assert_eq!(warnings.len(), 2);
}
