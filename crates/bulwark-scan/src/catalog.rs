//! Wires the pure catalogers of `bulwark-catalog` into layer streaming (as
//! [`FileAnalyzer`]s, so each package database is parsed once per layer that wrote it and
//! cached with the layer), and assembles the final inventory from the squashed view with
//! the layer that introduced, and the layer that removed, each package.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use bulwark_catalog::os::{OsInfo, ReleaseFiles};
use bulwark_catalog::{Package as Found, dpkg};
use bulwark_core::report::{OsRelease, Package};
use bulwark_image::Image;
use bulwark_image::layer::{EntryKind, FileAnalyzer};
use serde::{Deserialize, Serialize};

/// The analyzer id under which OS package database results are stored.
pub const OS_PACKAGES: &str = "os-packages";

/// Largest package database parsed (rpm Berkeley DBs of big images reach tens of MB).
const MAX_DB_BYTES: u64 = 256 << 20;

const RPM_DBS: &[&str] = &[
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// What the OS package analyzer stores for one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DbResult {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    packages: Vec<Found>,
    /// Owned files, for dpkg `info/*.list` and `*.md5sums`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owned: Option<Owned>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Owned {
    package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arch: Option<String>,
    files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbKind {
    DpkgStatus,
    DpkgInfo,
    Apk,
    Rpm,
}

fn db_kind(path: &str) -> Option<DbKind> {
    let (dir, name) = path.rsplit_once('/')?;
    match dir {
        "var/lib/dpkg" if name == "status" => Some(DbKind::DpkgStatus),
        "var/lib/dpkg/status.d" if name.ends_with(".md5sums") => Some(DbKind::DpkgInfo),
        "var/lib/dpkg/status.d" => Some(DbKind::DpkgStatus),
        "var/lib/dpkg/info" if name.ends_with(".list") || name.ends_with(".md5sums") => Some(DbKind::DpkgInfo),
        "lib/apk/db" if name == "installed" => Some(DbKind::Apk),
        _ if RPM_DBS.contains(&path) => Some(DbKind::Rpm),
        _ => None,
    }
}

/// Parses dpkg, apk and rpm databases as layers stream past, within the package limits.
#[derive(Debug, Default)]
pub struct OsPackageAnalyzer {
    pub limits: bulwark_catalog::Limits,
}

/// An analyzer's version with its limits folded in: results differ with the limits, and
/// the version is part of the layer cache key.
fn version_with(base: u32, limits: &bulwark_catalog::Limits) -> u32 {
    // FNV-1a: stable across builds and platforms, unlike `std`'s hasher.
    let mut h: u32 = 0x811c_9dc5;
    for b in serde_json::to_vec(limits).unwrap_or_default() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    base ^ (h & 0xffff_ff00)
}

impl FileAnalyzer for OsPackageAnalyzer {
    fn id(&self) -> &'static str {
        OS_PACKAGES
    }

    fn version(&self) -> u32 {
        version_with(2, &self.limits)
    }

    fn wants(&self, path: &str, size: u64, _mode: u32) -> bool {
        size <= MAX_DB_BYTES && db_kind(path).is_some()
    }

    fn follows_links(&self) -> bool {
        true
    }

    fn analyze(&self, path: &str, content: &mut dyn Read, size: u64) -> Result<Option<serde_json::Value>, String> {
        let Some(kind) = db_kind(path) else { return Ok(None) };
        let mut bytes = Vec::with_capacity(size.min(MAX_DB_BYTES) as usize);
        content.take(MAX_DB_BYTES).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let abs = format!("/{path}");
        let result = match kind {
            DbKind::DpkgStatus => {
                let (packages, warnings) = dpkg::parse_status_with(&bytes, &abs, &self.limits);
                DbResult { packages, owned: None, warnings }
            }
            DbKind::DpkgInfo => {
                let name = path.rsplit('/').next().unwrap_or_default();
                let Some((package, arch, info)) = dpkg::info_file_owner(name) else { return Ok(None) };
                let max = self.limits.max_files;
                let (files, mut warnings, dropped) = match info {
                    dpkg::InfoKind::List => {
                        let (files, dropped) = dpkg::parse_file_list_with(&bytes, max);
                        (files, Vec::new(), dropped)
                    }
                    dpkg::InfoKind::Md5sums => dpkg::parse_md5sums_with(&bytes, max),
                };
                if dropped > 0 {
                    warnings.push(bulwark_catalog::file_limit(max, package, &abs, dropped));
                }
                let owned = Owned { package: package.to_owned(), arch: arch.map(str::to_owned), files };
                DbResult { packages: Vec::new(), owned: Some(owned), warnings }
            }
            DbKind::Apk => {
                let (packages, warnings) = bulwark_catalog::apk::parse_installed_with(&bytes, &abs, &self.limits);
                DbResult { packages, owned: None, warnings }
            }
            DbKind::Rpm => match bulwark_catalog::rpm::parse_rpmdb_with(&bytes, &abs, &self.limits) {
                Ok((packages, warnings)) => DbResult { packages, owned: None, warnings },
                Err(e) => return Err(e.to_string()),
            },
        };
        serde_json::to_value(result).map(Some).map_err(|e| e.to_string())
    }
}

