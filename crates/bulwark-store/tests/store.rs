//! The store's behaviour, the same scenarios on both backends: each runs on a fresh SQLite
//! file (one test per scenario) and on a fresh database of a real PostgreSQL server started
//! for this test binary (`postgres_suite`, never skipped).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bulwark_core::report::{
    AffectedPackage, FixState, ImageSummary as ReportImage, LayerSummary, Package, PolicyVerdict, ScanReport, Severity,
    Vulnerability,
};
use bulwark_core::{Digest, Platform};
use bulwark_store::images::{ImageFilter, PageRequest};
use bulwark_store::inventory::PackageQuery;
use bulwark_store::jobs::{FailOutcome, Heartbeat, JobFailure, JobState, NewJob, Priority};
use bulwark_store::worker::{self, ScanOutput, WorkerConfig};
use bulwark_store::{Error, ScanOrigin, Store, Verdict};

fn digest(seed: &str) -> Digest {
    let hex = hex::encode(ring::digest::digest(&ring::digest::SHA256, seed.as_bytes()));
    format!("sha256:{hex}").parse().unwrap()
}

fn package(eco: &str, name: &str, version: &str, purl: &str, layer: usize, location: &str) -> Package {
    Package {
        ecosystem: eco.into(),
        name: name.into(),
        version: version.into(),
        purl: purl.into(),
        arch: None,
        source: None,
        license: None,
        locations: vec![location.into()],
        layer: Some(layer),
        removed_in: None,
        dependencies: Vec::new(),
        identification: None,
    }
}

fn vuln(
    id: &str,
    aliases: &[&str],
    p: &Package,
    state: FixState,
    fixed: Option<&str>,
    sev: Severity,
    kev: bool,
) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        package: AffectedPackage {
            ecosystem: p.ecosystem.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.clone(),
            matched_as: None,
            layer: p.layer,
            locations: p.locations.clone(),
        },
        state,
        fixed_versions: fixed.map(|f| vec![f.to_owned()]).unwrap_or_default(),
        severity: sev,
        severity_source: None,
        cvss: None,
        kev,
        epss: None,
        title: None,
        sources: vec!["osv:test".into()],
        explanation: "test".into(),
    }
}

/// A report of an image with Debian base packages and, when `log4j`, log4j-core 2.14.1 in
/// layer 1 with Log4Shell (real ids: CVE-2021-44228 / GHSA-jfh8-c2jp-5v3q, fixed in 2.15.0,
/// in KEV).
fn report(reference: &str, seed: &str, log4j: bool, passed: Option<bool>) -> (ScanReport, Vec<u8>) {
    let openssl = package(
        "deb",
        "openssl",
        "3.0.11-1~deb12u2",
        "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
        0,
        "/var/lib/dpkg/status",
    );
    let bash = package(
        "deb",
        "bash",
        "5.2.15-2+b2",
        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12",
        0,
        "/var/lib/dpkg/status",
    );
    let mut packages = vec![bash, openssl.clone()];
    let mut vulnerabilities =
        vec![vuln("CVE-2023-5678", &[], &openssl, FixState::Fixed, Some("3.0.13-1~deb12u1"), Severity::Medium, false)];
    if log4j {
        let l = package(
            "maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            1,
            "/app/lib/log4j-core-2.14.1.jar",
        );
        vulnerabilities.insert(
            0,
            vuln(
                "CVE-2021-44228",
                &["GHSA-jfh8-c2jp-5v3q"],
                &l,
                FixState::Fixed,
                Some("2.15.0"),
                Severity::Critical,
                true,
            ),
        );
        packages.push(l);
    }
    let r = ScanReport {
        schema_version: 1,
        bulwark_version: "0.1.0".into(),
        image: ReportImage {
            reference: reference.into(),
            source: Some("registry".into()),
            manifest_digest: Some(digest(seed)),
            config_digest: Some(digest(&format!("{seed}-config"))),
            platform: Some("linux/amd64".parse::<Platform>().unwrap()),
            created: None,
        },
        layers: (0..2)
            .map(|i| LayerSummary {
                index: i,
                digest: Some(digest(&format!("{seed}-layer{i}"))),
                diff_id: digest(&format!("{seed}-diff{i}")),
                media_type: None,
                size: 1000,
                uncompressed_size: 2000,
                entries: 10,
                whiteouts: 0,
                created_by: Some(format!("RUN step {i}")),
            })
            .collect(),
        packages,
        vulnerabilities,
        policy: passed.map(|p| PolicyVerdict {
            policy: "default".into(),
            policy_digest: Some("sha256:policy-v1".into()),
            passed: p,
            evaluated_on: "2026-12-07".into(),
            rules: Vec::new(),
            exceptions: Vec::new(),
        }),
        ..ScanReport::default()
    };
    let mut json = serde_json::to_vec_pretty(&r).unwrap();
    json.push(b'\n');
    (r, json)
}

