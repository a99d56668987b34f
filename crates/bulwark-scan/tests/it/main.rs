//! The integration tests of bulwark-scan in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod catalog;
mod clean_image;
mod engine;
