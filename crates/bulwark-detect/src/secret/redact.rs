//! The one redaction step every output goes through.
//!
//! A finding's preview is masked when it is made, but image-derived text reaches the output
//! by other roads too: the history steps copied into the report's layers, paths, labels,
//! warnings, `bulwark inspect`'s Cmd and Entrypoint, and a second secret on a finding's line
//! that no rule matched. [`Redactor::redact`] masks, in any text, everything that
//!
//! - any secret rule's regex recognises (the built-in rules and every loaded rule file,
//!   gitleaks' included), leniently: a match is masked even when the scanner's format checks
//!   (entropy gate, checksum, JWT header, allowlists, path restriction) would not report it;
//!   only placeholders and identifiers (`${TOKEN}`, `self.password`) are left;
//! - the generic checks of [`generic_ranges`] recognise: URL userinfo passwords, the secret
//!   key after an AWS access key id, `NAME=value` assignments whose name marks a credential
//!   ([`super::secret_variable`]), and credential-looking high-entropy tokens.
//!
//! [`Redactor::redact_report`] applies it to every string of a report that carries text from
//! the image; `bulwark_scan::scan` calls it before the report leaves the library.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use bulwark_core::report::{AffectedPackage, FileLocation, ScanReport, Vulnerability};
use regex::bytes::Regex;

use super::{Error, SecretConfig, SecretScanner};

/// Masks secrets in text: the compiled rules of a [`SecretScanner`] plus generic checks.
#[derive(Debug, Clone)]
pub struct Redactor {
    scanner: Arc<SecretScanner>,
}

impl Redactor {
    /// A redactor with the rules `config` names (built-in rules and rule files).
    pub fn new(config: &SecretConfig) -> Result<Redactor, Error> {
        Ok(Redactor { scanner: Arc::new(SecretScanner::new(config)?) })
    }

    /// A redactor with the built-in rules only.
    pub fn builtin() -> Result<Redactor, Error> {
        Redactor::new(&SecretConfig::default())
    }

    /// A redactor sharing the compiled rules of a scanner.
    pub fn from_scanner(scanner: Arc<SecretScanner>) -> Redactor {
        Redactor { scanner }
    }

