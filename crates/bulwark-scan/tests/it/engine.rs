//! The scan engine: built once, several scans on it at once, cancellation mid-layer that
//! leaves nothing half-read in the cache, stage events, and re-matching a stored inventory
//! against a new advisory database (real PyPA advisories from the shared data).

use bulwark_testkit::image as fixture;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bulwark_core::Reference;
use bulwark_image::spec::Compression;
use bulwark_scan::{CancelToken, Engine, Error, Events, ScanOptions, ScanRequest, Scanners, Stage};

/// An OCI layout with a Jinja2 2.10 distribution in its first layer and, in a second
/// layer, `big` bytes of incompressible data (so that reading it takes many reads).
fn image(root: &Path, big: usize) -> Reference {
    let metadata = "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n";
    let app = fixture::tar_bytes(&[
        fixture::dir("usr/"),
        fixture::file("usr/lib/python3/site-packages/Jinja2-2.10.dist-info/METADATA", metadata),
    ]);
    // xorshift: incompressible, reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = String::with_capacity(big);
    while noise.len() < big {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push_str(&format!("{x:016x}"));
    }
    let data = fixture::tar_bytes(&[fixture::dir("data/"), fixture::file("data/noise.txt", &noise)]);
    let built = fixture::build_from_tars(
        vec![(app, Compression::Gzip), (data, Compression::Gzip)],
        "amd64",
        serde_json::json!({"Cmd": ["python3"]}),
    );
    fixture::write_oci_layout(root, &built, "1");
    format!("oci:{}", root.display()).parse().unwrap()
}

fn options(cache: Option<PathBuf>, db: Option<PathBuf>) -> ScanOptions {
    ScanOptions {
        cache_dir: cache,
        db,
        scanners: Scanners { vuln: true, secret: true, config: true, malware: false },
        ..ScanOptions::default()
    }
}

fn cache_entries(dir: &Path) -> usize {
    walk(dir).iter().filter(|p| p.to_string_lossy().ends_with(".json.zst")).count()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

/// Cancels its token once `after` bytes of layer 1 were read, and counts what came later.
#[derive(Default)]
struct CancelMidLayer {
    token: CancelToken,
    after: u64,
    read: AtomicU64,
    read_after_cancel: AtomicU64,
    stages: Mutex<Vec<Stage>>,
}

impl Events for CancelMidLayer {
    fn stage_started(&self, stage: Stage) {
        self.stages.lock().unwrap().push(stage);
    }
    fn layer_bytes(&self, layer: usize, bytes: u64) {
        if layer != 1 {
            return;
        }
        if self.token.is_cancelled() {
            self.read_after_cancel.fetch_add(bytes, Ordering::SeqCst);
        }
        if self.read.fetch_add(bytes, Ordering::SeqCst) + bytes >= self.after {
            self.token.cancel();
        }
    }
}

#[test]
fn cancelling_mid_layer_returns_cancelled_and_caches_nothing_half_read() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(&tmp.path().join("img"), 48 << 20);
    let cache = tmp.path().join("cache");
    let engine = Engine::new(ScanOptions { read: jobs_one(), ..options(Some(cache.clone()), None) }).unwrap();
    let events = CancelMidLayer { after: 1 << 20, ..Default::default() };
    let request = ScanRequest::new(reference.clone());
    let err = engine.scan(&request, &events, &events.token).unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    // Stopped within a read or two of the cancel, far from the layer's end.
    let total = events.read.load(Ordering::SeqCst);
    assert!(total < 8 << 20, "read {total} bytes of a 48 MiB layer after cancelling at 1 MiB");
    assert!(events.read_after_cancel.load(Ordering::SeqCst) <= 1 << 20);
    // Layer 0 (small, read to its end) may be cached; layer 1 must not be.
    let before = cache_entries(&cache);
    assert!(before <= 1, "{before} cache entries after a cancelled scan");
    assert_eq!(events.stages.lock().unwrap().as_slice(), [Stage::Read]);

    // The same engine scans the image to the end afterwards, and caches both layers.
    let done = engine.scan(&request, &bulwark_scan::NoEvents, &CancelToken::new()).unwrap();
    assert_eq!(done.report.layers.len(), 2);
    assert_eq!(cache_entries(&cache), 2);
    let stages: Vec<Stage> = done.timings.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        stages,
        [Stage::Read, Stage::Inventory, Stage::Secret, Stage::Config, Stage::Vulnerabilities, Stage::Redact]
    );

    // A token cancelled before the scan stops it before anything is read.
    let cancelled = CancelToken::new();
    cancelled.cancel();
    assert!(matches!(engine.scan(&request, &bulwark_scan::NoEvents, &cancelled), Err(Error::Cancelled)));
}

