//! Every error answer is an RFC 9457 problem (`application/problem+json`) that names the
//! field or parameter at fault; nothing a client sends may produce a 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulwark_api::{PROBLEM_CONTENT_TYPE, Problem};

/// The errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An answer for the client: a 4xx (or 503) with its problem.
    #[error("{}", .0.title)]
    Problem(Box<Problem>),
    #[error("store: {0}")]
    Store(#[from] bulwark_store::Error),
    #[error("reading TLS {what} {path}: {message}")]
    Tls { what: &'static str, path: String, message: String },
    #[error("listening on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        Error::Problem(Box::new(p))
    }
}

/// Shorthands for the problems handlers return.
pub fn not_found(what: &str, id: &str) -> Error {
    Problem::new(404, "not-found", format!("{what} not found")).with_detail(format!("no {what} {id:?}")).into()
}

/// A field at fault: a body field (a JSON pointer, `/…`) is a 422, a parameter a 400.
pub fn invalid(field: &str, message: impl Into<String>) -> Error {
    if field.starts_with('/') {
        Problem::new(422, "invalid-field", "a field of the body is invalid").with_field(field, message).into()
    } else {
        Problem::invalid(field, message).into()
    }
}

pub fn conflict(detail: impl Into<String>) -> Error {
    Problem::new(409, "conflict", "the request conflicts with the current state").with_detail(detail).into()
}

pub fn forbidden(detail: impl Into<String>) -> Error {
    Problem::new(403, "forbidden", "not allowed").with_detail(detail).into()
}

/// A problem as a response, with its status and media type.
pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
    res
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Error::Problem(p) => *p,
            Error::Store(bulwark_store::Error::InvalidQuery { parameter, message }) => {
                Problem::new(400, "invalid-parameter", "a query parameter is invalid").with_field(parameter, message)
            }
            Error::Store(bulwark_store::Error::Report(m)) => {
                Problem::new(422, "invalid-field", "the report cannot be stored").with_field("/report", m)
            }
            Error::Store(bulwark_store::Error::JobNotFound(id)) => {
                Problem::new(404, "not-found", "job not found").with_detail(format!("no job {id}"))
            }
            Error::Store(bulwark_store::Error::Sql(
                ref e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)),
            )) => {
                tracing_log(&Error::Internal(e.to_string()));
                Problem::new(503, "store-unavailable", "the store is unavailable; retry later")
            }
            other => {
                // The cause goes to the server's log, not to the client: it may name paths
                // and statements the client has no business seeing.
                tracing_log(&other);
                Problem::new(500, "internal", "internal error")
            }
        };
        problem_response(problem)
    }
}

fn tracing_log(e: &Error) {
    // The server has no logging framework yet; stderr is the operator's log.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("error: {e}");
    }
}
