//! `bulwark worker` processes against a real store: three workers, 50 submissions through a
//! `bulwark server`'s API, one worker SIGKILLed mid-scan and the server SIGKILLed and started
//! again mid-run (the second half of the submissions go to the new server). Every job must
//! end with exactly one result, the killed worker's job must be finished by another, every
//! submission must read back as succeeded from the restarted server, SIGTERM must stop the
//! workers with exit 0, and a stored report must equal `bulwark scan --format json` byte for
//! byte. Runs on SQLite (four processes on one WAL file) and on a real PostgreSQL server.
//!
//! The images are the real Debian minbase root filesystem (`BULWARK_MINBASE_TAR`, required
//! in CI) with a small top layer of their own, so each worker's first scan reads ~200 MB and
//! the kill lands while it scans.

use bulwark_testkit::image as fixture;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulwark_image::spec::Compression;
use bulwark_store::jobs::JobState;
use bulwark_store::{Store, images::PageRequest};
use fixture::*;
use serde_json::{Value, json};
use sqlx::Row as _;

const JOBS: usize = 50;
const IMAGES: usize = 5;

/// One OCI layout with `IMAGES` images (minbase + an image-specific layer) under `JOBS` tags.
/// Returns the references, or `None` outside CI without the minbase tar.
fn images(root: &Path) -> Option<Vec<String>> {
    let Some(tar) = std::env::var_os("BULWARK_MINBASE_TAR") else {
        bulwark_testkit::skip_unless_ci("BULWARK_MINBASE_TAR is not set (scripts/test.sh sets it)");
        return None;
    };
    let base = std::fs::read(Path::new(&tar)).unwrap();
    let mut manifests = Vec::new();
    for i in 0..IMAGES {
        let top = tar_bytes(&[dir("app"), file("app/VERSION", &format!("{i}\n"))]);
        let built = build_from_tars(
            vec![(base.clone(), Compression::None), (top, Compression::Gzip)],
            "amd64",
            json!({"Cmd": ["bash"]}),
        );
        for (digest, bytes) in &built.blobs {
            let path = root.join("blobs/sha256").join(digest.hex());
            if !path.exists() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        }
        manifests.push((built.manifest_digest.to_string(), built.manifest.len()));
    }
    std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let entries: Vec<_> = (0..JOBS)
        .map(|j| {
            let (digest, size) = &manifests[j % IMAGES];
            json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": size,
                "annotations": {"org.opencontainers.image.ref.name": format!("t{j}")},
            })
        })
        .collect();
    let index =
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    Some((0..JOBS).map(|j| format!("oci:{}:t{j}", root.display())).collect())
}

fn bulwark(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.env("HOME", home)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_DATABASE_URL")
        .env_remove("DOCKER_HOST");
    cmd
}

fn start_worker(url: &str, name: &str, tmp: &Path) -> Child {
    bulwark(tmp)
        .args(["worker", "--database-url", url, "--name", name, "--lease-seconds", "3", "--heartbeat-seconds", "1"])
        .args(["--poll-ms", "100", "--shutdown-grace-seconds", "20", "--no-db", "--cache-dir"])
        .arg(tmp.join(format!("cache-{name}")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.join(format!("{name}.log"))).unwrap())
        .spawn()
        .unwrap()
}

/// A `bulwark server` with no workers of its own on the store at `url`.
struct Server {
    child: Child,
    base: String,
}

