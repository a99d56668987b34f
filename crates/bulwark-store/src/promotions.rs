//! Promotions requested through the server (migration 0201): the request, the job that runs
//! it, and the outcome its worker recorded. The job is a `promote` job of the queue whose
//! options are [`PromoteJobOptions`]; its result, like a scan's, is the report of SRC.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// The job kind of a promotion.
pub const JOB_KIND: &str = "promote";

/// The options of a `promote` job (the job's reference is SRC). Names only: the signing key
/// and the credentials are opened by the worker when it runs the job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteJobOptions {
    /// DST, `registry/repository:tag`.
    pub destination: String,
    /// The stored policy's name and version, and its text (what the worker evaluates).
    pub policy: String,
    pub policy_version: i64,
    pub policy_yaml: String,
    /// The name of a signing key the server holds.
    pub signing_key: String,
    #[serde(default)]
    pub allow_retag: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_credential: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_credential: Option<String>,
    /// `vuln`, `malware`, `secret`, `config`; empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scanners: Vec<String>,
}

/// One `POST /promotions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionRecord {
    /// Assigned by the store.
    pub id: i64,
    pub job_id: i64,
    pub source: String,
    pub destination: String,
    pub policy: String,
    pub policy_version: i64,
    pub signing_key: String,
    pub allow_retag: bool,
    pub source_credential: Option<String>,
    pub destination_credential: Option<String>,
    pub requested_by: String,
    /// Assigned by the store.
    pub created_at: i64,
}

/// What the worker recorded for a promotion job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionOutcome {
    /// `promoted` or `denied`.
    pub outcome: String,
    pub digest: Option<String>,
    /// JSON details (what was copied, signed, attested; or the policy's violations).
    pub detail: String,
    pub recorded_at: i64,
}

const COLUMNS: &str = "id, job_id, source, destination, policy, policy_version, signing_key, allow_retag, \
     source_credential, destination_credential, requested_by, created_at";

fn record(r: &AnyRow) -> Result<PromotionRecord> {
    Ok(PromotionRecord {
        id: r.try_get(0)?,
        job_id: r.try_get(1)?,
        source: r.try_get(2)?,
        destination: r.try_get(3)?,
        policy: r.try_get(4)?,
        policy_version: r.try_get(5)?,
        signing_key: r.try_get(6)?,
        allow_retag: r.try_get::<i64, _>(7)? != 0,
        source_credential: r.try_get(8)?,
        destination_credential: r.try_get(9)?,
        requested_by: r.try_get(10)?,
        created_at: r.try_get(11)?,
    })
}

impl Store {
    /// Records a promotion request (its `id` and `created_at` are assigned here).
    pub async fn add_promotion(&self, p: &PromotionRecord) -> Result<PromotionRecord> {
        let sql = format!(
            "INSERT INTO promotions (job_id, source, destination, policy, policy_version, signing_key, allow_retag, \
             source_credential, destination_credential, requested_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(p.job_id)
            .bind(&p.source)
            .bind(&p.destination)
            .bind(&p.policy)
            .bind(p.policy_version)
            .bind(&p.signing_key)
            .bind(i64::from(p.allow_retag))
            .bind(&p.source_credential)
            .bind(&p.destination_credential)
            .bind(&p.requested_by)
            .bind(crate::unix_ms())
            .fetch_one(self.pool())
            .await?;
        record(&row)
    }

    /// One promotion request.
    pub async fn promotion(&self, id: i64) -> Result<Option<PromotionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM promotions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(record).transpose()
    }

    /// Promotion requests, newest first, with ids below `before`, at most `limit`.
    pub async fn promotions(&self, before: Option<i64>, limit: u32) -> Result<Vec<PromotionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM promotions WHERE id < $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record).collect()
    }

    /// Records (or replaces: a re-run of the job finishes the same promotion) the outcome of
    /// a promotion job.
    pub async fn record_promotion_outcome(&self, job_id: i64, outcome: &PromotionOutcome) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM promotion_outcomes WHERE job_id = $1").bind(job_id).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO promotion_outcomes (job_id, outcome, digest, detail, recorded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(job_id)
        .bind(&outcome.outcome)
        .bind(&outcome.digest)
        .bind(&outcome.detail)
        .bind(crate::unix_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The outcome a promotion job's worker recorded, if any yet.
    pub async fn promotion_outcome(&self, job_id: i64) -> Result<Option<PromotionOutcome>> {
        let row = sqlx::query("SELECT outcome, digest, detail, recorded_at FROM promotion_outcomes WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(PromotionOutcome {
                outcome: r.try_get(0)?,
                digest: r.try_get(1)?,
                detail: r.try_get(2)?,
                recorded_at: r.try_get(3)?,
            })
        })
        .transpose()
    }
}
