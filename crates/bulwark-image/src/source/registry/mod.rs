//! The OCI distribution API client: fetches a manifest by tag or digest, walks an index
//! down to one platform's image, and streams layer blobs.
//!
//! * Transport: HTTPS. Registries on the loopback interface, and any registry when
//!   [`RegistryOptions::insecure`] is set, are tried over HTTPS first and fall back to
//!   plain HTTP when the TLS connection fails; `insecure` also turns off certificate
//!   verification (Docker's `--insecure-registry` semantics).
//! * Auth: anonymous first; on `401` the `WWW-Authenticate` challenge decides between
//!   Basic credentials and a Bearer token from the challenge's realm. Tokens are cached
//!   per registry and scope for the life of the store.
//! * Credentials: [`RegistryOptions::username`]/[`password`](RegistryOptions::password)
//!   win; else the Docker client config (`auths`, `credHelpers`, `credsStore`).
//! * Retries: requests that get 429, 5xx or a connection error are retried with
//!   exponential backoff (honouring `Retry-After` up to a cap); bodies are not resumed
//!   mid-stream.
//! * Redirects (blob storage such as S3) are followed here, never forwarding the
//!   registry's `Authorization` header to another origin.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use bulwark_core::{Digest, DockerRef, Platform};

use super::{BlobStore, ResolvedImage};
use crate::spec::{self, Descriptor};
use crate::{Error, Limits, Result};

mod auth;
mod client;
mod credentials;

use client::{Client, status_error};

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
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure", &self.insecure)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("docker_config", &self.docker_config)
            .field("credential_helper_dir", &self.credential_helper_dir)
            .finish()
    }
}

/// Fetches the manifest for `reference`, selects `platform` from an index, fetches the
/// config, and returns a blob store that streams layers from the registry.
pub fn open(
    reference: &DockerRef,
    opts: &RegistryOptions,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    let store = Arc::new(RegistryStore { client: Client::new(reference, opts)? });
    let what = format!("manifest {reference}");
    let (bytes, content_type, digest) = store.fetch_manifest(reference, limits, &what)?;
    let doc = spec::parse_document(&bytes, content_type.as_deref(), &what)?;
    let image = super::resolve(store.as_ref(), &reference.to_string(), doc, Some(digest), platform, limits)?;
    Ok((store, image))
}

/// A [`BlobStore`] backed by one repository of a registry.
struct RegistryStore {
    client: Client,
}

impl fmt::Debug for RegistryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryStore")
            .field("registry", &self.client.registry)
            .field("repository", &self.client.repository)
            .finish()
    }
}

fn is_manifest_type(media_type: &str) -> bool {
    matches!(media_type, spec::OCI_MANIFEST | spec::OCI_INDEX | spec::DOCKER_MANIFEST | spec::DOCKER_MANIFEST_LIST)
}

impl RegistryStore {
    /// Fetches the top-level manifest and checks its digest. Returns the bytes, the
    /// content type the registry reported and the manifest's digest.
    fn fetch_manifest(
        &self,
        reference: &DockerRef,
        limits: &Limits,
        what: &str,
    ) -> Result<(Vec<u8>, Option<String>, Digest)> {
        let client = &self.client;
        let path = format!("/v2/{}/manifests/{}", client.repository, reference.reference());
        let resp = client.get(&path, Some(spec::MANIFEST_ACCEPT), what)?;
        match resp.status().as_u16() {
            200 => {}
            404 => {
                let detail = client::error_detail(resp);
                return Err(Error::NotFound(format!("{reference}: manifest unknown to the registry{detail}")));
            }
            _ => return Err(status_error(&client.registry, what, resp)),
        }
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type");
        let header_digest = header("docker-content-digest");
        let limit = limits.max_manifest_bytes;
        if let Some(len) = client::content_length(&resp)
            && len > limit
        {
            return Err(Error::TooLarge { what: what.to_owned(), size: len, limit, flag: "max-manifest-bytes" });
        }
        let mut bytes = Vec::new();
        resp.into_body()
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {what}"), e))?;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: what.to_owned(),
                size: bytes.len() as u64,
                limit,
                flag: "max-manifest-bytes",
            });
        }
        let digest = match &reference.digest {
            Some(want) => {
                let actual = super::digest_like(want, &bytes);
                if &actual != want {
                    return Err(Error::DigestMismatch { what: what.to_owned(), expected: want.clone(), actual });
                }
                actual
            }
            None => Digest::sha256_of(&bytes),
        };
        if let Some(h) = header_digest.filter(|h| !h.trim().is_empty()) {
            let claimed: Digest = h.trim().parse().map_err(|e: bulwark_core::Error| {
                Error::invalid(what, format!("registry sent an invalid Docker-Content-Digest header: {e}"))
            })?;
            let actual = super::digest_like(&claimed, &bytes);
            if actual != claimed {
                return Err(Error::DigestMismatch {
                    what: format!("{what} (Docker-Content-Digest header)"),
                    expected: claimed,
                    actual,
                });
            }
        }
        Ok((bytes, content_type, digest))
    }

    fn get_object(&self, desc: &Descriptor, endpoint: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let client = &self.client;
        let manifest = endpoint == "manifests";
        let what = format!("{} {}", if manifest { "manifest" } else { "blob" }, desc.digest);
        let path = format!("/v2/{}/{endpoint}/{}", client.repository, desc.digest);
        client.get(&path, manifest.then_some(spec::MANIFEST_ACCEPT), &what)
    }
}

impl BlobStore for RegistryStore {
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let client = &self.client;
        let manifest = is_manifest_type(&desc.media_type);
        let mut resp = self.get_object(desc, if manifest { "manifests" } else { "blobs" })?;
        // Descriptors without a media type may point at a manifest, which registries
        // serve only from the manifests endpoint.
        if resp.status() == 404 && desc.media_type.is_empty() {
            resp = self.get_object(desc, "manifests")?;
        }
        let what = format!("{} {}", if manifest { "manifest" } else { "blob" }, desc.digest);
        match resp.status().as_u16() {
            200 => {}
            404 => {
                let detail = client::error_detail(resp);
                return Err(Error::NotFound(format!("{what} in {}/{}{detail}", client.registry, client.repository)));
            }
            _ => return Err(status_error(&client.registry, &what, resp)),
        }
        if let Some(len) = client::content_length(&resp)
            && len != desc.size()
        {
            return Err(Error::SizeMismatch { what, expected: desc.size(), actual: len });
        }
        Ok(Box::new(resp.into_body().into_reader()))
    }
}
