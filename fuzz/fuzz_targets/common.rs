//! Shared by the layer targets: small limits (so bombs are cut in milliseconds), the
//! analysis options, and invariant checks on a `LayerIndex` and its `FileView`.

#![allow(dead_code)]

use std::io::Read;
use std::sync::Arc;

use bulwark_image::Limits;
use bulwark_image::layer::{AnalyzeCause, AnalyzeError, AnalyzeOptions, Capture, EntryKind, FileAnalyzer, LayerIndex};
use bulwark_image::view::FileView;

pub fn limits() -> Limits {
    Limits {
        max_manifest_bytes: 1 << 20,
        max_config_bytes: 1 << 20,
        max_layer_bytes: 16 << 20,
        max_compression_ratio: 200,
        ratio_grace_bytes: 1 << 20,
        max_entries: 10_000,
        max_file_bytes: 1 << 20,
        max_index_depth: 4,
        max_layers: 64,
        ..Limits::default()
    }
}

/// Reads a few bytes of every file (streamed when it is the only analyzer interested).
#[derive(Debug)]
struct Head;

impl FileAnalyzer for Head {
    fn id(&self) -> &'static str {
        "head"
    }
    fn version(&self) -> u32 {
        1
    }
    fn wants(&self, _: &str, _: u64, _: u32) -> bool {
        true
    }
    fn analyze(&self, path: &str, content: &mut dyn Read, _: u64) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let mut head = [0u8; 4];
        let n = content.read(&mut head).map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))?;
        Ok((n > 0).then(|| serde_json::json!(head[..n])))
    }
}

/// Reads whole files under `etc/` (so those are buffered: two analyzers want them).
#[derive(Debug)]
struct Etc;

impl FileAnalyzer for Etc {
    fn id(&self) -> &'static str {
        "etc"
    }
    fn version(&self) -> u32 {
        1
    }
    fn wants(&self, path: &str, _: u64, _: u32) -> bool {
        path.starts_with("etc/")
    }
    fn analyze(&self, path: &str, content: &mut dyn Read, size: u64) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let mut n = 0u64;
        let mut buf = [0u8; 4096];
        loop {
            match content.read(&mut buf).map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))? {
                0 => break,
                k => n += k as u64,
            }
        }
        if n != size {
            return Err(AnalyzeCause::parse(format!("read {n} bytes of {size}")).at(self.id(), path));
        }
        Ok(Some(serde_json::json!(n)))
    }
}

/// Digests on (every file's content is read), two analyzers, a capture set wide enough
/// that small fuzzed tars hit it (the default OS-release paths, anything in `etc/`,
/// `*.txt`), and a result budget small enough that they run out of it.
pub fn options() -> AnalyzeOptions {
    AnalyzeOptions {
        file_digests: true,
        capture: Capture {
            dirs: vec!["etc".into(), "var/lib/dpkg/status.d".into()],
            suffixes: vec![".txt".into(), ".dist-info/METADATA".into()],
            max_bytes: 64 << 10,
            ..Capture::default()
        },
        analyzers: vec![Arc::new(Head), Arc::new(Etc)],
        max_result_bytes: 16 << 10,
        image_budget: None,
    }
}

/// A normalised image path: relative, no empty, `.` or `..` components.
pub fn is_normal(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Checks the invariants later stages rely on, and the layer cache's JSON round trip.
pub fn check_index(ix: &LayerIndex) {
    for e in &ix.entries {
        assert!(is_normal(&e.path), "entry path not normalised: {:?}", e.path);
        if let EntryKind::Hardlink { target } = &e.kind {
            assert!(is_normal(target) && *target != e.path, "bad hard link target {target:?} for {:?}", e.path);
        }
        if !matches!(e.kind, EntryKind::File) {
            assert_eq!(e.size, 0, "non-file {:?} has a size", e.path);
        }
    }
    for w in &ix.whiteouts {
        assert!(is_normal(w), "whiteout not normalised: {w:?}");
    }
    for d in &ix.opaque_dirs {
        assert!(d.is_empty() || is_normal(d), "opaque dir not normalised: {d:?}");
    }
    let last = |p: &str| ix.entries.iter().rev().find(|e| e.path == p);
    for (p, c) in &ix.captured {
        assert!(is_normal(p), "captured path not normalised: {p:?}");
        assert!(c.0.len() <= 64 << 10, "captured {p:?} is {} bytes, over the capture limit", c.0.len());
        let e = last(p).unwrap_or_else(|| panic!("captured {p:?} has no entry"));
        assert!(
            matches!(e.kind, EntryKind::File) && e.size == c.0.len() as u64,
            "captured {p:?} is not its last entry"
        );
    }
    for (id, results) in &ix.analyses {
        for p in results.keys() {
            let e = last(p).unwrap_or_else(|| panic!("{id} analysed {p:?}, which has no entry"));
            assert!(matches!(e.kind, EntryKind::File), "{id} result for {p:?}, which is finally not a file");
        }
    }
    // The on-disk layer cache stores this as JSON: it must come back identical.
    let json = serde_json::to_vec(ix).expect("LayerIndex serialises");
    let back: LayerIndex = serde_json::from_slice(&json).expect("LayerIndex deserialises");
    assert_eq!(&back, ix, "LayerIndex JSON round trip changed the index");
}

/// Squashes the layers and resolves some paths; every answer must be a normalised path
/// that exists in the view.
pub fn check_view(layers: &[Arc<LayerIndex>]) {
    let view = FileView::build(layers.iter().map(|l| l.as_ref()));
    let mut paths: Vec<String> =
        ["etc/os-release", "/etc/os-release", "usr/lib/os-release", "a/../../b", "."].map(String::from).to_vec();
    paths.extend(layers.iter().flat_map(|l| l.entries.iter()).take(32).map(|e| e.path.clone()));
    paths.extend(
        layers
            .iter()
            .flat_map(|l| l.entries.iter())
            .filter_map(|e| match &e.kind {
                EntryKind::Symlink { target } => Some(target.clone()),
                _ => None,
            })
            .take(8),
    );
    for p in &paths {
        if let Some((resolved, node)) = view.resolve(p) {
            assert!(resolved.is_empty() || is_normal(&resolved), "resolve({p:?}) gave {resolved:?}");
            assert_eq!(view.get(&resolved), Some(node), "resolve({p:?}) gave a path not in the view");
        }
        if let Some((resolved, node)) = view.resolve_file(p) {
            assert!(matches!(node.entry.kind, EntryKind::File));
            assert!(is_normal(&resolved));
        }
        if let Some(bytes) = view.read_captured(layers, p) {
            assert!(bytes.len() <= 64 << 10);
        }
    }
    for (p, node) in view.iter() {
        assert!(is_normal(p), "view path not normalised: {p:?}");
        assert!(node.layer < layers.len());
        assert!(
            node.replaced.iter().all(|&l| l <= node.layer),
            "{p}: replaced {:?} above {}",
            node.replaced,
            node.layer
        );
    }
    for (p, r) in view.removed() {
        assert!(view.get(p).is_none(), "{p:?} both present and removed");
        assert!(r.removed_in < layers.len());
    }
}
