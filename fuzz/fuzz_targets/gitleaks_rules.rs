//! Rule files (gitleaks format and Bulwark's own) from untrusted text: load or fail with
//! an error, never panic; whatever loads can scan.
#![no_main]

use bulwark_detect::secret::{SecretConfig, SecretScanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let config = SecretConfig { builtin: false, ..Default::default() };
    if let Ok(scanner) = SecretScanner::with_rules_text(&config, "fuzz.toml", text) {
        let _ = scanner.scan_bytes("app/x", data);
    }
});
