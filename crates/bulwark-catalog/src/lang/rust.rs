//! Rust: the dependency list `cargo auditable` embeds in binaries, and `Cargo.lock`.
//!
//! cargo-auditable (<https://github.com/rust-secure-code/cargo-auditable>, schema at
//! `https://rustsec.org/schemas/cargo-auditable.json`) links a section named `.dep-v0`
//! (ELF, PE; `__DATA,.dep-v0` on Mach-O) holding zlib-compressed JSON:
//! `{"packages":[{"name","version","source","kind","dependencies":[indices],"root"}]}`,
//! where `source` is `crates.io`, `git`, `local`, `registry` or another string, and `kind`
//! is `runtime` (the default) or `build`.

use std::io::Read;

use object::{Object, ObjectSection};
use serde_json::Value;

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// The cap on the inflated `.dep-v0` JSON. cargo-auditable itself refuses more than 8 MiB
/// (`auditable-info`'s default limit); large real binaries carry well under 100 KiB.
pub const MAX_INFLATED: usize = 8 << 20;
/// The cap on the number of packages read from one source.
pub const MAX_PACKAGES: usize = 100_000;

/// Reads the `cargo auditable` data of an ELF, PE or Mach-O binary. A binary without a
/// `.dep-v0` section yields nothing and no warning. Every package is reported, the root
/// (the binary's own crate) and `source: "local"` workspace crates included, with the
/// names of its direct dependencies; build-time dependencies (`kind: "build"`, compiled
/// into build scripts and proc macros, not into the binary) are reported as well, because
/// cargo-audit reports them too.
pub fn parse_auditable(bytes: &[u8], path: &str) -> Parsed {
    let Ok(file) = object::File::parse(bytes) else {
        return (Vec::new(), Vec::new());
    };
    let Some(section) = file.section_by_name(".dep-v0") else {
        return (Vec::new(), Vec::new());
    };
    let compressed = match section.data() {
        Ok(d) => d,
        Err(e) => return (Vec::new(), vec![Warning::package(path, format!(".dep-v0 section unreadable: {e}"))]),
    };
    match inflate(compressed) {
        Ok(json) => parse_auditable_json(&json, path),
        Err(reason) => (Vec::new(), vec![Warning::package(path, format!(".dep-v0 section: {reason}"))]),
    }
}

/// Inflates the zlib stream, refusing more than [`MAX_INFLATED`] bytes.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut json = Vec::new();
    let decoder = flate2::read::ZlibDecoder::new(compressed);
    decoder.take(MAX_INFLATED as u64 + 1).read_to_end(&mut json).map_err(|e| format!("zlib: {e}"))?;
    if json.len() > MAX_INFLATED {
        return Err(format!("inflates to more than {MAX_INFLATED} bytes, skipped"));
    }
    Ok(json)
}

/// Parses the inflated `.dep-v0` JSON (see the module docs).
pub fn parse_auditable_json(json: &[u8], path: &str) -> Parsed {
    let mut warnings = Vec::new();
    let value: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => return (Vec::new(), vec![Warning::package(path, format!(".dep-v0 JSON: {e}"))]),
    };
    let Some(list) = value.get("packages").and_then(Value::as_array) else {
        return (Vec::new(), vec![Warning::package(path, ".dep-v0 JSON has no packages array")]);
    };
    if list.len() > MAX_PACKAGES {
        return (
            Vec::new(),
            vec![Warning::package(path, format!(".dep-v0 lists {} packages, more than {MAX_PACKAGES}", list.len()))],
        );
    }
    // Indices into `list` of the entries that became packages, to resolve dependencies.
    let names: Vec<Option<&str>> = list.iter().map(|p| p.get("name").and_then(Value::as_str)).collect();
    let mut packages = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let name = names[i].filter(|n| !n.is_empty());
        let version = entry.get("version").and_then(Value::as_str).filter(|v| !v.is_empty());
        let (Some(name), Some(version)) = (name, version) else {
            warnings.push(Warning::package(path, format!(".dep-v0 package #{i} has no name or version, skipped")));
            continue;
        };
        let mut pkg = Package::new(PackageKind::Cargo, name.to_owned(), version.to_owned(), path);
        for dep in entry.get("dependencies").and_then(Value::as_array).into_iter().flatten() {
            match dep.as_u64().and_then(|d| names.get(d as usize).copied().flatten()) {
                Some(d) if dep.as_u64() != Some(i as u64) => pkg.dependencies.push(d.to_owned()),
                _ => warnings.push(Warning::package(
                    path,
                    format!(".dep-v0 package {}: bad dependency index {dep}", excerpt(name)),
                )),
            }
        }
        pkg.dependencies.sort_unstable();
        pkg.dependencies.dedup();
        packages.push(pkg);
    }
    sort_packages(&mut packages);
    (packages, warnings)
}

