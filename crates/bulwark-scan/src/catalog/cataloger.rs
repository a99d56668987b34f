//! The [`Cataloger`] trait, the registry of every cataloger, and the two
//! [`FileAnalyzer`]s that run them while layers stream: one for OS package databases, one
//! for language manifests, lockfiles, archives and binaries.
//!
//! Adding a cataloger is one module (its path table and its parser call) and one line in
//! [`CATALOGERS`]; the analyzers' versions, and so the layer-cache key, follow from the
//! registry, so cached layers are read again when a cataloger is added or changed.

use std::io::Read;

use bulwark_image::layer::{AnalyzeCause, AnalyzeError, FileAnalyzer};

use super::{DbResult, LANG_PACKAGES, OS_PACKAGES};

/// Which inventory a cataloger feeds (and under which analyzer id its results are stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inventory {
    /// OS package databases (dpkg, apk, rpm), stored under [`OS_PACKAGES`].
    Os,
    /// Language packages, stored under [`LANG_PACKAGES`].
    Lang,
}

/// Finds packages in one kind of file: a path table and a parser over the file's bytes.
pub trait Cataloger: Send + Sync + std::fmt::Debug {
    /// A stable name, unique in the registry.
    fn name(&self) -> &'static str;
    /// Bumped whenever it finds something else in the same bytes; part of the layer cache
    /// key through the registry.
    fn version(&self) -> u32;
    fn inventory(&self) -> Inventory;
    /// Its path table: whether it reads the file at `path` (normalised, no leading `/`)
    /// with permission bits `mode`.
    fn wants(&self, path: &str, mode: u32) -> bool;
    /// Whether the first bytes (up to 4) are what it reads; catalogers that read files by
    /// name alone keep the default.
    fn accepts_head(&self, _head: &[u8]) -> bool {
        true
    }
    /// Parses the file at `path` (`abs` is the same with a leading `/`). `Ok(None)` stores
    /// nothing; `Err` becomes a warning about the file (the analyzer adds which analyzer
    /// and path).
    fn catalog(
        &self,
        path: &str,
        abs: &str,
        bytes: &[u8],
        limits: &bulwark_catalog::Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause>;
}

/// Every cataloger, in the order a file is offered to them: the first that wants a path
/// reads it (the executable catch-all comes last).
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &super::dpkg::Status,
    &super::dpkg::Info,
    &super::apk::Installed,
    &super::rpm::Database,
    &super::python::Metadata,
    &super::node::Packages,
    &super::ruby::Gems,
    &super::php::Composer,
    &super::dotnet::DepsJson,
    &super::cargo::CargoLock,
    &super::java::Archives,
    &super::binary::Executables,
];

/// A language cataloger's parse as a result to store (the analyzer applies the limits).
pub(super) fn parsed((packages, warnings): bulwark_catalog::Parsed) -> Result<Option<DbResult>, AnalyzeCause> {
    Ok(Some(DbResult { packages, owned: None, warnings }))
}

/// The first cataloger of `inventory` that reads `path`.
fn cataloger_for(inventory: Inventory, path: &str, mode: u32) -> Option<&'static dyn Cataloger> {
    CATALOGERS.iter().copied().find(|c| c.inventory() == inventory && c.wants(path, mode))
}

/// An analyzer's version: the stored shape of a result ([`super::DB_RESULT_SHAPE`]), the
/// registry's catalogers of `inventory` (name and version) and the limits, folded with
/// FNV-1a (stable across builds and platforms, unlike `std`'s hasher). Results differ with
/// any of them, and the version is part of the layer cache key.
fn version_of(inventory: Inventory, limits: &bulwark_catalog::Limits) -> u32 {
    version_with(inventory, limits, super::DB_RESULT_SHAPE)
}

fn version_with(inventory: Inventory, limits: &bulwark_catalog::Limits, shape: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut fold = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    };
    // Shape 1 (string warnings) folded nothing: it predates the shape's version.
    if shape > 1 {
        fold(&shape.to_le_bytes());
    }
    for c in CATALOGERS.iter().filter(|c| c.inventory() == inventory) {
        fold(c.name().as_bytes());
        fold(&c.version().to_le_bytes());
    }
    fold(&serde_json::to_vec(limits).unwrap_or_default());
    h
}

/// Largest package database parsed (rpm Berkeley DBs of big images reach tens of MB).
const MAX_DB_BYTES: u64 = 256 << 20;

/// Largest manifest, lockfile, archive or binary read into memory for cataloguing.
pub(super) const MAX_LANG_BYTES: u64 = 64 << 20;

/// Parses dpkg, apk and rpm databases as layers stream past, within the package limits.
#[derive(Debug, Default)]
pub struct OsPackageAnalyzer {
    pub limits: bulwark_catalog::Limits,
}

