//! The on-disk layer cache: one zstd-compressed JSON file per layer analysis, named by
//! its key (diff_id and analysis options), with LRU eviction by modification time.
//!
//! Safe against concurrent scans and crashes: entries are written to a temporary file in
//! the same directory, synced, and renamed into place, so readers see a whole entry or
//! none. A file that fails to decode is treated as a miss and removed.

use std::fs::{self, File};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bulwark_image::LayerCache;
use bulwark_image::layer::LayerIndex;

/// Bumped whenever the serialised `LayerIndex` changes incompatibly.
const FORMAT: &str = "v1";

/// A bounded directory of layer analyses.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl DiskCache {
    /// A cache in `dir` (created if needed) holding at most `max_bytes`.
    pub fn new(dir: &Path, max_bytes: u64) -> std::io::Result<DiskCache> {
        let dir = dir.join(FORMAT);
        fs::create_dir_all(&dir)?;
        let cache = DiskCache { dir, max_bytes };
        cache.remove_stale_temp_files();
        Ok(cache)
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

impl LayerCache for DiskCache {
    fn get(&self, key: &str) -> Option<LayerIndex> {
        let path = self.path(key);
        let file = File::open(&path).ok()?;
        let decoded = zstd::stream::read::Decoder::new(file)
            .ok()
            .and_then(|d| serde_json::from_reader::<_, LayerIndex>(BufReader::new(d)).ok());
        match decoded {
            Some(ix) => {
                // Mark as recently used for LRU eviction.
                if let Ok(f) = File::options().append(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                Some(ix)
            }
            None => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    fn put(&self, key: &str, index: &LayerIndex) {
        let path = self.path(key);
        let Ok(mut tmp) = tempfile_in(&self.dir) else { return };
        let written = (|| -> std::io::Result<()> {
            let mut enc = zstd::stream::write::Encoder::new(&mut tmp.1, 3)?;
            serde_json::to_writer(&mut enc, index)?;
            enc.finish()?;
            tmp.1.flush()?;
            tmp.1.sync_all()?;
            fs::rename(&tmp.0, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp.0);
            return;
        }
        self.evict();
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!(".tmp-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let path = dir.join(name);
    let file = File::options().write(true).create_new(true).open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_image::layer::{Entry, EntryKind};
    use bulwark_image::spec::Compression;

    fn index(n: usize) -> LayerIndex {
        LayerIndex {
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

    #[test]
    fn round_trip_corruption_and_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path(), 1 << 30).unwrap();
        assert!(cache.get("sha256-aa-x").is_none());
        cache.put("sha256-aa-x", &index(3));
        assert_eq!(cache.get("sha256-aa-x"), Some(index(3)));
        // A corrupt entry is a miss and is removed.
        fs::write(cache.path("sha256-bb-x"), b"garbage").unwrap();
        assert!(cache.get("sha256-bb-x").is_none());
        assert!(!cache.path("sha256-bb-x").exists());
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
        probe.put("a", &index(50));
        let size = fs::metadata(probe.path("a")).unwrap().len();
        let lru = DiskCache::new(&dir.path().join("lru"), size * 3 + size / 2).unwrap();
        let pause = || std::thread::sleep(std::time::Duration::from_millis(20));
        for k in ["a", "b", "c"] {
            lru.put(k, &index(50));
            pause();
        }
        assert!(lru.get("a").is_some());
        pause();
        lru.put("d", &index(50));
        let present: Vec<&str> = ["a", "b", "c", "d"].into_iter().filter(|k| lru.path(k).exists()).collect();
        assert_eq!(present, ["a", "c", "d"], "the least recently used entry goes first");
    }
}
