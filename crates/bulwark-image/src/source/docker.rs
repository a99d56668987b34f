//! `docker save` streams: `docker-archive:<file>` and `docker:<name>` (the local engine's
//! `GET /images/{name}/get`). Both are tars read front to back exactly once: layers are
//! analysed as they stream past, small JSON documents are kept, and the image is put
//! together from `manifest.json` at the end (which Docker writes last).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::Arc;

use bulwark_core::Digest;

use super::{LayerRef, ResolvedImage};
use crate::layer::{self, AnalyzeOptions, Expected, LayerIndex, normalize_path};
use crate::spec::{self, Descriptor, ImageConfig, LayerKind, Manifest};
use crate::{Error, Limits, Result};

/// An image read from a `docker save` stream, its layers already analysed.
#[derive(Debug)]
pub struct SavedImage {
    pub image: ResolvedImage,
    pub layers: Vec<Arc<LayerIndex>>,
    /// What to cache for a warm rescan without an export; `None` for a config that is not
    /// UTF-8 (never seen from Docker, and not worth a second encoding).
    pub record: Option<SaveRecord>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Progress callbacks for streamed reads.
pub trait StreamProgress {
    /// Compressed bytes of the stream read so far.
    fn bytes(&self, n: u64);
}

/// The members of a `docker save` stream, read once: the JSON documents kept in memory, every
/// other regular member analysed as a layer (or the error doing so), and the links between
/// members.
struct SaveMembers {
    docs: BTreeMap<String, Vec<u8>>,
    layers: BTreeMap<String, Result<LayerIndex>>,
    links: BTreeMap<String, String>,
}

fn read_save_members(
    stream: impl Read,
    reference: &str,
    opts: &AnalyzeOptions,
    limits: &Limits,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<SaveMembers> {
    let io_err = |e: io::Error| Error::io(format!("reading {reference}"), e);
    let mut archive = tar::Archive::new(stream);
    let mut docs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut doc_bytes: u64 = 0;
    let mut layers: BTreeMap<String, Result<LayerIndex>> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    for (n, entry) in archive.entries().map_err(io_err)?.enumerate() {
        if n as u64 >= limits.max_entries {
            return Err(Error::invalid(reference, "too many members in the saved image"));
        }
        let entry = entry.map_err(io_err)?;
        let (name, _) = normalize_path(&String::from_utf8_lossy(&entry.path_bytes()));
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                // Legacy saves link repeated layers: `<id>/layer.tar -> ../<other>/layer.tar`.
                let target =
                    entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                    name.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default()
                } else {
                    String::new()
                };
                links.insert(name, normalize_path(&format!("{base}/{target}")).0);
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            _ => continue,
        }
        let size = entry.size();
        let mut reader = BufReader::with_capacity(64 * 1024, entry);
        let head = reader.fill_buf().map_err(io_err)?;
        let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let is_doc = (name.ends_with(".json")
            || name == "repositories"
            || name == "oci-layout"
            || matches!(first, Some(b'{' | b'[')))
            && size <= limits.max_config_bytes.max(limits.max_manifest_bytes);
        if is_doc {
            doc_bytes += size;
            if doc_bytes > 4 * limits.max_config_bytes.max(limits.max_manifest_bytes) {
                return Err(Error::invalid(reference, "too much JSON metadata in the saved image"));
            }
            let mut buf = Vec::with_capacity(size as usize);
            reader.read_to_end(&mut buf).map_err(io_err)?;
            docs.insert(name, buf);
            continue;
        }
        let blob_digest = name
            .strip_prefix("blobs/")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(alg, hex)| format!("{alg}:{hex}").parse::<Digest>().ok());
        let expected =
            Expected { name: name.clone(), blob_digest, blob_size: Some(size), diff_id: None, compression: None };
        let analysed = layer::analyze_layer(&mut reader, &expected, opts, limits, on_bytes);
        // A member that is not a layer (or a broken one) matters only if the manifest uses it.
        io::copy(&mut reader, &mut io::sink()).map_err(io_err)?;
        layers.insert(name, analysed);
    }

    Ok(SaveMembers { docs, layers, links })
}

