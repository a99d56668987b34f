//! The rule model shared by the built-in rules and the loaded rule files, and the built-in
//! rules themselves, written from the public token formats.

use std::sync::Arc;

use base64::Engine as _;
use bulwark_core::report::Severity;
use regex::bytes::{Regex, RegexBuilder};

/// A format-specific check run on a regex match before it becomes a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// `gh?_` + 30 random characters + base62(CRC32(random)) in 6 characters.
    GithubCrc,
    /// `npm_`: the same layout as GitHub's classic tokens.
    NpmCrc,
    /// The header must decode to a JSON object with an `alg` member.
    Jwt,
    /// A base64 body must follow the BEGIN line; the preview is the BEGIN line alone.
    PrivateKey,
    /// The same file must carry a `private_key`.
    GcpServiceAccount,
    /// The value must not be a placeholder, a variable reference or an identifier (the
    /// rule's entropy gate applies as well).
    Value,
}

/// What a rule allowlist's `regexes` are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

/// An allowlist attached to a rule (or to every rule of a file).
#[derive(Debug)]
pub(crate) struct Allowlist {
    /// `AND`: every condition given must hold; otherwise any one.
    pub and: bool,
    pub target: Target,
    pub regexes: Vec<Regex>,
    pub paths: Vec<Regex>,
    /// Lower-case; the secret must contain one.
    pub stopwords: Vec<String>,
}

impl Allowlist {
    pub(crate) fn allows(&self, path: &str, secret: &[u8], matched: &[u8], line: &[u8]) -> bool {
        let mut conditions = [None, None, None];
        if !self.paths.is_empty() {
            conditions[0] = Some(self.paths.iter().any(|r| r.is_match(path.as_bytes())));
        }
        if !self.regexes.is_empty() {
            let text = match self.target {
                Target::Secret => secret,
                Target::Match => matched,
                Target::Line => line,
            };
            conditions[1] = Some(self.regexes.iter().any(|r| r.is_match(text)));
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            conditions[2] = Some(self.stopwords.iter().any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some()));
        }
        let mut given = conditions.iter().flatten().peekable();
        if given.peek().is_none() {
            return false;
        }
        if self.and { given.all(|c| *c) } else { given.any(|c| *c) }
    }
}

/// One detection rule, built-in or loaded.
#[derive(Debug)]
pub(crate) struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// Lower-case; the rule runs only near one of them. Empty: over every file.
    pub keywords: Vec<String>,
    /// `None`: a rule on the path alone (e.g. key store files).
    pub regex: Option<Regex>,
    /// The capture group holding the secret; `None`: the first non-empty group, or the
    /// whole match when there is none.
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret, exclusive.
    pub entropy: Option<f64>,
    /// The rule applies only to paths matching this.
    pub path: Option<Regex>,
    pub allowlists: Vec<Arc<Allowlist>>,
    pub check: Check,
    /// Everything that defines the rule, for the scanner version.
    pub definition: String,
}

/// Compiles a rule regex as bytes with ASCII classes (as Go's RE2, which gitleaks uses),
/// falling back to Unicode classes for patterns that need them.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let pattern = &go_braces(pattern);
    let build = |unicode: bool| {
        RegexBuilder::new(pattern).unicode(unicode).size_limit(32 << 20).dfa_size_limit(8 << 20).build()
    };
    build(false).or_else(|_| build(true)).map_err(|e| {
        let text = e.to_string();
        let reason = text.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(text.lines().next().unwrap_or(""));
        reason.trim_start_matches("error: ").to_owned()
    })
}

