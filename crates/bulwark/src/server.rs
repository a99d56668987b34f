//! `bulwark server`: the REST API over one store (SQLite in `--data-dir` by default,
//! PostgreSQL with `--database-url`), HTTP or HTTPS, with `--workers N` scan workers in the
//! same process. Settings come from flags and `BULWARK_*` variables, then the `--config`
//! YAML file, then defaults; an unknown key in the file is an error that names it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde::Deserialize;

/// How long running requests and scans get to finish after SIGTERM.
const DEFAULT_GRACE_SECS: u64 = 30;

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Directory of the embedded SQLite store (and the first admin token) [default: ~/.local/share/bulwark]
    #[arg(long, env = "BULWARK_DATA_DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL store, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, instead of --data-dir
    #[arg(long, env = "BULWARK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address to listen on, HOST:PORT (port 0 picks a free one) [default: 127.0.0.1:8080]
    #[arg(long, env = "BULWARK_LISTEN")]
    pub listen: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS
    #[arg(long, env = "BULWARK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, env = "BULWARK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Scan workers in this process (0: none, run `bulwark worker` elsewhere) [default: the core count]
    #[arg(long, env = "BULWARK_WORKERS")]
    pub workers: Option<usize>,
    /// Largest request body in bytes [default: 33554432]
    #[arg(long, env = "BULWARK_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Requests per second per token (or per address without one) [default: 100]
    #[arg(long, env = "BULWARK_RATE_PER_SECOND")]
    pub rate_per_second: Option<u32>,
    /// Requests a caller may make at once before the rate applies [default: 200]
    #[arg(long, env = "BULWARK_RATE_BURST")]
    pub rate_burst: Option<u32>,
    /// Let POST /scans name sources on this machine (oci:, dir:, docker: …); off by default
    #[arg(long, env = "BULWARK_ALLOW_LOCAL_SOURCES")]
    pub allow_local_sources: bool,
    /// Seconds running requests and scans get after SIGTERM [default: 30]
    #[arg(long, env = "BULWARK_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<u64>,
    /// Advisory database the workers match against [default: $BULWARK_DB or ~/.cache/bulwark/db/bulwark.db, if present]
    #[arg(long, env = "BULWARK_DB")]
    pub db: Option<PathBuf>,
    /// Layer cache directory of the workers [default: ~/.cache/bulwark/layers]
    #[arg(long, env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Key-encryption key file (64 hex characters, mode 0600) sealing stored registry credentials [default: $BULWARK_KEK; without either, none can be stored]
    #[arg(long, value_name = "FILE", env = "BULWARK_KEK_FILE")]
    pub kek_file: Option<PathBuf>,
    /// Where the first admin token goes when this server creates it (mode 0600) [default: <data-dir>/admin-token; on stderr with --database-url]
    #[arg(long, value_name = "FILE", env = "BULWARK_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Configuration file (YAML) with these flags' long names as keys
    #[arg(long, value_name = "FILE", env = "BULWARK_SERVER_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The config file: the flags' long names as keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    workers: Option<usize>,
    max_body_bytes: Option<usize>,
    rate_per_second: Option<u32>,
    rate_burst: Option<u32>,
    allow_local_sources: Option<bool>,
    shutdown_grace: Option<u64>,
    db: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    kek_file: Option<PathBuf>,
    admin_token_file: Option<PathBuf>,
}

fn read_config(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
    let value = bulwark_policy::to_json(&text).map_err(|d| anyhow!("config file {}:{d}", path.display()))?;
    if value.is_null() {
        return Ok(FileConfig::default());
    }
    serde_json::from_value(value).map_err(|e| {
        anyhow!("config file {}: {e}\nhint: keys are the long flags of `bulwark server --help`", path.display())
    })
}

/// Flags and environment first, then the file.
fn merge(args: ServerArgs) -> Result<ServerArgs> {
    let Some(path) = args.config.clone() else { return Ok(args) };
    let f = read_config(&path)?;
    if args.data_dir.is_none() && args.database_url.is_none() && f.data_dir.is_some() && f.database_url.is_some() {
        bail!("config file {}: give data-dir or database-url, not both", path.display());
    }
    let from_flags_store = args.data_dir.is_some() || args.database_url.is_some();
    Ok(ServerArgs {
        data_dir: if from_flags_store { args.data_dir } else { f.data_dir },
        database_url: if from_flags_store { args.database_url } else { f.database_url },
        listen: args.listen.or(f.listen),
        tls_cert: args.tls_cert.or(f.tls_cert),
        tls_key: args.tls_key.or(f.tls_key),
        workers: args.workers.or(f.workers),
        max_body_bytes: args.max_body_bytes.or(f.max_body_bytes),
        rate_per_second: args.rate_per_second.or(f.rate_per_second),
        rate_burst: args.rate_burst.or(f.rate_burst),
        allow_local_sources: args.allow_local_sources || f.allow_local_sources.unwrap_or(false),
        shutdown_grace: args.shutdown_grace.or(f.shutdown_grace),
        db: args.db.or(f.db),
        cache_dir: args.cache_dir.or(f.cache_dir),
        kek_file: args.kek_file.or(f.kek_file),
        admin_token_file: args.admin_token_file.or(f.admin_token_file),
        config: Some(path),
    })
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("bulwark")
}

