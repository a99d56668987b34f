//! HTTP for the registry client: scheme selection, retries, redirects and auth.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bulwark_core::DockerRef;
use ureq::Body;
use ureq::http::Response;

use super::RegistryOptions;
use super::auth::{self, Challenge};
use super::credentials::{self, Credentials};
use crate::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for response headers, and longest idle gap while reading a body.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 10;
/// Error and token bodies are small; never buffer more than this of them.
const MAX_SMALL_BODY: u64 = 1 << 20;

/// When and how long to wait before retrying a request.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub retries: u32,
    pub base_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one fails the request at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { retries: 3, base_delay: Duration::from_millis(200), max_retry_after: Duration::from_secs(10) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// Authorization header values by (registry, scope), shared by clones of a store.
type TokenCache = Arc<Mutex<HashMap<(String, String), String>>>;

/// A connection to one repository of one registry.
pub(crate) struct Client {
    agent: ureq::Agent,
    /// The registry as named in the reference (`docker.io`, `localhost:5000`).
    pub registry: String,
    pub repository: String,
    /// The host (and port) the API is served from.
    api_host: String,
    allow_http: bool,
    /// Decided on the first request that gets an HTTP answer.
    scheme: Mutex<Option<Scheme>>,
    opts: RegistryOptions,
    /// Loaded on the first 401 so anonymous pulls never run credential helpers.
    credentials: Mutex<Option<Option<Credentials>>>,
    tokens: TokenCache,
    retry: RetryPolicy,
}

enum Method<'a> {
    Get,
    /// A form POST.
    Post(&'a str),
}

impl Client {
    pub fn new(reference: &DockerRef, opts: &RegistryOptions) -> Result<Client> {
        let tls = ureq::tls::TlsConfig::builder().disable_verification(opts.insecure).build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("bulwark/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(READ_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .tls_config(tls)
            .build()
            .new_agent();
        let api_host = if reference.registry == "docker.io" {
            "registry-1.docker.io".to_owned()
        } else {
            reference.registry.clone()
        };
        let allow_http = opts.insecure || reference.is_loopback();
        Ok(Client {
            agent,
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            api_host,
            allow_http,
            scheme: Mutex::new((!allow_http).then_some(Scheme::Https)),
            opts: opts.clone(),
            credentials: Mutex::new(None),
            tokens: Arc::default(),
            retry: RetryPolicy::default(),
        })
    }

    /// The scope a pull from this repository needs.
    fn pull_scope(&self) -> String {
        format!("repository:{}:pull", self.repository)
    }

    fn cache_key(&self) -> (String, String) {
        (self.registry.clone(), self.pull_scope())
    }

    /// GETs a registry API path, authenticating and following redirects. Returns the
    /// final response whatever its status, except a 401 after authenticating, which
    /// is an [`Error::Auth`].
    pub fn get(&self, path: &str, accept: Option<&str>, what: &str) -> Result<Response<Body>> {
        let cached = self.tokens.lock().unwrap_or_else(PoisonError::into_inner).get(&self.cache_key()).cloned();
        let mut authorization = cached;
        let mut fresh = false;
        loop {
            let resp = self.get_following(path, accept, authorization.as_deref(), what)?;
            if resp.status() != 401 {
                return Ok(resp);
            }
            if fresh {
                let anonymous = self.cached_credentials()?.is_none();
                let detail = error_detail(resp);
                let message = if anonymous {
                    format!(
                        "anonymous access to {what} was refused{detail} (hint: give credentials with --username/--password or `docker login`)"
                    )
                } else {
                    format!("the registry refused the credentials for {what}{detail}")
                };
                return Err(Error::Auth { registry: self.registry.clone(), message });
            }
            let challenges: Vec<Challenge> = resp
                .headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(auth::parse_challenges)
                .collect();
            drop(resp);
            let value = self.authenticate(&challenges)?;
            self.tokens.lock().unwrap_or_else(PoisonError::into_inner).insert(self.cache_key(), value.clone());
            authorization = Some(value);
            fresh = true;
        }
    }

    fn cached_credentials(&self) -> Result<Option<Credentials>> {
        let mut slot = self.credentials.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let creds = credentials::load(&self.registry, &self.opts)?;
        *slot = Some(creds.clone());
        Ok(creds)
    }

    /// Answers a 401's challenges with an `Authorization` header value.
    fn authenticate(&self, challenges: &[Challenge]) -> Result<String> {
        let fail = |message: String| Error::Auth { registry: self.registry.clone(), message };
        let creds = self.cached_credentials()?;
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let token = self.fetch_token(bearer, creds.as_ref())?;
            return Ok(format!("Bearer {token}"));
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            return match creds {
                Some(c) => Ok(c.basic_header()),
                None => Err(fail(
                    "the registry requires credentials (hint: give --username/--password or run `docker login`)".into(),
                )),
            };
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(fail(if schemes.is_empty() {
            "the registry answered 401 without a usable WWW-Authenticate challenge".into()
        } else {
            format!("unsupported authentication scheme(s): {}", schemes.join(", "))
        }))
    }

    /// Gets a bearer token from the challenge's realm (Docker token spec; OAuth2
    /// refresh-token grant for identity tokens).
    fn fetch_token(&self, challenge: &Challenge, creds: Option<&Credentials>) -> Result<String> {
        let fail = |message: String| Error::Auth { registry: self.registry.clone(), message };
        let realm = challenge
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| fail("the registry's Bearer challenge has no realm".into()))?;
        let realm_scheme = realm.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match realm_scheme.as_deref() {
            Some("https") => {}
            Some("http") if self.allow_http => {}
            _ => {
                return Err(fail(format!(
                    "refusing token realm {} (only https, or http for loopback and insecure registries)",
                    strip_query(realm)
                )));
            }
        }
        let service = challenge.param("service").filter(|s| !s.is_empty());
        let default_scope = self.pull_scope();
        let scope = challenge.param("scope").filter(|s| !s.is_empty()).unwrap_or(&default_scope);
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            params.push(("service", s));
        }
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            params.push(("scope", s));
        }
        let realm_host = strip_query(realm);
        if let Some(Credentials::IdentityToken { token, .. }) = creds {
            let mut form = params.clone();
            form.extend([("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", "bulwark")]);
            let body = encode_pairs(&form);
            let resp = self.send_retrying(realm, Method::Post(&body), None, None, "token request")?;
            match resp.status().as_u16() {
                // Token servers without OAuth2 support: fall back to GET with Basic.
                404 | 405 => {}
                _ => return self.token_from(resp, &realm_host),
            }
        }
        let mut query = params.clone();
        if let Some(Credentials::Basic { username, .. }) = creds {
            query.push(("account", username.as_str()));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", encode_pairs(&query));
        let basic = creds.map(Credentials::basic_header);
        let resp = self.send_retrying(&url, Method::Get, None, basic.as_deref(), "token request")?;
        self.token_from(resp, &realm_host)
    }

    fn token_from(&self, resp: Response<Body>, realm: &str) -> Result<String> {
        let fail = |message: String| Error::Auth { registry: self.registry.clone(), message };
        let status = resp.status().as_u16();
        if status != 200 {
            let detail = error_detail(resp);
            return Err(fail(match status {
                401 | 403 => format!("token server {realm} rejected the credentials (HTTP {status}){detail}"),
                _ => format!("token server {realm} answered HTTP {status}{detail}"),
            }));
        }
        let body = read_small(resp).map_err(|e| fail(format!("reading token from {realm}: {e}")))?;
        auth::parse_token_response(&body).map_err(|m| fail(format!("{realm}: {m}")))
    }

    /// GETs `path` from the registry and follows redirects; `Authorization` is sent
    /// only to the registry's own origin.
    fn get_following(
        &self,
        path: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
        what: &str,
    ) -> Result<Response<Body>> {
        let mut resp = self.send_retrying(path, Method::Get, accept, authorization, what)?;
        let mut url = self.url(path);
        let registry_origin = origin(&url);
        let mut authorization = authorization;
        for _ in 0..MAX_REDIRECTS {
            if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok()) else {
                return Ok(resp);
            };
            let next = resolve_location(&url, location).ok_or_else(|| Error::Registry {
                registry: self.registry.clone(),
                message: format!("{what}: cannot follow redirect to {}", strip_query(location)),
            })?;
            drop(resp);
            if origin(&next) != registry_origin {
                authorization = None;
            }
            resp = self.send_retrying(&next, Method::Get, accept, authorization, what)?;
            url = next;
        }
        Err(Error::Registry { registry: self.registry.clone(), message: format!("{what}: too many redirects") })
    }

    /// The URL of a registry path with the current scheme (HTTPS while undecided).
    fn url(&self, path: &str) -> String {
        let scheme = self.scheme.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(Scheme::Https);
        format!("{}://{}{path}", scheme.as_str(), self.api_host)
    }

    /// Sends one request, retrying 429, 5xx and connection errors. `target` is either a
    /// registry path (starting with `/`) or an absolute URL.
    fn send_retrying(
        &self,
        target: &str,
        method: Method<'_>,
        accept: Option<&str>,
        authorization: Option<&str>,
        what: &str,
    ) -> Result<Response<Body>> {
        let mut attempt = 0;
        let outcome = loop {
            let outcome = if target.starts_with('/') {
                self.send_to_registry(target, &method, accept, authorization)
            } else {
                self.send_once(target, &method, accept, authorization)
            };
            let delay = match &outcome {
                Ok(resp) if is_retryable_status(resp.status().as_u16()) => match retry_after(resp) {
                    Some(d) if d > self.retry.max_retry_after => None,
                    Some(d) => Some(d),
                    None => Some(self.backoff(attempt)),
                },
                Ok(_) => None,
                Err(e) if is_transient(e) => Some(self.backoff(attempt)),
                Err(_) => None,
            };
            match delay {
                Some(d) if attempt < self.retry.retries => {
                    drop(outcome);
                    std::thread::sleep(d);
                    attempt += 1;
                }
                _ => break outcome,
            }
        };
        outcome.map_err(|e| {
            let host = if target.starts_with('/') { self.api_host.clone() } else { strip_query(target) };
            Error::Registry {
                registry: self.registry.clone(),
                message: format!("{what}: request to {host} failed: {e}"),
            }
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry.base_delay.saturating_mul(1 << attempt.min(10))
    }

    /// Sends a request to a registry path, deciding HTTPS or HTTP on first contact.
    fn send_to_registry(
        &self,
        path: &str,
        method: &Method<'_>,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let decided = *self.scheme.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(scheme) = decided {
            let url = format!("{}://{}{path}", scheme.as_str(), self.api_host);
            return self.send_once(&url, method, accept, authorization);
        }
        let https = format!("https://{}{path}", self.api_host);
        match self.send_once(&https, method, accept, authorization) {
            Ok(resp) => {
                *self.scheme.lock().unwrap_or_else(PoisonError::into_inner) = Some(Scheme::Https);
                Ok(resp)
            }
            Err(tls_err) => {
                let http = format!("http://{}{path}", self.api_host);
                match self.send_once(&http, method, accept, authorization) {
                    // A TLS server answering plain HTTP (Go: "Client sent an HTTP
                    // request to an HTTPS server"): the TLS error is the real story,
                    // e.g. an untrusted certificate.
                    Ok(resp) if resp.status() == 400 => Err(tls_err),
                    Ok(resp) => {
                        *self.scheme.lock().unwrap_or_else(PoisonError::into_inner) = Some(Scheme::Http);
                        Ok(resp)
                    }
                    Err(e) if is_transient(&e) => Err(e),
                    Err(_) => Err(tls_err),
                }
            }
        }
    }

    fn send_once(
        &self,
        url: &str,
        method: &Method<'_>,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        match method {
            Method::Get => {
                let mut req = self.agent.get(url);
                if let Some(a) = accept {
                    req = req.header("Accept", a);
                }
                if let Some(a) = authorization {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            Method::Post(form) => {
                let mut req = self.agent.post(url).content_type("application/x-www-form-urlencoded");
                if let Some(a) = authorization {
                    req = req.header("Authorization", a);
                }
                req.send(*form)
            }
        }
    }
}

fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && !matches!(status, 501 | 505)
}

