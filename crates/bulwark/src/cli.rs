//! Command-line syntax (clap types only; behaviour lives in `commands`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::{OUTPUT_HELP, OutputSpec, lenient, parse_output};

const REFERENCES: &str = "\
Image references:
  oci:<dir>[:tag|@digest]          OCI image layout directory
  oci-archive:<file>[:tag|@digest] tar of an OCI image layout
  docker-archive:<file>[:repo:tag] `docker save` output
  dir:<path>                       unpacked root filesystem
  docker:<name|id>                 image in the local Docker engine (DOCKER_HOST or /var/run/docker.sock);
                                   a name without a tag is <name>:latest
  container:<name|id>              the image of a container in the local Docker engine (not the
                                   container's own changes)
  registry:<ref>                   image in a registry, e.g. localhost:5000/app:1.2 or ghcr.io/org/app@sha256:...
  <ref>                            the local Docker engine's image if it has one, else the registry's
  sbom:<file>                      a CycloneDX or SPDX JSON SBOM (vulnerabilities only)

Exit codes: 0 done (and the policy passed, if any), 1 the policy failed, 2 error.";

/// Bulwark: find vulnerabilities, malware, secrets and misconfigurations in container images.
#[derive(Debug, Parser)]
#[command(name = "bulwark", version, about, after_help = REFERENCES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan an image: vulnerabilities, malware, secrets and misconfigurations, checked against a policy
    #[command(after_help = REFERENCES)]
    Scan(Box<ScanArgs>),
    /// Show an image's manifest, config and layers
    #[command(after_help = REFERENCES)]
    Inspect(InspectArgs),
    /// Write an image's SBOM (CycloneDX 1.6, SPDX 2.3 or Bulwark JSON)
    #[command(after_help = REFERENCES)]
    Sbom(SbomArgs),
    /// Build and inspect the advisory database
    #[command(subcommand)]
    Db(DbCommand),
    /// Check reports against image assertion policies, and lint policies
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Generate and inspect cosign-compatible signing keys
    #[command(subcommand)]
    Key(crate::key::KeyCommand),
    /// Sign an image in a registry by digest (cosign's format: the .sig tag, and an OCI 1.1 referrer)
    Sign(crate::sign::SignArgs),
    /// Verify an image's signatures: keys, bring-your-own PKI, or keyless offline (exit 1 if none verifies)
    Verify(crate::sign::VerifyArgs),
    /// Attach a signed in-toto attestation (verdict, SBOM or vuln) from a saved report
    Attest(crate::sign::AttestArgs),
    /// Verify an image's attestations, and for verdicts that they passed, are fresh and used the given policy
    VerifyAttestation(crate::sign::VerifyAttestationArgs),
    /// Scan SRC; if it passes, copy it to DST, sign and attest it there, and only then set DST's tag
    #[command(after_help = REFERENCES)]
    Promote(Box<crate::promote::PromoteArgs>),
    /// Run scan jobs from the server's store (SQLite or PostgreSQL) until SIGTERM
    Worker(Box<crate::worker::WorkerArgs>),
    /// Serve the REST API (/api/v1) over a store, with scan workers in the same process
    Server(Box<crate::server::ServerArgs>),
    /// Manage the secrets the server holds (key-encryption key rotation)
    #[command(subcommand)]
    Secrets(crate::secrets::SecretsCommand),
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
    /// Fail a download attempt (then retry, resuming) after this many seconds without data
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub stall_timeout: u64,
    /// Download an ecosystem's all.zip instead of single records when more than this many changed
    #[arg(long, value_name = "N", default_value_t = bulwark_vulndb::update::DEFAULT_MAX_INCREMENTAL)]
    pub max_incremental: usize,
    /// Download every ecosystem's all.zip even when an incremental update (modified_id.csv) is possible
    #[arg(long)]
    pub full: bool,
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
    /// Red Hat CSAF VEX documents: a .json file or a directory of them (source name csaf:<file>)
    #[arg(long, value_name = "[NAME=]PATH")]
    pub csaf: Vec<String>,
    /// Debian security tracker states: its JSON (plain or .gz) or per-CVE files (vuln-list-debian)
    #[arg(long, value_name = "[NAME=]PATH")]
    pub debian_tracker: Vec<String>,
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
    #[arg(long, short = 'q', env = "BULWARK_QUIET")]
    pub quiet: bool,
    /// Layer cache directory [default: ~/.cache/bulwark/layers]
    #[arg(long, env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not use the layer cache
    #[arg(long, env = "BULWARK_NO_CACHE")]
    pub no_cache: bool,
    /// Largest layer cache size in bytes
    #[arg(long, default_value_t = 2 << 30, env = "BULWARK_CACHE_MAX_BYTES")]
    pub cache_max_bytes: u64,
    /// Advisory database to match against [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db, if present]
    #[arg(long, env = "BULWARK_DB")]
    pub db: Option<PathBuf>,
    /// Do not match vulnerabilities (inventory only)
    #[arg(long, conflicts_with = "db", env = "BULWARK_NO_DB")]
    pub no_db: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: ImageArgs,
    /// Scanners to run
    #[arg(long, value_delimiter = ',', value_parser = lenient::<Scanner>(), env = "BULWARK_SCANNERS",
          default_values = ["vuln", "malware", "secret", "config"])]
    pub scanners: Vec<Scanner>,
    /// Only report findings of these severities (all kinds), e.g. critical,high (any case, spaces allowed)
    #[arg(long, value_delimiter = ',', value_parser = lenient::<SeverityArg>(), env = "BULWARK_SEVERITY")]
    pub severity: Vec<SeverityArg>,
    /// Leave out vulnerabilities that have no fixed version
    #[arg(long, env = "BULWARK_IGNORE_UNFIXED")]
    pub ignore_unfixed: bool,
    /// Image assertion policy (YAML); exit code 1 when it fails
    #[arg(long, env = "BULWARK_POLICY")]
    pub policy: Option<PathBuf>,
    /// Without a policy: fail (exit 1, or --exit-code) when a finding of this severity or
    /// worse is found, or one of unknown severity, or a scanner could not check everything;
    /// display filters do not change it
    #[arg(long, value_enum, env = "BULWARK_FAIL_ON")]
    pub fail_on: Option<SeverityArg>,
    /// The exit code for --fail-on; alone, fail with it on any finding (as with --fail-on unknown)
    #[arg(long, env = "BULWARK_EXIT_CODE", value_parser = clap::value_parser!(u8).range(1..))]
    pub exit_code: Option<u8>,
    /// Format of the report on stdout (or of a plain --output FILE) [default: table]
    #[arg(long, short = 'f', value_parser = lenient::<ReportFormat>(), env = "BULWARK_FORMAT")]
    pub format: Option<ReportFormat>,
    /// Write a report to a file: FORMAT=FILE, or FILE in the format its extension names (see --help); repeatable
    #[arg(long, short = 'o', value_name = "[FORMAT=]FILE", value_parser = parse_output, env = "BULWARK_OUTPUT",
          long_help = OUTPUT_HELP)]
    pub output: Vec<OutputSpec>,
    /// Ignore file (YAML): advisory ids with scope, reason and expiry [default: .bulwarkignore.yaml if present]
    #[arg(long, env = "BULWARK_IGNORE_FILE")]
    pub ignore_file: Vec<PathBuf>,
    /// VEX document (OpenVEX or CycloneDX VEX); repeatable
    #[arg(long, env = "BULWARK_VEX")]
    pub vex: Vec<PathBuf>,
    /// YARA rule file or directory, in addition to the bundled rules; repeatable
    #[arg(long, env = "BULWARK_YARA_RULES")]
    pub yara_rules: Vec<PathBuf>,
    /// Do not load the bundled YARA rules
    #[arg(long, env = "BULWARK_NO_BUNDLED_RULES")]
    pub no_bundled_rules: bool,
    /// Known-bad file hashes (SHA-256, SHA-1 or MD5), one per line or CSV; repeatable
    #[arg(long, env = "BULWARK_MALWARE_HASHES")]
    pub malware_hashes: Vec<PathBuf>,
    /// Malware engines: yara (Bulwark's YARA rules and hash lists), clamav (a clamd daemon, see --clamd)
    #[arg(long, value_delimiter = ',', value_parser = lenient::<MalwareEngine>(), env = "BULWARK_MALWARE_ENGINE",
          default_values = ["yara"])]
    pub malware_engine: Vec<MalwareEngine>,
    /// clamd's socket for --malware-engine clamav: a Unix socket path or host:port [default: /var/run/clamav/clamd.ctl]
    #[arg(long, value_name = "ADDRESS", env = "BULWARK_CLAMD")]
    pub clamd: Option<String>,
    /// Largest file streamed to clamd; set it to clamd's StreamMaxLength (larger files are counted as skipped) [default: 26214400]
    #[arg(long, value_name = "BYTES", env = "BULWARK_CLAMD_MAX_STREAM_BYTES")]
    pub clamd_max_stream_bytes: Option<u64>,
    /// Seconds clamd may take to answer for one file before the scan fails
    #[arg(long, value_name = "SECONDS", default_value_t = 120, env = "BULWARK_CLAMD_TIMEOUT")]
    pub clamd_timeout: u64,
    /// Secret rules: Bulwark TOML or a gitleaks TOML file; repeatable
    #[arg(long, env = "BULWARK_SECRET_RULES")]
    pub secret_rules: Vec<PathBuf>,
    /// Do not report secrets in files under this glob (e.g. /app/tests/**); repeatable
    #[arg(long, env = "BULWARK_SECRET_ALLOW_PATH")]
    pub secret_allow_path: Vec<String>,
    /// Do not report this secret fingerprint or rule id; repeatable
    #[arg(long, env = "BULWARK_SECRET_ALLOW")]
    pub secret_allow: Vec<String>,
    /// Largest file the malware and secret scanners read, in bytes (larger ones are counted as skipped)
    #[arg(long, env = "BULWARK_MAX_SCAN_FILE_BYTES")]
    pub max_scan_file_bytes: Option<u64>,
    /// Never use the network: registry references are refused, bare references are looked up in the local Docker engine only, and nothing is downloaded
    #[arg(long, env = "BULWARK_OFFLINE")]
    pub offline: bool,
    /// JUnit output: one testcase per policy rule or per finding
    #[arg(long, value_enum, default_value = "rules", env = "BULWARK_JUNIT_CASES")]
    pub junit_cases: JunitCases,
    /// Warn when the advisory database is older than this many days
    #[arg(long, default_value_t = 7, env = "BULWARK_DB_MAX_AGE_DAYS")]
    pub db_max_age_days: u64,
    /// Configuration file with the same keys as these flags [default: ./bulwark.yaml if present]
    #[arg(long, value_name = "FILE", env = "BULWARK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub sign: crate::sign::ScanSignArgs,
    /// The scan's settings: flags, environment and config file merged
    /// (`config_file::settings`); `None` until `main` (or `promote`) fills it in.
    #[arg(skip)]
    pub settings: Option<bulwark_scan::ScanSettings>,
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Scanner {
    /// Known vulnerabilities of OS and language packages
    Vuln,
    /// YARA rules and hash lists over every file of every layer, inside archives too
    Malware,
    /// Credentials in files and in the image config
    Secret,
    /// Misconfigurations of the image config, history and files
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum MalwareEngine {
    /// Bulwark's own: the bundled and --yara-rules YARA rules and --malware-hashes lists
    Yara,
    /// ClamAV's clamd over its socket (INSTREAM); opens 7z, cab, OLE2, mail, packers…
    Clamav,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JunitCases {
    Rules,
    Findings,
}

/// Report formats of `bulwark scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable table
    Table,
    /// Bulwark's JSON report (schemas/report.schema.json)
    Json,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// JUnit XML (Jenkins, GitLab)
    Junit,
    /// CycloneDX 1.6 JSON with vulnerabilities
    Cyclonedx,
    /// SPDX 2.3 JSON
    Spdx,
    /// One self-contained HTML page
    Html,
    /// Markdown, for pull-request comments
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Re-evaluate a saved JSON report against a policy, without rescanning (exit 1 when it fails)
    Check(PolicyCheckArgs),
    /// Validate a policy file, with line and column for each problem
    Lint(PolicyLintArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// A report written by `bulwark scan --format json`
    pub report: PathBuf,
    /// The policy file
    #[arg(long, env = "BULWARK_POLICY")]
    pub policy: PathBuf,
    /// Output format [default: table]
    #[arg(long, short = 'f', value_parser = lenient::<ReportFormat>())]
    pub format: Option<ReportFormat>,
    /// Write a report to a file: FORMAT=FILE, or FILE in the format its extension names; repeatable
    #[arg(long, short = 'o', value_name = "[FORMAT=]FILE", value_parser = parse_output, long_help = OUTPUT_HELP)]
    pub output: Vec<OutputSpec>,
    /// Evaluate exceptions as of this day (YYYY-MM-DD) [default: today]
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// The policy file
    pub file: PathBuf,
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
    /// Platform to select from multi-platform images, os/arch[/variant] [default: the host's]; an image without it is an error
    #[arg(long, env = "BULWARK_PLATFORM")]
    pub platform: Option<String>,
    /// When the image lacks --platform, scan the host's platform (or the one platform the image has), with a warning
    #[arg(long, requires = "platform", env = "BULWARK_PLATFORM_FALLBACK")]
    pub platform_fallback: bool,
    /// Allow plain HTTP (and fall back from HTTPS) for registries that are not on loopback
    #[arg(long, env = "BULWARK_INSECURE_REGISTRY")]
    pub insecure_registry: bool,
    /// Registry user name
    #[arg(long, env = "BULWARK_USERNAME")]
    pub username: Option<String>,
    /// Read the registry password from stdin
    #[arg(long, requires = "username", env = "BULWARK_PASSWORD_STDIN")]
    pub password_stdin: bool,
    /// Docker client config directory (like DOCKER_CONFIG) or its config.json, with registry credentials [default: $DOCKER_CONFIG or ~/.docker]
    #[arg(long, value_name = "DIR", env = "BULWARK_DOCKER_CONFIG")]
    pub docker_config: Option<PathBuf>,
    /// Layers read at once
    #[arg(long, short = 'j', env = "BULWARK_JOBS")]
    pub jobs: Option<usize>,
    /// Largest manifest or index accepted, in bytes
    #[arg(long, env = "BULWARK_MAX_MANIFEST_BYTES")]
    pub max_manifest_bytes: Option<u64>,
    /// Largest image config accepted, in bytes
    #[arg(long, env = "BULWARK_MAX_CONFIG_BYTES")]
    pub max_config_bytes: Option<u64>,
    /// Largest uncompressed layer accepted, in bytes
    #[arg(long, env = "BULWARK_MAX_LAYER_BYTES")]
    pub max_layer_bytes: Option<u64>,
    /// Largest compression ratio accepted (decompression bombs)
    #[arg(long, env = "BULWARK_MAX_COMPRESSION_RATIO")]
    pub max_compression_ratio: Option<u64>,
    /// Most tar entries accepted in one layer
    #[arg(long, env = "BULWARK_MAX_ENTRIES")]
    pub max_entries: Option<u64>,
    /// Largest single file read into memory, in bytes
    #[arg(long, env = "BULWARK_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    /// Most layers accepted in one image
    #[arg(long, env = "BULWARK_MAX_LAYERS")]
    pub max_layers: Option<usize>,
    /// Most packages kept from one package database, lockfile or SBOM (the rest is counted in a warning)
    #[arg(long, env = "BULWARK_MAX_PACKAGES")]
    pub max_packages: Option<u64>,
    /// Most owned files kept per package (the rest is counted in a warning)
    #[arg(long, env = "BULWARK_MAX_PACKAGE_FILES")]
    pub max_package_files: Option<u64>,
    /// Most findings kept per rule and scanner (the rest is counted in a warning)
    #[arg(long, env = "BULWARK_MAX_FINDINGS")]
    pub max_findings: Option<u64>,
    /// Most Env, Labels, history and ExposedPorts entries of the image config checked (the rest is counted in a warning)
    #[arg(long, env = "BULWARK_MAX_CONFIG_ENTRIES")]
    pub max_config_entries: Option<u64>,
    /// Most memory, in bytes, the analyzer results and captured files of one layer may take (the rest is counted in a warning and reported as not checked)
    #[arg(long, env = "BULWARK_MAX_LAYER_RESULTS")]
    pub max_layer_results: Option<u64>,
    /// Most memory, in bytes, the analyzer results and captured files of all layers of one image may take together (over it the scan stops with exit 2)
    #[arg(long, env = "BULWARK_MAX_IMAGE_RESULTS")]
    pub max_image_results: Option<u64>,
}
