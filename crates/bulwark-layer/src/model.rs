//! The analysis of one layer as later stages see it: entries, whiteouts, captured files
//! and what each [`crate::FileAnalyzer`] stored, per path and per copy of a path.

use std::collections::BTreeMap;

use base64::Engine as _;
use bulwark_core::{Digest, Warning};
use serde::{Deserialize, Serialize};

/// The version of the stored shape of a [`LayerIndex`] (the layer cache keeps analyses as
/// JSON). Part of [`crate::AnalyzeOptions::fingerprint`], so entries written in an older
/// shape are cache misses, not read in a shape they were not written in. 2: warnings are
/// [`Warning`] values, not strings.
pub const LAYER_INDEX_LAYOUT: u32 = 2;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Detects compression from the first bytes of a blob.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// What kind of filesystem object an entry is. Devices and FIFOs are not recorded:
/// nothing in a scanner reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link; the target is kept as written (resolved later inside the image root).
    Symlink {
        target: String,
    },
    /// A hard link to another path (normalised) in the same layer or below.
    Hardlink {
        target: String,
    },
}

/// One entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Normalised path relative to the image root: no leading `/`, no `.` or `..`.
    pub path: String,
    #[serde(flatten)]
    pub kind: EntryKind,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size: u64,
    pub mode: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uid: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gid: u64,
    /// SHA-256 of the content, for regular files when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Entry {
    /// Whether the set-user-ID or set-group-ID bit is set.
    pub fn is_setid(&self) -> bool {
        self.mode & 0o6000 != 0
    }
}

/// Captured file content, base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(pub Vec<u8>);

impl Serialize for Content {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(s).map(Content).map_err(serde::de::Error::custom)
    }
}

/// The analysis of one layer: everything later stages need, so the blob is read once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerIndex {
    /// SHA-256 of the uncompressed tar; `None` for a root filesystem directory.
    pub diff_id: Option<Digest>,
    /// Digest of the blob as stored (compressed), when read from a blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_digest: Option<Digest>,
    pub compression: Compression,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Entries in tar order; a later entry for the same path wins.
    pub entries: Vec<Entry>,
    /// Paths deleted from lower layers by `.wh.<name>` files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents are hidden by `.wh..wh..opq`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opaque_dirs: Vec<String>,
    /// Contents of captured files, by path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub captured: BTreeMap<String, Content>,
    /// What each [`FileAnalyzer`] found, by analyzer id, then path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub analyses: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Odd or hostile entries that were normalised or skipped. They name no layer: the
    /// image reader adds the layer's index ([`Warning::in_layer`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Earlier copies of a path that a later entry of this same layer replaced. Their
    /// bytes still ship in the blob (and a hard link written before the replacement still
    /// points at them), so what the analyzers found in them is kept, by entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<ReplacedCopy>,
    /// Bodies of this layer read again under another path that reaches them through a
    /// link (see [`LinkRequest`]): a package database hard-linked to a neutral path is read
    /// by the package analyzers as the database it is in the running container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked: Vec<LinkedRead>,
    /// Results not kept because the layer's result budget
    /// ([`crate::AnalyzeOptions::max_result_bytes`]) was spent: what was not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over_budget: Vec<OverBudget>,
}

/// What one analyzer (or the capture list) found in a layer but could not keep, because
/// the layer's result budget was spent. Never silent: the scan reports it as a limit
/// warning and as a check that did not complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverBudget {
    /// The analyzer id, or [`OverBudget::CAPTURE`] for captured files.
    pub analyzer: String,
    /// The scanner whose check did not complete (`vuln`, `malware`, `secret`).
    pub scanner: String,
    /// Files whose results were not kept.
    pub files: u64,
    /// Estimated memory those results would have taken.
    pub bytes: u64,
    /// The first of those paths, in tar order.
    pub examples: Vec<String>,
}

