//! The `bulwark` command.

use std::io::Write;
use std::process::ExitCode;

mod cli;
mod client;
mod commands;
mod config_file;
mod db;
mod hints;
mod key;
mod output;
mod progress;
mod promote;
mod sbom;
mod scan;
mod server;
mod sign;
mod terminal;
mod worker;

fn main() -> ExitCode {
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let mut args = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    // `bulwark.yaml` fills in what the command line and environment leave unset.
    if let (cli::Command::Scan(scan), Some(("scan", sub))) = (&mut args.command, matches.subcommand())
        && let Err(e) = config_file::apply(scan, sub)
    {
        let _ = write!(std::io::stderr(), "{}", commands::render_error(&e));
        return ExitCode::from(2);
    }
    commands::run(args)
}
