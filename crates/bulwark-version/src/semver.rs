//! Semantic Versioning 2.0.0 and the flavours of it that registries use.
//!
//! - [`SemverFlavor::Strict`]: the grammar of semver.org item 2–10, as crates.io (the `semver`
//!   crate) enforces it: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, no leading zeros.
//! - [`SemverFlavor::Npm`]: node-semver's parser: surrounding whitespace and a leading `=` and/or
//!   `v` are accepted (`=v1.2.3`).
//! - [`SemverFlavor::NuGet`]: `NuGetVersion`: one to four numeric parts (`1`, `1.2`, `1.2.3.4`;
//!   missing parts are 0, leading zeros allowed), and pre-release labels compare
//!   case-insensitively.
//!
//! Ordering is item 11 of the spec: the numbers, then a pre-release sorts before its release,
//! pre-release identifiers compare numerically when both are numeric, numeric ones before
//! alphanumeric ones, otherwise by ASCII; a shorter list of identifiers sorts first. Build
//! metadata is ignored, so `1.0.0+a == 1.0.0+b` under [`Ord`] and [`PartialEq`].

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

/// Which parser a [`SemverVersion`] was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SemverFlavor {
    /// SemVer 2.0.0 exactly (crates.io, Hex, Pub, SwiftPM).
    Strict,
    /// node-semver: also `v`/`=` prefixes and surrounding whitespace.
    Npm,
    /// NuGet: one to four numeric parts, case-insensitive pre-release labels.
    NuGet,
}

/// One dot-separated pre-release identifier, as compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ident {
    // Declared first: numeric identifiers have lower precedence than alphanumeric ones.
    Numeric(Num),
    Alpha(String),
}

/// Parses dot-separated identifiers (`[0-9A-Za-z-]+` each); numeric ones must not have
/// leading zeros. `fold_case` lower-cases alphanumeric ones for comparison.
pub(crate) fn parse_prerelease(s: &str, fold_case: bool) -> Option<Vec<Ident>> {
    s.split('.')
        .map(|id| {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                None
            } else if id.bytes().all(|b| b.is_ascii_digit()) {
                (id == "0" || !id.starts_with('0')).then(|| Ident::Numeric(Num::from_ascii_digits(id)))
            } else if fold_case {
                Some(Ident::Alpha(id.to_ascii_lowercase()))
            } else {
                Some(Ident::Alpha(id.to_owned()))
            }
        })
        .collect()
}

/// Whether `s` is valid build metadata: dot-separated non-empty `[0-9A-Za-z-]+`.
pub(crate) fn valid_build(s: &str) -> bool {
    s.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Compares pre-release lists: none sorts after any.
pub(crate) fn cmp_prerelease(a: &[Ident], b: &[Ident]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// A parsed semantic version.
#[derive(Debug, Clone)]
pub struct SemverVersion {
    /// Major, minor, patch and (NuGet only, else 0) revision.
    release: [Num; 4],
    pre: Vec<Ident>,
    original_pre: String,
    build: String,
    parts: usize,
}

impl SemverVersion {
    /// Parses a strict SemVer 2.0.0 version.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_flavor(s, SemverFlavor::Strict)
    }

    /// Parses a version with the given flavour's grammar.
    pub fn parse_flavor(s: &str, flavor: SemverFlavor) -> Result<Self> {
        let scheme = match flavor {
            SemverFlavor::Strict => "SemVer",
            SemverFlavor::Npm => "npm",
            SemverFlavor::NuGet => "NuGet",
        };
        let err = |reason| Error::invalid(scheme, s, reason);
        let mut v = s;
        match flavor {
            SemverFlavor::Strict => {}
            SemverFlavor::Npm => {
                v = v.trim();
                v = v.strip_prefix('=').unwrap_or(v);
                v = v.strip_prefix(['v', 'V']).unwrap_or(v);
            }
            SemverFlavor::NuGet => v = v.trim(),
        }
        let (v, build) = match v.split_once('+') {
            Some((v, b)) if valid_build(b) => (v, b),
            Some(_) => return Err(err("invalid build metadata")),
            None => (v, ""),
        };
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let nums: Vec<&str> = core.split('.').collect();
        let allowed = match flavor {
            SemverFlavor::NuGet => 1..=4,
            _ => 3..=3,
        };
        if !allowed.contains(&nums.len()) {
            return Err(err("wrong number of numeric parts"));
        }
        let mut release = [Num::zero(), Num::zero(), Num::zero(), Num::zero()];
        for (slot, n) in release.iter_mut().zip(&nums) {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("numeric part is not a number"));
            }
            if flavor != SemverFlavor::NuGet && n.len() > 1 && n.starts_with('0') {
                return Err(err("numeric part has a leading zero"));
            }
            *slot = Num::from_ascii_digits(n);
        }
        let pre_ids = match pre {
            Some(p) => parse_prerelease(p, flavor == SemverFlavor::NuGet).ok_or_else(|| err("invalid pre-release"))?,
            None => Vec::new(),
        };
        Ok(SemverVersion {
            release,
            pre: pre_ids,
            original_pre: pre.unwrap_or("").to_owned(),
            build: build.to_owned(),
            parts: nums.len().max(3),
        })
    }

    /// Whether this is a pre-release.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// The pre-release as written, empty if none.
    pub fn prerelease(&self) -> &str {
        &self.original_pre
    }

    /// The build metadata, empty if none.
    pub fn build(&self) -> &str {
        &self.build
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release.cmp(&other.release).then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal precedence: build metadata is ignored.
impl PartialEq for SemverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemverVersion {}

/// Prints the normalised version: three parts (four for a NuGet version with a non-zero
/// revision or written with four parts), then the pre-release and build metadata as written.
impl fmt::Display for SemverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = &self.release;
        write!(f, "{a}.{b}.{c}")?;
        if self.parts == 4 {
            write!(f, ".{d}")?;
        }
        if !self.original_pre.is_empty() {
            write!(f, "-{}", self.original_pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavours() {
        assert!(SemverVersion::parse("v1.2.3").is_err());
        assert!(SemverVersion::parse("1.02.3").is_err());
        assert!(SemverVersion::parse("1.2.3-01").is_err());
        let npm = SemverVersion::parse_flavor(" =v1.2.3-beta.1 ", SemverFlavor::Npm).unwrap();
        assert_eq!(npm.to_string(), "1.2.3-beta.1");
        let nuget = |s| SemverVersion::parse_flavor(s, SemverFlavor::NuGet).unwrap();
        assert_eq!(nuget("1.0"), nuget("1.0.0.0"));
        assert_eq!(nuget("1.0.0-BETA"), nuget("1.0.0-beta"));
        assert!(nuget("1.0.0.1") > nuget("1.0.0"));
        assert_eq!(nuget("1.02.3.4").to_string(), "1.2.3.4");
    }

    #[test]
    fn build_metadata_is_ignored() {
        let v = |s| SemverVersion::parse(s).unwrap();
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert!(v("1.0.0-alpha+z") < v("1.0.0"));
    }
}
