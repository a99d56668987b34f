//! The layer and image model that scanners work on, with no IO: what one layer holds
//! ([`LayerIndex`]: entries, whiteouts, captured files and analyzer results), the
//! [`FileAnalyzer`] trait that scanners implement to read file contents while a layer
//! streams, the squashed [`FileView`], the image config, and [`AnalyzedImage`], the
//! read-only face of an analysed image.
//!
//! Reading images (sources, registries, blob streaming, digests and bomb limits) lives in
//! `bulwark-image`, which builds these values; the detectors and catalogers depend only on
//! this crate.
//!
//! ```
//! use bulwark_layer::{Compression, Entry, EntryKind, FileView, LayerIndex};
//!
//! let mut layer = LayerIndex::empty(Compression::None);
//! layer.entries.push(Entry {
//!     path: "etc/os-release".into(),
//!     kind: EntryKind::File,
//!     size: 10,
//!     mode: 0o644,
//!     uid: 0,
//!     gid: 0,
//!     sha256: None,
//! });
//! let view = FileView::build([&layer]);
//! assert_eq!(view.get("/etc/os-release").unwrap().layer, 0);
//! ```

mod analyzer;
mod config;
mod error;
mod image;
mod model;
pub mod view;

pub use analyzer::{AnalyzeOptions, Capture, FileAnalyzer};
pub use config::{ContainerConfig, History, ImageConfig, InvalidConfig, RootFs};
pub use error::{AnalyzeCause, AnalyzeError};
pub use image::AnalyzedImage;
pub use model::{
    Compression, Content, Entry, EntryKind, ImageBudget, LAYER_INDEX_LAYOUT, LayerIndex, LinkRequest, LinkedRead,
    OverBudget, ReplacedCopy, ResultBudget, normalize_path, stored_bytes,
};
pub use view::FileView;
