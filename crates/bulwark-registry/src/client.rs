//! The distribution API operations: manifests, blobs, uploads, listings, referrers.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use bulwark_core::{Algorithm, Digest, DockerRef};
use serde::{Deserialize, Serialize};
use ureq::Body;
use ureq::http::{Method, Response};

use crate::transport::{
    Req, Transport, content_length, encode_pairs, error_detail, header, origin, resolve_location, status_error,
    strip_query, too_large,
};
use crate::{Error, Limit, Limits, MANIFEST_ACCEPT, OCI_INDEX, RegistryOptions, Result, TokenCache};

/// Bodies of listing pages (tags, catalog, referrers) are bounded by this.
const MAX_PAGE_BYTES: u64 = 8 << 20;

/// A client for one registry, any repository. Cheap to clone; clones share the
/// connection pool, the scheme decision, the credentials and the token cache.
/// Thread-safe: a server may use one client from many workers.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    limits: Limits,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("registry", &self.transport.registry).field("limits", &self.limits).finish()
    }
}

/// A manifest (or index) as the registry served it, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    /// The `Content-Type` the registry sent.
    pub media_type: Option<String>,
    /// The digest of `bytes`: the one asked for, when fetched by digest.
    pub digest: Digest,
}

/// What a `HEAD` of a manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Digest,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// What a manifest `PUT` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPut {
    /// The digest the manifest is stored under (verified against the registry's).
    pub digest: Digest,
    /// The `OCI-Subject` header: the registry indexed the manifest's `subject` for the
    /// referrers API. `None` means the client must maintain the tag-schema index.
    pub subject: Option<Digest>,
}

/// A blob's existence and size, from `HEAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub size: Option<u64>,
}

/// An OCI content descriptor as the referrers API and indexes carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Where a list of referrers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The OCI 1.1 referrers API (`/v2/<name>/referrers/<digest>`).
    Api,
    /// The tag schema fallback: an index tagged `<alg>-<hex>`.
    TagSchema,
}

/// The manifests that refer to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrers {
    pub manifests: Vec<Descriptor>,
    pub source: ReferrersSource,
}

/// The tag under which the tag-schema fallback keeps the referrers of `subject`
/// (`sha256:abc…` → `sha256-abc…`), as cosign and the OCI 1.1 spec name it.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().name(), subject.hex())
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

/// Checks a repository name against the distribution spec's grammar, so that it
/// cannot change the request path (`..`, `?`, `#`).
fn check_repo(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        });
    if ok { Ok(()) } else { Err(Error::invalid(format!("repository name {repo:?}"), "not a valid repository name")) }
}

/// Checks a tag or digest used in a path.
fn check_reference(reference: &str) -> Result<()> {
    if reference.parse::<Digest>().is_ok() {
        return Ok(());
    }
    let ok = !reference.is_empty()
        && reference.len() <= 128
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && reference.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok { Ok(()) } else { Err(Error::invalid(format!("tag {reference:?}"), "not a valid tag or digest")) }
}

/// The digest of `buf` with the same algorithm as `like`.
fn digest_like(like: &Digest, buf: &[u8]) -> Digest {
    like.compute_like(buf)
}

/// SHA-256 or SHA-512 of a stream, by ring: its assembly (the same code as BoringSSL's)
/// hashed about 1.6x faster than the `sha2` crate's on the machines we measured, and ring
/// is linked already for TLS. Every blob byte read or uploaded goes through it.
struct Hasher {
    algorithm: Algorithm,
    context: Option<ring::digest::Context>,
}

impl Hasher {
    fn new(like: &Digest) -> Hasher {
        let algorithm = like.algorithm();
        Hasher { algorithm, context: Some(Hasher::context(algorithm)) }
    }

    fn context(algorithm: Algorithm) -> ring::digest::Context {
        ring::digest::Context::new(match algorithm {
            Algorithm::Sha256 => &ring::digest::SHA256,
            Algorithm::Sha512 => &ring::digest::SHA512,
        })
    }

    fn update(&mut self, b: &[u8]) {
        if let Some(c) = &mut self.context {
            c.update(b);
        }
    }

    /// The digest of what was hashed; a second call starts from nothing.
    fn finish(&mut self) -> Digest {
        let context = self.context.take().unwrap_or_else(|| Hasher::context(self.algorithm));
        Digest::from_hasher_output(self.algorithm, context.finish().as_ref())
    }
}

/// A blob body that checks its size and digest as it is read: reading past the expected
/// size, ending early, or ending with other bytes is an error (an `io::Error` wrapping
/// the crate's [`Error`]) instead of end of file. Nothing unverified is ever followed
/// by a clean EOF.
pub struct VerifiedBlob {
    inner: Box<dyn Read + Send>,
    what: String,
    expected: Digest,
    /// The exact size if known (descriptor or `Content-Length`).
    size: Option<u64>,
    limit: u64,
    read: u64,
    hasher: Hasher,
    /// The digest was checked when the declared size was reached.
    verified: bool,
    done: bool,
}

