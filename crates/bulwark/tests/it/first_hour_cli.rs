//! What a new user meets in their first hour (issue 12, "Outputs" and "Inputs people
//! type"), through the real binary: each test first does what the user did and checks the
//! answer they should have had instead of the one they got.

use crate::support;
use bulwark_testkit::image as fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(path: &Path, s: &str) {
    std::fs::write(path, s).unwrap();
}

/// An image with a config (root user, no healthcheck) and an AWS key in a file: a high
/// secret and misconfigurations of several severities, no malware.
fn image(tmp: &Path) -> (String, String) {
    let layers = vec![Layer {
        compression: Compression::Gzip,
        items: vec![
            dir("etc"),
            file("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"),
            dir("app"),
            file("app/settings.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"),
        ],
    }];
    let built = build_with_config(&layers, "amd64", json!({"Cmd": ["/app/run"], "ExposedPorts": {"22/tcp": {}}}));
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1.0");
    (format!("oci:{}:1.0", layout.display()), built.manifest_digest.hex().to_owned())
}

/// A root filesystem directory with one file larger than 10 bytes and one smaller.
fn rootfs(tmp: &Path) -> PathBuf {
    let root = tmp.join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    write(&root.join("etc/big"), &"x".repeat(100));
    write(&root.join("etc/s"), "abc");
    root
}

fn run(tmp: &Path, args: &[&str]) -> Output {
    bulwark_in(tmp, args, &tmp.join("cache"))
}

