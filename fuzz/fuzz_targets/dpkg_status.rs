//! dpkg: `parse_status` (a `status` file or a distroless `status.d/` file),
//! `parse_file_list` (`info/*.list`), `parse_md5sums` (`info/*.md5sums`) and `catalog`,
//! which ties them together, all on the same bytes. Must never panic or hang.

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::dpkg;
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (packages, _) = dpkg::parse_status(data, "/var/lib/dpkg/status");
    common::check_packages(&packages, PackageKind::Deb, "/var/lib/dpkg/status");
    for p in &packages {
        common::check_absolute(&p.files);
        assert!(p.source_name.as_deref().is_some_and(|s| !s.is_empty()), "{p:?}");
    }

    // Tiny limits: what is kept is a prefix-subset of the unlimited parse, within the limits,
    // and anything cut is said in a limit warning; warnings stay capped.
    let limits = bulwark_catalog::Limits { max_packages: 3, max_files: 2 };
    let (few, warnings) = dpkg::parse_status_with(data, "/var/lib/dpkg/status", &limits);
    assert!(few.len() <= 3 && few.iter().all(|p| p.files.len() <= 2));
    assert!(few.iter().all(|p| packages.iter().any(|q| (&q.name, &q.version) == (&p.name, &p.version))));
    if packages.len() > 3 || packages.iter().any(|p| p.files.len() > 2) {
        assert!(warnings.iter().any(|w| w.kind == bulwark_catalog::WarningKind::Limit), "{warnings:?}");
    }
    assert!(warnings.len() <= bulwark_catalog::MAX_WARNINGS + 3);
    let (capped, dropped) = dpkg::parse_file_list_with(data, 2);
    assert!(capped.len() <= 2 && (dropped == 0 || capped.len() == 2));

    let list = dpkg::parse_file_list(data);
    assert_eq!(list.len() as u64, capped.len() as u64 + dropped);
    common::check_absolute(&list);
    assert!(!list.iter().any(|f| f == "/."));
    let (sums, _) = dpkg::parse_md5sums(data);
    common::check_absolute(&sums);

    // The same bytes as a status file and as the info files of every package in it.
    let names: Vec<String> = packages.iter().take(4).map(|p| p.name.clone()).collect();
    let info: Vec<(String, &[u8])> =
        names.iter().flat_map(|n| [(format!("{n}.list"), data), (format!("{n}.md5sums"), data)]).collect();
    let (with_files, _) = dpkg::catalog(data, "/var/lib/dpkg/status", info.iter().map(|(n, b)| (n.as_str(), *b)));
    common::check_packages(&with_files, PackageKind::Deb, "/var/lib/dpkg/status");
    assert_eq!(with_files.len(), packages.len());
    for (a, b) in packages.iter().zip(&with_files) {
        assert_eq!((&a.name, &a.version, &a.arch), (&b.name, &b.version, &b.arch));
        assert!(a.files.iter().all(|f| b.files.binary_search(f).is_ok()), "attach_files lost files");
    }
});
