//! `GET /packages?name=…&version=…`: the store's version-range filter
//! (`PackageQuery::from_name`) over arbitrary text, then matched against arbitrary versions
//! in every ecosystem's ordering. An error or a query, never a panic; the constraints are
//! what the text said (one per `,`), and they agree with each other: a version matches
//! `>=x, <=x` exactly when it matches `=x`.
#![no_main]

use bulwark_store::PackageQuery;
use bulwark_store::inventory::VersionMatch;
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 13] =
    ["deb", "rpm", "apk", "pypi", "npm", "cargo", "nuget", "golang", "maven", "gem", "composer", "hex", "generic"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is the range, the rest are versions to match it against.
    let mut lines = text.lines();
    let Some(range) = lines.next() else { return };
    let versions: Vec<&str> = lines.take(8).collect();
    let Ok(q) = PackageQuery::from_name(Some("deb"), "pkg", Some(range)) else { return };
    match &q.versions {
        VersionMatch::Any => assert!(range.trim().is_empty()),
        VersionMatch::Range(constraints) => {
            assert_eq!(constraints.len(), range.split(',').count());
            assert!(constraints.iter().all(|(_, v)| !v.is_empty() && v.trim() == v));
        }
        VersionMatch::Exact(_) => panic!("a name query never gives an exact version"),
    }
    for ty in TYPES {
        for v in &versions {
            let _ = q.matches_version(ty, v);
        }
    }
    // Consistency of the comparisons, for a bound without separators of its own.
    if let Some(bound) = versions.first().filter(|b| !b.trim().is_empty() && !b.contains(',')) {
        let bound = bound.trim();
        let between = PackageQuery::from_name(None, "pkg", Some(&format!(">={bound}, <={bound}"))).unwrap();
        let equal = PackageQuery::from_name(None, "pkg", Some(&format!("={bound}"))).unwrap();
        for ty in TYPES {
            for v in &versions {
                assert_eq!(between.matches_version(ty, v), equal.matches_version(ty, v), "{ty} {v:?} vs {bound:?}");
            }
        }
    }
});