/// RE2 (Go) reads a `{` that does not start a repetition (`{2}`, `{2,}`, `{2,5}`) as a
/// literal; Rust's `regex` rejects it. Escapes such braces outside character classes.
pub(crate) fn go_braces(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 8);
    let (mut i, mut class) = (0, false);
    let repetition = |rest: &[u8]| {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        let rest = &rest[digits..];
        match rest.first() {
            Some(b'}') => true,
            Some(b',') => rest[1..].iter().find(|c| !c.is_ascii_digit()) == Some(&b'}'),
            _ => false,
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let n = pattern[i..].chars().nth(1).map_or(0, char::len_utf8);
            out.push_str(&pattern[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        if class {
            if c == b'['
                && b.get(i + 1) == Some(&b':')
                && let Some(end) = pattern[i..].find(":]")
            {
                out.push_str(&pattern[i..i + end + 2]);
                i += end + 2;
                continue;
            }
            if c == b']' {
                class = false;
            }
        } else if c == b'[' {
            class = true;
            out.push('[');
            i += 1;
            // A `]` first in a class (after an optional `^`) is a literal.
            if b.get(i) == Some(&b'^') {
                out.push('^');
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                out.push(']');
                i += 1;
            }
            continue;
        } else if c == b'{' && !repetition(&b[i + 1..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        }
        let n = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + n]);
        i += n;
    }
    out
}

/// Shannon entropy of `data` in bits per byte.
pub(crate) fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base 62 (digits, upper case, lower case), left-padded with `0` to `width`.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Whether a GitHub classic or npm token's last six characters are the base62 CRC32 of the
/// thirty random characters after its four-character prefix
/// (github.blog, "Behind GitHub's new authentication token formats", 2021; npm adopted the
/// same layout for `npm_` tokens).
pub fn checksum_ok(token: &[u8]) -> bool {
    if token.len() != 40 {
        return false;
    }
    let (random, sum) = (&token[4..34], &token[34..]);
    base62(u64::from(crc32fast::hash(random)), 6).as_bytes() == sum
}

/// Whether a JWT's first part decodes to a JSON object naming an algorithm.
fn jwt_ok(token: &[u8]) -> bool {
    let header = token.split(|&b| b == b'.').next().unwrap_or_default();
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_ascii_end()) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json).is_ok_and(|m| m.contains_key("alg"))
}

/// Values that stand for a secret rather than being one.
pub(crate) fn is_placeholder(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    if v.is_empty() {
        return true;
    }
    let lower = String::from_utf8_lossy(v).to_ascii_lowercase();
    // Variable references and template syntax: $VAR, ${VAR}, %(name)s, {{ x }}, #{x}, @VAR@, <password>.
    if lower.starts_with('$')
        || lower.starts_with("%(")
        || lower.starts_with('%') && lower.ends_with('%')
        || lower.contains("{{")
        || lower.starts_with("#{")
        || lower.starts_with('@') && lower.ends_with('@')
        || lower.starts_with('<') && lower.contains('>')
        || lower.starts_with('[') && lower.ends_with(']')
    {
        return true;
    }
    const WORDS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "example",
        "placeholder",
        "your_",
        "your-",
        "yourpass",
        "yoursecret",
        "xxxx",
        "****",
        "....",
        "dummy",
        "redacted",
        "sample",
        "fake",
        "password",
        "passwd",
        "secret",
        "insert",
        "replace",
        "todo",
        "fixme",
        "tiger",
        "none",
        "null",
        "undefined",
        "true",
        "false",
        "test",
        "1234",
        "abcd",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let first = v[0];
    v.iter().all(|&b| b == first)
}

/// Identifiers and attribute paths (`self.password`, `os.environ`): code, not a secret.
/// Dotted names with digits (`ed25519.Ed25519PrivateKey`) are code as well.
pub(crate) fn is_identifier(value: &[u8]) -> bool {
    let plain = value.iter().all(|&b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b'/' | b':'));
    let dotted = value.contains(&b'.')
        && value.split(|&b| b == b'.').all(|part| {
            part.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        });
    plain || dotted
}

/// Runs a rule's format check on a match. `content` is the whole file; `secret` is the
/// range of the secret in it.
pub(crate) fn check(rule: &Rule, content: &[u8], matched: (usize, usize), secret: &[u8]) -> bool {
    match rule.check {
        Check::None => true,
        Check::GithubCrc | Check::NpmCrc => checksum_ok(secret),
        Check::Jwt => jwt_ok(secret),
        Check::PrivateKey => private_key_body(content, matched.1).is_some(),
        Check::GcpServiceAccount => memchr::memmem::find(content, b"\"private_key\"").is_some(),
        Check::Value => !is_placeholder(secret) && !is_identifier(secret),
    }
}