impl fmt::Debug for VerifiedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBlob").field("what", &self.what).field("read", &self.read).finish()
    }
}

impl VerifiedBlob {
    /// The size the registry declared or the caller expected, if any.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    fn fail(&mut self, e: Error) -> std::io::Error {
        self.done = true;
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

impl Read for VerifiedBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.hasher.update(&buf[..n]);
        let bound = self.size.unwrap_or(self.limit);
        if self.read > bound {
            let e = match self.size {
                Some(expected) => Error::SizeMismatch { what: self.what.clone(), expected, actual: self.read },
                None => too_large(&self.what, self.read, self.limit, Limit::BlobBytes),
            };
            return Err(self.fail(e));
        }
        // With a known size the digest is checked as the last byte arrives, before this
        // read is handed out: a consumer that stops at the size (an upload sent with
        // `Content-Length`) never passes on the end of a blob that does not verify.
        let at_end = n > 0 && self.size == Some(self.read);
        if (at_end || n == 0) && !self.verified {
            if let Some(expected) = self.size
                && self.read != expected
            {
                let e = Error::SizeMismatch { what: self.what.clone(), expected, actual: self.read };
                return Err(self.fail(e));
            }
            let actual = self.hasher.finish();
            if actual != self.expected {
                let e = Error::DigestMismatch { what: self.what.clone(), expected: self.expected.clone(), actual };
                return Err(self.fail(e));
            }
            self.verified = true;
        }
        if n == 0 {
            self.done = true;
        }
        Ok(n)
    }
}

/// The body of an upload: the caller's reader, hashed and counted as it is sent, handing
/// out bytes up to `end` (the end of the current request's body). When the declared size
/// is reached the reader must be at its end and the digest must match, or the read fails
/// before the last bytes are passed on; reading less than the size is a failure too.
struct UploadBody<'a> {
    inner: &'a mut dyn Read,
    hasher: Hasher,
    expected: &'a Digest,
    size: u64,
    read: u64,
    end: u64,
    /// Why the body failed; the request it aborted reports this.
    failure: Option<Error>,
    what: &'a str,
}

impl UploadBody<'_> {
    /// At the declared size: nothing more to read, and the digest matches.
    fn check_end(&mut self) -> Result<()> {
        let mut extra = [0u8; 1];
        let more = loop {
            match self.inner.read(&mut extra) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| unwrap_io(e, self.what))?,
            }
        };
        if more > 0 {
            return Err(Error::SizeMismatch {
                what: self.what.to_owned(),
                expected: self.size,
                actual: self.size + more as u64,
            });
        }
        let actual = self.hasher.finish();
        if &actual != self.expected {
            return Err(Error::DigestMismatch { what: self.what.to_owned(), expected: self.expected.clone(), actual });
        }
        Ok(())
    }

    fn fail(&mut self, e: Error) -> std::io::Error {
        let io = std::io::Error::other(e.to_string());
        self.failure = Some(e);
        io
    }
}

impl Read for UploadBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failure.is_some() {
            return Err(std::io::Error::other("upload aborted"));
        }
        let room = usize::try_from(self.end.saturating_sub(self.read)).unwrap_or(usize::MAX).min(buf.len());
        if room == 0 {
            return Ok(0);
        }
        let n = match self.inner.read(&mut buf[..room]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let e = unwrap_io(e, self.what);
                return Err(self.fail(e));
            }
        };
        if n == 0 {
            let e = Error::SizeMismatch { what: self.what.to_owned(), expected: self.size, actual: self.read };
            return Err(self.fail(e));
        }
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        if self.read == self.size
            && let Err(e) = self.check_end()
        {
            return Err(self.fail(e));
        }
        Ok(n)
    }
}

impl Client {
    /// A client for `registry` (a host and optional port as written in references;
    /// `docker.io` is served from `registry-1.docker.io`).
    /// Uses [`RegistryOptions::token_cache`] when set.
    pub fn new(registry: &str, opts: &RegistryOptions) -> Result<Client> {
        Client::with_token_cache(registry, opts, opts.token_cache.clone().unwrap_or_default())
    }

    /// A client that shares `tokens` with other clients: a server keeps one cache for
    /// every registry it talks to.
    pub fn with_token_cache(registry: &str, opts: &RegistryOptions, tokens: TokenCache) -> Result<Client> {
        if registry.is_empty() || registry.bytes().any(|b| b.is_ascii_whitespace() || b"/?#@".contains(&b)) {
            return Err(Error::invalid(format!("registry {registry:?}"), "not a host[:port]"));
        }
        let mut transport = Transport::new(registry, opts);
        transport.tokens = tokens;
        Ok(Client { transport: Arc::new(transport), limits: opts.limits.unwrap_or_default() })
    }

