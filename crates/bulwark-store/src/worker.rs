//! The worker loop: claim a job, run its scan through the caller's [`ScanRunner`] on a
//! blocking thread while heartbeats keep the lease, then record the result (or the failure)
//! under that lease. `concurrency` slots run side by side.
//!
//! Shutdown (the `shutdown` channel turns true, e.g. on SIGTERM): no slot claims again;
//! running scans get `shutdown_grace` to finish and be recorded; what is still running then
//! is released back to the queue (attempt not counted) and [`run`] returns.
//!
//! A worker that dies instead (SIGKILL, power loss) stops heartbeating; its lease expires
//! and the next claim by any worker puts the job back in the queue. Completion checks the
//! lease in the same transaction that records the result, so a job has exactly one result
//! even when a presumed-dead worker finishes late.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bulwark_core::report::ScanReport;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::jobs::{ClaimedJob, FailOutcome, Heartbeat, JobFailure};
use crate::{Error, Result, Store};

/// The options of a `scan` job, as the server enqueues them and workers read them. Unknown
/// fields are refused: a worker must not silently ignore an option it does not understand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanJobOptions {
    /// `os/arch[/variant]` for multi-platform images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `vuln`, `malware`, `secret`, `config`; empty: the default set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scanners: Vec<String>,
    /// The name of a stored registry credential ([`crate::secrets::REGISTRY_CREDENTIAL`]);
    /// the worker opens it when it runs the job. Never the secret itself: job rows are
    /// plaintext and listed by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Set when the job was cancelled, its lease lost, or the worker is shutting down: a runner
/// that can stop early should; whatever it returns afterwards is not recorded.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A finished scan: the report and the exact JSON bytes to store.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    pub report: ScanReport,
    pub json: Vec<u8>,
}

/// Runs one job's scan. Called on a blocking thread: it may block for as long as the scan
/// takes.
pub trait ScanRunner: Send + Sync + 'static {
    fn run(&self, job: &ClaimedJob, cancel: &CancelFlag) -> std::result::Result<ScanOutput, JobFailure>;
}

impl<F> ScanRunner for F
where
    F: Fn(&ClaimedJob, &CancelFlag) -> std::result::Result<ScanOutput, JobFailure> + Send + Sync + 'static,
{
    fn run(&self, job: &ClaimedJob, cancel: &CancelFlag) -> std::result::Result<ScanOutput, JobFailure> {
        self(job, cancel)
    }
}

/// What the loop did, for the caller's log (libraries do not print).
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    Claimed {
        job: i64,
        reference: String,
        attempt: i64,
    },
    Succeeded {
        job: i64,
        scan_id: i64,
        elapsed: Duration,
    },
    Retrying {
        job: i64,
        cause: String,
        run_after: i64,
    },
    Failed {
        job: i64,
        cause: String,
    },
    /// Cancelled, or the lease was lost: the result, if any, is dropped.
    Abandoned {
        job: i64,
        why: String,
    },
    Released {
        job: i64,
    },
    StoreError {
        message: String,
    },
}

/// Where [`WorkerEvent`]s go.
pub type EventSink = Arc<dyn Fn(&WorkerEvent) + Send + Sync>;

/// Worker settings.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Names this worker in leases and attempts (host and pid by default).
    pub name: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// How often a running job's lease is renewed (well under `lease`).
    pub heartbeat: Duration,
    /// How long an idle slot waits before looking for work again.
    pub poll: Duration,
    /// How long running jobs may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// Receives every [`WorkerEvent`].
    pub on_event: Option<EventSink>,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .field("lease", &self.lease)
            .field("heartbeat", &self.heartbeat)
            .field("poll", &self.poll)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish_non_exhaustive()
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            name: format!("worker-{}", std::process::id()),
            concurrency: 1,
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(15),
            poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(30),
            on_event: None,
        }
    }
}

/// Counts of what [`run`] did.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub abandoned: AtomicU64,
    pub released: AtomicU64,
}

struct Slot {
    store: Store,
    runner: Arc<dyn ScanRunner>,
    config: WorkerConfig,
    stats: Arc<WorkerStats>,
}

impl Slot {
    fn emit(&self, e: WorkerEvent) {
        if let Some(f) = &self.config.on_event {
            f(&e);
        }
    }
}

