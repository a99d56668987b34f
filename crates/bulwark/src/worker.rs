//! `bulwark worker`: runs scan jobs from the store's queue until SIGTERM or SIGINT, then
//! stops claiming, lets running scans finish (or releases them after the grace period) and
//! exits 0.
//!
//! Each job is scanned by [`scan_job`], the one place the worker calls the scan pipeline,
//! through the same function `bulwark scan` uses, so a stored report is byte for byte the
//! JSON `bulwark scan --format json` writes for the same image, database and options.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bulwark_scan::ScanSettings;
use bulwark_scan::settings::ScannerName;
use bulwark_store::jobs::{ClaimedJob, JobFailure};
use bulwark_store::worker::{CancelFlag, ScanJobOptions, ScanOutput, WorkerConfig, WorkerEvent};
use clap::{Args, Parser};

use crate::cli::ImageArgs;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The store: postgres://USER@HOST[:PORT]/DB or sqlite://PATH
    #[arg(long, env = "BULWARK_DATABASE_URL", required_unless_present = "data_dir", conflicts_with = "data_dir")]
    pub database_url: Option<String>,
    /// A data directory holding the SQLite store (bulwark.db), as `bulwark server --data-dir` uses
    #[arg(long, env = "BULWARK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Jobs scanned at once
    #[arg(long, default_value_t = 1, env = "BULWARK_WORKER_CONCURRENCY")]
    pub concurrency: usize,
    /// Name in leases and job history [default: worker-<host>-<pid>]
    #[arg(long, env = "BULWARK_WORKER_NAME")]
    pub name: Option<String>,
    /// Seconds a job's lease lasts without a heartbeat (a killed worker's job is taken over after this)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_seconds: u64,
    /// Seconds between heartbeats (less than --lease-seconds)
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat_seconds: u64,
    /// Seconds running scans may take to finish after SIGTERM before they are given back to the queue
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    /// Milliseconds an idle worker waits before looking for work again
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// Layer cache directory [default: ~/.cache/bulwark/layers]
    #[arg(long, env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not use the layer cache
    #[arg(long, env = "BULWARK_NO_CACHE")]
    pub no_cache: bool,
    /// Advisory database to match against [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db, if present]
    #[arg(long, env = "BULWARK_DB")]
    pub db: Option<PathBuf>,
    /// Do not match vulnerabilities (inventory only)
    #[arg(long, conflicts_with = "db", env = "BULWARK_NO_DB")]
    pub no_db: bool,
    /// Key-encryption key file (64 hex characters, mode 0600) that opens the stored registry credentials jobs name [default: $BULWARK_KEK]
    #[arg(long, value_name = "FILE", env = "BULWARK_KEK_FILE")]
    pub kek_file: Option<PathBuf>,
}

