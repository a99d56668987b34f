//! Java: `.jar`, `.war`, `.ear`, `.par` (and `.jpi`/`.hpi` plugin) archives, nested ones
//! included.
//!
//! Identification, strongest evidence first:
//! 1. every `META-INF/maven/<groupId>/<artifactId>/pom.properties` (a shaded jar carries one
//!    per bundled artifact, and each is reported) → `groupId:artifactId` and `version`;
//! 2. otherwise [`super::java_coords::resolve`] over `pom.xml`, the manifest, the file name,
//!    the classes' package and a table of well-known artifacts, which records per coordinate
//!    which evidence decided it ([`Package::identification`]).
//!
//! Archives inside archives (Spring Boot `BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar`, jars in
//! ears) are read recursively up to [`Limits::max_depth`], and reported with `!`-joined
//! paths: `app.jar!BOOT-INF/lib/inner.jar`. Every byte inflated counts against
//! [`Limits::max_total_inflated`] for the whole top-level archive, and single entries
//! against their own caps, so zip bombs (deflate ratio, overlapping entries, recursion)
//! stop with a warning.

use std::io::{Cursor, Read, Seek};

use zip::ZipArchive;

use super::java_coords::{self, ClassPackages, Evidence};
use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};
use bulwark_core::report::Identification;

/// Bounds on the work done for one top-level archive.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How deep archives nest below the top-level one (the top level is depth 0).
    pub max_depth: u32,
    /// Bytes inflated in total, all nested archives together.
    pub max_total_inflated: u64,
    /// The largest nested archive read into memory.
    pub max_nested_size: u64,
    /// The largest `pom.properties` or `MANIFEST.MF` read.
    pub max_metadata_size: u64,
    /// Archives with more entries than this are skipped.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 4,
            max_total_inflated: 256 << 20,
            max_nested_size: 64 << 20,
            max_metadata_size: 1 << 20,
            max_entries: 200_000,
        }
    }
}

/// File name endings of archives read as Java archives (lower-case).
const ARCHIVE_EXTENSIONS: [&str; 6] = [".jar", ".war", ".ear", ".par", ".jpi", ".hpi"];

/// Whether a file name looks like a Java archive.
pub fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// Catalogs a Java archive held in memory. `path` is where the archive is in the image.
pub fn parse_archive(bytes: &[u8], path: &str, limits: &Limits) -> Parsed {
    parse_reader(Cursor::new(bytes), path, limits)
}

/// Catalogs a Java archive read through `reader` (a file, say), without reading it whole:
/// only the central directory, the metadata entries and nested archives are read.
pub fn parse_reader<R: Read + Seek>(reader: R, path: &str, limits: &Limits) -> Parsed {
    let mut walk = Walk { limits, inflated: 0, packages: Vec::new(), warnings: Vec::new(), budget_warned: false };
    walk.archive(reader, path, 0);
    let Walk { mut packages, warnings, .. } = walk;
    sort_packages(&mut packages);
    (packages, warnings)
}

#[derive(Debug)]
struct Walk<'l> {
    limits: &'l Limits,
    inflated: u64,
    packages: Vec<Package>,
    warnings: Vec<Warning>,
    budget_warned: bool,
}

