//! Secrets the server holds: registry credentials that scans name (`credential`) and
//! signing keys (so CI never sees a private key), sealed in the store with the key-encryption key the server was started with
//! ([`bulwark_store::secrets`]). A secret is accepted once and never returned; without a
//! KEK the server refuses to store one (409 `no-key-encryption-key`), it never stores
//! plaintext.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use bulwark_api::{Credential, CredentialCreate, Page, Problem, SigningKeyCreate, SigningKeyInfo};
use bulwark_store::secrets::{Kek, NewSecret, REGISTRY_CREDENTIAL, SIGNING_KEY, SecretInfo};
use serde::{Deserialize, Serialize};

use crate::admin::PageQuery;
use crate::error::{Error, Result, conflict, invalid, not_found};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::util::{check_len, check_name, cursor, decode_cursor, page_size, time};
use crate::{AppState, Caller, auth};

/// The public facts of a registry credential, kept as the secret's authenticated metadata:
/// changing the registry in the store makes the password fail to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialMeta {
    pub registry: String,
    pub username: String,
}

/// The KEK, or the problem that says the server has none.
pub(crate) fn kek(state: &AppState) -> Result<&Kek> {
    state.kek().ok_or_else(|| {
        Error::from(
            Problem::new(409, "no-key-encryption-key", "the server holds no key-encryption key").with_detail(
                "secrets are stored only encrypted: start the server with --kek-file FILE or BULWARK_KEK (64 hex characters, `openssl rand -hex 32`)",
            ),
        )
    })
}

fn credential(info: SecretInfo) -> Result<Credential> {
    let meta: CredentialMeta = serde_json::from_str(&info.metadata)
        .map_err(|e| Error::Internal(format!("stored credential {:?}: {e}", info.name)))?;
    Ok(Credential {
        name: info.name,
        registry: meta.registry,
        username: meta.username,
        created_by: info.created_by,
        created_at: time(info.created_at),
        kek_id: info.kek_id,
    })
}

/// `host[:port]`, as a reference names a registry.
fn check_registry(s: &str) -> Result<()> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !host.starts_with(['.', '-']);
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(invalid("/registry", "expected a registry host with an optional port, e.g. registry.example:5000"))
    }
}

/// Stores a registry credential, sealed with the server's key-encryption key. The password
/// is in this request only: no answer, list or audit entry ever carries it.
#[utoipa::path(post, path = "/api/v1/credentials", tag = "secrets", request_body = CredentialCreate,
    responses((status = 201, description = "Stored (without the password)", body = Credential),
              (status = 409, description = "The name is taken, or the server has no key-encryption key", body = Problem, content_type = "application/problem+json")))]
pub async fn create_credential(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CredentialCreate>,
) -> Result<(StatusCode, Json<Credential>)> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    check_name("/name", &body.name)?;
    check_registry(&body.registry)?;
    check_len("/username", &body.username, 256)?;
    if body.username.is_empty() || body.username.chars().any(char::is_control) {
        return Err(invalid("/username", "1-256 printable characters"));
    }
    check_len("/password", &body.password, 8192)?;
    if body.password.is_empty() {
        return Err(invalid("/password", "must not be empty"));
    }
    let kek = kek(&state)?;
    let meta = CredentialMeta { registry: body.registry.clone(), username: body.username.clone() };
    let metadata = serde_json::to_string(&meta).map_err(|e| Error::Internal(e.to_string()))?;
    let stored = state
        .store()
        .put_secret(
            kek,
            &NewSecret {
                purpose: REGISTRY_CREDENTIAL,
                name: &body.name,
                metadata: &metadata,
                value: body.password.as_bytes(),
                created_by: &me.user,
            },
        )
        .await?
        .ok_or_else(|| conflict(format!("credential {:?} exists: delete it first to replace it", body.name)))?;
    Ok((StatusCode::CREATED, Json(credential(stored)?)))
}

/// Stored registry credentials by name, without their passwords.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "secrets", params(PageQuery),
    responses((status = 200, description = "Credentials", body = Page<Credential>)))]