    /// `text` with every recognised secret masked (a few leading characters and `****`).
    /// Borrows when nothing was found.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let b = text.as_bytes();
        let mut ranges = self.scanner.secret_ranges(b);
        ranges.extend(generic_ranges(b));
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let (out, _) = mask_ranges(b, ranges);
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    }

    /// Redacts a string in place.
    pub fn redact_string(&self, s: &mut String) {
        if let Cow::Owned(o) = self.redact(s) {
            *s = o;
        }
    }

    /// Redacts every string of `report` that carries text from the image (or from an SBOM
    /// or report given as input): reference, creation time, OS release, history steps,
    /// package names, versions, purls, licenses and paths, finding locations, previews and
    /// messages, skipped-file examples, suppression matches, policy violations and
    /// warnings. Digests, fingerprints and hashes are typed or hex and are left alone.
    pub fn redact_report(&self, r: &mut ScanReport) {
        let s = |x: &mut String| self.redact_string(x);
        let o = |x: &mut Option<String>| {
            if let Some(x) = x {
                self.redact_string(x);
            }
        };
        let loc = |l: &mut FileLocation| self.redact_string(&mut l.path);
        let affected = |p: &mut AffectedPackage| {
            s(&mut p.name);
            s(&mut p.version);
            s(&mut p.purl);
            p.locations.iter_mut().for_each(s);
            if let Some(m) = &mut p.matched_as {
                s(&mut m.name);
                o(&mut m.version);
            }
        };
        let vuln = |v: &mut Vulnerability| {
            affected(&mut v.package);
            s(&mut v.explanation);
        };
        s(&mut r.image.reference);
        o(&mut r.image.created);
        if let Some(os) = &mut r.os {
            s(&mut os.id);
            o(&mut os.version_id);
            o(&mut os.version_codename);
            o(&mut os.pretty_name);
            s(&mut os.source);
        }
        for l in &mut r.layers {
            o(&mut l.created_by);
            o(&mut l.media_type);
        }
        for p in &mut r.packages {
            s(&mut p.name);
            s(&mut p.version);
            s(&mut p.purl);
            o(&mut p.arch);
            o(&mut p.license);
            if let Some(src) = &mut p.source {
                s(&mut src.name);
                o(&mut src.version);
            }
            p.locations.iter_mut().for_each(s);
            p.dependencies.iter_mut().for_each(s);
        }
        r.vulnerabilities.iter_mut().for_each(vuln);
        r.suppressed.iter_mut().for_each(|x| vuln(&mut x.vulnerability));
        for m in &mut r.malware {
            loc(&mut m.location);
        }
        for f in &mut r.secrets {
            loc(&mut f.location);
            s(&mut f.preview);
        }
        for c in &mut r.misconfigurations {
            s(&mut c.message);
            o(&mut c.remediation);
            if let Some(l) = &mut c.location {
                loc(l);
            }
        }
        for k in &mut r.skipped {
            s(&mut k.reason);
            k.examples.iter_mut().for_each(s);
        }
        for x in &mut r.suppressions {
            o(&mut x.scope);
            x.matched.iter_mut().for_each(s);
        }
        if let Some(p) = &mut r.policy {
            for v in p.rules.iter_mut().flat_map(|r| r.violations.iter_mut()) {
                o(&mut v.target);
                s(&mut v.message);
            }
            for e in &mut p.exceptions {
                e.matched.iter_mut().for_each(s);
            }
        }
        for n in &mut r.not_checked {
            o(&mut n.scope);
            s(&mut n.message);
        }
        for w in &mut r.warnings {
            o(&mut w.path);
            s(&mut w.message);
        }
    }
}

/// One masked range: (start in the output, end in the output, start in the input, end in
/// the input).
pub(crate) type Span = (usize, usize, usize, usize);

/// Sorts and merges `ranges` of `text` (widened to whole UTF-8 characters) and masks each:
/// the masked text, and a [`Span`] per merged range.
pub(crate) fn mask_ranges(text: &[u8], mut ranges: Vec<(usize, usize)>) -> (Vec<u8>, Vec<Span>) {
    for r in &mut ranges {
        r.1 = r.1.min(text.len());
        r.0 = r.0.min(r.1);
        while r.0 > 0 && is_continuation(text[r.0]) {
            r.0 -= 1;
        }
        while r.1 < text.len() && is_continuation(text[r.1]) {
            r.1 += 1;
        }
    }
    ranges.retain(|r| r.1 > r.0);
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    let mut out = Vec::with_capacity(text.len());
    let mut spans = Vec::with_capacity(merged.len());
    let mut pos = 0;
    for (s, e) in merged {
        out.extend_from_slice(&text[pos..s]);
        let o = out.len();
        out.extend_from_slice(super::mask(&text[s..e]).as_bytes());
        spans.push((o, out.len(), s, e));
        pos = e;
    }
    out.extend_from_slice(&text[pos..]);
    (out, spans)
}

fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// `scheme://user:password@host`: the password, whatever the scheme.
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    crate::secret::rules::compile(r#"(?i)\b[a-z][a-z0-9+.-]{0,30}://[^\s/?#@:"'<>]*:([^\s@"'<>]+)@"#)
        .unwrap_or_else(|e| panic!("url userinfo pattern: {e}"))
});

/// An AWS access key id followed, after a separator or two, by 40 characters of base64:
/// the secret access key of the pair (`aws=AKIA…:SECRET`, `s3://AKIA…:SECRET@bucket`).
static AWS_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    crate::secret::rules::compile(
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}[^A-Za-z0-9/+]{1,3}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
    )
    .unwrap_or_else(|e| panic!("aws pair pattern: {e}"))
});