pub fn run(args: WorkerArgs) -> Result<u8> {
    if args.heartbeat_seconds >= args.lease_seconds {
        bail!(
            "--heartbeat-seconds ({}) must be less than --lease-seconds ({})",
            args.heartbeat_seconds,
            args.lease_seconds
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let name = args.name.clone().unwrap_or_else(default_name);
    let config = WorkerConfig {
        name: name.clone(),
        concurrency: args.concurrency.max(1),
        lease: Duration::from_secs(args.lease_seconds),
        heartbeat: Duration::from_secs(args.heartbeat_seconds),
        poll: Duration::from_millis(args.poll_ms),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        on_event: Some(Arc::new(log_event)),
    };
    let kek = bulwark_store::secrets::Kek::configured(args.kek_file.as_deref())?.map(Arc::new);
    let result = runtime.block_on(async {
        let store = match (&args.database_url, &args.data_dir) {
            (Some(url), _) => bulwark_store::Store::open(url).await,
            (None, Some(dir)) => bulwark_store::Store::open_data_dir(dir).await,
            (None, None) => unreachable!("clap requires one"),
        }
        .context("opening the store")?;
        let settings = JobSettings {
            cache_dir: args.cache_dir.clone(),
            no_cache: args.no_cache,
            db: args.db.clone(),
            no_db: args.no_db,
            secrets: Some(JobSecrets { store: store.clone(), kek }),
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let signal = shutdown_signal();
        tokio::spawn(async move {
            signal.await;
            let _ = writeln!(std::io::stderr(), "worker: stopping: no new jobs; finishing what runs");
            let _ = stop.send(true);
        });
        let _ = writeln!(std::io::stderr(), "worker {name}: waiting for jobs ({} at once)", config.concurrency);
        let stats = bulwark_store::worker::run(store.clone(), runner(settings), config, stopped).await?;
        store.close().await;
        anyhow::Ok(stats)
    });
    // Scans abandoned at shutdown may still be running on blocking threads: do not wait.
    runtime.shutdown_background();
    let stats = result?;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let _ = writeln!(
        std::io::stderr(),
        "worker: stopped ({} succeeded, {} failed, {} retried, {} released)",
        load(&stats.succeeded),
        load(&stats.failed),
        load(&stats.retried),
        load(&stats.released)
    );
    Ok(crate::commands::OK)
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("worker-{}-{}", host.trim(), std::process::id())
}

/// SIGTERM or SIGINT, for `bulwark worker` and `bulwark server`. The handlers are installed
/// when this is called, not when the future is first polled: call it before announcing that
/// the process is ready, so a signal sent right after the announcement is never fatal.
pub(crate) fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    async move {
        match handlers {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            // Without signal handlers the process runs until killed.
            _ => std::future::pending::<()>().await,
        }
    }
}

fn log_event(event: &WorkerEvent) {
    let line = match event {
        WorkerEvent::Claimed { job, reference, attempt } => {
            format!("job {job}: scanning {} (attempt {attempt})", bulwark_core::term::escape(reference))
        }
        WorkerEvent::Succeeded { job, scan_id, elapsed } => {
            format!("job {job}: done in {:.1} s (scan {scan_id})", elapsed.as_secs_f64())
        }
        WorkerEvent::Retrying { job, cause, .. } => {
            format!("job {job}: will retry: {}", bulwark_core::term::escape(cause))
        }
        WorkerEvent::Failed { job, cause } => format!("job {job}: failed: {}", bulwark_core::term::escape(cause)),
        WorkerEvent::Abandoned { job, why } => format!("job {job}: abandoned: {why}"),
        WorkerEvent::Released { job } => format!("job {job}: given back to the queue (shutdown)"),
        WorkerEvent::StoreError { message } => format!("store: {message}"),
    };
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// How this worker scans (its own flags and environment; the job brings the rest).
#[derive(Debug)]
pub(crate) struct JobSettings {
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) no_cache: bool,
    pub(crate) db: Option<PathBuf>,
    pub(crate) no_db: bool,
    /// Where the registry credentials that jobs name are opened.
    pub(crate) secrets: Option<JobSecrets>,
}

/// The store and key-encryption key a worker opens a job's registry credential with.
#[derive(Debug)]
pub(crate) struct JobSecrets {
    pub(crate) store: bulwark_store::Store,
    pub(crate) kek: Option<Arc<bulwark_store::secrets::Kek>>,
}

/// A registry credential opened for one job.
pub(crate) struct JobCredential {
    pub(crate) username: String,
    pub(crate) password: String,
}

/// Opens the registry credential `name` for a job of `reference`. Every way this can fail
/// fails the job: a job that names a credential is never scanned anonymously, and the
/// password is never sent to a registry other than the credential's own.
pub(crate) fn open_credential(
    name: &str,
    reference: &str,
    settings: &JobSettings,
) -> Result<JobCredential, JobFailure> {
    let permanent = |m: String| JobFailure::Permanent(format!("registry credential {name:?}: {m}"));
    let Some(secrets) = &settings.secrets else {
        return Err(permanent("this worker cannot open stored credentials".to_owned()));
    };
    let Some(kek) = &secrets.kek else {
        return Err(permanent(
            "this worker has no key-encryption key to open it (give --kek-file or BULWARK_KEK, the server's key)"
                .to_owned(),
        ));
    };
    let opened = tokio::runtime::Handle::current()
        .block_on(secrets.store.open_secret(kek, bulwark_store::secrets::REGISTRY_CREDENTIAL, name))
        .map_err(|e| match e {
            bulwark_store::Error::Sql(_) => JobFailure::Transient(format!("registry credential {name:?}: {e}")),
            other => permanent(other.to_string()),
        })?
        .ok_or_else(|| permanent("no longer stored (deleted after the scan was queued)".to_owned()))?;
    #[derive(serde::Deserialize)]
    struct Meta {
        registry: String,
        username: String,
    }
    let meta: Meta = serde_json::from_str(&opened.info.metadata).map_err(|e| permanent(format!("metadata: {e}")))?;
    let registry_of = |s: &str| s.parse::<bulwark_core::Reference>().ok()?.docker_ref().map(|r| r.registry.clone());
    let target = match registry_of(reference) {
        Some(registry) => registry,
        _ => return Err(permanent(format!("{reference:?} is not a registry reference"))),
    };
    // The credential's registry as a reference would name it (so `docker.io` and its
    // aliases compare equal).
    let own = match registry_of(&format!("{}/x", meta.registry)) {
        Some(registry) => registry,
        _ => return Err(permanent(format!("stored registry {:?} is not a registry", meta.registry))),
    };
    if own != target {
        return Err(permanent(format!("it is for {own}, not {target}: it is never sent to another registry")));
    }
    let password = String::from_utf8(opened.value).map_err(|_| permanent("the password is not UTF-8".to_owned()))?;
    Ok(JobCredential { username: meta.username, password })
}

/// The nice value scans run at (at least; a worker started nicer stays nicer).
const SCAN_NICE: i32 = 10;

/// The queue's scan runner: what `bulwark worker` and `bulwark server --workers N` run.
/// Each scan runs on a thread of its own at [`SCAN_NICE`], and the threads it starts (one
/// per layer) inherit that: on a host where the API and the scans share the cores, the
/// kernel gives the API's requests the CPU first, so reads stay fast while workers scan.
pub(crate) fn runner(settings: JobSettings) -> Arc<dyn bulwark_store::worker::ScanRunner> {
    let settings = Arc::new(settings);
    Arc::new(move |job: &ClaimedJob, cancel: &CancelFlag| at_scan_priority(|| scan_job(job, cancel, &settings)))
}

/// Runs `f` on a new thread at [`SCAN_NICE`] (a thread of tokio's blocking pool would keep
/// the lower priority for whatever it runs next, and an unprivileged process cannot raise it
/// back). If the priority cannot be changed the scan still runs, at the normal one.
/// The scan thread runs inside the caller's tokio runtime context, if any (opening a job's
/// stored credential blocks on the store through it).
fn at_scan_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let runtime = tokio::runtime::Handle::try_current().ok();
    std::thread::scope(|s| {
        let scan = s.spawn(|| {
            let _context = runtime.as_ref().map(tokio::runtime::Handle::enter);
            // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value.
            let tid = rustix::thread::gettid();
            let now = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
            let _ = rustix::process::setpriority_process(Some(tid), now.max(SCAN_NICE));
            f()
        });
        scan.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The image arguments of a job, parsed by the same clap definitions as `bulwark scan`.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct JobImage {
    #[command(flatten)]
    input: ImageArgs,
}

/// Scans one job's image. THE adapter between the queue and the scan pipeline: it calls the
/// same function as `bulwark scan` and renders the report as `--format json` does.
fn scan_job(job: &ClaimedJob, _cancel: &CancelFlag, settings: &JobSettings) -> Result<ScanOutput, JobFailure> {
    if job.kind == bulwark_store::promotions::JOB_KIND {
        return crate::worker_promote::promote_job(job, settings);
    }
    let options: ScanJobOptions =
        serde_json::from_value(job.options.clone()).map_err(|e| JobFailure::Permanent(format!("job options: {e}")))?;
    let credential = match &options.credential {
        Some(name) => Some(open_credential(name, &job.reference, settings)?),
        None => None,
    };
    let scan_settings = job_scan_settings(&job.reference, options.platform.clone(), &options.scanners, settings)?;
    let today = today()?;
    let report = crate::commands::run_scan_with(&job.reference, &scan_settings, |opts| {
        opts.today = today;
        if let Some(c) = credential {
            opts.read.registry.username = Some(c.username);
            opts.read.registry.password = Some(c.password);
        }
    })
    .map_err(classify)?;
    let mut json = serde_json::to_vec_pretty(&report).map_err(|e| JobFailure::Permanent(format!("report: {e}")))?;
    json.push(b'\n');
    Ok(ScanOutput { report, json })
}

/// The settings of a job's scan. The reference alone goes through `bulwark scan`'s image
/// arguments, so that their `BULWARK_*` environment applies as it does to `bulwark scan`;
/// the worker's flags and the job's options are the stronger layer.
pub(crate) fn job_scan_settings(
    reference: &str,
    platform: Option<String>,
    scanner_names: &[String],
    settings: &JobSettings,
) -> Result<ScanSettings, JobFailure> {
    let input = JobImage::try_parse_from([reference]).map_err(|e| JobFailure::Permanent(format!("job: {e}")))?.input;
    let job_settings = ScanSettings {
        platform,
        scanners: scanners(scanner_names)?,
        cache_dir: settings.cache_dir.clone(),
        no_cache: settings.no_cache.then_some(true),
        db: settings.db.clone(),
        no_db: settings.no_db.then_some(true),
        no_progress: Some(true),
        quiet: Some(true),
        ..ScanSettings::default()
    };
    Ok(job_settings.or(crate::config_file::image_settings(&input)))
}

/// Today, or `BULWARK_TODAY` (YYYY-MM-DD) for reproducible runs.
pub(crate) fn today() -> Result<bulwark_core::time::Date, JobFailure> {
    match std::env::var("BULWARK_TODAY") {
        Ok(d) => bulwark_core::time::Date::parse(&d)
            .ok_or_else(|| JobFailure::Permanent(format!("BULWARK_TODAY={d:?} is not a YYYY-MM-DD date"))),
        Err(_) => Ok(bulwark_core::time::Date::today()),
    }
}

/// The job's scanners; none named is every scanner.
fn scanners(names: &[String]) -> Result<Option<Vec<ScannerName>>, JobFailure> {
    if names.is_empty() {
        return Ok(None);
    }
    let name = |n: &String| match n.as_str() {
        "vuln" => Ok(ScannerName::Vuln),
        "malware" => Ok(ScannerName::Malware),
        "secret" => Ok(ScannerName::Secret),
        "config" => Ok(ScannerName::Config),
        other => Err(JobFailure::Permanent(format!("job options: unknown scanner {other:?}"))),
    };
    names.iter().map(name).collect::<Result<_, _>>().map(Some)
}

/// Transient: the registry or Docker was unavailable, rate-limited or cut off, or the local
/// cache could not be written. Everything else (a bad reference, auth, a missing image, a
/// limit, an image that is not what it claims) will fail again the same way.
pub(crate) fn classify(e: anyhow::Error) -> JobFailure {
    let message = format!("{e:#}");
    let transient = e.chain().any(|cause| {
        if let Some(r) = cause.downcast_ref::<bulwark_registry::Error>() {
            return r.is_transient();
        }
        match cause.downcast_ref::<bulwark_scan::Error>() {
            Some(bulwark_scan::Error::Image(bulwark_image::Error::Registry(r))) => r.is_transient(),
            Some(bulwark_scan::Error::Image(bulwark_image::Error::Docker(_))) => true,
            Some(bulwark_scan::Error::Cache { .. }) => true,
            _ => false,
        }
    });
    if transient { JobFailure::Transient(message) } else { JobFailure::Permanent(message) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    #[test]
    fn scans_and_the_threads_they_start_run_at_the_scan_priority() {
        let before = nice();
        let (scan, layer) = at_scan_priority(|| (nice(), std::thread::spawn(nice).join().unwrap()));
        assert_eq!(scan, before.max(SCAN_NICE));
        assert_eq!(layer, scan, "a layer thread inherits the scan's priority");
        assert_eq!(nice(), before, "the caller's thread keeps its own");
    }
}
