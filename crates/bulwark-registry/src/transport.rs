//! HTTP for the registry client: scheme selection, retries, redirects and auth.

use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use ureq::Body;
use ureq::http::{self, Method, Response};

use crate::auth::{self, AuthScheme, Challenge, TokenCache, TokenKey};
use crate::credentials::{self, Credentials};
use crate::error::is_retryable_status;
use crate::{Error, Limit, RegistryOptions, Result, RetryPolicy, TransportKind};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for response headers, and longest idle gap while reading a body.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 10;
/// Error and token bodies are small; never buffer more than this of them.
const MAX_SMALL_BODY: u64 = 1 << 20;
/// Idle connections kept per registry host, for concurrent requests to reuse.
const POOL_PER_HOST: usize = 16;

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

/// One request to the registry. `target` is a registry path (starting with `/`) or an
/// absolute URL (an upload location).
pub(crate) struct Req<'a> {
    pub method: Method,
    pub target: &'a str,
    pub accept: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub content_range: Option<String>,
    pub body: Option<&'a [u8]>,
    /// Space-separated token scopes the request needs (`repository:app:pull`).
    pub scope: &'a str,
    /// The object, for errors.
    pub what: &'a str,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, target: &'a str, scope: &'a str, what: &'a str) -> Req<'a> {
        Req { method, target, accept: None, content_type: None, content_range: None, body: None, scope, what }
    }
}

/// The HTTP side of a [`crate::Client`]: one registry, any repository.
pub(crate) struct Transport {
    agent: ureq::Agent,
    /// The registry as named in the reference (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// The host (and port) the API is served from.
    api_host: String,
    allow_http: bool,
    /// Decided on the first request that gets an HTTP answer.
    scheme: Mutex<Option<Scheme>>,
    opts: RegistryOptions,
    /// Loaded on the first 401 so anonymous pulls never run credential helpers.
    credentials: Mutex<Option<Option<Credentials>>>,
    pub tokens: TokenCache,
    retry: RetryPolicy,
}

