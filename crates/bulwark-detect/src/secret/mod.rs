//! Credentials in files and in the image config, never reported whole.
//!
//! [`SecretScanner`] is a [`FileAnalyzer`]: while each layer streams past it reads text files,
//! finds keywords of every rule in one Aho-Corasick pass, runs the regexes of the rules whose
//! keywords occur only on the lines around those hits, checks each match (checksums,
//! entropy, placeholders, allowlists of the rule file) and stores, per path, the rule, the
//! line, a redacted preview and a fingerprint — never the secret. [`findings`] turns the
//! stored results of every layer into report findings, applying the user's allowlists, so
//! a key that a later layer deleted is still reported with the layer that removed it.
//! [`scan_image_config`] does the same for `Env`, labels and the build history.
//!
//! Rules: the built-in ones (see `docs/secrets.md`), rule files in Bulwark's own TOML format
//! and gitleaks-format files; a gitleaks rule that cannot be honoured is listed by
//! [`SecretScanner::unsupported_rules`] with the reason instead of failing the scan.

mod image_config;
mod load;
mod redact;
mod rules;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use bulwark_core::glob::{self, Glob, Legacy};
use bulwark_core::report::{FileLocation, SecretFinding, Severity};
use bulwark_layer::{AnalyzeCause, AnalyzeError, AnalyzedImage, FileAnalyzer, ImageConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use image_config::*;
pub use image_config::{scan_image_config, secret_variable};
pub use redact::Redactor;
use rules::{Check, Rule};
pub use rules::{base62, checksum_ok};
use text::*;

/// Bumped whenever the scanning code changes what it stores for the same input.
const FORMAT_VERSION: u32 = 2;

/// How much of a file the binary sniffing looks at.
const SNIFF_BYTES: usize = 8 * 1024;

/// Errors loading rule files or building the scanner.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read secret rules {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid secret rules {path}: {message}")]
    Rules { path: PathBuf, message: String },
    #[error("invalid secret allowlist path glob {glob:?}: {message}")]
    Glob { glob: String, message: String },
}

impl Error {
    fn rules(path: &std::path::Path, message: String) -> Error {
        Error::Rules { path: path.to_owned(), message }
    }
}

/// What the secret scanner looks at and what it ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretConfig {
    /// Use the built-in rules.
    pub builtin: bool,
    /// Rule files: Bulwark's own TOML format or gitleaks' (recognised by their tables).
    pub rule_files: Vec<PathBuf>,
    /// Path globs whose findings are dropped, in the one glob dialect (`docs/globs.md`),
    /// over the absolute path: `**/*.pem` for a file name in any directory.
    pub allow_paths: Vec<String>,
    /// Rule ids whose findings are dropped.
    pub allow_rules: Vec<String>,
    /// Finding fingerprints to drop.
    pub allow_fingerprints: Vec<String>,
    /// Larger files are not read.
    pub max_file_bytes: u64,
    /// Also read files that look binary (NUL bytes or executable/archive magic).
    pub scan_binaries: bool,
    /// Drop findings in files that OS packages own.
    pub skip_package_files: bool,
}

impl Default for SecretConfig {
    fn default() -> Self {
        SecretConfig {
            builtin: true,
            rule_files: Vec::new(),
            allow_paths: Vec::new(),
            allow_rules: Vec::new(),
            allow_fingerprints: Vec::new(),
            max_file_bytes: 10 << 20,
            scan_binaries: false,
            skip_package_files: true,
        }
    }
}

/// What is stored per path in a layer analysis: no secret, only where and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    preview: String,
    fingerprint: String,
}

