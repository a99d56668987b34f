//! Hostile inputs within the existing size limits, scanned under a hard 1 GiB address-space
//! limit (`prlimit --as`, util-linux, so no `unsafe` pre-exec hook is needed): every run
//! must exit 0/1 with a counted `limit reached` warning or 2 with a message, never abort.
//! Before the per-image collection limits, the first three took 7 GB, 7.8 GB (SARIF, then
//! abort 134) and 1.45 GB; before the per-layer result budget (`--max-layer-results`), one
//! layer of twenty 50,000-stanza dpkg `status.d` files took 3.5 GB.
//!
//! The binary's own baseline (a small image, every scanner, the bundled YARA rules
//! compiled) stays under 100 MB resident; 1 GiB of address space leaves room for thread
//! stacks and allocator arenas.

use bulwark_testkit::image as fixture;

use std::path::Path;
use std::process::{Command, Output};

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};

/// The address-space limit every run here is under.
const AS_LIMIT: u64 = 1 << 30;

/// Runs `bulwark args…` under [`AS_LIMIT`] with its cache and HOME in `home`. Fails the
/// test when `prlimit` is missing rather than running unlimited.
fn bulwark_limited(home: &Path, args: &[&str]) -> Output {
    let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"].into_iter().find(|p| Path::new(p).exists());
    let prlimit = prlimit.expect("prlimit (util-linux) is needed to run the binary under an address-space limit");
    let out = Command::new(prlimit)
        .arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_bulwark"))
        .args(args)
        .env("BULWARK_CACHE_DIR", home.join("cache"))
        .env("HOME", home)
        .env("BULWARK_NO_PROGRESS", "true")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("DOCKER_HOST")
        .env_remove("BULWARK_FORMAT")
        .output()
        .unwrap();
    // An abort (exit 134) or a signal is the failure this file exists for.
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "bulwark {args:?} ended with {:?} under a {AS_LIMIT}-byte address-space limit\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if code == Some(2) {
        assert!(!out.stderr.is_empty(), "exit 2 without a message");
    }
    out
}

/// The JSON report on stdout of a run that must have succeeded.
fn report(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The report's `limit reached` warnings, as the text they display as.
fn limit_warnings(report: &Value) -> Vec<String> {
    let warnings: Vec<bulwark_core::Warning> = serde_json::from_value(report["warnings"].clone()).unwrap_or_default();
    warnings
        .iter()
        .filter(|w| w.kind == bulwark_core::WarningKind::Limit && w.message.starts_with("limit reached: "))
        .map(ToString::to_string)
        .collect()
}

fn has_warning(warnings: &[String], parts: &[&str]) -> bool {
    warnings.iter().any(|w| parts.iter().all(|p| w.contains(p)))
}

const OS_RELEASE: &str = "ID=debian\nVERSION_ID=\"12\"\n";

/// An OCI layout of one gzip layer holding `items` plus a Debian os-release.
fn image(tmp: &Path, items: Vec<Item>, config: Value) -> String {
    let mut all = vec![dir("etc"), file("etc/os-release", OS_RELEASE)];
    all.extend(items);
    let built = build_with_config(&[Layer { items: all, compression: Compression::Gzip }], "amd64", config);
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1");
    format!("oci:{}:1", layout.display())
}

#[test]
fn a_million_dpkg_stanzas_keep_the_package_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut status = String::with_capacity(30 << 20);
    for i in 0..1_000_000 {
        status.push_str(&format!("Package: p{i}\nStatus: install ok installed\nVersion: 1.{i}\n\n"));
    }
    let reference = image(
        tmp.path(),
        vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg"), file("var/lib/dpkg/status", &status)],
        json!({}),
    );
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--no-cache"]));
    assert_eq!(r["packages"].as_array().unwrap().len(), 50_000);
    let w = limit_warnings(&r);
    assert!(has_warning(&w, &["--max-packages=50000", "/var/lib/dpkg/status", "950000 more"]), "{w:?}");

    // The flag moves the limit, and the cached layer analysis does not outlive it.
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--max-packages", "1000"]));
    assert_eq!(r["packages"].as_array().unwrap().len(), 1000);
    assert!(has_warning(&limit_warnings(&r), &["--max-packages=1000", "999000 more"]));
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--max-packages", "2000"]));
    assert_eq!(r["packages"].as_array().unwrap().len(), 2000);
}

