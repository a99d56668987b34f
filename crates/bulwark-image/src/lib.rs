//! Reading container images: sources, manifests, layers and the squashed file view.

mod error;
pub mod layer;
mod limits;
mod read;
pub mod source;
pub mod spec;
pub mod view;

pub use error::{Error, LimitKind, Result};
pub use limits::Limits;

pub use read::{
    Image, LayerCache, LinkedPath, NoCache, NoProgress, Progress, ReadOptions, cache_key, open, read_image, read_layers,
};
