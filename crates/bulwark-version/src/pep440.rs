//! Python package versions, PEP 440 as implemented by `packaging.version.Version`.
//!
//! Accepted syntax is packaging's `VERSION_PATTERN`, case-insensitive, with surrounding
//! whitespace ignored: `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` plus the
//! non-normalised spellings PEP 440 allows (`alpha`, `beta`, `c`, `pre`, `preview`, `rev`, `r`,
//! `-N` post-releases, `-`/`_`/`.` separators, implicit numbers). [`Display`](fmt::Display)
//! prints the normalised form (`1.0-ALPHA.1` → `1.0a1`).
//!
//! Ordering is packaging's `_cmpkey`: epoch, release without trailing zeros, then pre-release
//! (a bare `.devN` sorts before any pre-release), post-release, dev-release, and finally the
//! local version (absent < present; numeric segments beat alphanumeric ones).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

const SCHEME: &str = "PEP 440";

/// Pre-release kinds, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    Alpha,
    Beta,
    Rc,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalPart {
    // Declared first: alphanumeric segments sort before numeric ones.
    Word(String),
    Number(Num),
}

/// A parsed PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    epoch: Num,
    release: Vec<Num>,
    pre: Option<(PreKind, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    local: Option<Vec<LocalPart>>,
}

/// A cursor over the lower-cased input, for the hand-written equivalent of the regex.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let ok = self.peek() == Some(b);
        self.pos += usize::from(ok);
        ok
    }

    fn eat_sep(&mut self) -> bool {
        let ok = matches!(self.peek(), Some(b'-' | b'_' | b'.'));
        self.pos += usize::from(ok);
        ok
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let ok = self.s[self.pos..].starts_with(w.as_bytes());
        if ok {
            self.pos += w.len();
        }
        ok
    }

    fn digits(&mut self) -> Option<Num> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| Num::from_ascii_digits(std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")))
    }

    fn at_end(&self) -> bool {
        self.pos == self.s.len()
    }
}

/// Candidates for an optional `[-_.]?WORD[-_.]?N?` group, in the order the regex tries them.
fn labelled<'a, T: Copy>(c: Cursor<'a>, words: &[(&str, T)]) -> Vec<(Cursor<'a>, Option<(T, Num)>)> {
    let mut out = Vec::new();
    for lead in [true, false] {
        let mut c1 = c;
        if lead && !c1.eat_sep() {
            continue;
        }
        let Some(&(_, kind)) = words.iter().find(|(w, _)| c1.eat_word(w)) else { continue };
        // `[-_.]?(N)?`: with a number, then a separator without one, then nothing.
        let mut c2 = c1;
        if c2.eat_sep()
            && let Some(n) = c2.digits()
        {
            out.push((c2, Some((kind, n))));
        }
        let mut c3 = c1;
        if let Some(n) = c3.digits() {
            out.push((c3, Some((kind, n))));
        }
        let mut c4 = c1;
        if c4.eat_sep() {
            out.push((c4, Some((kind, Num::zero()))));
        }
        out.push((c1, Some((kind, Num::zero()))));
    }
    out.push((c, None));
    out
}

fn post_candidates(c: Cursor<'_>) -> Vec<(Cursor<'_>, Option<Num>)> {
    let mut out = Vec::new();
    let mut c1 = c;
    if c1.eat(b'-')
        && let Some(n) = c1.digits()
    {
        out.push((c1, Some(n)));
    }
    let words = [("post", ()), ("rev", ()), ("r", ())];
    out.extend(labelled(c, &words).into_iter().map(|(c, v)| (c, v.map(|(_, n)| n))));
    out
}

fn local_candidates(c: Cursor<'_>) -> Vec<(Cursor<'_>, Option<Vec<LocalPart>>)> {
    let mut out = Vec::new();
    let mut c1 = c;
    if c1.eat(b'+') {
        let mut parts = Vec::new();
        loop {
            let start = c1.pos;
            while c1.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                c1.pos += 1;
            }
            if c1.pos == start {
                parts.clear();
                break;
            }
            let part = std::str::from_utf8(&c1.s[start..c1.pos]).unwrap_or("");
            parts.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                LocalPart::Number(Num::from_ascii_digits(part))
            } else {
                LocalPart::Word(part.to_owned())
            });
            let mut c2 = c1;
            if c2.eat_sep() && c2.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                c1 = c2;
            } else {
                break;
            }
        }
        if !parts.is_empty() {
            out.push((c1, Some(parts)));
        }
    }
    out.push((c, None));
    out
}

