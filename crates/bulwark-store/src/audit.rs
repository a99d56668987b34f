//! The server's append-only audit log (migration 0100): this module only inserts and reads.

use sqlx::Row as _;

use crate::{Result, Store};

/// One audit entry: who did what, when, from where, with what outcome. Never a secret:
/// `target` is the request path without its query, `actor` a user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Assigned by the store; ignored by [`Store::append_audit`].
    pub id: i64,
    /// Milliseconds since the Unix epoch; assigned by the store's clock.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub source: String,
    pub status: u16,
    pub outcome: String,
}

impl Store {
    /// Appends an entry, stamped with the store's clock.
    pub async fn append_audit(&self, e: &AuditRecord) -> Result<()> {
        let sql = self.sql(
            "INSERT INTO audit_log (at, actor, action, target, source, status, outcome) VALUES ({now}, $1, $2, $3, $4, $5, $6)",
        );
        sqlx::query(sql)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.source)
            .bind(i64::from(e.status))
            .bind(&e.outcome)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Entries newest first, with ids below `before`, optionally of one actor.
    pub async fn audit(&self, actor: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, source, status, outcome FROM audit_log \
             WHERE ($1 = '' OR actor = $1) AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(actor.unwrap_or(""))
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let status: i64 = r.try_get(6)?;
                Ok(AuditRecord {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    target: r.try_get(4)?,
                    source: r.try_get(5)?,
                    status: u16::try_from(status).unwrap_or(0),
                    outcome: r.try_get(7)?,
                })
            })
            .collect()
    }
}
