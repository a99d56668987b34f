//! Reading an SBOM instead of an image: CycloneDX JSON (any 1.x) and SPDX 2.x JSON, as
//! Bulwark and Syft write them, and Bulwark's own JSON report (`bulwark sbom -f json`,
//! `bulwark scan -f json`), whose packages and OS are taken as they are.
//!
//! Each component or package with a purl becomes a [`Package`]: ecosystem = purl type,
//! name and version from the purl (see [`Purl::ecosystem_name`] and
//! [`Purl::ecosystem_version`]; the SBOM's own name is kept when it is the same name in
//! another spelling, e.g. a PyPI name before normalisation), architecture from the `arch`
//! qualifier, source package from Bulwark's properties or Syft's `upstream` qualifier,
//! licence, locations, layers and dependencies where the SBOM records them. The OS comes
//! from an `operating-system` component (CycloneDX) or package (SPDX), else from the
//! `distro` qualifier of OS package purls. Anything unusable (a component without a purl,
//! a malformed purl) is a warning, never an error: only input that is not a CycloneDX or
//! SPDX JSON document is.
//!
//! `osv_ecosystem` of the OS is taken only from Bulwark's own property; the caller maps
//! other SBOMs' distros with `bulwark-catalog`'s OS tables.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use bulwark_core::Warning;
use bulwark_core::report::{OsRelease, Package, SourcePackage};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::{Error, Result, excerpt};
use bulwark_core::Purl;

/// Which kind of SBOM was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CycloneDx,
    Spdx,
    /// Bulwark's JSON report (`schemas/report.schema.json`).
    Bulwark,
}

/// What an SBOM says is in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    pub format: Format,
    /// Sorted by ecosystem, name, version, locations and architecture, like a scan's.
    pub packages: Vec<Package>,
    pub os: Option<OsRelease>,
    /// Components that were skipped or only partly understood.
    pub warnings: Vec<Warning>,
}

/// Most packages kept from an SBOM by [`parse`]; see [`parse_with`].
pub const DEFAULT_MAX_PACKAGES: u64 = 50_000;

/// Reads a CycloneDX or SPDX JSON SBOM, keeping at most [`DEFAULT_MAX_PACKAGES`] packages.
pub fn parse(bytes: &[u8]) -> Result<Sbom> {
    parse_with(bytes, DEFAULT_MAX_PACKAGES)
}

/// Reads a CycloneDX or SPDX JSON SBOM, keeping at most `max_packages` packages.
///
/// The document is never held whole as a tree: every list (components, packages,
/// dependencies, properties…) keeps at most `max_packages` elements, and the whole tree at
/// most [`NODES_PER_PACKAGE`] × `max_packages` list elements and object members; the rest
/// is skipped as it is read and counted in a limit warning. Memory is then bounded by the
/// limit, not by the document (a 256 MiB SBOM of a million components as a tree takes
/// over a gigabyte).
pub fn parse_with(bytes: &[u8], max_packages: u64) -> Result<Sbom> {
    let budget = Budget {
        per_list: max_packages,
        nodes_left: Cell::new(max_packages.saturating_mul(NODES_PER_PACKAGE)),
        over_list: Cell::new(0),
        over_nodes: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = Capped(&budget).deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    let doc = doc.map_err(|e| Error::NotJson(e.to_string()))?;
    let mut sbom = parse_doc(&doc, max_packages)?;
    if budget.over_list.get() > 0 {
        let what = "sbom: elements of lists (components, packages, dependencies, properties…) longer than the limit";
        sbom.warnings.push(Warning::limit("max-packages", max_packages, what, budget.over_list.get()));
    }
    if budget.over_nodes.get() > 0 {
        let what = format!("sbom: entries beyond {NODES_PER_PACKAGE} per package allowed");
        sbom.warnings.push(Warning::limit("max-packages", max_packages, &what, budget.over_nodes.get()));
    }
    Ok(sbom)
}

/// Tree entries (list elements and object members) an SBOM may use per package kept: Syft
/// writes about 30 per component (name, version, purl, properties, licences, locations).
pub const NODES_PER_PACKAGE: u64 = 50;

/// What the capped reader may still keep, and what it skipped.
struct Budget {
    per_list: u64,
    nodes_left: Cell<u64>,
    over_list: Cell<u64>,
    over_nodes: Cell<u64>,
}

impl Budget {
    /// Whether the next entry of a list or object that already has `len` is kept.
    fn keep(&self, len: usize, is_list: bool) -> bool {
        if is_list && len as u64 >= self.per_list {
            self.over_list.set(self.over_list.get() + 1);
            return false;
        }
        match self.nodes_left.get() {
            0 => {
                self.over_nodes.set(self.over_nodes.get() + 1);
                false
            }
            n => {
                self.nodes_left.set(n - 1);
                true
            }
        }
    }
}

/// Reads any JSON value within a [`Budget`]: entries over it are skipped (read, not kept).
struct Capped<'a>(&'a Budget);

