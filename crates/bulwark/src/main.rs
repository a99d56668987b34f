//! The `bulwark` command.

use std::io::Write;
use std::process::ExitCode;

mod cli;
mod commands;
mod config_file;
mod db;
mod hints;
mod key;
mod output;
mod progress;
mod sbom;
mod scan;
mod server;
mod terminal;

fn main() -> ExitCode {
    let argv = match config_file::apply(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return ExitCode::from(2);
        }
    };
    let args = <cli::Cli as clap::Parser>::parse_from(argv);
    commands::run(args)
}
