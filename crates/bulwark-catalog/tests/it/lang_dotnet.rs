//! .NET `*.deps.json`: a hand-written file (tests/data/formats/, see tests/data/README.md) and the
//! `Python.Runtime.deps.json` shipped in the pythonnet 3.0.3 wheel (installed by
//! tests/data/make-lang-fixtures.sh), checked against Python's json reader.

use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::dotnet;

fn lang_fixtures() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-lang-fixtures.sh");
    let ok = Command::new("bash").arg(&script).output().is_ok_and(|o| o.status.success());
    assert!(ok || std::env::var_os("CI").is_none(), "{} failed", script.display());
    let out = Command::new("bash").arg(&script).arg("--print-dir").output().ok()?;
    ok.then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn deps_json_packages_only() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats/dotnet/OrderService.deps.json");
    let (pkgs, warnings) = dotnet::parse_deps_json(&std::fs::read(&p).unwrap(), "/app/OrderService.deps.json");
    assert!(warnings.is_empty(), "{warnings:?}");
    // The two `project` libraries (the application and its domain project) and the two
    // `referenceassembly` libraries (part of .NET Framework) are not NuGet packages.
    let got: Vec<(PackageKind, &str, &str)> =
        pkgs.iter().map(|p| (p.kind, p.name.as_str(), p.version.as_str())).collect();
    assert_eq!(
        got,
        [
            (PackageKind::NuGet, "Newtonsoft.Json", "13.0.3"),
            (PackageKind::NuGet, "Serilog", "3.1.1"),
            (PackageKind::NuGet, "Serilog.Sinks.Console", "5.0.1"),
        ]
    );
    // Dependencies come from the target named by `runtimeTarget` (the RID-specific one), not
    // from the empty portable target that sorts first.
    assert_eq!(pkgs[2].dependencies, ["Serilog"]);
    assert!(pkgs[0].dependencies.is_empty() && pkgs[1].dependencies.is_empty());
    assert_eq!(pkgs[0].purl(None).to_string(), "pkg:nuget/Newtonsoft.Json@13.0.3");
}

#[test]
fn pythonnet_runtime_deps_json() {
    let Some(cache) = lang_fixtures() else { return };
    let path = cache.join("python/site-packages/pythonnet/runtime/Python.Runtime.deps.json");
    let script = format!(
        "import json; d = json.load(open({:?})); t = d['targets'][d['runtimeTarget']['name']]\n\
         for k, v in sorted(d['libraries'].items()):\n    if v['type'] == 'package': print(k, ','.join(sorted(t.get(k, {{}}).get('dependencies', {{}}))))",
        path.to_str().unwrap()
    );
    let out = Command::new("python3").arg("-c").arg(&script).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = String::from_utf8(out.stdout).unwrap();
    let (pkgs, warnings) = dotnet::parse_deps_json(&std::fs::read(&path).unwrap(), path.to_str().unwrap());
    assert!(warnings.is_empty());
    let mut ours: Vec<String> =
        pkgs.iter().map(|p| format!("{}/{} {}", p.name, p.version, p.dependencies.join(","))).collect();
    ours.sort();
    assert_eq!(ours, expected.lines().collect::<Vec<_>>());
    assert!(pkgs.len() > 3, "pythonnet's runtime depends on several NuGet packages: {ours:?}");
}

#[test]
fn malformed_inputs_give_warnings_not_panics() {
    let deep = format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for input in [&b""[..], &garbage, deep.as_bytes(), br#"{"libraries": {"A/1": {"type": "pack"#, b"[]", b"{}"] {
        let (pkgs, warnings) = dotnet::parse_deps_json(input, "/d");
        assert!(pkgs.is_empty() && warnings.len() == 1);
    }
    let (pkgs, warnings) = dotnet::parse_deps_json(
        br#"{"libraries": {"NoVersion": {"type": "package"}, "A/1.0": {"type": "package"}}}"#,
        "/d",
    );
    assert_eq!(pkgs.len(), 1);
    assert_eq!(warnings.len(), 1);
}
