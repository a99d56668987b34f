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
