//! No output ever contains a whole secret, and no terminal control from an image reaches
//! the terminal: through the binary, every report format, `inspect` (table and JSON),
//! warnings and errors, with secrets of several kinds planted in the history, Cmd,
//! Entrypoint, labels, Env, a file's content (two secrets on one line) and a file path.
//! Also: the redaction leaves a real Debian report alone, and what it costs.

use crate::support;
use bulwark_testkit::image as fixture;

use std::path::Path;

use bulwark_core::Digest;
use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;
use support::planted::{BASE62, private_key};

/// Random-looking characters of `alphabet` from `seed` (xorshift), `n` of them.
fn random(seed: u64, n: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A GitHub personal access token with a valid checksum.
fn github_token(seed: u64) -> String {
    support::planted::github_token(&random(seed, 30, BASE62))
}

/// `built` with its config's `history`, `created` and container config replaced.
fn with_config(mut built: Built, history: Value, container: Value, created: &str) -> Built {
    let mut config: Value = serde_json::from_slice(&built.config).unwrap();
    config["history"] = history;
    config["config"] = container;
    config["created"] = json!(created);
    let bytes = serde_json::to_vec(&config).unwrap();
    let digest = Digest::sha256_of(&bytes);
    built.blobs.remove(&built.config_digest);
    built.blobs.remove(&built.manifest_digest);
    built.blobs.insert(digest.clone(), bytes.clone());
    let mut manifest: Value = serde_json::from_slice(&built.manifest).unwrap();
    manifest["config"]["digest"] = json!(digest.to_string());
    manifest["config"]["size"] = json!(bytes.len());
    let manifest = serde_json::to_vec(&manifest).unwrap();
    built.manifest_digest = Digest::sha256_of(&manifest);
    built.blobs.insert(built.manifest_digest.clone(), manifest.clone());
    built.manifest = manifest;
    built.config = bytes;
    built.config_digest = digest;
    built
}

/// The planted secrets, each with a name for the failure message.
struct Secrets {
    list: Vec<(&'static str, String)>,
    key: String,
}

fn planted(tmp: &Path) -> (String, Secrets) {
    let key = private_key(tmp);
    let akid = format!("AKIA{}", random(1, 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
    let aws_secret = random(2, 40, BASE64);
    let gh = github_token(3);
    let gh_in_path = github_token(4);
    let url_password = format!("Pw{}", random(5, 14, BASE62));
    let entropy = random(6, 32, BASE62);
    let entropy2 = random(7, 40, BASE62);
    let doc_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned();
    let layers = vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![dir("etc"), file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")],
        },
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("app"),
                // Two secrets on one line: a rule finds the key id, nothing finds the secret half
                // of the pair but the generic checks; a random token follows.
                file("app/sync.conf", &format!("target = s3://{akid}:{aws_secret}@bucket/backups opts={entropy2}\n")),
                // A secret in a path: the file is a finding, so its path is in every output.
                file(&format!("app/{gh_in_path}.env"), "DB_PASSWORD=Zq8v3Lr0pWx7Kd2\n"),
            ],
        },
    ];
    let built = build_with_config(&layers, "amd64", json!({}));
    let history = json!([
        {"created": "2024-01-01T00:00:00Z", "created_by": format!("RUN /bin/sh -c git clone https://deploy:{url_password}@git.example.com/app.git")},
        {"created": "2024-01-01T00:00:00Z", "created_by": format!("|2 GH={gh} AWS={akid}:{aws_secret} /bin/sh -c make && printf '%s' '{}' > /k.pem", key.replace('\n', "\\n"))},
        {"created_by": format!("/bin/sh -c #(nop)  ENTRYPOINT [\"/app/run\" \"--api-key\" \"{entropy}\"]"), "empty_layer": true}
    ]);
    let container = json!({
        "Env": [format!("UPSTREAM=https://ci:{url_password}@mirror.example.com/x"), format!("GITHUB_TOKEN={gh}"), format!("CACHE_KEY={entropy}")],
        "Cmd": ["sh", "-c", format!("aws s3 sync s3://{akid}:{aws_secret}@bucket/ /data && curl -H 'Authorization: token {gh}' x")],
        "Entrypoint": ["/app/run", "--api-key", entropy.clone(), format!("--upstream=https://ci:{url_password}@mirror.example.com")],
        "Labels": {
            "aws": format!("AKIAIOSFODNN7EXAMPLE:{doc_secret}"),
            "deploy.key": key.clone(),
            "ci": format!("token {gh} at https://u:{url_password}@ci.example.com"),
        },
        "WorkingDir": "/app",
    });
    let built = with_config(built, history, container, "2024-01-01T00:00:00Z");
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1.0");
    let list = vec![
        ("aws secret key", aws_secret),
        ("aws documented secret key", doc_secret),
        ("github token", gh),
        ("github token in a path", gh_in_path),
        ("url password", url_password),
        ("random token", entropy),
        ("random token on a line with another secret", entropy2),
    ];
    (format!("oci:{}:1.0", layout.display()), Secrets { list, key })
}

/// Fails if `text` (the output called `what`) holds any planted secret: whole, or all
/// but the (at most four) characters a mask shows, or a line of the private key body.
fn assert_no_secret(what: &str, text: &str, s: &Secrets) {
    for (name, secret) in &s.list {
        assert!(!text.contains(secret.as_str()), "{what}: the {name} {secret} leaked:\n{text}");
        assert!(!text.contains(&secret[4..]), "{what}: most of the {name} {secret} leaked:\n{text}");
    }
    for line in s.key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line), "{what}: private key material {line} leaked");
        // In JSON and labels the key appears with escaped line breaks.
        assert!(!text.contains(&line[..line.len().min(32)]), "{what}: private key material leaked");
    }
}