/// Reads a `docker save` tar stream.
pub fn read_save_stream(
    stream: impl Read,
    reference: &str,
    tag: Option<&str>,
    opts: &AnalyzeOptions,
    limits: &Limits,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<SavedImage> {
    let SaveMembers { docs, mut layers, links } = read_save_members(stream, reference, opts, limits, on_bytes)?;
    let manifest_json = docs
        .get("manifest.json")
        .ok_or_else(|| Error::invalid(reference, "no manifest.json: not a `docker save` archive"))?;
    let entries: Vec<SaveManifest> = serde_json::from_slice(manifest_json)
        .map_err(|e| Error::invalid(format!("{reference}: manifest.json"), e.to_string()))?;
    let mut warnings = Vec::new();
    let chosen = match tag {
        Some(t) => entries
            .iter()
            .find(|m| m.repo_tags.iter().flatten().any(|rt| rt == t || rt.ends_with(&format!("/{t}"))))
            .ok_or_else(|| Error::NotFound(format!("{reference}: no image tagged {t} in the archive")))?,
        None => {
            if entries.len() > 1 {
                warnings.push(bulwark_core::Warning::source(format!(
                    "the archive holds {} images; reading the first (select one with :repo:tag)",
                    entries.len()
                )));
            }
            entries.first().ok_or_else(|| Error::invalid(reference, "manifest.json lists no images"))?
        }
    };
    let resolve_link = |name: &str| -> String {
        let mut name = name.to_owned();
        for _ in 0..8 {
            match links.get(&name) {
                Some(t) => name = t.clone(),
                None => break,
            }
        }
        name
    };
    let (config_name, _) = normalize_path(&chosen.config);
    let config_name = resolve_link(&config_name);
    let config_bytes = docs
        .get(&config_name)
        .ok_or_else(|| Error::invalid(reference, format!("config {config_name} is missing from the archive")))?;
    let config_digest = Digest::sha256_of(config_bytes);
    let config = ImageConfig::parse(config_bytes, &format!("image config {config_digest}"))?;
    if config.rootfs.diff_ids.len() != chosen.layers.len() {
        return Err(Error::invalid(
            format!("image config {config_digest}"),
            format!("{} diff_ids for {} layers in manifest.json", config.rootfs.diff_ids.len(), chosen.layers.len()),
        ));
    }
    let mut indexes = Vec::new();
    let mut descriptors = Vec::new();
    let mut analysed: BTreeMap<String, Arc<LayerIndex>> = BTreeMap::new();
    for (member, diff_id) in chosen.layers.iter().zip(&config.rootfs.diff_ids) {
        let member = resolve_link(&normalize_path(member).0);
        let index = match analysed.get(&member) {
            Some(ix) => ix.clone(),
            None => {
                let ix = match layers.remove(&member) {
                    Some(Ok(ix)) => Arc::new(ix),
                    Some(Err(e)) => return Err(e),
                    None => {
                        return Err(Error::invalid(reference, format!("layer {member} is missing from the archive")));
                    }
                };
                analysed.insert(member.clone(), ix.clone());
                ix
            }
        };
        if index.diff_id.as_ref() != Some(diff_id) {
            return Err(Error::DigestMismatch {
                what: format!("diff_id of layer {member}"),
                expected: diff_id.clone(),
                actual: index.diff_id.clone().unwrap_or_else(|| Digest::sha256_of(b"")),
            });
        }
        let media_type = match index.compression {
            spec::Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            spec::Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            spec::Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        descriptors.push(Descriptor {
            media_type: media_type.into(),
            digest: index.blob_digest.clone().unwrap_or_else(|| diff_id.clone()),
            size: index.compressed_size as i64,
            urls: vec![],
            annotations: BTreeMap::new(),
            platform: None,
        });
        indexes.push(index);
    }
    // Docker 25+ writes an OCI layout inside the save: its manifest is the registry one.
    let manifest_digest = docs.get("index.json").and_then(|ix| {
        let doc = spec::parse_document(ix, Some(spec::OCI_INDEX), "index.json").ok()?;
        let spec::Document::Index(index) = doc else { return None };
        index.manifests.into_iter().map(|d| d.digest).find(|d| {
            let name = format!("blobs/{}/{}", d.algorithm().name(), d.hex());
            docs.get(&name)
                .is_some_and(|m| serde_json::from_slice::<Manifest>(m).is_ok_and(|m| m.config.digest == config_digest))
        })
    });
    let record =
        SaveRecord { config: String::from_utf8_lossy(config_bytes).into_owned(), manifest_digest, layers: descriptors };
    let image = resolve_saved(reference, config_bytes, config, record.manifest_digest.clone(), record.layers.clone());
    let record = std::str::from_utf8(config_bytes).is_ok().then_some(record);
    Ok(SavedImage { image: ResolvedImage { warnings, ..image }, layers: indexes, record })
}

/// What a `docker save` stream says besides its layers: the config, the manifest digest
/// (Docker 25+) and the layer descriptors. Kept in the layer cache under the engine's
/// image id, so that a warm rescan of a `docker:` image whose layers are all cached reads
/// only this and the cache, not a whole export (see `docs/cache.md`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveRecord {
    /// The image config, as the stream held it (only UTF-8 configs are recorded).
    pub config: String,
    pub manifest_digest: Option<Digest>,
    pub layers: Vec<Descriptor>,
}

impl SaveRecord {
    /// The image this record describes, checked as a save stream's is: the config parses,
    /// and its diff_ids pair with the layer descriptors.
    pub fn resolve(&self, reference: &str) -> Result<ResolvedImage> {
        let bytes = self.config.as_bytes();
        let config = ImageConfig::parse(bytes, &format!("image config {}", Digest::sha256_of(bytes)))?;
        if config.rootfs.diff_ids.len() != self.layers.len() {
            return Err(Error::invalid(reference, "a cached save record whose layers do not match its config"));
        }
        Ok(resolve_saved(reference, bytes, config, self.manifest_digest.clone(), self.layers.clone()))
    }
}

/// The resolved image of a save stream (or of its cached [`SaveRecord`]): a Docker v2
/// manifest made up from the config and the layer descriptors.
fn resolve_saved(
    reference: &str,
    config_bytes: &[u8],
    config: ImageConfig,
    manifest_digest: Option<Digest>,
    descriptors: Vec<Descriptor>,
) -> ResolvedImage {
    let config_digest = Digest::sha256_of(config_bytes);
    let history = config.layer_history();
    let aligned = history.len() == descriptors.len();
    let refs: Vec<LayerRef> = descriptors
        .into_iter()
        .zip(&config.rootfs.diff_ids)
        .enumerate()
        .map(|(i, (descriptor, diff_id))| {
            let compression = match descriptor.media_type.as_str() {
                "application/vnd.docker.image.rootfs.diff.tar" => spec::Compression::None,
                "application/vnd.oci.image.layer.v1.tar+zstd" => spec::Compression::Zstd,
                _ => spec::Compression::Gzip,
            };
            LayerRef {
                descriptor,
                diff_id: diff_id.clone(),
                kind: LayerKind { compression: Some(compression), foreign: false },
                created_by: aligned.then(|| history[i].created_by.clone()).flatten(),
            }
        })
        .collect();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(spec::DOCKER_MANIFEST.into()),
        config: Descriptor {
            media_type: spec::DOCKER_CONFIG.into(),
            digest: config_digest.clone(),
            size: config_bytes.len() as i64,
            urls: vec![],
            annotations: BTreeMap::new(),
            platform: None,
        },
        layers: refs.iter().map(|r| r.descriptor.clone()).collect(),
        annotations: BTreeMap::new(),
    };
    ResolvedImage {
        reference: reference.to_owned(),
        manifest_digest,
        index_digest: None,
        platform: config.platform(),
        config_digest,
        manifest,
        config,
        layers: refs,
        warnings: Vec::new(),
    }
}

