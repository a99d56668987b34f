//! Arbitrary text as a policy: parsing, linting and the JSON view must never panic, and a
//! policy that parses must evaluate an empty report.
#![no_main]

use bulwark_core::report::ScanReport;
use bulwark_core::time::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let today = Date::parse("2025-01-15").unwrap();
    let _ = bulwark_policy::to_json(text);
    let _ = bulwark_policy::lint(text, today);
    if let Ok(policy) = bulwark_policy::parse(text) {
        let _ = policy.evaluate(&ScanReport::default(), today);
    }
});
