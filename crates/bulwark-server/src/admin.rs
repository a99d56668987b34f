//! Users, tokens and the audit log.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use bulwark_api::{AuditEntry, Page, Problem, Role, TokenCreate, TokenCreated, TokenInfo, User, UserCreate};
use bulwark_store::auth::{TokenRecord, UserRecord};
use serde::Deserialize;

use crate::error::{Result, conflict, forbidden, invalid, not_found};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query};
use crate::util::{check_len, check_name, cursor, decode_cursor, decode_id_cursor, page_size, parse_id, time};
use crate::{AppState, Caller, auth};

/// Longest token lifetime, in days: a token that never expires is a credential nobody
/// remembers to rotate.
const MAX_TOKEN_DAYS: u32 = 366;

fn user(u: UserRecord) -> User {
    User { name: u.name, role: Role::parse(&u.role).unwrap_or(Role::Viewer), created_at: time(u.created_at) }
}

fn token(t: &TokenRecord) -> TokenInfo {
    TokenInfo {
        id: t.id.to_string(),
        name: t.name.clone(),
        user: t.user.clone(),
        created_at: time(t.created_at),
        expires_at: time(t.expires_at),
    }
}

/// A page of a list; `after` is where the next page starts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (1-500, default 50).
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Users, by name.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    responses((status = 200, description = "Users", body = Page<User>)))]
pub async fn list_users(State(state): State<AppState>, ApiQuery(q): ApiQuery<PageQuery>) -> Result<Json<Page<User>>> {
    let limit = page_size(q.limit)?;
    let after = decode_cursor("users", q.cursor.as_deref())?;
    let mut rows = state.store().users(after.as_deref(), limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("users", &rows[rows.len() - 1].name)
    });
    Ok(Json(Page { items: rows.into_iter().map(user).collect(), next_cursor: next }))
}

/// Creates a user (then `POST /tokens` with `user` gives them a token).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserCreate,
    responses((status = 201, description = "Created", body = User),
              (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<UserCreate>,
) -> Result<(StatusCode, Json<User>)> {
    check_name("/name", &body.name)?;
    let created = state.store().create_user(&body.name, body.role.as_str()).await?;
    let created = created.ok_or_else(|| conflict(format!("user {:?} exists", body.name)))?;
    Ok((StatusCode::CREATED, Json(user(created))))
}

/// Creates a token, for the caller or (admins) for another user. The secret is in this
/// answer only; the store keeps its hash.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = TokenCreate,
    responses((status = 201, description = "Created; `token` is shown only now", body = TokenCreated)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<TokenCreate>,
) -> Result<(StatusCode, Json<TokenCreated>)> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    check_len("/name", &body.name, 128)?;
    if body.name.trim().is_empty() {
        return Err(invalid("/name", "must not be empty"));
    }
    if body.expires_in_days == 0 || body.expires_in_days > MAX_TOKEN_DAYS {
        return Err(invalid("/expires_in_days", format!("1 to {MAX_TOKEN_DAYS}")));
    }
    let user_id = match &body.user {
        None => me.user_id,
        Some(name) if *name == me.user => me.user_id,
        Some(_) if me.role != Role::Admin => return Err(forbidden("only admins create tokens for other users")),
        Some(name) => {
            check_name("/user", name)?;
            state.store().user_by_name(name).await?.ok_or_else(|| invalid("/user", "no such user"))?.id
        }
    };
    let secret = auth::new_secret()?;
    let expires = crate::util::now_ms() + i64::from(body.expires_in_days) * 86_400_000;
    let record = state.store().create_token(user_id, &body.name, &auth::secret_hash(&secret), expires).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { info: token(&record), token: secret })))
}

/// Filters of `GET /tokens`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Only this user's tokens (admins; others see only their own).
    pub user: Option<String>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Live tokens (never their secrets): the caller's, or everyone's for admins.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", params(TokenQuery),
    responses((status = 200, description = "Tokens", body = Page<TokenInfo>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<Page<TokenInfo>>> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    let limit = page_size(q.limit)?;
    let before = decode_id_cursor("tokens", q.cursor.as_deref())?;
    let user = match (me.role, q.user) {
        (Role::Admin, u) => u,
        (_, Some(u)) if u != me.user => return Err(forbidden("only admins list other users' tokens")),
        _ => Some(me.user.clone()),
    };
    let mut rows = state.store().tokens(user.as_deref(), before, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("tokens", &rows[rows.len() - 1].id.to_string())
    });
    Ok(Json(Page { items: rows.iter().map(token).collect(), next_cursor: next }))
}

/// Revokes a token: the caller's own, or any for admins.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "No such live token", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    let id = parse_id("id", &id)?;
    let record = state.store().token(id).await?.filter(|t| t.revoked_at.is_none());
    let record = record.ok_or_else(|| not_found("token", &id.to_string()))?;
    if record.user_id != me.user_id && me.role != Role::Admin {
        // Someone else's token is as good as absent: do not confirm that it exists.
        return Err(not_found("token", &id.to_string()));
    }
    state.store().revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters of `GET /audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this user's actions.
    pub actor: Option<String>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The audit log, newest first: every mutating request with who, what, when, from where
/// and the outcome.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "Entries", body = Page<AuditEntry>)))]
pub async fn audit(State(state): State<AppState>, ApiQuery(q): ApiQuery<AuditQuery>) -> Result<Json<Page<AuditEntry>>> {
    let limit = page_size(q.limit)?;
    let before = decode_id_cursor("audit", q.cursor.as_deref())?;
    if let Some(a) = &q.actor
        && a != "anonymous"
    {
        check_name("actor", a)?;
    }
    let mut rows = state.store().audit(q.actor.as_deref(), before, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("audit", &rows[rows.len() - 1].id.to_string())
    });
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id.to_string(),
            at: time(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            source: r.source,
            status: r.status,
            outcome: r.outcome,
        })
        .collect();
    Ok(Json(Page { items, next_cursor: next }))
}

/// Creates the first admin and a token for it when the store has no user yet; the secret is
/// returned once for the operator. `None` when users exist.
pub async fn bootstrap_admin(store: &bulwark_store::Store, days: u32) -> Result<Option<String>> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let Some(admin) = store.create_user("admin", Role::Admin.as_str()).await? else { return Ok(None) };
    let secret = auth::new_secret()?;
    let expires = crate::util::now_ms() + i64::from(days.clamp(1, MAX_TOKEN_DAYS)) * 86_400_000;
    store.create_token(admin.id, "bootstrap", &auth::secret_hash(&secret), expires).await?;
    Ok(Some(secret))
}
