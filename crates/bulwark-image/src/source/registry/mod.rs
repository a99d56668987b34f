//! The OCI distribution API client. (Being written: see the contract below.)

use std::path::PathBuf;
use std::sync::Arc;

use bulwark_core::{DockerRef, Platform};

use super::{BlobStore, ResolvedImage};
use crate::{Error, Limits, Result};

/// How to reach and authenticate to registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Allow plain HTTP to any registry (`--insecure-registry`); loopback registries
    /// may always fall back to plain HTTP.
    pub insecure: bool,
    /// Credentials given on the command line; they win over the Docker config file.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The Docker client config to read credentials from; default
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
}

/// Fetches the manifest for `reference`, selects `platform` from an index, fetches the
/// config, and returns a blob store that streams layers from the registry.
pub fn open(
    reference: &DockerRef,
    _opts: &RegistryOptions,
    _platform: Option<&Platform>,
    _limits: &Limits,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    Err(Error::Unsupported(format!("registry:{reference}: registry access is not built yet")))
}
