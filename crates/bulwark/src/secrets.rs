//! `bulwark secrets rotate-kek`: re-encrypts every secret the server holds (registry
//! credentials) under a new key-encryption key, in one transaction of the store.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use bulwark_store::secrets::Kek;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every stored secret under a new key-encryption key (then restart servers and workers with it)
    RotateKek(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The store: postgres://USER@HOST[:PORT]/DB or sqlite://PATH
    #[arg(long, env = "BULWARK_DATABASE_URL", required_unless_present = "data_dir", conflicts_with = "data_dir")]
    pub database_url: Option<String>,
    /// A data directory holding the SQLite store (bulwark.db)
    #[arg(long, env = "BULWARK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The key-encryption key the secrets are sealed with now (mode 0600); repeat for several
    #[arg(long = "old-kek-file", value_name = "FILE", required = true)]
    pub old: Vec<PathBuf>,
    /// The new key-encryption key (64 hex characters, mode 0600)
    #[arg(long = "new-kek-file", value_name = "FILE")]
    pub new: PathBuf,
}

pub fn run(command: SecretsCommand) -> Result<u8> {
    let SecretsCommand::RotateKek(args) = command;
    let old = args.old.iter().map(|p| Kek::from_file(p)).collect::<Result<Vec<_>, _>>()?;
    let new = Kek::from_file(&args.new)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    let moved = runtime.block_on(async {
        let store = match (&args.database_url, &args.data_dir) {
            (Some(url), _) => bulwark_store::Store::open(url).await,
            (None, Some(dir)) => bulwark_store::Store::open_data_dir(dir).await,
            (None, None) => unreachable!("clap requires one"),
        }
        .context("opening the store")?;
        let old: Vec<&Kek> = old.iter().collect();
        let moved = store.rotate_secrets(&old, &new).await;
        store.close().await;
        anyhow::Ok(moved?)
    })?;
    let _ = writeln!(std::io::stderr(), "secrets: {moved} re-encrypted under key-encryption key {}", new.id());
    Ok(crate::commands::OK)
}