    /// A client for the registry of `reference`.
    pub fn for_reference(reference: &DockerRef, opts: &RegistryOptions) -> Result<Client> {
        Client::new(&reference.registry, opts)
    }

    /// The registry as named when the client was made.
    pub fn registry(&self) -> &str {
        &self.transport.registry
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The token cache (shared with clones and with clients given the same cache).
    pub fn token_cache(&self) -> &TokenCache {
        &self.transport.tokens
    }

    fn send(&self, req: &Req<'_>) -> Result<Response<Body>> {
        self.transport.send(req)
    }

    fn name(&self, repo: &str, reference: &str) -> String {
        let sep = if reference.parse::<Digest>().is_ok() { '@' } else { ':' };
        format!("{}/{repo}{sep}{reference}", self.transport.registry)
    }

    // -----------------------------------------------------------------------------------
    // Pull

    /// Fetches a manifest or index by tag or digest, refusing more than
    /// [`Limits::max_manifest_bytes`]. The bytes are checked against the digest asked
    /// for and against the registry's `Docker-Content-Digest` header.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        check_repo(repo)?;
        check_reference(reference)?;
        let what = format!("manifest {}", self.name(repo, reference));
        let path = format!("/v2/{repo}/manifests/{reference}");
        let scope = pull_scope(repo);
        let mut req = Req::new(Method::GET, &path, &scope, &what);
        req.accept = Some(MANIFEST_ACCEPT);
        let resp = self.send(&req)?;
        if resp.status() != 200 {
            return Err(status_error(&self.transport.registry, &what, resp));
        }
        let media_type = header(&resp, "content-type");
        let header_digest = header(&resp, "docker-content-digest");
        let limit = self.limits.max_manifest_bytes;
        if let Some(len) = content_length(&resp)
            && len > limit
        {
            return Err(too_large(&what, len, limit, Limit::ManifestBytes));
        }
        let mut bytes = Vec::new();
        resp.into_body()
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {what}"), e))?;
        if bytes.len() as u64 > limit {
            return Err(too_large(&what, bytes.len() as u64, limit, Limit::ManifestBytes));
        }
        let digest = match reference.parse::<Digest>() {
            Ok(want) => {
                let actual = digest_like(&want, &bytes);
                if actual != want {
                    return Err(Error::DigestMismatch { what, expected: want, actual });
                }
                actual
            }
            Err(_) => Digest::sha256_of(&bytes),
        };
        if let Some(h) = header_digest.filter(|h| !h.is_empty()) {
            let claimed = parse_digest_header(&h, &what)?;
            let actual = digest_like(&claimed, &bytes);
            if actual != claimed {
                return Err(Error::DigestMismatch {
                    what: format!("{what} (Docker-Content-Digest header)"),
                    expected: claimed,
                    actual,
                });
            }
        }
        Ok(Manifest { bytes, media_type, digest })
    }