const FORMATS: [&str; 8] = ["table", "json", "sarif", "junit", "cyclonedx", "spdx", "html", "markdown"];

#[test]
fn no_planted_secret_reaches_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (reference, secrets) = planted(tmp.path());

    // Every format in one run: the table on stdout, the rest to files.
    let mut args = vec!["scan".to_owned(), reference.clone(), "--no-progress".into()];
    for f in &FORMATS[1..] {
        args.push("--output".into());
        args.push(format!("{f}={}", tmp.path().join(format!("out.{f}")).display()));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bulwark_in(tmp.path(), &argv, &cache);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let table = String::from_utf8(out.stdout).unwrap();
    assert_no_secret("scan table", &table, &secrets);
    assert_no_secret("scan stderr", &stderr, &secrets);
    for f in &FORMATS[1..] {
        let text = std::fs::read_to_string(tmp.path().join(format!("out.{f}"))).unwrap();
        assert_no_secret(f, &text, &secrets);
    }

    // The secrets were there to leak: found by the scanner, in the history the report
    // carries, and at the path that holds one.
    let report: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out.json")).unwrap()).unwrap();
    let found: Vec<(String, String)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["location"]["path"].as_str().unwrap().to_owned(), s["rule"].as_str().unwrap().to_owned()))
        .collect();
    for (path, rule) in [
        ("/app/sync.conf", "aws-access-key-id"),
        ("config:history[1]", "aws-access-key-id"),
        ("config:history[1]", "github-token"),
        ("config:Labels", "private-key"),
        ("config:Env", "github-token"),
    ] {
        assert!(found.iter().any(|(p, r)| p == path && r == rule), "no {rule} at {path}: {found:#?}");
    }
    assert!(found.iter().any(|(p, _)| p.starts_with("/app/ghp_") && p.ends_with("****.env")), "{found:#?}");
    let steps: Vec<&str> =
        report["layers"].as_array().unwrap().iter().filter_map(|l| l["created_by"].as_str()).collect();
    assert!(steps.iter().all(|s| s.contains("****")), "history steps not masked: {steps:#?}");
    assert!(steps.iter().any(|s| s.contains("git clone https://deploy:")), "history step lost its context: {steps:#?}");
    // A preview is the masked match with a little context, never the rest of the line.
    let sync =
        report["secrets"].as_array().unwrap().iter().find(|s| s["location"]["path"] == "/app/sync.conf").unwrap();
    let preview = sync["preview"].as_str().unwrap();
    assert!(preview.contains("AKIA****") && !preview.contains("backups opts="), "{preview}");

    // `inspect`, table and JSON: history, Cmd, Entrypoint, Env names and labels' neighbours.
    for format in ["table", "json"] {
        let out = bulwark_in(tmp.path(), &["inspect", &reference, "--format", format], &cache);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert_no_secret(&format!("inspect {format}"), &text, &secrets);
        assert_no_secret("inspect stderr", &String::from_utf8_lossy(&out.stderr), &secrets);
        assert!(text.contains("/app/run") && text.contains("--api-key") && text.contains("git clone"), "{text}");
    }

    // An error message that quotes image-derived text: a reference naming a secret.
    let bad = format!("oci:{}/missing-{}:1", tmp.path().display(), secrets.list[2].1);
    let out = bulwark_in(tmp.path(), &["scan", &bad, "--no-progress"], &cache);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error:"), "{stderr}");
    assert_no_secret("error message", &stderr, &secrets);
}