/// The secret scanner: rules compiled once, shared by every layer.
#[derive(Debug)]
pub struct SecretScanner {
    rules: Vec<Rule>,
    /// Keyword automaton; pattern `i` triggers `keyword_rules[i]`.
    keywords: Option<AhoCorasick>,
    keyword_rules: Vec<Vec<usize>>,
    /// Rules with a regex but no keyword: run over whole files.
    unconditional: Vec<usize>,
    /// Rules on the path alone.
    path_only: Vec<usize>,
    unsupported: Vec<(String, String)>,
    allow_paths: Vec<Glob>,
    /// Allowlist globs whose meaning changed with the one glob dialect.
    allowlist_warnings: Vec<String>,
    allow_rules: BTreeSet<String>,
    allow_fingerprints: BTreeSet<String>,
    config: SecretConfig,
    version: u32,
}

impl SecretScanner {
    /// Compiles the built-in rules (if enabled) and every rule file.
    pub fn new(config: &SecretConfig) -> Result<SecretScanner, Error> {
        let loaded = config.rule_files.iter().map(|f| load::load(f)).collect::<Result<Vec<_>, _>>()?;
        SecretScanner::build(config, loaded)
    }

    /// Like [`SecretScanner::new`], with one more rule file given as text (named `name` in
    /// errors and unsupported-rule ids).
    pub fn with_rules_text(config: &SecretConfig, name: &str, text: &str) -> Result<SecretScanner, Error> {
        let mut loaded = config.rule_files.iter().map(|f| load::load(f)).collect::<Result<Vec<_>, _>>()?;
        loaded.push(load::load_text(std::path::Path::new(name), text)?);
        SecretScanner::build(config, loaded)
    }

