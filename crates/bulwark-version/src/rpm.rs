//! RPM versions: `[epoch:]version[-release]`.
//!
//! Segments are compared with `rpmvercmp()` from rpm's `rpmio/rpmvercmp.cc`: runs of ASCII
//! digits compare numerically and beat runs of ASCII letters, other characters only separate
//! runs, `~` sorts before anything (even the end: `1.0~rc1 < 1.0`), and `^` sorts after the end
//! but before any further segment (`1.0 < 1.0^git1 < 1.0.1`). The epoch (0 when absent) is
//! compared first, then the version, then the release; a missing release sorts before any
//! release, as `rpmvercmp("", release)` does.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

const SCHEME: &str = "rpm";

/// A parsed RPM EVR (epoch, version, release).
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: Option<Num>,
    version: String,
    release: Option<String>,
}

impl RpmVersion {
    /// Parses `[epoch:]version[-release]`; the release is everything after the last `-`.
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
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("epoch is not a number"));
                }
                (Some(Num::from_ascii_digits(e)), rest)
            }
            None => (None, v),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(err("release is empty")),
            Some((ver, rel)) => (ver, Some(rel.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(err("version is empty"));
        }
        Ok(RpmVersion { epoch, version: version.to_owned(), release })
    }

    /// The epoch as written, if any.
    pub fn epoch(&self) -> Option<String> {
        self.epoch.as_ref().map(Num::to_string)
    }

    /// The version part.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The release part, if any.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
}

/// `rpmvercmp()`: compares one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    let at = |k: usize| a.get(k).copied().unwrap_or(0);
    let bt = |k: usize| b.get(k).copied().unwrap_or(0);
    let is_sep = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while is_sep(at(i)) {
            i += 1;
        }
        while is_sep(bt(j)) {
            j += 1;
        }
        // Tilde separates a pre-release: it sorts before anything, including the end.
        if at(i) == b'~' || bt(j) == b'~' {
            if at(i) != b'~' {
                return Ordering::Greater;
            }
            if bt(j) != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret is like tilde, except that the end of the string sorts before it.
        if at(i) == b'^' || bt(j) == b'^' {
            if at(i) == 0 {
                return Ordering::Less;
            }
            if bt(j) == 0 {
                return Ordering::Greater;
            }
            if at(i) != b'^' {
                return Ordering::Greater;
            }
            if bt(j) != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if at(i) == 0 || bt(j) == 0 {
            break;
        }
        let (si, sj) = (i, j);
        let is_num = at(i).is_ascii_digit();
        let class = |c: u8| if is_num { c.is_ascii_digit() } else { c.is_ascii_alphabetic() };
        while class(at(i)) {
            i += 1;
        }
        while class(bt(j)) {
            j += 1;
        }
        // Segments of different kinds: a number is newer than letters.
        if sj == j {
            return if is_num { Ordering::Greater } else { Ordering::Less };
        }
        let (mut seg_a, mut seg_b) = (&a[si..i], &b[sj..j]);
        if is_num {
            while seg_a.first() == Some(&b'0') {
                seg_a = &seg_a[1..];
            }
            while seg_b.first() == Some(&b'0') {
                seg_b = &seg_b[1..];
            }
            match seg_a.len().cmp(&seg_b.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match seg_a.cmp(seg_b) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    match (at(i) == 0, bt(j) == 0) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Num::zero();
        let epoch = |v: &'_ RpmVersion| v.epoch.clone().unwrap_or_else(|| zero.clone());
        epoch(self)
            .cmp(&epoch(other))
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| rpmvercmp(self.release.as_deref().unwrap_or(""), other.release.as_deref().unwrap_or("")))
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when rpm orders them equal (`1.01 == 1.1`), not when the strings are equal.
impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

impl fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(&self.version)?;
        if let Some(r) = &self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> RpmVersion {
        RpmVersion::parse(s).unwrap()
    }

    #[test]
    fn evr() {
        assert!(v("1:1.0-1") > v("2.0-1"));
        assert_eq!(v("0:1.0-1"), v("1.0-1"));
        assert!(v("1.0") < v("1.0-1"));
        assert!(v("1.0-1.el9") < v("1.0-1.el9_1"));
        assert_eq!(v("1:2.3-4.fc40").to_string(), "1:2.3-4.fc40");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "x:1", ":1", "1.0-", "-1", "1 0"] {
            assert!(RpmVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