impl<'de> DeserializeSeed<'de> for Capped<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capped<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut out = Vec::new();
        // The element seed decides only once an element is there to read.
        while let Some(v) = seq.next_element_seed(Element(self.0, out.len()))? {
            out.extend(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.0.keep(out.len(), false) {
                let v = map.next_value_seed(Capped(self.0))?;
                out.insert(key, v);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// One list element: kept (within the budget) or skipped.
struct Element<'a>(&'a Budget, usize);

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Option<Value>, D::Error> {
        if self.0.keep(self.1, true) {
            Capped(self.0).deserialize(d).map(Some)
        } else {
            IgnoredAny::deserialize(d).map(|_| None)
        }
    }
}

fn parse_doc(doc: &Value, max_packages: u64) -> Result<Sbom> {
    let finish = |p: Partial, format: Format| {
        let mut sbom = finish(p, format);
        let max = usize::try_from(max_packages).unwrap_or(usize::MAX);
        if sbom.packages.len() > max {
            let dropped = (sbom.packages.len() - max) as u64;
            sbom.packages.truncate(max);
            sbom.warnings.push(Warning::limit("max-packages", max_packages, "sbom: packages", dropped));
        }
        sbom
    };
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return Ok(finish(cyclonedx(doc), Format::CycloneDx));
    }
    if is_bulwark_report(doc) {
        return Ok(finish(bulwark_report(doc)?, Format::Bulwark));
    }
    match doc.get("spdxVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("SPDX-2.") => Ok(finish(spdx(doc), Format::Spdx)),
        Some(v) => Err(Error::UnknownFormat(format!("spdxVersion {:?} (only SPDX 2.x JSON is read)", excerpt(v)))),
        None => Err(Error::UnknownFormat(
            "neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document, nor a Bulwark JSON report"
                .to_owned(),
        )),
    }
}

struct Partial {
    packages: Vec<Package>,
    os: Option<OsRelease>,
    warnings: Vec<Warning>,
}

fn finish(mut p: Partial, format: Format) -> Sbom {
    if p.os.is_none() {
        p.os = os_from_distro_qualifier(&p.packages);
    }
    bulwark_core::report::sort_packages(&mut p.packages);
    Sbom { format, packages: p.packages, os: p.os, warnings: p.warnings }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// Compares names the way the ecosystem does (case-insensitively; PEP 503 for PyPI).
fn same_name(ecosystem: &str, a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.to_ascii_lowercase();
        if ecosystem == "pypi" {
            s.split(['-', '_', '.']).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
        } else {
            s
        }
    };
    norm(a) == norm(b)
}

/// Source package from Syft's `upstream` qualifier: `glibc`, `glibc@2.36-9` (deb),
/// `openssl-3.0.7-27.el9.src.rpm` (rpm).
fn source_from_upstream(purl: &Purl) -> Option<SourcePackage> {
    let up = purl.qualifier("upstream")?;
    if let Some(srpm) = up.strip_suffix(".src.rpm") {
        // name-version-release: the name is everything before the second-to-last '-'.
        let (rest, release) = srpm.rsplit_once('-')?;
        let (name, version) = rest.rsplit_once('-')?;
        return Some(SourcePackage { name: name.to_owned(), version: Some(format!("{version}-{release}")) });
    }
    Some(match up.split_once('@') {
        Some((n, v)) => SourcePackage { name: n.to_owned(), version: Some(v.to_owned()).filter(|v| !v.is_empty()) },
        None => SourcePackage { name: up.to_owned(), version: None },
    })
}

