//! RubyGems versions, as `Gem::Version`.
//!
//! Valid strings match `Gem::Version::ANCHORED_VERSION_PATTERN`: digits, then `.`-separated
//! alphanumeric segments, then optionally `-` and more segments; blank means `0`. A `-` is read
//! as `.pre.` (`1.0.0-rc1` is `1.0.0.pre.rc1`). Segments are runs of digits or of letters; any
//! letter makes a pre-release, which sorts before the release (`1.0.a < 1.0`). Comparison uses
//! `canonical_segments`: trailing zeros are dropped from the numeric prefix and from the rest,
//! then segments compare pairwise (numbers by value, strings bytewise, a string before a number),
//! missing segments counting as 0.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

const SCHEME: &str = "RubyGems";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(Num),
    Text(String),
}

/// A parsed RubyGems version.
#[derive(Debug, Clone)]
pub struct GemVersion {
    version: String,
    canonical: Vec<Segment>,
}

fn matches_pattern(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) => (m, Some(p)),
        None => (s, None),
    };
    let mut parts = main.split('.');
    let first_ok = parts.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.').all(|q| !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

impl GemVersion {
    /// Parses a version as `Gem::Version.new` does (blank means `0`).
    pub fn parse(s: &str) -> Result<Self> {
        let trimmed = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
        if !matches_pattern(trimmed) {
            return Err(Error::invalid(SCHEME, s, "malformed version number string"));
        }
        let version = if trimmed.is_empty() { "0".to_owned() } else { trimmed.replace('-', ".pre.") };
        let mut segments = Vec::new();
        let bytes = version.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                segments.push(Segment::Number(Num::from_ascii_digits(&version[start..i])));
            } else if bytes[i].is_ascii_alphabetic() {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segments.push(Segment::Text(version[start..i].to_owned()));
            } else {
                i += 1;
            }
        }
        // canonical_segments: strip trailing zeros from the numeric prefix and from the rest.
        let split = segments.iter().position(|s| matches!(s, Segment::Text(_))).unwrap_or(segments.len());
        let mut rest = segments.split_off(split);
        let is_zero = |s: &Segment| matches!(s, Segment::Number(n) if n.is_zero());
        while segments.last().is_some_and(is_zero) {
            segments.pop();
        }
        while rest.last().is_some_and(is_zero) {
            rest.pop();
        }
        segments.extend(rest);
        Ok(GemVersion { version, canonical: segments })
    }

    /// Whether any letter makes this a pre-release.
    pub fn is_prerelease(&self) -> bool {
        self.version.bytes().any(|b| b.is_ascii_alphabetic())
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(Num::zero());
        let n = self.canonical.len().max(other.canonical.len());
        for i in 0..n {
            let l = self.canonical.get(i).unwrap_or(&zero);
            let r = other.canonical.get(i).unwrap_or(&zero);
            let o = match (l, r) {
                (Segment::Number(a), Segment::Number(b)) => a.cmp(b),
                (Segment::Text(a), Segment::Text(b)) => a.cmp(b),
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when `<=>` returns 0 (`1.0 == 1`).
impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

/// Prints the version as RubyGems stores it (`-` already read as `.pre.`).
impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prerelease_and_padding() {
        let v = |s| GemVersion::parse(s).unwrap();
        assert!(v("1.0.a").is_prerelease());
        assert!(v("1.0.a") < v("1.0"));
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1.0.0-rc1").to_string(), "1.0.0.pre.rc1");
        assert!(GemVersion::parse("1..0").is_err());
        assert!(GemVersion::parse("junk").is_err());
    }
}
