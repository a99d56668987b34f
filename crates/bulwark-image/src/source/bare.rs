//! A bare `<ref>` (no scheme): the local Docker engine's image of that name if it has one,
//! else the registry's, as Trivy and `docker run` resolve it. The image is reported under
//! the source it was read from (`docker:app:1` or `registry:docker.io/library/app:1`).

use std::sync::Arc;

use bulwark_core::{Platform, Reference, Target};

use super::{BlobStore, ImageSource, ResolvedImage, docker, registry, wrong_shape};
use crate::read::{self, Image, LayerCache, Progress, ReadOptions};
use crate::{Error, Result};

/// The bare-reference source.
#[derive(Debug)]
pub struct Bare;

impl ImageSource for Bare {
    fn scheme(&self) -> &'static str {
        "bare"
    }

    /// Opened from the registry here; [`ImageSource::read`] looks in the local Docker engine
    /// first.
    fn open(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        platform: Option<&Platform>,
    ) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
        registry::open_reference(reference, opts, platform).map(Some)
    }

    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        let Target::Registry { reference: r, .. } = reference.target() else {
            return Err(wrong_shape(self, reference));
        };
        if let Some(image) = read_bare_from_engine(r, opts, cache, progress)? {
            return Ok(image);
        }
        read::read_blob_addressed(reference, "registry", opts, cache, progress)
    }
}

/// A bare reference in the local Docker engine: `Ok(None)` when the engine does not have
/// it or cannot be reached (then the registry is tried), as Trivy does. Only an image the
/// engine has and that then fails to read is an error.
fn read_bare_from_engine(
    r: &bulwark_core::DockerRef,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Option<Image>> {
    // The engine knows `app:1` as `docker.io/library/app:1` too; the short form is what
    // `docker images` shows, and what the user most likely typed.
    let name = engine_name(r);
    let Ok(engine) = docker::Engine::from_env() else { return Ok(None) };
    let found = match engine.inspect_image(&name) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        // An engine that is not running, or answers with an error, is not this image's
        // source; the registry is tried next, as for an image the engine does not have.
        Err(Error::Docker(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    read::read_engine_image(&engine, &found, &format!("docker:{name}"), "docker", Vec::new(), opts, cache, progress)
        .map(Some)
}

/// How `docker images` spells a registry reference: no `docker.io/library/` prefix.
fn engine_name(r: &bulwark_core::DockerRef) -> String {
    let mut name = if r.registry == bulwark_core::DEFAULT_REGISTRY {
        r.repository.strip_prefix("library/").unwrap_or(&r.repository).to_owned()
    } else {
        format!("{}/{}", r.registry, r.repository)
    };
    if let Some(t) = &r.tag {
        name = format!("{name}:{t}");
    }
    if let Some(d) = &r.digest {
        name = format!("{name}@{d}");
    }
    name
}
