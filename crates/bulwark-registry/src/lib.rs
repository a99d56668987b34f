//! A client for the OCI distribution API: what Bulwark reads from and writes to
//! registries.
//!
//! * Pull: manifests by tag or digest (OCI and Docker media types, indexes included),
//!   verified against the digest asked for and the `Docker-Content-Digest` header; blobs
//!   streamed with size and digest verification ([`Client::open_blob`]) or raw for
//!   callers that verify as they decode ([`Client::open_blob_raw`]).
//! * Push: blob uploads (monolithic and chunked), cross-repository mounts, existence
//!   checks by `HEAD`, manifests `PUT` by tag or by digest.
//! * Discovery: tag and catalog listing across `Link` pages, the OCI 1.1 referrers API
//!   with the `sha256-<hex>` tag-schema fallback, `HEAD`-by-tag resolution to a digest.
//! * Transport: HTTPS. Registries on the loopback interface, and any registry when
//!   [`RegistryOptions::insecure`] is set, are tried over HTTPS first and fall back to
//!   plain HTTP when the TLS connection fails; `insecure` also turns off certificate
//!   verification (Docker's insecure-registry semantics). A registry that speaks only
//!   plain HTTP without `insecure` is an [`Error::PlainHttp`], not a TLS riddle.
//! * Auth: anonymous first; on `401` the `WWW-Authenticate` challenge decides between
//!   Basic credentials and a Bearer token from the challenge's realm. Tokens live in a
//!   [`TokenCache`] keyed by realm, service, scope and the credentials that got them,
//!   which clients (and threads) may share.
//! * Credentials: [`RegistryOptions::username`]/[`password`](RegistryOptions::password)
//!   win; else the Docker client config (`auths`, `credHelpers`, `credsStore`).
//! * Retries: 429, 5xx (but 501/505), 408 and connection failures or timeouts are retried
//!   with exponential backoff and jitter, honouring `Retry-After` up to a cap; 4xx answers
//!   (auth, not found) never are. Bodies are not resumed mid-stream.
//! * Redirects (blob storage such as S3) are followed, never forwarding the registry's
//!   `Authorization` header to another origin.
//! * Limits ([`Limits`]): manifest size, blob size, pages of a listing. A hostile registry
//!   gets a typed [`Error`] naming the object and the limit, never an unbounded read.
//!
//! Errors carry fields (status, object, limit) and no command-line wording: the binary
//! maps them to hints.
//!
//! ```no_run
//! use bulwark_registry::{Client, RegistryOptions};
//!
//! let client = Client::new("localhost:5000", &RegistryOptions::default())?;
//! let head = client.resolve("app", "1")?;
//! let manifest = client.get_manifest("app", &head.digest.to_string())?;
//! assert_eq!(manifest.digest, head.digest);
//! # Ok::<(), bulwark_registry::Error>(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

mod auth;
mod client;
mod credentials;
mod error;
mod link;
mod transport;

pub use auth::{Challenge, Token, TokenCache, parse_challenges, parse_token_response};
pub use client::{
    BlobInfo, Client, Descriptor, Manifest, ManifestHead, ManifestPut, Referrers, ReferrersSource, VerifiedBlob,
    referrers_tag,
};
pub use error::{Error, Limit, Result, TransportKind};
pub use link::next_link;
pub use transport::parse_retry_after;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest v2 schema 2 media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The `Accept` header for manifests: OCI and Docker v2 types, never schema 1 (a registry
/// has no reason to convert down to a format we refuse).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Whether `media_type` is one of the manifest types registries serve from `/manifests/`.
pub fn is_manifest_type(media_type: &str) -> bool {
    matches!(media_type, OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_MANIFEST_LIST)
}

/// How to reach and authenticate to registries.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// Allow plain HTTP to any registry (`--insecure-registry`); loopback registries
    /// may always fall back to plain HTTP.
    pub insecure: bool,
    /// Credentials given on the command line; they win over the Docker config file.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The Docker client config to read credentials from; default
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. A path given here
    /// must exist; the default locations may be absent (anonymous access).
    pub docker_config: Option<PathBuf>,
    /// A directory searched for `docker-credential-<name>` helpers before `$PATH`.
    pub credential_helper_dir: Option<PathBuf>,
    /// Size and page limits; `None` means [`Limits::default`].
    pub limits: Option<Limits>,
    /// Retry behaviour; `None` means [`RetryPolicy::default`].
    pub retry: Option<RetryPolicy>,
    /// The longest wait for response headers and the longest idle gap while reading a
    /// body; `None` means 60 seconds. A timeout is retried like a 503.
    pub read_timeout: Option<Duration>,
    /// A token cache to share with every client made from these options (a server's
    /// scans of one registry); `None` gives each client its own.
    pub token_cache: Option<TokenCache>,
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure", &self.insecure)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("docker_config", &self.docker_config)
            .field("credential_helper_dir", &self.credential_helper_dir)
            .field("limits", &self.limits)
            .field("retry", &self.retry)
            .field("read_timeout", &self.read_timeout)
            .field("token_cache", &self.token_cache)
            .finish()
    }
}

/// Bounds on what a registry can make the client read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest or index accepted, in bytes.
    pub max_manifest_bytes: u64,
    /// Largest blob accepted by [`Client::open_blob`] and [`Client::fetch_blob`].
    pub max_blob_bytes: u64,
    /// Most pages followed when listing tags, the catalog or referrers.
    pub max_pages: u32,
    /// Chunk size of chunked blob uploads; blobs up to this size go in one request.
    pub upload_chunk_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The same default as bulwark_image::Limits::max_manifest_bytes.
            max_manifest_bytes: 4 << 20,
            max_blob_bytes: 64 << 30,
            max_pages: 1000,
            upload_chunk_bytes: 16 << 20,
        }
    }
}

/// When and how long to wait before retrying a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first backoff; each retry doubles it, and jitter takes a random part off.
    pub base_delay: Duration,
    /// The longest single backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one fails the request at once with
    /// the registry's wish in the error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
        }
    }
}