/// Connection-level failures worth another try.
fn is_transient(e: &ureq::Error) -> bool {
    match e {
        // TLS failures (bad certificate, not TLS at all) surface as InvalidData: final.
        ureq::Error::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
        ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) => true,
        _ => false,
    }
}

/// `Retry-After` in seconds (HTTP dates are not parsed; they fall back to backoff).
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// The `Content-Length` of a response, if it has a valid one.
pub(crate) fn content_length(resp: &Response<Body>) -> Option<u64> {
    resp.headers().get("content-length")?.to_str().ok()?.trim().parse().ok()
}

/// Reads a small body (error document, token), refusing more than [`MAX_SMALL_BODY`].
fn read_small(resp: Response<Body>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    resp.into_body().into_reader().take(MAX_SMALL_BODY + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_SMALL_BODY {
        return Err(std::io::Error::other(format!("response larger than {MAX_SMALL_BODY} bytes")));
    }
    Ok(buf)
}

/// `": CODE: message; ..."` from a registry's JSON error body, or `""`.
pub(crate) fn error_detail(resp: Response<Body>) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorEntry>,
        // Some token servers answer `{"details": "..."}` or OAuth2 `error_description`.
        #[serde(default)]
        details: Option<String>,
        #[serde(default)]
        error_description: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let Ok(body) = read_small(resp) else { return String::new() };
    let Ok(errors) = serde_json::from_slice::<Errors>(&body) else { return String::new() };
    let mut parts: Vec<String> = errors
        .errors
        .iter()
        .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
            (false, false) => format!("{}: {}", e.code, e.message),
            (false, true) => e.code.clone(),
            _ => e.message.clone(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    parts.extend(errors.details.into_iter().chain(errors.error_description));
    if parts.is_empty() {
        return String::new();
    }
    let text: String = parts.join("; ").chars().filter(|c| !c.is_control()).take(500).collect();
    format!(": {text}")
}

/// An error for an unexpected status, with the registry's error message if any.
pub(crate) fn status_error(registry: &str, what: &str, resp: Response<Body>) -> Error {
    let status = resp.status();
    let retry = retry_after(&resp).map(|d| format!(" (the registry asks to retry after {}s)", d.as_secs()));
    let detail = error_detail(resp);
    Error::Registry {
        registry: registry.to_owned(),
        message: format!("{what}: HTTP {status}{detail}{}", retry.unwrap_or_default()),
    }
}

/// A URL without its query and fragment (signed storage URLs carry credentials there).
fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// `scheme://host[:port]`, lower-cased, with the default port made explicit.
fn origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Userinfo is never sent by us, but a Location could carry one.
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_ascii_lowercase();
    let has_port = match host.rfind(':') {
        Some(i) => !host[i..].contains(']'),
        None => false,
    };
    if has_port {
        format!("{scheme}://{host}")
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        format!("{scheme}://{host}:{port}")
    }
}