/// A package from a purl and what else the SBOM says; `None` for purls that name the
/// image itself rather than something in it.
fn package_from(
    purl_str: &str,
    declared_name: Option<String>,
    declared_version: Option<&str>,
) -> Result<Option<Package>> {
    let purl: Purl = purl_str.parse()?;
    if matches!(purl.ty.as_str(), "oci" | "docker") {
        return Ok(None);
    }
    let purl_name = purl.ecosystem_name();
    let name = match declared_name {
        Some(d) if same_name(&purl.ty, &d, &purl_name) => d,
        _ => purl_name,
    };
    let version = purl.ecosystem_version().or_else(|| declared_version.map(str::to_owned)).unwrap_or_default();
    Ok(Some(Package {
        ecosystem: purl.ty.clone(),
        name,
        version,
        purl: purl_str.to_owned(),
        arch: purl.qualifier("arch").map(str::to_owned),
        source: source_from_upstream(&purl),
        license: None,
        locations: Vec::new(),
        layer: None,
        removed_in: None,
        dependencies: Vec::new(),
        identification: None,
    }))
}

/// `distro=debian-12` on OS package purls, when the SBOM has no OS component.
fn os_from_distro_qualifier(packages: &[Package]) -> Option<OsRelease> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in packages.iter().filter(|p| matches!(p.ecosystem.as_str(), "deb" | "apk" | "rpm")) {
        if let Some(d) = p.purl.parse::<Purl>().ok().and_then(|u| u.qualifier("distro").map(str::to_owned)) {
            *counts.entry(d).or_default() += 1;
        }
    }
    let (distro, _) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    // `debian-12`, `alpine-3.18.4`, `opensuse-leap-15.5`: the version starts after the last
    // '-' that is followed by a digit.
    let split =
        distro.char_indices().rfind(|(i, c)| *c == '-' && distro[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    let (id, version) = match split {
        Some((i, _)) => (&distro[..i], Some(distro[i + 1..].to_owned())),
        None => (distro.as_str(), None),
    };
    Some(OsRelease {
        id: id.to_owned(),
        version_id: version,
        version_codename: None,
        pretty_name: None,
        source: "sbom: purl distro qualifier".to_owned(),
        osv_ecosystem: None,
        distroless: false,
    })
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

// ---------------------------------------------------------------------------------------
// Bulwark's JSON report

/// A report has `schema_version`, `bulwark_version` and `image`, which no SBOM format has.
fn is_bulwark_report(doc: &Value) -> bool {
    doc.get("schema_version").is_some_and(Value::is_u64)
        && doc.get("bulwark_version").is_some_and(Value::is_string)
        && doc.get("image").is_some_and(Value::is_object)
}

/// The packages and OS of a Bulwark JSON report, exactly as the scan found them (its
/// vulnerabilities are matched again, against the database of this scan).
fn bulwark_report(doc: &Value) -> Result<Partial> {
    let version = doc.get("schema_version").and_then(Value::as_u64).unwrap_or_default();
    if version > u64::from(bulwark_core::report::REPORT_SCHEMA_VERSION) {
        return Err(Error::UnknownFormat(format!(
            "a Bulwark JSON report of schema version {version}, newer than this Bulwark's {} (hint: upgrade Bulwark)",
            bulwark_core::report::REPORT_SCHEMA_VERSION
        )));
    }
    let report = bulwark_core::report::ScanReport::deserialize(doc)
        .map_err(|e| Error::UnknownFormat(format!("a Bulwark JSON report that does not match its schema: {e}")))?;
    Ok(Partial { packages: report.packages, os: report.os, warnings: Vec::new() })
}

// ---------------------------------------------------------------------------------------
// CycloneDX

fn cyclonedx(doc: &Value) -> Partial {
    let mut out = Partial { packages: Vec::new(), os: None, warnings: Vec::new() };
    let mut components = Vec::new();
    fn walk<'a>(list: &'a [Value], out: &mut Vec<&'a Value>) {
        for c in list {
            out.push(c);
            walk(array(c, "components"), out);
        }
    }
    if let Some(meta) = doc.get("metadata").and_then(|m| m.get("component")) {
        // Syft describes a scanned root filesystem's distro here in some versions.
        if str_of(meta, "type") == Some("operating-system") {
            components.push(meta);
        }
    }
    walk(array(doc, "components"), &mut components);

    let mut by_ref: BTreeMap<String, usize> = BTreeMap::new();
    for c in components {
        let ty = str_of(c, "type").unwrap_or("library");
        let name = str_of(c, "name").unwrap_or("");
        let props: Vec<(&str, &str)> = array(c, "properties")
            .iter()
            .filter_map(|p| Some((p.get("name")?.as_str()?, p.get("value")?.as_str()?)))
            .collect();
        let prop = |key: &str| props.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        if ty == "operating-system" {
            if out.os.is_none() {
                out.os = Some(OsRelease {
                    id: prop("syft:distro:id").unwrap_or(name).to_ascii_lowercase(),
                    version_id: prop("syft:distro:versionID").or(str_of(c, "version")).map(str::to_owned),
                    version_codename: prop("bulwark:os:codename")
                        .or(prop("syft:distro:versionCodename"))
                        .map(str::to_owned),
                    pretty_name: str_of(c, "description").or(prop("syft:distro:prettyName")).map(str::to_owned),
                    source: prop("bulwark:os:source").map_or_else(|| "sbom".to_owned(), |s| s.to_owned()),
                    osv_ecosystem: prop("bulwark:os:osv_ecosystem").map(str::to_owned),
                    distroless: prop("bulwark:os:distroless") == Some("true"),
                });
            }
            continue;
        }
        if matches!(ty, "file" | "container" | "data") {
            continue;
        }
        let Some(purl) = str_of(c, "purl") else {
            out.warnings.push(Warning::source(format!("component {:?} ({ty}) has no purl; skipped", excerpt(name))));
            continue;
        };
        let declared = match (str_of(c, "group"), name) {
            (_, "") => None,
            (Some(g), n) if !n.contains([':', '/']) => {
                let sep = if purl.starts_with("pkg:maven/") { ':' } else { '/' };
                Some(format!("{g}{sep}{n}"))
            }
            (_, n) => Some(n.to_owned()),
        };
        let mut pkg = match package_from(purl, declared, str_of(c, "version")) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(e) => {
                out.warnings.push(Warning::source(format!("component {:?}: {e}; skipped", excerpt(name))));
                continue;
            }
        };
        let licenses: Vec<String> = array(c, "licenses")
            .iter()
            .filter_map(|l| {
                str_of(l, "expression")
                    .or_else(|| l.get("license").and_then(|o| str_of(o, "id").or_else(|| str_of(o, "name"))))
                    .map(str::to_owned)
            })
            .collect();
        if !licenses.is_empty() {
            pkg.license = Some(licenses.join(" AND "));
        }
        for (k, v) in &props {
            match *k {
                "bulwark:location" => push_unique(&mut pkg.locations, v),
                "bulwark:layer" => pkg.layer = v.parse().ok(),
                "bulwark:removed_in" => pkg.removed_in = v.parse().ok(),
                _ => {}
            }
        }
        if pkg.locations.is_empty() {
            let evidence = c.get("evidence").map(|e| array(e, "occurrences")).unwrap_or_default();
            for o in evidence {
                if let Some(l) = str_of(o, "location") {
                    push_unique(&mut pkg.locations, l);
                }
            }
        }
        if pkg.locations.is_empty() {
            // Syft: `syft:location:0:path`.
            for (k, v) in &props {
                if k.starts_with("syft:location:") && k.ends_with(":path") {
                    push_unique(&mut pkg.locations, v);
                }
            }
        }
        // Syft: `source` (dpkg), `originPackage` (apk), besides the purl's `upstream`.
        let source_name =
            prop("bulwark:source:name").or(prop("syft:metadata:source")).or(prop("syft:metadata:originPackage"));
        if let Some(n) = source_name.filter(|n| !n.is_empty()) {
            let version = prop("bulwark:source:version").or(prop("syft:metadata:sourceVersion"));
            pkg.source = Some(SourcePackage {
                name: n.to_owned(),
                version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            });
        }
        if let Some(r) = str_of(c, "bom-ref") {
            by_ref.insert(r.to_owned(), out.packages.len());
        }
        out.packages.push(pkg);
    }

    for d in array(doc, "dependencies") {
        let Some(&from) = str_of(d, "ref").and_then(|r| by_ref.get(r)) else { continue };
        let mut names = BTreeSet::new();
        for to in array(d, "dependsOn").iter().filter_map(Value::as_str) {
            if let Some(&i) = by_ref.get(to)
                && i != from
                && out.packages[i].ecosystem == out.packages[from].ecosystem
            {
                names.insert(out.packages[i].name.clone());
            }
        }
        let deps = &mut out.packages[from].dependencies;
        deps.extend(names);
        deps.sort();
        deps.dedup();
    }
    out
}

