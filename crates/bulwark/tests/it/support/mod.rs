//! Running the `bulwark` binary in tests, isolated from the developer's environment.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `bulwark args…` in `dir` with its layer cache and HOME in `cache` (so no advisory
/// database is found unless a test builds one), "today" fixed at 2026-06-01 for expiry
/// dates, and no Docker host, database or format settings from the caller's environment.
pub fn bulwark_in(dir: &Path, args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(args)
        .current_dir(dir)
        .env("BULWARK_CACHE_DIR", cache)
        .env("HOME", cache)
        .env("BULWARK_TODAY", "2026-06-01")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("BULWARK_DB")
        .env_remove("DOCKER_HOST")
        .env_remove("BULWARK_FORMAT")
        .output()
        .unwrap()
}

/// Real-format secrets planted in test images.
pub use bulwark_testkit::planted;

/// A policy named `release` that denies secrets and warns on misconfigurations: the one the
/// server tests store and the CLI reads, so their verdicts can be compared.
pub const RELEASE_POLICY: &str = "apiVersion: bulwark.dev/v1
kind: ImageAssertion
name: release
rules:
  - id: no-secrets
    description: no credentials in the image
    action: deny
    deny_secrets: true
  - id: no-root
    description: no misconfiguration
    action: warn
    deny_config: true
";

/// Signing and promotion helpers shared by `sign_cli` and `promote`.
pub mod sign;
