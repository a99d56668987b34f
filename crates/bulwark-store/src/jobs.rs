//! The durable job queue.
//!
//! - [`Store::enqueue`] adds a job, or attaches the request to an identical job (same kind,
//!   reference and options) that is queued or running, raising its priority if the new
//!   request's is higher. One statement (an upsert on a partial unique index), so two
//!   concurrent requests can never create two jobs.
//! - [`Store::claim`] leases the most urgent runnable job to one worker: `FOR UPDATE SKIP
//!   LOCKED` on PostgreSQL (claimers never wait on each other), an IMMEDIATE transaction on
//!   SQLite (one writer at a time). Running jobs whose lease expired (a worker died) go back
//!   to the queue first.
//! - [`Store::heartbeat`] extends the lease and tells the worker if the job was cancelled or
//!   the lease lost.
//! - [`Store::complete`] records the scan result and finishes the job in one transaction,
//!   only while the lease is held; repeated with the same lease it returns the same result.
//!   `scans.job_id` is unique: a job has exactly one result whatever happens to workers.
//! - [`Store::fail`] retries transient failures with exponential backoff and jitter and
//!   records permanent ones with their cause; [`Store::release`] gives a job back unharmed
//!   (graceful shutdown); [`Store::cancel`] ends a queued or running job.

use std::time::Duration;

use bulwark_core::report::ScanReport;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::images::{Page, PageRequest, ScanOrigin, next_cursor};
use crate::{Backend, Error, Result, Store};

/// Job priorities: higher runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Priority(pub i32);

impl Priority {
    /// A pipeline is waiting on the answer.
    pub const CI: Priority = Priority(100);
    /// Someone asked through the API or console.
    pub const INTERACTIVE: Priority = Priority(50);
    /// Re-scans, registry watching, re-evaluation.
    pub const BACKGROUND: Priority = Priority(0);
}

/// Job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub reference: String,
    /// Scan options as JSON; part of the dedup key (object keys are compared sorted).
    pub options: serde_json::Value,
    pub priority: Priority,
    /// Attempts before a transiently failing job fails for good.
    pub max_attempts: u32,
    /// Who asked (a user or token name), for the record.
    pub submitted_by: Option<String>,
}

impl NewJob {
    /// A scan of `reference` with `options`, at most 5 attempts.
    pub fn scan(reference: &str, options: serde_json::Value, priority: Priority) -> NewJob {
        NewJob {
            kind: "scan".into(),
            reference: reference.into(),
            options,
            priority,
            max_attempts: 5,
            submitted_by: None,
        }
    }

    /// SHA-256 over kind, reference and canonical options.
    pub fn dedup_key(&self) -> String {
        // serde_json's maps are sorted by key (no `preserve_order`), so this is canonical.
        let text = format!("{}\n{}\n{}", self.kind, self.reference, self.options);
        hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
    }
}

/// What [`Store::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    pub id: i64,
    /// True when the request attached to a job already queued or running.
    pub attached: bool,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub options: serde_json::Value,
    pub priority: i32,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub lease_owner: Option<String>,
    pub lease_expires: Option<i64>,
    pub attached: i64,
    pub progress: Option<serde_json::Value>,
    /// `transient`, `permanent`, `lease-expired` or `cancelled`.
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub scan_id: Option<i64>,
    pub submitted_by: Option<String>,
}

/// A job leased to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub options: serde_json::Value,
    /// This claim's attempt number (1 for the first).
    pub attempt: i64,
    pub max_attempts: i64,
    /// Proof of the lease: heartbeats, completion and failure must present it.
    pub lease_token: String,
    pub lease: Duration,
}

/// Why a job's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Worth retrying (registry 5xx or 429, timeouts, connection resets).
    Transient(String),
    /// Retrying cannot help (a bad reference, an auth failure, a limit exceeded).
    Permanent(String),
}

/// What a heartbeat learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// The lease is extended.
    Held,
    /// The job was cancelled: stop and record nothing.
    Cancelled,
    /// The lease expired and the job went back to the queue or to another worker.
    Lost,
}

/// What [`Store::fail`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again, not before this time (ms since the epoch).
    Retry { run_after: i64 },
    /// Failed for good.
    Failed,
}

/// Backoff before retry `attempt` (1-based): 2 s doubling to at most 5 min, then a random
/// point in its upper half ("equal jitter"), so that jobs failing together spread out.
pub fn backoff(attempt: i64, random: u32) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    let base = 2_000u64.saturating_mul(1u64 << exp).min(300_000);
    let half = base / 2;
    Duration::from_millis(half + u64::from(random) % (half + 1))
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // The system RNG does not fail on supported platforms; a zero only removes jitter.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u32::from_le_bytes(b)
}