/// Every character a terminal acts on, or that reorders text, as it could sit in an image:
/// CSI (colour, clear screen), OSC (window title, ended by BEL and by ST), 8-bit CSI, DEL,
/// carriage return, and the bidi override, isolate and mark.
const HOSTILE: &str =
    "\x1b[2J\x1b[31mred\x1b]0;owned\x07\x1b]8;;http://x\x1b\\\u{9b}6n\u{7f}\rfake\u{202e}txt.exe\u{2067}\u{200f}";

fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text.chars().filter(|&c| bulwark_core::term::is_unsafe(c) && c != '\n').collect();
    assert!(bad.is_empty(), "{what}: {bad:?} reached the terminal:\n{text}");
}

#[test]
fn terminal_controls_from_the_image_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // A Python package's METADATA too large to read: the warning names its (hostile) path.
    let big = format!("Metadata-Version: 2.1\nName: x\nVersion: 1\n{}", "#".repeat(4096));
    let meta = format!("usr/lib/python3/dist-packages/x{HOSTILE}-1.dist-info/METADATA");
    let layers = vec![Layer {
        compression: Compression::Gzip,
        items: vec![
            dir("etc"),
            file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            dir("usr"),
            dir("usr/lib"),
            dir("usr/lib/python3"),
            dir("usr/lib/python3/dist-packages"),
            dir(&format!("usr/lib/python3/dist-packages/x{HOSTILE}-1.dist-info")),
            file(&meta, &big),
        ],
    }];
    let built = build_with_config(&layers, "amd64", json!({}));
    let history = json!([
        {"created": HOSTILE, "created_by": format!("RUN echo {HOSTILE}")},
        {"created_by": format!("CMD {HOSTILE}"), "empty_layer": true}
    ]);
    let container = json!({
        "User": HOSTILE,
        "Env": [format!("X{HOSTILE}=1")],
        "ExposedPorts": {format!("80{HOSTILE}/tcp"): {}},
        "Entrypoint": [format!("/bin/{HOSTILE}")],
        "Cmd": [HOSTILE],
        "WorkingDir": format!("/w{HOSTILE}"),
        "Labels": {"x": HOSTILE},
    });
    let built = with_config(built, history, container, HOSTILE);
    let layout = tmp.path().join("img");
    write_oci_layout(&layout, &built, "1");
    let reference = format!("oci:{}:1", layout.display());

    for format in ["table", "json"] {
        let out = bulwark_in(tmp.path(), &["inspect", &reference, "--format", format], &cache);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_terminal_safe(&format!("inspect {format}"), &out.stdout);
        assert_terminal_safe("inspect stderr", &out.stderr);
        // Shown, not dropped: the controls are visible escapes.
        let text = String::from_utf8_lossy(&out.stdout);
        for field in ["Created", "User", "Env", "Ports", "Entrypoint", "Cmd", "WorkingDir"] {
            let shown = text.lines().find(|l| l.starts_with(&format!("{field}:"))).map(|l| l.contains("\\e[2J"));
            if format == "table" {
                assert_eq!(shown, Some(true), "{field} in:\n{text}");
            }
        }
        assert!(text.contains("\\u{202e}"), "{text}");
    }

    for format in ["table", "markdown", "json"] {
        let out = bulwark_in(
            tmp.path(),
            &["scan", &reference, "--no-progress", "--max-file-bytes", "1024", "--format", format],
            &cache,
        );
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        if format != "json" {
            assert_terminal_safe(&format!("scan {format}"), &out.stdout);
        }
        assert_terminal_safe("scan warnings", &out.stderr);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("warning: ") && stderr.contains("\\e]0;owned\\a"), "{stderr}");
    }

    // An error naming a hostile reference.
    let out = bulwark_in(tmp.path(), &["inspect", &format!("oci:{}/no{HOSTILE}", tmp.path().display())], &cache);
    assert_eq!(out.status.code(), Some(2));
    assert_terminal_safe("error", &out.stderr);
}