/// The analyzer id under which language package results are stored.
pub const LANG_PACKAGES: &str = "lang-packages";

/// Largest manifest, lockfile, archive or binary read into memory for cataloguing.
const MAX_LANG_BYTES: u64 = 64 << 20;

/// Which language cataloger reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LangFile {
    PythonMetadata,
    NodePackageJson,
    NpmLock,
    YarnLock,
    PnpmLock,
    Gemspec,
    GemfileLock,
    ComposerInstalled,
    ComposerLock,
    DepsJson,
    CargoLock,
    JavaArchive,
    /// An executable: Go build info or cargo-auditable data, if it has either.
    Binary,
}

fn lang_file(path: &str, mode: u32) -> Option<LangFile> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let in_node_modules = path.contains("node_modules/");
    Some(match name {
        "METADATA" if dir.ends_with(".dist-info") => LangFile::PythonMetadata,
        "PKG-INFO" if dir.ends_with(".egg-info") => LangFile::PythonMetadata,
        n if n.ends_with(".egg-info") => LangFile::PythonMetadata,
        "package.json" if in_node_modules => LangFile::NodePackageJson,
        "package-lock.json" | "npm-shrinkwrap.json" if !in_node_modules => LangFile::NpmLock,
        "yarn.lock" if !in_node_modules => LangFile::YarnLock,
        "pnpm-lock.yaml" if !in_node_modules => LangFile::PnpmLock,
        n if n.ends_with(".gemspec") && dir.ends_with("specifications") => LangFile::Gemspec,
        "Gemfile.lock" => LangFile::GemfileLock,
        "installed.json" if dir.ends_with("vendor/composer") => LangFile::ComposerInstalled,
        "composer.lock" => LangFile::ComposerLock,
        n if n.ends_with(".deps.json") => LangFile::DepsJson,
        "Cargo.lock" => LangFile::CargoLock,
        n if bulwark_catalog::lang::java::is_archive_name(n) => LangFile::JavaArchive,
        _ if mode & 0o111 != 0 => LangFile::Binary,
        _ => return None,
    })
}

/// Whether the first bytes are an ELF, PE or Mach-O header.
fn is_binary_header(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe]]
            .iter()
            .any(|m| head.starts_with(m))
}

/// Reads language manifests, lockfiles, Java archives and binaries as layers stream past,
/// within the package limits.
#[derive(Debug, Default)]
pub struct LangPackageAnalyzer {
    pub limits: bulwark_catalog::Limits,
}

