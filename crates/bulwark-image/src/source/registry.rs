//! Images in registries: fetches the manifest by tag or digest through
//! [`bulwark_registry::Client`], walks an index down to one platform's image, and
//! streams layer blobs. Transport, auth, retries and limits live in `bulwark-registry`.
//! The `registry:<ref>` source; the bare form ([`super::bare`]) opens with it too.

use std::fmt;
use std::io::{Cursor, Read};
use std::sync::Arc;

use bulwark_core::{DockerRef, Platform, Reference, Target};
use bulwark_registry::Client;
pub use bulwark_registry::RegistryOptions;

use super::{BlobStore, ImageSource, ResolvedImage};
use crate::read::ReadOptions;
use crate::spec::{self, Descriptor};
use crate::{Error, Limits, Result};

/// The `registry:` source.
#[derive(Debug)]
pub struct Registry;

impl ImageSource for Registry {
    fn scheme(&self) -> &'static str {
        "registry"
    }

    fn open(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        platform: Option<&Platform>,
    ) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
        open_reference(reference, opts, platform).map(Some)
    }
}

/// Opens a reference of the registry shape (`registry:` or bare) from its registry, unless
/// offline. The image is named `registry:<ref>`, as a bare reference read from the
/// registry is reported.
pub(crate) fn open_reference(
    reference: &Reference,
    opts: &ReadOptions,
    platform: Option<&Platform>,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    let Target::Registry { reference: r, bare } = reference.target() else {
        return Err(Error::invalid(reference.to_string(), "not a registry reference"));
    };
    if opts.offline {
        return Err(Error::Offline { reference: reference.to_string(), bare: *bare });
    }
    let (store, mut resolved) = open(r, &opts.registry, platform, &opts.limits)?;
    // A bare reference read from the registry is reported as one.
    resolved.reference = format!("registry:{r}");
    Ok((store, resolved))
}

/// Fetches the manifest for `reference`, selects `platform` from an index, fetches the
/// config, and returns a blob store that streams layers from the registry.
pub fn open(
    reference: &DockerRef,
    opts: &RegistryOptions,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    let mut opts = opts.clone();
    opts.limits = Some(bulwark_registry::Limits {
        max_manifest_bytes: limits.max_manifest_bytes,
        ..opts.limits.unwrap_or_default()
    });
    let client = Client::for_reference(reference, &opts).map_err(from_registry)?;
    let store = Arc::new(RegistryStore { client, repository: reference.repository.clone() });
    let what = format!("manifest {reference}");
    let manifest = store.client.get_manifest(&store.repository, &reference.reference()).map_err(from_registry)?;
    let doc = spec::parse_document(&manifest.bytes, manifest.media_type.as_deref(), &what)?;
    let image = super::resolve(store.as_ref(), &reference.to_string(), doc, Some(manifest.digest), platform, limits)?;
    Ok((store, image))
}

/// The registry's errors as this crate's: a digest, size or manifest-size failure is the
/// same failure whatever the source; the rest stay typed inside [`Error::Registry`].
pub(crate) fn from_registry(e: bulwark_registry::Error) -> Error {
    use bulwark_registry::Error as R;
    match e {
        R::DigestMismatch { what, expected, actual } => Error::DigestMismatch { what, expected, actual },
        R::SizeMismatch { what, expected, actual } => Error::SizeMismatch { what, expected, actual },
        R::TooLarge { what, size, limit, kind: bulwark_registry::Limit::ManifestBytes } => {
            Error::TooLarge { what, size, limit, kind: crate::LimitKind::ManifestBytes }
        }
        other => Error::Registry(other),
    }
}

/// A [`BlobStore`] backed by one repository of a registry.
struct RegistryStore {
    client: Client,
    repository: String,
}

impl fmt::Debug for RegistryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryStore")
            .field("registry", &self.client.registry())
            .field("repository", &self.repository)
            .finish()
    }
}

impl BlobStore for RegistryStore {
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let repo = &self.repository;
        // Manifests are served only from the manifests endpoint; descriptors without a
        // media type may point at one.
        if bulwark_registry::is_manifest_type(&desc.media_type) {
            let m = self.client.get_manifest(repo, &desc.digest.to_string()).map_err(from_registry)?;
            return Ok(Box::new(Cursor::new(m.bytes)));
        }
        // The layer reader verifies size and digest as it decodes; no second hash here.
        match self.client.open_blob_raw(repo, &desc.digest, Some(desc.size())) {
            Ok((body, _)) => Ok(body),
            Err(bulwark_registry::Error::NotFound { .. }) if desc.media_type.is_empty() => {
                let m = self.client.get_manifest(repo, &desc.digest.to_string()).map_err(from_registry)?;
                Ok(Box::new(Cursor::new(m.bytes)))
            }
            Err(e) => Err(from_registry(e)),
        }
    }
}
