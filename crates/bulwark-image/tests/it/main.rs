//! The integration tests of bulwark-image in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod hostile;
mod registry;
mod sources;
