//! Users and API tokens of the server (tables of migration 0100; registry credentials are
//! encrypted secrets, [`crate::secrets`]).
//!
//! Tokens are stored as the SHA-256 of their secret only; the server generates the secret,
//! shows it once and gives this module its hash.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// A user of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    /// `admin`, `security`, `ci` or `viewer` (checked by the server).
    pub role: String,
    pub created_at: i64,
}

/// A token's metadata (never its secret), with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    pub user: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.id, t.name, t.user_id, u.name, u.role, t.created_at, t.expires_at, t.revoked_at";

fn user(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord { id: row.try_get(0)?, name: row.try_get(1)?, role: row.try_get(2)?, created_at: row.try_get(3)? })
}

fn token(row: &AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        user_id: row.try_get(2)?,
        user: row.try_get(3)?,
        role: row.try_get(4)?,
        created_at: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
    })
}

impl Store {
    /// Creates a user; `None` when the name is taken.
    pub async fn create_user(&self, name: &str, role: &str) -> Result<Option<UserRecord>> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Ok(None);
        }
        let row = sqlx::query(
            "INSERT INTO users (name, role, created_at) VALUES ($1, $2, $3) RETURNING id, name, role, created_at",
        )
        .bind(name)
        .bind(role)
        .bind(crate::unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        let record = user(&row)?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// The user called `name`.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query("SELECT id, name, role, created_at FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user).transpose()
    }

    /// Users by name, after `after` (a name), at most `limit`.
    pub async fn users(&self, after: Option<&str>, limit: u32) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query("SELECT id, name, role, created_at FROM users WHERE name > $1 ORDER BY name LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user).collect()
    }

    /// How many users there are (the server creates the first admin when there are none).
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(self.pool()).await?.try_get(0)?)
    }

    /// Stores a token of `user_id` by the SHA-256 (hex) of its secret.
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        secret_sha256: &str,
        expires_at: i64,
    ) -> Result<TokenRecord> {
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, secret_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(secret_sha256)
        .bind(crate::unix_ms())
        .bind(expires_at)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        self.token(id).await?.ok_or_else(|| crate::Error::Corrupt { what: "token".into(), message: "vanished".into() })
    }

    /// The token whose secret hashes to `secret_sha256`, whatever its expiry (the server
    /// tells an expired token from an unknown one).
    pub async fn token_by_secret(&self, secret_sha256: &str) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_sha256 = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(secret_sha256).fetch_optional(self.pool()).await?;
        row.as_ref().map(token).transpose()
    }

    /// One token by id.
    pub async fn token(&self, id: i64) -> Result<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(token).transpose()
    }

    /// Tokens (of `user`, or everyone's), newest first, with ids below `before`.
    pub async fn tokens(&self, user: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE ($1 = '' OR u.name = $1) AND t.id < $2 AND t.revoked_at IS NULL ORDER BY t.id DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.unwrap_or(""))
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token).collect()
    }

    /// Revokes a token; false when there is no such live token.
    pub async fn revoke_token(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(crate::unix_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