impl FileAnalyzer for LangPackageAnalyzer {
    fn id(&self) -> &'static str {
        LANG_PACKAGES
    }

    /// 3: Java packages carry their identification evidence (issue 15).
    fn version(&self) -> u32 {
        version_with(3, &self.limits)
    }

    fn wants(&self, path: &str, size: u64, mode: u32) -> bool {
        size > 0 && lang_file(path, mode).is_some()
    }

    fn follows_links(&self) -> bool {
        true
    }

    fn analyze(&self, path: &str, content: &mut dyn Read, size: u64) -> Result<Option<serde_json::Value>, String> {
        use bulwark_catalog::lang::{dotnet, golang, java, node, php, python, ruby, rust};
        // Modes are not passed to `analyze`; anything `wants` accepted and that does not
        // match a manifest name is an executable.
        let kind = lang_file(path, 0o755).ok_or("not a language package file")?;
        let mut bytes = Vec::with_capacity(size.min(MAX_LANG_BYTES) as usize);
        if kind == LangFile::Binary {
            let mut head = [0u8; 4];
            let n = content.read(&mut head).map_err(|e| e.to_string())?;
            if !is_binary_header(&head[..n]) {
                return Ok(None);
            }
            bytes.extend_from_slice(&head[..n]);
        }
        // Never read a huge archive or binary whole; say so rather than skip it silently.
        if size > MAX_LANG_BYTES {
            return Err(format!("{size} bytes, over the {MAX_LANG_BYTES}-byte cataloguing limit; not catalogued"));
        }
        content.take(MAX_LANG_BYTES).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let abs = format!("/{path}");
        let parsed = match kind {
            LangFile::PythonMetadata => python::parse_metadata(&bytes, &abs),
            LangFile::NodePackageJson => node::parse_package_json(&bytes, &abs),
            LangFile::NpmLock => node::parse_package_lock(&bytes, &abs, false),
            LangFile::YarnLock => node::parse_yarn_lock(&bytes, &abs),
            LangFile::PnpmLock => node::parse_pnpm_lock(&bytes, &abs, false),
            LangFile::Gemspec => ruby::parse_gemspec(&bytes, &abs),
            LangFile::GemfileLock => ruby::parse_gemfile_lock(&bytes, &abs),
            LangFile::ComposerInstalled => php::parse_installed_json(&bytes, &abs),
            LangFile::ComposerLock => php::parse_composer_lock(&bytes, &abs, false),
            LangFile::DepsJson => dotnet::parse_deps_json(&bytes, &abs),
            LangFile::CargoLock => rust::parse_cargo_lock(&bytes, &abs),
            LangFile::JavaArchive => java::parse_archive(&bytes, &abs, &java::Limits::default()),
            LangFile::Binary => {
                let (mut packages, mut warnings) = golang::parse_binary(&bytes, &abs);
                let (p, w) = rust::parse_auditable(&bytes, &abs);
                packages.extend(p);
                warnings.extend(w);
                (packages, warnings)
            }
        };
        let (packages, warnings) = self.limits.cap(parsed, &abs);
        if packages.is_empty() && warnings.is_empty() {
            return Ok(None);
        }
        let result = DbResult { packages, owned: None, warnings };
        serde_json::to_value(result).map(Some).map_err(|e| e.to_string())
    }
}

/// The analyzers a scan runs on every layer, within the image limits' package limits.
pub fn analyzers(limits: &bulwark_image::Limits) -> Vec<Arc<dyn FileAnalyzer>> {
    let limits = catalog_limits(limits);
    vec![Arc::new(OsPackageAnalyzer { limits }), Arc::new(LangPackageAnalyzer { limits })]
}

/// The cataloguers' share of the image limits.
pub fn catalog_limits(limits: &bulwark_image::Limits) -> bulwark_catalog::Limits {
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    bulwark_catalog::Limits { max_packages: size(limits.max_packages), max_files: size(limits.max_package_files) }
}

/// Language packages from the final view, each with the layer that introduced it (the
/// first layer holding the same file with the same package at the same version) and, for
/// files a later layer deleted, the layer that removed it. Packages in files an OS
/// package owns are left out: they belong to that OS package (Debian's python3-six is a
/// deb, not a PyPI package), and lockfile packages are left out where the installed tree
/// they describe is present (the installed versions win).
pub fn lang_packages(image: &Image, os_owned: &BTreeSet<String>) -> (Vec<Package>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let layer_result = |layer: usize, path: &str| {
        image.layers.get(layer).and_then(|l| l.analyses.get(LANG_PACKAGES)).and_then(|r| r.get(path)).and_then(decode)
    };
    let superseded = |path: &str| {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let installed = match name {
            "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => "node_modules",
            "composer.lock" => "vendor/composer/installed.json",
            _ => return false,
        };
        let probe = if dir.is_empty() { installed.to_owned() } else { format!("{dir}/{installed}") };
        image.view.get(&probe).is_some() || image.view.has_children(&probe)
    };
    // The packages of `path` as the layer `last` wrote it, each with the first of the
    // earlier layers `held` (oldest first) whose copy lists it at that version. Each
    // layer's result is decoded once, not once per package.
    let attributed = |path: &str, held: &[usize], last: usize| -> Option<(DbResult, Vec<usize>)> {
        let result = layer_result(last, path)?;
        let earlier: Vec<(usize, BTreeSet<Key>)> = held
            .iter()
            .filter(|&&l| l != last)
            .filter_map(|&l| layer_result(l, path).map(|r| (l, r.packages.iter().map(key).collect())))
            .collect();
        let firsts = result
            .packages
            .iter()
            .map(|p| {
                let k = key(p);
                earlier.iter().find(|(_, keys)| keys.contains(&k)).map_or(last, |(l, _)| *l)
            })
            .collect();
        Some((result, firsts))
    };
    for (path, node) in image.view.iter() {
        if os_owned.contains(&format!("/{path}")) || superseded(path) {
            continue;
        }
        let Some((result, firsts)) = attributed(path, &node.replaced, node.layer) else { continue };
        warnings.extend(result.warnings.iter().map(|w| located(path, w)));
        for (p, first) in result.packages.iter().zip(firsts) {
            out.push(p.to_report(None, Some(first), None));
        }
    }
    // Manifests a container reaches through links to a body at a path no cataloger
    // reads: read again under the link's path (see `bulwark_image::Image::linked`), and
    // introduced by the first layer in which the path reaches that body.
    for l in image.linked.iter().filter(|l| l.analyzers.iter().any(|a| a == LANG_PACKAGES)) {
        if os_owned.contains(&format!("/{}", l.path)) || superseded(&l.path) {
            continue;
        }
        let Some(result) = image.view.analysis(&image.layers, LANG_PACKAGES, &l.path).and_then(decode) else {
            continue;
        };
        warnings.extend(result.warnings.iter().map(|w| format!("/{}: {w}", l.path)));
        for p in &result.packages {
            out.push(p.to_report(None, Some(l.layer), None));
        }
    }
    for (path, gone) in image.view.removed() {
        let Some(&last) = gone.held_in.last() else { continue };
        let Some((result, firsts)) = attributed(path, &gone.held_in, last) else { continue };
        for (p, first) in result.packages.iter().zip(firsts) {
            out.push(p.to_report(None, Some(first), Some(gone.removed_in)));
        }
    }
    (out, warnings)
}

