//! `WWW-Authenticate` challenges, token-server responses and the shared token cache.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One authentication challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lower-cased (`basic`, `bearer`).
    pub scheme: String,
    /// Parameters with lower-cased names.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by lower-case name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses the value(s) of `WWW-Authenticate` headers (RFC 9110 §11.6.1): several
/// challenges separated by commas, each a scheme followed by `name=value` parameters
/// whose values are tokens or quoted strings with backslash escapes. Parameters without
/// a value and token68 credentials are skipped; garbage is skipped rather than fatal.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut p = Parser { chars: &chars, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip(|c| c == ',' || c.is_whitespace());
        if p.at_end() {
            break;
        }
        let scheme = p.token();
        if scheme.is_empty() {
            p.pos += 1;
            continue;
        }
        let mut params = BTreeMap::new();
        loop {
            let save = p.pos;
            p.skip(|c| c == ',' || c.is_whitespace());
            let name = p.token();
            p.skip(|c| c == ' ' || c == '\t');
            if name.is_empty() || p.peek() != Some('=') {
                // The next challenge's scheme (or a token68, or garbage).
                if name.is_empty() && !p.at_end() && p.peek() != Some(',') {
                    // Skip one unexpected character so we always make progress.
                    p.pos += 1;
                    continue;
                }
                p.pos = save;
                break;
            }
            p.pos += 1; // '='
            if p.peek() == Some('=') {
                // token68 padding such as `abc==`: not a parameter.
                p.skip(|c| c == '=');
                continue;
            }
            p.skip(|c| c == ' ' || c == '\t');
            let value = if p.peek() == Some('"') { p.quoted() } else { p.bare_value() };
            params.entry(name.to_ascii_lowercase()).or_insert(value);
        }
        out.push(Challenge { scheme: scheme.to_ascii_lowercase(), params });
    }
    out
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip(&mut self, f: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        self.skip(is_tchar);
        self.chars[start..self.pos].iter().collect()
    }

    /// An unquoted value; lenient: anything up to a comma or whitespace (realms are
    /// sometimes sent unquoted, and URLs are not tokens).
    fn bare_value(&mut self) -> String {
        let start = self.pos;
        self.skip(|c| c != ',' && !c.is_whitespace());
        self.chars[start..self.pos].iter().collect()
    }

    /// A quoted string starting at `"`; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '"' => break,
                '\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.pos += 1;
                    }
                }
                c => out.push(c),
            }
        }
        out
    }
}

/// The JSON a token server answers with (Docker token spec and OAuth2).
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// The longest token accepted: real ones are a few KiB of JWT.
const MAX_TOKEN_LEN: usize = 64 << 10;

/// A bearer token and how long it lives.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    /// Seconds, from `expires_in`; `None` when absent (the Docker spec's default is 60).
    pub expires_in: Option<u64>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("value", &"<redacted>").field("expires_in", &self.expires_in).finish()
    }
}

/// Extracts the bearer token from a token server response. The error is the reason the
/// body is not a usable token (the caller names the realm). A token must be a visible
/// ASCII string without spaces, at most 64 KiB: it goes into a request header.
pub fn parse_token_response(body: &[u8]) -> Result<Token, String> {
    let r: TokenResponse = serde_json::from_slice(body).map_err(|e| format!("token server sent invalid JSON: {e}"))?;
    let value = r
        .token
        .filter(|t| !t.is_empty())
        .or(r.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| "token server response has neither `token` nor `access_token`".to_owned())?;
    if value.len() > MAX_TOKEN_LEN {
        return Err(format!("token is {} bytes, over the limit of {MAX_TOKEN_LEN}", value.len()));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("token holds characters that cannot go into a header".to_owned());
    }
    // `expires_in` is a number of seconds; anything else is ignored (default lifetime).
    let expires_in = r.expires_in.as_ref().and_then(serde_json::Value::as_u64);
    Ok(Token { value, expires_in })
}

/// The key of a cached `Authorization` value: where it came from and for what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub realm: String,
    pub service: String,
    pub scope: String,
    /// A digest of the credentials that got the token, so that clients with different
    /// credentials sharing one cache never use each other's tokens.
    pub account: String,
}

struct CachedToken {
    authorization: String,
    expires: Instant,
}

/// Bearer tokens by realm, service, scope and credentials, shared by every clone and
/// by every [`crate::Client`] given the same cache ([`crate::Client::with_token_cache`]).
/// Thread-safe; tokens are dropped shortly before they expire.
#[derive(Clone, Default)]
pub struct TokenCache {
    inner: Arc<Mutex<HashMap<TokenKey, CachedToken>>>,
    /// How each registry (by API origin) asked to authenticate, so that a new client
    /// sharing the cache sends a cached token on its first request instead of first
    /// collecting a 401.
    schemes: Arc<Mutex<HashMap<String, AuthScheme>>>,
}

/// How a registry last asked us to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthScheme {
    Basic,
    /// A Bearer challenge's realm and service.
    Bearer {
        realm: String,
        service: String,
    },
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").field("tokens", &self.len()).finish()
    }
}

/// Most tokens kept; a server talking to many registries and repositories evicts the
/// oldest beyond this.
const MAX_CACHED_TOKENS: usize = 4096;
/// The Docker token spec's lifetime for tokens without `expires_in`.
const DEFAULT_TOKEN_LIFETIME: u64 = 60;

