//! Stored policies with versions, and the exception workflow (migration 0100). The server
//! checks policy texts and decides who may do what; this module only keeps the records.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Backend, Result, Store};

/// One version of a stored policy. Versions count from 1 per name and never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub name: String,
    pub version: u32,
    /// `sha256:` of the text.
    pub digest: String,
    pub yaml: String,
    pub created_by: String,
    pub created_at: i64,
    pub comment: Option<String>,
}

/// An exception request and its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub id: i64,
    pub finding: String,
    pub scope_image: Option<String>,
    pub scope_package: Option<String>,
    pub scope_path: Option<String>,
    pub reason: String,
    /// The last day it applies, `YYYY-MM-DD`.
    pub expires: String,
    /// `pending`, `approved` or `denied`.
    pub state: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
}

const POLICY_COLUMNS: &str = "name, version, digest, yaml, created_by, created_at, comment";
const EXCEPTION_COLUMNS: &str = "id, finding, scope_image, scope_package, scope_path, reason, expires, state, \
     requested_by, requested_at, decided_by, decided_at, comment";

fn policy(row: &AnyRow) -> Result<PolicyRecord> {
    let version: i64 = row.try_get(1)?;
    Ok(PolicyRecord {
        name: row.try_get(0)?,
        version: u32::try_from(version)
            .map_err(|_| crate::Error::Corrupt { what: "policy version".into(), message: version.to_string() })?,
        digest: row.try_get(2)?,
        yaml: row.try_get(3)?,
        created_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
        comment: row.try_get(6)?,
    })
}

fn exception(row: &AnyRow) -> Result<ExceptionRecord> {
    Ok(ExceptionRecord {
        id: row.try_get(0)?,
        finding: row.try_get(1)?,
        scope_image: row.try_get(2)?,
        scope_package: row.try_get(3)?,
        scope_path: row.try_get(4)?,
        reason: row.try_get(5)?,
        expires: row.try_get(6)?,
        state: row.try_get(7)?,
        requested_by: row.try_get(8)?,
        requested_at: row.try_get(9)?,
        decided_by: row.try_get(10)?,
        decided_at: row.try_get(11)?,
        comment: row.try_get(12)?,
    })
}

impl Store {
    /// Adds the next version of policy `name` (1 for a new one).
    pub async fn add_policy_version(
        &self,
        name: &str,
        digest: &str,
        yaml: &str,
        created_by: &str,
        comment: Option<&str>,
    ) -> Result<PolicyRecord> {
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Two servers adding a version of the same policy at once: one waits for the
            // other, so versions stay consecutive and unique.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(name).execute(&mut *tx).await?;
        }
        let next: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 FROM policy_versions WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let sql = format!(
            "INSERT INTO policy_versions (name, version, digest, yaml, created_by, created_at, comment) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {POLICY_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(next)
            .bind(digest)
            .bind(yaml)
            .bind(created_by)
            .bind(crate::unix_ms())
            .bind(comment)
            .fetch_one(&mut *tx)
            .await?;
        let record = policy(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Version `version` of policy `name`, or its latest.
    pub async fn policy_version(&self, name: &str, version: Option<u32>) -> Result<Option<PolicyRecord>> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM policy_versions WHERE name = $1 AND ($2 = 0 OR version = $2) \
             ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(i64::from(version.unwrap_or(0)))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(policy).transpose()
    }

    /// Every version of policy `name`, newest first.
    pub async fn policy_versions(&self, name: &str) -> Result<Vec<PolicyRecord>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM policy_versions WHERE name = $1 ORDER BY version DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name).fetch_all(self.pool()).await?;
        rows.iter().map(policy).collect()
    }

    /// The latest version of every policy, by name, after `after`.
    pub async fn policies(&self, after: Option<&str>, limit: u32) -> Result<Vec<PolicyRecord>> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM policy_versions p WHERE name > $1 AND version = \
             (SELECT MAX(version) FROM policy_versions q WHERE q.name = p.name) ORDER BY name LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(policy).collect()
    }

    /// Records a pending exception request (`id`, `state` and the decision are ignored).
    pub async fn request_exception(&self, e: &ExceptionRecord) -> Result<ExceptionRecord> {
        let sql = format!(
            "INSERT INTO policy_exceptions (finding, scope_image, scope_package, scope_path, reason, expires, state, \
             requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING {EXCEPTION_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&e.finding)
            .bind(&e.scope_image)
            .bind(&e.scope_package)
            .bind(&e.scope_path)
            .bind(&e.reason)
            .bind(&e.expires)
            .bind(&e.requested_by)
            .bind(crate::unix_ms())
            .fetch_one(self.pool())
            .await?;
        exception(&row)
    }

    /// One exception.
    pub async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>> {
        let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM policy_exceptions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(exception).transpose()
    }

    /// Approves or denies a pending exception; `None` when it is not pending (any more), so
    /// two deciders racing cannot both decide.
    pub async fn decide_exception(
        &self,
        id: i64,
        approve: bool,
        by: &str,
        comment: Option<&str>,
    ) -> Result<Option<ExceptionRecord>> {
        let done = sqlx::query(
            "UPDATE policy_exceptions SET state = $1, decided_by = $2, decided_at = $3, comment = $4 \
             WHERE id = $5 AND state = 'pending'",
        )
        .bind(if approve { "approved" } else { "denied" })
        .bind(by)
        .bind(crate::unix_ms())
        .bind(comment)
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.exception(id).await
    }

    /// Exceptions newest first, with ids below `before`, optionally in one state.
    pub async fn exceptions(
        &self,
        state: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExceptionRecord>> {
        let sql = format!(
            "SELECT {EXCEPTION_COLUMNS} FROM policy_exceptions WHERE ($1 = '' OR state = $1) AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.unwrap_or(""))
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(exception).collect()
    }

    /// Approved exceptions that have not expired on `today` (`YYYY-MM-DD`, compared as text,
    /// which orders such dates correctly).
    pub async fn live_exceptions(&self, today: &str) -> Result<Vec<ExceptionRecord>> {
        let sql = format!(
            "SELECT {EXCEPTION_COLUMNS} FROM policy_exceptions WHERE state = 'approved' AND expires >= $1 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(today).fetch_all(self.pool()).await?;
        rows.iter().map(exception).collect()
    }
}
