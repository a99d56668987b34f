//! Maven versions, ordered as `org.apache.maven.artifact.versioning.ComparableVersion`.
//!
//! This is a port of `ComparableVersion` from Maven 4 (`compat/maven-artifact`, the class
//! Maven uses for `[1.0,2.0)` ranges and the one OSV's `Maven` ecosystem specifies). A version
//! is split at `.`, `-` and digit/letter transitions into a list of items; each `-` (and each
//! transition after a number) opens a nested sub-list. Items are numbers, qualifiers, or
//! combinations such as `alpha1`. Well-known qualifiers sort `alpha`/`a` < `beta`/`b` <
//! `milestone`/`m` < `rc`/`cr` < `snapshot` < (release: empty, `ga`, `final`, `release`) < `sp`,
//! and any other qualifier sorts after those, by lower-cased text. Trailing zeros and release
//! qualifiers are dropped (`1.0.0 == 1 == 1-ga`).
//!
//! Like Maven, versions longer than 256 UTF-16 code units are rejected, and a combination
//! whose number part is not a number (`a-٨b`) is an error where Maven would throw.
//! `maven-resolver`'s `GenericVersionScheme`, which differs in corner cases, is not modelled.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::num::Num;

const SCHEME: &str = "Maven";
const MAX_VERSION_LENGTH: usize = 256;

/// First code point of every block of ten Unicode decimal digits (general category Nd) in the
/// Basic Multilingual Plane, for Java's `Character.isDigit` on a `char`. Generated from
/// Unicode 14 data with Python's `unicodedata`.
const ND_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

/// The value of `c` as Java's `Character.digit(c, 10)` sees a BMP `char`; code points outside
/// the BMP are surrogate pairs in Java and never digits there.
fn java_digit(c: char) -> Option<u32> {
    let cp = u32::from(c);
    ND_ZEROS.iter().find(|&&z| (z..z + 10).contains(&cp)).map(|z| cp - z)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Number(Num),
    /// A qualifier, already aliased (`cr` → `rc`, `a1` → `alpha` + 1).
    Text(String),
    /// A qualifier with a number, e.g. `rc1`; the number is always an [`Item::Number`].
    Combination(String, Num),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    if ["ga", "final", "release"].contains(&q) {
        return RELEASE_INDEX.to_owned();
    }
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
fn java_str_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn text_item(value: &str, followed_by_digit: bool) -> String {
    let v = match value {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        v => v,
    };
    v.to_owned()
}

fn cmp_text(a: &str, b: Option<&Item>) -> Ordering {
    match b {
        None => java_str_cmp(&comparable_qualifier(a), RELEASE_INDEX),
        Some(Item::Number(_)) => Ordering::Less,
        Some(Item::Text(b)) => java_str_cmp(&comparable_qualifier(a), &comparable_qualifier(b)),
        Some(Item::Combination(s, d)) => match cmp_text(a, Some(&Item::Text(s.clone()))) {
            Ordering::Equal if cmp_text(a, None) == Ordering::Equal => cmp_number(d, None).reverse(),
            Ordering::Equal => Ordering::Less,
            o => o,
        },
        Some(list @ Item::List(_)) => cmp(list, Some(&Item::Text(a.to_owned()))).reverse(),
    }
}

fn cmp_number(a: &Num, b: Option<&Item>) -> Ordering {
    match b {
        None if a.is_zero() => Ordering::Equal,
        None => Ordering::Greater,
        Some(Item::Number(b)) => a.cmp(b),
        Some(_) => Ordering::Greater,
    }
}

fn cmp(a: &Item, b: Option<&Item>) -> Ordering {
    match a {
        Item::Number(n) => cmp_number(n, b),
        Item::Text(t) => cmp_text(t, b),
        Item::Combination(s, d) => match b {
            None => match cmp_text(s, None) {
                // `1-ga1 > 1`: the number decides when the qualifier is a release one.
                Ordering::Equal => cmp_number(d, None),
                o => o,
            },
            Some(Item::Number(_)) => Ordering::Less,
            Some(t @ Item::Text(_)) => match cmp_text(s, Some(t)) {
                Ordering::Equal if cmp_text(s, None) == Ordering::Equal => cmp_number(d, None),
                Ordering::Equal => Ordering::Greater,
                o => o,
            },
            Some(list @ Item::List(_)) => cmp(list, Some(a)).reverse(),
            Some(Item::Combination(s2, d2)) => match cmp_text(s, Some(&Item::Text(s2.clone()))) {
                Ordering::Equal => d.cmp(d2),
                o => o,
            },
        },
        Item::List(items) => cmp_list(items, b),
    }
}

fn cmp_list(items: &[Item], b: Option<&Item>) -> Ordering {
    let rest_vs_null = |rest: &[Item]| rest.iter().map(|i| cmp(i, None)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal);
    match b {
        // Compare the whole list with null, not just the first item (MNG-6964).
        None => rest_vs_null(items),
        Some(Item::Number(_)) => Ordering::Less,
        Some(scalar @ (Item::Text(_) | Item::Combination(..))) => {
            let first = match items.first() {
                None => cmp(scalar, None).reverse(),
                Some(i) => cmp(i, Some(scalar)),
            };
            first.then_with(|| rest_vs_null(items.get(1..).unwrap_or_default()))
        }
        Some(Item::List(other)) => cmp_list_list(items, other),
    }
}

fn cmp_list_list(items: &[Item], other: &[Item]) -> Ordering {
    for k in 0..items.len().max(other.len()) {
        let result = match (items.get(k), other.get(k)) {
            (None, None) => Ordering::Equal,
            // If this list is shorter, compare the other way round and invert.
            (None, Some(r)) => cmp(r, None).reverse(),
            (Some(l), r) => cmp(l, r),
        };
        if result.is_ne() {
            return result;
        }
    }
    Ordering::Equal
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Number(n) => n.is_zero(),
        Item::Text(t) => t.is_empty(),
        Item::Combination(..) => false,
        Item::List(l) => l.is_empty(),
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            let remove = match list.get(i + 1) {
                None | Some(Item::Text(_)) => true,
                Some(Item::List(next)) => matches!(next.first(), Some(Item::Combination(..) | Item::Text(_))),
                Some(_) => false,
            };
            if remove {
                list.remove(i);
            }
        }
    }
    // Removing a zero prefix must not leave an extra qualifier nesting level.
    if list.len() == 1
        && matches!(list[0], Item::List(_))
        && let Some(Item::List(inner)) = list.pop()
    {
        *list = inner;
    }
}

