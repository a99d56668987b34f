//! The `bulwark` command.

use std::io::Write;
use std::process::ExitCode;

mod cli;
mod client;
mod commands;
mod config_file;
mod db;
mod hints;
mod interrupt;
mod key;
mod output;
mod progress;
mod promote;
mod sbom;
mod scan;
mod secrets;
mod server;
mod sign;
mod terminal;
mod worker;
mod worker_promote;

fn main() -> ExitCode {
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let mut args = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    // One `ScanSettings` from the command line, the environment and `bulwark.yaml`.
    if let (cli::Command::Scan(scan), Some(("scan", sub))) = (&mut args.command, matches.subcommand()) {
        match config_file::settings(scan, sub) {
            Ok(settings) => scan.settings = Some(settings),
            Err(e) => {
                let _ = write!(std::io::stderr(), "{}", commands::render_error(&e));
                return ExitCode::from(2);
            }
        }
    }
    commands::run(args)
}
