//! Signatures and attestations attached to images in registries, and promotion of images
//! that pass: the registry side of Bulwark's Image Assertion.
//!
//! [`bulwark_sign`] makes and checks the objects, offline; this crate stores them where
//! cosign does and fetches them back, over [`bulwark_registry`]:
//!
//! - [`attach`]: push a signature or attestation layer to the `sha256-<hex>.sig` /
//!   `.att` tag (appending to what is there) and as an OCI 1.1 referrer (the referrers
//!   API when the registry indexes `subject`, the `sha256-<hex>` tag schema otherwise);
//!   fetch them back, bounded, and verify each with its own reason.
//! - [`promote`]: copy an image (every platform, every blob: cross-repository mounts on
//!   one registry, digest-verified streams between registries) to another repository,
//!   sign and attest it there, and only then set the tag.
//!
//! The CLI (`bulwark sign|verify|attest|verify-attestation|promote`) and the server call
//! these functions; they never print. See `docs/signing.md`.

pub mod attach;
mod error;
pub mod promote;

pub use error::{Error, Result};

use bulwark_core::Digest;
use bulwark_registry::Client;

/// A repository on a registry: where images, signatures and attestations live.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The registry client (credentials, token cache, limits).
    pub client: Client,
    /// The repository path, e.g. `team/app`.
    pub name: String,
}

impl Repo {
    /// A repository on `client`'s registry.
    pub fn new(client: Client, name: impl Into<String>) -> Repo {
        Repo { client, name: name.into() }
    }

    /// `registry/repo`, as cosign writes `docker-reference` in a signature payload.
    pub fn docker_reference(&self) -> String {
        format!("{}/{}", self.client.registry(), self.name)
    }

    /// `registry/repo@digest` or `registry/repo:tag`, for messages.
    pub fn display(&self, reference: &str) -> String {
        let sep = if reference.parse::<Digest>().is_ok() { '@' } else { ':' };
        format!("{}{sep}{reference}", self.docker_reference())
    }
}

/// The manifest an attachment refers to: its digest, and the media type and size that
/// an OCI 1.1 `subject` descriptor carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The manifest (or index) digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Subject {
    /// Resolves `reference` (a tag or digest) in `repo` once, by `HEAD`: what is signed
    /// is this digest, whatever the tag points at later.
    pub fn resolve(repo: &Repo, reference: &str) -> Result<Subject> {
        let head = repo.client.resolve(&repo.name, reference)?;
        match (head.media_type, head.size) {
            (Some(media_type), Some(size)) if bulwark_registry::is_manifest_type(&media_type) => {
                Ok(Subject { digest: head.digest, media_type, size })
            }
            _ => {
                // A registry that left out the type or size: the manifest itself says.
                let m = repo.client.get_manifest(&repo.name, &head.digest.to_string())?;
                let media_type = m.media_type.filter(|t| bulwark_registry::is_manifest_type(t)).unwrap_or_else(|| {
                    serde_json::from_slice::<serde_json::Value>(&m.bytes)
                        .ok()
                        .and_then(|v| v.get("mediaType").and_then(|t| t.as_str()).map(str::to_owned))
                        .unwrap_or_else(|| bulwark_registry::OCI_MANIFEST.to_owned())
                });
                Ok(Subject { digest: m.digest, media_type, size: m.bytes.len() as u64 })
            }
        }
    }
}