#[test]
fn output_accepts_only_known_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    // What the user typed: a YAML "format" and a colon. Both used to write a table to a
    // file named after the whole argument, exit 0, and leave the SARIF upload empty.
    for spec in ["yml=r.yml", "sarif:r.sarif", "r.log"] {
        let out = run(tmp.path(), &["scan", &img, "--no-progress", "--scanners", "config", "-o", spec]);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("valid forms: FORMAT=FILE with FORMAT one of table, json, sarif"), "{spec}: {err}");
        assert!(!tmp.path().join(spec).exists(), "{spec} was written");
    }
    let err = text(&run(tmp.path(), &["scan", &img, "-o", "sarif:r.sarif"]).stderr);
    assert!(err.contains("write `sarif=r.sarif`"), "{err}");
    // A plain FILE is written in the format its extension names, and replaces stdout.
    let out = run(tmp.path(), &["scan", &img, "--no-progress", "--scanners", "config", "-o", "r.sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let sarif: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("r.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    // An extension that contradicts --format is an error, not a table in a .sarif file.
    let out = run(tmp.path(), &["scan", &img, "--scanners", "config", "-f", "table", "-o", "x.sarif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the extension names sarif but --format is table"));
}

#[test]
fn severities_ignore_case_and_spaces() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    for sev in ["HIGH,CRITICAL", "critical, high", " High "] {
        let out = run(tmp.path(), &["scan", &img, "--no-progress", "-f", "JSON", "--severity", sev]);
        assert_eq!(out.status.code(), Some(0), "{sev}: {}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sevs: Vec<&str> = ["misconfigurations", "secrets"]
            .iter()
            .flat_map(|k| report[k].as_array().unwrap())
            .map(|f| f["severity"].as_str().unwrap())
            .collect();
        assert!(!sevs.is_empty(), "{sev}: nothing kept");
        assert!(sevs.iter().all(|s| *s == "high" || *s == "critical"), "{sev}: {sevs:?}");
    }
    let out = run(tmp.path(), &["scan", &img, "--severity", "hgh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("critical, high, medium, low, unknown"), "{}", text(&out.stderr));
}

#[test]
fn config_file_unknown_keys_get_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    write(&tmp.path().join("bulwark.yaml"), "severty: high\n");
    let out = run(tmp.path(), &["scan", &img]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown key \"severty\"") && err.contains("did you mean `severity`?"), "{err}");
}

const POLICY_BAD_CHECK: &str = "apiVersion: bulwark.dev/v1
kind: ImageAssertion
name: t
rules:
  - id: cfg
    description: no bad config
    action: deny
    deny_config: {ids: [BW-CFG-999]}
";

#[test]
fn policy_lint_rejects_check_ids_that_do_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    let policy = tmp.path().join("p.yaml");
    write(&policy, POLICY_BAD_CHECK);
    let out = run(tmp.path(), &["policy", "lint", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "BW-CFG-999 passed lint: {}", text(&out.stdout));
    assert!(text(&out.stdout).contains(":8:25: error: unknown config check `BW-CFG-999`"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("1 error"), "{}", text(&out.stderr));
    // The same policy given to a scan: one "error:", and the rule is not silently inert.
    let out = run(tmp.path(), &["scan", &img, "--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.matches("error").count(), 1, "{err}");
    assert!(err.contains("(1 problem)"), "{err}");
}

#[test]
fn yara_compile_errors_name_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let bad = rules.join("bad.yar");
    write(&bad, "rule a {\n  strings: $a = \"x\"\n  condition: $a and nosuch\n}\n");
    let root = rootfs(tmp.path());
    let out = run(
        tmp.path(),
        &[
            "scan",
            &format!("dir:{}", root.display()),
            "--scanners",
            "malware",
            "--no-progress",
            "--yara-rules",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:3:21: error: unknown identifier", bad.display())), "{err}");
    assert!(!err.contains("mem:"), "{err}");
}

#[test]
fn the_table_lists_every_suppression_and_exception() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    // The old flat form: read, with a deprecation warning.
    write(
        &tmp.path().join(".bulwarkignore.yaml"),
        "ignores:\n  - id: CVE-2020-0001\n    package: zlib\n    reason: old\n    expires: 2020-01-01\n  - id: CVE-2099-0002\n    scope: {package: openssl}\n    reason: not reachable\n    expires: 2030-01-01\n",
    );
    // A rule that needs no advisory database: this test has none, and a vulnerability rule
    // would fail the gate on `checks-complete` (tests/gate.rs covers that).
    let policy = tmp.path().join("p.yaml");
    write(
        &policy,
        "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: team\nrules:\n  - id: no-malware\n    description: no malware\n    action: deny\n    deny_malware: true\nexceptions:\n  - id: BW-CFG-001\n    reason: the platform drops root\n    owner: sec@example.com\n    expires: 2030-01-01\n",
    );
    let out = run(tmp.path(), &["scan", &img, "--no-progress", "--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    // Expired and unused entries used to be in the JSON only.
    assert!(table.contains("Suppressions and exceptions (3)"), "{table}");
    for needle in [
        "EXPIRED  CVE-2020-0001",
        "unused   CVE-2099-0002",
        "expired: no longer hides anything",
        "matched nothing · scope package=openssl",
        "policy team exception",
    ] {
        assert!(table.contains(needle), "{needle} missing:\n{table}");
    }
    assert!(text(&out.stderr).contains("this form is deprecated: move them under `scope:`"), "{}", text(&out.stderr));
}

#[test]
fn scanners_that_did_not_run_are_not_shown_as_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let root = rootfs(tmp.path());
    let reference = format!("dir:{}", root.display());
    let out = run(tmp.path(), &["scan", &reference, "--no-progress"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    // Was: "Scanners  vuln, malware, secret, config" and "0 misconfigurations".
    assert!(table.contains("Scanners  malware, secret, config (partly)"), "{table}");
    assert!(table.contains("Not run   vuln: no advisory database"), "{table}");
    assert!(table.contains("Not run   config 7 checks (BW-CFG-001"), "{table}");
    assert!(table.contains("0 misconfigurations (9 checks not run)"), "{table}");
    assert!(table.contains("vulnerabilities not checked"), "{table}");
    let out = run(tmp.path(), &["scan", &reference, "--no-progress", "-f", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scanners"], json!(["malware", "secret", "config"]));
    let not_run = report["not_run"].as_array().unwrap();
    assert!(not_run.iter().any(|n| n["scanner"] == "vuln" && n["checks"].is_null()), "{not_run:?}");
    assert!(not_run.iter().any(|n| n["scanner"] == "config" && n["checks"][0] == "BW-CFG-001"), "{not_run:?}");
}

#[test]
fn counts_are_singular_for_one_and_errors_are_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = rootfs(tmp.path());
    let out =
        run(tmp.path(), &["scan", &format!("dir:{}", root.display()), "--no-progress", "--max-scan-file-bytes", "10"]);
    let table = text(&out.stdout);
    assert!(table.contains("Skipped by malware: 1 file (100 bytes)"), "{table}");
    assert!(!table.contains("1 files") && !table.contains("(s)"), "{table}");
    let out = run(tmp.path(), &["scan", "oci:/nonexistent/layout", "--no-progress"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let out = run(tmp.path(), &["scan", "oci:/x", "--ignore-file", "/nonexistent.yaml"]);
    let err = text(&out.stderr);
    assert_eq!(err.matches("/nonexistent.yaml").count(), 1, "{err}");
}

/// Runs the binary on a real pseudo-terminal of `cols` columns (python3's pty module, the
/// window size set with TIOCSWINSZ before exec), with COLUMNS unset; returns the screen.
fn on_pty(tmp: &Path, cols: u16, term: &str, args: &[&str]) -> String {
    const DRIVER: &str = r#"
import fcntl, os, pty, struct, sys, termios
cols = int(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    os.execv(sys.argv[2], sys.argv[2:])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(cols.to_string())
        .arg(env!("CARGO_BIN_EXE_bulwark"))
        .args(args)
        .current_dir(tmp)
        .env("BULWARK_CACHE_DIR", tmp.join("cache"))
        .env("HOME", tmp.join("cache"))
        .env("BULWARK_TODAY", "2026-06-01")
        .env("TERM", term)
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_FORMAT")
        .env_remove("DOCKER_HOST")
        .output()
        .expect("python3 is installed");
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout).replace("\r\n", "\n")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_table_fits_a_real_terminal_and_wraps_instead_of_cutting() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, digest) = image(tmp.path());
    // No database, so no warning line on stderr (which shares the terminal) either.
    let args = ["scan", img.as_str(), "--no-progress", "--no-db"];
    let narrow = strip_ansi(&on_pty(tmp.path(), 80, "xterm", &args));
    let widest = narrow.lines().map(|l| l.chars().count()).max().unwrap();
    // Was 120 (the fallback when COLUMNS is unset), whatever the window.
    assert!(widest <= 80, "a line of {widest} columns on an 80-column terminal:\n{narrow}");
    // The digest wraps instead of ending in `…`.
    let joined: String = narrow.split_whitespace().collect();
    assert!(joined.contains(&format!("sha256:{digest}")), "digest cut:\n{narrow}");
    assert!(!narrow.contains('…'), "{narrow}");
    let wide = strip_ansi(&on_pty(tmp.path(), 200, "xterm", &args));
    let widest = wide.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 80 && widest <= 200, "{widest} columns on a 200-column terminal:\n{wide}");
    assert!(wide.contains(&format!("Digest    sha256:{digest}")), "{wide}");
}

#[test]
fn colour_only_where_the_terminal_can_show_it_and_red_only_for_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, _) = image(tmp.path());
    let args = ["scan", img.as_str(), "--no-progress"];
    let screen = on_pty(tmp.path(), 120, "xterm", &args);
    assert!(screen.contains("\x1b["), "no colour on a terminal");
    // The summary: a bold label, the secret in red, the zero malware count plain.
    let total = screen.lines().find(|l| l.contains("Total: ")).unwrap();
    assert!(total.starts_with("\x1b[1mTotal: \x1b[0m"), "{total:?}");
    assert!(total.contains("\x1b[31m1 secret\x1b[0m"), "{total:?}");
    assert!(total.contains(", 0 malware findings,"), "{total:?}");
    // TERM=dumb has no escape sequences (it used to get them).
    let dumb = on_pty(tmp.path(), 120, "dumb", &args);
    assert!(!dumb.contains('\x1b'), "colour on TERM=dumb");
}
