//! OCI image-spec and Docker image manifest v2 schema 2 documents, parsed leniently
//! (unknown fields ignored) but validated where a wrong value would mislead a scan.

use std::collections::BTreeMap;

use bulwark_core::{Digest, Platform};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The `Accept` header value for manifest requests, most preferred first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<DescriptorPlatform>,
}

impl Descriptor {
    /// The size as an unsigned number; negative sizes are rejected at parse time.
    pub fn size(&self) -> u64 {
        self.size.max(0) as u64
    }
}

/// The `platform` of an index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptorPlatform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, rename = "os.version", skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

impl DescriptorPlatform {
    pub fn to_platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index or Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A manifest-like document fetched by reference. Short-lived, so the size difference
/// between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    Manifest(Manifest),
    Index(Index),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    fs_layers: Option<serde_json::Value>,
}

/// Parses a manifest or index. `content_type` is the media type the transport reported,
/// if any; the document's own `mediaType` wins when both are present and they agree,
/// and a disagreement is an error (a confused or hostile server).
pub fn parse_document(bytes: &[u8], content_type: Option<&str>, what: &str) -> Result<Document> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| Error::invalid(what, e.to_string()))?;
    let content_type = content_type
        .map(|c| c.split(';').next().unwrap_or_default().trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    let is_schema1 = |t: &str| t == DOCKER_SCHEMA1 || t == DOCKER_SCHEMA1_SIGNED;
    if probe.schema_version == Some(1)
        || probe.fs_layers.is_some()
        || probe.media_type.as_deref().is_some_and(is_schema1)
        || content_type.is_some_and(is_schema1)
    {
        return Err(Error::Schema1 { reference: what.to_owned() });
    }
    if probe.schema_version != Some(2) {
        return Err(Error::invalid(what, format!("schemaVersion must be 2, got {:?}", probe.schema_version)));
    }
    if let (Some(declared), Some(ct)) = (probe.media_type.as_deref(), content_type)
        && declared != ct
    {
        return Err(Error::invalid(what, format!("served as {ct} but declares mediaType {declared}")));
    }
    let kind = probe.media_type.as_deref().or(content_type);
    let is_index = match kind {
        Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(other) if probe.manifests.is_none() && probe.config.is_none() => {
            return Err(Error::Unsupported(format!("{what}: unsupported manifest media type {other}")));
        }
        _ => probe.manifests.is_some(),
    };
    if is_index {
        if probe.config.is_some() {
            return Err(Error::invalid(what, "index has a config field"));
        }
        let index: Index = serde_json::from_slice(bytes).map_err(|e| Error::invalid(what, e.to_string()))?;
        check_descriptors(&index.manifests, what)?;
        Ok(Document::Index(index))
    } else {
        if probe.manifests.is_some() {
            return Err(Error::invalid(what, "manifest has a manifests field"));
        }
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| Error::invalid(what, e.to_string()))?;
        check_descriptors(std::slice::from_ref(&manifest.config), what)?;
        check_descriptors(&manifest.layers, what)?;
        Ok(Document::Manifest(manifest))
    }
}

fn check_descriptors(descs: &[Descriptor], what: &str) -> Result<()> {
    for d in descs {
        if d.size < 0 {
            return Err(Error::invalid(what, format!("descriptor {} has negative size {}", d.digest, d.size)));
        }
    }
    Ok(())
}

/// Whether an index entry is a build attestation or other non-image artefact that
/// platform selection must skip (BuildKit marks them `unknown/unknown`).
pub fn is_attestation(d: &Descriptor) -> bool {
    d.annotations.get("vnd.docker.reference.type").is_some_and(|t| t == "attestation-manifest")
        || d.platform.as_ref().is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

/// What a layer media type says about the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerKind {
    /// `None` when the media type does not say (then the bytes are sniffed).
    pub compression: Option<Compression>,
    /// Foreign (Windows base) and non-distributable layers, which are not fetched.
    pub foreign: bool,
}

/// Classifies a layer media type; `None` for media types that are not layers.
pub fn layer_kind(media_type: &str) -> Option<LayerKind> {
    let foreign = media_type.contains(".foreign.") || media_type.contains(".nondistributable.");
    let compression = match media_type {
        "" => None,
        t if t.ends_with("+gzip") || t.ends_with(".tar.gzip") => Some(Compression::Gzip),
        t if t.ends_with("+zstd") || t.ends_with(".tar.zstd") => Some(Compression::Zstd),
        t if t.ends_with(".tar") || t.ends_with(".diff.tar") => Some(Compression::None),
        _ => return None,
    };
    Some(LayerKind { compression, foreign })
}

// The image config and compression types live in the pure model crate, where the detectors
// reach them without this crate; re-exported so `bulwark_image::spec::…` paths keep working.
pub use bulwark_layer::{Compression, ContainerConfig, History, ImageConfig, RootFs};