    fn build(config: &SecretConfig, loaded: Vec<load::Loaded>) -> Result<SecretScanner, Error> {
        let mut rules = if config.builtin { rules::builtin() } else { Vec::new() };
        let mut unsupported = Vec::new();
        for l in loaded {
            rules.extend(l.rules);
            unsupported.extend(l.unsupported);
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut by_keyword: BTreeMap<String, usize> = BTreeMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let (mut unconditional, mut path_only) = (Vec::new(), Vec::new());
        for (i, rule) in rules.iter().enumerate() {
            if rule.regex.is_none() {
                path_only.push(i);
                continue;
            }
            if rule.keywords.is_empty() {
                unconditional.push(i);
            }
            for k in rule.keywords.iter().filter(|k| !k.is_empty()) {
                let p = *by_keyword.entry(k.clone()).or_insert_with(|| {
                    patterns.push(k.clone());
                    keyword_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if keyword_rules[p].last() != Some(&i) {
                    keyword_rules[p].push(i);
                }
            }
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|e| Error::Rules { path: PathBuf::from("<keywords>"), message: e.to_string() })?,
            )
        };
        let allow_paths = config
            .allow_paths
            .iter()
            .map(|g| Glob::new(g).map_err(|e| Error::Glob { glob: g.clone(), message: e.message }))
            .collect::<Result<_, _>>()?;
        let allowlist_warnings = config
            .allow_paths
            .iter()
            .filter_map(|g| glob::migration(g, Legacy::SecretAllowlist))
            .map(|change| format!("secret allowlist (--secret-allow-path): {change} (docs/globs.md)"))
            .collect();
        // The version covers what changes stored results: the rules and what is read.
        // Allowlists are applied afterwards and are deliberately not part of it.
        let mut h = Sha256::new();
        h.update(FORMAT_VERSION.to_le_bytes());
        h.update(config.max_file_bytes.to_le_bytes());
        h.update([u8::from(config.scan_binaries)]);
        for r in &rules {
            h.update(r.definition.as_bytes());
            h.update([0xff]);
        }
        let d = h.finalize();
        let version = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        Ok(SecretScanner {
            rules,
            keywords,
            keyword_rules,
            unconditional,
            path_only,
            unsupported,
            allow_paths,
            allowlist_warnings,
            allow_rules: config.allow_rules.iter().cloned().collect(),
            allow_fingerprints: config.allow_fingerprints.iter().cloned().collect(),
            config: config.clone(),
            version,
        })
    }

    /// Allowlist path globs whose meaning changed with the one glob dialect: what each now
    /// matches, for the report's warnings.
    pub fn allowlist_warnings(&self) -> &[String] {
        &self.allowlist_warnings
    }

    /// Rules from rule files that could not be loaded: (rule id, reason).
    pub fn unsupported_rules(&self) -> &[(String, String)] {
        &self.unsupported
    }

    /// How many rules are loaded (built-in and from files).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The configuration the scanner was built with.
    pub fn config(&self) -> &SecretConfig {
        &self.config
    }

    /// Scans one file's content as if it were at `path` (absolute or as stored), returning
    /// (rule id, 1-based line, redacted preview, fingerprint) per finding, before the
    /// user's allowlists. Binary content is skipped unless configured otherwise.
    pub fn scan_bytes(&self, path: &str, content: &[u8]) -> Vec<(String, Option<u64>, String, String)> {
        let abs = absolute(path);
        let mut out = self.path_hits(&abs);
        if self.config.scan_binaries || !is_binary(content) {
            out.extend(self.content_hits(&abs, content));
        }
        out.into_iter().map(|s| (s.rule, s.line, s.preview, s.fingerprint)).collect()
    }

    fn path_hits(&self, abs: &str) -> Vec<Stored> {
        let rel = abs.trim_start_matches('/');
        self.path_only
            .iter()
            .map(|&i| &self.rules[i])
            .filter(|r| r.path.as_ref().is_some_and(|p| p.is_match(rel.as_bytes())))
            .filter(|r| !r.allowlists.iter().any(|a| a.allows(rel, rel.as_bytes(), rel.as_bytes(), b"")))
            .map(|r| Stored {
                rule: r.id.clone(),
                line: None,
                preview: String::new(),
                fingerprint: fingerprint(&r.id, abs, abs.as_bytes()),
            })
            .collect()
    }

    /// Every finding in `content`; `abs` is the absolute path used for fingerprints.
    fn content_hits(&self, abs: &str, content: &[u8]) -> Vec<Stored> {
        let rel = abs.trim_start_matches('/');
        let hits = self.hits(rel, content, false);
        self.stored(abs, content, hits)
    }

    /// The accepted matches of every rule in `content`. `lenient` is for redaction: every
    /// rule applies whatever the path, and a match is masked even when a format check
    /// (entropy, checksum, JWT header, allowlist) would not report it; only values that are
    /// placeholders or identifiers are left.
    fn hits(&self, rel: &str, content: &[u8], lenient: bool) -> Vec<Hit> {
        // Per rule, the byte windows around its keyword hits, merged as they come.
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.rules.len()];
        let mut path_ok: Vec<Option<bool>> = vec![None; self.rules.len()];
        let mut applies = |i: usize, rule: &Rule| {
            *path_ok[i].get_or_insert_with(|| lenient || rule.path.as_ref().is_none_or(|p| p.is_match(rel.as_bytes())))
        };
        if let Some(ac) = &self.keywords {
            let mut last: Option<(usize, (usize, usize))> = None;
            for m in ac.find_overlapping_iter(content) {
                // Nearby hits share one window computation.
                let w = match last {
                    Some((start, w)) if m.start() >= start && m.end() <= w.1 => w,
                    _ => window(content, m.start(), m.end()),
                };
                last = Some((m.start(), w));
                for &i in &self.keyword_rules[m.pattern().as_usize()] {
                    if !applies(i, &self.rules[i]) {
                        continue;
                    }
                    let list = &mut windows[i];
                    match list.last_mut() {
                        Some(prev) if w.0 <= prev.1 => prev.1 = prev.1.max(w.1),
                        _ => list.push(w),
                    }
                }
            }
        }
        for &i in &self.unconditional {
            if applies(i, &self.rules[i]) {
                windows[i] = vec![(0, content.len())];
            }
        }
        let mut hits: Vec<Hit> = Vec::new();
        for (i, list) in windows.iter().enumerate() {
            let rule = &self.rules[i];
            let Some(re) = &rule.regex else { continue };
            for &(ws, we) in list {
                let hay = &content[..we];
                let mut pos = ws;
                while pos <= we {
                    let Some(caps) = re.captures_at(hay, pos) else { break };
                    let Some(m) = caps.get(0) else { break };
                    pos = if m.end() > m.start() { m.end() } else { m.end() + 1 };
                    let secret = match rule.secret_group {
                        Some(g) => caps.get(g),
                        None => caps.iter().skip(1).flatten().find(|g| !g.is_empty()).or(Some(m)),
                    };
                    let Some(secret) = secret.filter(|s| !s.is_empty()) else { continue };
                    let (m, secret) = ((m.start(), m.end()), (secret.start(), secret.end()));
                    let hit = if lenient {
                        self.accept_lenient(i, content, m, secret)
                    } else {
                        self.accept(i, content, rel, m, secret)
                    };
                    hits.extend(hit);
                }
            }
        }
        hits
    }

