//! Composer (Packagist) versions: normalised like Composer's `VersionParser::normalize`, then
//! ordered with PHP's `version_compare`, which is what Composer's constraints do.
//!
//! Covered by the normaliser:
//! - classical versions `[v]M[.m[.p[.b]]]`, padded to four numbers (`1.2` → `1.2.0.0`), with a
//!   stability modifier (`stable`, `alpha`/`a`, `beta`/`b`, `RC`, `patch`/`pl`/`p`, each with an
//!   optional number) and a `-dev` suffix: `v1.0.0-beta.2` → `1.0.0.0-beta2`;
//! - date versions (`2024.01.31`, `20240131`) with the same modifiers;
//! - build metadata (`+foo`), ` as ` aliases and `@stability` flags are dropped;
//! - branches: `dev-main`, `master`/`trunk`/`default`, and numeric branches
//!   `1.x-dev` → `1.9999999.9999999.9999999-dev`.
//!
//! Anything else is an error, as Composer throws `UnexpectedValueException`.
//! `version_compare` splits at `.`, `-`, `_`, `+` and digit/letter changes; numbers compare by
//! value; words by PHP's special forms `dev` < `alpha`=`a` < `beta`=`b` < `RC`=`rc` < number <
//! `pl`=`p`=`patch` (prefix match), and unknown words sort below `dev`, all equal to each other.
//! Composer never matches a `dev-` branch against a range; here such branches simply sort below
//! every numbered version.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

const SCHEME: &str = "Composer";

/// A Composer version in its normalised form.
#[derive(Debug, Clone)]
pub struct ComposerVersion {
    normalized: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Number(Num),
    /// A word, with its special-form order (-1 for unknown words).
    Word(i8),
}

/// PHP's `compare_special_version_forms` order for a word, by prefix as PHP matches it.
fn special_order(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS.iter().find(|(name, _)| word.starts_with(name)).map_or(-1, |&(_, o)| o)
}

const NUMBER_ORDER: i8 = 4;

/// `php_canonicalize_version` followed by the split at dots.
fn php_parts(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, parts: &mut Vec<Part>| {
        if !cur.is_empty() {
            parts.push(if cur.as_bytes()[0].is_ascii_digit() {
                Part::Number(Num::from_ascii_digits(cur))
            } else {
                Part::Word(special_order(cur))
            });
            cur.clear();
        }
    };
    for c in v.chars() {
        if !c.is_ascii_alphanumeric() {
            flush(&mut cur, &mut parts);
        } else {
            if cur.chars().next_back().is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit()) {
                flush(&mut cur, &mut parts);
            }
            cur.push(c);
        }
    }
    flush(&mut cur, &mut parts);
    parts
}