pub fn run(args: ServerArgs) -> Result<u8> {
    let args = merge(args)?;
    if args.tls_cert.is_some() != args.tls_key.is_some() {
        bail!("give both --tls-cert and --tls-key, or neither");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(serve(args))?;
    Ok(crate::commands::OK)
}

async fn serve(args: ServerArgs) -> Result<()> {
    let (store, data_dir) = match &args.database_url {
        Some(url) => (bulwark_store::Store::open(url).await?, None),
        None => {
            let dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
            (bulwark_store::Store::open_data_dir(&dir).await?, Some(dir))
        }
    };
    let token_file = args.admin_token_file.clone().or_else(|| data_dir.map(|d| d.join("admin-token")));
    announce_bootstrap(&store, token_file.as_deref()).await?;
    // Secrets (registry credentials) are sealed with this key; without one the API refuses
    // to store any.
    let kek = bulwark_store::secrets::Kek::configured(args.kek_file.as_deref())?.map(std::sync::Arc::new);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(bulwark_server::listen::tls_config(c, k)?),
        _ => None,
    };
    let d = bulwark_server::ServerConfig::default();
    let config = bulwark_server::ServerConfig {
        max_body_bytes: args.max_body_bytes.unwrap_or(d.max_body_bytes),
        rate_per_second: args.rate_per_second.unwrap_or(d.rate_per_second),
        rate_burst: args.rate_burst.unwrap_or(d.rate_burst),
        allow_local_sources: args.allow_local_sources,
        max_wait_seconds: d.max_wait_seconds,
    };
    let listen = args.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let (listener, addr) = bulwark_server::listen::bind(&listen).await?;
    // Handlers first: a SIGTERM sent as soon as the address is announced stops gracefully.
    let signal = crate::worker::shutdown_signal();
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Tests and scripts read the address from this line (port 0 picks a free one).
    let _ = writeln!(std::io::stderr().lock(), "bulwark server: listening on {scheme}://{addr}");
    let grace = Duration::from_secs(args.shutdown_grace.unwrap_or(DEFAULT_GRACE_SECS));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let worker_task = (workers > 0).then(|| {
        let runner = crate::worker::runner(crate::worker::JobSettings {
            cache_dir: args.cache_dir.clone(),
            no_cache: false,
            db: args.db.clone(),
            no_db: false,
            secrets: Some(crate::worker::JobSecrets { store: store.clone(), kek: kek.clone() }),
        });
        let config = bulwark_store::worker::WorkerConfig {
            name: format!("server-{}", std::process::id()),
            concurrency: workers,
            shutdown_grace: grace,
            ..Default::default()
        };
        tokio::spawn(bulwark_store::worker::run(store.clone(), runner, config, stop_rx.clone()))
    });
    let state = bulwark_server::AppState::with_kek(store.clone(), config, kek);
    let verdicts = tokio::spawn(bulwark_server::record_verdicts(state.clone(), stop_rx.clone()));
    let mut stop_http = stop_rx.clone();
    let shutdown = async move {
        let _ = stop_http.wait_for(|s| *s).await;
    };
    tokio::spawn(async move {
        signal.await;
        let _ = writeln!(std::io::stderr().lock(), "bulwark server: stopping (finishing requests and scans in flight)");
        let _ = stop_tx.send(true);
    });
    bulwark_server::listen::serve(listener, bulwark_server::router(state), tls, shutdown, grace).await?;
    if let Some(task) = worker_task {
        // The loop releases what it could not finish within the grace time.
        let _ = tokio::time::timeout(grace + Duration::from_secs(5), task).await;
    }
    let _ = verdicts.await;
    store.close().await;
    Ok(())
}

/// On a store without users: creates `admin` with a token, shown once: written to
/// `token_file` (`--admin-token-file`, else `admin-token` in the data dir), readable by the
/// owner only, or printed on stderr when there is no such file (PostgreSQL without the flag).
/// Servers that share a store and one token file (e.g. a volume in docker-compose) all
/// find it there, whichever of them created the user.
async fn announce_bootstrap(store: &bulwark_store::Store, token_file: Option<&Path>) -> Result<()> {
    let Some(secret) = bulwark_server::bootstrap_admin(store, 30).await? else { return Ok(()) };
    let mut err = std::io::stderr().lock();
    match token_file {
        Some(path) => {
            write_private(path, &secret)?;
            let _ = writeln!(
                err,
                "bulwark server: created user admin; its token (valid 30 days) is in {}\nhint: create your own tokens with POST /api/v1/tokens, then delete that file",
                path.display()
            );
        }
        None => {
            let _ = writeln!(
                err,
                "bulwark server: created user admin with this token (valid 30 days; shown once):\n{secret}"
            );
        }
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    // A new file with mode 0600 replaces any older one atomically: a token file left with
    // looser permissions is never reused, and a crash never leaves half a token.
    let mut f = bulwark_fs::AtomicFile::create_with_mode(path, 0o600)?;
    writeln!(f.file_mut(), "{text}").with_context(|| format!("writing {}", path.display()))?;
    f.commit()?;
    Ok(())
}
