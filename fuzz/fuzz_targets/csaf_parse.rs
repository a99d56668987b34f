//! Red Hat CSAF VEX documents and Debian security tracker data are downloaded feeds: any bytes
//! must parse or fail cleanly, never panic, and a parsed CSAF document must convert to records
//! that serialise and read back as OSV.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = bulwark_vulndb::csaf::parse_csaf(data) {
        let (records, _) = bulwark_vulndb::csaf::to_records(&doc, "csaf:fuzz");
        for r in &records {
            let json = serde_json::to_vec(r).expect("records serialise");
            bulwark_vulndb::parse_record(&json).expect("converted records are valid OSV");
        }
    }
    let _ = bulwark_vulndb::debian_tracker::parse_tracker(data);
});
