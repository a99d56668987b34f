//! The OCI manifests that hold cosign signatures and attestations (the `sha256-<hex>.sig`
//! and `.att` tags): parsing a fetched one within limits, checking fetched layer blobs
//! against their descriptors, and building the manifest and config to push, appending to
//! the layers already there as cosign does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::cosign::Layer;
use crate::error::{Error, Result, malformed};

/// The most layers (signatures) one manifest may list; cosign stops at the same number.
pub const MAX_LAYERS: usize = 1000;
/// The largest layer fetched: cosign's default attachment limit (attestation layers hold
/// whole SBOMs). The registry code must stop reading at this size, not after.
pub const MAX_LAYER_SIZE: u64 = 128 << 20;
/// The largest manifest accepted.
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// A layer descriptor of a signature or attestation manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The layer media type.
    pub media_type: String,
    /// `sha256:<hex>` of the blob.
    pub digest: String,
    /// Blob size in bytes.
    pub size: u64,
    /// cosign's annotations (signature, certificate, chain, bundle, predicateType).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: u32,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// The layer descriptors of a fetched signature/attestation manifest, refusing more than
/// [`MAX_LAYERS`] layers, layers over [`MAX_LAYER_SIZE`] and malformed digests, before any
/// layer is fetched.
pub fn parse(manifest: &[u8]) -> Result<Vec<Descriptor>> {
    const WHAT: &str = "signature manifest";
    if manifest.len() > MAX_MANIFEST_SIZE {
        return Err(malformed(WHAT, format!("{} bytes, over the {MAX_MANIFEST_SIZE} accepted", manifest.len())));
    }
    let raw: RawManifest = serde_json::from_slice(manifest).map_err(|e| malformed(WHAT, e))?;
    if raw.schema_version != 2 {
        return Err(malformed(WHAT, format!("schemaVersion {}", raw.schema_version)));
    }
    if raw.layers.len() > MAX_LAYERS {
        return Err(malformed(WHAT, format!("{} layers, over the {MAX_LAYERS} accepted", raw.layers.len())));
    }
    for layer in &raw.layers {
        crate::cosign::split_digest(&layer.digest)?;
        if layer.size > MAX_LAYER_SIZE {
            return Err(malformed(
                WHAT,
                format!("layer {} is {} bytes, over the {MAX_LAYER_SIZE} accepted", layer.digest, layer.size),
            ));
        }
    }
    Ok(raw.layers)
}

impl Layer {
    /// The descriptor to list this layer under.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest(),
            size: self.content.len() as u64,
            annotations: self.annotations.clone(),
        }
    }

    /// A fetched blob as the layer `descriptor` lists, after checking its size and digest
    /// (a registry that serves other bytes is caught here, before any signature check).
    pub fn from_descriptor(descriptor: &Descriptor, blob: Vec<u8>) -> Result<Self> {
        if blob.len() as u64 != descriptor.size {
            return Err(malformed(
                "signature layer",
                format!("blob {} is {} bytes, its descriptor says {}", descriptor.digest, blob.len(), descriptor.size),
            ));
        }
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
        if actual != descriptor.digest {
            return Err(Error::DigestMismatch { expected: descriptor.digest.clone(), found: actual });
        }
        Ok(Self {
            media_type: descriptor.media_type.clone(),
            content: blob,
            annotations: descriptor.annotations.clone(),
        })
    }
}

/// `existing` plus `new`, unless a layer with the same digest and annotations is already
/// there (signing twice adds nothing, as with cosign). Order is kept.
pub fn append(mut existing: Vec<Descriptor>, new: Descriptor) -> Vec<Descriptor> {
    if !existing.contains(&new) {
        existing.push(new);
    }
    existing
}

/// The config blob and manifest to push for `layers`: an OCI image manifest whose config
/// lists the layers' digests as diff_ids, as cosign writes it. Returns
/// `(config, manifest)`; push the config blob and the layer blobs first.
pub fn build(layers: &[Descriptor]) -> (Vec<u8>, Vec<u8>) {
    let config = serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>()},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "size": config.len(),
            "digest": format!("sha256:{}", hex::encode(Sha256::digest(&config))),
        },
        "layers": layers,
    });
    (config, serde_json::to_vec(&manifest).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosign;
    use crate::keys::SigningKey;

    const DIGEST: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

    #[test]
    fn build_parse_append_and_fetch_check() {
        let key = SigningKey::generate().unwrap();
        let a = cosign::sign_image(&key, "r/app", DIGEST, &BTreeMap::new()).unwrap();
        // Same payload, another signature: the same blob under two descriptors, as when an
        // image is signed twice by different keys.
        let b = cosign::sign_image(&key, "r/app", DIGEST, &BTreeMap::new()).unwrap();
        assert_eq!(a.digest(), b.digest());
        let layers = append(append(Vec::new(), a.descriptor()), b.descriptor());
        let layers = append(layers, a.descriptor());
        assert_eq!(layers.len(), 2);
        let (config, manifest) = build(&layers);
        assert_eq!(parse(&manifest).unwrap(), layers);
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][1], layers[1].digest);
        assert_eq!(Layer::from_descriptor(&layers[0], a.content.clone()).unwrap(), a);
        let mut other = a.content.clone();
        other[0] ^= 1;
        assert!(matches!(Layer::from_descriptor(&layers[0], other), Err(Error::DigestMismatch { .. })));
        assert!(Layer::from_descriptor(&layers[0], vec![0; 3]).is_err());
    }

    #[test]
    fn hostile_manifests_are_refused_before_fetching() {
        let layer = serde_json::json!({"mediaType": "x", "digest": DIGEST, "size": 1});
        let many = serde_json::json!({"schemaVersion": 2, "layers": vec![layer; MAX_LAYERS * 10]});
        let err = parse(many.to_string().as_bytes()).unwrap_err().to_string();
        assert!(err.contains("10000 layers"), "{err}");
        let huge = serde_json::json!({"schemaVersion": 2, "layers": [{"mediaType": "x", "digest": DIGEST, "size": 1u64 << 30}]});
        assert!(parse(huge.to_string().as_bytes()).unwrap_err().to_string().contains("over the"));
        let bad = serde_json::json!({"schemaVersion": 2, "layers": [{"mediaType": "x", "digest": "sha256:../../x", "size": 1}]});
        assert!(parse(bad.to_string().as_bytes()).is_err());
    }
}
