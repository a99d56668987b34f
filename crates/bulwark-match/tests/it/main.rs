//! The integration tests of bulwark-match in one test binary, so the crate and its dependencies
//! are linked once, not once per file. Real data comes from `../shared` (bulwark-testkit).

mod distro_states;
mod evaluator;
mod suppress;
