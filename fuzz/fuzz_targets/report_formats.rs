//! Every output format on an arbitrary report (hostile package names, paths, history
//! steps, out-of-range layer indexes), plus the SBOM reader on the same bytes: no panics.
#![no_main]

use bulwark_core::report::ScanReport;
use bulwark_report::junit::Granularity;
use bulwark_report::table::TableOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let full = bulwark_report::sbom_in::parse(data);
    // The capped reader accepts what the default one does and keeps within its limit.
    if let Ok(small) = bulwark_report::sbom_in::parse_with(data, 2) {
        assert!(small.packages.len() <= 2);
        assert!(full.is_ok());
    }
    let Ok(report) = serde_json::from_slice::<ScanReport>(data) else { return };
    let _ = bulwark_report::sarif::to_vec(&report);
    let _ = bulwark_report::junit::to_vec(&report, Granularity::Rules);
    let _ = bulwark_report::junit::to_vec(&report, Granularity::Findings);
    let _ = bulwark_report::html::to_vec(&report);
    let _ = bulwark_report::markdown::to_string(&report);
    let _ = bulwark_report::cyclonedx::to_vec(&report);
    for width in [0, 40, 80, 200] {
        let _ = bulwark_report::table::render(
            &report,
            &TableOptions { width, color: width == 80, now_unix: Some(0), max_rows: Some(3) },
        );
    }
});
