//! Wires the pure catalogers of `bulwark-catalog` into layer streaming (as
//! [`FileAnalyzer`]s, so each package database is parsed once per layer that wrote it and
//! cached with the layer), and assembles the final inventory from the squashed view with
//! the layer that introduced, and the layer that removed, each package.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use bulwark_catalog::os::{OsInfo, ReleaseFiles};
use bulwark_catalog::{Package as Found, dpkg};
use bulwark_core::report::{OsRelease, Package, SourcePackage};
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

/// Parses dpkg, apk and rpm databases as layers stream past.
#[derive(Debug)]
pub struct OsPackageAnalyzer;

impl FileAnalyzer for OsPackageAnalyzer {
    fn id(&self) -> &'static str {
        OS_PACKAGES
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, path: &str, size: u64, _mode: u32) -> bool {
        size <= MAX_DB_BYTES && db_kind(path).is_some()
    }

    fn analyze(&self, path: &str, content: &mut dyn Read, size: u64) -> Result<Option<serde_json::Value>, String> {
        let Some(kind) = db_kind(path) else { return Ok(None) };
        let mut bytes = Vec::with_capacity(size.min(MAX_DB_BYTES) as usize);
        content.take(MAX_DB_BYTES).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let abs = format!("/{path}");
        let result = match kind {
            DbKind::DpkgStatus => {
                let (packages, warnings) = dpkg::parse_status(&bytes, &abs);
                DbResult { packages, owned: None, warnings }
            }
            DbKind::DpkgInfo => {
                let name = path.rsplit('/').next().unwrap_or_default();
                let Some((package, arch, info)) = dpkg::info_file_owner(name) else { return Ok(None) };
                let (files, warnings) = match info {
                    dpkg::InfoKind::List => (dpkg::parse_file_list(&bytes), Vec::new()),
                    dpkg::InfoKind::Md5sums => dpkg::parse_md5sums(&bytes),
                };
                let owned = Owned { package: package.to_owned(), arch: arch.map(str::to_owned), files };
                DbResult { packages: Vec::new(), owned: Some(owned), warnings }
            }
            DbKind::Apk => {
                let (packages, warnings) = bulwark_catalog::apk::parse_installed(&bytes, &abs);
                DbResult { packages, owned: None, warnings }
            }
            DbKind::Rpm => match bulwark_catalog::rpm::parse_rpmdb(&bytes, &abs) {
                Ok((packages, warnings)) => DbResult { packages, owned: None, warnings },
                Err(e) => return Err(e.to_string()),
            },
        };
        serde_json::to_value(result).map(Some).map_err(|e| e.to_string())
    }
}

/// The analyzers a scan runs on every layer.
pub fn analyzers() -> Vec<Arc<dyn FileAnalyzer>> {
    vec![Arc::new(OsPackageAnalyzer)]
}

/// Detects the OS from the release files in the final view.
pub fn detect_os(image: &Image) -> Option<OsInfo> {
    let read = |p: &str| image.view.read_captured(&image.layers, p);
    let has_status_d = image.view.iter().any(|(p, n)| {
        p.starts_with("var/lib/dpkg/status.d/") && matches!(n.entry.kind, EntryKind::File | EntryKind::Hardlink { .. })
    });
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

fn decode(v: &serde_json::Value) -> Option<DbResult> {
    serde_json::from_value(v.clone()).ok()
}

type Key = (String, String, Option<String>);

fn key(p: &Found) -> Key {
    (p.name.clone(), p.version.clone(), p.arch.clone())
}

/// Assembles OS packages: the final databases give what is installed; the per-layer
/// versions of each database give the layer that introduced each package (the first
/// layer whose copy of the database lists it at that version) and the layer that removed
/// packages no longer installed.
pub fn os_packages(image: &Image, os: Option<&OsInfo>) -> (Vec<Package>, Vec<String>) {
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
    // Owned files from the final view's dpkg info files.
    let mut owned: Vec<Owned> = Vec::new();
    for (path, _) in image.view.iter() {
        if path.starts_with("var/lib/dpkg/")
            && let Some(r) = image.view.analysis(&image.layers, OS_PACKAGES, path).and_then(decode)
            && let Some(o) = r.owned
        {
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
                warnings.extend(db.warnings.iter().map(|w| format!("/{path}: {w}")));
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
            out.push(to_report(&p, distro.as_ref(), layer, None));
        }
        for (k, (layer, p)) in removed {
            if final_db.as_ref().is_some_and(|db| db.packages.iter().any(|f| key(f) == k)) {
                continue;
            }
            out.push(to_report(&p, distro.as_ref(), introduced.get(&k).copied(), Some(layer)));
        }
    }
    (out, warnings)
}

fn to_report(
    p: &Found,
    distro: Option<&bulwark_catalog::os::Distro>,
    layer: Option<usize>,
    removed_in: Option<usize>,
) -> Package {
    Package {
        ecosystem: p.kind.purl_type().to_owned(),
        name: p.name.clone(),
        version: p.version.clone(),
        purl: p.purl(distro).to_string(),
        arch: p.arch.clone(),
        source: p
            .source_name
            .as_ref()
            .map(|name| SourcePackage { name: name.clone(), version: p.source_version.clone() }),
        license: p.license.clone(),
        locations: vec![p.db_path.clone()],
        layer,
        removed_in,
        dependencies: p.dependencies.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect(),
    }
}
