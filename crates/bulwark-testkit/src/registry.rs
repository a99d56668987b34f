//! Test harness for the registry client: real `docker-registry` processes, OCI layouts
//! pushed with `skopeo`, an in-process token server and an in-process hostile HTTP
//! server. Everything listens on 127.0.0.1 only.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub const SETUP_HINT: &str =
    "run scripts/setup-dev.sh (it installs docker-registry, skopeo, apache2-utils and openssl)";

/// Panics with a setup hint unless `tool` is on `PATH`.
pub fn require_tool(tool: &str) {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file())).unwrap_or(false);
    assert!(found, "`{tool}` is not installed; {SETUP_HINT}");
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex_string(&Sha256::digest(data))
}

pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// docker-registry

/// How a test registry authenticates clients.
#[derive(Debug)]
pub enum RegistryAuth {
    None,
    /// A bcrypt htpasswd file.
    Htpasswd(PathBuf),
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert: PathBuf,
    },
}

/// A `docker-registry serve` process, killed on drop.
#[derive(Debug)]
pub struct RegistryProcess {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl RegistryProcess {
    pub fn start(auth: RegistryAuth) -> RegistryProcess {
        RegistryProcess::start_with(auth, None)
    }

    /// With `tls = Some((cert, key))` the registry serves HTTPS only.
    pub fn start_with(auth: RegistryAuth, tls: Option<(&Path, &Path)>) -> RegistryProcess {
        require_tool("docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let auth_yaml = match &auth {
            RegistryAuth::None => String::new(),
            RegistryAuth::Htpasswd(path) => {
                format!("auth:\n  htpasswd:\n    realm: bulwark-test\n    path: {}\n", path.display())
            }
            RegistryAuth::Token { realm, service, issuer, root_cert } => format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                root_cert.display()
            ),
        };
        let tls_yaml = match tls {
            Some((cert, key)) => format!("  tls:\n    certificate: {}\n    key: {}\n", cert.display(), key.display()),
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bulwark-test-secret\n{tls_yaml}{auth_yaml}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start docker-registry ({e}); {SETUP_HINT}"));
        let mut reg = RegistryProcess { child, port, dir };
        reg.wait_ready(tls.is_some());
        reg
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self, tls: bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("docker-registry exited early ({status}):\n{}", self.log());
            }
            // A TLS registry answers plain HTTP with 400.
            if let Some(status) = raw_get_status(self.port, "/v2/")
                && (status == 200 || status == 401 || tls && status == 400)
            {
                return;
            }
            assert!(Instant::now() < deadline, "docker-registry did not answer on /v2/:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain `GET` to 127.0.0.1:port, if anything answered.
fn raw_get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A bcrypt htpasswd file for one user, made with `htpasswd -Bbn`.
pub fn htpasswd_file(dir: &Path, user: &str, pass: &str) -> PathBuf {
    require_tool("htpasswd");
    let out = Command::new("htpasswd").args(["-Bbn", user, pass]).output().unwrap();
    assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
    let path = dir.join("htpasswd");
    std::fs::write(&path, out.stdout).unwrap();
    path
}

/// `skopeo copy` from an OCI layout to a loopback registry.
pub fn skopeo_push(layout: &Path, tag: &str, dest: &str, all: bool, creds: Option<&str>) {
    require_tool("skopeo");
    let auth_dir = tempfile::tempdir().unwrap();
    let auth_file = auth_dir.path().join("auth.json");
    std::fs::write(&auth_file, "{}").unwrap();
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"]);
    cmd.arg("--dest-authfile").arg(&auth_file);
    if all {
        cmd.arg("--all");
    }
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    cmd.arg(format!("oci:{}:{tag}", layout.display())).arg(format!("docker://{dest}"));
    cmd.env("REGISTRY_AUTH_FILE", &auth_file).stdin(Stdio::null());
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run skopeo ({e}); {SETUP_HINT}"));
    assert!(
        out.status.success(),
        "skopeo copy to {dest} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate and key for 127.0.0.1, in `dir`.
pub fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    require_tool("openssl");
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

// ---------------------------------------------------------------------------------------
// OCI layouts

/// A blob with its descriptor fields.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        Blob { media_type: media_type.to_owned(), digest: sha256_digest(&bytes), bytes }
    }

    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// One built image: layers, config, manifest.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub layers: Vec<Blob>,
    pub diff_ids: Vec<String>,
    pub config: Blob,
    pub manifest: Blob,
}

/// A gzip tar layer holding `files`; returns the blob and the diff_id.
pub fn gzip_layer(files: &[(&str, &[u8])]) -> (Blob, String) {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, *data).unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let diff_id = sha256_digest(&raw);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&raw).unwrap();
    (Blob::new("application/vnd.oci.image.layer.v1.tar+gzip", gz.finish().unwrap()), diff_id)
}

/// An OCI image for `arch` with one layer per entry of `layers`.
pub fn build_image(arch: &str, layers: &[&[(&str, &[u8])]]) -> TestImage {
    let (layers, diff_ids): (Vec<Blob>, Vec<String>) = layers.iter().map(|files| gzip_layer(files)).unzip();
    let history: Vec<Value> =
        (0..layers.len()).map(|i| json!({"created_by": format!("RUN step {i} ({arch})")})).collect();
    let config = json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    let config = Blob::new("application/vnd.oci.image.config.v1+json", serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config.descriptor(),
        "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    let manifest = Blob::new("application/vnd.oci.image.manifest.v1+json", serde_json::to_vec(&manifest).unwrap());
    TestImage { layers, diff_ids, config, manifest }
}

/// An OCI image index over `images` (each with its platform's architecture).
pub fn build_index(images: &[(&str, &TestImage)]) -> Blob {
    let manifests: Vec<Value> = images
        .iter()
        .map(|(arch, img)| {
            let mut d = img.manifest.descriptor();
            d["platform"] = json!({"architecture": arch, "os": "linux"});
            d
        })
        .collect();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    Blob::new("application/vnd.oci.image.index.v1+json", serde_json::to_vec(&index).unwrap())
}

/// Writes an OCI layout with `blobs`, tagging `top` as `tag`.
pub fn write_layout(dir: &Path, blobs: &[&Blob], top: &Blob, tag: &str) {
    let blob_dir = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blob_dir).unwrap();
    for b in blobs.iter().copied().chain([top]) {
        std::fs::write(blob_dir.join(b.digest.trim_start_matches("sha256:")), &b.bytes).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut d = top.descriptor();
    d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let index = json!({"schemaVersion": 2, "manifests": [d]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Every blob of an image, manifest excluded.
pub fn image_blobs(img: &TestImage) -> Vec<&Blob> {
    img.layers.iter().chain([&img.config]).collect()
}

// ---------------------------------------------------------------------------------------
// In-process HTTP servers

/// A request as the in-process servers saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Lower-cased header names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// Decoded query parameters, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.target.split_once('?') else { return Vec::new() };
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a handler answers.
#[derive(Debug)]
pub enum Reply {
    /// A complete response; `Content-Length` is added unless `no_length`.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8>, no_length: bool },
    /// A body without `Content-Length` that goes on until `cap` bytes or until the
    /// client hangs up; the bytes written are counted in the server's `streamed`.
    Endless { status: u16, headers: Vec<(String, String)>, cap: u64 },
    /// Hang up without answering (a dropped connection).
    Close,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply::Full { status, headers: Vec::new(), body: Vec::new(), no_length: false }
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Reply {
        if let Reply::Full { body, .. } = &mut self {
            *body = b.into();
        }
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        match &mut self {
            Reply::Full { headers, .. } | Reply::Endless { headers, .. } => headers.push((k.into(), v.into())),
            Reply::Close => {}
        }
        self
    }

    pub fn without_length(mut self) -> Reply {
        if let Reply::Full { no_length, .. } = &mut self {
            *no_length = true;
        }
        self
    }

    pub fn json(status: u16, v: &Value) -> Reply {
        Reply::new(status).header("Content-Type", "application/json").body(serde_json::to_vec(v).unwrap())
    }
}

type Handler = dyn Fn(&SeenRequest) -> Reply + Send + Sync;

/// A hand-written HTTP/1.1 server: one request per connection, `Connection: close`.
#[derive(Debug)]
pub struct TestServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<SeenRequest>>>,
    /// Body bytes written by `Reply::Endless` responses.
    pub streamed: Arc<AtomicU64>,
    /// Set when an endless response has stopped writing.
    pub endless_done: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start(handler: impl Fn(&SeenRequest) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let streamed = Arc::new(AtomicU64::new(0));
        let endless_done = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, str_, done, stop2) = (requests.clone(), streamed.clone(), endless_done.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, r, s, d) = (handler.clone(), reqs.clone(), str_.clone(), done.clone());
                std::thread::spawn(move || serve_one(conn, &*h, &r, &s, &d));
            }
        });
        TestServer { port, requests, streamed, endless_done, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<SeenRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_one(
    mut conn: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<SeenRequest>>,
    streamed: &AtomicU64,
    endless_done: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
        // A TLS ClientHello (client probing HTTPS) or garbage: hang up.
        if head.len() == 1 && !head[0].is_ascii_uppercase() || head.len() > 64 << 10 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len.min(1 << 20)];
    if conn.read_exact(&mut body).is_err() {
        return;
    }
    let req = SeenRequest { method, target, headers, body };
    requests.lock().unwrap().push(req.clone());
    let reply = handler(&req);
    let status_line = |status: u16| format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n", reason(status));
    match reply {
        Reply::Full { status, headers, body, no_length } => {
            let mut out = status_line(status);
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            if !no_length {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("\r\n");
            let _ = conn.write_all(out.as_bytes());
            let _ = conn.write_all(&body);
        }
        Reply::Endless { status, headers, cap } => {
            let mut out = status_line(status);
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = conn.write_all(out.as_bytes());
            let chunk = vec![b' '; 16 << 10];
            while streamed.load(Ordering::SeqCst) < cap {
                match conn.write(&chunk) {
                    Ok(n) if n > 0 => {
                        streamed.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
            endless_done.store(true, Ordering::SeqCst);
        }
        Reply::Close => {}
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Write);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------
// Token server (Docker registry token authentication, RS256 JWTs signed with openssl)

/// Key material for the token server: an RSA key and a self-signed certificate that the
/// registry trusts as its `rootcertbundle`.
#[derive(Debug)]
pub struct TokenKeys {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub cert: PathBuf,
    /// The certificate in DER, base64 (standard alphabet) for the `x5c` header.
    pub cert_der_b64: String,
}

impl TokenKeys {
    pub fn generate() -> TokenKeys {
        require_tool("openssl");
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("token.key");
        let cert = dir.path().join("token.crt");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bulwark-test-token"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
        let der = Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(&cert).output().unwrap();
        assert!(der.status.success());
        let cert_der_b64 = base64::engine::general_purpose::STANDARD.encode(der.stdout);
        TokenKeys { dir, key, cert, cert_der_b64 }
    }

    /// An RS256 JWT over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [self.cert_der_b64]});
        let signing_input =
            format!("{}.{}", b64(&serde_json::to_vec(&header).unwrap()), b64(&serde_json::to_vec(claims).unwrap()));
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(signing_input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl dgst failed");
        format!("{signing_input}.{}", b64(&out.stdout))
    }
}

pub const TOKEN_SERVICE: &str = "bulwark-test-registry";
pub const TOKEN_ISSUER: &str = "bulwark-test-issuer";

/// A token server that grants every requested action to `user:pass`.
pub fn token_server(keys: Arc<TokenKeys>, user: &'static str, pass: &'static str) -> TestServer {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")));
    TestServer::start(move |req| {
        if req.path() != "/token" {
            return Reply::new(404);
        }
        if req.header("authorization") != Some(expected.as_str()) {
            return Reply::json(401, &json!({"details": "bad credentials"}));
        }
        let query = req.query();
        let service = query.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
        let access: Vec<Value> = query
            .iter()
            .filter(|(k, _)| k == "scope")
            .filter_map(|(_, scope)| {
                let mut parts = scope.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let claims = json!({
            "iss": TOKEN_ISSUER,
            "sub": user,
            "aud": service,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now - 10,
            "jti": format!("jti-{now}-{}", access.len()),
            "access": access,
        });
        let token = keys.sign(&claims);
        Reply::json(200, &json!({"token": token, "expires_in": 600}))
    })
}
