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

use bulwark_image::Image;

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
            results.iter().map(move |(path, value)| {
                (layer, path.as_str(), image.view.superseded_in(path, layer), value)
            })
        })
    })
}