    /// [`SecretScanner::accept`] for redaction: the rule's regex is enough, unless the
    /// value is a placeholder or identifier (`${TOKEN}`, `self.password`). A private key
    /// is masked from its BEGIN line to its END line, or to the end of the text.
    fn accept_lenient(&self, i: usize, content: &[u8], m: (usize, usize), s: (usize, usize)) -> Option<Hit> {
        let rule = &self.rules[i];
        let secret = match rule.check {
            Check::PrivateKey => {
                let rest = &content[m.1..];
                let end = memchr::memmem::find(rest, b"-----END").map_or(content.len(), |p| m.1 + p);
                (m.1, end)
            }
            Check::Value if !rules::check(rule, content, m, &content[s.0..s.1]) => return None,
            _ => s,
        };
        (secret.1 > secret.0).then_some(Hit { rule: i, matched: m, secret })
    }

    /// Byte ranges of `content` that any rule's regex recognises as a secret, for
    /// redaction (see [`SecretScanner::hits`]).
    pub(crate) fn secret_ranges(&self, content: &[u8]) -> Vec<(usize, usize)> {
        self.hits("", content, true).into_iter().map(|h| h.secret).collect()
    }

    /// Runs a rule's checks on one match; the hit if it stands.
    fn accept(&self, i: usize, content: &[u8], rel: &str, m: (usize, usize), s: (usize, usize)) -> Option<Hit> {
        let rule = &self.rules[i];
        let mut secret_range = s;
        let secret = &content[s.0..s.1];
        if rule.entropy.is_some_and(|e| rules::entropy(secret) <= e) {
            return None;
        }
        if !rules::check(rule, content, m, secret) {
            return None;
        }
        if rule.check == Check::PrivateKey {
            // The key is its body; the match is only the BEGIN line.
            secret_range = rules::private_key_body(content, m.1)?;
        }
        if !rule.allowlists.is_empty() {
            let (ls, le) = line_bounds(content, m.0);
            let line = &content[ls..le.max(m.1.min(content.len()))];
            if rule.allowlists.iter().any(|a| a.allows(rel, secret, &content[m.0..m.1], line)) {
                return None;
            }
        }
        Some(Hit { rule: i, matched: m, secret: secret_range })
    }

    /// Line numbers, redacted previews and fingerprints for the hits of one file.
    fn stored(&self, abs: &str, content: &[u8], mut hits: Vec<Hit>) -> Vec<Stored> {
        hits.sort_by_key(|h| (h.matched.0, h.rule));
        // A generic assignment whose value a format-specific rule already reported is the
        // same finding twice: keep the specific one.
        let specific: Vec<(usize, usize)> =
            hits.iter().filter(|h| self.rules[h.rule].id != GENERIC_RULE).map(|h| h.secret).collect();
        hits.retain(|h| {
            self.rules[h.rule].id != GENERIC_RULE || !specific.iter().any(|&(s, e)| s < h.secret.1 && h.secret.0 < e)
        });
        let mut out = Vec::with_capacity(hits.len());
        let (mut counted_to, mut line) = (0usize, 1u64);
        for h in &hits {
            line += memchr::memchr_iter(b'\n', &content[counted_to..h.matched.0]).count() as u64;
            counted_to = h.matched.0;
            let rule = &self.rules[h.rule];
            let preview = if rule.check == Check::PrivateKey {
                clean(&content[h.matched.0..h.matched.1])
            } else {
                self.preview(content, h, &hits)
            };
            out.push(Stored {
                rule: rule.id.clone(),
                line: Some(line),
                preview,
                fingerprint: fingerprint(&rule.id, abs, &content[h.secret.0..h.secret.1]),
            });
        }
        out.dedup();
        out
    }