#[test]
fn twenty_status_d_databases_in_one_layer_stay_within_the_layer_result_budget() {
    // Issue 10, item 5: each file is within --max-packages, but the layer as a whole kept
    // every parsed result (a million packages, ~3.5 GB). The per-layer result budget keeps
    // the first results in tar order and says what it did not keep.
    let tmp = tempfile::tempdir().unwrap();
    let mut items = vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d")];
    for n in 0..20 {
        let mut status = String::with_capacity(3 << 20);
        for i in 0..50_000 {
            status.push_str(&format!("Package: f{n}p{i}\nStatus: install ok installed\nVersion: 1.{i}\n\n"));
        }
        items.push(file(&format!("var/lib/dpkg/status.d/f{n:02}"), &status));
    }
    let reference = image(tmp.path(), items, json!({}));
    let check = |r: &Value| {
        let packages = r["packages"].as_array().unwrap().len();
        assert!((50_000..1_000_000).contains(&packages) && packages.is_multiple_of(50_000), "{packages} packages");
        let kept = packages / 50_000;
        let w = limit_warnings(r);
        let first_dropped = format!("/var/lib/dpkg/status.d/f{kept:02}");
        let more = format!("({} more not checked)", 20 - kept);
        assert!(has_warning(&w, &["--max-layer-results=", "os-packages", "layer 0", &first_dropped, &more]), "{w:?}");
        // Never a pass on what was dropped: the vulnerability check is listed as incomplete.
        let gaps: Vec<&Value> =
            r["not_checked"].as_array().unwrap().iter().filter(|n| n["reason"] == "skipped-by-limit").collect();
        assert!(
            gaps.len() == 1 && gaps[0]["scanner"] == "vuln" && gaps[0]["scope"] == first_dropped.as_str(),
            "{gaps:?}"
        );
    };
    // Read, then from the layer cache: what was not kept is remembered with the layer.
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json"]));
    check(&r);
    let again = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json"]));
    assert_eq!(r["packages"], again["packages"]);
    check(&again);
}

#[test]
fn a_million_broken_stanzas_give_counted_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    // No Version: each stanza used to be one warning, a million in the report.
    let status: String = (0..1_000_000).map(|i| format!("Package: p{i}\n\n")).collect();
    let reference = image(
        tmp.path(),
        vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg"), file("var/lib/dpkg/status", &status)],
        json!({}),
    );
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--no-cache"]));
    let warnings = r["warnings"].as_array().unwrap();
    assert!(warnings.len() < 200, "{} warnings", warnings.len());
    assert!(warnings.iter().any(|w| w["message"].as_str().unwrap().contains("999900 more warnings")), "{warnings:?}");
}

#[test]
fn many_files_per_dpkg_package_and_many_apk_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let status = "Package: big\nStatus: install ok installed\nVersion: 1\n\n";
    let list: String = (0..1_000_000).map(|i| format!("/usr/share/big/f{i}\n")).collect();
    let apk: String = (0..300_000).map(|i| format!("P:a{i}\nV:1-r0\nF:usr/lib\nR:x{i}\n\n")).collect();
    let files_of_one: String = (0..300_000).map(|i| format!("R:y{i}\n")).collect();
    let apk = format!("P:many\nV:1-r0\nF:usr\n{files_of_one}\n{apk}");
    let reference = image(
        tmp.path(),
        vec![
            dir("var"),
            dir("var/lib"),
            dir("var/lib/dpkg"),
            dir("var/lib/dpkg/info"),
            file("var/lib/dpkg/status", status),
            file("var/lib/dpkg/info/big.list", &list),
            dir("lib"),
            dir("lib/apk"),
            dir("lib/apk/db"),
            file("lib/apk/db/installed", &apk),
        ],
        json!({}),
    );
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--no-cache"]));
    let w = limit_warnings(&r);
    assert!(has_warning(&w, &["--max-package-files=100000", "big.list", "900000 more"]), "{w:?}");
    assert!(has_warning(&w, &["--max-packages=50000", "/lib/apk/db/installed", "250001 more"]), "{w:?}");
    assert!(has_warning(&w, &["--max-package-files=100000", "/lib/apk/db/installed", "200000 more"]), "{w:?}");
}

