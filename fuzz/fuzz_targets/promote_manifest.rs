//! `bulwark promote` reads every manifest and index of the source image from a registry to
//! know what to copy: arbitrary bytes, under any content type, must give references or an
//! error, never a panic.
#![no_main]

use bulwark_assert::promote::references;
use libfuzzer_sys::fuzz_target;

const TYPES: &[Option<&str>] = &[
    None,
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let content_type = TYPES[data.first().map_or(0, |b| *b as usize % TYPES.len())];
    if let Ok(refs) = references(data, content_type) {
        assert!(refs.manifests.is_empty() || refs.blobs.is_empty());
    }
});