    /// Whether a stored or config finding survives the user's allowlists.
    fn allowed(&self, path: &str, rule: &str, fingerprint: &str) -> bool {
        self.allow_rules.contains(rule)
            || self.allow_fingerprints.contains(fingerprint)
            || self.allow_paths.iter().any(|g| g.is_match(path))
    }

    fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    fn finding(&self, s: Stored, location: FileLocation) -> SecretFinding {
        let (title, severity) = match self.rule(&s.rule) {
            Some(r) => (r.title.clone(), r.severity),
            None if s.rule == ENV_RULE => (ENV_TITLE.to_owned(), Severity::High),
            None => (s.rule.clone(), Severity::Unknown),
        };
        SecretFinding { rule: s.rule, title, severity, location, preview: s.preview, fingerprint: s.fingerprint }
    }
}

/// One accepted match: rule index, match range, secret range.
#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: usize,
    matched: (usize, usize),
    secret: (usize, usize),
}

/// Paths never read by default, as (prefix, reason). Documented in `docs/secrets.md`.
const SKIP_PREFIXES: &[&str] = &[
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "usr/share/i18n/",
    "usr/share/zoneinfo/",
    "usr/share/common-licenses/",
    "usr/share/icons/",
    "usr/share/fonts/",
    "usr/share/mime/",
    "usr/share/ca-certificates/",
    "usr/lib/locale/",
    "etc/ssl/certs/",
    "var/lib/apt/lists/",
    "var/cache/apt/",
    "var/cache/debconf/",
];

/// File name endings never read by default.
const SKIP_SUFFIXES: &[&str] = &[
    ".pyc", ".pyo", ".mo", ".gmo", ".md5sums", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif",
    ".tiff", ".svg", ".svgz", ".ttf", ".otf", ".woff", ".woff2", ".eot", ".pdf", ".so", ".a", ".o", ".gz", ".tgz",
    ".bz2", ".xz", ".zst", ".zip", ".jar", ".war", ".whl", ".7z", ".mp3", ".mp4", ".wav", ".ogg", ".class",
];

/// Whether a path is excluded by default (see [`SKIP_PREFIXES`], [`SKIP_SUFFIXES`] and
/// `__pycache__` directories).
pub fn default_excluded(path: &str) -> bool {
    let p = path.trim_start_matches('/');
    let name = p.rsplit('/').next().unwrap_or(p);
    SKIP_PREFIXES.iter().any(|s| p.starts_with(s))
        || p.contains("/__pycache__/")
        || p.starts_with("__pycache__/")
        || (name.contains('.') && SKIP_SUFFIXES.iter().any(|s| name.ends_with(s)))
}

impl FileAnalyzer for SecretScanner {
    fn id(&self) -> &'static str {
        "secret"
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn wants(&self, path: &str, size: u64, _mode: u32) -> bool {
        if size > self.config.max_file_bytes {
            return false;
        }
        let rel = path.trim_start_matches('/');
        let by_path =
            self.path_only.iter().any(|&i| self.rules[i].path.as_ref().is_some_and(|p| p.is_match(rel.as_bytes())));
        by_path || (size > 0 && !default_excluded(path))
    }

    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        size: u64,
    ) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let abs = absolute(path);
        let mut stored = self.path_hits(&abs);
        if size > 0 && !default_excluded(path) {
            let mut buf = Vec::with_capacity(size.min(self.config.max_file_bytes) as usize);
            content
                .take(self.config.max_file_bytes)
                .read_to_end(&mut buf)
                .map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))?;
            if self.config.scan_binaries || !is_binary(&buf) {
                stored.extend(self.content_hits(&abs, &buf));
            }
        }
        if stored.is_empty() {
            return Ok(None);
        }
        serde_json::to_value(&stored).map(Some).map_err(|e| AnalyzeCause::encode(&e).at(self.id(), path))
    }
}

