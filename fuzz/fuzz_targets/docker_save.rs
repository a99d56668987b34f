//! `read_save_stream` over arbitrary bytes (a `docker save` tar: JSON documents, layer
//! members analysed as they stream past, `manifest.json` tying them together). Must
//! never panic, hang or blow up memory; a successful read must be consistent.

#![no_main]

use bulwark_image::source::docker::read_save_stream;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let limits = common::limits();
    let Ok(saved) = read_save_stream(data, "docker-archive:fuzz.tar", None, &common::options(), &limits, &mut |_| {})
    else {
        return;
    };
    let image = &saved.image;
    assert_eq!(image.layers.len(), saved.layers.len());
    assert_eq!(image.layers.len(), image.config.rootfs.diff_ids.len());
    assert_eq!(image.manifest.layers.len(), image.layers.len());
    for (r, ix) in image.layers.iter().zip(&saved.layers) {
        assert_eq!(ix.diff_id.as_ref(), Some(&r.diff_id));
        common::check_index(ix);
    }
    common::check_view(&saved.layers);
    // The record a warm rescan reads instead of the stream gives back the same image.
    if let Some(record) = &saved.record {
        let again = record.resolve("docker-archive:fuzz.tar").expect("a record of a stream that was read resolves");
        assert_eq!(again.config_digest, image.config_digest);
        assert_eq!(again.manifest_digest, image.manifest_digest);
        assert_eq!(again.layers, image.layers);
        assert_eq!(again.manifest.config, image.manifest.config);
    }
});
