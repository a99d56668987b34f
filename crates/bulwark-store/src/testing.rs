//! A throwaway PostgreSQL server for test suites: `initdb` on a temp dir, `postgres` on a
//! free loopback port, trust auth, durability off (tests do not survive power loss anyway),
//! stopped and deleted on drop. PostgreSQL refuses to run as root: under root it runs as
//! the `postgres` user that Debian's package creates.
//!
//! Never skipped: when the binaries are missing, [`TempPostgres::start`] fails with how to
//! install them (`scripts/setup-dev.sh`).

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running PostgreSQL server; stopped on drop.
#[derive(Debug)]
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<(u32, u32)>,
    child: Child,
    next_db: AtomicU32,
}

fn find_bin() -> Result<PathBuf, String> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").is_file()).collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().ok_or_else(|| {
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup-dev.sh".to_owned()
    })
}

/// The uid and gid of `postgres` when running as root.
fn server_user() -> Result<Option<(u32, u32)>, String> {
    let euid = std::fs::metadata("/proc/self").map(|m| m.uid()).map_err(|e| format!("/proc/self: {e}"))?;
    if euid != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        })
        .flatten()
        .map(Some)
        .ok_or_else(|| "running as root and there is no `postgres` user to run PostgreSQL as".to_owned())
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    if path.is_dir() {
        for e in std::fs::read_dir(path)? {
            chown_tree(&e?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn as_user(mut cmd: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

impl TempPostgres {
    /// Initialises and starts a server; waits until it accepts connections.
    pub fn start() -> Result<TempPostgres, String> {
        let bin = find_bin()?;
        let user = server_user()?;
        let dir = tempfile::Builder::new().prefix("bulwark-pg-").tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        if let Some((uid, gid)) = user {
            chown_tree(dir.path(), uid, gid).map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
        }
        let mut initdb = as_user(Command::new(bin.join("initdb")), user);
        initdb.args(["--auth=trust", "--username=bulwark", "--encoding=UTF8", "--no-sync", "--no-instructions"]);
        let out = initdb.arg("-D").arg(&data).stdin(Stdio::null()).output().map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let mut postgres = as_user(Command::new(bin.join("postgres")), user);
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("postgres.log")).map_err(|e| format!("postgres.log: {e}"))?,
            ));
        let child = postgres.spawn().map_err(|e| format!("postgres: {e}"))?;
        let mut server = TempPostgres { dir, bin, port, user, child, next_db: AtomicU32::new(0) };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("postgres exited ({status}): {}", self.log()));
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "bulwark", "-d", "postgres"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("postgres did not start within 60 s: {}", self.log()))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    /// The URL of the server's `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://bulwark@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates a new, empty database and returns its URL: one per test keeps tests apart.
    pub async fn fresh_database(&self) -> Result<String, sqlx::Error> {
        use sqlx::Connection as _;
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{n}");
        let mut conn = sqlx::PgConnection::connect(&self.admin_url()).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
        conn.close().await?;
        Ok(format!("postgres://bulwark@127.0.0.1:{}/{name}", self.port))
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut stop = as_user(Command::new(self.bin.join("pg_ctl")), self.user);
        let stopped = stop
            .args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
