//! Test support for every Bulwark crate: one place for what tests used to copy.
//!
//! - [`shared`] and [`shared_dir`]: the shared test data folder (`BULWARK_SHARED`, default
//!   `../shared` beside the repository), with a clear failure when it is missing;
//! - [`image`] (feature `image`): builds real images (tar layers with long names, links,
//!   whiteouts; gzip/zstd; OCI layouts and archives, `docker save` archives);
//! - [`report`] (feature `report`): builders for packages, vulnerabilities and reports;
//! - [`registry`] (feature `registry`): real `docker-registry` processes, `skopeo` pushes,
//!   a token server and a hostile in-process HTTP server.
//!
//! A dev-dependency only (`publish = false`); tests that need a tool never skip quietly:
//! they are `#[ignore = "needs …"]` or the tool is installed by `scripts/setup-dev.sh`.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};

#[cfg(feature = "image")]
pub mod image;
/// Secrets in their real formats (a GitHub token with a valid checksum, a private key).
pub mod planted;
#[cfg(feature = "registry")]
pub mod registry;
#[cfg(feature = "report")]
pub mod report;

/// The shared test data folder: `BULWARK_SHARED`, else `../shared` beside the repository.
/// Panics with what to set when it is missing, so a test never passes without its data.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(p.is_dir(), "test data folder {} is missing; set BULWARK_SHARED to the shared/ folder", p.display());
    p
}

/// `rel` inside [`shared`], which must exist (a folder or a file).
pub fn shared_dir(rel: &str) -> PathBuf {
    let p = shared().join(rel);
    assert!(p.exists(), "shared test data not found at {} (set BULWARK_SHARED to the shared/ folder)", p.display());
    p
}

/// For a test that cannot run here because `what` (a tool, an environment variable) is
/// missing: fails when `CI` is set, where `scripts/setup-dev.sh` provides everything, so CI
/// never passes by skipping; elsewhere says on stderr that the test did not run.
pub fn skip_unless_ci(what: &str) {
    assert!(std::env::var_os("CI").is_none(), "{what}: CI must not skip this test (scripts/setup-dev.sh provides it)");
    eprintln!("skipped: {what}");
}
