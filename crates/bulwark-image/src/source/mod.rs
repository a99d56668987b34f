//! Image sources. Every source ends in the same place: a [`ResolvedImage`] (manifest,
//! config, layer descriptors) plus a way to stream each layer blob, or, for sources that
//! can only be read front to back (`docker save` streams), the analysed layers directly.
//!
//! Each scheme of `bulwark_core::SCHEMES` is read by one [`ImageSource`], a module here
//! registered once in [`SOURCES`]; [`crate::open`] and [`crate::read_image`] look the
//! source up by the reference's scheme. The machinery sources share (reading layers
//! through the cache, `docker save` streams, following links, the platform check, the
//! image-wide budget) is in `read.rs`. Modules without a source of their own (`oci`,
//! `docker`) hold what several sources read with.

use std::io::Read;
use std::sync::Arc;

use bulwark_core::{Digest, Platform, Reference};
use sha2::{Digest as _, Sha256, Sha512};

use crate::read::{Image, LayerCache, Progress, ReadOptions};
use crate::spec::{self, Descriptor, Document, ImageConfig, LayerKind, Manifest};
use crate::{Error, Limits, Result};

pub mod bare;
pub mod container;
pub mod dir;
pub mod docker;
pub mod docker_archive;
pub mod docker_engine;
pub mod oci;
pub mod oci_archive;
pub mod oci_layout;
pub mod registry;

/// Reads the images of one scheme of the reference syntax.
pub trait ImageSource: Send + Sync {
    /// The scheme read (a name of `bulwark_core::SCHEMES`).
    fn scheme(&self) -> &'static str;

    /// For blob-addressed sources: resolves the manifest and config for `platform` without
    /// reading layers (`bulwark inspect`, and [`crate::open`]'s platform fallback). `None`
    /// for sources that can only be read whole.
    fn open(
        &self,
        _reference: &Reference,
        _opts: &ReadOptions,
        _platform: Option<&Platform>,
    ) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
        Ok(None)
    }

    /// Reads, analyses and squashes the image. Called by [`crate::read_image`], which gives
    /// `opts` this read's own image-wide result budget. The default is for blob-addressed
    /// sources: it reads the layers of what [`ImageSource::open`] resolves, through the cache.
    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        crate::read::read_blob_addressed(reference, self.scheme(), opts, cache, progress)
    }
}

/// Every image source, one per scheme of `bulwark_core::SCHEMES`.
pub static SOURCES: &[&dyn ImageSource] = &[
    &oci_layout::OciLayout,
    &oci_archive::OciArchive,
    &docker_archive::DockerArchive,
    &dir::Dir,
    &docker_engine::DockerEngine,
    &container::Container,
    &registry::Registry,
    &bare::Bare,
];

/// The source that reads `reference`'s scheme.
pub fn source_for(reference: &Reference) -> Result<&'static dyn ImageSource> {
    SOURCES.iter().find(|s| s.scheme() == reference.scheme()).copied().ok_or_else(|| {
        Error::invalid(reference.to_string(), format!("no source reads {}: references", reference.scheme()))
    })
}

/// A source given a reference of another shape than its scheme's (a caller's bug: a
/// reference's target always has its scheme's shape).
pub(crate) fn wrong_shape(source: &dyn ImageSource, reference: &Reference) -> Error {
    Error::invalid(reference.to_string(), format!("not a {}: reference", source.scheme()))
}

/// Content-addressed blob access: an OCI layout, a tar file, a registry.
pub trait BlobStore: Send + Sync {
    /// Opens a blob for streaming. Callers verify size and digest as they read.
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>>;

    /// Reads a small blob (manifest, index, config) into memory, refusing more than
    /// `limit` bytes and verifying size and digest.
    fn read_small_blob(&self, desc: &Descriptor, limit: u64, what: &str) -> Result<Vec<u8>> {
        if desc.size() > limit {
            return Err(Error::TooLarge { what: what.to_owned(), size: desc.size(), limit, kind: kind_for(what) });
        }
        let reader = self.open_blob(desc)?;
        read_verified(reader, desc, limit, what)
    }
}

fn kind_for(what: &str) -> crate::LimitKind {
    if what.contains("config") { crate::LimitKind::ConfigBytes } else { crate::LimitKind::ManifestBytes }
}

