//! `GET /packages?purl=…`: the store's purl filter (`PackageQuery::from_purl`) over arbitrary
//! text. An error or a query, never a panic; a query asks for a non-empty name of the purl's
//! own type, and an exact version matches itself and nothing else.
#![no_main]

use bulwark_store::PackageQuery;
use bulwark_store::inventory::VersionMatch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(q) = PackageQuery::from_purl(text) else { return };
    let ty = q.ecosystem.clone().expect("a purl query names its type");
    assert!(!ty.is_empty());
    assert!(!q.name.is_empty(), "{text:?} gave an empty name");
    match &q.versions {
        VersionMatch::Exact(v) => {
            assert!(q.matches_version(&ty, v));
            let other = format!("{v}.0-other");
            assert!(!q.matches_version(&ty, &other));
        }
        VersionMatch::Any => assert!(q.matches_version(&ty, "1.0")),
        VersionMatch::Range(_) => panic!("a purl never gives a range"),
    }
});