/// Resolves a `Location` header against the URL that was requested.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.is_empty() {
        return None;
    }
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Some(location.to_owned());
    }
    if location.contains("://") {
        // Another scheme (ftp://, file://): not followed.
        return None;
    }
    let (scheme, rest) = base.split_once("://")?;
    if let Some(net) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{net}"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = strip_query(&rest[authority.len()..]);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    Some(format!("{scheme}://{authority}{dir}/{location}"))
}

fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", auth::encode_component(k), auth::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(origin("https://Reg.io/v2/x"), "https://reg.io:443");
        assert_eq!(origin("https://reg.io:443/v2/x"), "https://reg.io:443");
        assert_eq!(origin("http://127.0.0.1:5000/v2/"), "http://127.0.0.1:5000");
        assert_eq!(origin("http://[::1]/v2/"), "http://[::1]:80");
        assert_eq!(origin("http://[::1]:5000/v2/"), "http://[::1]:5000");
        assert_ne!(origin("http://reg.io/a"), origin("https://reg.io/a"));
        assert_ne!(origin("https://reg.io.evil.com/a"), origin("https://reg.io/a"));
        assert_ne!(origin("https://reg.io@evil.com/a"), origin("https://reg.io/a"));
    }

    #[test]
    fn locations() {
        let base = "https://reg.io/v2/app/blobs/sha256:abc?x=1";
        assert_eq!(resolve_location(base, "https://s3.aws/b?sig=1").unwrap(), "https://s3.aws/b?sig=1");
        assert_eq!(resolve_location(base, "//cdn.io/b").unwrap(), "https://cdn.io/b");
        assert_eq!(resolve_location(base, "/other").unwrap(), "https://reg.io/other");
        assert_eq!(resolve_location(base, "rel").unwrap(), "https://reg.io/v2/app/blobs/rel");
        assert_eq!(resolve_location(base, "file:///etc/passwd"), None);
        assert_eq!(strip_query("https://s3/b?X-Amz-Signature=s"), "https://s3/b");
    }

    #[test]
    fn retryable() {
        assert!(is_retryable_status(429) && is_retryable_status(503) && is_retryable_status(500));
        assert!(!is_retryable_status(404) && !is_retryable_status(501) && !is_retryable_status(401));
    }
}