async fn migrations_are_versioned_and_checked(url: String) {
    let store = Store::open(&url).await.unwrap();
    let status = store.schema().await.unwrap();
    assert!(status.pending.is_empty());
    assert_eq!(status.applied, status.known);
    store.close().await;
    // Opening again applies nothing and succeeds.
    let store = Store::open(&url).await.unwrap();
    // A newer Bulwark's migration: this build must refuse the store.
    sqlx::query(
        "INSERT INTO bulwark_schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    match Store::open(&url).await {
        Err(Error::SchemaNewer { found: 9999, .. }) => {}
        other => panic!("expected SchemaNewer, got {other:?}"),
    }
    let store = Store::open_with(&url, &bulwark_store::OpenOptions { migrate: false, ..Default::default() }).await;
    assert!(matches!(store, Err(Error::SchemaNewer { .. })));
}

async fn migrations_detect_an_edited_file(url: String) {
    let store = Store::open(&url).await.unwrap();
    sqlx::query("UPDATE bulwark_schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    assert!(matches!(Store::open(&url).await, Err(Error::MigrationChanged { version: 1, .. })));
}

async fn scans_are_stored_and_answer_inventory_questions(url: String) {
    let store = Store::open(&url).await.unwrap();
    let (_, a) = report("registry:registry.example:5000/shop/web:1.0", "web-1.0", true, Some(false));
    let (_, b) = report("registry:registry.example:5000/shop/api:2.0", "api-2.0", true, Some(true));
    let (_, c) = report("registry:registry.example:5000/shop/cron:3.0", "cron-3.0", false, None);
    let ra = store.record_scan(&a, ScanOrigin::Upload).await.unwrap();
    store.record_scan(&b, ScanOrigin::Upload).await.unwrap();
    store.record_scan(&c, ScanOrigin::Upload).await.unwrap();

    // Which images have Log4Shell: by CVE and by its GHSA alias, with package, layer and fix.
    for id in ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"] {
        let page = store.images_with_vulnerability(id, &PageRequest::default()).await.unwrap();
        let repos: BTreeSet<String> = page.items.iter().map(|i| i.refs[0].repository.clone()).collect();
        assert_eq!(repos, BTreeSet::from(["shop/api".to_owned(), "shop/web".to_owned()]), "{id}");
        let hit = &page.items[0];
        assert_eq!(hit.vulnerability, "CVE-2021-44228");
        assert_eq!((hit.package.as_str(), hit.version.as_str()), ("org.apache.logging.log4j:log4j-core", "2.14.1"));
        assert_eq!(
            (hit.layer, hit.fix_state.as_str(), hit.fixed_version.as_deref()),
            (Some(1), "fixed", Some("2.15.0"))
        );
        assert!(hit.kev);
        assert_eq!(hit.severity, Severity::Critical);
    }
    assert!(store.images_with_vulnerability("CVE-1999-0001", &PageRequest::default()).await.unwrap().items.is_empty());

    // Where is log4j-core 2.14.1: by purl, by name, by name and range.
    let by_purl = PackageQuery::from_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
    let hits = store.find_packages(&by_purl, &PageRequest::default()).await.unwrap().items;
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].location, "/app/lib/log4j-core-2.14.1.jar");
    let in_range =
        PackageQuery::from_name(Some("maven"), "org.apache.logging.log4j:log4j-core", Some(">=2.0, <2.17.1")).unwrap();
    assert_eq!(store.find_packages(&in_range, &PageRequest::default()).await.unwrap().items.len(), 2);
    let out_of_range = PackageQuery::from_name(None, "org.apache.logging.log4j:log4j-core", Some(">=2.17.1")).unwrap();
    assert!(store.find_packages(&out_of_range, &PageRequest::default()).await.unwrap().items.is_empty());
    let openssl = PackageQuery::from_name(Some("deb"), "openssl", Some("<3.0.13-1~deb12u1")).unwrap();
    assert_eq!(store.find_packages(&openssl, &PageRequest::default()).await.unwrap().items.len(), 3);

    // Image filters.
    let count = |f: ImageFilter| {
        let store = store.clone();
        async move { store.list_images(&f, &PageRequest::default()).await.unwrap().items.len() }
    };
    assert_eq!(count(ImageFilter::default()).await, 3);
    assert_eq!(count(ImageFilter { kev: Some(true), ..Default::default() }).await, 2);
    assert_eq!(count(ImageFilter { min_severity: Some(Severity::High), ..Default::default() }).await, 2);
    assert_eq!(count(ImageFilter { min_severity: Some(Severity::Low), ..Default::default() }).await, 3);
    assert_eq!(count(ImageFilter { verdict: Some(Some(Verdict::Fail)), ..Default::default() }).await, 1);
    assert_eq!(count(ImageFilter { verdict: Some(None), ..Default::default() }).await, 1);
    assert_eq!(count(ImageFilter { repository: Some("shop/api".into()), ..Default::default() }).await, 1);
    assert_eq!(
        count(ImageFilter {
            registry: Some("registry.example:5000".into()),
            tag: Some("3.0".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(count(ImageFilter { registry: Some("elsewhere".into()), ..Default::default() }).await, 0);
    // SQL metacharacters are values, never SQL.
    assert_eq!(count(ImageFilter { repository: Some("x' OR '1'='1".into()), ..Default::default() }).await, 0);

    // Cursor pagination visits every image once, newest first.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_images(&ImageFilter::default(), &PageRequest { limit: 1, cursor: cursor.clone() })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.refs[0].repository.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["shop/cron", "shop/api", "shop/web"]);
    assert!(matches!(
        store.list_images(&ImageFilter::default(), &PageRequest { limit: 1, cursor: Some("nope".into()) }).await,
        Err(Error::InvalidQuery { parameter: "cursor", .. })
    ));
    assert!(matches!(
        store.list_images(&ImageFilter::default(), &PageRequest { limit: 100_000, cursor: None }).await,
        Err(Error::InvalidQuery { parameter: "limit", .. })
    ));

    // The image in full, and the report bytes exactly as given.
    let detail = store.image(&ra.digest).await.unwrap().unwrap();
    assert_eq!(detail.summary.verdict, Some(Verdict::Fail));
    assert_eq!(detail.summary.policy_version.as_deref(), Some("sha256:policy-v1"));
    assert_eq!(detail.layers.len(), 2);
    assert_eq!(detail.layers[1].created_by.as_deref(), Some("RUN step 1"));
    assert_eq!(detail.packages.len(), 3);
    assert_eq!(detail.findings[0].vulnerability, "CVE-2021-44228");
    assert_eq!(detail.scans.len(), 1);
    let stored = store.scan_report(ra.scan_id).await.unwrap().unwrap();
    assert_eq!(stored.json, a, "the stored report is byte-identical");

    // A rescan (a newer database found nothing new, log4j gone) replaces the inventory and
    // keeps the history.
    let (_, a2) = report("registry:registry.example:5000/shop/web:1.0", "web-1.0", false, Some(true));
    store.record_scan(&a2, ScanOrigin::Upload).await.unwrap();
    let detail = store.image(&ra.digest).await.unwrap().unwrap();
    assert_eq!(detail.scans.len(), 2);
    assert_eq!(detail.summary.verdict, Some(Verdict::Pass));
    assert_eq!(
        store.images_with_vulnerability("CVE-2021-44228", &PageRequest::default()).await.unwrap().items.len(),
        1
    );
    assert_eq!(store.scan_report(detail.scans[1].scan_id).await.unwrap().unwrap().json, a);

    // A tag moves to the image pushed under it later.
    let (_, moved) = report("registry:registry.example:5000/shop/web:1.0", "web-1.0-rebuilt", false, None);
    store.record_scan(&moved, ScanOrigin::Upload).await.unwrap();
    let tagged = store
        .list_images(
            &ImageFilter { repository: Some("shop/web".into()), tag: Some("1.0".into()), ..Default::default() },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(tagged.items.len(), 1);
    assert_eq!(tagged.items[0].digest, digest("web-1.0-rebuilt").to_string());

    assert!(matches!(store.record_scan(b"{not json", ScanOrigin::Upload).await, Err(Error::Report(_))));
}

async fn queue_orders_by_priority_and_deduplicates(url: String) {
    let store = Store::open(&url).await.unwrap();
    let bg =
        store.enqueue(&NewJob::scan("registry:r/app:1", serde_json::json!({}), Priority::BACKGROUND)).await.unwrap();
    let ci = store.enqueue(&NewJob::scan("registry:r/app:2", serde_json::json!({}), Priority::CI)).await.unwrap();
    assert!(!bg.attached && !ci.attached);
    // The same request again attaches to the queued job.
    let again = store.enqueue(&NewJob::scan("registry:r/app:2", serde_json::json!({}), Priority::CI)).await.unwrap();
    assert_eq!((again.id, again.attached), (ci.id, true));
    // Other options are another job.
    let other = store
        .enqueue(&NewJob::scan("registry:r/app:2", serde_json::json!({"scanners": ["vuln"]}), Priority::BACKGROUND))
        .await
        .unwrap();
    assert_ne!(other.id, ci.id);
    let first = store.claim("w1", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(first.id, ci.id, "CI work goes first");
    // Attaching while it runs, and a CI request raises a background job's priority.
    assert_eq!(
        store.enqueue(&NewJob::scan("registry:r/app:2", serde_json::json!({}), Priority::BACKGROUND)).await.unwrap().id,
        ci.id
    );
    store.enqueue(&NewJob::scan("registry:r/app:1", serde_json::json!({}), Priority::CI)).await.unwrap();
    let second = store.claim("w1", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(second.id, bg.id, "raised to CI priority, ahead of the other background job");
    let (r, json) = report("registry:r/app:2", "app-2", false, None);
    store.complete(&first, &r, &json).await.unwrap();
    // Once finished, the same request is a new job.
    let fresh = store.enqueue(&NewJob::scan("registry:r/app:2", serde_json::json!({}), Priority::CI)).await.unwrap();
    assert!(!fresh.attached);
    assert_ne!(fresh.id, ci.id);
    let job = store.job(ci.id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attached), (JobState::Succeeded, 2));
}

async fn a_lost_lease_never_records_a_second_result(url: String) {
    let store = Store::open(&url).await.unwrap();
    let id = store.enqueue(&NewJob::scan("registry:r/a:1", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    let dead = store.claim("dead", Duration::from_millis(300)).await.unwrap().unwrap();
    assert!(
        store.claim("other", Duration::from_secs(60)).await.unwrap().is_none(),
        "leased jobs are not claimed twice"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let live = store.claim("live", Duration::from_secs(60)).await.unwrap().expect("expired lease reclaimed");
    assert_eq!((live.id, live.attempt), (id, 2));
    assert_eq!(store.heartbeat(&dead, None).await.unwrap(), Heartbeat::Lost);
    let (r, json) = report("registry:r/a:1", "a-1", true, None);
    // The presumed-dead worker finishes late: refused.
    assert!(matches!(store.complete(&dead, &r, &json).await, Err(Error::LeaseLost { .. })));
    let scan = store.complete(&live, &r, &json).await.unwrap();
    // Completing again with the same lease (a lost reply) is idempotent.
    assert_eq!(store.complete(&live, &r, &json).await.unwrap(), scan);
    let history = store.scan_history(&digest("a-1").to_string()).await.unwrap();
    assert_eq!(history.len(), 1, "exactly one result");
    assert_eq!(history[0].job_id, Some(id));
    let attempts: Vec<(i64, Option<String>)> = {
        use sqlx::Row as _;
        sqlx::query("SELECT attempt, outcome FROM job_attempts WHERE job_id = $1 ORDER BY attempt")
            .bind(id)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    assert_eq!(attempts, [(1, Some("lease-expired".into())), (2, Some("succeeded".into()))]);
}

async fn failures_retry_with_backoff_or_stop(url: String) {
    let store = Store::open(&url).await.unwrap();
    let mut job = NewJob::scan("registry:r/t:1", serde_json::json!({}), Priority::CI);
    job.max_attempts = 2;
    let id = store.enqueue(&job).await.unwrap().id;
    let claimed = store.claim("w", Duration::from_secs(60)).await.unwrap().unwrap();
    let out = store.fail(&claimed, &JobFailure::Transient("registry answered 503".into())).await.unwrap();
    let FailOutcome::Retry { run_after } = out else { panic!("{out:?}") };
    let j = store.job(id).await.unwrap().unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert!(run_after >= j.run_after && run_after > j.created_at + 900, "backed off at least 1 s");
    assert!(store.claim("w", Duration::from_secs(60)).await.unwrap().is_none(), "not before the backoff");
    // Make it due now, then the last attempt fails transiently: failed for good.
    sqlx::query("UPDATE jobs SET run_after = 0 WHERE id = $1").bind(id).execute(store.pool()).await.unwrap();
    let claimed = store.claim("w", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(claimed.attempt, 2);
    assert_eq!(store.fail(&claimed, &JobFailure::Transient("timeout".into())).await.unwrap(), FailOutcome::Failed);
    let j = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (j.state, j.error_kind.as_deref(), j.error.as_deref()),
        (JobState::Failed, Some("transient"), Some("timeout"))
    );

    let id = store.enqueue(&NewJob::scan("registry:r/p:1", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    let claimed = store.claim("w", Duration::from_secs(60)).await.unwrap().unwrap();
    let cause = "registry r: authentication failed for r/p";
    assert_eq!(store.fail(&claimed, &JobFailure::Permanent(cause.into())).await.unwrap(), FailOutcome::Failed);
    let j = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (j.state, j.attempts, j.error_kind.as_deref(), j.error.as_deref()),
        (JobState::Failed, 1, Some("permanent"), Some(cause))
    );
}

async fn cancelled_jobs_stop_and_record_nothing(url: String) {
    let store = Store::open(&url).await.unwrap();
    let queued = store.enqueue(&NewJob::scan("registry:r/c:1", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    assert_eq!(store.cancel(queued, "asked by alice").await.unwrap(), JobState::Cancelled);
    assert!(store.claim("w", Duration::from_secs(60)).await.unwrap().is_none());
    let running = store.enqueue(&NewJob::scan("registry:r/c:2", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    let claimed = store.claim("w", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(store.cancel(running, "asked by bob").await.unwrap(), JobState::Cancelled);
    assert_eq!(store.heartbeat(&claimed, None).await.unwrap(), Heartbeat::Cancelled);
    let (r, json) = report("registry:r/c:2", "c-2", false, None);
    assert!(matches!(store.complete(&claimed, &r, &json).await, Err(Error::LeaseLost { .. })));
    assert!(store.scan_history(&digest("c-2").to_string()).await.unwrap().is_empty());
    // A finished job cannot be cancelled.
    assert_eq!(store.cancel(queued, "again").await.unwrap(), JobState::Cancelled);
    assert!(matches!(store.cancel(424242, "x").await, Err(Error::JobNotFound(424242))));
}

async fn concurrent_claimers_never_share_a_job(url: String) {
    let store = Store::open(&url).await.unwrap();
    for i in 0..40 {
        store
            .enqueue(&NewJob::scan(&format!("registry:r/many:{i}"), serde_json::json!({}), Priority::CI))
            .await
            .unwrap();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..6 {
        // Separate pools, as separate processes would have.
        let store = Store::open(&url).await.unwrap();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store.claim(&format!("w{w}"), Duration::from_secs(60)).await.unwrap() {
                mine.push(job.id);
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(ids) = tasks.join_next().await {
        all.extend(ids.unwrap());
    }
    let unique: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), unique.len()), (40, 40), "every job claimed exactly once");
}

async fn the_worker_loop_runs_jobs_and_shuts_down_gracefully(url: String) {
    let store = Store::open(&url).await.unwrap();
    for i in 0..6 {
        store.enqueue(&NewJob::scan(&format!("registry:r/w:{i}"), serde_json::json!({}), Priority::CI)).await.unwrap();
    }
    let failing =
        store.enqueue(&NewJob::scan("registry:r/bad:1", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    let runner = |job: &bulwark_store::ClaimedJob, _: &worker::CancelFlag| {
        if job.reference.contains("bad") {
            return Err(JobFailure::Permanent("manifest unknown".into()));
        }
        let (report, json) = report(&job.reference, &job.reference, true, None);
        Ok(ScanOutput { report, json })
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let config = WorkerConfig {
        concurrency: 2,
        poll: Duration::from_millis(50),
        heartbeat: Duration::from_millis(200),
        lease: Duration::from_secs(5),
        ..WorkerConfig::default()
    };
    let handle = tokio::spawn(worker::run(store.clone(), Arc::new(runner), config, rx));
    for _ in 0..200 {
        let depth = store.queue_depth().await.unwrap();
        if !depth.iter().any(|(s, n)| !s.is_final() && *n > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tx.send(true).unwrap();
    let stats = handle.await.unwrap().unwrap();
    assert_eq!(stats.succeeded.load(std::sync::atomic::Ordering::Relaxed), 6);
    assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(store.job(failing).await.unwrap().unwrap().error.as_deref(), Some("manifest unknown"));

    // Shutdown while a scan runs past the grace period: the job goes back to the queue.
    let slow = store.enqueue(&NewJob::scan("registry:r/slow:1", serde_json::json!({}), Priority::CI)).await.unwrap().id;
    let runner = |job: &bulwark_store::ClaimedJob, cancel: &worker::CancelFlag| {
        while !cancel.is_cancelled() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let (report, json) = report(&job.reference, "slow", false, None);
        Ok(ScanOutput { report, json })
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let config = WorkerConfig {
        poll: Duration::from_millis(50),
        heartbeat: Duration::from_millis(200),
        shutdown_grace: Duration::from_millis(300),
        ..WorkerConfig::default()
    };
    let handle = tokio::spawn(worker::run(store.clone(), Arc::new(runner), config, rx));
    for _ in 0..100 {
        if store.job(slow).await.unwrap().unwrap().state == JobState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tx.send(true).unwrap();
    let stats = handle.await.unwrap().unwrap();
    assert_eq!(stats.released.load(std::sync::atomic::Ordering::Relaxed), 1);
    let job = store.job(slow).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 0), "released without using an attempt");
}

async fn secrets_are_sealed_bound_to_their_row_and_rotated(url: String) {
    use bulwark_store::secrets::{Kek, NewSecret, REGISTRY_CREDENTIAL, SIGNING_KEY};
    let store = Store::open(&url).await.unwrap();
    let old = Kek::from_hex(&format!("{}07", "5a".repeat(31))).unwrap();
    let new = Kek::from_hex(&format!("{}11", "c3".repeat(31))).unwrap();
    let put = |name: &'static str, registry: &'static str, value: &'static [u8]| {
        let metadata = format!("{{\"registry\":\"{registry}\",\"username\":\"ci\"}}");
        let store = store.clone();
        let old = &old;
        async move {
            store
                .put_secret(
                    old,
                    &NewSecret { purpose: REGISTRY_CREDENTIAL, name, metadata: &metadata, value, created_by: "admin" },
                )
                .await
                .unwrap()
        }
    };
    let a = put("reg-a", "a.example", b"password-of-a").await.expect("stored");
    assert_eq!(a.kek_id, old.id());
    put("reg-b", "b.example", b"password-of-b").await.expect("stored");
    assert!(put("reg-a", "a.example", b"other").await.is_none(), "an existing secret is never replaced");
    // Never in plaintext, anywhere in the row.
    let raw: Vec<u8> = sqlx::Row::get(
        &sqlx::query("SELECT ciphertext FROM secrets WHERE name = 'reg-a'").fetch_one(store.pool()).await.unwrap(),
        0,
    );
    assert!(!raw.windows(13).any(|w| w == b"password-of-a"));
    let opened = store.open_secret(&old, REGISTRY_CREDENTIAL, "reg-a").await.unwrap().unwrap();
    assert_eq!(opened.value, b"password-of-a");
    assert!(!format!("{opened:?}").contains("password-of-a"));
    assert!(store.open_secret(&old, SIGNING_KEY, "reg-a").await.unwrap().is_none(), "purposes are separate");
    // The wrong KEK is an error, never a value.
    let err = store.open_secret(&new, REGISTRY_CREDENTIAL, "reg-a").await.unwrap_err();
    assert!(matches!(err, Error::Secret { .. }), "{err}");

    // Swapping ciphertexts between rows, or pointing a credential at another registry,
    // makes it fail to open.
    sqlx::query(
        "UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE name = 'reg-b'), \
         ciphertext = (SELECT ciphertext FROM secrets WHERE name = 'reg-b') WHERE name = 'reg-a'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let err = store.open_secret(&old, REGISTRY_CREDENTIAL, "reg-a").await.unwrap_err().to_string();
    assert!(err.contains("does not decrypt"), "{err}");
    sqlx::query(
        "UPDATE secrets SET metadata = '{\"registry\":\"evil.example\",\"username\":\"ci\"}' WHERE name = 'reg-b'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(store.open_secret(&old, REGISTRY_CREDENTIAL, "reg-b").await.is_err());
    assert!(store.delete_secret(REGISTRY_CREDENTIAL, "reg-a").await.unwrap());
    assert!(store.delete_secret(REGISTRY_CREDENTIAL, "reg-b").await.unwrap());
    assert!(!store.delete_secret(REGISTRY_CREDENTIAL, "reg-b").await.unwrap());

    // Rotation: every row moves to the new KEK in one go, and a re-run has nothing to do.
    put("one", "a.example", b"first").await.unwrap();
    put("two", "b.example", b"second").await.unwrap();
    let err = store.rotate_secrets(&[&new], &new).await;
    assert!(matches!(err, Err(Error::Secret { .. })), "rotation without the old key must fail: {err:?}");
    assert_eq!(store.open_secret(&old, REGISTRY_CREDENTIAL, "one").await.unwrap().unwrap().value, b"first");
    assert_eq!(store.rotate_secrets(&[&old], &new).await.unwrap(), 2);
    assert_eq!(store.rotate_secrets(&[&old], &new).await.unwrap(), 0);
    assert_eq!(store.open_secret(&new, REGISTRY_CREDENTIAL, "two").await.unwrap().unwrap().value, b"second");
    assert!(store.open_secret(&old, REGISTRY_CREDENTIAL, "two").await.is_err());
    let listed = store.secrets(REGISTRY_CREDENTIAL, None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    assert!(listed.iter().all(|s| s.kek_id == new.id()));
    assert_eq!(store.secrets(REGISTRY_CREDENTIAL, Some("one"), 10).await.unwrap().len(), 1);
}

macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$scenario(format!("sqlite://{}", dir.path().join("bulwark.db").display())).await;
                }
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_suite() {
            let pg = bulwark_store::testing::TempPostgres::start().expect("PostgreSQL for the tests");
            $(
                let url = pg.fresh_database().await.unwrap();
                eprintln!("postgres: {}", stringify!($scenario));
                $scenario(url).await;
            )*
        }
    };
}

on_both_stores!(
    migrations_are_versioned_and_checked,
    migrations_detect_an_edited_file,
    scans_are_stored_and_answer_inventory_questions,
    queue_orders_by_priority_and_deduplicates,
    a_lost_lease_never_records_a_second_result,
    failures_retry_with_backoff_or_stop,
    cancelled_jobs_stop_and_record_nothing,
    concurrent_claimers_never_share_a_job,
    the_worker_loop_runs_jobs_and_shuts_down_gracefully,
    secrets_are_sealed_bound_to_their_row_and_rotated,
);
