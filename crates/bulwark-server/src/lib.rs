//! The Bulwark server's HTTP API (`/api/v1`) over the store ([`bulwark_store`]).
//!
//! Every route is declared once in [`routes::table`] with the permission it needs; the
//! router, the permission check and the OpenAPI document's `x-bulwark-permission` all come
//! from that table, and a test fails when a route of the document is missing from it. All
//! errors are `application/problem+json`; limits (body size, page size, per-token rate)
//! answer 413/400/429, never 500.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = bulwark_store::Store::open_data_dir(std::path::Path::new("/var/lib/bulwark")).await?;
//! let state = bulwark_server::AppState::new(store, bulwark_server::ServerConfig::default());
//! let (listener, addr) = bulwark_server::listen::bind("127.0.0.1:8080").await?;
//! bulwark_server::listen::serve(listener, bulwark_server::router(state), None, std::future::pending(),
//!     std::time::Duration::from_secs(10)).await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bulwark_api::{Permission, Problem};
use bulwark_store::Store;

mod admin;
mod auth;
pub mod error;
mod extract;
mod images;
pub mod listen;
mod metrics;
pub mod openapi;
mod ops;
mod policies;
mod promotions;
mod render;
pub mod routes;
mod scans;
pub mod secrets;
mod util;

pub use admin::bootstrap_admin;
pub use auth::{Caller, Principal, new_secret, secret_hash};
pub use error::{Error, Result};
pub use render::render;

/// What the server allows; the `bulwark server` command fills it from flags, environment
/// and its config file.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest request body (a report upload is the largest legitimate one).
    pub max_body_bytes: usize,
    /// Requests per second each token (or, without one, each address) may make on average.
    pub rate_per_second: u32,
    /// Requests a caller may make at once before the average applies.
    pub rate_burst: u32,
    /// Whether `POST /scans` may name sources on the server's own disk or Docker engine
    /// (`oci:`, `dir:`, `docker:` …). Off by default: an API caller must not make the
    /// server read its own files.
    pub allow_local_sources: bool,
    /// The longest `wait` a `GET /scans/{id}` may ask for, in seconds.
    pub max_wait_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 32 << 20,
            rate_per_second: 100,
            rate_burst: 200,
            allow_local_sources: false,
            max_wait_seconds: 60,
        }
    }
}

/// Shared by every request: the store, the settings, the metrics and the rate limiter.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    config: ServerConfig,
    metrics: metrics::Metrics,
    limiter: auth::RateLimiter,
    openapi: OnceLock<String>,
    /// The key-encryption key secrets are sealed with; without one, none can be stored.
    kek: Option<Arc<bulwark_store::secrets::Kek>>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState::with_kek(store, config, None)
    }

    /// A state whose secrets (registry credentials) are sealed with `kek`.
    pub fn with_kek(store: Store, config: ServerConfig, kek: Option<Arc<bulwark_store::secrets::Kek>>) -> AppState {
        let limiter = auth::RateLimiter::new(config.rate_per_second, config.rate_burst);
        AppState(Arc::new(Inner {
            store,
            config,
            metrics: metrics::Metrics::default(),
            limiter,
            openapi: OnceLock::new(),
            kek,
        }))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// The key-encryption key, if the server was given one.
    pub fn kek(&self) -> Option<&bulwark_store::secrets::Kek> {
        self.0.kek.as_deref()
    }
}

