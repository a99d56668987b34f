//! Reading container images: sources, manifests, layers and the squashed file view.

mod error;
pub mod layer;
mod limits;
mod read;
pub mod source;
pub mod spec;
/// The squashed file view, from the pure model crate (`bulwark-layer`).
pub use bulwark_layer::view;

pub use error::{Error, LimitKind, Result};
pub use limits::Limits;
pub use source::{ImageSource, SOURCES};

pub use read::{
    Image, LayerCache, LinkedPath, NoCache, NoProgress, Progress, ReadOptions, cache_key, open, read_image, read_layers,
};

/// The scanners' read-only view of an image read here (see `bulwark_layer::AnalyzedImage`).
impl bulwark_layer::AnalyzedImage for Image {
    fn layers(&self) -> &[std::sync::Arc<layer::LayerIndex>] {
        &self.layers
    }

    fn view(&self) -> &view::FileView {
        &self.view
    }

    fn config(&self) -> Option<&spec::ImageConfig> {
        self.resolved.as_ref().map(|r| &r.config)
    }

    fn annotations(&self) -> &std::collections::BTreeMap<String, String> {
        static NONE: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        self.resolved.as_ref().map_or(&NONE, |r| &r.manifest.annotations)
    }

    fn created_by(&self, layer: usize) -> Option<&str> {
        self.resolved.as_ref()?.layers.get(layer)?.created_by.as_deref()
    }
}