    /// `HEAD` of a manifest: `None` if the registry does not have it. Registries that
    /// answer without a `Docker-Content-Digest` header get a `GET` instead, so the digest
    /// is always the manifest's own.
    pub fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>> {
        check_repo(repo)?;
        check_reference(reference)?;
        let what = format!("manifest {}", self.name(repo, reference));
        let path = format!("/v2/{repo}/manifests/{reference}");
        let scope = pull_scope(repo);
        let mut req = Req::new(Method::HEAD, &path, &scope, &what);
        req.accept = Some(MANIFEST_ACCEPT);
        let resp = self.send(&req)?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            _ => return Err(status_error(&self.transport.registry, &what, resp)),
        }
        let media_type = header(&resp, "content-type");
        let size = content_length(&resp);
        let claimed = header(&resp, "docker-content-digest").filter(|h| !h.is_empty());
        let wanted = reference.parse::<Digest>().ok();
        match (claimed, wanted) {
            (Some(h), wanted) => {
                let digest = parse_digest_header(&h, &what)?;
                if let Some(w) = wanted
                    && w != digest
                {
                    return Err(Error::DigestMismatch {
                        what: format!("{what} (Docker-Content-Digest header)"),
                        expected: w,
                        actual: digest,
                    });
                }
                Ok(Some(ManifestHead { digest, media_type, size }))
            }
            (None, _) => {
                let m = self.get_manifest(repo, reference)?;
                let size = Some(m.bytes.len() as u64);
                Ok(Some(ManifestHead { digest: m.digest, media_type: m.media_type, size }))
            }
        }
    }

    /// Resolves a tag (or digest) to the digest of what it names now, by `HEAD`.
    pub fn resolve(&self, repo: &str, reference: &str) -> Result<ManifestHead> {
        self.head_manifest(repo, reference)?.ok_or_else(|| Error::NotFound {
            registry: self.transport.registry.clone(),
            what: format!("manifest {}", self.name(repo, reference)),
            detail: String::new(),
        })
    }

    /// Opens a blob for streaming without verification, for callers that verify size
    /// and digest as they decode. `size` is checked against `Content-Length`.
    /// Returns the body and the length the registry declared.
    pub fn open_blob_raw(
        &self,
        repo: &str,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        check_repo(repo)?;
        let what = format!("blob {digest} in {}/{repo}", self.transport.registry);
        let path = format!("/v2/{repo}/blobs/{digest}");
        let scope = pull_scope(repo);
        let resp = self.send(&Req::new(Method::GET, &path, &scope, &what))?;
        if resp.status() != 200 {
            return Err(status_error(&self.transport.registry, &what, resp));
        }
        let declared = content_length(&resp);
        if let (Some(len), Some(want)) = (declared, size)
            && len != want
        {
            return Err(Error::SizeMismatch { what, expected: want, actual: len });
        }
        if let Some(len) = declared
            && size.is_none()
            && len > self.limits.max_blob_bytes
        {
            return Err(too_large(&what, len, self.limits.max_blob_bytes, Limit::BlobBytes));
        }
        Ok((Box::new(resp.into_body().into_reader()), declared))
    }

    /// Opens a blob whose reads verify its size and digest (see [`VerifiedBlob`]). A blob
    /// without a known size is bounded by [`Limits::max_blob_bytes`].
    pub fn open_blob(&self, repo: &str, digest: &Digest, size: Option<u64>) -> Result<VerifiedBlob> {
        let (inner, declared) = self.open_blob_raw(repo, digest, size)?;
        Ok(VerifiedBlob {
            inner,
            what: format!("blob {digest} in {}/{repo}", self.transport.registry),
            expected: digest.clone(),
            size: size.or(declared),
            limit: self.limits.max_blob_bytes,
            read: 0,
            hasher: Hasher::new(digest),
            verified: false,
            done: false,
        })
    }

    /// Reads a small blob (a config, a signature payload) into memory, verified,
    /// refusing more than `limit` bytes.
    pub fn fetch_blob(&self, repo: &str, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let mut blob = self.open_blob(repo, digest, None)?;
        let what = blob.what.clone();
        if let Some(len) = blob.size
            && len > limit
        {
            return Err(too_large(&what, len, limit, Limit::BlobBytes));
        }
        blob.limit = blob.limit.min(limit);
        let mut buf = Vec::new();
        blob.read_to_end(&mut buf).map_err(|e| unwrap_io(e, &what))?;
        Ok(buf)
    }

    /// `HEAD` of a blob: `None` if the repository does not have it.
    pub fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<BlobInfo>> {
        self.blob_exists_scoped(repo, digest, &pull_scope(repo))
    }

    fn blob_exists_scoped(&self, repo: &str, digest: &Digest, scope: &str) -> Result<Option<BlobInfo>> {
        check_repo(repo)?;
        let what = format!("blob {digest} in {}/{repo}", self.transport.registry);
        let path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self.send(&Req::new(Method::HEAD, &path, scope, &what))?;
        match resp.status().as_u16() {
            200 => Ok(Some(BlobInfo { size: content_length(&resp) })),
            404 => Ok(None),
            _ => Err(status_error(&self.transport.registry, &what, resp)),
        }
    }

    // -----------------------------------------------------------------------------------
    // Push

    /// Uploads a blob of `size` bytes from `reader`, unless the repository has it already
    /// (`HEAD`). Blobs up to [`Limits::upload_chunk_bytes`] go in one `PUT`; larger ones
    /// in chunks (`PATCH` with `Content-Range`, then `PUT`). What is read is hashed as it
    /// goes: a reader that yields other bytes than `digest` or `size` says aborts the
    /// upload with a mismatch error and the registry never commits the blob.
    pub fn push_blob(&self, repo: &str, digest: &Digest, size: u64, reader: &mut dyn Read) -> Result<()> {
        let scope = push_scope(repo);
        if self.blob_exists_scoped(repo, digest, &scope)?.is_some() {
            return Ok(());
        }
        self.upload_scoped(repo, &scope, digest, size, reader)
    }

    /// Uploads a blob of `size` bytes from `reader` without asking first whether the
    /// repository has it (for a caller that just did). The body is streamed: one `PUT`
    /// up to [`Limits::upload_chunk_bytes`], else `PATCH` requests of that size and a
    /// final `PUT`, each sent as it is read, never buffered whole. What is read is
    /// hashed as it goes, and the last byte is handed to the connection only after the
    /// size and digest check: a reader that yields other bytes than `digest` or `size`
    /// says aborts the upload with a mismatch error, and the registry never commits it.
    /// A streamed request is not retried (its body cannot be replayed).
    pub fn upload_blob(&self, repo: &str, digest: &Digest, size: u64, reader: &mut dyn Read) -> Result<()> {
        self.upload_scoped(repo, &push_scope(repo), digest, size, reader)
    }

    fn upload_scoped(&self, repo: &str, scope: &str, digest: &Digest, size: u64, reader: &mut dyn Read) -> Result<()> {
        let scope = scope.to_owned();
        let location = self.start_upload(repo, &scope, None)?;
        let result = self.upload(repo, &scope, &location, digest, size, reader);
        if result.is_err() {
            // Best effort: leave no upload session behind.
            let _ = self.cancel_upload(&location, &scope);
        }
        result
    }

    /// Uploads an in-memory blob (a config, a signature payload) and returns its
    /// SHA-256 digest.
    pub fn push_blob_bytes(&self, repo: &str, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        self.push_blob(repo, &digest, bytes.len() as u64, &mut &bytes[..])?;
        Ok(digest)
    }

    /// Asks the registry to mount `digest` from repository `from` into `repo` without
    /// copying it. `true` if it did; `false` if it would not (another registry's
    /// policy, or `from` lacks the blob), in which case the caller uploads.
    pub fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        check_repo(repo)?;
        check_repo(from)?;
        // One token for both repositories: push here, pull there.
        let scope = format!("{} {}", push_scope(repo), pull_scope(from));
        let what = format!("mount of blob {digest} from {from} into {}/{repo}", self.transport.registry);
        let query = encode_pairs(&[("mount", &digest.to_string()), ("from", from)]);
        let path = format!("/v2/{repo}/blobs/uploads/?{query}");
        let mut req = Req::new(Method::POST, &path, &scope, &what);
        req.body = Some(b"");
        let resp = self.send(&req)?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                // The registry opened an upload session instead; close it.
                if let Some(location) = header(&resp, "location") {
                    let url = self.location_url(&location, &what)?;
                    let _ = self.cancel_upload(&url, &scope);
                }
                Ok(false)
            }
            _ => Err(status_error(&self.transport.registry, &what, resp)),
        }
    }

    /// Stores a manifest under a tag or its digest. A digest reference must be the
    /// digest of `bytes`; the digest the registry reports must be too.
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Result<ManifestPut> {
        check_repo(repo)?;
        check_reference(reference)?;
        let what = format!("manifest {}", self.name(repo, reference));
        let digest = match reference.parse::<Digest>() {
            Ok(want) => {
                let actual = digest_like(&want, bytes);
                if actual != want {
                    return Err(Error::DigestMismatch { what, expected: want, actual });
                }
                want
            }
            Err(_) => Digest::sha256_of(bytes),
        };
        let path = format!("/v2/{repo}/manifests/{reference}");
        let scope = push_scope(repo);
        let mut req = Req::new(Method::PUT, &path, &scope, &what);
        req.content_type = Some(media_type);
        req.body = Some(bytes);
        let resp = self.send(&req)?;
        if !matches!(resp.status().as_u16(), 200 | 201) {
            return Err(status_error(&self.transport.registry, &what, resp));
        }
        if let Some(h) = header(&resp, "docker-content-digest").filter(|h| !h.is_empty()) {
            let claimed = parse_digest_header(&h, &what)?;
            if claimed.algorithm() == digest.algorithm() && claimed != digest {
                return Err(Error::DigestMismatch {
                    what: format!("{what} (Docker-Content-Digest header)"),
                    expected: digest,
                    actual: claimed,
                });
            }
        }
        let subject = header(&resp, "oci-subject").and_then(|s| s.parse::<Digest>().ok());
        Ok(ManifestPut { digest, subject })
    }

    /// Opens an upload session (`POST`); returns the absolute upload URL.
    fn start_upload(&self, repo: &str, scope: &str, query: Option<&str>) -> Result<String> {
        check_repo(repo)?;
        let what = format!("blob upload to {}/{repo}", self.transport.registry);
        let path = match query {
            Some(q) => format!("/v2/{repo}/blobs/uploads/?{q}"),
            None => format!("/v2/{repo}/blobs/uploads/"),
        };
        let mut req = Req::new(Method::POST, &path, scope, &what);
        req.body = Some(b"");
        let resp = self.send(&req)?;
        if resp.status() != 202 {
            return Err(status_error(&self.transport.registry, &what, resp));
        }
        let location = header(&resp, "location")
            .ok_or_else(|| Error::invalid(what.clone(), "the registry answered 202 without a Location"))?;
        self.location_url(&location, &what)
    }

    /// An upload `Location` as an absolute URL on the registry's own origin: upload
    /// sessions get the registry's credentials, so they never go elsewhere.
    fn location_url(&self, location: &str, what: &str) -> Result<String> {
        let base = self.transport.url("/v2/");
        let url = resolve_location(&base, location).ok_or_else(|| {
            Error::invalid(what.to_owned(), format!("unusable upload location {}", strip_query(location)))
        })?;
        if origin(&url) != origin(&base) {
            return Err(Error::invalid(
                what.to_owned(),
                format!("upload location {} is not on the registry's origin", strip_query(&url)),
            ));
        }
        Ok(url)
    }

    fn upload(
        &self,
        repo: &str,
        scope: &str,
        location: &str,
        digest: &Digest,
        size: u64,
        reader: &mut dyn Read,
    ) -> Result<()> {
        let what = format!("blob {digest} upload to {}/{repo}", self.transport.registry);
        let chunk = self.limits.upload_chunk_bytes.max(1);
        let mut body = UploadBody {
            inner: reader,
            hasher: Hasher::new(digest),
            expected: digest,
            size,
            read: 0,
            end: 0,
            failure: None,
            what: &what,
        };
        let commit = |location: &str| {
            let sep = if location.contains('?') { '&' } else { '?' };
            format!("{location}{sep}{}", encode_pairs(&[("digest", &digest.to_string())]))
        };
        let resp = if size <= chunk {
            // Everything in one request: a monolithic PUT of the streamed body.
            if size == 0 {
                body.check_end()?;
            }
            body.end = size;
            let url = commit(location);
            let mut req = Req::new(Method::PUT, &url, scope, &what);
            req.content_type = Some("application/octet-stream");
            self.send_streamed(&req, &mut body, size)?
        } else {
            let mut location = location.to_owned();
            while body.read < size {
                let start = body.read;
                body.end = start + chunk.min(size - start);
                let len = body.end - start;
                let mut req = Req::new(Method::PATCH, &location, scope, &what);
                req.content_type = Some("application/octet-stream");
                req.content_range = Some(format!("{}-{}", start, body.end - 1));
                let resp = self.send_streamed(&req, &mut body, len)?;
                if resp.status() != 202 {
                    return Err(status_error(&self.transport.registry, &what, resp));
                }
                if let Some(next) = header(&resp, "location") {
                    location = self.location_url(&next, &what)?;
                }
                drop(error_detail(resp));
            }
            // Every byte was checked before the last one left (`UploadBody`); the commit
            // carries no body, so it can be retried like any request.
            let url = commit(&location);
            let mut req = Req::new(Method::PUT, &url, scope, &what);
            req.content_type = Some("application/octet-stream");
            req.body = Some(b"");
            self.send(&req)?
        };
        if resp.status() != 201 {
            return Err(status_error(&self.transport.registry, &what, resp));
        }
        if let Some(h) = header(&resp, "docker-content-digest").filter(|h| !h.is_empty()) {
            let claimed = parse_digest_header(&h, &what)?;
            if claimed != *digest {
                return Err(Error::DigestMismatch {
                    what: format!("{what} (Docker-Content-Digest header)"),
                    expected: digest.clone(),
                    actual: claimed,
                });
            }
        }
        Ok(())
    }

    /// Sends `len` bytes of `body` with `req`; a failure of the body (a mismatch, or the
    /// source failing) is the error, rather than the aborted request it caused.
    fn send_streamed(&self, req: &Req<'_>, body: &mut UploadBody<'_>, len: u64) -> Result<Response<Body>> {
        let sent = self.transport.send_stream(req, body, len);
        match body.failure.take() {
            Some(e) => Err(e),
            None => sent,
        }
    }

    fn cancel_upload(&self, url: &str, scope: &str) -> Result<()> {
        let what = "blob upload cancel";
        let _ = self.send(&Req::new(Method::DELETE, url, scope, what))?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Listings

    /// Every tag of `repo`, following `Link` pages of `page_size` (`n=`) up to
    /// [`Limits::max_pages`] pages.
    pub fn list_tags(&self, repo: &str, page_size: Option<u32>) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        check_repo(repo)?;
        let what = format!("tag list of {}/{repo}", self.transport.registry);
        let mut path = format!("/v2/{repo}/tags/list");
        if let Some(n) = page_size {
            path.push_str(&format!("?n={n}"));
        }
        let mut out = Vec::new();
        self.paginate(&path, &pull_scope(repo), &what, None, None, |body| {
            let page: Tags = serde_json::from_slice(body).map_err(|e| Error::invalid(what.clone(), e.to_string()))?;
            out.extend(page.tags.unwrap_or_default());
            Ok(())
        })?;
        Ok(out)
    }

    /// Every repository of the registry (`/v2/_catalog`), following `Link` pages.
    pub fn catalog(&self, page_size: Option<u32>) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let what = format!("catalog of {}", self.transport.registry);
        let mut path = "/v2/_catalog".to_owned();
        if let Some(n) = page_size {
            path.push_str(&format!("?n={n}"));
        }
        let mut out = Vec::new();
        self.paginate(&path, "registry:catalog:*", &what, None, None, |body| {
            let page: Catalog =
                serde_json::from_slice(body).map_err(|e| Error::invalid(what.clone(), e.to_string()))?;
            out.extend(page.repositories.unwrap_or_default());
            Ok(())
        })?;
        Ok(out)
    }

    /// GETs `path` and the pages its `Link: <…>; rel="next"` headers chain to, handing
    /// each body to `page`. Links must stay on the registry's origin.
    /// `first` is the response to `path` if the caller already has it.
    fn paginate(
        &self,
        path: &str,
        scope: &str,
        what: &str,
        accept: Option<&str>,
        mut first: Option<Response<Body>>,
        mut page: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut target = path.to_owned();
        let mut pages = 0u32;
        loop {
            if pages >= self.limits.max_pages {
                return Err(Error::TooManyPages { what: what.to_owned(), limit: self.limits.max_pages });
            }
            pages += 1;
            let resp = match first.take() {
                Some(r) => r,
                None => {
                    let mut req = Req::new(Method::GET, &target, scope, what);
                    req.accept = accept;
                    self.send(&req)?
                }
            };
            if resp.status() != 200 {
                return Err(status_error(&self.transport.registry, what, resp));
            }
            let next =
                resp.headers().get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(crate::link::next_link);
            let body = self.read_page(resp, what)?;
            page(&body)?;
            let Some(next) = next else { return Ok(()) };
            let base = self.transport.url(&target);
            let url = resolve_location(&base, &next)
                .ok_or_else(|| Error::invalid(what.to_owned(), format!("unusable Link {}", strip_query(&next))))?;
            if origin(&url) != origin(&base) {
                return Err(Error::invalid(
                    what.to_owned(),
                    format!("Link to {} leaves the registry's origin", strip_query(&url)),
                ));
            }
            // Keep registry paths relative, so the scheme decision applies.
            target = match url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned())) {
                Some(p) => p,
                None => return Err(Error::invalid(what.to_owned(), "Link without a path")),
            };
        }
    }

    fn read_page(&self, resp: Response<Body>, what: &str) -> Result<Vec<u8>> {
        if let Some(len) = content_length(&resp)
            && len > MAX_PAGE_BYTES
        {
            return Err(too_large(what, len, MAX_PAGE_BYTES, Limit::ResponseBytes));
        }
        let mut buf = Vec::new();
        resp.into_body()
            .into_reader()
            .take(MAX_PAGE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(format!("reading {what}"), e))?;
        if buf.len() as u64 > MAX_PAGE_BYTES {
            return Err(too_large(what, buf.len() as u64, MAX_PAGE_BYTES, Limit::ResponseBytes));
        }
        Ok(buf)
    }

    /// The manifests whose `subject` is `digest`, optionally only those of
    /// `artifact_type`: from the OCI 1.1 referrers API when the registry has it, else
    /// from the tag schema's `<alg>-<hex>` index (an empty list when that tag is absent).
    /// The filter is applied here when the registry did not apply it.
    pub fn referrers(&self, repo: &str, digest: &Digest, artifact_type: Option<&str>) -> Result<Referrers> {
        check_repo(repo)?;
        let what = format!("referrers of {}", self.name(repo, &digest.to_string()));
        let mut path = format!("/v2/{repo}/referrers/{digest}");
        if let Some(t) = artifact_type {
            path.push('?');
            path.push_str(&encode_pairs(&[("artifactType", t)]));
        }
        let scope = pull_scope(repo);
        let mut req = Req::new(Method::GET, &path, &scope, &what);
        req.accept = Some(OCI_INDEX);
        let first = self.send(&req)?;
        let (mut manifests, source) = match first.status().as_u16() {
            // The spec forbids 404 from registries that support the API: it is absent.
            404 => {
                drop(error_detail(first));
                (self.referrers_by_tag(repo, digest)?, ReferrersSource::TagSchema)
            }
            200 => {
                let mut all = Vec::new();
                self.paginate(&path, &scope, &what, Some(OCI_INDEX), Some(first), |body| {
                    let index: Index =
                        serde_json::from_slice(body).map_err(|e| Error::invalid(what.clone(), e.to_string()))?;
                    all.extend(index.manifests);
                    Ok(())
                })?;
                (all, ReferrersSource::Api)
            }
            _ => return Err(status_error(&self.transport.registry, &what, first)),
        };
        if let Some(t) = artifact_type {
            // Whether or not the registry says it filtered (`OCI-Filters-Applied`),
            // filtering again is correct and cheap.
            manifests.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(Referrers { manifests, source })
    }

    /// Adds `referrer` to the tag schema's `<alg>-<hex>` index of `subject` (creating it),
    /// for registries without the referrers API ([`ManifestPut::subject`] was `None`).
    /// A descriptor already listed is not added twice. Returns the index's new digest.
    /// Read-modify-write: two writers racing on one subject can lose an entry, as with
    /// every client of the tag schema; a writer re-reads and retries if that matters.
    pub fn add_to_referrers_tag(&self, repo: &str, subject: &Digest, referrer: &Descriptor) -> Result<Digest> {
        self.add_all_to_referrers_tag(repo, subject, std::slice::from_ref(referrer))
    }

    /// [`Client::add_to_referrers_tag`] for several referrers in one read-modify-write
    /// of the index (one `GET` and at most one `PUT`, however many are added).
    pub fn add_all_to_referrers_tag(&self, repo: &str, subject: &Digest, referrers: &[Descriptor]) -> Result<Digest> {
        let tag = referrers_tag(subject);
        let mut manifests = self.referrers_by_tag(repo, subject)?;
        let before = manifests.len();
        for referrer in referrers {
            if !manifests.iter().any(|d| d.digest == referrer.digest) {
                manifests.push(referrer.clone());
            }
        }
        if manifests.len() == before {
            return Ok(self.resolve(repo, &tag)?.digest);
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct NewIndex<'a> {
            schema_version: u32,
            media_type: &'a str,
            manifests: &'a [Descriptor],
        }
        let index = NewIndex { schema_version: 2, media_type: OCI_INDEX, manifests: &manifests };
        let bytes = serde_json::to_vec(&index)
            .map_err(|e| Error::invalid(format!("referrers index {}", self.name(repo, &tag)), e.to_string()))?;
        Ok(self.put_manifest(repo, &tag, OCI_INDEX, &bytes)?.digest)
    }

    fn referrers_by_tag(&self, repo: &str, digest: &Digest) -> Result<Vec<Descriptor>> {
        let tag = referrers_tag(digest);
        match self.get_manifest(repo, &tag) {
            Ok(m) => {
                let index: Index = serde_json::from_slice(&m.bytes)
                    .map_err(|e| Error::invalid(format!("referrers index {}", self.name(repo, &tag)), e.to_string()))?;
                Ok(index.manifests)
            }
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

fn parse_digest_header(h: &str, what: &str) -> Result<Digest> {
    h.parse().map_err(|e: bulwark_core::Error| {
        Error::invalid(what.to_owned(), format!("registry sent an invalid Docker-Content-Digest header: {e}"))
    })
}

/// The crate error inside an `io::Error` from a [`VerifiedBlob`], or the IO error.
fn unwrap_io(e: std::io::Error, what: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        match e.into_inner().map(|b| b.downcast::<Error>()) {
            Some(Ok(inner)) => *inner,
            _ => Error::invalid(what.to_owned(), "unreadable body"),
        }
    } else {
        Error::io(format!("reading {what}"), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_escape_the_path() {
        for ok in ["app", "library/alpine", "a/b-c/d_e.f", "a1"] {
            check_repo(ok).unwrap();
        }
        for bad in ["", "../x", "a/../b", "a?b", "a#b", "A", "a//b", "-a", "a/", "a b", "a%2e"] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
        for ok in ["1", "latest", "v1.2_3-rc", "sha256-abc"] {
            check_reference(ok).unwrap();
        }
        check_reference(&Digest::sha256_of(b"x").to_string()).unwrap();
        for bad in ["", "a/b", "..", "a?", ".x", "-x"] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn referrers_tags() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(referrers_tag(&d), format!("sha256-{}", d.hex()));
    }

    fn verified(data: &'static [u8], expected: Digest, size: Option<u64>, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut blob = VerifiedBlob {
            inner: Box::new(data),
            what: "blob".into(),
            hasher: Hasher::new(&expected),
            expected,
            size,
            limit,
            read: 0,
            verified: false,
            done: false,
        };
        let mut out = Vec::new();
        blob.read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn verified_blobs() {
        let d = Digest::sha256_of(b"hello");
        assert_eq!(verified(b"hello", d.clone(), Some(5), 10).unwrap(), b"hello");
        assert_eq!(verified(b"hello", d.clone(), None, 10).unwrap(), b"hello");
        let err = |r: std::io::Result<Vec<u8>>| unwrap_io(r.unwrap_err(), "blob");
        assert!(matches!(err(verified(b"hell", d.clone(), Some(5), 10)), Error::SizeMismatch { actual: 4, .. }));
        assert!(matches!(err(verified(b"hello!", d.clone(), Some(5), 10)), Error::SizeMismatch { .. }));
        assert!(matches!(err(verified(b"jello", d.clone(), Some(5), 10)), Error::DigestMismatch { .. }));
        assert!(matches!(err(verified(b"hello", d, None, 3)), Error::TooLarge { kind: Limit::BlobBytes, .. }));
    }
}