// ---------------------------------------------------------------------------------------
// SPDX

fn spdx(doc: &Value) -> Partial {
    let mut out = Partial { packages: Vec::new(), os: None, warnings: Vec::new() };
    let described: BTreeSet<&str> = array(doc, "relationships")
        .iter()
        .filter(|r| str_of(r, "relationshipType") == Some("DESCRIBES"))
        .filter_map(|r| str_of(r, "relatedSpdxElement"))
        .chain(array(doc, "documentDescribes").iter().filter_map(Value::as_str))
        .collect();
    let extracted: BTreeMap<&str, &str> = array(doc, "hasExtractedLicensingInfos")
        .iter()
        .filter_map(|e| Some((str_of(e, "licenseId")?, str_of(e, "name").or_else(|| str_of(e, "extractedText"))?)))
        .collect();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for p in array(doc, "packages") {
        let id = str_of(p, "SPDXID").unwrap_or("");
        let name = str_of(p, "name").unwrap_or("");
        let purpose = str_of(p, "primaryPackagePurpose").unwrap_or("");
        if matches!(purpose, "OPERATING_SYSTEM" | "OPERATING-SYSTEM") {
            if out.os.is_none() {
                out.os = Some(spdx_os(p, name));
            }
            continue;
        }
        let purl = array(p, "externalRefs").iter().find_map(|r| {
            let category = str_of(r, "referenceCategory")?;
            (matches!(category, "PACKAGE-MANAGER" | "PACKAGE_MANAGER") && str_of(r, "referenceType") == Some("purl"))
                .then(|| str_of(r, "referenceLocator"))
                .flatten()
        });
        let Some(purl) = purl else {
            if !described.contains(id) && !matches!(purpose, "CONTAINER" | "FILE" | "SOURCE" | "ARCHIVE") {
                out.warnings.push(Warning::source(format!(
                    "package {:?} ({}) has no purl; skipped",
                    excerpt(name),
                    excerpt(id)
                )));
            }
            continue;
        };
        let mut pkg =
            match package_from(purl, Some(name.to_owned()).filter(|n| !n.is_empty()), str_of(p, "versionInfo")) {
                Ok(Some(pkg)) => pkg,
                Ok(None) => continue,
                Err(e) => {
                    out.warnings.push(Warning::source(format!("package {:?}: {e}; skipped", excerpt(name))));
                    continue;
                }
            };
        let license = ["licenseDeclared", "licenseConcluded"]
            .iter()
            .filter_map(|k| str_of(p, k))
            .find(|l| !matches!(*l, "NOASSERTION" | "NONE"));
        pkg.license = license.map(|l| extracted.get(l).copied().unwrap_or(l).to_owned());
        // Bulwark writes `found in: /a, /b`; Syft `acquired package info from <what>: /a, /b`.
        if let Some((_, paths)) = str_of(p, "sourceInfo").and_then(|s| s.split_once(": ")) {
            for path in paths.split(", ").map(str::trim).filter(|s| s.starts_with('/')) {
                push_unique(&mut pkg.locations, path);
            }
        }
        if let Some(comment) = str_of(p, "comment") {
            for part in comment.split("; ") {
                let layer_no = |rest: &str| rest.split(' ').next().and_then(|n| n.parse().ok());
                if let Some(rest) = part.strip_prefix("introduced by layer ") {
                    pkg.layer = layer_no(rest);
                } else if let Some(rest) = part.strip_prefix("removed by layer ") {
                    pkg.removed_in = layer_no(rest);
                } else if let Some(rest) = part.strip_prefix("source package ") {
                    let (n, v) = match rest.split_once(' ') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => (rest, None),
                    };
                    pkg.source = Some(SourcePackage { name: n.to_owned(), version: v });
                }
            }
        }
        by_id.insert(id.to_owned(), out.packages.len());
        out.packages.push(pkg);
    }
    let mut deps: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for r in array(doc, "relationships") {
        let (Some(a), Some(b)) = (str_of(r, "spdxElementId"), str_of(r, "relatedSpdxElement")) else { continue };
        let (from, to) = match str_of(r, "relationshipType") {
            Some("DEPENDS_ON") => (a, b),
            Some("DEPENDENCY_OF") => (b, a),
            _ => continue,
        };
        if let (Some(&f), Some(&t)) = (by_id.get(from), by_id.get(to))
            && f != t
            && out.packages[f].ecosystem == out.packages[t].ecosystem
        {
            deps.entry(f).or_default().insert(t);
        }
    }
    for (f, ts) in deps {
        let mut names: Vec<String> = ts.into_iter().map(|t| out.packages[t].name.clone()).collect();
        names.sort();
        names.dedup();
        out.packages[f].dependencies = names;
    }
    out
}