/// Starts a server; the first one on a store prints the admin token, which `token` receives.
fn start_server(url: &str, tmp: &Path, name: &str, token: &mut Option<String>) -> Server {
    let mut child = bulwark(tmp)
        .args(["server", "--database-url", url, "--listen", "127.0.0.1:0", "--workers", "0"])
        .args(["--allow-local-sources", "--shutdown-grace", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let base = loop {
        let line = lines.next().unwrap_or_else(|| panic!("server {name} exited before listening: {log:?}")).unwrap();
        if log.last().is_some_and(|l: &String| l.contains("created user admin with this token")) {
            *token = Some(line.trim().to_owned());
        }
        if let Some(u) = line.strip_prefix("bulwark server: listening on ") {
            break u.to_owned();
        }
        log.push(line);
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

fn call(server: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", server.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    let mut res = agent.run(req).unwrap();
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Submits `reference` through the API; returns the request id and its job id.
fn submit(server: &Server, token: &str, reference: &str) -> (String, i64) {
    let (status, scan) = call(server, token, "POST", "/api/v1/scans", Some(json!({"reference": reference})));
    assert_eq!(status, 202, "{scan}");
    let id = scan["id"].as_str().unwrap().to_owned();
    let job = scan["job"].as_str().and_then(|j| j.parse().ok()).unwrap_or_else(|| panic!("job id in {scan}"));
    (id, job)
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn kill_test(url: String, tmp: &Path, references: &[String]) {
    let store = Store::open(&url).await.unwrap();
    let mut token = None;
    let mut server = start_server(&url, tmp, "s1", &mut token);
    let token = token.expect("the first server prints the admin token");
    let (first_half, second_half) = references.split_at(references.len() / 2);
    let mut submitted: Vec<(String, i64)> = first_half.iter().map(|r| submit(&server, &token, r)).collect();
    let mut workers: Vec<Child> = ["w0", "w1", "w2"].iter().map(|n| start_worker(&url, n, tmp)).collect();

    // SIGKILL w0 while it holds a job.
    let start = Instant::now();
    let victim_job = loop {
        let row = sqlx::query("SELECT id FROM jobs WHERE state = 'running' AND lease_owner = 'w0'")
            .fetch_optional(store.pool())
            .await
            .unwrap();
        if let Some(r) = row {
            break r.get::<i64, _>(0);
        }
        assert!(start.elapsed() < Duration::from_secs(120), "w0 never started a scan");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    workers[0].kill().unwrap();
    workers[0].wait().unwrap();

    // The server dies too (SIGKILL, mid-run) and comes back on the same store; the rest of
    // the submissions go to the new one.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = start_server(&url, tmp, "s2", &mut None);
    submitted.extend(second_half.iter().map(|r| submit(&server, &token, r)));
    let mut ids: Vec<i64> = submitted.iter().map(|(_, job)| *job).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), references.len(), "every reference is a job of its own");

    wait_for("every job to finish", Duration::from_secs(600), || {
        let store = store.clone();
        async move { store.queue_depth().await.unwrap().iter().all(|(s, n)| s.is_final() || *n == 0) }
    })
    .await;

    // SIGTERM: the survivors stop claiming and exit 0.
    for w in &mut workers[1..] {
        let status = Command::new("kill").args(["-TERM", &w.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
    for (i, w) in workers.iter_mut().enumerate().skip(1) {
        let status = w.wait().unwrap();
        let log = std::fs::read_to_string(tmp.join(format!("w{i}.log"))).unwrap();
        assert_eq!(status.code(), Some(0), "worker w{i} after SIGTERM: {log}");
        assert!(log.contains("worker: stopped"), "{log}");
    }

    for id in &ids {
        let job = store.job(*id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Succeeded, "job {id}: {:?}", job.error);
    }
    // Every submission, to either server, reads back as done from the one running now.
    for (id, _) in &submitted {
        let (status, scan) = call(&server, &token, "GET", &format!("/api/v1/scans/{id}"), None);
        assert_eq!((status, scan["state"].as_str()), (200, Some("succeeded")), "{scan}");
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    // Exactly one result per job, and nothing else.
    let per_job: Vec<(i64, i64)> = sqlx::query("SELECT job_id, COUNT(*) FROM scans GROUP BY job_id ORDER BY job_id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(per_job, ids.iter().map(|id| (*id, 1)).collect::<Vec<_>>());
    // The killed worker's attempt expired and another worker finished the job.
    let attempts: Vec<(String, Option<String>)> =
        sqlx::query("SELECT worker, outcome FROM job_attempts WHERE job_id = $1 ORDER BY attempt")
            .bind(victim_job)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(attempts[0], ("w0".to_owned(), Some("lease-expired".to_owned())), "{attempts:?}");
    assert_eq!(attempts.last().unwrap().1.as_deref(), Some("succeeded"));
    assert_ne!(attempts.last().unwrap().0, "w0");

    // What the worker stored is what `bulwark scan --format json` prints.
    let first = store.job(submitted[0].1).await.unwrap().unwrap();
    let stored = store.scan_report(first.scan_id.unwrap()).await.unwrap().unwrap();
    let cli = bulwark(tmp)
        .args(["scan", &references[0], "--format", "json", "--quiet", "--no-progress", "--no-db", "--cache-dir"])
        .arg(tmp.join("cache-cli"))
        .current_dir(tmp)
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(0), "{}", String::from_utf8_lossy(&cli.stderr));
    assert!(stored.json == cli.stdout, "the stored report differs from the CLI's");
    let image = store.image(&stored.digest).await.unwrap().unwrap();
    assert!(image.packages.len() > 80, "the real Debian inventory is indexed");
    let page = store
        .find_packages(
            &bulwark_store::PackageQuery::from_name(Some("deb"), "bash", None).unwrap(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), IMAGES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_sqlite_every_job_gets_exactly_one_result() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(references) = images(&tmp.path().join("img")) else { return };
    let url = format!("sqlite://{}", tmp.path().join("store.db").display());
    kill_test(url, tmp.path(), &references).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_postgres_every_job_gets_exactly_one_result() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(references) = images(&tmp.path().join("img")) else { return };
    let pg = bulwark_store::testing::TempPostgres::start().expect("PostgreSQL for the tests");
    let url = pg.fresh_database().await.unwrap();
    kill_test(url, tmp.path(), &references).await;
}

#[test]
fn worker_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bulwark(tmp.path())
        .args(["worker", "--data-dir"])
        .arg(tmp.path())
        .args(["--lease-seconds", "5", "--heartbeat-seconds", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--heartbeat-seconds"));
    let out = bulwark(tmp.path()).args(["worker", "--database-url", "mysql://x/y"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected sqlite://PATH or postgres://"));
    let _: PathBuf = tmp.path().into();
}
