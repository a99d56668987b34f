//! The integration tests of the `bulwark` binary and its crates, in one test binary so that
//! the CLI's dependency graph (yara-x/boreal, sqlx, axum, rustls…) is linked once, not once
//! per file. Each module is one area; `support` holds the helpers they share. Tests that
//! spawn the binary use `CARGO_BIN_EXE_bulwark`, and pass environment to the child
//! `Command` (never `set_var`): every test here shares one process.

mod architecture;
mod clamav;
mod cli;
mod compose;
mod db_cli;
mod first_hour_cli;
mod gate;
mod hostile_layers;
mod image_refs;
mod key_cli;
mod memory_limits;
mod promote;
mod redaction;
mod registry_cli;
mod scan_e2e;
mod server_client;
mod server_e2e;
mod server_secrets;
mod sign_cli;
mod support;
mod vuln_e2e;
mod worker_cli;