/// Parses a `Cargo.lock` (format versions 1 to 4): every `[[package]]` table's `name`,
/// `version` and `dependencies` (entries `"name"`, `"name version"` or
/// `"name version (source)"`, reduced to the name). Workspace members (no `source`) are
/// reported too. Written by hand for the subset of TOML that Cargo writes; a value it does
/// not understand is a warning.
pub fn parse_cargo_lock(bytes: &[u8], path: &str) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    let mut current: Option<(usize, LockPackage)> = None;
    let mut lines = text.lines().enumerate();
    let finish = |cur: Option<(usize, LockPackage)>, packages: &mut Vec<Package>, warnings: &mut Vec<Warning>| {
        let Some((line, p)) = cur else { return };
        match (p.name, p.version) {
            (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                let mut pkg = Package::new(PackageKind::Cargo, name, version, path);
                pkg.dependencies = p.dependencies;
                pkg.dependencies.sort_unstable();
                pkg.dependencies.dedup();
                packages.push(pkg);
            }
            _ => warnings
                .push(Warning::package(path, format!("[[package]] at line {line} has no name or version, skipped"))),
        }
    };
    while let Some((i, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            finish(current.take(), &mut packages, &mut warnings);
            if line == "[[package]]" {
                if packages.len() >= MAX_PACKAGES {
                    warnings
                        .push(Warning::package(path, format!("more than {MAX_PACKAGES} packages, the rest skipped")));
                    break;
                }
                current = Some((i + 1, LockPackage::default()));
            }
            continue;
        }
        let Some((_, pkg)) = current.as_mut() else { continue };
        let Some((key, value)) = line.split_once('=') else {
            warnings.push(Warning::package(path, format!("line {}: not a key = value line: {}", i + 1, excerpt(line))));
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "name" | "version" => match toml_string(value) {
                Some(s) => *(if key == "name" { &mut pkg.name } else { &mut pkg.version }) = Some(s),
                None => warnings
                    .push(Warning::package(path, format!("line {}: {key} is not a string: {}", i + 1, excerpt(value)))),
            },
            "dependencies" => {
                // An array, usually one string per line; collect up to the closing `]`.
                let mut array = value.to_owned();
                while !array_closed(&array) {
                    match lines.next() {
                        Some((_, more)) if array.len() < 1 << 20 => {
                            array.push('\n');
                            array.push_str(more.trim());
                        }
                        _ => break,
                    }
                }
                match toml_string_array(&array) {
                    Some(items) => pkg
                        .dependencies
                        .extend(items.iter().filter_map(|d| d.split_whitespace().next()).map(str::to_owned)),
                    None => {
                        warnings.push(Warning::package(path, format!("line {}: malformed dependencies array", i + 1)))
                    }
                }
            }
            _ => {}
        }
    }
    finish(current.take(), &mut packages, &mut warnings);
    sort_packages(&mut packages);
    (packages, warnings)
}

#[derive(Debug, Default)]
struct LockPackage {
    name: Option<String>,
    version: Option<String>,
    dependencies: Vec<String>,
}

