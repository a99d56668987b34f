//! The one adapter between the API's report formats and the report writers the CLI uses, so
//! `GET /scans/{id}/report?format=…` answers the bytes `bulwark scan --format …` writes.
//!
//! The CLI's format dispatch is moving into a library `render` function (issue 11); when it
//! lands, this function calls it and nothing else here changes.

use bulwark_api::ReportFormat;
use bulwark_core::report::ScanReport;

/// The report in `format`, byte for byte what the CLI writes (JUnit with one test case per
/// policy rule, the CLI's default).
pub fn render(report: &ScanReport, format: ReportFormat) -> Vec<u8> {
    match format {
        ReportFormat::Json => {
            let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
            out.push(b'\n');
            out
        }
        ReportFormat::Sarif => bulwark_report::sarif::to_vec(report),
        ReportFormat::Junit => bulwark_report::junit::to_vec(report, bulwark_report::junit::Granularity::Rules),
        ReportFormat::Cyclonedx => bulwark_report::cyclonedx::to_vec(report),
        ReportFormat::Spdx => bulwark_report::spdx::to_vec(report),
        ReportFormat::Html => bulwark_report::html::to_vec(report),
        ReportFormat::Markdown => bulwark_report::markdown::to_string(report).into_bytes(),
    }
}
