//! Detection inside images, in the same single pass over the layers as package cataloguing:
//!
//! - [`malware`]: YARA rules (a bundled pack and the user's), known-bad hash lists, and
//!   archives opened recursively in memory within limits;
//! - [`secret`]: credentials in files and in the image config, never reported whole;
//! - [`config`]: misconfigurations of the image config, history and files.
//!
//! File scanners are [`bulwark_image::layer::FileAnalyzer`]s: they run while each layer streams
//! past and store per-path results in the layer's (cached) analysis. Turning stored results
//! into report findings happens afterwards, over every layer, so files that a later layer
//! deleted are still reported with the layer that removed them.

use std::collections::BTreeSet;

use bulwark_core::report::SkippedFiles;
use bulwark_image::Image;
use bulwark_image::layer::EntryKind;

pub mod config;
pub mod malware;
pub mod secret;

/// Every result the analyzer `id` stored, in every layer, base first: the layer, the path
/// (as stored, without a leading `/`), the later layer that deleted or replaced that copy
/// (`None` when a running container sees it), and the stored value.
pub fn stored_results<'a>(
    image: &'a Image,
    id: &'a str,
) -> impl Iterator<Item = (usize, &'a str, Option<usize>, &'a serde_json::Value)> + 'a {
    image.layers.iter().enumerate().flat_map(move |(layer, index)| {
        index.analyses.get(id).into_iter().flat_map(move |results| {
            results
                .iter()
                .map(move |(path, value)| (layer, path.as_str(), image.view.superseded_in(path, layer), value))
        })
    })
}

/// Regular files in any layer (a copy a later layer deleted still ships) larger than a
/// scanner's `limit`: the scanner never reads them, and the report counts them rather than
/// staying silent. `None` when there are none.
pub fn skipped_larger_than(image: &Image, scanner: &str, limit: u64) -> Option<SkippedFiles> {
    let mut files = 0;
    let mut bytes = 0;
    let mut examples = BTreeSet::new();
    for e in image.layers.iter().flat_map(|l| &l.entries) {
        if e.kind == EntryKind::File && e.size > limit {
            files += 1;
            bytes += e.size;
            examples.insert(format!("/{}", e.path.trim_start_matches('/')));
        }
    }
    (files > 0).then(|| SkippedFiles {
        scanner: scanner.to_owned(),
        reason: format!("larger than {limit} bytes"),
        files,
        bytes,
        examples: examples.into_iter().take(5).collect(),
    })
}