pub async fn list_credentials(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<Credential>>> {
    Ok(Json(secret_page(&state, REGISTRY_CREDENTIAL, "credentials", &q, credential).await?))
}

/// Deletes a registry credential. Scans queued with it fail with a clear cause (they are
/// never run without it).
#[utoipa::path(delete, path = "/api/v1/credentials/{name}", tag = "secrets",
    params(("name" = String, Path, description = "Credential name")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_credential(State(state): State<AppState>, ApiPath(name): ApiPath<String>) -> Result<StatusCode> {
    check_name("name", &name)?;
    if !state.store().delete_secret(REGISTRY_CREDENTIAL, &name).await? {
        return Err(not_found("credential", &name));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The public facts of a signing key: its public key (PEM), authenticated with the sealed
/// private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyMeta {
    pub public_key: String,
}

fn signing_key(info: SecretInfo) -> Result<SigningKeyInfo> {
    let meta: SigningKeyMeta = serde_json::from_str(&info.metadata)
        .map_err(|e| Error::Internal(format!("stored signing key {:?}: {e}", info.name)))?;
    Ok(SigningKeyInfo {
        name: info.name,
        public_key: meta.public_key,
        created_by: info.created_by,
        created_at: time(info.created_at),
        kek_id: info.kek_id,
    })
}

/// Generates (no `private_key`) or imports a signing key; the server keeps the private key
/// sealed and answers with the public key only.
#[utoipa::path(post, path = "/api/v1/signing-keys", tag = "secrets", request_body = SigningKeyCreate,
    responses((status = 201, description = "Stored; the public key", body = SigningKeyInfo),
              (status = 409, description = "The name is taken, or the server has no key-encryption key", body = Problem, content_type = "application/problem+json")))]
pub async fn create_signing_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<SigningKeyCreate>,
) -> Result<(StatusCode, Json<SigningKeyInfo>)> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    check_name("/name", &body.name)?;
    if body.password.is_some() && body.private_key.is_none() {
        return Err(invalid("/password", "only with private_key"));
    }
    let kek = kek(&state)?;
    let key = match &body.private_key {
        None => bulwark_sign::keys::SigningKey::generate().map_err(|e| Error::Internal(e.to_string()))?,
        Some(pem) => {
            check_len("/private_key", pem, 64 << 10)?;
            let password = body.password.as_deref().unwrap_or("");
            // The key's own scrypt parameters are bounded by bulwark-sign (at most 256 MiB).
            let (pem, password) = (pem.clone(), password.to_owned());
            tokio::task::spawn_blocking(move || {
                bulwark_sign::keys::SigningKey::from_pem(pem.as_bytes(), password.as_bytes())
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| invalid("/private_key", e.to_string()))?
        }
    };
    let meta = SigningKeyMeta { public_key: key.public_key().to_pem() };
    let metadata = serde_json::to_string(&meta).map_err(|e| Error::Internal(e.to_string()))?;
    let stored = state
        .store()
        .put_secret(
            kek,
            &NewSecret {
                purpose: SIGNING_KEY,
                name: &body.name,
                metadata: &metadata,
                value: key.pkcs8_der(),
                created_by: &me.user,
            },
        )
        .await?
        .ok_or_else(|| conflict(format!("signing key {:?} exists: delete it first to replace it", body.name)))?;
    Ok((StatusCode::CREATED, Json(signing_key(stored)?)))
}

/// Signing keys the server holds, by name: their public keys.
#[utoipa::path(get, path = "/api/v1/signing-keys", tag = "secrets", params(PageQuery),
    responses((status = 200, description = "Signing keys", body = Page<SigningKeyInfo>)))]
pub async fn list_signing_keys(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<SigningKeyInfo>>> {
    Ok(Json(secret_page(&state, SIGNING_KEY, "signing-keys", &q, signing_key).await?))
}

/// One page of the secrets of `purpose`, by name, each as its public view; `kind` names
/// the list in its cursors.
async fn secret_page<T>(
    state: &AppState,
    purpose: &str,
    kind: &str,
    q: &PageQuery,
    view: fn(SecretInfo) -> Result<T>,
) -> Result<Page<T>> {
    let limit = page_size(q.limit)?;
    let after = decode_cursor(kind, q.cursor.as_deref())?;
    let mut rows = state.store().secrets(purpose, after.as_deref(), limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor(kind, &rows[rows.len() - 1].name)
    });
    let items = rows.into_iter().map(view).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, next_cursor: next })
}

/// One signing key's public key (for `bulwark verify --key`).
#[utoipa::path(get, path = "/api/v1/signing-keys/{name}", tag = "secrets",
    params(("name" = String, Path, description = "Signing key name")),
    responses((status = 200, description = "The key's public half", body = SigningKeyInfo)))]
pub async fn get_signing_key(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<SigningKeyInfo>> {
    check_name("name", &name)?;
    let info = state.store().secret_info(SIGNING_KEY, &name).await?.ok_or_else(|| not_found("signing key", &name))?;
    Ok(Json(signing_key(info)?))
}

/// Deletes a signing key (its signatures stay valid for whoever has the public key).
#[utoipa::path(delete, path = "/api/v1/signing-keys/{name}", tag = "secrets",
    params(("name" = String, Path, description = "Signing key name")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_signing_key(State(state): State<AppState>, ApiPath(name): ApiPath<String>) -> Result<StatusCode> {
    check_name("name", &name)?;
    if !state.store().delete_secret(SIGNING_KEY, &name).await? {
        return Err(not_found("signing key", &name));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_host_and_port() {
        for ok in ["registry.example", "localhost:5000", "127.0.0.1:5000", "r-1.example.com:443"] {
            assert!(check_registry(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b", "https://r.example", "r.example:0", "r.example:x", ":5000", "-r", "a b"] {
            assert!(check_registry(bad).is_err(), "{bad}");
        }
    }
}