/// The body of a PEM/OpenSSH/PGP private key whose BEGIN line ends at `from`: the
/// range up to its END line (or 16 KiB), if it holds enough base64 to be a key. Literal
/// `\n` escapes (keys inside JSON strings) count as line breaks.
pub(crate) fn private_key_body(content: &[u8], from: usize) -> Option<(usize, usize)> {
    let rest = &content[from..content.len().min(from + 16 * 1024)];
    let end = memchr::memmem::find(rest, b"-----END").unwrap_or(rest.len());
    let body = &rest[..end];
    let mut base64 = 0usize;
    let mut other = 0usize;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' && body.get(i + 1) == Some(&b'n') {
            i += 2;
            continue;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') {
            base64 += 1;
        } else if !b.is_ascii_whitespace() && b != b':' && b != b'-' && b != b',' {
            other += 1;
        }
        i += 1;
    }
    (base64 >= 64 && other * 20 < base64).then_some((from, from + end))
}

struct Builtin {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    keywords: &'static [&'static str],
    regex: &'static str,
    entropy: Option<f64>,
    check: Check,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        severity: Severity::High,
        keywords: &["akia", "asia", "abia", "acca"],
        regex: r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        severity: Severity::Critical,
        keywords: &[
            "secret_access_key",
            "secretaccesskey",
            "secret-access-key",
            "aws_secret",
            "awssecret",
            "aws-secret",
        ],
        regex: r#"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?|secret[_.-]?access[_.-]?key)["']?\s{0,5}(?:=|:|=>|:=)\s{0,5}["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        entropy: Some(3.0),
        check: Check::None,
    },
    Builtin {
        id: "gcp-service-account-key",
        title: "Google Cloud service account key file",
        severity: Severity::Critical,
        keywords: &["service_account"],
        regex: r#""type"\s*:\s*"service_account""#,
        entropy: None,
        check: Check::GcpServiceAccount,
    },
    Builtin {
        id: "gcp-api-key",
        title: "Google Cloud API key",
        severity: Severity::High,
        keywords: &["aiza"],
        regex: r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "azure-storage-account-key",
        title: "Azure storage account key",
        severity: Severity::Critical,
        keywords: &["accountkey", "account_key", "account-key", "storage_key", "storagekey", "storage-key"],
        regex: r#"(?i)(?:accountkey|(?:azure|storage)[_.-]?(?:storage[_.-]?)?(?:account[_.-]?)?key)["']?\s{0,5}(?:=|:|=>)\s{0,5}["']?([A-Za-z0-9+/]{86}==)"#,
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "github-token",
        title: "GitHub token (personal, OAuth, app or refresh)",
        severity: Severity::Critical,
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        regex: r"\b(gh[pousr]_[A-Za-z0-9]{36})\b",
        entropy: None,
        check: Check::GithubCrc,
    },
    Builtin {
        id: "github-fine-grained-token",
        title: "GitHub fine-grained personal access token",
        severity: Severity::Critical,
        keywords: &["github_pat_"],
        regex: r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "gitlab-token",
        title: "GitLab personal access token",
        severity: Severity::Critical,
        keywords: &["glpat-"],
        regex: r"\b(glpat-[A-Za-z0-9_-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?)(?:[^A-Za-z0-9_.-]|$)",
        entropy: Some(3.0),
        check: Check::None,
    },
    Builtin {
        id: "slack-token",
        title: "Slack token",
        severity: Severity::High,
        keywords: &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
        regex: r"\b(xox[baprs]-[0-9]{1,16}-[0-9A-Za-z-]{10,250})",
        entropy: Some(3.0),
        check: Check::None,
    },
    Builtin {
        id: "slack-webhook-url",
        title: "Slack incoming webhook URL",
        severity: Severity::High,
        keywords: &["hooks.slack.com"],
        regex: r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/]{9,}/[A-Za-z0-9+/]{9,}/[A-Za-z0-9+/]{16,})",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "stripe-secret-key",
        title: "Stripe live secret or restricted key",
        severity: Severity::Critical,
        keywords: &["sk_live_", "rk_live_"],
        regex: r"\b((?:sk|rk)_live_[0-9A-Za-z]{24,99})\b",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "npm-token",
        title: "npm access token",
        severity: Severity::Critical,
        keywords: &["npm_"],
        regex: r"\b(npm_[A-Za-z0-9]{36})\b",
        entropy: None,
        check: Check::NpmCrc,
    },
    Builtin {
        id: "pypi-token",
        title: "PyPI upload token",
        severity: Severity::Critical,
        keywords: &["pypi-ageichlwas5vcmc"],
        regex: r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        entropy: None,
        check: Check::None,
    },
    Builtin {
        id: "private-key",
        title: "Private key",
        severity: Severity::Critical,
        keywords: &["private key"],
        regex: r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
        entropy: None,
        check: Check::PrivateKey,
    },
    Builtin {
        id: "jwt",
        title: "JSON Web Token",
        severity: Severity::Medium,
        keywords: &["eyj"],
        regex: r"\b(eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)",
        entropy: None,
        check: Check::Jwt,
    },
    Builtin {
        id: "database-url-password",
        title: "Database URL with a password",
        severity: Severity::High,
        keywords: &[
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
            "mongodb://",
            "mongodb+srv://",
            "redis://",
            "rediss://",
            "amqp://",
            "amqps://",
        ],
        regex: r#"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)://[^:@/\s"'<>]*:([^@/\s"'<>]{3,})@[A-Za-z0-9._-]+"#,
        entropy: None,
        check: Check::Value,
    },
    Builtin {
        id: "generic-secret",
        title: "Password or secret assignment",
        severity: Severity::Medium,
        keywords: &["password", "passwd", "pwd", "secret", "api_key", "apikey", "api-key", "token", "private_key"],
        regex: r#"(?i)(?:password|passwd|pwd|secret(?:[_.-]?key)?|api[_.-]?key|apikey|token|private[_.-]?key)["']?\s{0,5}(?:=|:|:=|=>)\s{0,5}(?:"([^"\s]{8,200})"|'([^'\s]{8,200})'|([^\s"'`,;()\[\]{}<>]{8,200})(?:[\s,;]|$))"#,
        entropy: Some(3.0),
        check: Check::Value,
    },
];