fn php_version_compare(a: &[Part], b: &[Part]) -> Ordering {
    let order = |p: &Part| match p {
        Part::Number(_) => NUMBER_ORDER,
        Part::Word(o) => *o,
    };
    for i in 0..a.len().max(b.len()) {
        let o = match (a.get(i), b.get(i)) {
            (Some(Part::Number(x)), Some(Part::Number(y))) => x.cmp(y),
            (Some(x), Some(y)) => order(x).cmp(&order(y)),
            // The shorter side's end sorts like a number against a word (`1.0 > 1.0rc1`,
            // `1.0 < 1.0pl1`) and below a further number.
            (None, Some(Part::Number(_))) => Ordering::Less,
            (Some(Part::Number(_)), None) => Ordering::Greater,
            (None, Some(y)) => NUMBER_ORDER.cmp(&order(y)),
            (Some(x), None) => order(x).cmp(&NUMBER_ORDER),
            (None, None) => Ordering::Equal,
        };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses the stability modifier `[._-]?(stability)(number)?([.-]?dev)?` from the end of a
/// classical or date version; `None` if what follows the numbers is not a modifier.
fn modifier(rest: &str) -> Option<String> {
    const STABILITIES: [(&str, &str); 9] = [
        ("stable", ""),
        ("beta", "beta"),
        ("b", "beta"),
        ("rc", "RC"),
        ("alpha", "alpha"),
        ("a", "alpha"),
        ("patch", "patch"),
        ("pl", "patch"),
        ("p", "patch"),
    ];
    let lower = rest.to_ascii_lowercase();
    let mut s = lower.as_str();
    let mut out = String::new();
    let mut stable = false;
    let body = s.strip_prefix(['.', '_', '-']).unwrap_or(s);
    if let Some((word, expanded)) = STABILITIES.iter().find(|(w, _)| body.starts_with(w)) {
        let mut after = &body[word.len()..];
        // `((?:[.-]?\d+)*+)`
        let mut number = String::new();
        loop {
            let t = after.strip_prefix(['.', '-']).unwrap_or(after);
            let n = t.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                break;
            }
            number.push_str(&after[..after.len() - t.len() + n]);
            after = &t[n..];
        }
        s = after;
        stable = expanded.is_empty();
        out = format!("-{expanded}{}", number.trim_start_matches(['.', '-']));
    }
    let dev = s.strip_prefix(['.', '-']).unwrap_or(s);
    if dev == "dev" {
        out.push_str("-dev");
    } else if !s.is_empty() {
        return None;
    }
    // Composer returns the bare version for `stable`, whatever else the modifier held.
    Some(if stable { String::new() } else { out })
}

/// Composer's `normalizeBranch` for a branch name.
fn normalize_branch(name: &str) -> String {
    let bare = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let parts: Vec<&str> = bare.split('.').collect();
    let wild = |p: &str| matches!(p, "x" | "X" | "*");
    if !parts.is_empty()
        && parts.len() <= 4
        && all_digits(parts[0])
        && parts[1..].iter().all(|p| all_digits(p) || wild(p))
    {
        let mut out: Vec<String> =
            parts.iter().map(|p| if wild(p) { "9999999".to_owned() } else { (*p).to_owned() }).collect();
        while out.len() < 4 {
            out.push("9999999".to_owned());
        }
        return format!("{}-dev", out.join("."));
    }
    format!("dev-{name}")
}

/// `VersionParser::normalize`, for the forms listed in the module docs.
pub fn normalize(version: &str) -> Result<String> {
    let err = |reason| Error::invalid(SCHEME, version, reason);
    let mut v = version.trim();
    if v.is_empty() {
        return Err(err("version string is empty"));
    }
    if let Some((left, _)) = v.split_once(" as ") {
        v = left.trim();
    }
    if let Some((left, flag)) = v.rsplit_once('@')
        && ["stable", "rc", "beta", "alpha", "dev"].contains(&flag.to_ascii_lowercase().as_str())
    {
        v = left;
    }
    if ["master", "trunk", "default"].contains(&v) {
        return Ok(format!("dev-{v}"));
    }
    if let Some(branch) = v.get(..4).filter(|p| p.eq_ignore_ascii_case("dev-")).and(v.get(4..))
        && !branch.is_empty()
    {
        return Ok(format!("dev-{branch}"));
    }
    if let Some((left, build)) = v.split_once('+')
        && !left.is_empty()
        && !build.is_empty()
    {
        v = left;
    }
    if v.chars().any(|c| c.is_whitespace() || c == ',') {
        return Err(err("invalid version string"));
    }
    let body = v.strip_prefix(['v', 'V']).unwrap_or(v);
    // Classical: up to four dot-separated numbers, the first at most five digits.
    let numbers_end = {
        let mut end = 0;
        let mut count = 0;
        let b = body.as_bytes();
        while count < 4 {
            let start = if count == 0 {
                end
            } else if b.get(end) == Some(&b'.') {
                end + 1
            } else {
                break;
            };
            let n = b[start.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || (count == 0 && n > 5) {
                break;
            }
            end = start + n;
            count += 1;
        }
        (count > 0).then_some((end, count))
    };
    if let Some((end, _)) = numbers_end
        && let Some(suffix) = modifier(&body[end..])
    {
        let mut nums: Vec<String> = body[..end].split('.').map(str::to_owned).collect();
        while nums.len() < 4 {
            nums.push("0".to_owned());
        }
        return Ok(format!("{}{suffix}", nums.join(".")));
    }
    // Date versions: YYYY followed by up to six 2-digit groups (then up to two 1–3 digit groups).
    let date_len = body.bytes().take_while(|b| b.is_ascii_digit() || b".:-".contains(b)).count();
    for end in (4..=date_len).rev() {
        let date = &body[..end];
        if date.len() >= 6
            && date.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && date.as_bytes().last().is_some_and(u8::is_ascii_digit)
            && let Some(suffix) = modifier(&body[end..])
        {
            let dotted: String = date.chars().map(|c| if c.is_ascii_digit() { c } else { '.' }).collect();
            return Ok(format!("{dotted}{suffix}"));
        }
    }
    // Numeric branches (`1.x-dev`) and other `-dev` names.
    let lower = v.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix("dev") {
        let name = &v[..stem.len()];
        let name = name.strip_suffix(['.', '-']).unwrap_or(name);
        if !name.is_empty() {
            return Ok(normalize_branch(name));
        }
    }
    Err(err("invalid version string"))
}

impl ComposerVersion {
    /// Normalises and parses a version.
    pub fn parse(s: &str) -> Result<Self> {
        let normalized = normalize(s)?;
        let parts = php_parts(&normalized);
        Ok(ComposerVersion { normalized, parts })
    }

    /// The normalised form, e.g. `1.0.0.0-beta2`.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        php_version_compare(&self.parts, &other.parts)
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when `version_compare` returns 0 on the normalised forms.
impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl fmt::Display for ComposerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_composer() {
        // Expected values from Composer's VersionParserTest::successfulNormalizedVersions.
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0-pl3", "1.0.0.0-patch3"),
            ("1.0", "1.0.0.0"),
            ("0.1.0.0-beta", "0.1.0.0-beta"),
            ("v1.0.0", "1.0.0.0"),
            ("v1.0.0-beta.2", "1.0.0.0-beta2"),
            ("1.0.0-stable", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010-01-02", "2010.01.02"),
            ("20100102-203040", "20100102.203040"),
            ("dev-master", "dev-master"),
            ("master", "dev-master"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo/-bar", "1.0.0.0-alpha3.1"),
            ("1.0.0@beta", "1.0.0.0"),
            ("1.0.0 as 2.0", "1.0.0.0"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), Ok(want), "{input}");
        }
        for bad in ["", "a", "1.0.0-meh", "1.0.0.0.0", "feature-foo", "1.0 .2"] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn orders_like_version_compare() {
        let v = |s| ComposerVersion::parse(s).unwrap();
        assert!(v("1.0.0-alpha1") < v("1.0.0-beta1"));
        assert!(v("1.0.0-RC1") < v("1.0.0"));
        assert!(v("1.0.0") < v("1.0.0-patch1"));
        assert!(v("1.0.0-dev") < v("1.0.0-alpha1"));
        assert!(v("dev-main") < v("0.0.1"));
        assert_eq!(v("v1.2"), v("1.2.0"));
    }
}
