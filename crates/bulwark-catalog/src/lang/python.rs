//! Python: `*.dist-info/METADATA` (+ `RECORD`), `*.egg-info/PKG-INFO` (+ `installed-files.txt`)
//! and single-file `.egg-info` (the same format as `PKG-INFO`).
//!
//! Format: core metadata (<https://packaging.python.org/en/latest/specifications/core-metadata/>),
//! an RFC 822 style header block (`Field: value`, continuation lines indented) followed by a
//! blank line and the description, which is ignored. `RECORD` is the CSV described in
//! <https://packaging.python.org/en/latest/specifications/recording-installed-packages/>:
//! `path,hash,size` with paths relative to the directory holding the `.dist-info` directory.
//!
//! Names are kept as declared (`Django_Allauth`); the purl normalises them (PEP 503).

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// Header fields beyond this many are ignored (real METADATA files have tens, at most a few
/// hundred with many classifiers).
const MAX_FIELDS: usize = 10_000;
/// `RECORD` and `installed-files.txt` lines beyond this many are ignored with a warning.
const MAX_RECORD_LINES: usize = 1_000_000;
/// A `License:` value longer than this is a whole licence text, not a name.
const MAX_LICENSE_NAME: usize = 120;

/// The header fields of a core-metadata file, in order, continuation lines joined by `\n`.
fn header_fields(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the description starts after the first blank line
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if fields.len() >= MAX_FIELDS {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && !name.is_empty()
            && !name.contains(char::is_whitespace)
        {
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// The declared licence: `License-Expression` (PEP 639), else a short `License:` value, else
/// the `License ::` classifiers' last segments joined by `; `, else a long `License:` value's
/// first line.
fn declared_license(fields: &[(String, String)]) -> Option<String> {
    if let Some(expr) = field(fields, "License-Expression") {
        return Some(expr.to_owned());
    }
    let license = field(fields, "License").filter(|l| !l.eq_ignore_ascii_case("UNKNOWN"));
    if let Some(l) = license
        && !l.contains('\n')
        && l.len() <= MAX_LICENSE_NAME
    {
        return Some(l.to_owned());
    }
    let classifiers: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Classifier"))
        .filter_map(|(_, v)| v.strip_prefix("License ::"))
        .filter_map(|v| v.rsplit("::").next().map(str::trim))
        .filter(|v| !v.is_empty())
        .collect();
    if !classifiers.is_empty() {
        return Some(classifiers.join("; "));
    }
    license.and_then(|l| l.lines().next()).map(|l| excerpt(l.trim()))
}

/// The distribution name at the start of a `Requires-Dist` value, unless the requirement
/// only applies to an extra (`; extra == "socks"`), which is not installed by default.
fn requirement_name(req: &str) -> Option<&str> {
    if let Some((_, marker)) = req.split_once(';')
        && marker.contains("extra")
    {
        return None;
    }
    let end = req.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))).unwrap_or(req.len());
    Some(&req[..end]).filter(|n| !n.is_empty())
}

/// Parses a `METADATA`, `PKG-INFO` or single-file `.egg-info`. Returns one package, or none
/// with a warning when `Name` or `Version` is missing.
pub fn parse_metadata(bytes: &[u8], path: &str) -> Parsed {
    let fields = header_fields(bytes);
    let (Some(name), Some(version)) = (field(&fields, "Name"), field(&fields, "Version")) else {
        return (Vec::new(), vec![Warning::package(path, "no Name or Version field, skipped")]);
    };
    let mut pkg = Package::new(PackageKind::Python, name.to_owned(), version.to_owned(), path);
    pkg.license = declared_license(&fields);
    let mut deps: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Requires-Dist"))
        .filter_map(|(_, v)| requirement_name(v))
        .map(str::to_owned)
        .collect();
    deps.sort_unstable();
    deps.dedup();
    pkg.dependencies = deps;
    (vec![pkg], Vec::new())
}

