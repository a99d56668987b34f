//! Shared by the catalog targets: the invariants every parser's output must hold.

#![allow(dead_code)]

use bulwark_catalog::os::Distro;
use bulwark_catalog::{Package, PackageKind};

/// Every package: the expected kind, a non-empty name and version, a `db_path` under the
/// parsed file, files sorted and de-duplicated (as `Package::files` promises), a purl that
/// prints, and a lossless JSON round trip (scan results are stored as JSON).
pub fn check_packages(packages: &[Package], kind: PackageKind, db_path: &str) {
    let distro = Distro::new("debian", "12");
    for p in packages {
        assert_eq!(p.kind, kind, "{p:?}");
        assert!(!p.name.is_empty(), "empty name: {p:?}");
        assert!(!p.version.is_empty(), "empty version: {p:?}");
        assert!(p.db_path.starts_with(db_path), "db_path {:?} not under {db_path:?}", p.db_path);
        assert!(p.files.windows(2).all(|w| w[0] < w[1]), "files not sorted and unique: {:?}", p.files);
        let _ = p.purl(None).to_string();
        let _ = p.purl(Some(&distro)).to_string();
        let json = serde_json::to_vec(p).expect("Package serialises");
        let back: Package = serde_json::from_slice(&json).expect("Package deserialises");
        assert_eq!(&back, p, "Package JSON round trip changed it");
    }
}

/// Files the OS package managers record are absolute paths.
pub fn check_absolute(files: &[String]) {
    for f in files {
        assert!(f.starts_with('/'), "not an absolute path: {f:?}");
    }
}