/// Reads at most `limit` bytes from `reader` and checks them against `desc`.
pub fn read_verified(reader: impl Read, desc: &Descriptor, limit: u64, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("reading {what} {}", desc.digest), e))?;
    if buf.len() as u64 > limit {
        return Err(Error::TooLarge { what: what.to_owned(), size: buf.len() as u64, limit, kind: kind_for(what) });
    }
    verify_bytes(&buf, desc, what)?;
    Ok(buf)
}

/// Checks a fully read blob against its descriptor.
pub fn verify_bytes(buf: &[u8], desc: &Descriptor, what: &str) -> Result<()> {
    if buf.len() as u64 != desc.size() {
        return Err(Error::SizeMismatch {
            what: format!("{what} {}", desc.digest),
            expected: desc.size(),
            actual: buf.len() as u64,
        });
    }
    let actual = digest_like(&desc.digest, buf);
    if actual != desc.digest {
        return Err(Error::DigestMismatch { what: what.to_owned(), expected: desc.digest.clone(), actual });
    }
    Ok(())
}

/// The digest of `buf` with the same algorithm as `like`.
pub fn digest_like(like: &Digest, buf: &[u8]) -> Digest {
    match like.algorithm() {
        bulwark_core::Algorithm::Sha256 => Digest::from_hasher_output(like.algorithm(), &Sha256::digest(buf)),
        bulwark_core::Algorithm::Sha512 => Digest::from_hasher_output(like.algorithm(), &Sha512::digest(buf)),
    }
}

/// One layer to read, with what the manifest and config say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    pub descriptor: Descriptor,
    /// The digest of the uncompressed tar, from the config's `rootfs.diff_ids`.
    pub diff_id: Digest,
    pub kind: LayerKind,
    /// The history step that created this layer.
    pub created_by: Option<String>,
}

impl LayerRef {
    /// What reading this layer's blob must find: its digest, size and diff_id, named by
    /// the blob digest in errors.
    pub fn expected(&self) -> crate::layer::Expected {
        crate::layer::Expected {
            name: self.descriptor.digest.to_string(),
            blob_digest: Some(self.descriptor.digest.clone()),
            blob_size: Some(self.descriptor.size()),
            diff_id: Some(self.diff_id.clone()),
            compression: self.kind.compression,
        }
    }
}

/// An image whose manifest and config have been fetched and checked.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The reference in canonical form.
    pub reference: String,
    /// Digest of the manifest read (or of the index it was selected from, see
    /// `index_digest`).
    pub manifest_digest: Option<Digest>,
    /// Digest of the index (manifest list) the manifest was selected from, if any.
    pub index_digest: Option<Digest>,
    pub manifest: Manifest,
    pub config_digest: Digest,
    pub config: ImageConfig,
    pub platform: Option<Platform>,
    pub layers: Vec<LayerRef>,
    /// Things that were odd but did not stop the read.
    pub warnings: Vec<bulwark_core::Warning>,
}

/// Walks from a manifest or index down to one image: selects the platform in indexes,
/// fetches and checks the config, and pairs layers with their diff_ids.
pub fn resolve(
    store: &dyn BlobStore,
    reference: &str,
    doc: Document,
    doc_digest: Option<Digest>,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<ResolvedImage> {
    let mut index_digest = None;
    let mut doc = doc;
    let mut doc_digest = doc_digest;
    let mut depth = 0;
    loop {
        match doc {
            Document::Manifest(manifest) => {
                // A single-platform image for another platform than `platform` is
                // returned as it is: `read::open` decides whether that is an error.
                let mut image = resolve_manifest(store, reference, manifest, doc_digest, limits)?;
                image.index_digest = index_digest;
                return Ok(image);
            }
            Document::Index(index) => {
                depth += 1;
                if depth > limits.max_index_depth {
                    return Err(Error::invalid(
                        reference,
                        format!("image indexes nested deeper than {}", limits.max_index_depth),
                    ));
                }
                let chosen = select_platform(&index.manifests, platform, reference)?;
                if index_digest.is_none() {
                    index_digest = doc_digest.clone();
                }
                let what = format!("manifest {}", chosen.digest);
                let bytes = store.read_small_blob(chosen, limits.max_manifest_bytes, &what)?;
                let media = (!chosen.media_type.is_empty()).then_some(chosen.media_type.as_str());
                doc = spec::parse_document(&bytes, media, &what)?;
                doc_digest = Some(chosen.digest.clone());
            }
        }
    }
}

/// Picks the index entry for `wanted` (default: the host platform). Attestation
/// manifests are never picked; among several matches the first wins, as in containerd.
pub fn select_platform<'a>(
    manifests: &'a [Descriptor],
    wanted: Option<&Platform>,
    reference: &str,
) -> Result<&'a Descriptor> {
    let host = Platform::host();
    let wanted = wanted.unwrap_or(&host);
    let candidates: Vec<&Descriptor> = manifests.iter().filter(|d| !spec::is_attestation(d)).collect();
    // An index entry without a platform is taken only if it is the only candidate
    // (OCI layouts written by some tools omit platforms on single-image indexes).
    if let [only] = candidates.as_slice()
        && only.platform.is_none()
    {
        return Ok(only);
    }
    candidates
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(&p.to_platform())))
        .copied()
        .ok_or_else(|| {
            let mut available: Vec<String> =
                candidates.iter().filter_map(|d| d.platform.as_ref().map(|p| p.to_platform().to_string())).collect();
            available.sort();
            available.dedup();
            Error::NoMatchingPlatform {
                reference: reference.to_owned(),
                wanted: wanted.to_string(),
                available: if available.is_empty() { "none".into() } else { available.join(", ") },
            }
        })
}

