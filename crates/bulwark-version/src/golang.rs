//! Go module versions, as `golang.org/x/mod/semver` reads them.
//!
//! `vMAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]`: the shorthands `v1` and `v1.2` mean `v1.0.0`
//! and `v1.2.0` but take no pre-release or build suffix; numbers have no leading zeros.
//! `+incompatible` is build metadata and so does not affect ordering. Pseudo-versions
//! (`v0.0.0-20191109021931-daa7c04131f5`) are ordinary pre-releases and order by their
//! timestamp, as the go command intends.
//!
//! [`GoVersion::parse`] also accepts the version without its `v`, the spelling OSV uses in its
//! `Go` ecosystem. [`compare_upstream`] is `semver.Compare` exactly: `v` required, and every
//! invalid string equal to every other and less than any valid version.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;
use crate::semver::{Ident, cmp_prerelease, parse_prerelease, valid_build};

const SCHEME: &str = "Go";

/// A parsed Go module version.
#[derive(Debug, Clone)]
pub struct GoVersion {
    release: [Num; 3],
    pre: Vec<Ident>,
    original_pre: String,
    build: String,
}

fn number(s: &str) -> Option<Num> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| Num::from_ascii_digits(s))
}

impl GoVersion {
    /// Parses a Go module version, with or without the leading `v`.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_inner(s.strip_prefix('v').unwrap_or(s))
            .ok_or_else(|| Error::invalid(SCHEME, s, "not a valid semantic version"))
    }

    /// Parses as `semver.IsValid` does: the `v` is required.
    pub fn parse_strict(s: &str) -> Result<Self> {
        s.strip_prefix('v')
            .and_then(Self::parse_inner)
            .ok_or_else(|| Error::invalid(SCHEME, s, "not a valid semantic version (Go needs a leading v)"))
    }

    fn parse_inner(s: &str) -> Option<Self> {
        let (s, build) = match s.split_once('+') {
            Some((s, b)) => (s, Some(b)),
            None => (s, None),
        };
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 || (parts.len() < 3 && (pre.is_some() || build.is_some())) {
            return None;
        }
        let mut release = [Num::zero(), Num::zero(), Num::zero()];
        for (slot, p) in release.iter_mut().zip(&parts) {
            *slot = number(p)?;
        }
        let pre_ids = match pre {
            Some(p) => parse_prerelease(p, false)?,
            None => Vec::new(),
        };
        if let Some(b) = build
            && !valid_build(b)
        {
            return None;
        }
        Some(GoVersion {
            release,
            pre: pre_ids,
            original_pre: pre.unwrap_or("").to_owned(),
            build: build.unwrap_or("").to_owned(),
        })
    }

    /// `semver.Canonical`: `vMAJOR.MINOR.PATCH[-PRERELEASE]`, build metadata dropped.
    pub fn canonical(&self) -> String {
        let [a, b, c] = &self.release;
        let mut s = format!("v{a}.{b}.{c}");
        if !self.original_pre.is_empty() {
            s.push('-');
            s.push_str(&self.original_pre);
        }
        s
    }

    /// Whether the build metadata is `+incompatible` (a v2+ module without a go.mod).
    pub fn is_incompatible(&self) -> bool {
        self.build == "incompatible"
    }

    /// Whether this looks like a pseudo-version: a pre-release ending in
    /// `yyyymmddhhmmss-abcdefabcdef` (`module.IsPseudoVersion`'s shape).
    pub fn is_pseudo(&self) -> bool {
        let pre = &self.original_pre;
        let Some((head, rev)) = pre.rsplit_once('-') else { return false };
        let stamp = head.rsplit(['.', '-']).next().unwrap_or(head);
        stamp.len() == 14
            && stamp.bytes().all(|b| b.is_ascii_digit())
            && rev.len() >= 12
            && rev.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release.cmp(&other.release).then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal precedence: `v1 == v1.0.0`, and build metadata is ignored.
impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())?;
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// `semver.Compare` from `golang.org/x/mod`: invalid versions (including any without the `v`)
/// are equal to each other and less than every valid version.
pub fn compare_upstream(a: &str, b: &str) -> Ordering {
    match (GoVersion::parse_strict(a), GoVersion::parse_strict(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let v = |s| GoVersion::parse(s).unwrap();
        assert_eq!(v("v1.2").canonical(), "v1.2.0");
        assert_eq!(v("1.2.3").canonical(), "v1.2.3");
        assert!(v("v2.0.0+incompatible").is_incompatible());
        let pseudo = v("v0.0.0-20191109021931-daa7c04131f5");
        assert!(pseudo.is_pseudo());
        assert!(pseudo < v("v0.0.0"));
        assert!(v("v1.2.4-0.20191109021931-daa7c04131f5").is_pseudo());
        assert!(GoVersion::parse("v1.2-pre").is_err());
        assert!(GoVersion::parse_strict("1.2.3").is_err());
    }
}
