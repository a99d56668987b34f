//! The read-only face of an analysed image that scanners work on.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{FileView, ImageConfig, LayerIndex};

/// An image whose layers were analysed and squashed, as the detectors and the inventory
/// see it, whatever source it was read from. `bulwark_image::Image` implements it; the
/// scanners take `&dyn AnalyzedImage`, so they never depend on the crate that reads images
/// (registries, Docker, archives).
pub trait AnalyzedImage {
    /// One analysis per layer, base first (a root filesystem directory has exactly one).
    fn layers(&self) -> &[Arc<LayerIndex>];
    /// The squashed view of [`AnalyzedImage::layers`].
    fn view(&self) -> &FileView;
    /// The image config; `None` for a source without one (a root filesystem directory).
    fn config(&self) -> Option<&ImageConfig>;
    /// The manifest's annotations; empty without a manifest.
    fn annotations(&self) -> &BTreeMap<String, String>;
    /// The build step that created layer `layer` (its history entry's `created_by`), when
    /// the config says.
    fn created_by(&self, layer: usize) -> Option<&str>;
}
