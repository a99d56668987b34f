//! OSV records are downloaded feeds: any bytes must parse (JSON or YAML) or fail cleanly, and
//! a record that parses must go through the in-memory advisory source and the matcher, for a
//! package at each version it names, without a panic.
#![no_main]

use bulwark_advisory::osv::Event;
use bulwark_advisory::{AdvisorySource, MemorySource, osv_ecosystem_of_purl_type, parse_record};
use bulwark_core::report::{OsRelease, Package};
use libfuzzer_sys::fuzz_target;

const PURL_TYPES: [&str; 8] = ["pypi", "npm", "golang", "cargo", "maven", "gem", "composer", "nuget"];

fn package(ty: &str, name: &str, version: &str) -> Package {
    Package {
        ecosystem: ty.into(),
        name: name.into(),
        version: version.into(),
        purl: format!("pkg:{ty}/{name}@{version}"),
        arch: None,
        source: None,
        license: None,
        locations: vec!["/fuzz".into()],
        layer: Some(0),
        removed_in: None,
        dependencies: Vec::new(),
        identification: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(record) = parse_record(data) else { return };
    let mut source = MemorySource::new();
    source.add_record("fuzz", &record);
    for entry in record.affected.iter().take(4) {
        let Some(p) = &entry.package else { continue };
        let _ = source.advisories_for(&p.ecosystem, &p.name);
        let versions = entry
            .versions
            .iter()
            .map(String::as_str)
            .chain(entry.ranges.iter().flat_map(|r| r.events.iter().map(Event::value)))
            .take(4);
        for version in versions {
            let mut packages: Vec<Package> = PURL_TYPES
                .iter()
                .filter(|t| osv_ecosystem_of_purl_type(t) == Some(p.ecosystem.as_str()))
                .map(|t| package(t, &p.name, version))
                .collect();
            // The same name as an OS package of a distribution whose ecosystem is the entry's.
            packages.extend(["deb", "apk", "rpm"].map(|t| package(t, &p.name, version)));
            let os = OsRelease {
                id: "fuzz".into(),
                version_id: None,
                version_codename: None,
                pretty_name: None,
                source: "/etc/os-release".into(),
                osv_ecosystem: Some(p.ecosystem.clone()),
                distroless: false,
            };
            let _ = bulwark_match::match_packages_checked(&packages, Some(&os), &source);
        }
    }
});