impl FileAnalyzer for OsPackageAnalyzer {
    fn id(&self) -> &'static str {
        OS_PACKAGES
    }

    fn scanner(&self) -> &'static str {
        // Packages not catalogued are vulnerabilities not checked.
        "vuln"
    }

    fn version(&self) -> u32 {
        version_of(Inventory::Os, &self.limits)
    }

    fn wants(&self, path: &str, size: u64, mode: u32) -> bool {
        size <= MAX_DB_BYTES && cataloger_for(Inventory::Os, path, mode).is_some()
    }

    fn follows_links(&self) -> bool {
        true
    }

    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        size: u64,
    ) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let Some(cataloger) = cataloger_for(Inventory::Os, path, 0o644) else { return Ok(None) };
        let at = |cause: AnalyzeCause| cause.at(OS_PACKAGES, path);
        let mut bytes = Vec::with_capacity(size.min(MAX_DB_BYTES) as usize);
        content.take(MAX_DB_BYTES).read_to_end(&mut bytes).map_err(|e| at(AnalyzeCause::io(&e)))?;
        let Some(result) = cataloger.catalog(path, &format!("/{path}"), &bytes, &self.limits).map_err(at)? else {
            return Ok(None);
        };
        serde_json::to_value(result).map(Some).map_err(|e| at(AnalyzeCause::encode(&e)))
    }
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

    fn scanner(&self) -> &'static str {
        "vuln"
    }

    fn version(&self) -> u32 {
        version_of(Inventory::Lang, &self.limits)
    }

    fn wants(&self, path: &str, size: u64, mode: u32) -> bool {
        size > 0 && cataloger_for(Inventory::Lang, path, mode).is_some()
    }

    fn follows_links(&self) -> bool {
        true
    }

    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        size: u64,
    ) -> Result<Option<serde_json::Value>, AnalyzeError> {
        // Modes are not passed to `analyze`; anything `wants` accepted and that no
        // cataloger reads by name is an executable.
        let at = |cause: AnalyzeCause| cause.at(LANG_PACKAGES, path);
        let cataloger = cataloger_for(Inventory::Lang, path, 0o755)
            .ok_or_else(|| at(AnalyzeCause::parse("not a language package file")))?;
        let mut head = [0u8; 4];
        let n = content.read(&mut head).map_err(|e| at(AnalyzeCause::io(&e)))?;
        if !cataloger.accepts_head(&head[..n]) {
            return Ok(None);
        }
        // Never read a huge archive or binary whole; say so rather than skip it silently.
        if size > MAX_LANG_BYTES {
            return Err(at(AnalyzeCause::TooLarge { size, limit: MAX_LANG_BYTES }));
        }
        let mut bytes = Vec::with_capacity(size.min(MAX_LANG_BYTES) as usize);
        bytes.extend_from_slice(&head[..n]);
        content.take(MAX_LANG_BYTES).read_to_end(&mut bytes).map_err(|e| at(AnalyzeCause::io(&e)))?;
        let abs = format!("/{path}");
        let Some(result) = cataloger.catalog(path, &abs, &bytes, &self.limits).map_err(at)? else { return Ok(None) };
        let (packages, warnings) = self.limits.cap((result.packages, result.warnings), &abs);
        if packages.is_empty() && warnings.is_empty() {
            return Ok(None);
        }
        let result = DbResult { packages, owned: None, warnings };
        serde_json::to_value(result).map(Some).map_err(|e| at(AnalyzeCause::encode(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_version_follows_the_registry() {
        let mut names: Vec<&str> = CATALOGERS.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "duplicate cataloger names");
        let limits = bulwark_catalog::Limits::default();
        assert_ne!(version_of(Inventory::Os, &limits), version_of(Inventory::Lang, &limits));
        let fewer = bulwark_catalog::Limits { max_packages: 1, ..limits };
        assert_ne!(version_of(Inventory::Os, &limits), version_of(Inventory::Os, &fewer));
        // Results stored in the shape before (string warnings) are other cache entries.
        for inventory in [Inventory::Os, Inventory::Lang] {
            assert_ne!(version_of(inventory, &limits), version_with(inventory, &limits, 1));
        }
    }

    #[test]
    fn path_tables_route_each_file_to_one_cataloger() {
        let route = |inventory, path: &str, mode| cataloger_for(inventory, path, mode).map(|c| c.name());
        assert_eq!(route(Inventory::Os, "var/lib/dpkg/status", 0o644), Some("dpkg-status"));
        assert_eq!(route(Inventory::Os, "var/lib/dpkg/status.d/base", 0o644), Some("dpkg-status"));
        assert_eq!(route(Inventory::Os, "var/lib/dpkg/status.d/base.md5sums", 0o644), Some("dpkg-info"));
        assert_eq!(route(Inventory::Os, "var/lib/dpkg/info/bash.list", 0o644), Some("dpkg-info"));
        assert_eq!(route(Inventory::Os, "lib/apk/db/installed", 0o644), Some("apk"));
        assert_eq!(route(Inventory::Os, "usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644), Some("rpm"));
        assert_eq!(route(Inventory::Os, "etc/passwd", 0o644), None);
        assert_eq!(route(Inventory::Lang, "app/node_modules/a/package.json", 0o644), Some("node"));
        assert_eq!(route(Inventory::Lang, "app/package.json", 0o644), None);
        assert_eq!(route(Inventory::Lang, "app/x.jar", 0o755), Some("java"));
        assert_eq!(route(Inventory::Lang, "usr/bin/app", 0o755), Some("binary"));
        assert_eq!(route(Inventory::Lang, "usr/share/doc/readme", 0o644), None);
    }

    #[test]
    fn oversized_archives_are_reported_not_read() {
        let a = LangPackageAnalyzer::default();
        let size = MAX_LANG_BYTES + 1;
        assert!(a.wants("opt/app/huge.jar", size, 0o644));
        let mut never_read = std::io::repeat(0).take(size);
        let err = a.analyze("opt/app/huge.jar", &mut never_read, size).unwrap_err();
        assert_eq!((err.analyzer.as_str(), err.path.as_str()), (LANG_PACKAGES, "opt/app/huge.jar"));
        assert_eq!(err.cause, AnalyzeCause::TooLarge { size, limit: MAX_LANG_BYTES });
        assert!(never_read.limit() >= size - 4, "at most the first bytes were read");
        // Scripts marked executable are not binaries: nothing stored, no warning.
        assert_eq!(a.analyze("usr/bin/script", &mut &b"#!/bin/sh\n"[..], 10), Ok(None));
    }
}
