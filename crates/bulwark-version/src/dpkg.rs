//! Debian package versions: `[epoch:]upstream_version[-debian_revision]`.
//!
//! Parsing follows `parseversion()` in dpkg's `lib/dpkg/parsehelp.c`: the epoch is the
//! number before the first `:`, the revision is everything after the last `-`. Problems dpkg
//! only warns about (a version not starting with a digit, unusual characters) are accepted, as
//! dpkg itself installs such packages; problems dpkg rejects are errors. Ordering is
//! `verrevcmp()` from `lib/dpkg/version.c`, applied to the upstream version and then the
//! revision: `~` sorts before everything, even the end of the string, letters sort before
//! other characters, and digit runs compare numerically. Backport spellings such as
//! `+really` or `+deb12u1` get no special treatment; they order as the algorithm says.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};

const SCHEME: &str = "dpkg";

/// A parsed Debian version.
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl DpkgVersion {
    /// Parses a version as dpkg does; surrounding whitespace is ignored.
    pub fn parse(s: &str) -> Result<Self> {
        let err = |reason| Error::invalid(SCHEME, s, reason);
        let v = s.trim();
        if v.is_empty() {
            return Err(err("version string is empty"));
        }
        if v.chars().any(char::is_whitespace) {
            return Err(err("version string has embedded spaces"));
        }
        let (epoch, rest) = match v.split_once(':') {
            Some((e, rest)) => {
                if e.is_empty() {
                    return Err(err("epoch in version is empty"));
                }
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("epoch in version is not number"));
                }
                // dpkg stores the epoch in an int and rejects anything above INT_MAX.
                let epoch = e.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32);
                (epoch.ok_or_else(|| err("epoch in version is too big"))?, rest)
            }
            None => (0, v),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(err("revision number is empty")),
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err("version number is empty"));
        }
        Ok(DpkgVersion { epoch, upstream: upstream.to_owned(), revision: revision.to_owned() })
    }

    /// The epoch, 0 when absent.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version (between the epoch and the revision).
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision, empty when absent.
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

/// The weight of one character in `verrevcmp()`; 0 stands for both digits and the end.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp()`, on bytes.
pub(crate) fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let at = |k: usize| a.get(k).copied();
    let bt = |k: usize| b.get(k).copied();
    let is_digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
    while i < a.len() || j < b.len() {
        while (at(i).is_some() && !is_digit(at(i))) || (bt(j).is_some() && !is_digit(bt(j))) {
            let (ac, bc) = (order(at(i)), order(bt(j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(i) == Some(b'0') {
            i += 1;
        }
        while bt(j) == Some(b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while is_digit(at(i)) && is_digit(bt(j)) {
            if first_diff == Ordering::Equal {
                first_diff = at(i).cmp(&bt(j));
            }
            i += 1;
            j += 1;
        }
        if is_digit(at(i)) {
            return Ordering::Greater;
        }
        if is_digit(bt(j)) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when dpkg orders them equal (`1.0-1 == 0:1.00-1`), not when the strings are equal.
impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> DpkgVersion {
        DpkgVersion::parse(s).unwrap()
    }

    #[test]
    fn splits_epoch_upstream_revision() {
        let x = v("2:1.2-3-4");
        assert_eq!((x.epoch(), x.upstream(), x.revision()), (2, "1.2-3", "4"));
        assert_eq!(x.to_string(), "2:1.2-3-4");
    }

    #[test]
    fn tilde_and_backports() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("2.30+really2.28-1") > v("2.30-1"));
        assert!(v("1.2.3-1+deb12u1") > v("1.2.3-1"));
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for bad in ["", " ", "a:1", ":1", "1.0-", "-1", "1 0", "99999999999:1"] {
            assert!(DpkgVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