impl Pep440Version {
    /// Parses a version, accepting the non-normalised spellings PEP 440 allows.
    pub fn parse(s: &str) -> Result<Self> {
        let err = |reason| Error::invalid(SCHEME, s, reason);
        let lower = s.trim().to_ascii_lowercase();
        if !lower.is_ascii() {
            return Err(err("non-ASCII characters"));
        }
        let mut c = Cursor { s: lower.as_bytes(), pos: 0 };
        c.eat(b'v');
        let mut epoch = Num::zero();
        let save = c;
        match c.digits() {
            Some(n) if c.eat(b'!') => epoch = n,
            _ => c = save,
        }
        let mut release = vec![c.digits().ok_or_else(|| err("expected a release number"))?];
        loop {
            let mut c1 = c;
            match (c1.eat(b'.'), c1.digits()) {
                (true, Some(n)) => {
                    release.push(n);
                    c = c1;
                }
                _ => break,
            }
        }
        let pre_words = [
            ("alpha", PreKind::Alpha),
            ("a", PreKind::Alpha),
            ("beta", PreKind::Beta),
            ("b", PreKind::Beta),
            ("preview", PreKind::Rc),
            ("pre", PreKind::Rc),
            ("c", PreKind::Rc),
            ("rc", PreKind::Rc),
        ];
        let dev_words = [("dev", ())];
        // Backtracking over the optional groups, in the order the regex would try them.
        for (c_pre, pre) in labelled(c, &pre_words) {
            for (c_post, post) in post_candidates(c_pre) {
                for (c_dev, dev) in labelled(c_post, &dev_words) {
                    for (c_local, local) in local_candidates(c_dev) {
                        if c_local.at_end() {
                            return Ok(Pep440Version { epoch, release, pre, post, dev: dev.map(|(_, n)| n), local });
                        }
                    }
                }
            }
        }
        Err(err("does not match the PEP 440 version syntax"))
    }

    /// Whether this is a pre-release (has a pre-release or dev-release segment).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// The public version (without the local segment), normalised.
    pub fn public(&self) -> String {
        let s = self.to_string();
        match s.split_once('+') {
            Some((p, _)) => p.to_owned(),
            None => s,
        }
    }

    fn release_key(&self) -> &[Num] {
        let end = self.release.iter().rposition(|n| !n.is_zero()).map_or(0, |i| i + 1);
        &self.release[..end]
    }
}

/// packaging's pre-release key: `.devN` alone sorts before any pre-release, none after.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    DevOnly,
    Pre(PreKind, &'a Num),
    None,
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        fn pre_key(v: &Pep440Version) -> PreKey<'_> {
            match (&v.pre, &v.post, &v.dev) {
                (None, None, Some(_)) => PreKey::DevOnly,
                (None, _, _) => PreKey::None,
                (Some((k, n)), _, _) => PreKey::Pre(*k, n),
            }
        }
        // Absent dev sorts after any dev release.
        fn dev_key(v: &Pep440Version) -> (bool, Option<&Num>) {
            (v.dev.is_none(), v.dev.as_ref())
        }
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release_key().cmp(other.release_key()))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| dev_key(self).cmp(&dev_key(other)))
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when PEP 440 orders them equal (`1.0 == 1.0.0`), not when the strings are equal.
impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch)?;
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        if let Some((kind, n)) = &self.pre {
            let label = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            write!(f, "{label}{n}")?;
        }
        if let Some(n) = &self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = &self.dev {
            write!(f, ".dev{n}")?;
        }
        if let Some(local) = &self.local {
            for (i, part) in local.iter().enumerate() {
                f.write_str(if i == 0 { "+" } else { "." })?;
                match part {
                    LocalPart::Word(w) => f.write_str(w)?,
                    LocalPart::Number(n) => write!(f, "{n}")?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let n = |s| Pep440Version::parse(s).unwrap().to_string();
        assert_eq!(n("v1.0-ALPHA.1"), "1.0a1");
        assert_eq!(n("1.0-1"), "1.0.post1");
        assert_eq!(n("1!2.0.dev"), "1!2.0.dev0");
        assert_eq!(n("1.0+Ubuntu-1"), "1.0+ubuntu.1");
    }

    #[test]
    fn orders() {
        let v = |s| Pep440Version::parse(s).unwrap();
        assert!(v("1.0.dev0") < v("1.0a1"));
        assert!(v("1.0a1.dev0") < v("1.0a1"));
        assert!(v("1.0") < v("1.0.post1"));
        assert!(v("1.0") < v("1.0+local"));
        assert_eq!(v("1.0"), v("1.0.0"));
    }
}
