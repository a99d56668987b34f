//! Who is calling: bearer tokens (shown once, stored as their SHA-256), roles, the
//! per-route permission check and the per-token rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use bulwark_api::{Permission, Problem, Role};

use crate::error::{Error, Result};

/// The prefix of every token, so secret scanners (ours included) can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "bwk_";

/// The caller of a request that presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub user_id: i64,
    pub role: Role,
    pub token_id: i64,
}

/// What the request presented: nothing, a valid token, or a bad one (unknown, expired,
/// revoked, malformed). A bad token is a 401 even on routes that need none, so a client
/// learns about an expired token at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(Principal),
    Invalid(&'static str),
}

impl Caller {
    /// The name the audit log records.
    pub fn actor(&self) -> String {
        match self {
            Caller::User(p) => p.user.clone(),
            Caller::Anonymous | Caller::Invalid(_) => "anonymous".to_owned(),
        }
    }

    /// Checks `permission`: 401 without a valid token, 403 when the role lacks it.
    pub fn require(&self, permission: Permission) -> Result<Option<&Principal>> {
        match (self, permission) {
            (Caller::Invalid(why), _) => Err(unauthorized(why)),
            (_, Permission::Public) => Ok(self.principal()),
            (Caller::Anonymous, _) => {
                Err(unauthorized("this route needs a token: send `Authorization: Bearer <token>`"))
            }
            (Caller::User(p), _) if p.role.grants(permission) => Ok(Some(p)),
            (Caller::User(p), _) => Err(Problem::new(403, "forbidden", "your role does not allow this")
                .with_detail(format!("role {} lacks the {:?} permission", p.role.as_str(), permission))
                .into()),
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::User(p) => Some(p),
            _ => None,
        }
    }
}

pub fn unauthorized(detail: &str) -> Error {
    Problem::new(401, "unauthorized", "authentication required").with_detail(detail).into()
}

/// A new token secret: the prefix and 256 random bits in hex.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Error::Internal("no randomness for a token".to_owned()))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex(&bytes)))
}

/// The SHA-256 of a secret, hex: what the store keeps.
pub fn secret_hash(secret: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token of an `Authorization: Bearer …` header value, if well-formed.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    let well_formed = token.len() == TOKEN_PREFIX.len() + 64
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit());
    (scheme.eq_ignore_ascii_case("bearer") && well_formed).then_some(token)
}

/// Who the rate limit counts a request against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Token(i64),
    Address(IpAddr),
}

/// A token bucket per caller: `burst` requests at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<Bucket, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter { per_second: f64::from(per_second), burst: f64::from(burst.max(1)), buckets: Mutex::default() }
    }

    /// Takes one request from `bucket`: `Err(seconds to wait)` when it is empty.
    pub fn take(&self, bucket: Bucket) -> Result<(), u64> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            // Forget idle callers rather than grow without bound under a flood of addresses.
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs_f64() * self.per_second < self.burst);
        }
        let (tokens, at) = buckets.entry(bucket).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_checked_for_shape() {
        let t = new_secret().unwrap();
        assert_eq!(bearer(&format!("Bearer {t}")), Some(t.as_str()));
        assert_eq!(bearer(&format!("bearer {t}")), Some(t.as_str()));
        assert_eq!(bearer(&format!("Basic {t}")), None);
        assert_eq!(bearer("Bearer bwk_' OR 1=1 --"), None);
        assert_ne!(secret_hash(&t), t);
    }

    #[test]
    fn roles_need_their_permissions() {
        let user = |role| Caller::User(Principal { user: "u".into(), user_id: 1, role, token_id: 1 });
        assert!(user(Role::Viewer).require(Permission::Submit).is_err());
        assert!(user(Role::Ci).require(Permission::Submit).is_ok());
        assert!(user(Role::Security).require(Permission::Admin).is_err());
        assert!(Caller::Anonymous.require(Permission::Public).is_ok());
        assert!(Caller::Invalid("expired").require(Permission::Public).is_err());
    }

    #[test]
    fn the_rate_limit_refuses_past_the_burst() {
        let l = RateLimiter::new(1, 2);
        let b = Bucket::Token(1);
        assert!(l.take(b).is_ok());
        assert!(l.take(b).is_ok());
        assert_eq!(l.take(b), Err(1));
        assert!(l.take(Bucket::Token(2)).is_ok());
    }
}
