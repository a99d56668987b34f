//! `oci:<dir>[:tag|@digest]`: an OCI image layout directory (read with [`super::oci`]).

use std::sync::Arc;

use bulwark_core::{Platform, Reference, Target};

use super::{BlobStore, ImageSource, ResolvedImage, oci, wrong_shape};
use crate::Result;
use crate::read::ReadOptions;

/// The `oci:` source.
#[derive(Debug)]
pub struct OciLayout;

impl ImageSource for OciLayout {
    fn scheme(&self) -> &'static str {
        "oci"
    }

    fn open(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        platform: Option<&Platform>,
    ) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
        let Target::Layout { path, selector } = reference.target() else { return Err(wrong_shape(self, reference)) };
        oci::open_dir(path, selector, &reference.to_string(), platform, &opts.limits).map(Some)
    }
}