/// Detects the OS from the release files in the final view.
pub fn detect_os(image: &Image) -> Option<OsInfo> {
    let read = |p: &str| image.view.read_captured(&image.layers, p);
    let has_status_d = image.view.iter().any(|(p, n)| {
        p.starts_with("var/lib/dpkg/status.d/") && matches!(n.entry.kind, EntryKind::File | EntryKind::Hardlink { .. })
    }) || image.linked.iter().any(|l| l.path.starts_with("var/lib/dpkg/status.d/"));
    bulwark_catalog::os::detect(&ReleaseFiles {
        etc_os_release: read("etc/os-release"),
        usr_lib_os_release: read("usr/lib/os-release"),
        alpine_release: read("etc/alpine-release"),
        debian_version: read("etc/debian_version"),
        redhat_release: read("etc/redhat-release"),
        system_release: read("etc/system-release"),
        has_dpkg_status_d: has_status_d,
    })
}

/// The report's view of the detected OS.
pub fn os_release(os: &OsInfo) -> OsRelease {
    OsRelease {
        id: os.id.clone(),
        version_id: os.version_id.clone(),
        version_codename: os.codename.clone(),
        pretty_name: os.pretty_name.clone(),
        source: os.source.to_owned(),
        osv_ecosystem: os.osv_ecosystem.clone(),
        distroless: os.distroless,
    }
}

/// A cataloguer's warning with the file it is about. Limit warnings already name it and
/// keep their recognisable start (`bulwark_core::report::LIMIT_WARNING_PREFIX`).
fn located(path: &str, warning: &str) -> String {
    if warning.starts_with(bulwark_core::report::LIMIT_WARNING_PREFIX) {
        warning.to_owned()
    } else {
        format!("/{path}: {warning}")
    }
}

fn decode(v: &serde_json::Value) -> Option<DbResult> {
    // From the borrowed value: a database's result is not copied to be read.
    DbResult::deserialize(v).ok()
}

type Key = (String, String, Option<String>);

fn key(p: &Found) -> Key {
    (p.name.clone(), p.version.clone(), p.arch.clone())
}