impl TokenCache {
    /// An empty cache.
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// Tokens held, expired ones included until the next insert.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether the cache holds no token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, key: &TokenKey) -> Option<String> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key).filter(|t| t.expires > Instant::now()).map(|t| t.authorization.clone())
    }

    pub(crate) fn insert(&self, key: TokenKey, authorization: String, expires_in: Option<u64>) {
        let lifetime = expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME);
        // Stop using a token a little before the server stops accepting it.
        let margin = (lifetime / 10).clamp(1, 30);
        let expires = Instant::now() + Duration::from_secs(lifetime.saturating_sub(margin).min(24 * 3600));
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, t| t.expires > now);
        if map.len() >= MAX_CACHED_TOKENS
            && let Some(oldest) = map.iter().min_by_key(|(_, t)| t.expires).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(key, CachedToken { authorization, expires });
    }

    pub(crate) fn scheme(&self, registry: &str) -> Option<AuthScheme> {
        self.schemes.lock().unwrap_or_else(PoisonError::into_inner).get(registry).cloned()
    }

    pub(crate) fn set_scheme(&self, registry: &str, scheme: AuthScheme) {
        let mut map = self.schemes.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CACHED_TOKENS && !map.contains_key(registry) {
            map.clear();
        }
        map.insert(registry.to_owned(), scheme);
    }

    #[cfg(test)]
    fn remove(&self, key: &TokenKey) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

/// Percent-encodes a query or form component (RFC 3986 unreserved characters kept).
pub(crate) use bulwark_core::percent_encode as encode_component;

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: &str) -> Challenge {
        let mut v = parse_challenges(h);
        assert_eq!(v.len(), 1, "{h}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn bearer_with_quoted_commas() {
        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(c.param("scope"), Some("repository:library/alpine:pull,push"));
    }

    #[test]
    fn escapes_spaces_and_case() {
        let c = one(r#"BEARER  Realm = "a\"b\\c" , error="insufficient_scope""#);
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some(r#"a"b\c"#));
        assert_eq!(c.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn multiple_challenges() {
        let v =
            parse_challenges(r#"Basic realm="Registry Realm", Bearer realm="https://x/token",service=reg, Negotiate"#);
        let schemes: Vec<_> = v.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate"]);
        assert_eq!(v[0].param("realm"), Some("Registry Realm"));
        assert_eq!(v[1].param("realm"), Some("https://x/token"));
        assert_eq!(v[1].param("service"), Some("reg"));
    }

    #[test]
    fn token68_and_garbage() {
        let v = parse_challenges("Foo abc==, Basic realm=x");
        assert_eq!(v.last().unwrap().scheme, "basic");
        assert_eq!(v.last().unwrap().param("realm"), Some("x"));
        for junk in ["", ",,,", "=\"", "Bearer realm=\"unterminated", "\"\\", "Basic ,=,", "a=b=c"] {
            let _ = parse_challenges(junk);
        }
        assert_eq!(one("Bearer realm=\"unterminated").param("realm"), Some("unterminated"));
    }

    #[test]
    fn token_responses() {
        let t = parse_token_response(br#"{"token":"t1","expires_in":60}"#).unwrap();
        assert_eq!((t.value.as_str(), t.expires_in), ("t1", Some(60)));
        assert_eq!(parse_token_response(br#"{"access_token":"t2"}"#).unwrap().value, "t2");
        assert_eq!(parse_token_response(br#"{"token":"","access_token":"t3"}"#).unwrap().value, "t3");
        assert_eq!(parse_token_response(br#"{"token":"t4","expires_in":"soon"}"#).unwrap().expires_in, None);
        assert!(parse_token_response(br#"{}"#).is_err());
        assert!(parse_token_response(b"<html>").is_err());
        assert!(parse_token_response(b"\"token\"").is_err());
        assert!(parse_token_response(br#"{"token":"a\r\nX-Injected: 1"}"#).is_err());
        assert!(parse_token_response(br#"{"token":"a b"}"#).is_err());
        assert!(parse_token_response(br#"{"token":42}"#).is_err());
        let long = format!(r#"{{"token":"{}"}}"#, "a".repeat(MAX_TOKEN_LEN + 1));
        assert!(parse_token_response(long.as_bytes()).is_err());
        assert!(!format!("{t:?}").contains("t1"));
    }

    #[test]
    fn token_cache_keys_and_expiry() {
        let cache = TokenCache::new();
        let key = |account: &str| TokenKey {
            realm: "https://auth/token".into(),
            service: "reg".into(),
            scope: "repository:app:pull".into(),
            account: account.into(),
        };
        cache.insert(key("alice"), "Bearer a".into(), Some(300));
        assert_eq!(cache.get(&key("alice")).as_deref(), Some("Bearer a"));
        assert_eq!(cache.get(&key("bob")), None, "another account never gets alice's token");
        // A token that lives one second is never used (the margin takes it all).
        cache.insert(key("carol"), "Bearer c".into(), Some(1));
        assert_eq!(cache.get(&key("carol")), None);
        let clone = cache.clone();
        clone.remove(&key("alice"));
        assert_eq!(cache.get(&key("alice")), None, "clones share one map");
    }

    #[test]
    fn encodes() {
        assert_eq!(encode_component("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}