/// Records the verdicts of finished server-run scans on their images as their jobs finish
/// (every second), until `stop` turns true: `bulwark server` runs it beside the HTTP server.
/// Several servers may run it against one store; each verdict is recorded once.
pub async fn record_verdicts(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = scans::judge_finished(&state).await {
            util::log(&format!("recording verdicts: {e}"));
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}

/// The whole application: every route of [`routes::table`] behind its permission check,
/// wrapped in the gate (authentication, rate limit, body limit, metrics, audit).
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes::table() {
        let permission = route.permission;
        let handler = route.handler.route_layer(axum::middleware::from_fn_with_state(permission, require_permission));
        router = router.route(route.path, handler);
    }
    router
        .fallback(|| async { error::problem_response(Problem::new(404, "not-found", "no such route")) })
        .method_not_allowed_fallback(|| async {
            error::problem_response(Problem::new(405, "method-not-allowed", "the route does not allow this method"))
        })
        .layer(axum::extract::DefaultBodyLimit::max(state.config().max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

async fn require_permission(State(permission): State<Permission>, req: Request, next: Next) -> Response {
    let caller = req.extensions().get::<Caller>().cloned().unwrap_or(Caller::Anonymous);
    match caller.require(permission) {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Every request passes here: who is calling, the rate limit, the body limit, then the
/// route; afterwards its latency is recorded and, for a mutating method, an audit entry.
async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let target = req.uri().path().to_owned();
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let authorization = req.headers().get(header::AUTHORIZATION).cloned();
    let caller = match authenticate(&state, authorization).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let response = match refusal(&state, &req, &caller, &source) {
        Some(refused) => refused,
        None => {
            req.extensions_mut().insert(caller.clone());
            next.run(req).await
        }
    };
    let status = response.status().as_u16();
    state.0.metrics.observe(method.as_str(), &route, status, started.elapsed());
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let outcome = match status {
            200..=399 => "success",
            401 | 403 => "denied",
            _ => "error",
        };
        let entry = bulwark_store::audit::AuditRecord {
            id: 0,
            at: 0,
            actor: caller.actor(),
            action: format!("{method} {route}"),
            target,
            source,
            status,
            outcome: outcome.to_owned(),
        };
        if let Err(e) = state.store().append_audit(&entry).await {
            // The request already happened; losing its record is an operator's problem to
            // see, not the client's.
            util::log(&format!("audit log: {e}"));
        }
    }
    response
}

/// The caller the `Authorization` header names.
async fn authenticate(state: &AppState, authorization: Option<HeaderValue>) -> Result<Caller> {
    let Some(value) = authorization else { return Ok(Caller::Anonymous) };
    let Some(secret) = value.to_str().ok().and_then(auth::bearer) else {
        return Ok(Caller::Invalid("the Authorization header is not `Bearer bwk_…`"));
    };
    let Some(token) = state.store().token_by_secret(&secret_hash(secret)).await? else {
        return Ok(Caller::Invalid("unknown token"));
    };
    if token.revoked_at.is_some() {
        return Ok(Caller::Invalid("the token was revoked"));
    }
    if token.expires_at <= util::now_ms() {
        return Ok(Caller::Invalid("the token has expired"));
    }
    let Some(role) = bulwark_api::Role::parse(&token.role) else {
        return Ok(Caller::Invalid("the token's user has no known role"));
    };
    Ok(Caller::User(Principal { user: token.user, user_id: token.user_id, role, token_id: token.id }))
}

/// The limits every request meets before its route: the rate limit, then the declared
/// body size. `Some` is the refusal to send.
fn refusal(state: &AppState, req: &Request, caller: &Caller, source: &str) -> Option<Response> {
    let bucket = match caller {
        Caller::User(p) => auth::Bucket::Token(p.token_id),
        _ => match source.parse() {
            Ok(ip) => auth::Bucket::Address(ip),
            Err(_) => auth::Bucket::Token(-1),
        },
    };
    if let Err(wait) = state.0.limiter.take(bucket) {
        let problem = Problem::new(429, "rate-limited", "too many requests").with_detail(format!(
            "the rate limit is {} requests per second per token; retry in {wait} s (rate_per_second)",
            state.config().rate_per_second
        ));
        return Some(with_retry_after(error::problem_response(problem), wait));
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.config().max_body_bytes as u64) {
        let problem = Problem::new(413, "body-too-large", "the request body is too large")
            .with_detail(format!("the limit is {} bytes (max_body_bytes)", state.config().max_body_bytes));
        return Some(error::problem_response(problem));
    }
    None
}

/// A 429 carries `Retry-After`.
fn with_retry_after(mut res: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}
