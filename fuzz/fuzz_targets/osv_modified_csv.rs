//! osv.dev's `modified_id.csv` comes from a mirror over the network: any bytes must parse into
//! entries plus a count of skipped lines, never panic; accepted ids must be safe URL segments.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let list = bulwark_vulndb::update::parse_modified_csv(data);
    for (_, id) in &list.entries {
        assert!(!id.is_empty() && !id.contains('/'));
    }
});
