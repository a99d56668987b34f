//! Registry credentials: command-line options, the Docker client config file and
//! Docker credential helpers.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::RegistryOptions;
use crate::{Error, Result};

/// The key Docker uses for Docker Hub in `config.json` and with credential helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// How long a credential helper may take (some prompt for a keychain unlock).
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A user name and password (or personal access token).
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (`identitytoken` in the Docker config).
    IdentityToken { username: String, token: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Credentials::IdentityToken { username, .. } => write!(f, "IdentityToken({username:?}, <redacted>)"),
        }
    }
}

impl Credentials {
    /// The value of a Basic `Authorization` header.
    pub fn basic_header(&self) -> String {
        let (user, pass) = match self {
            Credentials::Basic { username, password } => (username, password),
            Credentials::IdentityToken { username, token } => (username, token),
        };
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
    }
}

#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(default, rename = "Username")]
    username: String,
    #[serde(default, rename = "Secret")]
    secret: String,
}

/// Finds credentials for `registry` (as written in the reference, `docker.io` for Docker
/// Hub). `Ok(None)` means anonymous access.
pub(crate) fn load(registry: &str, opts: &RegistryOptions) -> Result<Option<Credentials>> {
    match (&opts.username, &opts.password) {
        (Some(username), Some(password)) => {
            return Ok(Some(Credentials::Basic { username: username.clone(), password: password.clone() }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Auth {
                registry: registry.to_owned(),
                message: "a username and a password must be given together".into(),
            });
        }
        (None, None) => {}
    }
    let (path, explicit) = match &opts.docker_config {
        Some(p) => (config_file_in(p), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(None),
        },
    };
    let config = match read_config(&path) {
        Ok(c) => c,
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading Docker config {}", path.display()), e)),
    };
    let config: DockerConfig = serde_json::from_slice(&config)
        .map_err(|e| Error::invalid(format!("Docker config {}", path.display()), e.to_string()))?;
    from_config(registry, &config, &path, opts.credential_helper_dir.as_deref())
}

/// `--docker-config DIR` names a directory like `DOCKER_CONFIG` does; a path to the
/// `config.json` file itself is accepted too.
fn config_file_in(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("config.json") } else { path.to_owned() }
}

fn default_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

fn read_config(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(MAX_CONFIG_BYTES).read_to_end(&mut buf)?;
    Ok(buf)
}

fn is_docker_hub(host: &str) -> bool {
    matches!(host, "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com")
}

/// The host (and port) a config key names: `https://host/v1/` → `host`.
fn normalize_key(key: &str) -> String {
    let k = key.trim();
    let k = k.strip_prefix("https://").or_else(|| k.strip_prefix("http://")).unwrap_or(k);
    let host = k.split('/').next().unwrap_or_default().to_ascii_lowercase();
    if is_docker_hub(&host) { "docker.io".to_owned() } else { host }
}

/// Looks a registry up in a map keyed the way Docker keys it: exact host, the
/// Docker Hub key, then any key that normalises to the same host.
fn lookup<'a, T>(map: &'a BTreeMap<String, T>, registry: &str) -> Option<&'a T> {
    let want = normalize_key(registry);
    let exact = if want == "docker.io" { DOCKER_HUB_KEY } else { registry };
    map.get(exact)
        .or_else(|| map.get(registry))
        .or_else(|| map.iter().find(|(k, _)| normalize_key(k) == want).map(|(_, v)| v))
}

fn from_config(
    registry: &str,
    config: &DockerConfig,
    config_path: &Path,
    helper_dir: Option<&Path>,
) -> Result<Option<Credentials>> {
    let helper = lookup(&config.cred_helpers, registry).or(config.creds_store.as_ref()).filter(|h| !h.is_empty());
    if let Some(helper) = helper {
        let server = if normalize_key(registry) == "docker.io" { DOCKER_HUB_KEY } else { registry };
        if let Some(creds) = run_helper(helper, server, registry, config_path, helper_dir)? {
            return Ok(Some(creds));
        }
    }
    let Some(entry) = lookup(&config.auths, registry) else { return Ok(None) };
    let bad = |reason: &str| Error::Auth {
        registry: registry.to_owned(),
        message: format!("Docker config {}: {reason}", config_path.display()),
    };
    let (mut username, mut password) = (entry.username.clone(), entry.password.clone());
    if let Some(auth) = entry.auth.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .map_err(|_| bad("the `auth` field is not valid base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("the `auth` field is not UTF-8"))?;
        let (u, p) = decoded.split_once(':').ok_or_else(|| bad("the `auth` field is not `user:password`"))?;
        username = Some(u.to_owned());
        password = Some(p.to_owned());
    }
    if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials::IdentityToken { username: username.unwrap_or_default(), token: token.clone() }));
    }
    Ok(match (username, password) {
        (Some(username), Some(password)) if !username.is_empty() || !password.is_empty() => {
            Some(Credentials::Basic { username, password })
        }
        _ => None,
    })
}