/// The minbase root filesystem `scripts/minbase.sh` builds (`BULWARK_MINBASE_TAR`), as a
/// one-layer image; `None` outside CI when it is not set.
fn minbase(tmp: &Path) -> Option<bulwark_core::Reference> {
    let Some(tar) = std::env::var_os("BULWARK_MINBASE_TAR") else {
        bulwark_testkit::skip_unless_ci(
            "BULWARK_MINBASE_TAR is not set (scripts/test.sh sets it from scripts/minbase.sh)",
        );
        return None;
    };
    let layer = std::fs::read(Path::new(&tar)).unwrap();
    let built = build_from_tars(vec![(layer, Compression::None)], "amd64", json!({"Cmd": ["bash"]}));
    write_oci_layout(tmp, &built, "1");
    Some(format!("oci:{}", tmp.display()).parse().unwrap())
}

/// The redaction masks nothing ordinary: over a real Debian image's report (packages,
/// versions, purls, licenses, paths, history, warnings) and every path in the image.
#[test]
fn redaction_leaves_a_real_debian_report_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(reference) = minbase(tmp.path()) else { return };
    let opts = bulwark_scan::ScanOptions { cache_dir: None, ..Default::default() };
    let (scanned, image) = bulwark_scan::scan(&reference.clone().into(), &opts, &bulwark_image::NoProgress).unwrap();
    let image = image.unwrap();
    let raw = bulwark_scan::report(&image);
    assert!(raw.packages.len() > 80);
    // The scan's (redacted) report has the same packages, layers and OS as the raw one.
    assert_eq!(scanned.packages, raw.packages);
    assert_eq!(scanned.layers, raw.layers);
    assert_eq!(scanned.os, raw.os);
    let redactor = bulwark_scan::Redactor::builtin().unwrap();
    let mut copy = scanned.clone();
    redactor.redact_report(&mut copy);
    assert_eq!(copy, scanned, "redaction is idempotent and left the findings alone");
    assert!(!serde_json::to_string(&scanned).unwrap().contains("****"));
    let mut changed = Vec::new();
    let mut paths = 0;
    for (path, _) in image.view.iter() {
        paths += 1;
        let p = path.to_string();
        if redactor.redact(&p) != p {
            changed.push(p);
        }
    }
    assert!(paths > 5000, "{paths} paths");
    assert!(changed.is_empty(), "ordinary paths masked: {changed:#?}");
}
