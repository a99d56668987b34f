//! `bulwark sbom <ref> --format cyclonedx|spdx|json`: scan an image and write its inventory
//! as CycloneDX 1.6 JSON, SPDX 2.3 JSON or Bulwark's own JSON report. The documents come
//! from `bulwark-report`; this module only runs the scan and writes the bytes.
//!
//! Output is deterministic: the same image gives the same bytes (the one timestamp is the
//! image's own `created` time; see `bulwark_report::time`).

use std::io::{self, Write};

use anyhow::Result;
use bulwark_core::report::ScanReport;

use crate::cli::{SbomArgs, SbomFormat};
use crate::commands::{OK, run_scan, write_output};

/// Runs `bulwark sbom`.
pub fn run(args: SbomArgs) -> Result<u8> {
    let report = run_scan(&args.input)?;
    crate::interrupt::commit()?;
    write_output(args.output.as_deref(), |w| render(w, &report, args.format))?;
    Ok(OK)
}

/// Writes `report` in `format`, pretty-printed, with a trailing newline.
pub fn render(w: &mut dyn Write, report: &ScanReport, format: SbomFormat) -> io::Result<()> {
    let format = match format {
        SbomFormat::Cyclonedx => bulwark_report::Format::Cyclonedx,
        SbomFormat::Spdx => bulwark_report::Format::Spdx,
        SbomFormat::Json => bulwark_report::Format::Json,
    };
    bulwark_report::render(report, format, &bulwark_report::RenderOptions::default(), w)
}
