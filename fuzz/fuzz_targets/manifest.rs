//! `spec::parse_document` with every kind of `Content-Type` hint, and `ImageConfig::parse`.
//! Must never panic; whatever parses must survive a JSON round trip unchanged, and a
//! hint that agrees with the document's own mediaType must not change the answer.

#![no_main]

use bulwark_image::spec::{self, Document, ImageConfig, Index, Manifest};
use libfuzzer_sys::fuzz_target;

const HINTS: &[Option<&str>] = &[
    None,
    Some(spec::OCI_MANIFEST),
    Some(spec::OCI_INDEX),
    Some(spec::DOCKER_MANIFEST),
    Some(spec::DOCKER_MANIFEST_LIST),
    Some(spec::DOCKER_SCHEMA1_SIGNED),
    Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
    Some("application/json"),
    Some("application/octet-stream"),
    Some(""),
    Some(";"),
    Some("text/html"),
];

fn check_document(doc: &Document) {
    match doc {
        Document::Manifest(m) => {
            let back: Manifest = serde_json::from_slice(&serde_json::to_vec(m).unwrap()).unwrap();
            assert_eq!(&back, m);
            for d in std::iter::once(&m.config).chain(&m.layers) {
                assert!(d.size >= 0);
                let _ = spec::layer_kind(&d.media_type);
            }
        }
        Document::Index(ix) => {
            let back: Index = serde_json::from_slice(&serde_json::to_vec(ix).unwrap()).unwrap();
            assert_eq!(&back, ix);
            for d in &ix.manifests {
                assert!(d.size >= 0);
                let _ = spec::is_attestation(d);
                if let Some(p) = &d.platform {
                    let platform = p.to_platform();
                    let _ = platform.matches(&platform);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let plain = spec::parse_document(data, None, "fuzz");
    if let Ok(doc) = &plain {
        check_document(doc);
    }
    for hint in HINTS {
        let Ok(doc) = spec::parse_document(data, *hint, "fuzz") else { continue };
        check_document(&doc);
    }
    if let Ok(config) = ImageConfig::parse(data, "fuzz") {
        let back: ImageConfig = serde_json::from_slice(&serde_json::to_vec(&config).unwrap()).unwrap();
        assert_eq!(back, config);
        let _ = config.platform();
        assert!(config.layer_history().len() <= config.history.len());
    }
});
