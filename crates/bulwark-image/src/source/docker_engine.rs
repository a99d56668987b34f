//! `docker:<name|id>`: an image in the local Docker engine, inspected and exported by id
//! over the Engine API ([`super::docker::Engine`]; `read::read_engine_image`).

use bulwark_core::{Reference, Target};

use super::{ImageSource, docker, wrong_shape};
use crate::read::{self, Image, LayerCache, Progress, ReadOptions};
use crate::{Error, Result};

/// The `docker:` source.
#[derive(Debug)]
pub struct DockerEngine;

impl ImageSource for DockerEngine {
    fn scheme(&self) -> &'static str {
        "docker"
    }

    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        let Target::LocalImage(wanted) = reference.target() else { return Err(wrong_shape(self, reference)) };
        let name = reference.to_string();
        let engine = docker::Engine::from_env()?;
        let found = engine.inspect_image(wanted)?.ok_or_else(|| not_in_engine(wanted))?;
        read::read_engine_image(&engine, &found, &name, self.scheme(), Vec::new(), opts, cache, progress)
    }
}

fn not_in_engine(name: &str) -> Error {
    let latest = if !name.contains(['@', ':']) || name.rsplit_once(':').is_some_and(|(_, t)| t.contains('/')) {
        format!(" (a name without a tag means {name}:latest)")
    } else {
        String::new()
    };
    Error::NotFound(format!(
        "docker:{name}: the Docker engine has no such image{latest} (hint: `docker images` lists local images)"
    ))
}