impl OverBudget {
    /// The `analyzer` of captured file contents (os-release and the like).
    pub const CAPTURE: &str = "capture";
    /// How many example paths are kept.
    const EXAMPLES: usize = 5;

    /// Counts one result of `analyzer` (for `scanner`) at `path`, of `bytes`, in `list`.
    pub fn record(list: &mut Vec<OverBudget>, analyzer: &str, scanner: &str, path: &str, bytes: u64) {
        let at = match list.iter().position(|o| o.analyzer == analyzer) {
            Some(at) => at,
            None => {
                list.push(OverBudget {
                    analyzer: analyzer.to_owned(),
                    scanner: scanner.to_owned(),
                    files: 0,
                    bytes: 0,
                    examples: Vec::new(),
                });
                list.len() - 1
            }
        };
        let o = &mut list[at];
        o.files += 1;
        o.bytes = o.bytes.saturating_add(bytes);
        if o.examples.len() < Self::EXAMPLES {
            o.examples.push(format!("/{path}"));
        }
    }
}

/// The memory budget of one pass over a layer: analyzer results and captured contents are
/// kept, in tar order, while they fit; what does not fit is counted in
/// [`LayerIndex::over_budget`] instead. A hostile layer (twenty package databases of
/// 50,000 stanzas each) otherwise keeps gigabytes of results.
///
/// A pass may also draw on the budget of the whole image ([`ImageBudget`]), shared by every
/// layer read for one scan: what a layer keeps counts against both.
#[derive(Debug, Clone)]
pub struct ResultBudget {
    limit: u64,
    used: u64,
    image: Option<std::sync::Arc<ImageBudget>>,
}

impl ResultBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> ResultBudget {
        ResultBudget { limit, used: 0, image: None }
    }

    /// A budget of `limit` bytes whose takes also come out of `image`, when given.
    pub fn within(limit: u64, image: Option<std::sync::Arc<ImageBudget>>) -> ResultBudget {
        ResultBudget { limit, used: 0, image }
    }

    /// Takes `bytes` from the budget when they fit; `false` (and nothing taken) when not.
    /// When the layer's budget has room but the image's has not, nothing is taken either,
    /// and [`ResultBudget::image_exhausted`] says so: the read must stop with a limit
    /// error, since a layer's results can be left out but an image's cannot.
    pub fn take(&mut self, bytes: u64) -> bool {
        match self.used.checked_add(bytes) {
            Some(total) if total <= self.limit => {
                if let Some(image) = &self.image
                    && !image.take(bytes)
                {
                    return false;
                }
                self.used = total;
                true
            }
            _ => false,
        }
    }

    /// The image-wide budget this pass draws on, when it was spent.
    pub fn image_exhausted(&self) -> Option<&ImageBudget> {
        self.image.as_deref().filter(|i| i.exhausted())
    }

    /// Bytes taken so far.
    pub fn used(&self) -> u64 {
        self.used
    }
}

/// The result budget of a whole image (`--max-image-results`): every layer's kept analyzer
/// results and captured files, counted as they are kept (and, for a layer from the cache,
/// when it is loaded), shared by the threads that read layers in parallel. Unlike a
/// layer's budget, reaching it stops the scan: the image as a whole cannot be checked
/// within the memory allowed, and leaving out whole layers would pass what was not read.
#[derive(Debug)]
pub struct ImageBudget {
    limit: u64,
    used: std::sync::atomic::AtomicU64,
    exhausted: std::sync::atomic::AtomicBool,
}

