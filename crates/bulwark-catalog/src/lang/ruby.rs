//! Ruby: installed `specifications/*.gemspec` and `Gemfile.lock`.
//!
//! Installed gemspecs are Ruby source written by RubyGems (`Gem::Specification#to_ruby`):
//! `s.name = "rake".freeze`, `s.version = "13.0.6"`, `s.licenses = ["MIT".freeze]`,
//! `s.add_runtime_dependency(%q<x>.freeze, [">= 0"])`. They are read by scanning for these
//! assignments, never by evaluating Ruby. Hand-written gemspecs that compute values (e.g.
//! `s.version = Foo::VERSION`) give no version and are skipped with a warning.
//!
//! `Gemfile.lock` (Bundler, <https://bundler.io/guides/gemfile_lock.html>): sections `GEM`,
//! `GIT` and `PATH` each list `specs:` as `    name (version[-platform])` with the gem's own
//! dependencies indented below as `      name (constraints)`.

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// Ruby string literals after `=` or inside a call: `"x"`, `'x'`, `%q{x}`, `%q<x>`, `%q(x)`,
/// `%q[x]`, `%{x}`, each optionally followed by `.freeze`. Returns the literals in order.
fn string_literals(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let (close, start) = match bytes[i] {
            b'"' => (b'"', i + 1),
            b'\'' => (b'\'', i + 1),
            b'%' => {
                let mut j = i + 1;
                if matches!(bytes.get(j), Some(b'q' | b'Q')) {
                    j += 1;
                }
                let close = match bytes.get(j) {
                    Some(b'{') => b'}',
                    Some(b'<') => b'>',
                    Some(b'(') => b')',
                    Some(b'[') => b']',
                    _ => {
                        i += 1;
                        continue;
                    }
                };
                (close, j + 1)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = start;
        let mut lit = Vec::new();
        while j < bytes.len() && bytes[j] != close {
            if bytes[j] == b'\\' && j + 1 < bytes.len() {
                j += 1;
            }
            lit.push(bytes[j]);
            j += 1;
        }
        if j >= bytes.len() {
            break; // unterminated literal
        }
        out.push(String::from_utf8_lossy(&lit).into_owned());
        i = j + 1;
    }
    out
}

/// If `line` is `<var>.<attr> = <rest>`, returns `rest`.
fn assignment<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    let (lhs, rhs) = line.split_once('=')?;
    let (var, name) = lhs.trim().split_once('.')?;
    (!var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && name.trim() == attr)
        .then_some(rhs)
        .filter(|r| !r.starts_with(['=', '~']))
}

/// Parses an installed gemspec (`specifications/<name>-<version>.gemspec`).
pub fn parse_gemspec(bytes: &[u8], path: &str) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    let mut deps = Vec::new();
    // `to_ruby` writes typed dependencies inside `if s.respond_to? :add_runtime_dependency then`
    // and repeats them all, development ones included, as `s.add_dependency` in the `else`
    // branch for old RubyGems. That branch is skipped.
    let (mut in_compat_if, mut in_compat_else) = (false, false);
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with("if ") && line.contains("respond_to? :add_runtime_dependency") {
            in_compat_if = true;
            continue;
        }
        if in_compat_if && line == "else" {
            in_compat_else = true;
            continue;
        }
        if in_compat_if && line == "end" {
            (in_compat_if, in_compat_else) = (false, false);
            continue;
        }
        if in_compat_else {
            continue;
        }
        if let Some(rhs) = assignment(line, "name") {
            name = name.or_else(|| string_literals(rhs).into_iter().next());
        } else if let Some(rhs) = assignment(line, "version") {
            version = version.or_else(|| string_literals(rhs).into_iter().next());
        } else if let Some(rhs) = assignment(line, "licenses").or_else(|| assignment(line, "license")) {
            licenses.extend(string_literals(rhs).into_iter().filter(|l| !l.is_empty()));
        } else if let Some((_, call)) =
            line.split_once(".add_runtime_dependency").or_else(|| line.split_once(".add_dependency"))
            && let Some(dep) = string_literals(call).into_iter().next()
        {
            deps.push(dep);
        }
    }
    let (Some(name), Some(version)) = (name.filter(|n| !n.is_empty()), version.filter(|v| !v.is_empty())) else {
        return (Vec::new(), vec![Warning::package(path, "no literal name or version, skipped")]);
    };
    let mut pkg = Package::new(PackageKind::Gem, name, version, path);
    licenses.dedup();
    pkg.license = (!licenses.is_empty()).then(|| licenses.join(" OR "));
    deps.sort_unstable();
    deps.dedup();
    pkg.dependencies = deps;
    (vec![pkg], Vec::new())
}

/// Splits a spec line's `name (version)`.
fn name_and_paren(s: &str) -> Option<(&str, &str)> {
    let (name, rest) = s.split_once(" (")?;
    Some((name.trim(), rest.strip_suffix(')')?.trim()))
}

/// Parses a `Gemfile.lock`. A platform suffix (`1.13.10-x86_64-linux`) is removed from the
/// version: RubyGems versions never contain `-`, and advisories are filed against the plain
/// version.
pub fn parse_gemfile_lock(bytes: &[u8], path: &str) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut packages: Vec<Package> = Vec::new();
    let mut warnings = Vec::new();
    let mut in_specs = false;
    for (i, line) in text.lines().enumerate() {
        let content = line.trim_start();
        let indent = line.len() - content.len();
        if content.trim().is_empty() {
            continue;
        }
        match indent {
            0 => in_specs = false,
            2 => in_specs = content.trim_end() == "specs:",
            4 if in_specs => match name_and_paren(content.trim_end()) {
                Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                    let version = version.split('-').next().unwrap_or(version);
                    packages.push(Package::new(PackageKind::Gem, name.to_owned(), version.to_owned(), path));
                }
                _ => warnings.push(Warning::package(path, format!("line {}: not a spec: {}", i + 1, excerpt(content)))),
            },
            6 if in_specs => {
                let name = content.split([' ', '(']).next().unwrap_or_default();
                if let Some(pkg) = packages.last_mut()
                    && !name.is_empty()
                {
                    pkg.dependencies.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    for pkg in &mut packages {
        pkg.dependencies.sort_unstable();
        pkg.dependencies.dedup();
    }
    sort_packages(&mut packages);
    packages.dedup_by(|a, b| a.name == b.name && a.version == b.version);
    (packages, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(string_literals(r#" ["MIT".freeze, 'Ruby', %q{BSD-2-Clause}]"#), ["MIT", "Ruby", "BSD-2-Clause"]);
        assert_eq!(string_literals(r#"(%q<power_assert>.freeze, [">= 0"])"#), ["power_assert", ">= 0"]);
        assert!(string_literals("\"unterminated").is_empty());
    }

    #[test]
    fn assignments() {
        assert_eq!(assignment("spec.name = \"x\"", "name"), Some(" \"x\""));
        assert_eq!(assignment("s.name == \"x\"", "name"), None);
        assert_eq!(assignment("s.metadata = { \"a\" => \"b\" }", "name"), None);
    }
}
