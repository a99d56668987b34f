//! The integration tests of the catalogers, one module per ecosystem (and `fixtures` for the
//! OS package databases), in one test binary so that the crate and its dependencies are
//! linked once, not once per file. Real data comes from `../shared` (bulwark-testkit's
//! `shared()`) and from fixtures built by real package managers (`tests/data`).

mod fixtures;
mod java_debian;
mod lang_dotnet;
mod lang_golang;
mod lang_java;
mod lang_node;
mod lang_php;
mod lang_python;
mod lang_ruby;
mod lang_rust;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Go or Rust binary built (or fetched) by `tests/data/make-binary-fixtures.sh PART` into
/// the fixture cache (`BULWARK_FIXTURE_CACHE`, else `~/.cache/bulwark-fixtures`), running the
/// script when `rel` is missing.
fn binary_fixture(rel: &str, part: &str) -> PathBuf {
    let cache = std::env::var_os("BULWARK_FIXTURE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/bulwark-fixtures"));
    let path = cache.join(rel);
    if !path.exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-binary-fixtures.sh");
        let status = Command::new("bash").arg(&script).arg(part).status().expect("run make-binary-fixtures.sh");
        assert!(status.success(), "{} {part} failed", script.display());
    }
    assert!(path.exists(), "{} missing after make-binary-fixtures.sh", path.display());
    path
}