impl ImageBudget {
    /// A budget of `limit` bytes for one image.
    pub fn new(limit: u64) -> ImageBudget {
        ImageBudget {
            limit,
            used: std::sync::atomic::AtomicU64::new(0),
            exhausted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Takes `bytes` when they fit; otherwise takes nothing, marks the budget exhausted
    /// and returns `false` (and every later take fails too).
    pub fn take(&self, bytes: u64) -> bool {
        use std::sync::atomic::Ordering;
        if self.exhausted.load(Ordering::SeqCst) {
            return false;
        }
        let taken = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
            used.checked_add(bytes).filter(|total| *total <= self.limit)
        });
        if taken.is_err() {
            // Record what was asked for, so the error can say how far over it went.
            self.used.fetch_add(bytes.min(u64::MAX - self.limit), Ordering::SeqCst);
            self.exhausted.store(true, Ordering::SeqCst);
        }
        taken.is_ok()
    }

    /// Whether a take failed.
    pub fn exhausted(&self) -> bool {
        self.exhausted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Bytes taken so far, plus the take that did not fit once exhausted.
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// Memory a stored result takes, estimated from its shape: the value itself, its strings,
/// arrays and map entries (with the ordered map's per-entry overhead), and the path key it
/// is stored under. Used for [`ResultBudget`]; an estimate that errs on the high side.
pub fn stored_bytes(path: &str, value: &serde_json::Value) -> u64 {
    // A map entry: key String, Value, and about a third of a B-tree node's bookkeeping.
    const ENTRY: u64 = (size_of::<String>() + size_of::<serde_json::Value>() + 16) as u64;
    fn heap(v: &serde_json::Value) -> u64 {
        use serde_json::Value;
        match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(s) => s.capacity() as u64,
            Value::Array(a) => a.capacity() as u64 * size_of::<Value>() as u64 + a.iter().map(heap).sum::<u64>(),
            Value::Object(m) => m.iter().map(|(k, v)| ENTRY + k.capacity() as u64 + heap(v)).sum(),
        }
    }
    ENTRY + path.len() as u64 + heap(value)
}

/// An earlier copy of a path that a later entry of the same layer replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacedCopy {
    pub path: String,
    /// Position of the copy's entry in [`LayerIndex::entries`].
    pub entry: usize,
    /// The copy's tar entry, counted from 1 over every header of the layer (as `tar tv`
    /// lists them), so a finding can name the exact member.
    pub tar_entry: u64,
    /// What each analyzer found in this copy, by analyzer id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub analyses: BTreeMap<String, serde_json::Value>,
    /// Its captured content, if the capture list wanted the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Content>,
}

/// A body to read again under the path that reaches it through links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    /// Position of the body's entry in [`LayerIndex::entries`].
    pub entry: usize,
    /// The path a container opens (a link, or a path below a linked directory).
    pub path: String,
    /// The analyzers to run, by id: those that want `path` but not the body's own path.
    pub analyzers: Vec<String>,
    /// Whether the capture list wants `path` but not the body's own path.
    pub capture: bool,
}

/// What a [`LinkRequest`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedRead {
    pub entry: usize,
    pub path: String,
    /// The analyzers that were asked, whether or not they stored anything, so a second
    /// scan through the cache knows the request was served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analyzers: Vec<String>,
    /// Whether the capture list asked for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub capture: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub analyses: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Content>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Results of this read not kept because the pass's result budget was spent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over_budget: Vec<OverBudget>,
}

impl LayerIndex {
    /// An analysis with nothing in it yet.
    pub fn empty(compression: Compression) -> LayerIndex {
        LayerIndex {
            diff_id: None,
            blob_digest: None,
            compression,
            compressed_size: 0,
            uncompressed_size: 0,
            entries: Vec::new(),
            whiteouts: Vec::new(),
            opaque_dirs: Vec::new(),
            captured: BTreeMap::new(),
            analyses: BTreeMap::new(),
            warnings: Vec::new(),
            replaced: Vec::new(),
            linked: Vec::new(),
            over_budget: Vec::new(),
        }
    }

    /// What analyzer `id` found in the body written by entry `entry` (a position in
    /// [`LayerIndex::entries`]), whether or not a later entry of this layer replaced it.
    pub fn analysis_of(&self, entry: usize, id: &str) -> Option<&serde_json::Value> {
        match self.replaced.iter().find(|r| r.entry == entry) {
            Some(r) => r.analyses.get(id),
            None => self.analyses.get(id)?.get(&self.entries.get(entry)?.path),
        }
    }