/// A connection to the Docker Engine API: `DOCKER_HOST` (`unix://` or `tcp://`, plain
/// HTTP), default `/var/run/docker.sock`.
#[derive(Debug, Clone)]
pub enum Engine {
    Unix(std::path::PathBuf),
    Tcp(String),
}

impl Engine {
    /// The engine named by `DOCKER_HOST`, or the default socket.
    pub fn from_env() -> Result<Engine> {
        match std::env::var("DOCKER_HOST") {
            Ok(h) if !h.is_empty() => Engine::parse(&h),
            _ => Ok(Engine::Unix("/var/run/docker.sock".into())),
        }
    }

    /// Parses a `DOCKER_HOST` value.
    pub fn parse(host: &str) -> Result<Engine> {
        if let Some(p) = host.strip_prefix("unix://") {
            Ok(Engine::Unix(p.into()))
        } else if let Some(a) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://")) {
            Ok(Engine::Tcp(a.trim_end_matches('/').to_owned()))
        } else {
            Err(Error::Docker(format!("unsupported DOCKER_HOST {host:?} (use unix:// or tcp://)")))
        }
    }

    fn connect(&self) -> Result<Box<dyn ReadWrite>> {
        match self {
            Engine::Unix(p) => {
                std::os::unix::net::UnixStream::connect(p).map(|s| Box::new(s) as Box<dyn ReadWrite>).map_err(|e| {
                    Error::Docker(format!(
                        "cannot connect to {}: {e} (hint: is the Docker engine running, and may this user use it?)",
                        p.display()
                    ))
                })
            }
            Engine::Tcp(a) => std::net::TcpStream::connect(a)
                .map(|s| Box::new(s) as Box<dyn ReadWrite>)
                .map_err(|e| Error::Docker(format!("cannot connect to tcp://{a}: {e}"))),
        }
    }

    /// Sends `GET path` and returns the status and the body.
    fn get(&self, path: &str) -> Result<(u16, Box<dyn Read + Send>)> {
        let mut conn = self.connect()?;
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: bulwark/{}\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        )
        .map_err(|e| Error::Docker(format!("sending request: {e}")))?;
        let mut reader = BufReader::with_capacity(256 * 1024, conn);
        let (status, headers) = read_head(&mut reader)?;
        let header = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        let body: Box<dyn Read + Send> = if chunked {
            Box::new(Chunked { inner: reader, remaining: 0, done: false })
        } else if let Some(n) = length {
            Box::new(reader.take(n))
        } else {
            Box::new(reader)
        };
        Ok((status, body))
    }

    /// `GET path` of a small JSON document; `Ok(None)` when the engine answers 404.
    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let (status, body) = self.get(path)?;
        // Inspect documents are a few KiB; a megabyte is far more than any engine sends.
        let mut buf = Vec::new();
        body.take(1 << 20).read_to_end(&mut buf).map_err(|e| Error::Docker(format!("reading {path}: {e}")))?;
        match status {
            200 => serde_json::from_slice(&buf)
                .map(Some)
                .map_err(|e| Error::Docker(format!("GET {path}: unexpected answer: {e}"))),
            404 => Ok(None),
            _ => Err(Error::Docker(format!("GET {path}: HTTP {status}: {}", engine_message(&buf)))),
        }
    }

    /// The image the engine has under `name` (a name, `name:tag`, `name@digest` or an id,
    /// resolved by the engine's own rules: a name without a tag is `name:latest`), or
    /// `None` when it has none.
    pub fn inspect_image(&self, name: &str) -> Result<Option<EngineImage>> {
        self.get_json(&format!("/images/{}/json", escape(name)))
    }

    /// The container the engine has under `name` (name or id), or `None`.
    pub fn inspect_container(&self, name: &str) -> Result<Option<EngineContainer>> {
        self.get_json(&format!("/containers/{}/json", escape(name)))
    }

    /// Starts `GET /images/{name}/get` and returns the body: a `docker save` tar stream.
    /// Callers pass an image id (from [`Engine::inspect_image`]): for a name without a
    /// tag the engine would save every tag of the repository.
    pub fn export(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        let path = format!("/images/{}/get", escape(name));
        let (status, mut body) = self.get(&path)?;
        if status != 200 {
            let mut msg = Vec::new();
            body.by_ref().take(64 * 1024).read_to_end(&mut msg).ok();
            let message = engine_message(&msg);
            return Err(if status == 404 {
                Error::NotFound(format!("docker:{name}: {message} (hint: `docker images` lists local images)"))
            } else {
                Error::Docker(format!("GET {path}: HTTP {status}: {message}"))
            });
        }
        Ok(body)
    }
}

