use std::time::Duration;

use bulwark_core::Digest;

/// Which limit of [`crate::Limits`] (or of the caller's) an object went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::Limits::max_manifest_bytes`].
    ManifestBytes,
    /// [`crate::Limits::max_blob_bytes`], or the limit a caller gave for a small blob.
    BlobBytes,
    /// The fixed bound on error documents and token responses (1 MiB).
    ResponseBytes,
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection (refused, unreachable, DNS).
    Connect,
    /// The TLS handshake failed (untrusted or invalid certificate, not TLS at all).
    Tls,
    /// No answer, or no data, within the timeout.
    Timeout,
    /// Anything else: a broken connection, a malformed HTTP response.
    Other,
}

/// Errors from talking to a registry. `registry` is the host as written in the reference
/// (`docker.io`, `localhost:5000`); `what` names the object (manifest reference, blob
/// digest, listing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    /// Credentials could not be found or used: the Docker config, a credential helper,
    /// a challenge that cannot be answered.
    #[error("authentication to {registry} failed: {message}")]
    Auth { registry: String, message: String },
    /// The registry answered 401 after we authenticated (or could not: `anonymous`).
    #[error("{registry}: {}{detail}", unauthorized_text(*anonymous, what))]
    Unauthorized { registry: String, what: String, anonymous: bool, detail: String },
    /// The registry answered 403: the credentials work but lack the permission.
    #[error("{registry}: access to {what} denied (HTTP 403){detail}")]
    Denied { registry: String, what: String, detail: String },
    /// The token server refused, failed, or answered something that is not a token.
    #[error("authentication to {registry} failed: token server {realm}: {reason}")]
    Token { registry: String, realm: String, status: Option<u16>, reason: String },
    #[error("{what} not found in {registry}{detail}")]
    NotFound { registry: String, what: String, detail: String },
    /// An HTTP status the operation does not expect (5xx after retries, 429, other 4xx).
    #[error("{registry}: {what}: HTTP {status}{detail}{}", retry_text(retry_after))]
    Status { registry: String, what: String, status: u16, detail: String, retry_after: Option<Duration> },
    /// No HTTP answer: connection, TLS or timeout.
    #[error("{registry}: {what}: request to {url} failed: {message}")]
    Transport { registry: String, what: String, url: String, kind: TransportKind, message: String },
    /// The registry speaks plain HTTP, which is only used for loopback registries unless
    /// [`crate::RegistryOptions::insecure`] is set.
    #[error("{registry} answers plain HTTP, not HTTPS, and plain HTTP is off for registries outside loopback")]
    PlainHttp { registry: String },
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { what: String, size: u64, limit: u64, kind: Limit },
    #[error("{what}: more than {limit} pages, the limit")]
    TooManyPages { what: String, limit: u32 },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: Digest, actual: Digest },
    /// The body ended early (`actual < expected`) or went on past its size.
    #[error("size mismatch for {what}: expected {expected} bytes, got {actual}")]
    SizeMismatch { what: String, expected: u64, actual: u64 },
    #[error("{registry}: {what}: {reason}")]
    Redirect { registry: String, what: String, reason: String },
}

fn unauthorized_text(anonymous: bool, what: &str) -> String {
    if anonymous {
        format!("anonymous access to {what} was refused (HTTP 401)")
    } else {
        format!("the registry refused the credentials for {what} (HTTP 401)")
    }
}

fn retry_text(retry_after: &Option<Duration>) -> String {
    retry_after.map(|d| format!(" (the registry asks to retry after {}s)", d.as_secs())).unwrap_or_default()
}

impl Error {
    /// An IO error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { context: context.into(), source }
    }

    /// A malformed document or value.
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid { what: what.into(), reason: reason.into() }
    }

    /// The HTTP status behind this error, if the registry answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Denied { .. } => Some(403),
            Error::Status { status, .. } => Some(*status),
            Error::Token { status, .. } => *status,
            _ => None,
        }
    }

    /// Whether trying the whole operation again later may succeed: the registry was
    /// unavailable, rate-limited or unreachable. Auth failures, missing objects, limits
    /// and digest mismatches are permanent. (Requests are already retried inside the
    /// client; this is for job queues that retry operations.)
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Status { status, .. } => is_retryable_status(*status),
            Error::Transport { kind, .. } => *kind != TransportKind::Tls,
            Error::Token { status: Some(s), .. } => is_retryable_status(*s),
            // A body cut off mid-stream by the network.
            Error::Io { source, .. } => {
                matches!(
                    source.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::UnexpectedEof
                )
            }
            _ => false,
        }
    }
}

/// Statuses worth another try: rate limiting, timeouts and server errors other than
/// "not implemented" and "version not supported".
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..600).contains(&status) && !matches!(status, 501 | 505)
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
