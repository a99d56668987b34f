//! Response headers of the registry client that decide what it requests next: `Link`
//! (pagination) and `Retry-After` (how long to wait). Must never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    if let Some(next) = bulwark_registry::next_link(&header) {
        assert!(!next.is_empty());
        assert!(header.contains(next.as_str()), "next link {next:?} is not from {header:?}");
    }
    let _ = bulwark_registry::parse_retry_after(&header);
});