/// Assembles OS packages: the final databases give what is installed; the per-layer
/// versions of each database give the layer that introduced each package (the first
/// layer whose copy of the database lists it at that version) and the layer that removed
/// packages no longer installed.
pub fn os_packages(image: &Image, os: Option<&OsInfo>) -> (Vec<Package>, BTreeSet<String>, Vec<String>) {
    let mut owned_files = BTreeSet::new();
    let distro = os.map(OsInfo::distro);
    let mut warnings = Vec::new();
    // Every database path any layer wrote, with its per-layer versions in layer order.
    let mut history: BTreeMap<&str, Vec<(usize, DbResult)>> = BTreeMap::new();
    for (i, layer) in image.layers.iter().enumerate() {
        let Some(results) = layer.analyses.get(OS_PACKAGES) else { continue };
        for (path, v) in results {
            if let Some(r) = decode(v)
                && r.owned.is_none()
            {
                history.entry(path.as_str()).or_default().push((i, r));
            }
        }
    }
    // Databases a container reaches through links to a body at a path no cataloger reads
    // (see `bulwark_image::Image::linked`): a version of the database from the first layer
    // in which the path reaches that body.
    for l in image.linked.iter().filter(|l| l.analyzers.iter().any(|a| a == OS_PACKAGES)) {
        if let Some(r) = image.view.analysis(&image.layers, OS_PACKAGES, &l.path).and_then(decode)
            && r.owned.is_none()
        {
            let versions = history.entry(l.path.as_str()).or_default();
            versions.push((l.layer, r));
            versions.sort_by_key(|(layer, _)| *layer);
        }
    }
    // Owned files from the final view's dpkg info files, including those reached by links.
    let mut owned: Vec<Owned> = Vec::new();
    let linked_info = image.linked.iter().map(|l| l.path.as_str()).filter(|p| !history.contains_key(p));
    for path in image.view.iter().map(|(p, _)| p).chain(linked_info) {
        if path.starts_with("var/lib/dpkg/")
            && let Some(r) = image.view.analysis(&image.layers, OS_PACKAGES, path).and_then(decode)
            && let Some(o) = r.owned
        {
            // Info files' warnings (malformed md5sums lines, files over the limit) are
            // reported with the file, like the databases' own.
            warnings.extend(r.warnings.iter().map(|w| located(path, w)));
            owned.push(o);
        }
    }

    let mut out = Vec::new();
    for (path, versions) in history {
        let final_db = image.view.analysis(&image.layers, OS_PACKAGES, path).and_then(decode);
        let mut introduced: BTreeMap<Key, usize> = BTreeMap::new();
        let mut removed: BTreeMap<Key, (usize, Found)> = BTreeMap::new();
        let mut previous: BTreeMap<Key, Found> = BTreeMap::new();
        for (layer, db) in &versions {
            let current: BTreeMap<Key, Found> = db.packages.iter().map(|p| (key(p), p.clone())).collect();
            for k in current.keys() {
                introduced.entry(k.clone()).or_insert(*layer);
                removed.remove(k);
            }
            for (k, p) in &previous {
                if !current.contains_key(k) {
                    removed.insert(k.clone(), (*layer, p.clone()));
                }
            }
            previous = current;
        }
        let final_packages = match &final_db {
            Some(db) => {
                warnings.extend(db.warnings.iter().map(|w| located(path, w)));
                db.packages.clone()
            }
            None => {
                // The database itself was deleted by a later layer: everything it listed is gone.
                let last = versions.last().map(|(_, db)| db.packages.clone()).unwrap_or_default();
                let gone_in = image.view.removed().find(|(p, _)| *p == path).map(|(_, r)| r.removed_in);
                for p in last {
                    removed.insert(key(&p), (gone_in.unwrap_or(image.layers.len()), p));
                }
                Vec::new()
            }
        };
        for mut p in final_packages {
            for o in owned.iter().filter(|o| o.package == p.name && (o.arch.is_none() || o.arch == p.arch)) {
                p.files.extend(o.files.iter().cloned());
            }
            let layer = introduced.get(&key(&p)).copied();
            owned_files.extend(p.files.iter().cloned());
            out.push(p.to_report(distro.as_ref(), layer, None));
        }
        for (k, (layer, p)) in removed {
            if final_db.as_ref().is_some_and(|db| db.packages.iter().any(|f| key(f) == k)) {
                continue;
            }
            out.push(p.to_report(distro.as_ref(), introduced.get(&k).copied(), Some(layer)));
        }
    }
    (out, owned_files, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_archives_are_reported_not_read() {
        let a = LangPackageAnalyzer::default();
        let size = MAX_LANG_BYTES + 1;
        assert!(a.wants("opt/app/huge.jar", size, 0o644));
        let mut never_read = std::io::repeat(0).take(size);
        let err = a.analyze("opt/app/huge.jar", &mut never_read, size).unwrap_err();
        assert!(err.contains("not catalogued"), "{err}");
        assert_eq!(never_read.limit(), size, "nothing was read");
        // Scripts marked executable are not binaries: nothing stored, no warning.
        assert_eq!(a.analyze("usr/bin/script", &mut &b"#!/bin/sh\n"[..], 10), Ok(None));
    }
}
