//! `container:<name|id>`: the image of a container in the local Docker engine (its own
//! changes to its filesystem are not read; the report says so).

use bulwark_core::{Reference, Target};

use super::{ImageSource, docker, wrong_shape};
use crate::read::{self, Image, LayerCache, Progress, ReadOptions};
use crate::{Error, Result};

/// The `container:` source.
#[derive(Debug)]
pub struct Container;

impl ImageSource for Container {
    fn scheme(&self) -> &'static str {
        "container"
    }

    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        let Target::LocalContainer(wanted) = reference.target() else { return Err(wrong_shape(self, reference)) };
        let name = reference.to_string();
        let engine = docker::Engine::from_env()?;
        let container = engine.inspect_container(wanted)?.ok_or_else(|| {
            Error::NotFound(format!(
                "container:{wanted}: the Docker engine has no container by this name or id (hint: `docker ps -a` lists them; `docker:` names images)"
            ))
        })?;
        let found = engine.inspect_image(&container.image)?.ok_or_else(|| {
            Error::NotFound(format!("container:{wanted}: its image {} is gone from the engine", container.image))
        })?;
        let named = container.config.as_ref().map(|c| c.image.as_str()).filter(|i| !i.is_empty());
        let image_name = match named {
            Some(n) if n != found.id => format!("{n} ({})", found.id),
            _ => found.id.clone(),
        };
        let note = bulwark_core::Warning::source(format!(
            "container {} ({}): scanned its image {image_name}; files the container changed or added since it started are not included (that needs the Bulwark sensor)",
            container.name.trim_start_matches('/'),
            &container.id[..container.id.len().min(12)],
        ));
        read::read_engine_image(&engine, &found, &name, self.scheme(), vec![note], opts, cache, progress)
    }
}
