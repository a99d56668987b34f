//! Command-line syntax (clap types only; behaviour lives in `commands`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const REFERENCES: &str = "\
Image references:
  oci:<dir>[:tag|@digest]          OCI image layout directory
  oci-archive:<file>[:tag|@digest] tar of an OCI image layout
  docker-archive:<file>[:repo:tag] `docker save` output
  dir:<path>                       unpacked root filesystem
  docker:<name|id>                 image in the local Docker engine (DOCKER_HOST or /var/run/docker.sock)
  registry:<ref> or <ref>          image in a registry, e.g. localhost:5000/app:1.2 or ghcr.io/org/app@sha256:...";

/// Bulwark: find vulnerabilities, malware, secrets and misconfigurations in container images.
#[derive(Debug, Parser)]
#[command(name = "bulwark", version, about, after_help = REFERENCES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan an image (for now: OS, layers and files)
    #[command(after_help = REFERENCES)]
    Scan(ScanArgs),
    /// Show an image's manifest, config and layers
    #[command(after_help = REFERENCES)]
    Inspect(InspectArgs),
    /// Write an image's SBOM (CycloneDX 1.6, SPDX 2.3 or Bulwark JSON)
    #[command(after_help = REFERENCES)]
    Sbom(SbomArgs),
    /// Build and inspect the advisory database
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Build the database from local feeds (OSV directories, files or all.zip; KEV; EPSS; NVD)
    Build(DbBuildArgs),
    /// Show the database's age, sources and record counts
    Status(DbStatusArgs),
    /// Download the public feeds (osv.dev all.zip per ecosystem, CISA KEV, FIRST EPSS) and rebuild
    Update(DbUpdateArgs),
    /// Install a database file built elsewhere (air-gapped machines), after checking it
    Import(DbImportArgs),
    /// Copy the database to a file, to carry to another machine
    Export(DbExportArgs),
}

#[derive(Debug, Args)]
pub struct DbUpdateArgs {
    /// Database file to replace (atomically; a failed update leaves it working) [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db]
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// OSV ecosystems to download, e.g. PyPI, Go, npm, crates.io, Maven, Debian:12, Alpine:v3.19
    #[arg(long = "ecosystem", value_name = "NAME", required = true)]
    pub ecosystems: Vec<String>,
    /// Base URL of an osv.dev-layout mirror
    #[arg(long, env = "BULWARK_OSV_BASE", default_value = bulwark_vulndb::update::DEFAULT_OSV_BASE)]
    pub osv_base: String,
    /// CISA KEV JSON URL
    #[arg(long, env = "BULWARK_KEV_URL", default_value = bulwark_vulndb::update::DEFAULT_KEV_URL)]
    pub kev_url: String,
    /// FIRST EPSS CSV.gz URL
    #[arg(long, env = "BULWARK_EPSS_URL", default_value = bulwark_vulndb::update::DEFAULT_EPSS_URL)]
    pub epss_url: String,
    /// Skip the KEV catalog
    #[arg(long)]
    pub no_kev: bool,
    /// Skip EPSS scores
    #[arg(long)]
    pub no_epss: bool,
}

#[derive(Debug, Args)]
pub struct DbImportArgs {
    /// The database file to install
    pub file: PathBuf,
    /// Where to install it (atomically replaced) [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db]
    #[arg(long)]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbExportArgs {
    /// The file to write
    pub file: PathBuf,
    /// The database to export [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db]
    #[arg(long)]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbBuildArgs {
    /// Database file to write (atomically replaced) [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db]
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// OSV records: a directory (recursive), a .json/.yaml file or an all.zip; NAME=PATH to name it
    #[arg(long, value_name = "[NAME=]PATH")]
    pub osv: Vec<String>,
    /// CISA Known Exploited Vulnerabilities JSON
    #[arg(long, value_name = "[NAME=]PATH")]
    pub kev: Vec<String>,
    /// FIRST EPSS scores, CSV or CSV.gz
    #[arg(long, value_name = "[NAME=]PATH")]
    pub epss: Vec<String>,
    /// NVD 2.0 JSON, for CVSS where advisories have none
    #[arg(long, value_name = "[NAME=]PATH")]
    pub nvd: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DbStatusArgs {
    /// Database file [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db]
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Warn when the database is older than this many days
    #[arg(long, default_value_t = 7)]
    pub max_age_days: u64,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// An image to scan and how to read it: shared by `scan` and `sbom`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image reference (see below)
    pub image: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Never draw progress bars
    #[arg(long, env = "BULWARK_NO_PROGRESS")]
    pub no_progress: bool,
    /// Print nothing but the output and errors
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Layer cache directory [default: ~/.cache/bulwark/layers]
    #[arg(long, env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not use the layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Largest layer cache size in bytes
    #[arg(long, default_value_t = 2 << 30)]
    pub cache_max_bytes: u64,
    /// Advisory database to match against [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db, if present]
    #[arg(long, env = "BULWARK_DB")]
    pub db: Option<PathBuf>,
    /// Do not match vulnerabilities (inventory only)
    #[arg(long, conflicts_with = "db")]
    pub no_db: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: ImageArgs,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "table", env = "BULWARK_FORMAT")]
    pub format: Format,
    /// Write the report to this file instead of stdout
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON
    Cyclonedx,
    /// SPDX 2.3 JSON
    Spdx,
    /// Bulwark's own JSON report
    Json,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub input: ImageArgs,
    /// SBOM format
    #[arg(long, short = 'f', value_enum, default_value = "cyclonedx")]
    pub format: SbomFormat,
    /// Write the SBOM to this file instead of stdout
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image reference (see below)
    pub image: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
}

/// How to reach images, shared by every command that reads one.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Platform to select from multi-platform images, os/arch[/variant] [default: the host's]
    #[arg(long, env = "BULWARK_PLATFORM")]
    pub platform: Option<String>,
    /// Allow plain HTTP (and fall back from HTTPS) for registries that are not on loopback
    #[arg(long)]
    pub insecure_registry: bool,
    /// Registry user name
    #[arg(long, env = "BULWARK_USERNAME")]
    pub username: Option<String>,
    /// Read the registry password from stdin
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Docker client config with registry credentials [default: ~/.docker/config.json]
    #[arg(long)]
    pub docker_config: Option<PathBuf>,
    /// Layers read at once
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Largest manifest or index accepted, in bytes
    #[arg(long)]
    pub max_manifest_bytes: Option<u64>,
    /// Largest image config accepted, in bytes
    #[arg(long)]
    pub max_config_bytes: Option<u64>,
    /// Largest uncompressed layer accepted, in bytes
    #[arg(long)]
    pub max_layer_bytes: Option<u64>,
    /// Largest compression ratio accepted (decompression bombs)
    #[arg(long)]
    pub max_compression_ratio: Option<u64>,
    /// Most tar entries accepted in one layer
    #[arg(long)]
    pub max_entries: Option<u64>,
    /// Largest single file read into memory, in bytes
    #[arg(long)]
    pub max_file_bytes: Option<u64>,
    /// Most layers accepted in one image
    #[arg(long)]
    pub max_layers: Option<usize>,
}
