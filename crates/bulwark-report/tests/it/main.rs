//! The integration tests of bulwark-report in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod formats;
mod sbom;

use std::path::Path;

use serde_json::Value;

/// A fixture file's bytes; a test fails naming the file when it cannot be read.
fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture file as JSON.
fn json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