/// A TOML basic or literal string standing alone (trailing comment allowed).
fn toml_string(value: &str) -> Option<String> {
    let (s, rest) = toml_string_prefix(value)?;
    let rest = rest.trim_start();
    (rest.is_empty() || rest.starts_with('#')).then_some(s)
}

/// Parses a string at the start of `value`; returns it and the remaining text.
fn toml_string_prefix(value: &str) -> Option<(String, &str)> {
    if let Some(body) = value.strip_prefix('\'') {
        let end = body.find('\'')?;
        return Some((body[..end].to_owned(), &body[end + 1..]));
    }
    let body = value.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'u' | 'U' => return None,
                other => out.push(other),
            },
            _ => out.push(c),
        }
    }
    None
}

/// Whether the array text has its closing bracket (outside strings).
fn array_closed(s: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ']' if !in_string => return true,
            _ => {}
        }
    }
    false
}

/// `[ "a", "b 1.0", ]` with newlines and comments between elements.
fn toml_string_array(s: &str) -> Option<Vec<String>> {
    let mut rest = s.trim().strip_prefix('[')?;
    let mut items = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix('#') {
            rest = comment.split_once('\n').map_or("", |(_, r)| r);
            continue;
        }
        if rest.starts_with(']') {
            return Some(items);
        }
        let (item, after) = toml_string_prefix(rest)?;
        items.push(item);
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_shapes() {
        // Cargo's own lockfile shapes: v1 (`[metadata]` checksums, dependencies with source),
        // v3/v4 (`version = N`, inline and multi-line arrays).
        let lock = br#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "a"
version = "0.1.0"
dependencies = [
 "b",
 "c 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "b"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"
dependencies = ["c"]

[[package]]
name = "c"
version = "1.0.0"

[metadata]
"checksum c 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "00"
"#;
        let (pkgs, w) = parse_cargo_lock(lock, "/Cargo.lock");
        assert!(w.is_empty(), "{w:?}");
        let got: Vec<_> =
            pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dependencies.join(","))).collect();
        assert_eq!(got, [("a", "0.1.0", "b,c".into()), ("b", "2.0.0", "c".into()), ("c", "1.0.0", String::new())]);
    }

    #[test]
    fn lockfile_garbage() {
        let (pkgs, w) = parse_cargo_lock(b"[[package]]\nname = 3\nversion = \"1\"\ndependencies = [\n\"x\"\n", "/l");
        assert!(pkgs.is_empty());
        // Name not a string, unterminated array, and so a package without a name.
        assert_eq!(w.len(), 3, "{w:?}");
        let (pkgs, _) = parse_cargo_lock(b"\xff\xfe[[package]\n=\n[[package]]\nname='x'\nversion='1'", "/l");
        assert_eq!(pkgs.len(), 1);
    }

    #[test]
    fn inflate_bomb_is_refused() {
        // 9 MiB of spaces deflate to about 9 KiB.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, &vec![b' '; 9 << 20]).unwrap_or_default();
        let bomb = z.finish().unwrap_or_default();
        assert!(bomb.len() < 64 << 10);
        assert!(inflate(&bomb).is_err_and(|e| e.contains("more than")));
        assert!(inflate(b"\x78\x9c garbage").is_err());
    }

    #[test]
    fn auditable_json() {
        // Shape of the example in auditable-serde's crate documentation.
        let json = br#"{"packages":[
            {"name":"adler","version":"0.2.3","source":"registry"},
            {"name":"cargo-auditable-example","version":"0.1.0","source":"local","dependencies":[0,7],"root":true}
        ]}"#;
        let (pkgs, w) = parse_auditable_json(json, "/b");
        assert_eq!(pkgs.len(), 2);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(pkgs[1].dependencies, ["adler"]);
        let (pkgs, w) = parse_auditable_json(b"{\"packages\":{}}", "/b");
        assert!(pkgs.is_empty() && w.len() == 1);
    }
}
