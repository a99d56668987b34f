//! The integration tests of bulwark-vulndb in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod update;
mod vulndb;
