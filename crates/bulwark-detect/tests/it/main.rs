//! The integration tests of bulwark-detect in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod config;
mod malware;
mod secret;