/// Numeric value of a combination's digit part, as `Integer.parseInt`/`BigInteger` read it.
fn java_number(s: &[char]) -> Option<Num> {
    let digits: Option<String> = s.iter().map(|&c| java_digit(c).and_then(|d| char::from_digit(d, 10))).collect();
    digits.filter(|d| !d.is_empty()).map(|d| Num::from_ascii_digits(&d))
}

fn parse_item(is_combination: bool, is_digit: bool, buf: &[char]) -> Option<Item> {
    if is_combination {
        let value: Vec<char> = buf.iter().copied().filter(|&c| c != '-').collect();
        let index = value.iter().position(|&c| java_digit(c).is_some()).unwrap_or(0);
        let text: String = value[..index].iter().collect();
        Some(Item::Combination(text_item(&text, true), java_number(&value[index..])?))
    } else if is_digit {
        let digits: String = buf.iter().collect();
        Some(Item::Number(Num::from_ascii_digits(&digits)))
    } else {
        Some(Item::Text(text_item(&buf.iter().collect::<String>(), false)))
    }
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    original: String,
    items: Vec<Item>,
}

impl MavenVersion {
    /// Parses any version string, as `new ComparableVersion(s)` does.
    pub fn parse(s: &str) -> Result<Self> {
        let err = |reason| Error::invalid(SCHEME, s, reason);
        if s.encode_utf16().count() > MAX_VERSION_LENGTH {
            return Err(err("longer than 256 characters"));
        }
        let chars: Vec<char> = s.to_lowercase().chars().collect();
        let n = chars.len();
        // The open lists, outermost first; each list's child is appended to it at the end.
        let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
        let bad = || err("a qualifier's number part is not a number");
        let (mut is_digit, mut is_combination, mut start) = (false, false, 0);
        let mut i = 0;
        while i < n {
            let c = chars[i];
            let last = levels.len() - 1;
            if c == '.' {
                let item = if i == start {
                    Item::Number(Num::zero())
                } else {
                    parse_item(is_combination, is_digit, &chars[start..i]).ok_or_else(bad)?
                };
                levels[last].push(item);
                is_combination = false;
                start = i + 1;
            } else if c == '-' {
                if i == start {
                    levels[last].push(Item::Number(Num::zero()));
                } else {
                    // `X-1` is read as `X1`.
                    if !is_digit && i != n - 1 && java_digit(chars[i + 1]).is_some() {
                        is_combination = true;
                        i += 1;
                        continue;
                    }
                    levels[last].push(parse_item(is_combination, is_digit, &chars[start..i]).ok_or_else(bad)?);
                }
                start = i + 1;
                if !levels[last].is_empty() {
                    levels.push(Vec::new());
                }
                is_combination = false;
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    is_combination = true;
                    if !levels[last].is_empty() {
                        levels.push(Vec::new());
                    }
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    levels[last].push(parse_item(is_combination, true, &chars[start..i]).ok_or_else(bad)?);
                    start = i;
                    levels.push(Vec::new());
                    is_combination = false;
                }
                is_digit = false;
            }
            i += 1;
        }
        if n > start {
            // `1.0.0.X1 < 1.0.0-X2`: `.X` is treated as `-X` for any qualifier X.
            if !is_digit && !levels[levels.len() - 1].is_empty() {
                levels.push(Vec::new());
            }
            let item = parse_item(is_combination, is_digit, &chars[start..]).ok_or_else(bad)?;
            let last = levels.len() - 1;
            levels[last].push(item);
        }
        // Close the lists innermost first, as Maven pops its stack: each child is its
        // parent's last item and is normalised before the parent.
        let mut child: Option<Vec<Item>> = None;
        while let Some(mut list) = levels.pop() {
            if let Some(c) = child.take() {
                list.push(Item::List(c));
            }
            normalize(&mut list);
            child = Some(list);
        }
        let items = child.unwrap_or_default();
        Ok(MavenVersion { original: s.to_owned(), items })
    }

    /// Maven's canonical form (`ComparableVersion.getCanonical()`), e.g. `1-rc-1` → `1-rc-1`,
    /// `1.0.0` → `1`.
    pub fn canonical(&self) -> String {
        fn write(items: &[Item], out: &mut String) {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(if matches!(item, Item::List(_)) { '-' } else { '.' });
                }
                match item {
                    Item::Number(n) => out.push_str(&n.to_string()),
                    Item::Text(t) => out.push_str(t),
                    Item::Combination(s, d) => {
                        out.push_str(s);
                        out.push_str(&d.to_string());
                    }
                    Item::List(l) => write(l, out),
                }
            }
        }
        let mut s = String::new();
        write(&self.items, &mut s);
        s
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_list_list(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when Maven orders them equal (`1.0 == 1-ga`), like `DefaultArtifactVersion`.
impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}
