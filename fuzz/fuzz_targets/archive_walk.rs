//! The malware scanner's in-memory archive walker (zip, tar, gzip, bzip2, xz, nested) on
//! arbitrary bytes, with small limits: it must never panic, and never hand out more than
//! the limits allow.
#![no_main]

use bulwark_detect::malware::{ArchiveLimits, walk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ArchiveLimits {
        max_depth: 3,
        max_member_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_entries: 64,
        max_ratio: 50,
    };
    let mut total = 0u64;
    let mut members = 0u64;
    let _notes = walk("/fuzz", data, &limits, &mut |m| {
        if !m.members.is_empty() {
            members += 1;
            total += m.data.len() as u64;
            assert!(m.data.len() as u64 <= limits.max_member_bytes);
            assert!(m.members.len() as u32 <= limits.max_depth);
        }
        let _ = bulwark_detect::malware::sniff(m.data);
    });
    assert!(total <= limits.max_total_bytes);
    assert!(members <= limits.max_entries);
});
