//! Reading container images: sources, manifests, layers and the squashed file view.

mod error;
mod limits;
pub mod source;
pub mod spec;

pub use error::{Error, Result};
pub use limits::Limits;
