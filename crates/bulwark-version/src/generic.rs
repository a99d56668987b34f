//! The fallback ordering for schemes this crate does not model.
//!
//! The rule, chosen to be predictable rather than clever:
//!
//! 1. The string is split into runs of ASCII digits and runs of other alphanumeric
//!    characters; everything else (`.`, `-`, `_`, `+`, `~`, spaces, ...) only separates runs.
//! 2. Runs are compared pairwise: numbers by value, words case-insensitively by
//!    Unicode scalar value, and a number is greater than a word (`1.0.1 > 1.0.rc`).
//! 3. The shorter side is padded with zeros: `1.0 == 1.0.0`, `1.0 < 1.0.1`, and a trailing word
//!    reads as a pre-release, `1.0rc1 < 1.0` (a word sorts below the padding 0).
//!
//! This is a lexicographic order on zero-padded sequences, so a total order on all strings,
//! and it never fails; the empty string equals `0`.

use std::cmp::Ordering;

use crate::num::Num;

/// A version under the [generic rule](self).
#[derive(Debug, Clone)]
pub struct GenericVersion {
    original: String,
    runs: Vec<Run>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Word(String),
    Number(Num),
}

impl Run {
    fn cmp_run(&self, other: &Run) -> Ordering {
        match (self, other) {
            (Run::Number(a), Run::Number(b)) => a.cmp(b),
            (Run::Word(a), Run::Word(b)) => a.cmp(b),
            (Run::Number(_), Run::Word(_)) => Ordering::Greater,
            (Run::Word(_), Run::Number(_)) => Ordering::Less,
        }
    }
}

impl GenericVersion {
    /// Splits any string into runs; this never fails.
    pub fn parse(s: &str) -> Self {
        let mut runs = Vec::new();
        let mut chars = s.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if c.is_ascii_digit() {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek().filter(|(_, c)| c.is_ascii_digit()) {
                    end = i + c.len_utf8();
                    chars.next();
                }
                runs.push(Run::Number(Num::from_ascii_digits(&s[start..end])));
            } else if c.is_alphanumeric() {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek().filter(|(_, c)| c.is_alphanumeric() && !c.is_ascii_digit()) {
                    word.extend(c.to_lowercase());
                    chars.next();
                }
                runs.push(Run::Word(word));
            } else {
                chars.next();
            }
        }
        GenericVersion { original: s.to_owned(), runs }
    }

    /// The input string, as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl Ord for GenericVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Run::Number(Num::zero());
        (0..self.runs.len().max(other.runs.len()))
            .map(|i| {
                let a = self.runs.get(i).unwrap_or(&zero);
                a.cmp_run(other.runs.get(i).unwrap_or(&zero))
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GenericVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GenericVersion {}

impl std::fmt::Display for GenericVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two strings under the [generic rule](self).
pub fn compare(a: &str, b: &str) -> Ordering {
    GenericVersion::parse(a).cmp(&GenericVersion::parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_like_the_documented_rule() {
        let cases = [
            ("1.0", "1.0.0", Ordering::Equal),
            ("1.0", "1.0.1", Ordering::Less),
            ("1.0rc1", "1.0", Ordering::Less),
            ("1.0.rc", "1.0.1", Ordering::Less),
            ("1.10", "1.9", Ordering::Greater),
            ("1.0-RC1", "1.0_rc1", Ordering::Equal),
            ("", "0", Ordering::Equal),
            ("", "a", Ordering::Greater),
            ("1.0.0.rc", "1.rc", Ordering::Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
        }
    }
}
