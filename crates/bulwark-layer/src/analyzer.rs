//! What reads file contents while a layer streams ([`FileAnalyzer`]), which files are kept
//! whole ([`Capture`]), and the options that together make up a layer cache key.

use std::io::Read;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// Which files' contents to keep while streaming a layer (package databases, os-release).
/// Part of the cache key: changing it invalidates cached layer analyses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capture {
    /// Exact normalised paths, e.g. `etc/os-release`.
    pub paths: Vec<String>,
    /// Files directly inside these directories, e.g. `var/lib/dpkg/status.d`.
    pub dirs: Vec<String>,
    /// Files whose name ends with one of these, anywhere, e.g. `.dist-info/METADATA`.
    pub suffixes: Vec<String>,
    /// Larger files are not kept (a warning says so).
    pub max_bytes: u64,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            paths: [
                "etc/os-release",
                "usr/lib/os-release",
                "etc/alpine-release",
                "etc/debian_version",
                "etc/redhat-release",
                "etc/system-release",
                "etc/lsb-release",
            ]
            .map(String::from)
            .to_vec(),
            dirs: Vec::new(),
            suffixes: Vec::new(),
            max_bytes: 1 << 20,
        }
    }
}

impl Capture {
    /// Whether the content of `path` should be kept.
    pub fn wants(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
            || self.suffixes.iter().any(|s| path.ends_with(s.as_str()))
            || self.dirs.iter().any(|d| {
                path.strip_prefix(d.as_str()).and_then(|r| r.strip_prefix('/')).is_some_and(|n| !n.contains('/'))
            })
    }
}

/// Looks at file contents while a layer streams past: package catalogers, binary
/// inspectors, and later malware and secret scanners. What it returns is stored per path
/// in the [`LayerIndex`] (so it is cached with the layer), and the layer is still read
/// only once however many analyzers there are.
pub trait FileAnalyzer: Send + Sync + std::fmt::Debug {
    /// A stable name; results are stored under it.
    fn id(&self) -> &'static str;
    /// Bumped whenever results change for the same input; part of the cache key.
    fn version(&self) -> u32;
    /// Whether to read this regular file, decided from its metadata alone.
    fn wants(&self, path: &str, size: u64, mode: u32) -> bool;
    /// Reads the file. `Ok(None)` stores nothing; `Err` becomes a warning about the file
    /// (and an [`crate::AnalyzeCause::EngineFailed`] also fails the scan, through the
    /// analyzer's own state).
    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        size: u64,
    ) -> Result<Option<serde_json::Value>, crate::AnalyzeError>;
    /// Whether a link at a path this analyzer wants that cannot be followed (dangling, a
    /// loop, a hard link to nothing) deserves a warning: true for analyzers that read files
    /// at fixed locations (package databases), where such a link would otherwise silently
    /// hide what they look for. Analyzers that read every file anyway keep the default.
    fn follows_links(&self) -> bool {
        false
    }
    /// The scanner whose check this analyzer's results serve (`vuln` for package
    /// catalogers, `malware`, `secret`), named when results could not be kept.
    fn scanner(&self) -> &'static str {
        self.id()
    }
}

/// How to analyse layers. Everything here is part of the cache key.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Compute the SHA-256 of every regular file (costs one more hash pass).
    pub file_digests: bool,
    pub capture: Capture,
    pub analyzers: Vec<std::sync::Arc<dyn FileAnalyzer>>,
    /// Most memory (estimated bytes) the analyzer results and captured files of one layer
    /// may take; what does not fit is not kept and is reported as not checked
    /// ([`crate::LayerIndex::over_budget`]). CLI flag `--max-layer-results`.
    pub max_result_bytes: u64,
    /// The result budget of the whole image this layer belongs to, shared by the layers
    /// of one image read: what a layer keeps also comes out of it, and a layer that finds
    /// it spent stops with a limit error. Set per read (never shared between scans), and
    /// not part of the cache key: it decides whether a layer is read, not what it holds.
    pub image_budget: Option<std::sync::Arc<crate::ImageBudget>>,
}

impl AnalyzeOptions {
    /// The default of [`AnalyzeOptions::max_result_bytes`]: room for a big distribution
    /// install (thousands of packages with their owned-file lists) while a scan of any
    /// layer stays within the 1 GB promise of `ARCHITECTURE.md` (a layer of twenty
    /// 50,000-package databases peaks at ~540 MB with it, see `bench/README.md`).
    pub const DEFAULT_MAX_RESULT_BYTES: u64 = 128 << 20;
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            file_digests: false,
            capture: Capture::default(),
            analyzers: Vec::new(),
            max_result_bytes: AnalyzeOptions::DEFAULT_MAX_RESULT_BYTES,
            image_budget: None,
        }
    }
}

impl AnalyzeOptions {
    /// A short stable fingerprint of these options, for cache keys.
    pub fn fingerprint(&self) -> String {
        let analyzers: Vec<(&str, u32)> = self.analyzers.iter().map(|a| (a.id(), a.version())).collect();
        let json = serde_json::to_vec(&(
            crate::model::LAYER_INDEX_LAYOUT,
            self.file_digests,
            &self.capture,
            analyzers,
            self.max_result_bytes,
        ))
        .unwrap_or_default();
        hex_prefix(&Sha256::digest(&json), 8)
    }
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    bytes.iter().take(n).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Versioned(u32);

    impl FileAnalyzer for Versioned {
        fn id(&self) -> &'static str {
            "v"
        }
        fn version(&self) -> u32 {
            self.0
        }
        fn wants(&self, _: &str, _: u64, _: u32) -> bool {
            false
        }
        fn analyze(&self, _: &str, _: &mut dyn Read, _: u64) -> Result<Option<serde_json::Value>, crate::AnalyzeError> {
            Ok(None)
        }
    }

    #[test]
    fn fingerprint_covers_every_option() {
        let base = AnalyzeOptions::default();
        let with = |v| AnalyzeOptions { analyzers: vec![std::sync::Arc::new(Versioned(v))], ..Default::default() };
        let digests = AnalyzeOptions { file_digests: true, ..Default::default() };
        let budget = AnalyzeOptions { max_result_bytes: 1, ..Default::default() };
        let prints = [
            base.fingerprint(),
            with(1).fingerprint(),
            with(2).fingerprint(),
            digests.fingerprint(),
            budget.fingerprint(),
        ];
        let unique: std::collections::BTreeSet<_> = prints.iter().collect();
        assert_eq!(unique.len(), prints.len(), "{prints:?}");
        assert_eq!(with(1).fingerprint(), with(1).fingerprint());
    }

    #[test]
    fn capture_rules() {
        let c = Capture {
            dirs: vec!["var/lib/dpkg/status.d".into()],
            suffixes: vec![".dist-info/METADATA".into()],
            ..Capture::default()
        };
        assert!(c.wants("etc/os-release"));
        assert!(c.wants("var/lib/dpkg/status.d/base"));
        assert!(!c.wants("var/lib/dpkg/status.d/x/y"));
        assert!(c.wants("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"));
        assert!(!c.wants("etc/os-release.bak"));
    }
}