/// Byte ranges of secrets in `text` that no rule is needed for: URL userinfo passwords,
/// the secret key of an AWS key pair, values of credential-named assignments, and
/// credential-looking tokens ([`credential_like`]).
pub(crate) fn generic_ranges(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if memchr::memmem::find(text, b"://").is_some() {
        let mut pos = 0;
        while let Some(c) = URL_USERINFO.captures_at(text, pos) {
            let (Some(m), Some(p)) = (c.get(0), c.get(1)) else { break };
            let pw = p.as_bytes();
            // `host:8080/path@x` is a port and a path, not a password; a candidate that
            // runs into another URL is not one either.
            let port = pw.split(|&b| b == b'/').next().is_some_and(|h| h.iter().all(u8::is_ascii_digit));
            if !port && !is_reference(pw) && memchr::memmem::find(pw, b"://").is_none() {
                out.push((p.start(), p.end()));
                pos = m.end();
            } else {
                // Not a password: look again from just after this match's start, so a URL
                // inside the rejected candidate is still found.
                pos = m.start() + 1;
            }
        }
    }
    if memchr::memchr(b'A', text).is_some() {
        out.extend(AWS_PAIR.captures_iter(text).filter_map(|c| c.get(1)).map(|m| (m.start(), m.end())));
    }
    assignments(text, &mut out);
    high_entropy(text, &mut out);
    out
}

/// A variable reference or template, not a value: `$PASS`, `${PASS}`, `%(pass)s`,
/// `{{ pass }}`, `<password>`, `****`.
fn is_reference(v: &[u8]) -> bool {
    v.first().is_some_and(|&b| b == b'$' || b == b'%' || b == b'<')
        || memchr::memmem::find(v, b"{{").is_some()
        || v.iter().all(|&b| b == b'*')
}

/// `NAME=value` and `NAME: value` where the name marks a credential and the value is set
/// (the definition the `env-secret` rule uses).
fn assignments(text: &[u8], out: &mut Vec<(usize, usize)>) {
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
    for eq in memchr::memchr2_iter(b'=', b':', text) {
        let mut ns = eq;
        while ns > 0 && name_byte(text[ns - 1]) {
            ns -= 1;
        }
        if ns == eq || eq - ns > 128 {
            continue;
        }
        let mut vs = eq + 1;
        while vs < text.len() && matches!(text[vs], b' ' | b'"' | b'\'') && vs - eq <= 3 {
            vs += 1;
        }
        let mut ve = vs;
        while ve < text.len()
            && ve - vs < 256
            && !matches!(text[ve], b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b',' | b';')
        {
            ve += 1;
        }
        if ve == vs {
            continue;
        }
        let (Ok(name), Ok(value)) = (std::str::from_utf8(&text[ns..eq]), std::str::from_utf8(&text[vs..ve])) else {
            continue;
        };
        if super::secret_variable(name, value) {
            out.push((vs, ve));
        }
    }
}

/// The shortest token the entropy check considers.
const MIN_TOKEN: usize = 20;
/// Separators inside a token: base64's `+ /` and the `- _` of identifiers and base64url.
/// `=` is not one: inside text it is an assignment (`NAME=value`); base64 padding at the
/// end of a token is added to its range.
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

