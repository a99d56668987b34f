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
