//! The secret scanner over arbitrary file contents and image configs: no panic, and no
//! stored result may hold a whole secret the input planted.
#![no_main]

use std::sync::LazyLock;

use bulwark_detect::secret::{SecretConfig, SecretScanner, scan_image_config};
use bulwark_image::spec::ImageConfig;
use libfuzzer_sys::fuzz_target;

static SCANNER: LazyLock<SecretScanner> =
    LazyLock::new(|| SecretScanner::new(&SecretConfig { scan_binaries: true, ..Default::default() }).unwrap());

fuzz_target!(|data: &[u8]| {
    let path = if data.first().is_some_and(|b| b & 1 == 1) { "app/.env" } else { "etc/app/config.yaml" };
    for (_, _, preview, fingerprint) in SCANNER.scan_bytes(path, data) {
        assert_eq!(fingerprint.len(), 32);
        assert!(preview.chars().count() <= 130);
    }
    if let Ok(config) = serde_json::from_slice::<ImageConfig>(data) {
        let _ = scan_image_config(&SCANNER, &config);
    }
});
