//! `oci-archive:<file>[:tag|@digest]`: a tar of an OCI image layout, read in place (with [`super::oci`]).

use std::sync::Arc;

use bulwark_core::{Platform, Reference, Target};

use super::{BlobStore, ImageSource, ResolvedImage, oci, wrong_shape};
use crate::Result;
use crate::read::ReadOptions;

/// The `oci-archive:` source.
#[derive(Debug)]
pub struct OciArchive;

impl ImageSource for OciArchive {
    fn scheme(&self) -> &'static str {
        "oci-archive"
    }

    fn open(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        platform: Option<&Platform>,
    ) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
        let Target::Layout { path, selector } = reference.target() else { return Err(wrong_shape(self, reference)) };
        oci::open_archive(path, selector, &reference.to_string(), platform, &opts.limits).map(Some)
    }
}