fn resolve_manifest(
    store: &dyn BlobStore,
    reference: &str,
    manifest: Manifest,
    manifest_digest: Option<Digest>,
    limits: &Limits,
) -> Result<ResolvedImage> {
    let config_type = manifest.config.media_type.as_str();
    if !config_type.is_empty() && config_type != spec::OCI_CONFIG && config_type != spec::DOCKER_CONFIG {
        return Err(Error::Unsupported(format!(
            "{reference}: not a container image (config media type {config_type}); it may be a signature, SBOM or other artifact"
        )));
    }
    if manifest.layers.len() > limits.max_layers {
        return Err(Error::TooLarge {
            what: format!("{reference}: layer count"),
            size: manifest.layers.len() as u64,
            limit: limits.max_layers as u64,
            kind: crate::LimitKind::Layers,
        });
    }
    let config_bytes = store.read_small_blob(&manifest.config, limits.max_config_bytes, "image config")?;
    let config = ImageConfig::parse(&config_bytes, &format!("image config {}", manifest.config.digest))?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(Error::invalid(
            format!("image config {}", manifest.config.digest),
            format!("{} diff_ids for {} layers in the manifest", config.rootfs.diff_ids.len(), manifest.layers.len()),
        ));
    }
    let history = config.layer_history();
    let history_aligned = history.len() == manifest.layers.len();
    let mut warnings = Vec::new();
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, (desc, diff_id)) in manifest.layers.iter().zip(&config.rootfs.diff_ids).enumerate() {
        let kind = spec::layer_kind(&desc.media_type).ok_or_else(|| {
            Error::Unsupported(format!(
                "{reference}: layer {} has unsupported media type {}",
                desc.digest, desc.media_type
            ))
        })?;
        if kind.foreign {
            warnings.push(bulwark_core::Warning::source(format!(
                "layer {} ({}) is foreign/non-distributable and was not read",
                desc.digest, desc.media_type
            )));
        }
        layers.push(LayerRef {
            descriptor: desc.clone(),
            diff_id: diff_id.clone(),
            kind,
            created_by: history_aligned.then(|| history[i].created_by.clone()).flatten(),
        });
    }
    Ok(ResolvedImage {
        reference: reference.to_owned(),
        manifest_digest,
        index_digest: None,
        platform: config.platform(),
        config_digest: manifest.config.digest.clone(),
        manifest,
        config,
        layers,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scheme of the reference syntax has exactly one source, and every source reads
    /// a scheme of it.
    #[test]
    fn one_source_per_scheme() {
        for scheme in bulwark_core::SCHEMES {
            let n = SOURCES.iter().filter(|s| s.scheme() == scheme.name).count();
            assert_eq!(n, 1, "{} has {n} sources", scheme.name);
        }
        for source in SOURCES {
            assert!(bulwark_core::Scheme::named(source.scheme()).is_some(), "{} is no scheme", source.scheme());
        }
        assert_eq!(SOURCES.len(), bulwark_core::SCHEMES.len());
    }
}
