//! The `bulwark` command.

use std::process::ExitCode;

mod cli;
mod commands;
mod db;
mod progress;
mod sbom;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    commands::run(args)
}
