//! The on-disk layer cache: one zstd-compressed JSON file per layer analysis, named by
//! its key (diff_id and analysis options), with LRU eviction by modification time.
//!
//! Safe against concurrent scans and crashes: entries are written to a temporary file in
//! the same directory, synced, and renamed into place, so readers see a whole entry or
//! none. A file that fails to decode, or that holds a cataloger result that does not
//! decode, is treated as a miss (with a warning) and removed.
//!
//! Trust: an entry decides what a scan reports for a layer without the layer being read,
//! so whoever can write the cache directory can hide findings. Each entry is therefore
//! bound to its key: it records the key (diff_id and analysis-options fingerprint) and the
//! Bulwark version that wrote it, and the analysis's own diff_id; any mismatch on read is a
//! miss and a warning. Entries carry an HMAC-SHA256 over their bytes with a key that is
//! either given (`BULWARK_CACHE_KEY`, for caches shared between machines, such as CI
//! caches) or created once per installation beside the cache (`integrity.key`, mode 0600);
//! an entry whose MAC does not verify is a miss and a warning. See `docs/cache.md`.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bulwark_core::Warning;
use bulwark_image::LayerCache;
use bulwark_image::layer::LayerIndex;
use serde::{Deserialize, Serialize};

/// Bumped whenever the entry format or the serialised `LayerIndex` changes incompatibly.
const FORMAT: &str = "v2";

/// First bytes of every entry; the byte after it says whether a MAC follows.
const MAGIC: &[u8; 4] = b"BWLC";

const MAC_LEN: usize = 32;

/// The environment variable holding the integrity key of a shared cache.
pub const KEY_ENV: &str = "BULWARK_CACHE_KEY";

/// The per-installation integrity key file, beside the entries.
const KEY_FILE: &str = "integrity.key";

/// Lock files of layers being read (see `read_guard`), below the entries' directory.
const READING_DIR: &str = ".reading";

/// Largest entry read (a layer analysis of a huge image is a few tens of MB).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// How cache entries are authenticated.
#[derive(Clone, Default)]
pub enum Integrity {
    /// HMAC-SHA256 with the key in `integrity.key` beside the cache, created (mode 0600)
    /// if missing; `BULWARK_CACHE_KEY`, when set, wins.
    #[default]
    Installation,
    /// HMAC-SHA256 with this key (shared caches: the same secret on every machine).
    Key(Vec<u8>),
    /// Entries are bound to their key but not authenticated.
    Off,
}

impl std::fmt::Debug for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str(match self {
            Integrity::Installation => "Installation",
            Integrity::Key(_) => "Key(..)",
            Integrity::Off => "Off",
        })
    }
}

/// What an entry file holds after its header.
#[derive(Serialize, Deserialize)]
struct Envelope<I> {
    /// The cache key the entry was written under.
    key: String,
    /// The Bulwark version that wrote it.
    bulwark_version: String,
    index: I,
}

/// A bounded directory of layer analyses.
#[derive(Clone)]
pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    mac: Option<ring::hmac::Key>,
    /// Said when the cache was opened (a missing integrity key): repeated by every
    /// [`DiskCache::fork`], so each scan's report says it.
    opened_with: Vec<Warning>,
    warnings: Arc<Mutex<Vec<Warning>>>,
}

impl std::fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskCache").field("dir", &self.dir).field("mac", &self.mac.is_some()).finish()
    }
}

impl DiskCache {
    /// A cache in `dir` (created if needed) holding at most `max_bytes`, with entries
    /// authenticated by the installation key (see [`Integrity::Installation`]).
    pub fn new(dir: &Path, max_bytes: u64) -> std::io::Result<DiskCache> {
        DiskCache::with_integrity(dir, max_bytes, &Integrity::Installation)
    }

