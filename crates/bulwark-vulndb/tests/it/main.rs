//! The integration tests of bulwark-vulndb in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod update;
mod vulndb;
// The matcher (bulwark-match) over a real database built from ../shared: they live here so
// that bulwark-match, a pure crate, has no SQLite or HTTP crate even among its dev-dependencies.
mod match_maven_fallback;
mod match_real_data;
