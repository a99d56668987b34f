//! `bulwark scan` with every scanner, end to end through the binary: an image with planted
//! malware, secrets (one deleted by a later layer) and misconfigurations; the policy gate
//! and its three exit codes; several outputs in one run; `bulwark.yaml`; `policy check`
//! and `policy lint`; progress on a terminal and not on a pipe.

use crate::support;
use bulwark_testkit::image as fixture;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;
use support::planted::private_key;

/// A GitHub personal access token: `ghp_`, 30 random characters, base62 CRC-32 of them.
fn github_token() -> String {
    support::planted::github_token("Zq8Rk2Lm4Np6Tv0Xy3Ab5Cd7Ef9Gh1")
}

/// `/opt/a.tar.gz` holding the real EICAR zip from ../shared.
fn eicar_tar_gz() -> Vec<u8> {
    let zip = std::fs::read(shared().join("malware/eicar/eicar_com.zip")).unwrap();
    let tar = tar_bytes(&[Item::File("eicar_com.zip".into(), zip)]);
    compress(&tar, Compression::Gzip)
}

struct Planted {
    layout: PathBuf,
    reference: String,
    key: String,
    token: String,
}

fn planted_image(tmp: &Path) -> Planted {
    let key = private_key(tmp);
    let token = github_token();
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                file(
                    "etc/os-release",
                    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
                ),
            ],
        },
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("opt"),
                Item::File("opt/a.tar.gz".into(), eicar_tar_gz()),
                dir("root"),
                dir("root/.ssh"),
                file("root/.ssh/id_rsa", &key),
                dir("app"),
                file(
                    "app/settings.env",
                    &format!(
                        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nGITHUB_TOKEN={token}\n"
                    ),
                ),
            ],
        },
        Layer {
            compression: Compression::Gzip,
            items: vec![whiteout("root/.ssh/id_rsa"), file("app/run", "#!/bin/sh\n")],
        },
    ];
    let built = build_with_config(
        &layers,
        "amd64",
        json!({"Env": ["PATH=/usr/bin", "DB_PASSWORD=Vq3-hunter2-9xKp"], "Cmd": ["/app/run"], "ExposedPorts": {"22/tcp": {}}}),
    );
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1.0");
    let reference = format!("oci:{}:1.0", layout.display());
    Planted { layout, reference, key, token }
}

/// A report the binary wrote is valid under the committed schema, schemas/report.schema.json.
fn assert_valid_report(report: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/report.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(report).map(|e| format!("{e} at {}", e.instance_path())).take(20).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn findings<'a>(report: &'a Value, kind: &str) -> &'a Vec<Value> {
    report[kind].as_array().unwrap_or_else(|| panic!("no {kind} in {report}"))
}

#[test]
fn every_planted_finding_is_found_with_its_layer_and_nothing_leaks() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let img = planted_image(tmp.path());
    let out = bulwark_in(tmp.path(), &["scan", &img.reference, "--format", "json", "--no-progress"], &cache);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    // No advisory database here: the vulnerability scanner did not run, and says so.
    assert_eq!(report["scanners"], json!(["malware", "secret", "config"]));
    assert_eq!(report["not_run"], json!([{"scanner": "vuln", "reason": "no advisory database"}]));
    assert_valid_report(&report);

    // Malware: EICAR inside a zip inside a tar.gz, in layer 1.
    let malware = findings(&report, "malware");
    assert!(
        malware.iter().any(|m| m["location"]["path"] == "/opt/a.tar.gz!eicar_com.zip!eicar.com"
            && m["location"]["layer"] == 1
            && m["rule"].as_str().unwrap().to_lowercase().contains("eicar")),
        "{malware:#?}"
    );

    // Secrets: each with its layer; the key is still shipped although layer 2 deleted it.
    let secrets = findings(&report, "secrets");
    let has = |rule: &str, path: &str, layer: Option<u64>, removed: Option<u64>| {
        secrets.iter().any(|s| {
            s["rule"] == rule
                && s["location"]["path"] == path
                && s["location"]["layer"].as_u64() == layer
                && s["location"]["removed_in"].as_u64() == removed
        })
    };
    assert!(has("private-key", "/root/.ssh/id_rsa", Some(1), Some(2)), "{secrets:#?}");
    assert!(has("aws-access-key-id", "/app/settings.env", Some(1), None), "{secrets:#?}");
    assert!(has("aws-secret-access-key", "/app/settings.env", Some(1), None), "{secrets:#?}");
    assert!(has("github-token", "/app/settings.env", Some(1), None), "{secrets:#?}");
    assert!(
        secrets.iter().any(|s| s["location"]["path"] == "config:Env" && s["location"]["layer"].is_null()),
        "{secrets:#?}"
    );
    // Never a whole secret in the output.
    for secret in [img.token.as_str(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Vq3-hunter2-9xKp"] {
        assert!(!text.contains(secret), "{secret} leaked into the report");
    }
    let key_body = img.key.lines().nth(1).unwrap();
    assert!(!text.contains(key_body), "private key material leaked");

    // Misconfigurations: root user, SSH port, secret in Env.
    let config: Vec<&str> = findings(&report, "misconfigurations").iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in ["BW-CFG-001", "BW-CFG-002", "BW-CFG-003"] {
        assert!(config.contains(&id), "{id} missing from {config:?}");
    }

    // Only the scanners asked for run.
    let out = bulwark_in(
        tmp.path(),
        &["scan", &img.reference, "--format", "json", "--no-progress", "--scanners", "config"],
        &cache,
    );
    let only: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(only["scanners"], json!(["config"]));
    assert!(findings(&only, "secrets").is_empty() && findings(&only, "malware").is_empty());
    assert!(!findings(&only, "misconfigurations").is_empty());
}

