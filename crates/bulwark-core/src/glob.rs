//! The one glob dialect Bulwark reads, wherever a user writes a pattern: policy exception
//! scopes and allowed registries, ignore-file scopes, the secret scanner's path allowlist.
//!
//! A pattern matches the whole text (an absolute path, an image reference, a registry
//! host), case-sensitively:
//!
//! - `*` matches any run of characters except `/`; `?` one character except `/`;
//! - `**` as a whole path segment (`**/x`, `a/**`, `a/**/b`) matches any number of segments,
//!   including none; elsewhere (`a**`) it is a plain `*`;
//! - `[abc]`, `[a-z]`, `[!a]` match one character of (or not of) a class;
//! - `{a,b}` matches either alternative;
//! - `\` escapes the next character, so `\*` is a literal star.
//!
//! It is [`globset`]'s dialect with `literal_separator` and `backslash_escape` on, written
//! down in `docs/globs.md`. Three hand-written dialects came before it; [`migration`] says
//! what an old pattern now matches when its meaning changed, so readers of those patterns
//! can warn.
//!
//! ```
//! use bulwark_core::glob::Glob;
//!
//! let g = Glob::new("/usr/lib/**/*.so").unwrap();
//! assert!(g.is_match("/usr/lib/x86_64-linux-gnu/libz.so"));
//! assert!(g.is_match("/usr/lib/libz.so"));
//! assert!(!Glob::new("/usr/lib/*").unwrap().is_match("/usr/lib/x/libz.so"));
//! ```

use std::fmt;

/// A compiled pattern of the one dialect; compares and prints as the text it was written as.
#[derive(Clone)]
pub struct Glob {
    text: String,
    matcher: globset::GlobMatcher,
}

/// A pattern that is not valid in the dialect (an unclosed `[` or `{`, a dangling `\`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob {pattern:?}: {message}")]
pub struct GlobError {
    pub pattern: String,
    pub message: String,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| GlobError { pattern: pattern.to_owned(), message: e.kind().to_string() })?;
        Ok(Glob { text: pattern.to_owned(), matcher: glob.compile_matcher() })
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Glob) -> bool {
        self.text == other.text
    }
}

impl Eq for Glob {}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.text)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether `text` matches `pattern`; an invalid pattern matches nothing. For patterns that
/// were validated when they were read, where compiling once is not worth a field.
pub fn matches(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).is_ok_and(|g| g.is_match(text))
}

/// The dialects Bulwark read before this one, for migration warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// Policy exception `scope.image`/`scope.path` and `allowed_base_registries`: `*` and
    /// `?` matched `/` too.
    Policy,
    /// Ignore-file `scope.path`/`scope.image`: `*` within a segment, `**` anywhere across
    /// segments.
    IgnoreFile,
    /// The secret scanner's path allowlist: a pattern without `/` matched the file name in
    /// any directory, and a relative one was anchored at `/`.
    SecretAllowlist,
}

/// When `pattern`, read by a file written for the `legacy` dialect, means something else
/// in this one: what changed and what it now matches, as one sentence for a warning
/// (callers add the file and where in it). `None` when the meaning is the same.
pub fn migration(pattern: &str, legacy: Legacy) -> Option<String> {
    let mut changes: Vec<String> = Vec::new();
    if pattern.contains(['[', ']', '{', '}', '\\']) {
        changes.push(
            "`[…]`, `{a,b}` and `\\` are now a character class, alternatives and an escape, not literal text".into(),
        );
    }
    let lone = lone_wildcards(pattern);
    if legacy == Legacy::Policy && lone.single {
        let hint = match pattern.strip_suffix("/*") {
            Some(prefix) if !lone_wildcards(prefix).single => format!(" (write `{prefix}/**` for any depth)"),
            _ => " (a `**` segment spans segments)".to_owned(),
        };
        changes.push(format!("`*` and `?` no longer match `/`, so it now matches within one path segment{hint}"));
    } else if lone.glued_double {
        changes.push("a `**` that is not a whole path segment is now a `*` that stops at `/`".into());
    }
    if legacy == Legacy::SecretAllowlist {
        // `config:Env`-style pseudo paths never contain `/`: a pattern for them keeps its
        // meaning, and so does `**`, which matched everything before too.
        if !pattern.contains('/') && !pattern.contains(':') && pattern != "**" {
            changes.push(format!(
                "a pattern without `/` no longer matches a file name in any directory: it now matches the \
                 whole path, which always starts with `/`, so nothing (write `**/{pattern}`)"
            ));
        } else if pattern.contains('/') && !pattern.starts_with('/') && !pattern.starts_with("**/") {
            changes.push(format!(
                "a relative pattern is no longer anchored at `/`: it now matches the whole path, which always \
                 starts with `/` (write `/{pattern}`)"
            ));
        }
    }
    (!changes.is_empty()).then(|| format!("glob `{pattern}` changed meaning: {}", changes.join("; ")))
}