/// One layer at a time, so that cancelling in layer 1 cannot race a parallel read of it.
fn jobs_one() -> bulwark_image::ReadOptions {
    bulwark_image::ReadOptions { jobs: 1, ..Default::default() }
}

#[test]
fn scans_run_at_once_on_one_engine_give_the_one_scan_report() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(&tmp.path().join("img"), 1 << 20);
    let engine = Engine::new(options(Some(tmp.path().join("cache")), None)).unwrap();
    let request = ScanRequest::new(reference.clone());
    let alone = engine.scan(&request, &bulwark_scan::NoEvents, &CancelToken::new()).unwrap().report;
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| engine.scan(&request, &bulwark_scan::NoEvents, &CancelToken::new()).unwrap().report))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in reports {
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::to_value(&alone).unwrap());
    }
    // A scanner the engine was not built with is refused, not silently skipped.
    let malware = ScanRequest { scanners: Some(Scanners::ALL), ..request };
    assert!(matches!(
        engine.scan(&malware, &bulwark_scan::NoEvents, &CancelToken::new()),
        Err(Error::ScannerUnavailable { .. })
    ));
}

fn shared() -> PathBuf {
    bulwark_testkit::shared()
}

fn build_db(path: &Path, sources: &[PathBuf]) {
    let mut b = bulwark_vulndb::DbBuilder::new(path).unwrap();
    for (i, s) in sources.iter().enumerate() {
        b.add_osv(&format!("pypa-{i}"), s).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn a_stored_inventory_rematched_against_a_newer_database_shows_the_new_advisory() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = image(&tmp.path().join("img"), 1024);
    let jinja = shared().join("advisories/pypa-advisory-db/vulns/jinja2");
    // The old database has one Jinja2 advisory (2014, fixed long before 2.10); the new one
    // has every Jinja2 advisory, among them PYSEC-2019-217 (CVE-2019-10906, sandbox escape, fixed in 2.10.1).
    let (old, new) = (tmp.path().join("old.db"), tmp.path().join("new.db"));
    build_db(&old, &[jinja.join("PYSEC-2014-8.yaml")]);
    build_db(&new, std::slice::from_ref(&jinja));

    let engine = Engine::new(options(None, Some(old.clone()))).unwrap();
    let stored = engine.scan(&ScanRequest::new(reference.clone()), &bulwark_scan::NoEvents, &CancelToken::new());
    let stored = stored.unwrap().report;
    assert!(stored.packages.iter().any(|p| p.name == "Jinja2" && p.version == "2.10"), "{:?}", stored.packages);
    let ids = |r: &bulwark_core::report::ScanReport| -> Vec<String> {
        r.vulnerabilities.iter().map(|v| v.id.clone()).collect()
    };
    assert!(!ids(&stored).contains(&"CVE-2019-10906".to_owned()), "{:?}", ids(&stored));

    // The JSON report as a store keeps it, matched again without the image.
    let stored: bulwark_core::report::ScanReport =
        serde_json::from_slice(&serde_json::to_vec(&stored).unwrap()).unwrap();
    std::fs::remove_dir_all(tmp.path().join("img")).unwrap();
    let newer = bulwark_scan::AdvisoryDb::open(&new).unwrap();
    let rematched = bulwark_scan::rematch(&stored, &newer).unwrap();
    assert!(ids(&rematched).contains(&"CVE-2019-10906".to_owned()), "{:?}", ids(&rematched));
    assert_ne!(rematched.database, stored.database);
    // Everything but the match is the stored report's.
    assert_eq!(rematched.packages, stored.packages);
    assert_eq!(rematched.secrets, stored.secrets);
    assert_eq!(rematched.misconfigurations, stored.misconfigurations);

    // The same as scanning the image against the new database.
    let fresh = image(&tmp.path().join("img2"), 1024);
    let engine = Engine::new(options(None, Some(new))).unwrap();
    let scanned = engine.scan(&ScanRequest::new(fresh), &bulwark_scan::NoEvents, &CancelToken::new()).unwrap().report;
    assert_eq!(ids(&scanned), ids(&rematched));
    assert_eq!(scanned.not_checked, rematched.not_checked);
}

/// Counts the layer events of a scan.
#[derive(Default)]
struct LayerEvents {
    started: AtomicU64,
    cached: AtomicU64,
}

impl Events for LayerEvents {
    fn layer_started(&self, _layer: usize, _size: u64) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }
    fn layer_finished(&self, _layer: usize, cached: bool) {
        if cached {
            self.cached.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Removes the image from the engine when the test ends, passed or not.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

#[test]
fn a_warm_rescan_of_a_docker_image_reads_no_export() {
    let tmp = tempfile::tempdir().unwrap();
    let built = fixture::build_from_tars(
        vec![
            (
                fixture::tar_bytes(&[
                    fixture::dir("etc/"),
                    fixture::file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
                ]),
                Compression::None,
            ),
            (fixture::tar_bytes(&[fixture::dir("app/"), fixture::file("app/a.txt", "hello\n")]), Compression::None),
        ],
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let tag = format!("bulwark-test-engine-warm-{}:1", std::process::id());
    let archive = tmp.path().join("img.tar");
    fixture::write_docker_archive(&archive, &built, &tag);
    let loaded = std::process::Command::new("docker").args(["load", "-q", "-i"]).arg(&archive).output();
    let loaded = loaded.expect("the docker CLI (the engine runs in CI)");
    assert!(loaded.status.success(), "docker load: {}", String::from_utf8_lossy(&loaded.stderr));
    let _cleanup = RemoveImage(tag.clone());
    let cache = tmp.path().join("cache");
    let engine = Engine::new(options(Some(cache.clone()), None)).unwrap();
    let request = ScanRequest::new(format!("docker:{tag}").parse::<Reference>().unwrap());
    let scan = |events: &LayerEvents| {
        let report = engine.scan(&request, events, &CancelToken::new()).unwrap().report;
        serde_json::to_vec(&report).unwrap()
    };
    let cold = LayerEvents::default();
    let first = scan(&cold);
    assert_eq!(cold.started.load(Ordering::SeqCst), 1, "the save stream is read once");
    // Warm: the save record and both layers come from the cache; no stream is started.
    let warm = LayerEvents::default();
    assert_eq!(scan(&warm), first);
    assert_eq!((warm.started.load(Ordering::SeqCst), warm.cached.load(Ordering::SeqCst)), (0, 2));
    // One layer evicted: the export is read again, and the report is the same.
    let layer = walk(&cache).into_iter().find(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.starts_with("sha256-") && name.ends_with(".json.zst")
    });
    std::fs::remove_file(layer.expect("a cached layer")).unwrap();
    let evicted = LayerEvents::default();
    assert_eq!(scan(&evicted), first);
    assert_eq!(evicted.started.load(Ordering::SeqCst), 1);
}

/// Collects the warnings a scan reports through its events.
#[derive(Default)]
struct WarningEvents(Mutex<Vec<bulwark_scan::Warning>>);

impl Events for WarningEvents {
    fn warning(&self, warning: &bulwark_scan::Warning) {
        self.0.lock().unwrap().push(warning.clone());
    }
}

#[test]
fn warnings_are_values_in_events_the_report_and_the_layer_cache() {
    use bulwark_scan::{Warning, WarningKind};
    let tmp = tempfile::tempdir().unwrap();
    // Layer 0: a dpkg database with a package without a version; layer 1: an entry that
    // climbs above the image root.
    let status = "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: b\nStatus: install ok installed\n\n";
    let built = fixture::build_from_tars(
        vec![
            (
                fixture::tar_bytes(&[
                    fixture::dir("etc/"),
                    fixture::file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
                    fixture::dir("var/"),
                    fixture::dir("var/lib/"),
                    fixture::dir("var/lib/dpkg/"),
                    fixture::file("var/lib/dpkg/status", status),
                ]),
                Compression::Gzip,
            ),
            (
                fixture::tar_bytes(&[fixture::Item::RawFile(b"x/../../climb".to_vec(), b"z".to_vec())]),
                Compression::Gzip,
            ),
        ],
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    fixture::write_oci_layout(&tmp.path().join("img"), &built, "1");
    let reference: Reference = format!("oci:{}", tmp.path().join("img").display()).parse().unwrap();
    let engine = Engine::new(options(Some(tmp.path().join("cache")), None)).unwrap();
    let scan = |events: &WarningEvents| {
        let outcome = engine.scan(&ScanRequest::new(reference.clone()), events, &CancelToken::new()).unwrap();
        assert_eq!(*events.0.lock().unwrap(), outcome.report.warnings, "events pass the report's warnings on");
        outcome.report
    };
    let cold = scan(&WarningEvents::default());
    let climbing = cold.warnings.iter().find(|w| w.message.contains("climbs above the image root"));
    let climbing = climbing.unwrap_or_else(|| panic!("{:#?}", cold.warnings));
    assert_eq!((climbing.kind, climbing.layer, climbing.path.as_deref()), (WarningKind::Layer, Some(1), None));
    assert_eq!(climbing.to_string(), format!("layer 1: {}", climbing.message));
    let db = cold.warnings.iter().find(|w| w.kind == WarningKind::Package);
    let db = db.unwrap_or_else(|| panic!("{:#?}", cold.warnings));
    assert_eq!((db.layer, db.path.as_deref()), (None, Some("/var/lib/dpkg/status")));
    // The path is named once: in `path`, not glued into the message as well.
    assert_eq!(db.message, "package b at line 6: no Version field, skipped");
    assert_eq!(db.to_string(), "/var/lib/dpkg/status: package b at line 6: no Version field, skipped");

    // A warm rescan reads the layers from the cache: the same values.
    let events = WarningEvents::default();
    let warm = scan(&events);
    assert_eq!(warm.warnings, cold.warnings);

    // JSON: each warning an object with its parts; a report written when warnings were
    // strings (the store keeps such reports) reads back to the same text, and re-matches.
    let json = serde_json::to_value(&cold).unwrap();
    assert_eq!(json["warnings"][0]["kind"].as_str(), Some(cold.warnings[0].kind.code()));
    let back: bulwark_core::report::ScanReport = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.warnings, cold.warnings);
    let mut legacy = json;
    legacy["warnings"] = cold.warnings.iter().map(|w| serde_json::Value::String(w.to_string())).collect();
    let old: bulwark_core::report::ScanReport = serde_json::from_value(legacy).unwrap();
    let text = |ws: &[Warning]| ws.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(text(&old.warnings), text(&cold.warnings));
    let climbing_old = old.warnings.iter().find(|w| w.message.contains("climbs above")).unwrap();
    assert_eq!(climbing_old.layer, Some(1));
    let db_old = old.warnings.iter().find(|w| w.message.contains("no Version field")).unwrap();
    assert_eq!(db_old.path.as_deref(), Some("/var/lib/dpkg/status"));
    let advisories = tmp.path().join("adv.db");
    build_db(&advisories, &[shared().join("advisories/pypa-advisory-db/vulns/jinja2/PYSEC-2014-8.yaml")]);
    let rematched = bulwark_scan::rematch(&old, &bulwark_scan::AdvisoryDb::open(&advisories).unwrap()).unwrap();
    assert!(text(&rematched.warnings).starts_with(&text(&cold.warnings)), "{:#?}", rematched.warnings);
}