fn write(path: &Path, text: &str) {
    std::fs::File::create(path).unwrap().write_all(text.as_bytes()).unwrap();
}

const DENY_MALWARE: &str = "apiVersion: bulwark.dev/v1
kind: ImageAssertion
name: release
rules:
  - id: no-malware
    description: no file matches a malware rule
    action: deny
    deny_malware: true
";

#[test]
fn policy_gate_exit_codes_outputs_and_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let img = planted_image(tmp.path());
    let policy = tmp.path().join("policy.yaml");
    write(&policy, DENY_MALWARE);

    // 1: the policy fails, and every output carries the verdict.
    let out = bulwark_in(
        tmp.path(),
        &[
            "scan",
            &img.reference,
            "--no-progress",
            "--policy",
            policy.to_str().unwrap(),
            "--output",
            "json=r.json",
            "--output",
            "sarif=r.sarif",
            "--output",
            "junit=r.xml",
            "--output",
            "markdown=r.md",
            "--output",
            "html=r.html",
        ],
        &cache,
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED"));
    let report: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("r.json")).unwrap()).unwrap();
    assert_valid_report(&report);
    assert_eq!(report["policy"]["passed"], false);
    assert_eq!(report["policy"]["rules"][0]["id"], "no-malware");
    let sarif: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("r.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let junit = std::fs::read_to_string(tmp.path().join("r.xml")).unwrap();
    assert!(junit.contains("no-malware") && junit.contains("<failure"), "{junit}");
    assert!(std::fs::read_to_string(tmp.path().join("r.md")).unwrap().contains("no-malware"));
    assert!(std::fs::read_to_string(tmp.path().join("r.html")).unwrap().contains("<html"));
    // The table still went to stdout.
    assert!(String::from_utf8_lossy(&out.stdout).contains("no-malware"));

    // `policy check` re-evaluates the saved report: same verdict, no rescan.
    let check = bulwark_in(
        tmp.path(),
        &["policy", "check", "r.json", "--policy", policy.to_str().unwrap(), "--format", "json"],
        &cache,
    );
    assert_eq!(check.status.code(), Some(1));
    let rechecked: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(rechecked["policy"], report["policy"]);

    // An exception for the EICAR finding, valid on the injected date, makes it pass (0)...
    let rule = report["malware"][0]["rule"].as_str().unwrap().to_owned();
    let excepted = tmp.path().join("excepted.yaml");
    write(
        &excepted,
        &format!(
            "{DENY_MALWARE}exceptions:\n  - id: {rule}\n    reason: the EICAR test file is a planted fixture\n    owner: security@example.com\n    expires: 2026-06-01\n"
        ),
    );
    let pass = bulwark_in(
        tmp.path(),
        &["policy", "check", "r.json", "--policy", excepted.to_str().unwrap(), "--format", "json"],
        &cache,
    );
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stdout));
    // ...and stops applying the day after it expires.
    let expired = bulwark_in(
        tmp.path(),
        &["policy", "check", "r.json", "--policy", excepted.to_str().unwrap(), "--date", "2026-06-02"],
        &cache,
    );
    assert_eq!(expired.status.code(), Some(1));

    // 2: a broken policy is an error before scanning, with line and column and a hint.
    let broken = tmp.path().join("broken.yaml");
    write(
        &broken,
        "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: x\nrules:\n  - id: a\n    action: explode\n",
    );
    let bad = bulwark_in(tmp.path(), &["scan", &img.reference, "--policy", broken.to_str().unwrap()], &cache);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("broken.yaml:") && err.contains("hint: `bulwark policy lint"), "{err}");
    let lint = bulwark_in(tmp.path(), &["policy", "lint", broken.to_str().unwrap()], &cache);
    assert_eq!(lint.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&lint.stdout).contains("broken.yaml:6:"),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let lint_ok = bulwark_in(tmp.path(), &["policy", "lint", policy.to_str().unwrap()], &cache);
    assert_eq!(lint_ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&lint_ok.stderr));

    // bulwark.yaml in the working directory sets flags; the command line wins over it.
    write(&tmp.path().join("bulwark.yaml"), "format: json\nscanners: [secret]\nno-progress: true\n");
    let from_file = bulwark_in(tmp.path(), &["scan", &img.reference], &cache);
    assert_eq!(from_file.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_file.stderr));
    let r: Value = serde_json::from_slice(&from_file.stdout).unwrap();
    assert_eq!(r["scanners"], json!(["secret"]));
    let overridden = bulwark_in(tmp.path(), &["scan", &img.reference, "--scanners", "config"], &cache);
    let r: Value = serde_json::from_slice(&overridden.stdout).unwrap();
    assert_eq!(r["scanners"], json!(["config"]));
    write(&tmp.path().join("bulwark.yaml"), "formt: json\n");
    let typo = bulwark_in(tmp.path(), &["scan", &img.reference], &cache);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("unknown key \"formt\""));
    let _ = &img.layout;
}

