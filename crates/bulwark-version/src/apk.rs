//! Alpine (apk) versions: `digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-rN}`.
//!
//! This is a port of `src/version.c` from apk-tools 3 (the tokeniser `token_first` /
//! `token_next` and `apk_version_compare_fuzzy`). Suffixes `_alpha`, `_beta`, `_pre`, `_rc`
//! sort before the release, `_cvs`, `_svn`, `_git`, `_hg`, `_p` after it. A numeric component
//! after a dot with a leading zero compares as a string (`1.01 < 1.1`, the Gentoo rule), and a
//! `~hash` compares as a string.
//!
//! [`ApkVersion::parse`] and [`crate::compare`] reject what `apk_version_validate` rejects.
//! apk itself also orders invalid strings, token by token up to the first bad one (`apk version
//! -t 1.0 1.0bc` prints `<`); [`compare_loose`] does exactly that, for callers that need apk's
//! answer whatever the input.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};

const SCHEME: &str = "apk";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks as in apk: pre-release suffixes below `NONE`, post-release ones above.
const SUFFIX_INVALID: u8 = 0;
const SUFFIX_NONE: u8 = 5;

fn suffix_value(s: &[u8]) -> u8 {
    const NAMES: [&[u8]; 11] = [b"", b"alpha", b"beta", b"pre", b"rc", b"", b"cvs", b"svn", b"git", b"hg", b"p"];
    NAMES
        .iter()
        .enumerate()
        .find(|(i, name)| *i != usize::from(SUFFIX_NONE) && !name.is_empty() && **name == s)
        .map_or(SUFFIX_INVALID, |(i, _)| i as u8)
}

/// One token and the rest of the input after it.
#[derive(Debug, Clone, Copy)]
struct Lexer<'a> {
    token: Token,
    suffix: u8,
    number: u64,
    value: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Lexer<'a> {
    fn first(s: &'a [u8]) -> Self {
        let mut t = Lexer { token: Token::InitialDigit, suffix: SUFFIX_INVALID, number: 0, value: b"", rest: s };
        t.parse_digits();
        t
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let n = self.rest.iter().take_while(|&&c| pred(c)).count();
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        taken
    }

    fn parse_digits(&mut self) {
        let digits = self.take_while(|c| c.is_ascii_digit());
        // apk_blob_pull_uint accumulates in a uint64_t; overflow wraps there too.
        self.number = digits.iter().fold(0u64, |n, &d| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')));
        self.value = digits;
        if digits.is_empty() {
            self.token = Token::Invalid;
        }
    }

    fn next(&mut self) {
        let Some(&c) = self.rest.first() else {
            self.token = Token::End;
            return;
        };
        match c {
            b'a'..=b'z' if self.token <= Token::Digit => {
                self.value = &self.rest[..1];
                self.rest = &self.rest[1..];
                self.token = Token::Letter;
            }
            b'.' | b'0'..=b'9' if c != b'.' || self.token <= Token::Digit => {
                if c == b'.' {
                    self.rest = &self.rest[1..];
                }
                match self.token {
                    Token::InitialDigit | Token::Digit => self.token = Token::Digit,
                    Token::Suffix => self.token = Token::SuffixNo,
                    _ => {
                        self.token = Token::Invalid;
                        return;
                    }
                }
                self.parse_digits();
            }
            b'_' if self.token <= Token::SuffixNo => {
                self.rest = &self.rest[1..];
                self.value = self.take_while(|c| c.is_ascii_lowercase());
                self.suffix = suffix_value(self.value);
                self.token = if self.suffix == SUFFIX_INVALID { Token::Invalid } else { Token::Suffix };
            }
            b'~' if self.token < Token::CommitHash => {
                self.rest = &self.rest[1..];
                self.value = self.take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
                self.token = if self.value.is_empty() { Token::Invalid } else { Token::CommitHash };
            }
            b'-' if self.token < Token::RevisionNo && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.token = Token::RevisionNo;
                self.parse_digits();
            }
            _ => self.token = Token::Invalid,
        }
    }
}

/// `token_cmp()`: both tokens have the same type.
fn token_cmp(a: &Lexer<'_>, b: &Lexer<'_>) -> Ordering {
    match a.token {
        // A leading zero after a dot makes the component compare as a string (Gentoo rule).
        Token::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => a.value.cmp(b.value),
        Token::Digit | Token::InitialDigit | Token::SuffixNo | Token::RevisionNo => a.number.cmp(&b.number),
        Token::Letter => a.value.first().cmp(&b.value.first()),
        Token::Suffix => a.suffix.cmp(&b.suffix),
        _ => a.value.cmp(b.value),
    }
}

/// `apk_version_compare_fuzzy()`; with `fuzzy`, `a` equals any `b` it starts with.
fn compare_tokens(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let mut ta = Lexer::first(a.as_bytes());
    let mut tb = Lexer::first(b.as_bytes());
    while ta.token == tb.token && ta.token < Token::End {
        match token_cmp(&ta, &tb) {
            Ordering::Equal => {}
            o => return o,
        }
        ta.next();
        tb.next();
    }
    if ta.token == tb.token || (tb.token == Token::End && fuzzy) {
        return Ordering::Equal;
    }
    // The leading components are equal; the longer version is greater unless what follows
    // is a pre-release suffix.
    if ta.token == Token::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == Token::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    // A later token type (up to the end) means fewer components, so a smaller version.
    tb.token.cmp(&ta.token)
}

/// Whether apk accepts `s` as a version (`apk_version_validate`).
pub fn is_valid(s: &str) -> bool {
    let mut t = Lexer::first(s.as_bytes());
    while t.token < Token::End {
        t.next();
    }
    t.token == Token::End
}

/// Compares any two strings exactly as `apk version -t` does, valid or not.
///
/// Invalid strings are compared token by token up to the first invalid token; two strings
/// that are both invalid at the same point compare equal. Prefer [`ApkVersion`] where an
/// error is more useful than a guess.
pub fn compare_loose(a: &str, b: &str) -> Ordering {
    compare_tokens(a, b, false)
}

/// Fuzzy comparison, apk's `~` operator: `a` equals `b` when `b`'s tokens are a prefix of
/// `a`'s (`3.6.9 ~ 3.6`), otherwise as [`compare_loose`].
pub fn compare_fuzzy(a: &str, b: &str) -> Ordering {
    compare_tokens(a, b, true)
}

/// A valid Alpine package version.
#[derive(Debug, Clone)]
pub struct ApkVersion(String);

impl ApkVersion {
    /// Parses a version; it must pass `apk_version_validate` (no surrounding whitespace).
    pub fn parse(s: &str) -> Result<Self> {
        if is_valid(s) {
            Ok(ApkVersion(s.to_owned()))
        } else {
            Err(Error::invalid(SCHEME, s, "not a valid apk version"))
        }
    }

    /// The version string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_loose(&self.0, &other.0)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when apk orders them equal (`1.0.0 == 1.0.0-r0` is false, `1.0-r01 == 1.0-r1` true).
impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_and_revisions() {
        let v = |s| ApkVersion::parse(s).unwrap();
        assert!(v("1.0_rc1") < v("1.0"));
        assert!(v("1.0") < v("1.0_p1"));
        assert!(v("1.0_p1") < v("1.0.1"));
        assert!(v("1.0-r1") < v("1.0-r10"));
        assert!(v("1.01") < v("1.1"));
        assert!(ApkVersion::parse("1.0-1").is_err());
    }
}