    /// The captured content of the body written by entry `entry`.
    pub fn captured_of(&self, entry: usize) -> Option<&[u8]> {
        match self.replaced.iter().find(|r| r.entry == entry) {
            Some(r) => r.captured.as_ref().map(|c| c.0.as_slice()),
            None => self.captured.get(&self.entries.get(entry)?.path).map(|c| c.0.as_slice()),
        }
    }

    /// Memory the kept results of this layer take, estimated as the result budget counted
    /// them when they were kept ([`stored_bytes`] for analyzer results, path and content
    /// for captured files): what a layer loaded from the cache takes from an
    /// [`ImageBudget`].
    pub fn result_bytes(&self) -> u64 {
        fn captured(path: &str, c: &Content) -> u64 {
            (path.len() + c.0.len()) as u64
        }
        let mut total: u64 = 0;
        for results in self.analyses.values() {
            total = total.saturating_add(results.iter().map(|(p, v)| stored_bytes(p, v)).sum());
        }
        total = total.saturating_add(self.captured.iter().map(|(p, c)| captured(p, c)).sum());
        for r in &self.replaced {
            total = total.saturating_add(r.analyses.values().map(|v| stored_bytes(&r.path, v)).sum());
            total = total.saturating_add(r.captured.as_ref().map_or(0, |c| captured(&r.path, c)));
        }
        for l in &self.linked {
            total = total.saturating_add(l.analyses.values().map(|v| stored_bytes(&l.path, v)).sum());
            total = total.saturating_add(l.captured.as_ref().map_or(0, |c| captured(&l.path, c)));
        }
        total
    }

    /// The result of reading entry `entry` again as `path` (a path reaching it through links).
    pub fn linked_read(&self, entry: usize, path: &str) -> Option<&LinkedRead> {
        self.linked.iter().find(|l| l.entry == entry && l.path == path)
    }
}

/// Normalises a tar path so it cannot leave the image root: `/`, `.` and empty components
/// are dropped and `..` is resolved lexically, clamped at the root (what container runtimes
/// do when they unpack, e.g. containerd's `archive` package). Returns the path and whether
/// `..` tried to climb above the root.
pub fn normalize_path(raw: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut escaped = false;
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            c => parts.push(c),
        }
    }
    (parts.join("/"), escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_hostile_paths() {
        assert_eq!(normalize_path("./etc/passwd"), ("etc/passwd".into(), false));
        assert_eq!(normalize_path("/etc//passwd"), ("etc/passwd".into(), false));
        assert_eq!(normalize_path("../../etc/passwd"), ("etc/passwd".into(), true));
        assert_eq!(normalize_path("a/b/../../../c"), ("c".into(), true));
        assert_eq!(normalize_path("a/./b/.."), ("a".into(), false));
        assert_eq!(normalize_path("./"), ("".into(), false));
    }

    #[test]
    fn stored_bytes_grow_with_the_result() {
        let small = stored_bytes("p", &serde_json::json!({ "packages": [] }));
        let one = stored_bytes("p", &serde_json::json!({ "packages": [{ "name": "a", "version": "1" }] }));
        let two = stored_bytes(
            "p",
            &serde_json::json!({ "packages": [{ "name": "a", "version": "1" }, { "name": "b", "version": "2" }] }),
        );
        assert!(small < one && one < two, "{small} {one} {two}");
        // A longer path costs its bytes.
        assert_eq!(stored_bytes("pp", &serde_json::json!(null)), stored_bytes("p", &serde_json::json!(null)) + 1);
        let mut budget = ResultBudget::new(10);
        assert!(budget.take(6) && !budget.take(5) && budget.take(4) && !budget.take(1));
        assert_eq!(budget.used(), 10);
    }
}