/// Runs `docker-credential-<name> get` with the server URL on stdin.
fn run_helper(
    name: &str,
    server: &str,
    registry: &str,
    config_path: &Path,
    helper_dir: Option<&Path>,
) -> Result<Option<Credentials>> {
    let fail = |message: String| Error::Auth { registry: registry.to_owned(), message };
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) || name.starts_with('.') {
        return Err(fail(format!("Docker config {}: invalid credential helper name {name:?}", config_path.display())));
    }
    let program = format!("docker-credential-{name}");
    let path = helper_dir.map(|d| d.join(&program)).filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(&program));
    let mut child = Command::new(&path)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(format!("cannot run credential helper {program} (configured in {}): {e}", config_path.display()))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status.
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(1 << 20).read_to_end(&mut buf);
        }
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(64 << 10).read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("credential helper {program} did not answer within {HELPER_TIMEOUT:?}")));
            }
            Err(e) => return Err(fail(format!("waiting for credential helper {program}: {e}"))),
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() {
        let text = format!("{} {}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        let msg: String =
            String::from_utf8_lossy(&stderr).trim().chars().filter(|c| !c.is_control()).take(200).collect();
        return Err(fail(format!(
            "credential helper {program} failed ({status}){}",
            if msg.is_empty() { String::new() } else { format!(": {msg}") }
        )));
    }
    let out: HelperOutput = serde_json::from_slice(&stdout)
        .map_err(|e| fail(format!("credential helper {program} printed invalid JSON: {e}")))?;
    if out.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if out.username == "<token>" {
        Credentials::IdentityToken { username: String::new(), token: out.secret }
    } else {
        Credentials::Basic { username: out.username, password: out.secret }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    fn get(registry: &str, json: &str) -> Option<Credentials> {
        from_config(registry, &cfg(json), Path::new("config.json"), None).unwrap()
    }

    fn basic(u: &str, p: &str) -> Option<Credentials> {
        Some(Credentials::Basic { username: u.into(), password: p.into() })
    }

    #[test]
    fn auths_keys() {
        let auth = base64::engine::general_purpose::STANDARD.encode("u:p:w");
        let json = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"r.example:5000":{{"username":"a","password":"b"}},"https://ghcr.io":{{"identitytoken":"rt","auth":"{auth}"}}}}}}"#
        );
        assert_eq!(get("docker.io", &json), basic("u", "p:w"));
        assert_eq!(get("r.example:5000", &json), basic("a", "b"));
        assert_eq!(
            get("ghcr.io", &json),
            Some(Credentials::IdentityToken { username: "u".into(), token: "rt".into() })
        );
        assert_eq!(get("other.example", &json), None);
        assert_eq!(get("r.example", &json), None);
        // An empty placeholder entry (written when a credsStore holds the secret).
        assert_eq!(get("x.io", r#"{"auths":{"x.io":{}}}"#), None);
        assert!(from_config("x.io", &cfg(r#"{"auths":{"x.io":{"auth":"!!"}}}"#), Path::new("c"), None).is_err());
    }

    #[test]
    fn debug_redacts() {
        let c = Credentials::Basic { username: "u".into(), password: "hunter2".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
        let o = RegistryOptions { password: Some("hunter2".into()), ..Default::default() };
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[test]
    fn bad_helper_names() {
        let e = from_config("x.io", &cfg(r#"{"credsStore":"../../bin/sh"}"#), Path::new("c"), None).unwrap_err();
        assert!(e.to_string().contains("invalid credential helper name"), "{e}");
    }
}