impl Transport {
    pub fn new(registry: &str, opts: &RegistryOptions) -> Transport {
        let tls = ureq::tls::TlsConfig::builder().disable_verification(opts.insecure).build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("bulwark/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(opts.read_timeout.unwrap_or(READ_TIMEOUT)))
            .timeout_per_read(Some(opts.read_timeout.unwrap_or(READ_TIMEOUT)))
            .tls_config(tls)
            // Attachments are fetched 8 at a time and blobs copied up to 16 at a time; the
            // default of 3 idle connections per host made most of those requests open a
            // new connection (and, over HTTPS, do a new handshake).
            .max_idle_connections(64)
            .max_idle_connections_per_host(POOL_PER_HOST)
            .build()
            .new_agent();
        let api_host = if registry == "docker.io" { "registry-1.docker.io".to_owned() } else { registry.to_owned() };
        let allow_http = opts.insecure || is_loopback(registry);
        Transport {
            agent,
            registry: registry.to_owned(),
            api_host,
            allow_http,
            scheme: Mutex::new((!allow_http).then_some(Scheme::Https)),
            opts: opts.clone(),
            credentials: Mutex::new(None),
            tokens: TokenCache::default(),
            retry: opts.retry.clone().unwrap_or_default(),
        }
    }

    /// The absolute URL of a registry path with the current scheme (HTTPS while
    /// undecided), or `target` itself if it is absolute.
    pub fn url(&self, target: &str) -> String {
        if !target.starts_with('/') {
            return target.to_owned();
        }
        let scheme = self.scheme.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(Scheme::Https);
        format!("{}://{}{target}", scheme.as_str(), self.api_host)
    }

    /// Sends a request with authentication, retries and (for GET and HEAD) redirects.
    /// Returns the final response whatever its status, except a 401 after
    /// authenticating, which is an [`Error::Unauthorized`].
    pub fn send(&self, req: &Req<'_>) -> Result<Response<Body>> {
        let mut authorization = self.known_authorization(req.scope)?;
        let mut fresh = false;
        loop {
            let resp = self.send_following(req, authorization.as_deref())?;
            if resp.status() != 401 {
                return Ok(resp);
            }
            if fresh {
                let anonymous = self.cached_credentials()?.is_none();
                let detail = error_detail(resp);
                return Err(Error::Unauthorized {
                    registry: self.registry.clone(),
                    what: req.what.to_owned(),
                    anonymous,
                    detail,
                });
            }
            let challenges: Vec<Challenge> = resp
                .headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(auth::parse_challenges)
                .collect();
            let detail = error_detail(resp);
            authorization = Some(self.authenticate(&challenges, req, authorization.as_deref(), detail)?);
            fresh = true;
        }
    }

    /// Sends a request whose body is streamed from `body` (exactly `len` bytes, sent with
    /// `Content-Length`), once: a stream cannot be replayed, so there is no retry and no
    /// second attempt after a 401. The credentials are those the registry asked for
    /// earlier (the upload session was opened with [`Transport::send`]); a bearer token
    /// that expired meanwhile is renewed first with a `GET` of `req.target` (for an
    /// upload, its status). `target` must be on the registry's origin.
    pub fn send_stream(&self, req: &Req<'_>, body: &mut dyn Read, len: u64) -> Result<Response<Body>> {
        let url = self.url(req.target);
        if origin(&url) != origin(&self.url("/")) {
            return Err(Error::invalid(req.what.to_owned(), format!("{} is not on the registry", strip_query(&url))));
        }
        let mut authorization = self.known_authorization(req.scope)?;
        if authorization.is_none() && matches!(self.tokens.scheme(&self.api_host), Some(AuthScheme::Bearer { .. })) {
            drop(error_detail(self.send(&Req::new(Method::GET, req.target, req.scope, req.what))?));
            authorization = self.known_authorization(req.scope)?;
        }
        let mut builder = http::Request::builder().method(req.method.clone()).uri(url.as_str());
        if let Some(a) = &authorization {
            builder = builder.header("Authorization", a.as_str());
        }
        if let Some(c) = req.content_type {
            builder = builder.header("Content-Type", c);
        }
        if let Some(r) = &req.content_range {
            builder = builder.header("Content-Range", r);
        }
        builder = builder.header("Content-Length", len);
        let request = builder
            .body(ureq::SendBody::from_reader(body))
            .map_err(|e| Error::invalid(req.what.to_owned(), e.to_string()))?;
        let resp = self.agent.run(request).map_err(|e| self.transport_error(req.what, req.target, e))?;
        if resp.status() == 401 {
            let anonymous = self.cached_credentials()?.is_none();
            let detail = error_detail(resp);
            return Err(Error::Unauthorized {
                registry: self.registry.clone(),
                what: req.what.to_owned(),
                anonymous,
                detail,
            });
        }
        Ok(resp)
    }

    /// The `Authorization` a request can start with: a cached token for its scope, or
    /// Basic credentials once the registry has asked for them.
    fn known_authorization(&self, scope: &str) -> Result<Option<String>> {
        match self.tokens.scheme(&self.api_host) {
            None => Ok(None),
            Some(AuthScheme::Basic) => Ok(self.cached_credentials()?.map(|c| c.basic_header())),
            Some(AuthScheme::Bearer { realm, service }) => {
                let key = self.token_key(&realm, &service, scope)?;
                Ok(self.tokens.get(&key))
            }
        }
    }

    fn token_key(&self, realm: &str, service: &str, scope: &str) -> Result<TokenKey> {
        let account = match self.cached_credentials()? {
            None => String::new(),
            Some(c) => bulwark_core::Digest::sha256_of(c.basic_header().as_bytes()).to_string(),
        };
        Ok(TokenKey { realm: realm.to_owned(), service: service.to_owned(), scope: scope.to_owned(), account })
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
    fn authenticate(
        &self,
        challenges: &[Challenge],
        req: &Req<'_>,
        rejected: Option<&str>,
        detail: String,
    ) -> Result<String> {
        let fail = |message: String| Error::Auth { registry: self.registry.clone(), message };
        let creds = self.cached_credentials()?;
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self.fetch_token(bearer, creds.as_ref(), req.scope, rejected);
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            self.tokens.set_scheme(&self.api_host, AuthScheme::Basic);
            return match creds {
                Some(c) => Ok(c.basic_header()),
                None => Err(Error::Unauthorized {
                    registry: self.registry.clone(),
                    what: req.what.to_owned(),
                    anonymous: true,
                    detail,
                }),
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
    /// refresh-token grant for identity tokens) and caches it.
    fn fetch_token(
        &self,
        challenge: &Challenge,
        creds: Option<&Credentials>,
        scope: &str,
        rejected: Option<&str>,
    ) -> Result<String> {
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
        let service = challenge.param("service").unwrap_or_default();
        // The scopes we need, plus any the registry names (an `insufficient_scope`
        // challenge says exactly what it wants).
        let mut scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
        for s in challenge.param("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|ours| scope_covers(ours, s)) {
                scopes.push(s);
            }
        }
        let mut params: Vec<(&str, &str)> = Vec::new();
        if !service.is_empty() {
            params.push(("service", service));
        }
        for s in &scopes {
            params.push(("scope", s));
        }
        let realm_host = strip_query(realm);
        self.tokens
            .set_scheme(&self.api_host, AuthScheme::Bearer { realm: realm.to_owned(), service: service.to_owned() });
        let key = self.token_key(realm, service, scope)?;
        // Another client sharing the cache may have fetched it meanwhile; a token that
        // was just refused is fetched again.
        if let Some(cached) = self.tokens.get(&key)
            && Some(cached.as_str()) != rejected
        {
            return Ok(cached);
        }
        let token = self.request_token(realm, &realm_host, &params, creds)?;
        let authorization = format!("Bearer {}", token.value);
        self.tokens.insert(key, authorization.clone(), token.expires_in);
        Ok(authorization)
    }

    fn request_token(
        &self,
        realm: &str,
        realm_host: &str,
        params: &[(&str, &str)],
        creds: Option<&Credentials>,
    ) -> Result<auth::Token> {
        let what = "token request";
        if let Some(Credentials::IdentityToken { token, .. }) = creds {
            let mut form = params.to_vec();
            form.extend([("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", "bulwark")]);
            let body = encode_pairs(&form);
            let mut req = Req::new(Method::POST, realm, "", what);
            req.content_type = Some("application/x-www-form-urlencoded");
            req.body = Some(body.as_bytes());
            let resp = self.send_retrying(&req, realm, None)?;
            match resp.status().as_u16() {
                // Token servers without OAuth2 support: fall back to GET with Basic.
                404 | 405 => {}
                _ => return self.token_from(resp, realm_host),
            }
        }
        let mut query = params.to_vec();
        if let Some(Credentials::Basic { username, .. }) = creds {
            query.push(("account", username.as_str()));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", encode_pairs(&query));
        let basic = creds.map(Credentials::basic_header);
        let req = Req::new(Method::GET, &url, "", what);
        let resp = self.send_retrying(&req, &url, basic.as_deref())?;
        self.token_from(resp, realm_host)
    }

    fn token_from(&self, resp: Response<Body>, realm: &str) -> Result<auth::Token> {
        let fail = |status: Option<u16>, reason: String| Error::Token {
            registry: self.registry.clone(),
            realm: realm.to_owned(),
            status,
            reason,
        };
        let status = resp.status().as_u16();
        if status != 200 {
            let detail = error_detail(resp);
            return Err(fail(
                Some(status),
                match status {
                    401 | 403 => format!("rejected the credentials (HTTP {status}){detail}"),
                    _ => format!("answered HTTP {status}{detail}"),
                },
            ));
        }
        let body = read_small(resp).map_err(|e| fail(None, format!("reading the token: {e}")))?;
        auth::parse_token_response(&body).map_err(|m| fail(None, m))
    }

    /// Sends `req` and, for GET and HEAD, follows redirects; `Authorization` is sent only
    /// to the registry's own origin.
    fn send_following(&self, req: &Req<'_>, authorization: Option<&str>) -> Result<Response<Body>> {
        let mut url = self.url(req.target);
        let registry_origin = origin(&self.url("/"));
        let mut authorization = authorization.filter(|_| origin(&url) == registry_origin);
        let mut resp = self.send_retrying(req, req.target, authorization)?;
        if !matches!(req.method, Method::GET | Method::HEAD) {
            return Ok(resp);
        }
        // The scheme may have been decided by the first request.
        if req.target.starts_with('/') {
            url = self.url(req.target);
        }
        for _ in 0..MAX_REDIRECTS {
            if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok()) else {
                return Ok(resp);
            };
            let next = resolve_location(&url, location).ok_or_else(|| Error::Redirect {
                registry: self.registry.clone(),
                what: req.what.to_owned(),
                reason: format!("cannot follow redirect to {}", strip_query(location)),
            })?;
            drop(resp);
            if origin(&next) != registry_origin {
                authorization = None;
            }
            resp = self.send_retrying(req, &next, authorization)?;
            url = next;
        }
        Err(Error::Redirect {
            registry: self.registry.clone(),
            what: req.what.to_owned(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Sends one request to `target` (a registry path or an absolute URL), retrying 408,
    /// 429, 5xx and connection errors with backoff.
    fn send_retrying(&self, req: &Req<'_>, target: &str, authorization: Option<&str>) -> Result<Response<Body>> {
        let mut attempt = 0;
        loop {
            let outcome = if target.starts_with('/') {
                self.send_to_registry(req, target, authorization)
            } else {
                self.send_once(req, target, authorization)
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
                _ => return outcome.map_err(|e| self.transport_error(req.what, target, e)),
            }
        }
    }

    fn transport_error(&self, what: &str, target: &str, e: ureq::Error) -> Error {
        let url = strip_query(&self.url(target));
        let kind = transport_kind(&e);
        // A plain-HTTP server answers a TLS handshake with garbage or a hang-up.
        if matches!(kind, TransportKind::Tls | TransportKind::Other)
            && !self.allow_http
            && target.starts_with('/')
            && self.speaks_plain_http()
        {
            return Error::PlainHttp { registry: self.registry.clone() };
        }
        Error::Transport { registry: self.registry.clone(), what: what.to_owned(), url, kind, message: e.to_string() }
    }

    /// Whether the registry answers plain HTTP on its API port: asked only after TLS
    /// failed, to tell "this registry is plain HTTP" from a certificate problem.
    fn speaks_plain_http(&self) -> bool {
        let url = format!("http://{}/v2/", self.api_host);
        match self.agent.get(&url).call() {
            // A TLS server answers plain HTTP with 400 ("client sent an HTTP request to
            // an HTTPS server"): that is a TLS registry with a TLS problem.
            Ok(resp) => resp.status() != 400,
            Err(_) => false,
        }
    }

    /// Equal jitter: half the exponential delay plus a random part of the other half,
    /// so clients that failed together do not retry together.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base_delay.saturating_mul(1 << attempt.min(16)).min(self.retry.max_delay);
        let half = exp / 2;
        let nanos = half.as_nanos().min(u64::MAX as u128) as u64;
        let jitter = if nanos == 0 { 0 } else { random_u64() % (nanos + 1) };
        half + Duration::from_nanos(jitter)
    }

    /// Sends a request to a registry path, deciding HTTPS or HTTP on first contact.
    fn send_to_registry(
        &self,
        req: &Req<'_>,
        path: &str,
        authorization: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let decided = *self.scheme.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(scheme) = decided {
            let url = format!("{}://{}{path}", scheme.as_str(), self.api_host);
            return self.send_once(req, &url, authorization);
        }
        let https = format!("https://{}{path}", self.api_host);
        match self.send_once(req, &https, authorization) {
            Ok(resp) => {
                *self.scheme.lock().unwrap_or_else(PoisonError::into_inner) = Some(Scheme::Https);
                Ok(resp)
            }
            Err(tls_err) => {
                let http = format!("http://{}{path}", self.api_host);
                match self.send_once(req, &http, authorization) {
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
        req: &Req<'_>,
        url: &str,
        authorization: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let mut builder = http::Request::builder().method(req.method.clone()).uri(url);
        if let Some(a) = req.accept {
            builder = builder.header("Accept", a);
        }
        if let Some(a) = authorization {
            builder = builder.header("Authorization", a);
        }
        if let Some(c) = req.content_type {
            builder = builder.header("Content-Type", c);
        }
        if let Some(r) = &req.content_range {
            builder = builder.header("Content-Range", r);
        }
        match req.body {
            Some(body) => self.agent.run(builder.body(body)?),
            None => self.agent.run(builder.body(())?),
        }
    }
}

/// Whether scope `ours` (`type:name:actions`) grants everything `theirs` asks for:
/// the same resource, and every action of theirs among ours. Registries list actions
/// in any order (`push,pull`).
fn scope_covers(ours: &str, theirs: &str) -> bool {
    let split = |s: &str| s.rsplit_once(':').map(|(resource, actions)| (resource.to_owned(), actions.to_owned()));
    match (split(ours), split(theirs)) {
        (Some((r1, a1)), Some((r2, a2))) => {
            r1 == r2 && a2.split(',').filter(|a| !a.is_empty()).all(|a| a1.split(',').any(|b| b == a || b == "*"))
        }
        _ => ours == theirs,
    }
}

fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A random number from the standard library's per-process random hash keys: enough
/// for jitter, without a dependency.
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// Connection-level failures worth another try.
fn is_transient(e: &ureq::Error) -> bool {
    match e {
        // TLS failures (bad certificate, not TLS at all) surface as InvalidData: final.
        ureq::Error::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
        ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) | ureq::Error::BodyStalled => true,
        _ => false,
    }
}

fn transport_kind(e: &ureq::Error) -> TransportKind {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => TransportKind::Tls,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            ) =>
        {
            TransportKind::Connect
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportKind::Timeout,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::TlsRequired => TransportKind::Tls,
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportKind::Connect,
        ureq::Error::Timeout(_) | ureq::Error::BodyStalled => TransportKind::Timeout,
        _ => TransportKind::Other,
    }
}

/// `Retry-After` of a response.
pub(crate) fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    parse_retry_after(resp.headers().get("retry-after")?.to_str().ok()?)
}

/// A `Retry-After` value: delay seconds or an HTTP date (RFC 9110 §10.2.3), as the wait
/// from now (zero for a date in the past). `None` for anything else.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP/1.1 senders must use.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let mut parts = s.split_ascii_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The `Content-Length` of a response, if it has a valid one.
pub(crate) fn content_length(resp: &Response<Body>) -> Option<u64> {
    resp.headers().get("content-length")?.to_str().ok()?.trim().parse().ok()
}

/// A response header as a string.
pub(crate) fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned())
}

/// Reads a small body (error document, token, listing), refusing more than `limit`.
fn read_limited(resp: Response<Body>, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    resp.into_body().into_reader().take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::other(format!("response larger than {limit} bytes")));
    }
    Ok(buf)
}

fn read_small(resp: Response<Body>) -> std::io::Result<Vec<u8>> {
    read_limited(resp, MAX_SMALL_BODY)
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
    let status = resp.status().as_u16();
    let retry_after = retry_after(&resp);
    let detail = error_detail(resp);
    let (registry, what) = (registry.to_owned(), what.to_owned());
    match status {
        401 => Error::Unauthorized { registry, what, anonymous: false, detail },
        403 => Error::Denied { registry, what, detail },
        404 => Error::NotFound { registry, what, detail },
        _ => Error::Status { registry, what, status, detail, retry_after },
    }
}

/// An error for a body over a size limit.
pub(crate) fn too_large(what: &str, size: u64, limit: u64, kind: Limit) -> Error {
    Error::TooLarge { what: what.to_owned(), size, limit, kind }
}

/// A URL without its query and fragment (signed storage URLs carry credentials there).
pub(crate) fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// `scheme://host[:port]`, lower-cased, with the default port made explicit.
pub(crate) fn origin(url: &str) -> String {
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

/// Resolves a `Location` (or `Link`) target against the URL that was requested.
pub(crate) fn resolve_location(base: &str, location: &str) -> Option<String> {
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

pub(crate) fn encode_pairs(pairs: &[(&str, &str)]) -> String {
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
    fn scopes() {
        assert!(scope_covers("repository:a/b:pull,push", "repository:a/b:push,pull"));
        assert!(scope_covers("repository:a/b:pull,push", "repository:a/b:pull"));
        assert!(scope_covers("registry:catalog:*", "registry:catalog:*"));
        assert!(!scope_covers("repository:a/b:pull", "repository:a/b:pull,push"));
        assert!(!scope_covers("repository:a/b:pull", "repository:a/c:pull"));
        assert!(!scope_covers("repository:a:pull", "garbage"));
    }

    #[test]
    fn retryable() {
        assert!(is_retryable_status(429) && is_retryable_status(503) && is_retryable_status(500));
        assert!(is_retryable_status(408));
        assert!(!is_retryable_status(404) && !is_retryable_status(501) && !is_retryable_status(401));
        assert!(!is_retryable_status(403) && !is_retryable_status(400));
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let opts = RegistryOptions {
            retry: Some(RetryPolicy {
                retries: 5,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(400),
                max_retry_after: Duration::from_secs(1),
            }),
            ..Default::default()
        };
        let t = Transport::new("localhost:1", &opts);
        for attempt in 0..8 {
            let full = Duration::from_millis(100 * (1 << attempt)).min(Duration::from_millis(400));
            let d = t.backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} not in [{:?}, {full:?}]", full / 2);
        }
        let samples: std::collections::BTreeSet<Duration> = (0..20).map(|_| t.backoff(3)).collect();
        assert!(samples.len() > 1, "no jitter: {samples:?}");
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 784_111_777);
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1"), None);
        let t = parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").unwrap();
        assert_eq!(t, SystemTime::UNIX_EPOCH);
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 1:2:3 GMT",
            "x y z",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