fn lease_token() -> String {
    let mut b = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    hex::encode(b)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

const JOB_COLUMNS: &str = "id, kind, reference, options, priority, state, attempts, max_attempts, run_after, created_at, \
     started_at, finished_at, lease_owner, lease_expires, attached, progress, error_kind, error, scan_id, submitted_by";

fn job_from_row(r: &sqlx::any::AnyRow) -> Result<Job> {
    let corrupt = |what: &str, message: String| Error::Corrupt { what: what.into(), message };
    let options: String = r.try_get(3)?;
    let state: String = r.try_get(5)?;
    let progress: Option<String> = r.try_get(15)?;
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        reference: r.try_get(2)?,
        options: serde_json::from_str(&options).map_err(|e| corrupt("job options", e.to_string()))?,
        priority: i32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0),
        state: JobState::parse(&state).ok_or_else(|| corrupt("job state", state.clone()))?,
        attempts: r.try_get(6)?,
        max_attempts: r.try_get(7)?,
        run_after: r.try_get(8)?,
        created_at: r.try_get(9)?,
        started_at: r.try_get(10)?,
        finished_at: r.try_get(11)?,
        lease_owner: r.try_get(12)?,
        lease_expires: r.try_get(13)?,
        attached: r.try_get(14)?,
        progress: progress.and_then(|p| serde_json::from_str(&p).ok()),
        error_kind: r.try_get(16)?,
        error: r.try_get(17)?,
        scan_id: r.try_get(18)?,
        submitted_by: r.try_get(19)?,
    })
}

