//! apk: `parse_installed` (`lib/apk/db/installed`). Must never panic or hang; every
//! package has a name, a version and absolute file paths (an `R:` name holding `/` is
//! kept as written: apk never writes one, and the path then matches nothing).

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::apk;
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (packages, _) = apk::parse_installed(data, "/lib/apk/db/installed");
    common::check_packages(&packages, PackageKind::Apk, "/lib/apk/db/installed");
    for p in &packages {
        common::check_absolute(&p.files);
        assert_eq!(p.source_version.as_deref(), Some(p.version.as_str()));
    }
    // Tiny limits: within them, and anything cut is said in a limit warning.
    let limits = bulwark_catalog::Limits { max_packages: 2, max_files: 1 };
    let (few, warnings) = apk::parse_installed_with(data, "/lib/apk/db/installed", &limits);
    assert!(few.len() <= 2 && few.iter().all(|p| p.files.len() <= 1));
    if packages.len() > 2 || packages.iter().any(|p| p.files.len() > 1) {
        assert!(warnings.iter().any(|w| w.kind == bulwark_catalog::WarningKind::Limit), "{warnings:?}");
    }
    assert!(warnings.len() <= bulwark_catalog::MAX_WARNINGS + 3);
});