#[test]
fn progress_on_a_terminal_and_not_on_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let img = planted_image(tmp.path());
    // A pipe: stderr carries no progress bar.
    let piped = bulwark_in(tmp.path(), &["scan", &img.reference, "--scanners", "config", "--no-cache"], &cache);
    assert_eq!(piped.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("layer "), "{}", String::from_utf8_lossy(&piped.stderr));
    // A terminal (util-linux `script` gives the command a pty): progress is drawn.
    let command = format!(
        "{} scan {} --scanners config --no-cache --format json -o {}",
        env!("CARGO_BIN_EXE_bulwark"),
        img.reference,
        tmp.path().join("tty.json").display()
    );
    let tty = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .current_dir(tmp.path())
        .env("BULWARK_CACHE_DIR", &cache)
        .env("HOME", &cache)
        .env_remove("BULWARK_DB")
        .output()
        .expect("script (util-linux) is installed");
    assert_eq!(tty.status.code(), Some(0), "{}", String::from_utf8_lossy(&tty.stdout));
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("layer "), "no progress on a terminal: {screen:?}");
}

/// An OCI layout whose one uncompressed layer holds `files` files of 64 KiB of
/// incompressible bytes: a scan of it takes seconds, long enough to be interrupted.
fn big_layout(root: &Path, files: usize) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut tar = tar::Builder::new(Vec::new());
    for i in 0..files {
        let body: Vec<u8> = (0..64 * 1024 / 8)
            .flat_map(|_| {
                // xorshift64: fast, and nothing a decompressor or scanner can shortcut.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("data/{i:05}.bin"), body.as_slice()).unwrap();
    }
    let built = build_from_tars(vec![(tar.into_inner().unwrap(), Compression::None)], "amd64", json!({}));
    write_oci_layout(root, &built, "big");
    format!("oci:{}:big", root.display())
}

/// Bytes the process has read so far (`rchar` of /proc/PID/io): the scan is streaming its
/// layer once this grows past the manifest and config.
fn bytes_read(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines().find_map(|l| l.strip_prefix("rchar: ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

/// Interrupts a scan of `reference` with `signal` once its layer is being read; returns the
/// exit code and stderr.
fn interrupted_scan(dir: &Path, reference: &str, cache: &Path, signal: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["scan", reference, "--no-db", "--format", "json", "-o", "json=out.json", "-o", "sarif=out.sarif"])
        .current_dir(dir)
        .env("BULWARK_CACHE_DIR", cache)
        .env("HOME", cache)
        .env_remove("BULWARK_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    while bytes_read(pid) < 8 << 20 {
        assert!(child.try_wait().unwrap().is_none(), "the scan ended before it was interrupted");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_signal_cancels_the_scan_and_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // 96 MiB in one layer: seconds of streaming and scanning.
    let reference = big_layout(&tmp.path().join("big"), 1536);
    let (code, stderr) = interrupted_scan(tmp.path(), &reference, &cache, "INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr.lines().last(), Some("scan cancelled"), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    // No output file was started, and the layer was not cached: a rescan reads it again.
    for name in ["out.json", "out.sarif"] {
        assert!(!tmp.path().join(name).exists(), "{name} was written");
    }
    let entries: Vec<String> = walk(&cache)
        .into_iter()
        .filter(|p| !p.starts_with(cache.join("yara")))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let layer_entries: Vec<&String> =
        entries.iter().filter(|n| n.ends_with(".json.zst") || n.starts_with(".tmp-")).collect();
    assert!(layer_entries.is_empty(), "the cancelled layer left cache entries: {entries:?}");
    // SIGTERM: the same, with 143.
    let (code, stderr) = interrupted_scan(tmp.path(), &reference, &cache, "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert_eq!(stderr.lines().last(), Some("scan cancelled"), "{stderr}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { files.extend(walk(&p)) } else { files.push(p) }
    }
    files
}
