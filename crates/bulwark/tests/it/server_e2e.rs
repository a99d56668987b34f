//! `bulwark server` end to end: the binary on 127.0.0.1:0 with one in-process worker over
//! its SQLite data dir; a scan submitted through the API runs in the worker and its report,
//! in every format, equals what `bulwark scan` writes for the same image and policy, byte
//! for byte. Then schemathesis fuzzes the running server against its own OpenAPI document
//! (no 5xx, no answer outside the schema), and SIGTERM stops it with exit code 0.

use crate::support;
use bulwark_testkit::image as fixture;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bulwark_image::spec::Compression;
use fixture::*;
use serde_json::{Value, json};
use support::bulwark_in;

use crate::support::RELEASE_POLICY as POLICY;

/// An image with an OS, a planted secret and a misconfiguration, so every format has
/// findings to render.
fn image(tmp: &Path) -> String {
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
                dir("app"),
                file(
                    "app/settings.env",
                    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                ),
            ],
        },
    ];
    let built = build_with_config(&layers, "amd64", json!({"Cmd": ["/app/run"], "ExposedPorts": {"22/tcp": {}}}));
    let layout = tmp.join("img");
    write_oci_layout(&layout, &built, "1.0");
    format!("oci:{}:1.0", layout.display())
}

struct Server {
    child: Child,
    base: String,
    token: String,
}

fn start_server(tmp: &Path, cache: &Path) -> Server {
    let data = tmp.join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["server", "--listen", "127.0.0.1:0", "--workers", "1", "--allow-local-sources", "--shutdown-grace", "5"])
        .arg("--data-dir")
        .arg(&data)
        .current_dir(tmp)
        .env("BULWARK_CACHE_DIR", cache)
        .env("HOME", cache)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("DOCKER_HOST")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server exits before listening").unwrap();
        if let Some(url) = line.strip_prefix("bulwark server: listening on ") {
            break url.to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_owned();
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("admin-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the admin token file is readable by its owner only");
    }
    Server { child, base, token }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().new_agent()
}

fn call(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Vec<u8>) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.base))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Content-Type", "application/json")
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    let mut res = agent().run(req).unwrap();
    let status = res.status().as_u16();
    (status, res.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap())
}

#[test]
fn a_scan_through_the_server_gives_the_cli_report_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let reference = image(tmp.path());
    let policy = tmp.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let mut server = start_server(tmp.path(), &cache);

    let (status, body) = call(&server, "PUT", "/api/v1/policies/release", Some(json!({"yaml": POLICY})));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let (status, body) =
        call(&server, "POST", "/api/v1/scans", Some(json!({"reference": reference, "policy": "release"})));
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let id = serde_json::from_slice::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    let mut scan = Value::Null;
    for _ in 0..20 {
        let (_, body) = call(&server, "GET", &format!("/api/v1/scans/{id}?wait=30"), None);
        scan = serde_json::from_slice(&body).unwrap();
        if scan["state"] != "queued" && scan["state"] != "running" {
            break;
        }
    }
    assert_eq!(scan["state"], "succeeded", "{scan}");
    assert_eq!(scan["verdict"]["passed"], false, "{scan}");
    assert_eq!(scan["verdict"]["policy_version"], 1);

    for format in ["json", "sarif", "junit", "cyclonedx", "spdx", "html", "markdown"] {
        let (status, served) = call(&server, "GET", &format!("/api/v1/scans/{id}/report?format={format}"), None);
        assert_eq!(status, 200, "{format}: {}", String::from_utf8_lossy(&served));
        let out = bulwark_in(
            tmp.path(),
            &["scan", &reference, "--no-progress", "--quiet", "--format", format, "--policy", policy.to_str().unwrap()],
            &cache,
        );
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(served == out.stdout, "{format}: the server's report differs from the CLI's");
    }
    schemathesis(&server, tmp.path());
    stop(&mut server);
}

/// Fuzzes every operation of the document with schemathesis: no 5xx, no answer that
/// violates the documented schema. Never skipped in CI.
fn schemathesis(server: &Server, dir: &Path) {
    let available = Command::new("st").arg("--version").output().is_ok_and(|o| o.status.success());
    if !available {
        bulwark_testkit::skip_unless_ci("schemathesis (`st`) is missing: run scripts/setup-dev.sh");
        return;
    }
    let out = Command::new("st")
        .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
        .args(["--header", &format!("Authorization: Bearer {}", server.token)])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", "20", "--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--exclude-path-regex", "/events$"])
        .current_dir(dir)
        .env_remove("SCHEMATHESIS_HOOKS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SIGTERM: the server finishes what is in flight and exits 0.
fn stop(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.child.kill();
    panic!("the server did not stop within 10 s of SIGTERM");
}

#[test]
fn server_config_file_errors_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("server.yaml"), "listn: 127.0.0.1:0\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["server", "--config", "server.yaml", "--data-dir", "d"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.yaml") && err.contains("unknown field `listn`"), "{err}");
    assert!(err.contains("hint: keys are the long flags"), "{err}");
    // Flags win over the file; the file fills what flags leave out.
    std::fs::write(tmp.path().join("server.yaml"), "listen: 127.0.0.1:1\nworkers: 0\nrate-burst: 5\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["server", "--config", "server.yaml", "--data-dir", "d", "--listen", "127.0.0.1:0"])
        .current_dir(tmp.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.find_map(|l| l.ok().filter(|l| l.contains("listening on"))).unwrap();
    assert!(!line.ends_with(":1"), "{line}");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