impl Store {
    /// Adds a job, or attaches to the identical one already queued or running.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Enqueued> {
        let row = sqlx::query(self.sql(
            "INSERT INTO jobs (kind, reference, options, dedup_key, priority, state, max_attempts, run_after,
                 created_at, updated_at, submitted_by)
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, {now}, {now}, {now}, $7)
             ON CONFLICT (dedup_key) WHERE state IN ('queued', 'running') DO UPDATE SET
                 attached = jobs.attached + 1,
                 priority = CASE WHEN jobs.priority < excluded.priority THEN excluded.priority ELSE jobs.priority END,
                 updated_at = excluded.updated_at
             RETURNING id, attached",
        ))
        .bind(&job.kind)
        .bind(&job.reference)
        .bind(job.options.to_string())
        .bind(job.dedup_key())
        .bind(i64::from(job.priority.0))
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(job.submitted_by.clone())
        .fetch_one(self.pool())
        .await?;
        self.signals.queued.notify_waiters();
        Ok(Enqueued { id: row.try_get(0)?, attached: row.try_get::<i64, _>(1)? > 0 })
    }

    /// Leases the most urgent runnable job to `worker` for `lease`, or `None` when there is
    /// nothing to do. Expired leases are reclaimed first.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
        self.reap_expired().await?;
        let token = lease_token();
        let skip_locked = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(self.sql(&format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $1, lease_owner = $2,
                 lease_expires = {{now}} + $3, started_at = {{now}}, updated_at = {{now}}, progress = NULL
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= {{now}}
                         ORDER BY priority DESC, run_after, id LIMIT 1 {skip_locked})
             RETURNING id, kind, reference, options, attempts, max_attempts"
        )))
        .bind(&token)
        .bind(worker)
        .bind(ms(lease))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let attempt: i64 = row.try_get(4)?;
        sqlx::query(self.sql(
            "INSERT INTO job_attempts (job_id, attempt, worker, started_at) VALUES ($1, $2, $3, {now})
             ON CONFLICT (job_id, attempt) DO NOTHING",
        ))
        .bind(id)
        .bind(attempt)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let options: String = row.try_get(3)?;
        Ok(Some(ClaimedJob {
            id,
            kind: row.try_get(1)?,
            reference: row.try_get(2)?,
            options: serde_json::from_str(&options)
                .map_err(|e| Error::Corrupt { what: format!("job {id} options"), message: e.to_string() })?,
            attempt,
            max_attempts: row.try_get(5)?,
            lease_token: token,
            lease,
        }))
    }

    /// Puts running jobs whose lease expired back in the queue (or fails them when their
    /// attempts are used up: a job that kills every worker that runs it must stop).
    pub async fn reap_expired(&self) -> Result<u64> {
        // A read first: the common case (nothing expired) takes no write lock.
        let any: i64 =
            sqlx::query(self.sql("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_expires < {now}"))
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        if any == 0 {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let expired = sqlx::query(self.sql(
            "UPDATE job_attempts SET finished_at = {now}, outcome = 'lease-expired',
                 error = 'the worker stopped renewing its lease (killed, hung or cut off)'
             WHERE outcome IS NULL AND (job_id, attempt) IN
                 (SELECT id, attempts FROM jobs WHERE state = 'running' AND lease_expires < {now})",
        ))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let failed = sqlx::query(self.sql(
            "UPDATE jobs SET state = 'failed', error_kind = 'lease-expired',
                 error = 'every attempt ended with the worker losing its lease (' || CAST(attempts AS TEXT) || ' attempts)',
                 finished_at = {now}, updated_at = {now}, lease_expires = NULL
             WHERE state = 'running' AND lease_expires < {now} AND attempts >= max_attempts",
        ))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let requeued = sqlx::query(self.sql(
            "UPDATE jobs SET state = 'queued', lease_token = NULL, lease_owner = NULL, lease_expires = NULL,
                 run_after = {now}, updated_at = {now}
             WHERE state = 'running' AND lease_expires < {now}",
        ))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(expired.max(failed + requeued))
    }

    /// Extends the lease by its length and records `progress` (JSON) if given.
    pub async fn heartbeat(&self, job: &ClaimedJob, progress: Option<&serde_json::Value>) -> Result<Heartbeat> {
        let done = sqlx::query(self.sql(
            "UPDATE jobs SET lease_expires = {now} + $1, updated_at = {now}, progress = COALESCE($2, progress)
             WHERE id = $3 AND lease_token = $4 AND state = 'running'",
        ))
        .bind(ms(job.lease))
        .bind(progress.map(ToString::to_string))
        .bind(job.id)
        .bind(&job.lease_token)
        .execute(self.pool())
        .await?
        .rows_affected();
        if done == 1 {
            return Ok(Heartbeat::Held);
        }
        let state = self.job(job.id).await?.map(|j| j.state);
        Ok(if state == Some(JobState::Cancelled) { Heartbeat::Cancelled } else { Heartbeat::Lost })
    }

    /// Records the job's result and marks it succeeded, in one transaction, while `job`'s
    /// lease is held. Returns the scan id; called again with the same lease after it
    /// succeeded (a reply lost on the way back), returns the same id and records nothing.
    pub async fn complete(&self, job: &ClaimedJob, report: &ScanReport, json: &[u8]) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT state, lease_token, scan_id FROM jobs WHERE id = $1{lock}")))
                .bind(job.id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(Error::JobNotFound(job.id))?;
        let state: String = row.try_get(0)?;
        let token: Option<String> = row.try_get(1)?;
        let held = token.as_deref() == Some(job.lease_token.as_str());
        match (state.as_str(), held) {
            ("succeeded", true) => {
                tx.rollback().await?;
                return row.try_get::<Option<i64>, _>(2)?.ok_or_else(|| Error::Corrupt {
                    what: format!("job {}", job.id),
                    message: "succeeded without a scan".into(),
                });
            }
            ("running", true) => {}
            _ => {
                tx.rollback().await?;
                return Err(Error::LeaseLost { job: job.id, state });
            }
        }
        let recorded = self.record_in(&mut tx, report, json, ScanOrigin::Worker { job_id: job.id }).await?;
        sqlx::query(self.sql(
            "UPDATE jobs SET state = 'succeeded', scan_id = $1, finished_at = {now}, updated_at = {now},
                 lease_expires = NULL, error_kind = NULL, error = NULL WHERE id = $2",
        ))
        .bind(recorded.scan_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
        self.end_attempt(&mut tx, job, "succeeded", None).await?;
        tx.commit().await?;
        self.signals.finished.notify_waiters();
        Ok(recorded.scan_id)
    }

    async fn end_attempt(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        job: &ClaimedJob,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(self.sql(
            "UPDATE job_attempts SET finished_at = {now}, outcome = $1, error = $2 WHERE job_id = $3 AND attempt = $4",
        ))
        .bind(outcome)
        .bind(error.map(str::to_owned))
        .bind(job.id)
        .bind(job.attempt)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: a transient failure is retried after [`backoff`] while
    /// attempts remain; a permanent one, or the last attempt, fails the job with its cause.
    pub async fn fail(&self, job: &ClaimedJob, failure: &JobFailure) -> Result<FailOutcome> {
        let (kind, message) = match failure {
            JobFailure::Transient(m) => ("transient", m.as_str()),
            JobFailure::Permanent(m) => ("permanent", m.as_str()),
        };
        let retry = kind == "transient" && job.attempt < job.max_attempts;
        let mut tx = self.begin_write().await?;
        let (sql, delay) = if retry {
            (
                "UPDATE jobs SET state = 'queued', run_after = {now} + $1, lease_token = NULL, lease_owner = NULL,
                     lease_expires = NULL, error_kind = $2, error = $3, updated_at = {now}
                 WHERE id = $4 AND lease_token = $5 AND state = 'running' RETURNING run_after",
                ms(backoff(job.attempt, random_u32())),
            )
        } else {
            (
                "UPDATE jobs SET state = 'failed', finished_at = {now}, lease_expires = NULL, error_kind = $2,
                     error = $3, updated_at = {now}
                 WHERE id = $4 AND lease_token = $5 AND state = 'running' AND $1 >= 0 RETURNING finished_at",
                0,
            )
        };
        let row = sqlx::query(self.sql(sql))
            .bind(delay)
            .bind(kind)
            .bind(message)
            .bind(job.id)
            .bind(&job.lease_token)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            let state = self.job(job.id).await?.map(|j| j.state.as_str().to_owned()).unwrap_or_default();
            return Err(Error::LeaseLost { job: job.id, state });
        };
        self.end_attempt(&mut tx, job, kind, Some(message)).await?;
        tx.commit().await?;
        self.signals.finished.notify_waiters();
        Ok(if retry { FailOutcome::Retry { run_after: row.try_get(0)? } } else { FailOutcome::Failed })
    }

    /// Gives the job back to the queue without counting the attempt (a worker shutting
    /// down). Returns false if the lease was no longer held.
    pub async fn release(&self, job: &ClaimedJob) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(self.sql(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_after = {now}, lease_token = NULL,
                 lease_owner = NULL, lease_expires = NULL, updated_at = {now}
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        ))
        .bind(job.id)
        .bind(&job.lease_token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            // The attempt row goes too: the number is reused by the next claim.
            sqlx::query("DELETE FROM job_attempts WHERE job_id = $1 AND attempt = $2")
                .bind(job.id)
                .bind(job.attempt)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Cancels a queued or running job (a running one's worker learns it at its next
    /// heartbeat and records nothing). Returns the job's state afterwards.
    pub async fn cancel(&self, id: i64, reason: &str) -> Result<JobState> {
        sqlx::query(self.sql(
            "UPDATE jobs SET state = 'cancelled', error_kind = 'cancelled', error = $1, finished_at = {now},
                 lease_expires = NULL, updated_at = {now}
             WHERE id = $2 AND state IN ('queued', 'running')",
        ))
        .bind(reason)
        .bind(id)
        .execute(self.pool())
        .await?;
        self.job(id).await?.map(|j| j.state).ok_or(Error::JobNotFound(id))
    }

    /// One job.
    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }

    /// Jobs, newest first, optionally in one state.
    pub async fn list_jobs(&self, state: Option<JobState>, page: &PageRequest) -> Result<Page<Job>> {
        let limit = page.checked_limit()?;
        let before = match &page.cursor {
            Some(c) => crate::cursor::decode_id(c)?,
            None => i64::MAX,
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id < $1 {} ORDER BY id DESC LIMIT {}",
            if state.is_some() { "AND state = $2" } else { "" },
            limit + 1
        )))
        .bind(before);
        if let Some(s) = state {
            q = q.bind(s.as_str());
        }
        let mut items = q.fetch_all(self.pool()).await?.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = next_cursor(&mut items, limit, |j| crate::cursor::encode_id(j.id));
        Ok(Page { items, next_cursor })
    }

    /// Jobs per state (for metrics: queue depth).
    pub async fn queue_depth(&self) -> Result<Vec<(JobState, i64)>> {
        sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(self.pool())
            .await?
            .iter()
            .filter_map(|r| {
                let s: String = r.try_get(0).ok()?;
                Some(Ok((JobState::parse(&s)?, r.try_get::<i64, _>(1).ok()?)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        assert_eq!(backoff(1, 0), Duration::from_millis(1000));
        assert_eq!(backoff(1, u32::MAX), Duration::from_millis(1000 + u64::from(u32::MAX) % 1001));
        assert!(backoff(2, 7) >= Duration::from_secs(2) && backoff(2, 7) <= Duration::from_secs(4));
        assert!(backoff(60, 1) <= Duration::from_secs(300));
        assert!(backoff(60, 1) >= Duration::from_secs(150));
    }

    #[test]
    fn dedup_key_ignores_option_order() {
        let a = NewJob::scan("r", serde_json::json!({"a": 1, "b": [1, 2]}), Priority::CI);
        let b = NewJob::scan("r", serde_json::from_str(r#"{"b":[1,2],"a":1}"#).unwrap(), Priority::BACKGROUND);
        assert_eq!(a.dedup_key(), b.dedup_key());
        assert_ne!(a.dedup_key(), NewJob::scan("r2", serde_json::json!({}), Priority::CI).dedup_key());
    }
}