impl Walk<'_> {
    fn archive<R: Read + Seek>(&mut self, reader: R, path: &str, depth: u32) {
        let mut zip = match ZipArchive::new(reader) {
            Ok(z) => z,
            Err(e) => {
                self.warnings.push(Warning::package(path, format!("not a readable zip archive: {e}")));
                return;
            }
        };
        if zip.len() > self.limits.max_entries {
            self.warnings.push(Warning::package(
                path,
                format!("{} entries, more than the limit of {}, skipped", zip.len(), self.limits.max_entries),
            ));
            return;
        }
        let mut poms = Vec::new();
        let mut pom_xmls = Vec::new();
        let mut manifest = None;
        let mut nested = Vec::new();
        let mut classes = ClassPackages::default();
        for i in 0..zip.len() {
            let Some(Ok(name)) = zip.name_for_index(i) else { continue };
            if name.ends_with('/') {
                continue;
            }
            classes.add(&name);
            if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
                poms.push((i, name.into_owned()));
            } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.xml") {
                pom_xmls.push((i, name.into_owned()));
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest = Some(i);
            } else if is_archive_name(&name) {
                nested.push((i, name.into_owned()));
            }
        }

        let mut found: Vec<(String, String, Identification)> = Vec::new();
        for (i, name) in poms {
            let Some(bytes) = self.read_entry(&mut zip, i, &name, path, self.limits.max_metadata_size) else {
                continue;
            };
            match pom_properties(&bytes) {
                Ok((group, artifact, version)) => {
                    found.push((format!("{group}:{artifact}"), version, java_coords::declared("pom.properties")))
                }
                Err(reason) => self.warnings.push(Warning::package(format!("{path}!{name}"), reason)),
            }
        }
        if found.is_empty() {
            let manifest = manifest
                .and_then(|i| self.read_entry(&mut zip, i, "META-INF/MANIFEST.MF", path, self.limits.max_metadata_size))
                .map(|b| parse_manifest(&b))
                .unwrap_or_default();
            let mut pom_xml = Vec::new();
            // A shaded jar may carry many; without pom.properties the first few are enough
            // to find the jar's own (complete) one.
            for (i, name) in pom_xmls.into_iter().take(8) {
                if let Some(bytes) = self.read_entry(&mut zip, i, &name, path, self.limits.max_metadata_size) {
                    pom_xml.push(java_coords::parse_pom_xml(&bytes));
                }
            }
            let evidence =
                Evidence { manifest: &manifest, file_name: file_name(path), class_package: classes.finish(), pom_xml };
            match java_coords::resolve(&evidence) {
                Some(c) => found.push((c.name(), c.version, c.identification)),
                None if depth == 0 || !nested.is_empty() => {}
                None => self
                    .warnings
                    .push(Warning::package(path, "no pom.properties, manifest version or versioned file name")),
            }
        }
        found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        found.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        for (name, version, identification) in found {
            let mut package = Package::new(PackageKind::Maven, name, version, path);
            package.identification = Some(identification);
            self.packages.push(package);
        }

        for (i, name) in nested {
            let inner_path = format!("{path}!{name}");
            if depth + 1 > self.limits.max_depth {
                let message = format!("nested deeper than {} archives, skipped", self.limits.max_depth);
                self.warnings.push(Warning::package(inner_path, message));
                continue;
            }
            let Some(bytes) = self.read_entry(&mut zip, i, &name, path, self.limits.max_nested_size) else {
                continue;
            };
            self.archive(Cursor::new(bytes), &inner_path, depth + 1);
        }
    }

    /// Inflates one entry, at most `cap` bytes and no more than the remaining total budget.
    fn read_entry<R: Read + Seek>(
        &mut self,
        zip: &mut ZipArchive<R>,
        index: usize,
        name: &str,
        path: &str,
        cap: u64,
    ) -> Option<Vec<u8>> {
        let remaining = self.limits.max_total_inflated.saturating_sub(self.inflated);
        if remaining == 0 {
            if !self.budget_warned {
                self.budget_warned = true;
                let message = format!(
                    "total inflated size limit of {} bytes reached, remaining entries skipped (zip bomb?)",
                    self.limits.max_total_inflated
                );
                self.warnings.push(Warning::package(format!("{path}!{name}"), message));
            }
            return None;
        }
        let mut entry = match zip.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                self.warnings.push(Warning::package(format!("{path}!{name}"), format!("unreadable entry: {e}")));
                return None;
            }
        };
        if entry.size() > cap {
            let message = format!("declares {} bytes, more than the limit of {cap}, skipped", entry.size());
            self.warnings.push(Warning::package(format!("{path}!{name}"), message));
            return None;
        }
        let limit = cap.min(remaining);
        let mut bytes = Vec::new();
        let result = entry.by_ref().take(limit + 1).read_to_end(&mut bytes);
        self.inflated += bytes.len() as u64;
        if let Err(e) = result {
            self.warnings.push(Warning::package(format!("{path}!{name}"), e.to_string()));
            return None;
        }
        if bytes.len() as u64 > limit {
            // The declared size was a lie, or the whole-archive budget ran out.
            let message = format!("inflates past {limit} bytes (declared {}), skipped (zip bomb?)", entry.size());
            self.warnings.push(Warning::package(format!("{path}!{name}"), message));
            return None;
        }
        Some(bytes)
    }
}

/// The last path component, after any `!`.
fn file_name(path: &str) -> &str {
    let last = path.rsplit('!').next().unwrap_or(path);
    last.rsplit(['/', '\\']).next().unwrap_or(last)
}

