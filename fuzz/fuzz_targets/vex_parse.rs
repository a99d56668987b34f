//! VEX documents (OpenVEX, CycloneDX VEX) and ignore files come from users and suppliers:
//! parsing arbitrary bytes must return a value or an error, never panic or blow up.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bulwark_match::suppress::parse_vex(data, "fuzz.json");
    let _ = bulwark_match::suppress::parse_ignore_file(data, "ignore:fuzz");
});