/// Joins a relative path onto an absolute directory, resolving `.` and `..` lexically
/// (RECORD lists scripts as `../../../bin/pip`). Never climbs above `/`.
fn join_normalised(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined = if rel.starts_with('/') { rel.to_owned() } else { format!("{dir}/{rel}") };
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The first CSV field of a RECORD line (RFC 4180 quoting, as Python's `csv` writes it).
fn first_csv_field(line: &str) -> Option<String> {
    let Some(rest) = line.strip_prefix('"') else {
        return line.split(',').next().map(str::to_owned);
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None // unterminated quote
}

/// Parses a `RECORD` file into absolute paths. `site_packages` is the absolute directory that
/// holds the `.dist-info` directory (see [`site_packages_of`]). Returns the sorted paths and
/// warnings for unreadable lines.
pub fn parse_record(bytes: &[u8], site_packages: &str) -> (Vec<String>, Vec<String>) {
    relative_list(bytes, site_packages, first_csv_field)
}

/// Parses an egg-info `installed-files.txt` (one path per line, relative to the `.egg-info`
/// directory itself) into absolute paths.
pub fn parse_installed_files(bytes: &[u8], egg_info_dir: &str) -> (Vec<String>, Vec<String>) {
    relative_list(bytes, egg_info_dir, |line| Some(line.to_owned()))
}

fn relative_list(bytes: &[u8], base: &str, first: impl Fn(&str) -> Option<String>) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        if i >= MAX_RECORD_LINES {
            warnings.push(format!("more than {MAX_RECORD_LINES} lines, the rest ignored"));
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        match first(line).filter(|p| !p.is_empty()) {
            Some(p) => files.push(join_normalised(base, &p)),
            None => warnings.push(format!("line {}: no path: {}", i + 1, excerpt(line))),
        }
    }
    files.sort_unstable();
    files.dedup();
    (files, warnings)
}

/// The directory that holds a `*.dist-info` / `*.egg-info` directory, from the path of a file
/// inside it: `/usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA` →
/// `/usr/lib/python3/site-packages`.
pub fn site_packages_of(metadata_path: &str) -> Option<&str> {
    let (info_dir, _) = metadata_path.rsplit_once('/')?;
    let (parent, _) = info_dir.rsplit_once('/')?;
    Some(if parent.is_empty() { "/" } else { parent })
}

/// Convenience: a `*.dist-info` directory's `METADATA` plus its `RECORD`, when there is one,
/// as the package's owned files.
pub fn parse_dist_info(metadata: &[u8], metadata_path: &str, record: Option<&[u8]>) -> Parsed {
    let (mut packages, mut warnings) = parse_metadata(metadata, metadata_path);
    if let (Some(record), Some(pkg), Some(site)) = (record, packages.first_mut(), site_packages_of(metadata_path)) {
        let (files, w) = parse_record(record, site);
        warnings.extend(w.into_iter().map(|w| Warning::package(site, format!("RECORD: {w}"))));
        pkg.files = files;
        pkg.normalise_files();
    }
    sort_packages(&mut packages);
    (packages, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths_are_normalised() {
        let record = b"../../../bin/pip3,sha256=x,248\n\"a,b.py\",,\nsix.py,sha256=y,1\n\"unterminated\n";
        let (files, warnings) = parse_record(record, "/usr/lib/python3.11/site-packages");
        assert_eq!(
            files,
            ["/usr/bin/pip3", "/usr/lib/python3.11/site-packages/a,b.py", "/usr/lib/python3.11/site-packages/six.py"]
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(join_normalised("/a", "../../../../etc/passwd"), "/etc/passwd");
    }

    #[test]
    fn requirement_names() {
        assert_eq!(requirement_name("charset-normalizer<4,>=2"), Some("charset-normalizer"));
        assert_eq!(requirement_name("PySocks!=1.5.7,>=1.5.6; extra == \"socks\""), None);
        assert_eq!(requirement_name("idna (>=2.5) ; python_version >= \"3\""), Some("idna"));
    }

    #[test]
    fn license_precedence() {
        let meta = b"Name: x\nVersion: 1\nLicense: Apache License\n        Version 2.0, January 2004\n\
Classifier: License :: OSI Approved :: Apache Software License\n\n";
        let (p, _) = parse_metadata(meta, "/m");
        assert_eq!(p[0].license.as_deref(), Some("Apache Software License"));
        let meta = b"Name: x\nVersion: 1\nLicense: MIT\nLicense-Expression: MIT OR Apache-2.0\n";
        assert_eq!(parse_metadata(meta, "/m").0[0].license.as_deref(), Some("MIT OR Apache-2.0"));
    }

    #[test]
    fn site_packages() {
        assert_eq!(
            site_packages_of("/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
            Some("/usr/lib/python3/dist-packages")
        );
        assert_eq!(site_packages_of("METADATA"), None);
    }
}