#[test]
fn a_huge_npm_lockfile_keeps_the_package_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let packages: serde_json::Map<String, Value> = (0..400_000)
        .map(|i| (format!("node_modules/p{i}"), json!({ "version": "1.0.0" })))
        .chain([(String::new(), json!({ "name": "app", "version": "1.0.0" }))])
        .collect();
    let lock = serde_json::to_string(&json!({ "name": "app", "lockfileVersion": 3, "packages": packages })).unwrap();
    assert!(lock.len() < 64 << 20);
    let reference = image(tmp.path(), vec![dir("app"), file("app/package-lock.json", &lock)], json!({}));
    let r = report(&bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--no-cache"]));
    let npm = r["packages"].as_array().unwrap().iter().filter(|p| p["ecosystem"] == "npm").count();
    assert_eq!(npm, 50_000);
    assert!(has_warning(&limit_warnings(&r), &["--max-packages=50000", "/app/package-lock.json"]));
}

#[test]
fn a_quarter_million_secret_env_entries_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    // Within the 8 MiB config limit; each entry is a finding for the secret scanner
    // (env-secret) and for the config checks (BW-CFG-003).
    let env: Vec<String> = (0..250_000).map(|i| format!("TOKEN{i}=Zq8vR2mX{i:06}")).collect();
    let reference = image(tmp.path(), vec![], json!({ "Env": env }));
    let formats = ["sarif", "json", "table", "junit", "cyclonedx", "spdx", "html", "markdown"];
    let outputs: Vec<String> =
        formats.iter().map(|f| format!("{f}={}", tmp.path().join(format!("out.{f}")).display())).collect();
    let mut args = vec!["scan", reference.as_str(), "-f", "json", "--no-cache"];
    for o in &outputs {
        args.extend(["-o", o.as_str()]);
    }
    let r = report(&bulwark_limited(tmp.path(), &args));
    let w = limit_warnings(&r);
    assert!(has_warning(&w, &["--max-config-entries=10000", "Env", "240000 more"]), "{w:?}");
    assert!(has_warning(&w, &["--max-findings=5000", "secret findings of rule env-secret"]), "{w:?}");
    assert!(has_warning(&w, &["--max-findings=5000", "config findings of rule BW-CFG-003"]), "{w:?}");
    let secrets = r["secrets"].as_array().unwrap();
    assert!(secrets.iter().filter(|s| s["rule"] == "env-secret").count() == 5000);
    for f in formats {
        let len = std::fs::metadata(tmp.path().join(format!("out.{f}"))).unwrap().len();
        assert!(len > 0, "{f} output is empty");
    }
    // The SARIF log has every kept finding once, and stays within a small factor of the
    // JSON report (it was 24 times the JSON report's memory, then aborted).
    let sarif: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("out.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 10_000 && results.len() < 10_100, "{}", results.len());
    let json_len = std::fs::metadata(tmp.path().join("out.json")).unwrap().len();
    let sarif_len = std::fs::metadata(tmp.path().join("out.sarif")).unwrap().len();
    assert!(sarif_len < 4 * json_len, "SARIF {sarif_len} bytes, JSON {json_len}");

    // A lower --max-findings is honoured in SARIF too.
    let out = bulwark_limited(tmp.path(), &["scan", &reference, "-f", "sarif", "--max-findings", "10"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(sarif["runs"][0]["results"].as_array().unwrap().len() < 40);
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit reached: --max-findings=10"));
}

#[test]
fn an_sbom_of_a_million_components() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.cdx.json");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        write!(f, r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#).unwrap();
        for i in 0..1_000_000 {
            let sep = if i == 0 { "" } else { "," };
            write!(f, r#"{sep}{{"type":"library","name":"p{i}","version":"1","purl":"pkg:npm/p{i}@1"}}"#).unwrap();
        }
        write!(f, "]}}").unwrap();
    }
    let sbom = format!("sbom:{}", path.display());
    let r = report(&bulwark_limited(tmp.path(), &["scan", &sbom, "-f", "json"]));
    assert_eq!(r["packages"].as_array().unwrap().len(), 50_000);
    assert!(has_warning(&limit_warnings(&r), &["--max-packages=50000", "sbom", "950000 more"]));

    // One component with a million properties is cut by the same budget.
    let props: Vec<Value> = (0..1_000_000).map(|i| json!({ "name": format!("k{i}"), "value": "v" })).collect();
    let doc = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        { "type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1", "properties": props },
    ]});
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let r = report(&bulwark_limited(tmp.path(), &["scan", &sbom, "-f", "json"]));
    assert_eq!(r["packages"].as_array().unwrap().len(), 1);
    assert!(has_warning(&limit_warnings(&r), &["--max-packages=50000", "sbom"]));
}