/// The built-in rules, compiled.
pub(crate) fn builtin() -> Vec<Rule> {
    BUILTINS
        .iter()
        .map(|b| Rule {
            id: b.id.to_owned(),
            title: b.title.to_owned(),
            severity: b.severity,
            keywords: b.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            // The patterns are constants covered by tests: a failure here is a programming error.
            regex: Some(compile(b.regex).unwrap_or_else(|e| panic!("built-in rule {}: {e}", b.id))),
            secret_group: None,
            entropy: b.entropy,
            path: None,
            allowlists: Vec::new(),
            check: b.check,
            definition: format!("builtin\0{}\0{}\0{:?}\0{:?}\0{:?}", b.id, b.regex, b.keywords, b.entropy, b.check),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_braces() {
        assert_eq!(go_braces(r"^\$(?:\d+|{\d+})$"), r"^\$(?:\d+|\{\d+})$");
        assert_eq!(go_braces(r"a{2}b{1,}c{1,3}[{}]\{"), r"a{2}b{1,}c{1,3}[{}]\{");
        assert_eq!(go_braces(r"[[:alnum:]{]{{x}}"), r"[[:alnum:]{]\{\{x}}");
        assert!(compile(r"import[ \t]+{[ \t\w,]+}").is_ok());
    }

    #[test]
    fn base62_checksum_layout() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 2), "0z");
        assert_eq!(base62(62, 1), "10");
        assert_eq!(base62(u64::from(u32::MAX), 6), "4gfFC3");
    }
}