/// The engine's `{"message": …}` error body, or the body as text.
fn engine_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned())
}

/// What `GET /images/{name}/json` says about an image (the fields Bulwark uses).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineImage {
    /// The image id: the digest of its config.
    pub id: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    /// Uncompressed size of the layers, in bytes.
    #[serde(default)]
    pub size: u64,
}

impl EngineImage {
    /// The platform the image's config names, if it names one.
    pub fn platform(&self) -> Option<bulwark_core::Platform> {
        (!self.os.is_empty() && !self.architecture.is_empty())
            .then(|| bulwark_core::Platform::new(&self.os, &self.architecture, self.variant.as_deref()))
    }
}

/// What `GET /containers/{name}/json` says about a container (the fields Bulwark uses).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineContainer {
    pub id: String,
    /// `/name`, as the engine spells it.
    #[serde(default)]
    pub name: String,
    /// The id of the container's image.
    pub image: String,
    #[serde(default)]
    pub config: Option<EngineContainerConfig>,
    #[serde(default)]
    pub state: Option<EngineContainerState>,
}

/// Part of a container's `Config`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineContainerConfig {
    /// The image as it was named when the container was created, e.g. `nginx:1.27`.
    #[serde(default)]
    pub image: String,
}

/// Part of a container's `State`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineContainerState {
    #[serde(default)]
    pub running: bool,
    #[serde(default)]
    pub status: String,
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

