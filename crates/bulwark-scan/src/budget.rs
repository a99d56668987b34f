//! What the per-layer result budget (`--max-layer-results`, see
//! `bulwark_layer::ResultBudget`) left out, said in the report: one counted limit warning
//! per layer and analyzer, and one `not_checked` entry per scanner, so a policy that needs
//! that scanner fails its `checks-complete` rule instead of passing on what was dropped.

use std::collections::BTreeMap;

use bulwark_core::Warning;
use bulwark_core::report::{NotChecked, NotCheckedReason, ScanReport};
use bulwark_image::Image;

/// Adds the warnings and `not_checked` entries for every result a layer did not keep.
pub fn record(image: &Image, limit: u64, report: &mut ScanReport) {
    // By scanner: files not checked, and the first example path.
    let mut by_scanner: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for (i, layer) in image.layers.iter().enumerate() {
        let dropped = layer.over_budget.iter().chain(layer.linked.iter().flat_map(|l| &l.over_budget));
        for o in dropped {
            let first = o.examples.first().map_or("", String::as_str);
            let what = format!(
                "{} results of layer {i} over its memory budget, from {}",
                o.analyzer,
                bulwark_core::excerpt(first)
            );
            report.warnings.push(Warning::limit("max-layer-results", limit, &what, o.files));
            let slot = by_scanner.entry(o.scanner.as_str()).or_insert((0, first));
            slot.0 += o.files;
        }
    }
    for (scanner, (files, first)) in by_scanner {
        report.add_not_checked(NotChecked {
            scanner: scanner.to_owned(),
            reason: NotCheckedReason::SkippedByLimit,
            scope: Some(first.to_owned()),
            message: format!(
                "{files} file{} of the image not checked by the {scanner} scanner: their results did not fit \
                 their layer's memory budget (raise it with --max-layer-results, now {limit} bytes)",
                if files == 1 { "" } else { "s" },
            ),
        });
    }
}