#[test]
fn many_layers_each_within_the_layer_budget_stop_at_the_image_budget() {
    // Issue 10: the per-layer budget bounds one layer, but an image of many layers each
    // just under it kept layers x budget. Eight layers of 2,000 dpkg packages each, a
    // layer budget each one fits and an image budget the eight together do not: exit 2,
    // naming the limit and the flag, never a partial pass.
    let tmp = tempfile::tempdir().unwrap();
    let mut layers =
        vec![Layer { items: vec![dir("etc"), file("etc/os-release", OS_RELEASE)], compression: Compression::Gzip }];
    for n in 0..8 {
        let mut status = String::new();
        for i in 0..2_000 {
            status.push_str(&format!("Package: l{n}p{i}\nStatus: install ok installed\nVersion: 1.{i}\n\n"));
        }
        let items = vec![dir("var"), dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d")];
        let mut items = items;
        items.push(file(&format!("var/lib/dpkg/status.d/l{n}"), &status));
        layers.push(Layer { items, compression: Compression::Gzip });
    }
    let built = build_with_config(&layers, "amd64", json!({}));
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1");
    let reference = format!("oci:{}:1", layout.display());
    let layer_budget = "8000000";

    // Every layer within its budget, the image within a raised image budget: all kept.
    let all =
        ["scan", &reference, "-f", "json", "--max-layer-results", layer_budget, "--max-image-results", "200000000"];
    let r = report(&bulwark_limited(tmp.path(), &all));
    assert_eq!(r["packages"].as_array().unwrap().len(), 16_000);
    assert!(limit_warnings(&r).is_empty(), "{:?}", limit_warnings(&r));

    // The image budget below what the eight layers keep: exit 2 with the limit named, cold
    // and from the layer cache the first run filled.
    let small =
        ["scan", &reference, "-f", "json", "--max-layer-results", layer_budget, "--max-image-results", "6000000"];
    for run in ["cold", "warm"] {
        let args: Vec<&str> = if run == "cold" { [&small[..], &["--no-cache"]].concat() } else { small.to_vec() };
        let out = bulwark_limited(tmp.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{run}: {stderr}");
        assert!(out.stdout.is_empty(), "{run}: no report from an image that was not read whole");
        assert!(
            stderr.contains("over the image-wide limit of 6000000 bytes") && stderr.contains("--max-image-results"),
            "{run}: {stderr}"
        );
    }

    // The same from bulwark.yaml.
    let config = tmp.path().join("bulwark.yaml");
    std::fs::write(&config, "max-image-results: 6000000\nmax-layer-results: 8000000\n").unwrap();
    let out = bulwark_limited(tmp.path(), &["scan", &reference, "-f", "json", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-image-results"));
}
