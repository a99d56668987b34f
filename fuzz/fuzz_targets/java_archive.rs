//! Java archives: `lang::java::parse_archive` with small limits (depth 2, 4 MiB inflated in
//! total, 1 MiB per nested archive, 64 KiB per metadata file, 2 000 entries), so zip bombs
//! stop in milliseconds. Must never panic, hang or exceed the limits in memory. The same
//! bytes go through the manifest and `pom.xml` readers.

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::java::{self, Limits};
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_depth: 2,
        max_total_inflated: 4 << 20,
        max_nested_size: 1 << 20,
        max_metadata_size: 64 << 10,
        max_entries: 2_000,
    };
    let path = "/app/lib/fuzz-1.0.jar";
    let (packages, _) = java::parse_archive(data, path, &limits);
    common::check_packages(&packages, PackageKind::Maven, path);
    for p in &packages {
        // At most `max_depth` archives below the top level.
        assert!(p.db_path.matches('!').count() <= 2, "{:?}", p.db_path);
    }
    let _ = java::parse_manifest(data);
    // pom.xml of jars without pom.properties: values never carry unresolved properties.
    let pom = bulwark_catalog::lang::java_coords::parse_pom_xml(data);
    for v in [&pom.group, &pom.artifact, &pom.version].into_iter().flatten() {
        assert!(!v.is_empty() && !v.contains("${"));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let (name, version) = java::split_file_name(s);
        assert!(s.starts_with(name));
        assert!(version.is_none_or(|v| !v.is_empty()));
    }
});