/// The OS package of an SPDX document. SPDX has no field for the OSV ecosystem: the
/// caller derives it from id and version, as for any SBOM without Bulwark's property.
fn spdx_os(p: &Value, name: &str) -> OsRelease {
    // Bulwark writes `sourceInfo: "found in: /etc/os-release"`.
    let source = str_of(p, "sourceInfo")
        .and_then(|s| s.strip_prefix("found in: "))
        .filter(|s| s.starts_with('/'))
        .map_or_else(|| "sbom".to_owned(), str::to_owned);
    OsRelease {
        id: name.to_ascii_lowercase(),
        version_id: str_of(p, "versionInfo").map(str::to_owned),
        version_codename: None,
        pretty_name: str_of(p, "description").map(str::to_owned),
        source,
        osv_ecosystem: None,
        distroless: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_qualifier() {
        let src = |s: &str| source_from_upstream(&s.parse().unwrap()).map(|s| (s.name, s.version));
        assert_eq!(src("pkg:deb/debian/libc6@2.36-9?upstream=glibc"), Some(("glibc".into(), None)));
        assert_eq!(
            src("pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%403.0.11-1~deb12u2"),
            Some(("openssl".into(), Some("3.0.11-1~deb12u2".into())))
        );
        assert_eq!(
            src("pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?upstream=openssl-3.0.7-27.el9.src.rpm"),
            Some(("openssl".into(), Some("3.0.7-27.el9".into())))
        );
    }

    #[test]
    fn distro_from_purls() {
        let p = |purl: &str| Package {
            ecosystem: "apk".into(),
            name: "x".into(),
            version: "1".into(),
            purl: purl.into(),
            arch: None,
            source: None,
            license: None,
            locations: vec![],
            layer: None,
            removed_in: None,
            dependencies: vec![],
            identification: None,
        };
        let os = os_from_distro_qualifier(&[p("pkg:apk/alpine/x@1?distro=alpine-3.18.4")]).unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_deref()), ("alpine", Some("3.18.4")));
        let os = os_from_distro_qualifier(&[p("pkg:rpm/opensuse/x@1?distro=opensuse-leap-15.5")]).unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_deref()), ("opensuse-leap", Some("15.5")));
    }

    #[test]
    fn rejects_what_is_not_an_sbom() {
        assert!(matches!(parse(b"{not json"), Err(Error::NotJson(_))));
        assert!(matches!(parse(b"{}"), Err(Error::UnknownFormat(_))));
        assert!(matches!(parse(br#"{"spdxVersion":"SPDX-3.0"}"#), Err(Error::UnknownFormat(_))));
    }

    #[test]
    fn bad_components_are_warnings() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"type":"library","name":"nopurl","version":"1"},
            {"type":"library","name":"bad","purl":"pkg:/x"},
            {"type":"file","name":"/etc/passwd"},
            {"type":"library","name":"ok","purl":"pkg:npm/ok@1.0.0",
             "components":[{"type":"library","name":"nested","purl":"pkg:npm/nested@2"}]}
        ]}"#;
        let s = parse(doc).unwrap();
        let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["nested", "ok"]);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }

    #[test]
    fn capped_reading_counts_what_it_skips() {
        let comps: Vec<Value> = (0..10)
            .map(|i| serde_json::json!({"type": "library", "name": format!("p{i}"), "purl": format!("pkg:npm/p{i}@1")}))
            .collect();
        let doc = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps});
        let bytes = serde_json::to_vec(&doc).unwrap();
        let all = parse(&bytes).unwrap();
        assert_eq!(all.packages.len(), 10);
        assert!(all.warnings.is_empty());
        let few = parse_with(&bytes, 3).unwrap();
        assert_eq!(few.packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["p0", "p1", "p2"]);
        assert!(few.warnings.iter().any(|w| w.kind == bulwark_core::WarningKind::Limit
            && w.message.starts_with("limit reached: --max-packages=3: sbom")
            && w.message.contains("7 more")));
        // Trailing garbage is still an error, as with a plain parse.
        assert!(matches!(parse_with(b"{} x", 3), Err(Error::NotJson(_))));
    }
}
