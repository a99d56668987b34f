//! The API's scan requests (migration 0100): what was asked, which job runs it, and the
//! verdict once evaluated. Jobs are deduplicated below this: requests for the same image
//! and options share one job, each with its own policy and verdict.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// One `POST /scans`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequestRecord {
    /// Assigned by the store.
    pub id: i64,
    pub job_id: i64,
    pub reference: String,
    pub platform: Option<String>,
    /// Comma-separated scanner names.
    pub scanners: String,
    pub priority: String,
    pub policy: Option<String>,
    pub policy_version: Option<i64>,
    pub policy_yaml: Option<String>,
    pub credential: Option<String>,
    pub requested_by: String,
    /// Assigned by the store.
    pub created_at: i64,
    /// The verdict JSON, once evaluated.
    pub verdict: Option<String>,
    pub evaluated_at: Option<i64>,
    /// Display and gate settings (JSON, migration 0105), if any.
    pub settings: Option<String>,
}

const COLUMNS: &str = "id, job_id, reference, platform, scanners, priority, policy, policy_version, policy_yaml, \
     credential, requested_by, created_at, verdict, evaluated_at, settings";

fn record(r: &AnyRow) -> Result<ScanRequestRecord> {
    Ok(ScanRequestRecord {
        id: r.try_get(0)?,
        job_id: r.try_get(1)?,
        reference: r.try_get(2)?,
        platform: r.try_get(3)?,
        scanners: r.try_get(4)?,
        priority: r.try_get(5)?,
        policy: r.try_get(6)?,
        policy_version: r.try_get(7)?,
        policy_yaml: r.try_get(8)?,
        credential: r.try_get(9)?,
        requested_by: r.try_get(10)?,
        created_at: r.try_get(11)?,
        verdict: r.try_get(12)?,
        evaluated_at: r.try_get(13)?,
        settings: r.try_get(14)?,
    })
}

impl Store {
    /// Records a request (its `id`, `created_at` and verdict are assigned here).
    pub async fn add_scan_request(&self, r: &ScanRequestRecord) -> Result<ScanRequestRecord> {
        let sql = format!(
            "INSERT INTO scan_requests (job_id, reference, platform, scanners, priority, policy, policy_version, \
             policy_yaml, credential, requested_by, created_at, settings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(r.job_id)
            .bind(&r.reference)
            .bind(&r.platform)
            .bind(&r.scanners)
            .bind(&r.priority)
            .bind(&r.policy)
            .bind(r.policy_version)
            .bind(&r.policy_yaml)
            .bind(&r.credential)
            .bind(&r.requested_by)
            .bind(crate::unix_ms())
            .bind(&r.settings)
            .fetch_one(self.pool())
            .await?;
        record(&row)
    }

    /// One request.
    pub async fn scan_request(&self, id: i64) -> Result<Option<ScanRequestRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM scan_requests WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(record).transpose()
    }

    /// Records the verdict of a request once; a verdict already recorded (by another
    /// server that got there first) wins and is returned.
    pub async fn set_scan_verdict(&self, id: i64, verdict: &str) -> Result<String> {
        Ok(self.judge_scan_request(id, verdict, None).await?.0)
    }

    /// Records the verdict of request `id` once, as [`Store::set_scan_verdict`] does, and,
    /// when this call is the one that recorded it, also on its job's result and on the image,
    /// in the same transaction: the scan row gets `image.verdict`, and the image row too while
    /// that result is still the image's latest (a newer result keeps its own verdict). So
    /// `GET /images?verdict=` and `GET /images/{digest}` show the verdicts of server-run
    /// scans as they show those of uploads. Returns the kept verdict JSON and whether this
    /// call recorded it.
    pub async fn judge_scan_request(
        &self,
        id: i64,
        verdict: &str,
        image: Option<&ImageVerdict>,
    ) -> Result<(String, bool)> {
        let mut tx = self.begin_write().await?;
        let now = crate::unix_ms();
        let updated =
            sqlx::query("UPDATE scan_requests SET verdict = $1, evaluated_at = $2 WHERE id = $3 AND verdict IS NULL")
                .bind(verdict)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if updated == 1
            && let Some(v) = image
        {
            let verdict_word = if v.passed { "pass" } else { "fail" };
            sqlx::query("UPDATE scans SET verdict = $1, policy = $2, policy_version = $3 WHERE id = $4")
                .bind(verdict_word)
                .bind(&v.policy)
                .bind(&v.policy_version)
                .bind(v.scan_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE images SET verdict = $1, policy = $2, policy_version = $3 WHERE latest_scan = $4")
                .bind(verdict_word)
                .bind(&v.policy)
                .bind(&v.policy_version)
                .bind(v.scan_id)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query("SELECT verdict FROM scan_requests WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let kept = row.try_get::<Option<String>, _>(0)?.unwrap_or_else(|| verdict.to_owned());
        tx.commit().await?;
        Ok((kept, updated == 1))
    }

    /// Requests with a policy whose job has succeeded but whose verdict is not recorded yet,
    /// oldest first: what a server evaluates without waiting for a client to ask.
    pub async fn unjudged_scan_requests(&self, limit: u32) -> Result<Vec<ScanRequestRecord>> {
        let columns = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM scan_requests r JOIN jobs j ON j.id = r.job_id \
             WHERE r.evaluated_at IS NULL AND r.policy_yaml IS NOT NULL AND j.state = 'succeeded' \
             ORDER BY r.id LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(record).collect()
    }
}

/// A request's verdict as the image and its scan row keep it (the same fields a report's
/// own verdict fills for an upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageVerdict {
    /// The job's result.
    pub scan_id: i64,
    pub passed: bool,
    /// The policy's name.
    pub policy: String,
    /// What names the policy's exact text (its `sha256:` digest).
    pub policy_version: Option<String>,
}
