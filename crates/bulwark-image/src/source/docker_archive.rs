//! `docker-archive:<file>[:repo:tag]`: `docker save` output, read front to back once
//! (`read::read_saved`, over [`super::docker`]).

use bulwark_core::{Reference, Target};

use super::{ImageSource, wrong_shape};
use crate::read::{self, Image, LayerCache, Progress, ReadOptions};
use crate::{Error, Result};

/// The `docker-archive:` source.
#[derive(Debug)]
pub struct DockerArchive;

impl ImageSource for DockerArchive {
    fn scheme(&self) -> &'static str {
        "docker-archive"
    }

    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        let Target::Archive { path, tag } = reference.target() else { return Err(wrong_shape(self, reference)) };
        let name = reference.to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reopen = || -> Result<Box<dyn std::io::Read>> {
            let f = std::fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            Ok(Box::new(f))
        };
        let mut image = read::read_saved(file, size, &name, tag.as_deref(), None, opts, cache, progress, &reopen)?;
        let platform = image.resolved.as_ref().and_then(|r| r.platform.clone());
        read::check_platform(&mut image.warnings, &name, platform.as_ref(), opts)?;
        Ok(image)
    }
}
