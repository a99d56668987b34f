//! `bulwark scan --server URL` and `bulwark scan --upload` against a real `bulwark server`
//! process (SQLite in a temp data dir, and a real PostgreSQL server), scanning an image
//! pushed by skopeo to a real `docker-registry`:
//!
//! - the files `bulwark scan --server` writes (every format, display filters, `--fail-on`)
//!   equal those of the local `bulwark scan`, byte for byte, with the same exit codes;
//! - the verdict of a server-run scan is recorded on the image (`GET /images?verdict=`,
//!   `GET /images/{digest}`) with the policy's name and version;
//! - a scan that could not be checked (unknown image, refused token, a local-only flag)
//!   exits 2 with a clear message, never 0;
//! - `--upload` stores the local report, and the server redacts an uploaded report again
//!   before storing it.
//!
//! Needs `docker-registry` and `skopeo` (scripts/setup-dev.sh), and PostgreSQL's
//! `initdb`/`postgres` for the second store; fails (never skips) without them.

use crate::support::planted;
use bulwark_testkit::registry as harness;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use harness::*;
use serde_json::{Value, json};

use crate::support::RELEASE_POLICY as POLICY;

const FORMATS: [&str; 7] = ["json", "sarif", "junit", "cyclonedx", "spdx", "html", "markdown"];

/// The token planted in the image: a real GitHub token format the secret scanner knows.
fn planted_token() -> String {
    planted::github_token("abcdefghijklmnopqrstuvwxyz0123")
}

/// Pushes an image with an OS, a planted secret and the default root user to the registry;
/// returns its reference.
fn pushed_image(reg: &RegistryProcess, dir: &Path) -> String {
    let env = format!("GITHUB_TOKEN={}\n", planted_token());
    let img = build_image(
        "amd64",
        &[
            &[("etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")],
            &[("app/settings.env", env.as_bytes())],
        ],
    );
    let layout = dir.join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "1.0");
    let dest = format!("{}/app:1.0", reg.host());
    skopeo_push(&layout, "1.0", &dest, false, None);
    format!("registry:{dest}")
}

enum StoreKind {
    Sqlite,
    Postgres(String),
}

