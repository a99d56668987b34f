//! Deciding whether a declared licence string is an SPDX licence expression.
//!
//! Package databases declare licences in every style: SPDX expressions (`MIT OR Apache-2.0`),
//! Fedora's old short names (`GPLv2+ and MIT`), apk's space-separated lists (`MIT BSD GPL2+`),
//! free text. SBOM consumers treat an SPDX `expression` as machine-readable, so only strings
//! that parse as an expression *and* name only identifiers from the SPDX License List (or
//! `LicenseRef-`/`DocumentRef-` references) are written as one; everything else is a name.

use crate::spdx_ids::SPDX_LICENSE_IDS;

/// A declared licence, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// One identifier from the SPDX License List, in the list's spelling.
    Id(String),
    /// A valid SPDX expression, with identifiers in the list's spelling and operators upper-case.
    Expression(String),
    /// Anything else, trimmed.
    Name(String),
}

/// Classifies a declared licence; `None` for an empty string.
pub(crate) fn classify(s: &str) -> Option<License> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(match parse_expression(s) {
        Some(tokens) if tokens.len() == 1 && known_id(&tokens[0]).is_some() => License::Id(tokens[0].clone()),
        Some(tokens) => License::Expression(render(&tokens)),
        None => License::Name(s.to_owned()),
    })
}

/// The SPDX list spelling of an identifier (case-insensitive match).
fn known_id(s: &str) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    SPDX_LICENSE_IDS
        .binary_search_by(|id| {
            // The list is sorted by lower-cased value.
            id.to_ascii_lowercase().as_str().cmp(lower.as_str())
        })
        .ok()
        .map(|i| SPDX_LICENSE_IDS[i])
}

fn is_idstring(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// A licence reference (`LicenseRef-x`, `DocumentRef-d:LicenseRef-x`).
fn is_license_ref(s: &str) -> bool {
    let s = match s.split_once(':') {
        Some((doc, rest)) => match doc.strip_prefix("DocumentRef-") {
            Some(d) if is_idstring(d) => rest,
            _ => return false,
        },
        None => s,
    };
    s.strip_prefix("LicenseRef-").is_some_and(is_idstring)
}

/// Tokenises and checks an expression (SPDX spec 2.3, Annex D); returns canonical tokens.
fn parse_expression(s: &str) -> Option<Vec<String>> {
    let mut raw = Vec::new();
    for word in s.split_whitespace() {
        let mut rest = word;
        while let Some(r) = rest.strip_prefix('(') {
            raw.push("(".to_owned());
            rest = r;
        }
        let mut closing = 0;
        while let Some(r) = rest.strip_suffix(')') {
            closing += 1;
            rest = r;
        }
        if !rest.is_empty() {
            raw.push(rest.to_owned());
        }
        raw.extend(std::iter::repeat_n(")".to_owned(), closing));
    }
    let mut p = Parser { tokens: raw, pos: 0, out: Vec::new() };
    p.or()?;
    (p.pos == p.tokens.len()).then_some(p.out)
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
    out: Vec<String>,
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        // SPDX allows operators in all upper or all lower case, not mixed.
        self.tokens.get(self.pos).is_some_and(|t| t == op || *t == op.to_ascii_lowercase())
    }

    fn or(&mut self) -> Option<()> {
        self.and()?;
        while self.peek_op("OR") {
            self.pos += 1;
            self.out.push("OR".to_owned());
            self.and()?;
        }
        Some(())
    }

    fn and(&mut self) -> Option<()> {
        self.with()?;
        while self.peek_op("AND") {
            self.pos += 1;
            self.out.push("AND".to_owned());
            self.with()?;
        }
        Some(())
    }

    fn with(&mut self) -> Option<()> {
        self.simple()?;
        if self.peek_op("WITH") {
            self.pos += 1;
            self.out.push("WITH".to_owned());
            let exception = self.tokens.get(self.pos)?;
            // Exception identifiers are listed with the licences in CycloneDX's enum.
            let canonical = known_id(exception)?;
            self.out.push(canonical.to_owned());
            self.pos += 1;
        }
        Some(())
    }

    fn simple(&mut self) -> Option<()> {
        let t = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        if t == "(" {
            self.out.push(t);
            self.or()?;
            if self.tokens.get(self.pos).map(String::as_str) != Some(")") {
                return None;
            }
            self.pos += 1;
            self.out.push(")".to_owned());
            return Some(());
        }
        if is_license_ref(&t) {
            self.out.push(t);
            return Some(());
        }
        if let Some(id) = known_id(&t) {
            self.out.push(id.to_owned());
            return Some(());
        }
        // `<id>+` means "this version or later" for an id without its own `+` spelling.
        let base = t.strip_suffix('+')?;
        let id = known_id(base)?;
        self.out.push(format!("{id}+"));
        Some(())
    }
}

fn render(tokens: &[String]) -> String {
    let mut s = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 && t != ")" && tokens[i - 1] != "(" {
            s.push(' ');
        }
        s.push_str(t);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want: Option<License>) {
        assert_eq!(classify(input), want, "{input:?}");
    }

    #[test]
    fn classifies() {
        use License::*;
        check("", None);
        check("MIT", Some(Id("MIT".into())));
        check("mit", Some(Id("MIT".into())));
        check("GPL-2.0+", Some(Id("GPL-2.0+".into())));
        check("MIT OR Apache-2.0", Some(Expression("MIT OR Apache-2.0".into())));
        check("(mit or apache-2.0) and BSD-3-Clause", Some(Expression("(MIT OR Apache-2.0) AND BSD-3-Clause".into())));
        check(
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            Some(Expression("GPL-2.0-or-later WITH Classpath-exception-2.0".into())),
        );
        check("LicenseRef-Proprietary", Some(Expression("LicenseRef-Proprietary".into())));
        check("LGPL-2.1-only+", Some(Expression("LGPL-2.1-only+".into())));
        // Real declarations that are not SPDX expressions.
        check("MIT BSD GPL2+", Some(Name("MIT BSD GPL2+".into()))); // apk, space separated
        check("GPLv2+ and MIT", Some(Name("GPLv2+ and MIT".into()))); // Fedora legacy names
        check("ASL 2.0", Some(Name("ASL 2.0".into())));
        check("MIT AND", Some(Name("MIT AND".into())));
        check("(MIT", Some(Name("(MIT".into())));
        check("MIT And Apache-2.0", Some(Name("MIT And Apache-2.0".into())));
    }

    #[test]
    fn id_list_is_sorted_for_binary_search() {
        assert!(SPDX_LICENSE_IDS.windows(2).all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase()));
    }
}