/// Runs the worker until `shutdown` turns true (or its sender is dropped). Store errors
/// while looking for work are reported as events and retried after `poll`.
pub async fn run(
    store: Store,
    runner: Arc<dyn ScanRunner>,
    config: WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Arc<WorkerStats>> {
    if config.heartbeat >= config.lease {
        return Err(Error::InvalidQuery {
            parameter: "heartbeat",
            message: format!("{:?} must be shorter than the lease ({:?})", config.heartbeat, config.lease),
        });
    }
    let stats = Arc::new(WorkerStats::default());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..config.concurrency.max(1) {
        let mut config = config.clone();
        if config.concurrency > 1 {
            config.name = format!("{}/{i}", config.name);
        }
        let slot = Slot { store: store.clone(), runner: runner.clone(), config, stats: stats.clone() };
        tasks.spawn(slot_loop(slot, shutdown.clone()));
    }
    while tasks.join_next().await.is_some() {}
    Ok(stats)
}

fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

async fn slot_loop(slot: Slot, mut shutdown: watch::Receiver<bool>) {
    while !stopping(&shutdown) {
        // Registered before claiming, so a job queued in between still wakes this slot.
        let queued = slot.store.signals.queued.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        match slot.store.claim(&slot.config.name, slot.config.lease).await {
            Ok(Some(job)) => run_job(&slot, job, &mut shutdown).await,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(slot.config.poll) => {}
                    _ = &mut queued => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                slot.emit(WorkerEvent::StoreError { message: e.to_string() });
                tokio::select! {
                    _ = tokio::time::sleep(slot.config.poll.max(Duration::from_secs(1))) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

async fn run_job(slot: &Slot, job: ClaimedJob, shutdown: &mut watch::Receiver<bool>) {
    slot.emit(WorkerEvent::Claimed { job: job.id, reference: job.reference.clone(), attempt: job.attempt });
    let started = Instant::now();
    let cancel = CancelFlag::default();
    let mut scan = {
        let (runner, job, cancel) = (slot.runner.clone(), job.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || runner.run(&job, &cancel))
    };
    let mut beat = tokio::time::interval(slot.config.heartbeat);
    beat.tick().await;
    let mut deadline: Option<tokio::time::Instant> = if stopping(shutdown) { Some(grace(slot)) } else { None };
    loop {
        let until = deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            result = &mut scan => {
                let result = result.unwrap_or_else(|e| Err(JobFailure::Permanent(format!("the scan crashed: {e}"))));
                finish(slot, &job, result, started).await;
                return;
            }
            _ = beat.tick() => match slot.store.heartbeat(&job, None).await {
                Ok(Heartbeat::Held) => {}
                Ok(state) => {
                    cancel.cancel();
                    slot.stats.abandoned.fetch_add(1, Ordering::Relaxed);
                    let why = if state == Heartbeat::Cancelled { "cancelled" } else { "lease lost" };
                    slot.emit(WorkerEvent::Abandoned { job: job.id, why: why.into() });
                    return;
                }
                // The store is unreachable: keep scanning; the lease may still be renewed.
                Err(e) => slot.emit(WorkerEvent::StoreError { message: e.to_string() }),
            },
            _ = shutdown.changed(), if deadline.is_none() => deadline = Some(grace(slot)),
            _ = tokio::time::sleep_until(until), if deadline.is_some() => {
                cancel.cancel();
                match slot.store.release(&job).await {
                    Ok(_) => {
                        slot.stats.released.fetch_add(1, Ordering::Relaxed);
                        slot.emit(WorkerEvent::Released { job: job.id });
                    }
                    Err(e) => slot.emit(WorkerEvent::StoreError { message: e.to_string() }),
                }
                return;
            }
        }
    }
}

fn grace(slot: &Slot) -> tokio::time::Instant {
    tokio::time::Instant::now() + slot.config.shutdown_grace
}

/// Records the outcome. Completion is retried a few times on store errors with the same
/// lease (idempotent); if the store stays away, the lease expires and another worker redoes
/// the job.
async fn finish(slot: &Slot, job: &ClaimedJob, result: std::result::Result<ScanOutput, JobFailure>, started: Instant) {
    match result {
        Ok(out) => {
            let mut last = None;
            for attempt in 0..3u32 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                }
                match slot.store.complete(job, &out.report, &out.json).await {
                    Ok(scan_id) => {
                        slot.stats.succeeded.fetch_add(1, Ordering::Relaxed);
                        slot.emit(WorkerEvent::Succeeded { job: job.id, scan_id, elapsed: started.elapsed() });
                        return;
                    }
                    Err(e @ (Error::LeaseLost { .. } | Error::Report(_) | Error::JobNotFound(_))) => {
                        last = Some(e);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let message = last.map(|e| e.to_string()).unwrap_or_default();
            // A report the store cannot take (no digest) will not get better on retry.
            if message.starts_with("report:") {
                record_failure(slot, job, JobFailure::Permanent(message)).await;
            } else {
                slot.stats.abandoned.fetch_add(1, Ordering::Relaxed);
                slot.emit(WorkerEvent::Abandoned { job: job.id, why: message });
            }
        }
        Err(failure) => record_failure(slot, job, failure).await,
    }
}

async fn record_failure(slot: &Slot, job: &ClaimedJob, failure: JobFailure) {
    let cause = match &failure {
        JobFailure::Transient(m) | JobFailure::Permanent(m) => m.clone(),
    };
    match slot.store.fail(job, &failure).await {
        Ok(FailOutcome::Retry { run_after }) => {
            slot.stats.retried.fetch_add(1, Ordering::Relaxed);
            slot.emit(WorkerEvent::Retrying { job: job.id, cause, run_after });
        }
        Ok(FailOutcome::Failed) => {
            slot.stats.failed.fetch_add(1, Ordering::Relaxed);
            slot.emit(WorkerEvent::Failed { job: job.id, cause });
        }
        Err(e) => {
            slot.stats.abandoned.fetch_add(1, Ordering::Relaxed);
            slot.emit(WorkerEvent::Abandoned { job: job.id, why: e.to_string() });
        }
    }
}