/// Which wildcards of `pattern` are not whole-segment `**`.
struct Lone {
    /// A `*` or `?` on its own (not part of `**`).
    single: bool,
    /// A `**` with other characters in its path segment.
    glued_double: bool,
}

fn lone_wildcards(pattern: &str) -> Lone {
    let b = pattern.as_bytes();
    let mut out = Lone { single: false, glued_double: false };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'?' => out.single = true,
            b'*' => {
                let mut j = i;
                while j < b.len() && b[j] == b'*' {
                    j += 1;
                }
                if j - i == 1 {
                    out.single = true;
                } else {
                    let starts_segment = i == 0 || b[i - 1] == b'/';
                    let ends_segment = j == b.len() || b[j] == b'/';
                    if !(starts_segment && ends_segment) {
                        out.glued_double = true;
                        out.single = true;
                    }
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "a/b", false),
            ("**", "a/b", true),
            ("/usr/lib/**", "/usr/lib/x/y.so", true),
            ("/usr/lib/*", "/usr/lib/x/y.so", false),
            ("/usr/lib/*", "/usr/lib/y.so", true),
            ("/opt/**/c", "/opt/c", true),
            ("/opt/**/c", "/opt/a/b/c", true),
            ("**/site-packages/**", "/usr/lib/python3/site-packages/a/METADATA", true),
            ("**/*.pem", "/etc/ssl/a.pem", true),
            ("*.pem", "/etc/ssl/a.pem", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("ghcr.io/org/*", "ghcr.io/org/app:1", true),
            ("ghcr.io/org/*", "ghcr.io/org/team/app:1", false),
            ("ghcr.io/org/**", "ghcr.io/org/team/app:1", true),
            ("*.io", "gcr.io", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "x", false),
            ("/etc/{passwd,shadow}", "/etc/shadow", true),
            ("/tmp/[ab].txt", "/tmp/b.txt", true),
            ("/tmp/\\*", "/tmp/*", true),
            ("/tmp/\\*", "/tmp/x", false),
            ("config:*", "config:Env", true),
        ] {
            assert_eq!(Glob::new(p).unwrap().is_match(t), want, "{p} vs {t}");
        }
        let e = Glob::new("/tmp/[ab").unwrap_err();
        assert!(e.to_string().starts_with("invalid glob \"/tmp/[ab\""), "{e}");
        assert!(!matches("/tmp/[ab", "/tmp/[ab"));
    }

    #[test]
    fn migrations_name_what_changed() {
        let policy = |p| migration(p, Legacy::Policy);
        assert!(policy("exact").is_none());
        assert!(policy("/usr/lib/**").is_none());
        let m = policy("ghcr.io/org/*").unwrap();
        assert!(m.contains("no longer match `/`") && m.contains("write `ghcr.io/org/**` for any depth"), "{m}");
        assert!(policy("a?c").is_some());
        assert!(policy("/x/[y]").unwrap().contains("character class"));

        let ignore = |p| migration(p, Legacy::IgnoreFile);
        assert!(ignore("/usr/lib/*").is_none(), "`*` already stopped at `/` in ignore files");
        assert!(ignore("**/site-packages/**").is_none());
        assert!(ignore("/usr/**.so").unwrap().contains("not a whole path segment"));

        let secret = |p| migration(p, Legacy::SecretAllowlist);
        assert!(secret("/opt/**").is_none());
        assert!(secret("**/*.pem").is_none());
        assert!(secret("config:*").is_none(), "pseudo paths have no `/`");
        let m = secret("*.pem").unwrap();
        assert!(m.contains("write `**/*.pem`") && m.starts_with("glob `*.pem` changed meaning"), "{m}");
        assert!(secret("opt/*/c").unwrap().contains("write `/opt/*/c`"));
    }
}