/// Credential-looking tokens: runs of base64/base64url characters, split into pieces at
/// `+ / _ -`. Every stretch of consecutive pieces that starts and ends with a piece of at
/// least four characters that does not read as a word (`perl5`, `README`, `DebConf`), and
/// is less than a quarter words, is checked with [`credential_like`]; from each start the longest one that passes
/// is masked. So paths and identifiers, made of words, are left alone, while a secret is
/// found whatever surrounds it.
fn high_entropy(text: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < text.len() {
        if !token_byte(text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && token_byte(text[i]) {
            i += 1;
        }
        if i - start >= MIN_TOKEN {
            token(text, start, i, out);
        }
    }
}

/// Most pieces, and most bytes, of a stretch of several pieces that is checked; a single
/// piece is checked whatever its length.
const MAX_PIECES: usize = 16;
const MAX_STRETCH: usize = 512;

fn token(text: &[u8], start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    // Alphanumeric pieces, with whether each reads as a word.
    let mut pieces: Vec<(usize, usize, bool)> = Vec::new();
    let mut i = start;
    while i < end {
        if !text[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let s = i;
        while i < end && text[i].is_ascii_alphanumeric() {
            i += 1;
        }
        pieces.push((s, i, wordlike(&text[s..i])));
    }
    for a in 0..pieces.len() {
        // A stretch starts and ends with a piece of four characters or more, so that path
        // components (`gnu/libISOIR165`) and prefixes (`app/`, `ghp_`) stay outside it.
        if pieces[a].2 || pieces[a].1 - pieces[a].0 < 4 {
            continue;
        }
        let s = pieces[a].0;
        let (mut words, mut long, mut best) = (0usize, 0usize, None);
        for (b, &(ps, pe, word)) in pieces.iter().enumerate().skip(a).take(MAX_PIECES) {
            if word {
                words += pe - ps;
                continue;
            }
            if b > a && pe - ps < 4 {
                continue;
            }
            // Generated secrets are mostly long pieces; paths are many short ones
            // (`usr/lib/x86_64-linux-gnu`).
            if pe - ps >= 8 {
                long += pe - ps;
            }
            // Trailing base64 padding belongs to the token.
            let mut e = pe;
            while e < text.len() && text[e] == b'=' {
                e += 1;
            }
            if b > a && e - s > MAX_STRETCH {
                break;
            }
            if e - s >= MIN_TOKEN && words * 4 < e - s && long * 2 >= e - s && credential_like(&text[s..e]) {
                best = Some(e);
            }
        }
        if let Some(e) = best {
            out.push((s, e));
        }
    }
}

/// A piece that reads as a word: five characters or more, all lower case, all upper case
/// or capitalised words (`DebConf`), optionally followed by digits (`perl5`, `UTF8`).
fn wordlike(p: &[u8]) -> bool {
    if p.len() < 5 {
        return false;
    }
    let letters = p.iter().rposition(|b| !b.is_ascii_digit()).map_or(0, |i| i + 1);
    let w = &p[..letters];
    if w.is_empty() {
        return false;
    }
    let lower = w.iter().all(u8::is_ascii_lowercase);
    let upper = w.iter().all(u8::is_ascii_uppercase);
    // Capitalised words: an upper-case letter starts each, lower case follows.
    let camel = w[0].is_ascii_uppercase()
        && w.iter().all(u8::is_ascii_alphabetic)
        && w.windows(2).all(|x| !(x[0].is_ascii_uppercase() && x[1].is_ascii_uppercase()))
        && w.last().is_some_and(u8::is_ascii_lowercase);
    lower || upper || camel
}

/// Whether a token looks like a generated credential: at least [`MIN_TOKEN`] characters,
/// not hexadecimal (digests, UUIDs, fingerprints), less than half in lower-case words,
/// mixed upper and lower case with digits
/// or frequent case changes (or, for 32 characters and more, lower case densely mixed
/// with digits), and a Shannon entropy of at least 0.7·log2(length) bits per character
/// (length capped at 64), which random base62/base64 strings of that length exceed with a
/// wide margin while words and paths do not.
pub(crate) fn credential_like(t: &[u8]) -> bool {
    let n = t.len();
    if n < MIN_TOKEN {
        return false;
    }
    let (mut upper, mut lower, mut digit, mut case_changes, mut letter_digit) = (0, 0, 0, 0, 0);
    for (i, &b) in t.iter().enumerate() {
        match b {
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            b'0'..=b'9' => digit += 1,
            _ => {}
        }
        if i > 0 {
            let p = t[i - 1];
            if p.is_ascii_alphabetic() && b.is_ascii_alphabetic() && p.is_ascii_uppercase() != b.is_ascii_uppercase() {
                case_changes += 1;
            }
            if p.is_ascii_alphabetic() && b.is_ascii_digit() || p.is_ascii_digit() && b.is_ascii_alphabetic() {
                letter_digit += 1;
            }
        }
    }
    if t.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-' || *b == b'_') {
        return false;
    }
    // Words inside: runs of six or more lower-case letters (after an optional capital),
    // as in `Log4jConfigurationFactory2`. Random text has few.
    let (mut in_words, mut run) = (0, 0);
    for (i, &b) in t.iter().enumerate() {
        let continues = b.is_ascii_lowercase()
            || (b.is_ascii_uppercase() && t.get(i + 1).is_some_and(u8::is_ascii_lowercase) && run == 0);
        if continues {
            run += 1;
        } else {
            if run >= 6 {
                in_words += run;
            }
            run = usize::from(b.is_ascii_uppercase() && t.get(i + 1).is_some_and(u8::is_ascii_lowercase));
        }
    }
    if run >= 6 {
        in_words += run;
    }
    if in_words * 2 >= n {
        return false;
    }
    let mixed = upper > 0 && lower > 0 && (digit > 0 || case_changes * 4 >= n);
    let lower_digits = upper == 0 && n >= 32 && digit >= 4 && letter_digit * 4 >= n;
    if !mixed && !lower_digits {
        return false;
    }
    super::rules::entropy(t) >= 0.7 * (n.min(64) as f64).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(&SecretConfig::default()).unwrap()
    }

    #[test]
    fn generic_checks_find_what_no_rule_does() {
        let r = redactor();
        let cases = [
            ("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@bucket/x", "wJalrXUtnFEMI"),
            ("aws=AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "bPxRfiCYEXAMPLEKEY"),
            ("curl https://deploy:hunter2hunter2@git.example.com/repo.git", "hunter2hunter2"),
            ("X-Api: Zk9mQ2xYb3VqR1pLdHNaV3h5Tm9xUEFz", "Zk9mQ2xYb3VqR1pL"),
            ("ENV SIGNING_KEY=plainwords-but-set", "plainwords-but-set"),
            ("--token-file=/x --key q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1", "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1"),
        ];
        for (text, secret) in cases {
            let out = r.redact(text);
            assert!(!out.contains(secret), "{text:?} -> {out:?}");
            assert!(out.contains("****"), "{out:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = redactor();
        for text in [
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12",
            "/usr/share/perl5/Debian/DebConf/Element/Noninteractive/Boolean.pm",
            "/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1",
            "github.com/GoogleCloudPlatform/k8s-cloud-provider@v1.18.1-0.20220218231025-f11817397a1b",
            "org/apache/logging/log4j/core/config/Log4jConfigurationFactory2.class",
            "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates",
            "ENV PASSWORD_FILE=/run/secrets/db API_TOKEN=${TOKEN} url=http://localhost:8080/@scope/pkg@1.0",
            "550e8400-e29b-41d4-a716-446655440000 0d5a0f4a1c2b3e4f5a6b7c8d9e0f1a2b",
            "CMD [\"python3\", \"-m\", \"gunicorn\", \"--bind\", \"0.0.0.0:8000\", \"app.wsgi:application\"]",
            "https://user:${PASSWORD}@example.com postgres://app:$DB_PASS@db/app",
        ] {
            assert_eq!(r.redact(text), text);
        }
    }

    /// Random tokens like generated credentials are caught (and what share of them).
    #[test]
    fn random_tokens_are_caught() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (len, alphabet, min_rate) in [(20, 62, 0.97), (32, 62, 0.999), (40, 64, 0.99), (64, 64, 0.995)] {
            let mut caught = 0;
            for _ in 0..10_000 {
                let t: Vec<u8> = (0..len).map(|_| B64[(next() % alphabet) as usize]).collect();
                let mut ranges = Vec::new();
                high_entropy(&t, &mut ranges);
                // Masked so that at most a quarter of the token is left to read.
                let covered: usize = mask_ranges(&t, ranges).1.iter().map(|&(_, _, s, e)| e - s).sum();
                caught += usize::from(covered * 4 >= len * 3);
            }
            let rate = caught as f64 / 10_000.0;
            assert!(rate >= min_rate, "length {len}, alphabet {alphabet}: {rate}");
        }
    }

    /// The fuzz target's property (`fuzz/fuzz_targets/redact.rs`) over hostile neighbours:
    /// a planted secret never survives redaction, whatever text surrounds it.
    #[test]
    fn planted_secrets_never_survive_hostile_surroundings() {
        const FRAGMENTS: &[&str] = &[
            "://",
            "x://y:",
            "$",
            "@",
            "-----BEGIN PRIVATE KEY-----",
            "-----END",
            "AKIA",
            "password=",
            "ghp_",
            "/",
            "+",
            "=",
            "é",
            "\u{202e}",
            " ",
            "\n",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ABCDEFGHIJKLMNOPQRSTUVWX",
            "0123456789",
            ":",
            "'",
            "\"",
            "${X}",
            "https://u:",
            "_",
            "-",
            "Zq8v3Lr0pWx7Kd2M",
            "key=",
        ];
        const SEPARATORS: &[u8] = b" \n\t\"',;()<>|&";
        let r = redactor();
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Upper, lower, digit in turn: a generated credential's shape.
        let token = |n: usize, next: &mut dyn FnMut() -> u64| -> String {
            let classes: [&[u8]; 3] = [b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz", b"0123456789"];
            (0..n).map(|i| classes[i % 3][(next() % classes[i % 3].len() as u64) as usize] as char).collect()
        };
        for round in 0..3000 {
            let mut text = String::new();
            for _ in 0..next() % 10 {
                text.push_str(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            }
            let (planted, secrets) = match round % 6 {
                0 => {
                    let id: String =
                        (0..16).map(|_| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(next() % 32) as usize] as char).collect();
                    (format!("AKIA{id}"), vec![format!("AKIA{id}")])
                }
                1 => {
                    let mut secret = token(39, &mut next);
                    secret.insert(8 + (next() % 24) as usize, '/');
                    (format!("AKIAIOSFODNN7EXAMPLE:{secret}"), vec![secret])
                }
                2 => {
                    let t = format!("ghp_{}", token(36, &mut next));
                    (t.clone(), vec![t])
                }
                3 => {
                    let lines: Vec<String> = (0..3).map(|_| token(64, &mut next)).collect();
                    (
                        format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", lines.join("\n")),
                        lines,
                    )
                }
                4 => {
                    let pw = token(16, &mut next);
                    (format!("https://deploy:{pw}@git.example.com/x.git"), vec![pw])
                }
                _ => {
                    let t = token(36, &mut next);
                    (t.clone(), vec![t])
                }
            };
            let mut at = (next() % (text.len() as u64 + 1)) as usize;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let sep = |n: u64| SEPARATORS[(n % SEPARATORS.len() as u64) as usize] as char;
            let input = format!("{}{}{planted}{}{}", &text[..at], sep(next()), sep(next()), &text[at..]);
            let out = r.redact(&input);
            for secret in &secrets {
                assert!(!out.contains(secret.as_str()), "{secret} survived in {out:?} (from {input:?})");
            }
        }
    }

    #[test]
    fn masks_merge_and_keep_utf8() {
        let (out, spans) = mask_ranges("é secret é".as_bytes(), vec![(3, 9), (4, 6), (1, 2)]);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, "**** s**** é");
        assert_eq!(spans.len(), 2);
    }

    #[test]
    fn redaction_is_idempotent() {
        let r = redactor();
        let text = "aws=AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ghp_Zq8Rk2Lm4Np6Tv0Xy3Ab5Cd7Ef9Gh1abcdef";
        let once = r.redact(text).into_owned();
        assert_eq!(r.redact(&once), once);
    }
}