struct Server {
    child: Child,
    base: String,
    token: String,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server with HOME `home`, the clients' own: a scan without an advisory database names
/// the default database path in a warning, and the two reports must be the same.
fn start_server(tmp: &Path, home: &Path, store: &StoreKind) -> Server {
    let data = tmp.join("data");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(["server", "--listen", "127.0.0.1:0", "--workers", "1", "--shutdown-grace", "5"]);
    match store {
        StoreKind::Sqlite => cmd.arg("--data-dir").arg(&data),
        StoreKind::Postgres(url) => cmd.args(["--database-url", url]),
    };
    let mut child = cmd
        .current_dir(tmp)
        .env("BULWARK_CACHE_DIR", home.join("server-cache"))
        .env("HOME", home)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_DATABASE_URL")
        .env_remove("DOCKER_HOST")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut printed_token = None;
    let base = loop {
        let line = lines.next().expect("the server exits before listening").unwrap();
        if line.starts_with("bwk_") {
            printed_token = Some(line.trim().to_owned());
        }
        if let Some(url) = line.strip_prefix("bulwark server: listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let token = match store {
        StoreKind::Sqlite => std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_owned(),
        StoreKind::Postgres(_) => printed_token.expect("the server prints the admin token once"),
    };
    Server { child, base, token, data }
}

fn call(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.base))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Content-Type", "application/json")
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut res = agent.run(req).unwrap();
    let status = res.status().as_u16();
    let bytes = res.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `bulwark args…` in `dir`, isolated from the caller's environment; `token` is the API
/// token in BULWARK_TOKEN. Local scans find their layer cache under HOME (no
/// `--cache-dir`), so the same command line works with and without `--server`.
fn bulwark(dir: &Path, home: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_CACHE_DIR")
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_SERVER")
        .env_remove("BULWARK_TOKEN_FILE")
        .env_remove("DOCKER_HOST")
        .env_remove("BULWARK_FORMAT");
    match token {
        Some(t) => cmd.env("BULWARK_TOKEN", t),
        None => cmd.env_remove("BULWARK_TOKEN"),
    };
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every format to a file, plus extra arguments.
fn scan_args<'a>(reference: &'a str, outputs: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", reference, "--no-progress", "--quiet"];
    for o in outputs {
        args.extend(["-o", o.as_str()]);
    }
    args.extend_from_slice(extra);
    args
}

fn outputs(dir: &Path) -> Vec<String> {
    FORMATS.iter().map(|f| format!("{f}={}", dir.join(format!("report.{f}")).display())).collect()
}

/// Runs the same scan locally and with `--server`, and checks that both write the same
/// files and exit with `code`.
fn same_as_local(tmp: &Path, server: &Server, reference: &str, name: &str, extra: &[&str], code: i32) {
    let home = tmp.join("home");
    let local = tmp.join(format!("{name}-local"));
    let remote = tmp.join(format!("{name}-server"));
    std::fs::create_dir_all(&local).unwrap();
    std::fs::create_dir_all(&remote).unwrap();
    let (lo, ro) = (outputs(&local), outputs(&remote));
    let out = bulwark(tmp, &home, None, &scan_args(reference, &lo, extra));
    assert_eq!(out.status.code(), Some(code), "{name}, local: {}", stderr(&out));
    let mut args = scan_args(reference, &ro, extra);
    args.extend(["--server", &server.base]);
    let out = bulwark(tmp, &home, Some(&server.token), &args);
    assert_eq!(out.status.code(), Some(code), "{name}, --server: {}", stderr(&out));
    for f in FORMATS {
        let a = std::fs::read(local.join(format!("report.{f}"))).unwrap();
        let b = std::fs::read(remote.join(format!("report.{f}"))).unwrap();
        assert!(a == b, "{name}: the {f} report of --server differs from the local scan's");
    }
}

fn the_client_suite(store: StoreKind) {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let reference = pushed_image(&reg, tmp);
    std::fs::write(tmp.join("policy.yaml"), POLICY).unwrap();
    std::fs::create_dir_all(tmp.join("home")).unwrap();
    let server = start_server(tmp, &tmp.join("home"), &store);

    // The same files and exit codes as a local scan: with a policy (it fails: exit 1), with
    // display filters and --fail-on, and with a gate that passes (exit 0).
    let home = tmp.join("home");
    same_as_local(tmp, &server, &reference, "policy", &["--policy", "policy.yaml"], 1);
    same_as_local(tmp, &server, &reference, "filters", &["--severity", "critical,high", "--fail-on", "high"], 1);
    same_as_local(tmp, &server, &reference, "unfixed", &["--ignore-unfixed", "--scanners", "vuln,config"], 0);
    // Output on stdout, as a pipeline reads it.
    let json_local = bulwark(tmp, &home, None, &["scan", &reference, "--quiet", "-f", "json"]);
    let json_server = bulwark(
        tmp,
        &home,
        Some(&server.token),
        &["scan", &reference, "--quiet", "-f", "json", "--server", &server.base],
    );
    assert_eq!(json_server.status.code(), Some(0), "{}", stderr(&json_server));
    assert!(json_local.stdout == json_server.stdout, "stdout JSON differs");
    let report: Value = serde_json::from_slice(&json_server.stdout).unwrap();
    let digest = report["image"]["manifest_digest"].as_str().unwrap().to_owned();
    assert!(!String::from_utf8_lossy(&json_server.stdout).contains(&planted_token()));

    // A stored policy by name: its version is named in the scan's verdict.
    let (status, body) = call(&server, "PUT", "/api/v1/policies/release", Some(json!({"yaml": POLICY})));
    assert_eq!(status, 201, "{body}");
    let out = bulwark(
        tmp,
        &home,
        Some(&server.token),
        &["scan", &reference, "--quiet", "-f", "json", "--server", &server.base, "--server-policy", "release"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let served: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(served["policy"]["passed"], false);

    // The verdict of the server-run scan is on the image (its latest result), with the
    // policy's name and version, and in the image's scan history.
    let mut image = Value::Null;
    for _ in 0..50 {
        let (status, body) = call(&server, "GET", &format!("/api/v1/images/{digest}"), None);
        assert_eq!(status, 200, "{body}");
        image = body;
        if image["verdict"] == "fail" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(image["verdict"], "fail", "{image}");
    assert_eq!(image["policy"], "release", "{image}");
    assert!(image["policy_version"].as_str().is_some_and(|v| v.starts_with("sha256:")), "{image}");
    let (_, failing) = call(&server, "GET", "/api/v1/images?verdict=fail", None);
    assert!(failing["items"].as_array().unwrap().iter().any(|i| i["digest"] == digest.as_str()), "{failing}");
    let history = image["scans"].as_array().unwrap();
    assert!(history.iter().any(|s| s["origin"] == "worker" && s["verdict"] == "fail"), "{image}");

    // Could not check: exit 2 with a clear message, never 0.
    let missing = reference.replace("app:1.0", "nothing:here");
    let out = bulwark(tmp, &home, Some(&server.token), &["scan", &missing, "--no-progress", "--server", &server.base]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("the server could not scan"), "{}", stderr(&out));
    let out = bulwark(tmp, &home, Some("bwk_not-a-token"), &["scan", &reference, "--server", &server.base]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("401") && stderr(&out).contains("BULWARK_TOKEN"), "{}", stderr(&out));
    let out = bulwark(tmp, &home, None, &["scan", &reference, "--server", &server.base]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no API token"), "{}", stderr(&out));
    let out = bulwark(
        tmp,
        &home,
        Some(&server.token),
        &["scan", &reference, "--server", &server.base, "--cache-dir", "c", "--offline"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--cache-dir, --offline apply only to local scans"), "{}", stderr(&out));
    let out = bulwark(tmp, &home, Some(&server.token), &["scan", &reference, "--server", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot reach the server"), "{}", stderr(&out));
    // A viewer may not submit: 403, exit 2.
    let (status, _) = call(&server, "POST", "/api/v1/users", Some(json!({"name": "reader", "role": "viewer"})));
    assert_eq!(status, 201);
    let (status, made) =
        call(&server, "POST", "/api/v1/tokens", Some(json!({"name": "t", "expires_in_days": 1, "user": "reader"})));
    assert_eq!(status, 201, "{made}");
    let viewer = made["token"].as_str().unwrap();
    let out = bulwark(tmp, &home, Some(viewer), &["scan", &reference, "--server", &server.base]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));

    // --upload: the local scan's outputs and exit code, and the report stored on the server,
    // judged there by the stored policy.
    let up = tmp.join("upload");
    std::fs::create_dir_all(&up).unwrap();
    let token_file = tmp.join("token");
    std::fs::write(&token_file, format!("{}\n", server.token)).unwrap();
    let out = bulwark(
        tmp,
        &home,
        None,
        &[
            "scan",
            &reference,
            "--no-progress",
            "-o",
            up.join("r.json").to_str().unwrap(),
            "--upload",
            "--server",
            &server.base,
            "--token-file",
            token_file.to_str().unwrap(),
            "--server-policy",
            "release",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("report uploaded") && stderr(&out).contains("server verdict: FAILED"),
        "{}",
        stderr(&out)
    );
    assert!(up.join("r.json").is_file());
    let (_, detail) = call(&server, "GET", &format!("/api/v1/images/{digest}"), None);
    assert!(detail["scans"].as_array().unwrap().iter().any(|s| s["origin"] == "upload"), "{detail}");

    // A hostile upload: a report with the whole planted secret in a secret's preview and in
    // a warning. The server's own redaction removes it before storing.
    let mut hostile = report.clone();
    hostile["secrets"][0]["preview"] = json!(format!("token {}", planted_token()));
    hostile["warnings"] = json!([format!("found GITHUB_TOKEN={}", planted_token())]);
    let (status, stored) = call(&server, "POST", "/api/v1/reports", Some(json!({"report": hostile})));
    assert_eq!(status, 201, "{stored}");
    assert_stored_without_secret(&server, &store, &stored);
}

/// The stored bytes of an uploaded result, read from the store itself, hold no whole secret.
fn assert_stored_without_secret(server: &Server, store: &StoreKind, stored: &Value) {
    let id: i64 = stored["result"].as_str().unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let json = rt.block_on(async {
        let s = match store {
            StoreKind::Sqlite => bulwark_store::Store::open_data_dir(&server.data).await.unwrap(),
            StoreKind::Postgres(url) => bulwark_store::Store::open(url).await.unwrap(),
        };
        let r = s.scan_report(id).await.unwrap().expect("the upload is stored");
        s.close().await;
        r.json
    });
    let text = String::from_utf8_lossy(&json);
    assert!(text.contains("\"secrets\""), "the stored report is the upload");
    assert!(!text.contains(&planted_token()), "a whole secret from an upload reached the store");
}

#[test]
fn scan_with_server_writes_what_a_local_scan_writes_on_sqlite() {
    the_client_suite(StoreKind::Sqlite);
}

#[test]
fn scan_with_server_writes_what_a_local_scan_writes_on_postgres() {
    let pg = bulwark_store::testing::TempPostgres::start().expect("PostgreSQL for the tests");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = rt.block_on(pg.fresh_database()).unwrap();
    the_client_suite(StoreKind::Postgres(url));
}
