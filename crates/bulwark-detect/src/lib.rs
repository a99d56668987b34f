//! Detection inside images, in the same single pass over the layers as package cataloguing:
//!
//! - [`malware`]: YARA rules (a bundled pack and the user's), known-bad hash lists, and
//!   archives opened recursively in memory within limits;
//! - [`secret`]: credentials in files and in the image config, never reported whole;
//! - [`config`]: misconfigurations of the image config, history and files.
//!
//! File scanners are [`bulwark_layer::FileAnalyzer`]s: they run while each layer streams
//! past and store per-path results in the layer's (cached) analysis. Turning stored results
//! into report findings happens afterwards, over every layer, so files that a later layer
//! deleted are still reported with the layer that removed them.

use std::collections::BTreeSet;

use bulwark_core::report::SkippedFiles;
use bulwark_layer::{AnalyzedImage, EntryKind};

pub mod config;
pub mod malware;
pub mod secret;

/// Every result the analyzer `id` stored, in every layer, base first: the layer, the path
/// (as stored, without a leading `/`), the later layer that deleted or replaced that copy
/// (`None` when a running container sees it), the tar entry of a copy that a later entry
/// of the same layer replaced, and the stored value.
///
/// That includes copies a later entry of the same layer replaced (the layer itself is then
/// the one that replaced them: their bytes still ship in the blob), and, at the path of a
/// hard link, the body the link kept when the path it pointed at was rewritten afterwards
/// (what `tar` or `umoci` leave at the link's path).
#[allow(clippy::type_complexity)]
pub fn stored_results<'a>(
    image: &'a dyn AnalyzedImage,
    id: &str,
) -> Vec<(usize, &'a str, Option<usize>, Option<u64>, &'a serde_json::Value)> {
    let mut out = Vec::new();
    for (layer, index) in image.layers().iter().enumerate() {
        if let Some(results) = index.analyses.get(id) {
            for (path, value) in results {
                out.push((layer, path.as_str(), image.view().superseded_in(path, layer), None, value));
            }
        }
        for copy in &index.replaced {
            if let Some(value) = copy.analyses.get(id) {
                out.push((layer, copy.path.as_str(), Some(layer), Some(copy.tar_entry), value));
            }
        }
    }
    for (path, node) in image.view().iter() {
        let Some(body) = &node.link_body else { continue };
        let at_own_path = image.view().get(&body.path).is_some_and(|n| n.layer == body.layer && n.index == body.entry);
        if at_own_path {
            continue;
        }
        let Some(layer) = image.layers().get(body.layer) else { continue };
        if let Some(value) = layer.analysis_of(body.entry, id) {
            let entry = layer.replaced.iter().find(|r| r.entry == body.entry).map(|r| r.tar_entry);
            out.push((body.layer, path, None, entry, value));
        }
    }
    out
}

/// Regular files in any layer (a copy a later layer deleted still ships) larger than a
/// scanner's `limit`: the scanner never reads them, and the report counts them rather than
/// staying silent. `None` when there are none.
pub fn skipped_larger_than(image: &dyn AnalyzedImage, scanner: &str, limit: u64) -> Option<SkippedFiles> {
    let mut files = 0;
    let mut bytes = 0;
    let mut examples = BTreeSet::new();
    for e in image.layers().iter().flat_map(|l| &l.entries) {
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