    /// A cache in `dir` holding at most `max_bytes`, with entries authenticated as asked.
    pub fn with_integrity(dir: &Path, max_bytes: u64, integrity: &Integrity) -> std::io::Result<DiskCache> {
        fs::create_dir_all(dir)?;
        let mut warnings = Vec::new();
        let key = match integrity {
            Integrity::Off => None,
            Integrity::Key(k) => Some(k.clone()),
            Integrity::Installation => match std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
                Some(v) => Some(v.as_encoded_bytes().to_vec()),
                None => match installation_key(&dir.join(KEY_FILE)) {
                    Ok(k) => Some(k),
                    Err(e) => {
                        warnings.push(Warning::cache(format!(
                            "layer cache {}: no integrity key ({e}); entries are bound to their key but not authenticated",
                            dir.display()
                        )));
                        None
                    }
                },
            },
        };
        let entries = dir.join(FORMAT);
        fs::create_dir_all(&entries)?;
        let cache = DiskCache {
            dir: entries,
            max_bytes,
            mac: key.map(|k| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k)),
            opened_with: warnings.clone(),
            warnings: Arc::new(Mutex::new(warnings)),
        };
        cache.remove_stale_temp_files();
        Ok(cache)
    }

    /// Warnings since the last call: entries rejected on read, a missing integrity key.
    pub fn take_warnings(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The same cache with its own warning list (starting with what opening it said), for
    /// one scan of several running at once on an engine: each report gets the warnings of
    /// its own lookups only.
    pub fn fork(&self) -> DiskCache {
        DiskCache { warnings: Arc::new(Mutex::new(self.opened_with.clone())), ..self.clone() }
    }

    fn warn(&self, message: String) {
        self.warnings.lock().unwrap_or_else(|e| e.into_inner()).push(Warning::cache(message));
    }

    /// Removes temporary files left by scans that crashed mid-write. Only old ones: a
    /// young one may belong to a scan that is writing right now.
    fn remove_stale_temp_files(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else { return };
        let stale = SystemTime::now() - std::time::Duration::from_secs(3600);
        for e in rd.flatten() {
            let is_tmp = e.file_name().to_string_lossy().starts_with(".tmp-");
            if is_tmp && e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < stale) {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// The default location: `$BULWARK_CACHE_DIR`, else `$XDG_CACHE_HOME/bulwark`, else
    /// `~/.cache/bulwark`, with `layers/` below it.
    pub fn default_dir() -> Option<PathBuf> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        env("BULWARK_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|p| p.join("bulwark")))
            .or_else(|| env("HOME").map(|p| p.join(".cache/bulwark")))
            .map(|p| p.join("layers"))
    }

    fn path(&self, key: &str) -> PathBuf {
        // Keys are built from validated hex digests; refuse anything else outright.
        let safe: String = key.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        self.dir.join(format!("{safe}.json.zst"))
    }

    fn evict(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let md = e.metadata().ok()?;
                md.is_file().then(|| (md.modified().unwrap_or(SystemTime::UNIX_EPOCH), md.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            // Another scan may have removed it already; that is fine.
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

impl DiskCache {
    /// Reads and checks the entry at `path` for `key`; `Err` says why it is not usable.
    fn read_entry(&self, path: &Path, key: &str) -> Result<LayerIndex, String> {
        let index: LayerIndex = self.read_envelope(path, key)?;
        let own = index.diff_id.as_ref().map(|d| format!("{}-{}-", d.algorithm().name(), d.hex()));
        if !own.as_ref().is_some_and(|p| key.starts_with(p.as_str())) {
            return Err(format!(
                "holds the analysis of another layer ({})",
                index.diff_id.as_ref().map_or("none".to_owned(), |d| d.to_string())
            ));
        }
        crate::catalog::check_stored(&index)?;
        Ok(index)
    }

    /// Reads the entry at `path`, checks its MAC, key and version, and decodes its payload.
    fn read_envelope<I: serde::de::DeserializeOwned>(&self, path: &Path, key: &str) -> Result<I, String> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|f| f.take(MAX_ENTRY_BYTES).read_to_end(&mut bytes))
            .map_err(|e| format!("unreadable ({e})"))?;
        let (mode, rest) = match bytes.strip_prefix(MAGIC).and_then(|r| r.split_first()) {
            Some((&m, rest)) => (m, rest),
            None => return Err("not a cache entry of this format".into()),
        };
        let payload = match (mode, &self.mac) {
            (0, None) => rest,
            (0, Some(_)) => return Err("has no integrity MAC".into()),
            (1, mac) if rest.len() >= MAC_LEN => {
                let (tag, payload) = rest.split_at(MAC_LEN);
                if let Some(mac) = mac {
                    ring::hmac::verify(mac, payload, tag)
                        .map_err(|_| "fails its integrity check (written with another key, or altered)".to_owned())?;
                }
                payload
            }
            _ => return Err("has an unknown header".into()),
        };
        let envelope: Envelope<I> = zstd::stream::read::Decoder::new(payload)
            .map_err(|e| e.to_string())
            .and_then(|d| serde_json::from_reader(std::io::BufReader::new(d)).map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot be decoded ({e})"))?;
        if envelope.key != key {
            return Err(format!("was written under another key ({})", envelope.key));
        }
        let version = env!("CARGO_PKG_VERSION");
        if envelope.bulwark_version != version {
            return Err(format!("was written by Bulwark {}, not {version}", envelope.bulwark_version));
        }
        Ok(envelope.index)
    }

    /// Looks `key` up with `read`; an unusable entry is a miss, a warning, and removed.
    fn lookup<T>(&self, key: &str, read: impl Fn(&Path) -> Result<T, String>) -> Option<T> {
        let path = self.path(key);
        if !path.exists() {
            return None;
        }
        match read(&path) {
            Ok(found) => {
                // Mark as recently used for LRU eviction.
                if let Ok(f) = File::options().append(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                Some(found)
            }
            Err(why) => {
                self.warn(format!("layer cache entry {} {why}; not used, the layer is read again", path.display()));
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes `value` under `key` atomically (temp file, sync, rename), then evicts.
    fn store<I: Serialize>(&self, key: &str, value: &I) {
        let path = self.path(key);
        // A unique temp file beside the entry, fsynced and renamed over it (crash and
        // concurrency safe); dropped unwritten on any error.
        let Ok(mut tmp) = bulwark_fs::AtomicFile::create(&path) else { return };
        let written = (|| -> std::io::Result<()> {
            let envelope =
                Envelope { key: key.to_owned(), bulwark_version: env!("CARGO_PKG_VERSION").to_owned(), index: value };
            let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3)?;
            serde_json::to_writer(&mut enc, &envelope)?;
            let payload = enc.finish()?;
            tmp.write_all(MAGIC)?;
            match &self.mac {
                Some(mac) => {
                    tmp.write_all(&[1])?;
                    tmp.write_all(ring::hmac::sign(mac, &payload).as_ref())?;
                }
                None => tmp.write_all(&[0])?,
            }
            tmp.write_all(&payload)?;
            Ok(tmp.commit()?)
        })();
        if written.is_err() {
            return;
        }
        self.evict();
    }
}

impl LayerCache for DiskCache {
    fn get(&self, key: &str) -> Option<LayerIndex> {
        self.lookup(key, |path| self.read_entry(path, key))
    }

    fn put(&self, key: &str, index: &LayerIndex) {
        self.store(key, index);
    }

    /// Documents share the entries' envelope, MAC and eviction; keys start with the kind
    /// of document (`docker-save-…`), never with a digest algorithm as layer keys do.
    fn get_doc(&self, key: &str) -> Option<Vec<u8>> {
        self.lookup(key, |path| self.read_envelope::<String>(path, key)).map(String::into_bytes)
    }

    fn put_doc(&self, key: &str, doc: &[u8]) {
        if let Ok(text) = std::str::from_utf8(doc) {
            self.store(key, &text);
        }
    }

    /// An exclusive `flock` on `.reading/<entry>.lock` beside the entries: it coordinates every
    /// scan using this directory, in this process (each open is its own lock) and in others
    /// (`bulwark worker` processes on one host), and the kernel drops it when its holder
    /// dies. The lock files stay (a few bytes of directory each): removing one while
    /// another scan waits on it would let two scans read the layer.
    fn read_guard(&self, key: &str, cancelled: &dyn Fn() -> bool) -> Option<Box<dyn std::any::Any + Send>> {
        let dir = self.dir.join(READING_DIR);
        fs::create_dir_all(&dir).ok()?;
        // `<entry name>.lock`: never mistaken for an entry by a walk of the cache.
        let mut name = self.path(key).file_name()?.to_os_string();
        name.push(".lock");
        let path = dir.join(name);
        let file = File::options().create(true).truncate(false).write(true).open(path).ok()?;
        loop {
            match file.try_lock() {
                Ok(()) => return Some(Box::new(file)),
                Err(fs::TryLockError::WouldBlock) if !cancelled() => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(_) => return None,
            }
        }
    }
}

/// Reads the per-installation key at `path`, or creates it (32 random bytes, mode 0600,
/// never replacing a file another scan created at the same moment).
fn installation_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(k) if k.len() >= MAC_LEN => return Ok(k),
        Ok(_) => return Err(std::io::Error::other(format!("{} is shorter than {MAC_LEN} bytes", path.display()))),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let mut key = [0u8; MAC_LEN];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| std::io::Error::other("no system randomness"))?;
    let mut file = bulwark_fs::AtomicFile::create_with_mode(path, 0o600)?;
    file.write_all(&key)?;
    // Never replaces a key another scan created at the same moment: that key wins.
    if file.commit_new()? { Ok(key.to_vec()) } else { fs::read(path) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_image::layer::{Entry, EntryKind};
    use bulwark_image::spec::Compression;

    fn index(n: usize) -> LayerIndex {
        LayerIndex {
            diff_id: Some(diff_id(n)),
            entries: (0..n)
                .map(|i| Entry {
                    path: format!("f{i}"),
                    kind: EntryKind::File,
                    size: i as u64,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    sha256: None,
                })
                .collect(),
            whiteouts: vec!["gone".into()],
            opaque_dirs: vec![],
            ..LayerIndex::empty(Compression::Gzip)
        }
    }

    fn diff_id(n: usize) -> bulwark_core::Digest {
        bulwark_core::Digest::sha256_of(n.to_string().as_bytes())
    }

    /// The key of `index(n)`'s layer, with options fingerprint `fp`.
    fn key(n: usize, fp: &str) -> String {
        format!("sha256-{}-{fp}", diff_id(n).hex())
    }

    #[test]
    fn a_layer_another_scan_is_reading_is_waited_for_then_found() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path(), 1 << 30).unwrap();
        let k = key(3, "x");
        let first = cache.read_guard(&k, &|| false).expect("the first reader holds the layer");
        let (other, k2) = (cache.fork(), k.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let guard = other.read_guard(&k2, &|| false);
            tx.send(()).unwrap();
            (guard.is_some(), other.get(&k2))
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "the second reader must wait");
        cache.put(&k, &index(3));
        drop(first);
        let (held, found) = waiter.join().unwrap();
        assert!(held);
        assert_eq!(found, Some(index(3)), "the waiter finds the entry instead of reading the layer");
        // A scan cancelled while it waits stops waiting.
        let _held = cache.read_guard(&k, &|| false).unwrap();
        assert!(cache.fork().read_guard(&k, &|| true).is_none());
        // Lock files are not entries: eviction and lookups never see them.
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn entries_are_bound_to_their_key_and_authenticated() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path(), 1 << 30).unwrap();
        let key_file = dir.path().join(KEY_FILE);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        let (a, b) = (key(1, "x"), key(2, "x"));
        cache.put(&a, &index(1));
        cache.put(&b, &index(2));
        assert_eq!(cache.get(&a), Some(index(1)));
        assert!(cache.take_warnings().is_empty());

        // Another layer's entry copied under this key: a miss, a warning, and it is removed.
        fs::copy(cache.path(&a), cache.path(&b)).unwrap();
        assert_eq!(cache.get(&b), None);
        let w = cache.take_warnings();
        assert!(w.len() == 1 && w[0].message.contains("another key"), "{w:?}");
        assert!(!cache.path(&b).exists());

        // The same layer under other analysis options.
        cache.put(&b, &index(2));
        fs::copy(cache.path(&b), cache.path(&key(2, "y"))).unwrap();
        assert_eq!(cache.get(&key(2, "y")), None);
        assert!(cache.take_warnings()[0].message.contains("another key"));

        // An entry forged under the right key but holding another layer's analysis, by
        // someone who has the key (or with integrity off): the diff_id check catches it.
        let off = DiskCache::with_integrity(&dir.path().join("off"), 1 << 30, &Integrity::Off).unwrap();
        off.put(&b, &index(1));
        assert_eq!(off.get(&b), None);
        assert!(off.take_warnings()[0].message.contains("another layer"));

        // One flipped byte fails the MAC.
        cache.put(&b, &index(2));
        let mut bytes = fs::read(cache.path(&b)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(cache.path(&b), bytes).unwrap();
        assert_eq!(cache.get(&b), None);
        assert!(cache.take_warnings()[0].message.contains("integrity check"));

        // A cache with another key (a shared cache's given key) rejects this one's entries,
        // and entries without a MAC.
        let shared = DiskCache::with_integrity(dir.path(), 1 << 30, &Integrity::Key(b"ci-secret".to_vec())).unwrap();
        assert_eq!(shared.get(&a), None);
        assert!(shared.take_warnings()[0].message.contains("integrity check"));
        let plain = dir.path().join("off").join(FORMAT).join(format!("{a}.json.zst"));
        off.put(&a, &index(1));
        assert_eq!(off.get(&a), Some(index(1)));
        fs::copy(&plain, shared.path(&a)).unwrap();
        assert_eq!(shared.get(&a), None);
        assert!(shared.take_warnings()[0].message.contains("no integrity MAC"));
        shared.put(&a, &index(1));
        assert_eq!(shared.get(&a), Some(index(1)));
        // The installation key is created once and kept.
        let again = DiskCache::new(dir.path(), 1 << 30).unwrap();
        cache.put(&a, &index(1));
        assert_eq!(again.get(&a), Some(index(1)));
    }

    #[test]
    fn a_cataloger_result_that_does_not_decode_is_a_miss_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path(), 1 << 30).unwrap();
        let mut ix = index(4);
        let mut results = std::collections::BTreeMap::new();
        results.insert("var/lib/dpkg/status".to_owned(), serde_json::json!({ "packages": [{ "name": "bash" }] }));
        ix.analyses.insert(crate::catalog::OS_PACKAGES.to_owned(), results.clone());
        cache.put(&key(4, "x"), &ix);
        assert_eq!(cache.get(&key(4, "x")), None);
        let w = cache.take_warnings();
        assert!(
            w.len() == 1 && w[0].message.contains("os-packages result for /var/lib/dpkg/status that does not decode"),
            "{w:?}"
        );
        // Another analyzer's results are its own business; a well-formed one is a hit.
        ix.analyses.clear();
        ix.analyses.insert("elsewhere".to_owned(), results);
        cache.put(&key(4, "x"), &ix);
        assert_eq!(cache.get(&key(4, "x")), Some(ix));
    }

    #[test]
    fn round_trip_corruption_and_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path(), 1 << 30).unwrap();
        assert!(cache.get(&key(3, "x")).is_none());
        cache.put(&key(3, "x"), &index(3));
        assert_eq!(cache.get(&key(3, "x")), Some(index(3)));
        // A corrupt entry is a miss and is removed.
        fs::write(cache.path("sha256-bb-x"), b"garbage").unwrap();
        assert!(cache.get("sha256-bb-x").is_none());
        assert!(!cache.path("sha256-bb-x").exists());
        assert!(cache.take_warnings()[0].message.contains("not a cache entry"), "a corrupt entry is a visible miss");
        // A crash mid-write leaves a temporary file, which a later open removes once old.
        let crashed = cache.dir.join(".tmp-1-2-3");
        let fresh = cache.dir.join(".tmp-4-5-6");
        fs::write(&crashed, b"half").unwrap();
        fs::write(&fresh, b"half").unwrap();
        File::options()
            .append(true)
            .open(&crashed)
            .unwrap()
            .set_modified(SystemTime::now() - std::time::Duration::from_secs(7200))
            .unwrap();
        DiskCache::new(dir.path(), 1 << 30).unwrap();
        assert!(!crashed.exists() && fresh.exists());
        // A hostile key cannot leave the cache directory.
        assert!(cache.path("../../etc/passwd").starts_with(&cache.dir));

        // Eviction keeps the most recently used entries within the size bound.
        let probe = DiskCache::new(&dir.path().join("probe"), u64::MAX).unwrap();
        probe.put(&key(50, "a"), &index(50));
        let size = fs::metadata(probe.path(&key(50, "a"))).unwrap().len();
        let lru = DiskCache::new(&dir.path().join("lru"), size * 3 + size / 2).unwrap();
        let pause = || std::thread::sleep(std::time::Duration::from_millis(20));
        for k in ["a", "b", "c"] {
            lru.put(&key(50, k), &index(50));
            pause();
        }
        assert!(lru.get(&key(50, "a")).is_some(), "{:?}", lru.take_warnings());
        pause();
        lru.put(&key(50, "d"), &index(50));
        let present: Vec<&str> = ["a", "b", "c", "d"].into_iter().filter(|k| lru.path(&key(50, k)).exists()).collect();
        assert_eq!(present, ["a", "c", "d"], "the least recently used entry goes first");
    }
}
