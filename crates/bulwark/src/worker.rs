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
    let settings = JobSettings {
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        db: args.db.clone(),
        no_db: args.no_db,
    };
    let result = runtime.block_on(async {
        let store = match (&args.database_url, &args.data_dir) {
            (Some(url), _) => bulwark_store::Store::open(url).await,
            (None, Some(dir)) => bulwark_store::Store::open_data_dir(dir).await,
            (None, None) => unreachable!("clap requires one"),
        }
        .context("opening the store")?;
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
fn at_scan_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let scan = s.spawn(|| {
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
    let options: ScanJobOptions =
        serde_json::from_value(job.options.clone()).map_err(|e| JobFailure::Permanent(format!("job options: {e}")))?;
    let mut argv: Vec<String> = vec![job.reference.clone(), "--no-progress".into(), "--quiet".into()];
    if let Some(p) = &options.platform {
        argv.extend(["--platform".into(), p.clone()]);
    }
    if let Some(dir) = &settings.cache_dir {
        argv.extend(["--cache-dir".into(), dir.display().to_string()]);
    }
    if settings.no_cache {
        argv.push("--no-cache".into());
    }
    if let Some(db) = &settings.db {
        argv.extend(["--db".into(), db.display().to_string()]);
    }
    if settings.no_db {
        argv.push("--no-db".into());
    }
    let input = JobImage::try_parse_from(&argv).map_err(|e| JobFailure::Permanent(format!("job: {e}")))?.input;
    let scanners = scanners(&options.scanners)?;
    let today = match std::env::var("BULWARK_TODAY") {
        Ok(d) => bulwark_core::time::Date::parse(&d)
            .ok_or_else(|| JobFailure::Permanent(format!("BULWARK_TODAY={d:?} is not a YYYY-MM-DD date")))?,
        Err(_) => bulwark_core::time::Date::today(),
    };
    let report = crate::commands::run_scan_with(&input, scanners.vuln, 7, |opts| {
        opts.scanners = scanners;
        opts.today = today;
    })
    .map_err(classify)?;
    let mut json = serde_json::to_vec_pretty(&report).map_err(|e| JobFailure::Permanent(format!("report: {e}")))?;
    json.push(b'\n');
    Ok(ScanOutput { report, json })
}

fn scanners(names: &[String]) -> Result<bulwark_scan::Scanners, JobFailure> {
    if names.is_empty() {
        return Ok(bulwark_scan::Scanners::ALL);
    }
    let mut s = bulwark_scan::Scanners::default();
    for n in names {
        match n.as_str() {
            "vuln" => s.vuln = true,
            "malware" => s.malware = true,
            "secret" => s.secret = true,
            "config" => s.config = true,
            other => return Err(JobFailure::Permanent(format!("job options: unknown scanner {other:?}"))),
        }
    }
    Ok(s)
}

/// Transient: the registry or Docker was unavailable, rate-limited or cut off, or the local
/// cache could not be written. Everything else (a bad reference, auth, a missing image, a
/// limit, an image that is not what it claims) will fail again the same way.
fn classify(e: anyhow::Error) -> JobFailure {
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
