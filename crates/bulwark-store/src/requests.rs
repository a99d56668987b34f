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
}

const COLUMNS: &str = "id, job_id, reference, platform, scanners, priority, policy, policy_version, policy_yaml, \
     credential, requested_by, created_at, verdict, evaluated_at";

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
    })
}

impl Store {
    /// Records a request (its `id`, `created_at` and verdict are assigned here).
    pub async fn add_scan_request(&self, r: &ScanRequestRecord) -> Result<ScanRequestRecord> {
        let sql = format!(
            "INSERT INTO scan_requests (job_id, reference, platform, scanners, priority, policy, policy_version, \
             policy_yaml, credential, requested_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
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
        sqlx::query("UPDATE scan_requests SET verdict = $1, evaluated_at = $2 WHERE id = $3 AND verdict IS NULL")
            .bind(verdict)
            .bind(crate::unix_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        let row =
            sqlx::query("SELECT verdict FROM scan_requests WHERE id = $1").bind(id).fetch_one(self.pool()).await?;
        Ok(row.try_get::<Option<String>, _>(0)?.unwrap_or_else(|| verdict.to_owned()))
    }
}
