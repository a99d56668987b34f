//! Binaries: Go build info (`lang::golang::parse_binary`, also `parse_modinfo` on the bytes
//! as text) and cargo-auditable data (`lang::rust::parse_auditable` on the bytes as a
//! binary, `parse_auditable_json` on them as the inflated JSON). Must never panic or hang.

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::{golang, rust};
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = "/usr/bin/fuzz";
    let (packages, _) = golang::parse_binary(data, path);
    common::check_packages(&packages, PackageKind::GoModule, path);
    let (info, _) = golang::parse_modinfo(&String::from_utf8_lossy(data));
    let (packages, _) = golang::packages(&info, path);
    common::check_packages(&packages, PackageKind::GoModule, path);
    if let Some(v) = golang::stdlib_version(&String::from_utf8_lossy(data)) {
        assert!(v.starts_with("v1.") || v.starts_with('v'), "{v}");
    }

    let (packages, _) = rust::parse_auditable(data, path);
    common::check_packages(&packages, PackageKind::Cargo, path);
    let (packages, _) = rust::parse_auditable_json(data, path);
    common::check_packages(&packages, PackageKind::Cargo, path);
    assert!(packages.len() <= rust::MAX_PACKAGES);
});