/// Report findings from every layer's stored results: files deleted or replaced by a later
/// layer included (`removed_in`), the user's allowlists and (if configured) files owned by
/// OS packages (`package_owned`: absolute paths) left out. Sorted and deduplicated.
pub fn findings(
    image: &dyn AnalyzedImage,
    scanner: &SecretScanner,
    package_owned: &BTreeSet<String>,
) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    for (layer, path, removed_in, entry, value) in crate::stored_results(image, "secret") {
        let abs = absolute(path);
        if scanner.config.skip_package_files && package_owned.contains(&abs) {
            continue;
        }
        let Ok(stored) = serde_json::from_value::<Vec<Stored>>(value.clone()) else { continue };
        for s in stored {
            if scanner.allowed(&abs, &s.rule, &s.fingerprint) {
                continue;
            }
            let location = FileLocation { path: abs.clone(), layer: Some(layer), removed_in, line: s.line, entry };
            out.push(scanner.finding(s, location));
        }
    }
    sort(&mut out);
    out
}

fn sort(v: &mut Vec<SecretFinding>) {
    v.sort_by(|a, b| {
        (&a.location, &a.rule, &a.fingerprint, &a.preview).cmp(&(&b.location, &b.rule, &b.fingerprint, &b.preview))
    });
    v.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_globs_use_the_one_dialect_and_warn_when_their_meaning_changed() {
        let config = |globs: &[&str]| SecretConfig {
            allow_paths: globs.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        };
        let s = SecretScanner::new(&config(&["**/*.pem", "/opt/**", "config:*", "*.key", "srv/*/c"])).unwrap();
        let allowed = |p: &str| s.allow_paths.iter().any(|g| g.is_match(p));
        assert!(allowed("/etc/ssl/private/a.pem"));
        assert!(!allowed("/etc/a.pem.bak"));
        assert!(allowed("/opt/a/b/c"));
        assert!(allowed("config:Env"));
        assert!(!allowed("/etc/ssl/a.key"), "a pattern without `/` no longer matches a file name anywhere");
        assert!(!allowed("/srv/b/c"), "a relative pattern is no longer anchored at `/`");
        let w = s.allowlist_warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("glob `*.key` changed meaning") && w[0].contains("write `**/*.key`"), "{w:?}");
        assert!(w[1].contains("glob `srv/*/c` changed meaning") && w[1].contains("write `/srv/*/c`"), "{w:?}");
        let bad = SecretScanner::new(&config(&["/a/{b"])).unwrap_err().to_string();
        assert!(bad.starts_with("invalid secret allowlist path glob \"/a/{b\""), "{bad}");
    }

    #[test]
    fn history_parsing() {
        assert_eq!(
            history_assignments("|2 TOKEN=abc X=1 /bin/sh -c make"),
            vec![("TOKEN".to_owned(), "abc".to_owned()), ("X".to_owned(), "1".to_owned())]
        );
        assert_eq!(
            history_assignments("/bin/sh -c #(nop)  ENV DB_PASSWORD=x1"),
            vec![("DB_PASSWORD".into(), "x1".into())]
        );
        assert_eq!(history_assignments("ENV A b c"), vec![("A".into(), "b c".into())]);
        assert!(history_assignments("RUN make ENVIRONMENT").is_empty());
    }

    #[test]
    fn masking_keeps_a_quarter_at_most() {
        assert_eq!(mask(b"AKIAIOSFODNN7EXAMPLE"), "AKIA****");
        assert_eq!(mask(b"abcdefgh"), "ab****");
        assert_eq!(mask(b"abc"), "****");
    }
}