/// Reads `groupId`, `artifactId` and `version` from a `pom.properties` file
/// (`java.util.Properties` syntax: `key=value`, `key: value` or `key value`, `#`/`!`
/// comments).
fn pom_properties(bytes: &[u8]) -> Result<(String, String, String), String> {
    let text = String::from_utf8_lossy(bytes);
    let (mut group, mut artifact, mut version) = (None, None, None);
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with(['#', '!']) {
            continue;
        }
        let split = line.find(['=', ':', ' ', '\t']).unwrap_or(line.len());
        let key = &line[..split];
        let value = line[split..].trim_start_matches([' ', '\t']);
        let value = value.strip_prefix(['=', ':']).unwrap_or(value).trim();
        let slot = match key {
            "groupId" => &mut group,
            "artifactId" => &mut artifact,
            "version" => &mut version,
            _ => continue,
        };
        *slot = Some(value.to_owned());
    }
    match (group, artifact, version) {
        (Some(g), Some(a), Some(v)) if !g.is_empty() && !a.is_empty() && !v.is_empty() => {
            if [&g, &a, &v].iter().any(|s| s.contains("${")) {
                return Err(format!(
                    "unresolved property in pom.properties: {}:{}:{}",
                    excerpt(&g),
                    excerpt(&a),
                    excerpt(&v)
                ));
            }
            Ok((g, a, v))
        }
        _ => Err("pom.properties without groupId, artifactId and version".to_owned()),
    }
}

/// The main section of a manifest: attribute names and values in order. Lines end in CRLF,
/// LF or CR and are at most 72 bytes; a line starting with a single space continues the one
/// before (JAR File Specification, "Manifest Specification").
pub fn parse_manifest(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut attributes: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n").flat_map(|l| l.split(['\n', '\r'])) {
        if line.is_empty() {
            // The main section ends at the first blank line.
            if !attributes.is_empty() {
                break;
            }
            continue;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, value)) = attributes.last_mut()
                && value.len() < 1 << 16
            {
                value.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            attributes.push((k.trim().to_owned(), v.strip_prefix(' ').unwrap_or(v).to_owned()));
        }
    }
    attributes
}

#[cfg(test)]
fn attribute<'a>(manifest: &'a [(String, String)], name: &str) -> Option<&'a str> {
    manifest.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Splits `name-1.2.3.jar` into `("name", Some("1.2.3"))`: the version starts at the last
/// `-` followed by digits, a dot and a digit (`commons-io-2.11.0`,
/// `netty-codec-4.1.94.Final`, `log4j-1.2-api-2.19.0`). Debian's unversioned symlinks
/// (`maven-core-3.x.jar`) have no version.
pub fn split_file_name(file_name: &str) -> (&str, Option<&str>) {
    let stem = match file_name.rfind('.') {
        Some(i) if is_archive_name(file_name) => &file_name[..i],
        _ => file_name,
    };
    let version_like = |rest: &str| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let after = &rest.as_bytes()[digits..];
        digits > 0 && after.len() >= 2 && after[0] == b'.' && after[1].is_ascii_digit()
    };
    match stem.rmatch_indices('-').map(|(i, _)| i).find(|&i| i > 0 && version_like(&stem[i + 1..])) {
        Some(i) => (&stem[..i], Some(&stem[i + 1..])),
        None => (stem, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_continuations() {
        // JAR File Specification: "No line may be longer than 72 bytes … continued on the
        // next line beginning with a single SPACE". Line endings mixed on purpose.
        let mf = b"Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example.a-very-long-bundle-na\r\n me.that-wraps\nImplementation-Version: 1.2\r\n\r\nName: x\r\nImplementation-Version: 9\r\n";
        let m = parse_manifest(mf);
        assert_eq!(attribute(&m, "bundle-symbolicname"), Some("org.example.a-very-long-bundle-name.that-wraps"));
        assert_eq!(attribute(&m, "Implementation-Version"), Some("1.2"));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn file_names() {
        for (name, want) in [
            ("commons-io-2.11.0.jar", ("commons-io", Some("2.11.0"))),
            ("netty-codec-4.1.94.Final.jar", ("netty-codec", Some("4.1.94.Final"))),
            ("spring-boot-3.1.0-SNAPSHOT.jar", ("spring-boot", Some("3.1.0-SNAPSHOT"))),
            ("maven-core-3.x.jar", ("maven-core-3.x", None)),
            ("guava.jar", ("guava", None)),
            ("log4j-1.2-api-2.19.0.jar", ("log4j-1.2-api", Some("2.19.0"))),
        ] {
            assert_eq!(split_file_name(name), want, "{name}");
        }
    }

    #[test]
    fn pom_properties_syntax() {
        let p = b"#Generated by Maven\n#Tue\nartifactId=guava\ngroupId = com.google.guava\nversion: 31.1-jre\n";
        assert_eq!(pom_properties(p), Ok(("com.google.guava".into(), "guava".into(), "31.1-jre".into())));
        assert!(pom_properties(b"groupId=a\nartifactId=b\n").is_err());
        assert!(pom_properties(b"groupId=a\nartifactId=b\nversion=${revision}\n").is_err());
    }

    #[test]
    fn not_a_zip() {
        let (pkgs, w) = parse_archive(b"PK\x03\x04 definitely not", "/a.jar", &Limits::default());
        assert!(pkgs.is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
        let (_, w) = parse_archive(b"", "/a.jar", &Limits::default());
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
