//! Operations: liveness, readiness (store reachable, migrations applied), Prometheus
//! metrics, the OpenAPI document and its readable page.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulwark_api::{Problem, Readiness};

use crate::AppState;
use crate::error::{Result, problem_response};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the store answers and its schema is exactly what this build expects.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Readiness),
              (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().schema().await {
        Ok(s) if s.pending.is_empty() => Json(Readiness {
            ready: true,
            store: format!("{:?}", state.store().backend()).to_lowercase(),
            schema_version: i64::from(s.applied),
        })
        .into_response(),
        Ok(s) => problem_response(
            Problem::new(503, "not-ready", "migrations are pending").with_detail(format!("pending: {:?}", s.pending)),
        ),
        Err(e) => {
            problem_response(Problem::new(503, "not-ready", "the store is unreachable").with_detail(e.to_string()))
        }
    }
}

/// Prometheus metrics: API latency, requests, the queue and the pool.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response> {
    let mut extra: Vec<(String, f64, &str)> = Vec::new();
    if let Ok(depth) = state.store().queue_depth().await {
        for (s, n) in depth {
            extra.push((format!("bulwark_jobs{{state=\"{}\"}}", s.as_str()), n as f64, "jobs in the queue by state"));
        }
    }
    let pool = state.store().pool();
    extra.push(("bulwark_db_pool_connections".to_owned(), f64::from(pool.size()), "open store connections"));
    extra.push(("bulwark_db_pool_idle".to_owned(), pool.num_idle() as f64, "idle store connections"));
    let mut res = state.0.metrics.render(&extra).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    Ok(res)
}

/// The OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document (application/json)")))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let text = state.0.openapi.get_or_init(crate::openapi::document_json);
    let mut res = (StatusCode::OK, text.clone()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// The OpenAPI document as a readable HTML page.
#[utoipa::path(get, path = "/api/v1/docs", tag = "operations",
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub async fn docs(State(state): State<AppState>) -> Response {
    let text = state.0.openapi.get_or_init(crate::openapi::document_json);
    let html = crate::openapi::html(text);
    let mut res = (StatusCode::OK, html).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res
}
