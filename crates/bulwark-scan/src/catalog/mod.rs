//! Wires the pure catalogers of `bulwark-catalog` into layer streaming (as
//! [`FileAnalyzer`]s, so each package database is parsed once per layer that wrote it and
//! cached with the layer), and assembles the final inventory from the squashed view with
//! the layer that introduced, and the layer that removed, each package.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bulwark_catalog::Package as Found;
use bulwark_catalog::os::{OsInfo, ReleaseFiles};
use bulwark_core::report::{OsRelease, Package};
use bulwark_core::{Warning, WarningKind};
use bulwark_image::Image;
use bulwark_image::layer::{EntryKind, FileAnalyzer};
use serde::{Deserialize, Serialize};

mod apk;
mod binary;
mod cargo;
mod cataloger;
mod dotnet;
mod dpkg;
mod java;
mod node;
mod php;
mod python;
mod rpm;
mod ruby;

pub use cataloger::{CATALOGERS, Cataloger, Inventory, LangPackageAnalyzer, OsPackageAnalyzer};

/// The analyzer id under which OS package database results are stored.
pub const OS_PACKAGES: &str = "os-packages";

/// The analyzer id under which language package results are stored.
pub const LANG_PACKAGES: &str = "lang-packages";

/// What a cataloger stores for one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DbResult {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    packages: Vec<Found>,
    /// Owned files, for dpkg `info/*.list` and `*.md5sums`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owned: Option<Owned>,
    /// The cataloger's warnings as it returned them (see [`located`]). Only the structured
    /// form is read back: a stored warning that is a plain string (written before
    /// [`DB_RESULT_SHAPE`] 2, message and path glued together) does not decode, so such a
    /// result is a cache miss (see [`check_stored`]), never split into parts by guessing.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "bulwark_core::structured_warnings")]
    warnings: Vec<Warning>,
}

/// The version of the stored shape of a [`DbResult`], folded into both analyzers'
/// versions and so into the layer cache key: results stored in another shape are cache
/// misses. 2: warnings are [`Warning`] values (kind, path, message), not strings with the
/// file's path glued in front.
pub(crate) const DB_RESULT_SHAPE: u32 = 2;

/// The files one dpkg package owns.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Owned {
    package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arch: Option<String>,
    files: Vec<String>,
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
pub fn lang_packages(image: &Image, os_owned: &BTreeSet<String>) -> (Vec<Package>, Vec<Warning>) {
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
        // Read at the link's path: the cataloger was given that path, so its warnings name it.
        warnings.extend(result.warnings.iter().map(|w| located(&l.path, w)));
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

/// A cataloger's warning about the file it was found in (`path`, the path the result is
/// stored under, or the link path it was read at, without the leading `/`). Catalogers
/// name the file in the warning's `path` where they know it; a warning without one (an
/// md5sums line: the parser is not given the file's path) gets `/{path}`. Limit warnings
/// keep none: their message names the file, in the one shape readers recognise
/// (`limit reached: …`, see `bulwark_core::Warning::limit`).
fn located(path: &str, warning: &Warning) -> Warning {
    let mut w = warning.clone();
    if w.path.is_none() && w.kind != WarningKind::Limit {
        w.path = Some(format!("/{path}"));
    }
    w
}

/// Checks that every result the catalogers stored in a layer analysis decodes. The layer
/// cache calls it on every entry it reads: a cached result that no longer decodes (written
/// by a cataloger that stored another shape) is a cache miss with a warning, never packages
/// silently dropped by [`decode`].
pub fn check_stored(index: &bulwark_image::layer::LayerIndex) -> Result<(), String> {
    let current = index.analyses.iter().flat_map(|(id, by_path)| by_path.iter().map(move |(p, v)| (id.as_str(), p, v)));
    let replaced = index.replaced.iter().flat_map(|r| r.analyses.iter().map(move |(id, v)| (id.as_str(), &r.path, v)));
    let linked = index.linked.iter().flat_map(|l| l.analyses.iter().map(move |(id, v)| (id.as_str(), &l.path, v)));
    for (id, path, value) in current.chain(replaced).chain(linked) {
        if id == OS_PACKAGES || id == LANG_PACKAGES {
            DbResult::deserialize(value)
                .map_err(|e| format!("holds a {id} result for /{path} that does not decode ({e})"))?;
        }
    }
    Ok(())
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
pub fn os_packages(image: &Image, os: Option<&OsInfo>) -> (Vec<Package>, BTreeSet<String>, Vec<Warning>) {
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
    fn stored_warnings_are_read_in_their_structured_form_only() {
        let result = DbResult {
            warnings: vec![
                Warning::package("/var/lib/dpkg/status", "line 9: not a field: x"),
                Warning::limit("max-packages", 1, "/var/lib/dpkg/status: packages", 2),
            ],
            ..DbResult::default()
        };
        let stored = serde_json::to_value(&result).unwrap();
        assert_eq!(decode(&stored).unwrap().warnings, result.warnings);
        // A result stored before warnings had parts holds strings with the path glued in:
        // it does not decode (a cache miss), rather than be split into parts by guessing.
        let old = serde_json::json!({"warnings": ["/var/lib/dpkg/status: line 9: not a field: x"]});
        assert!(decode(&old).is_none());
    }

    #[test]
    fn located_names_the_file_once() {
        let from_parser = Warning::package("/var/lib/dpkg/status", "line 9: not a field: x");
        assert_eq!(located("var/lib/dpkg/status", &from_parser), from_parser);
        let md5sums = Warning::new(WarningKind::Package, "line 1: not an md5sums line: zzz");
        assert_eq!(
            located("var/lib/dpkg/info/a.md5sums", &md5sums).to_string(),
            "/var/lib/dpkg/info/a.md5sums: line 1: not an md5sums line: zzz"
        );
        let limit = Warning::limit("max-packages", 1, "/var/lib/dpkg/status: packages", 2);
        assert_eq!(located("var/lib/dpkg/status", &limit), limit);
    }
}