fn escape(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn read_line(r: &mut impl BufRead, limit: usize) -> Result<String> {
    let mut line = Vec::new();
    r.take(limit as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::Docker(format!("reading response: {e}")))?;
    if line.len() > limit {
        return Err(Error::Docker("response header line too long".into()));
    }
    Ok(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned())
}

fn read_head(r: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>)> {
    let status_line = read_line(r, 8192)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| Error::Docker(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(r, 8192)?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(Error::Docker("too many response headers".into()));
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok((status, headers))
}

/// HTTP/1.1 chunked transfer decoding.
struct Chunked<R> {
    inner: R,
    remaining: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut line = String::new();
            (&mut self.inner).take(1024).read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            self.remaining = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {line:?}")))?;
            if self.remaining == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.remaining as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-chunk"));
        }
        self.remaining -= n as u64;
        if self.remaining == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoding() {
        let body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked { inner: &body[..], remaining: 0, done: false }.read_to_string(&mut out).unwrap();
        assert_eq!(out, "Wikipedia");
        let truncated = b"10\r\nshort";
        let mut out = Vec::new();
        assert!(Chunked { inner: &truncated[..], remaining: 0, done: false }.read_to_end(&mut out).is_err());
    }

    #[test]
    fn docker_host_parsing() {
        assert!(
            matches!(Engine::parse("unix:///run/docker.sock").unwrap(), Engine::Unix(p) if p.as_os_str() == "/run/docker.sock")
        );
        assert!(matches!(Engine::parse("tcp://127.0.0.1:2375").unwrap(), Engine::Tcp(a) if a == "127.0.0.1:2375"));
        assert!(Engine::parse("ssh://host").is_err());
        assert_eq!(escape("localhost:5000/app:1 x"), "localhost:5000/app:1%20x");
    }
}
