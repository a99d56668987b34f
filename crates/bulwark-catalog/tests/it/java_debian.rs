//! Java coordinates of real jars from Debian 12's packages, most of which carry no
//! `pom.properties` (issue 15). The jars are downloaded and unpacked by
//! `scripts/debian-jars.sh` into a cache directory outside the repository (never committed);
//! set `BULWARK_DEBIAN_JARS` to reuse a directory.
//!
//! Expected coordinates are what the jar's upstream project publishes on Maven Central for
//! the version the Debian package ships (the package version is in the script's
//! `packages.tsv`); the evidence is what the jar itself says (`unzip -p <jar>
//! META-INF/MANIFEST.MF`, its class directories, its file name). Syft 1.18.1's answers for
//! the same jars are compared in `docs/syft-differences.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::lang::java::{self, Limits};
use bulwark_catalog::{Package, PackageKind};
use bulwark_core::report::Confidence;

fn jars_dir() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/debian-jars.sh");
    let out = Command::new(&script).output().unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(out.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn parse(dir: &Path, jar: &str) -> Vec<Package> {
    let path = dir.join("root/usr/share/java").join(jar);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (pkgs, warnings) = java::parse_archive(&bytes, &format!("/usr/share/java/{jar}"), &Limits::default());
    assert!(warnings.is_empty(), "{jar}: {warnings:?}");
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Maven));
    pkgs
}

/// `(jar, purl, confidence, group source, artifact source, version source)`.
type Expected = (&'static str, &'static str, Confidence, Option<&'static str>, &'static str, &'static str);

const EXPECTED: &[Expected] = &[
    // Spring 4.3.30 (libspring-*-java 4.3.30-2): no pom.properties, no vendor id; the
    // artifact is the manifest's title, the group the classes' package.
    (
        "spring3-beans-3.x.jar",
        "pkg:maven/org.springframework/spring-beans@4.3.30.RELEASE",
        Confidence::Medium,
        Some("class-packages"),
        "manifest:Implementation-Title",
        "manifest:Implementation-Version",
    ),
    (
        "spring3-core-3.x.jar",
        "pkg:maven/org.springframework/spring-core@4.3.30.RELEASE",
        Confidence::Medium,
        Some("class-packages"),
        "manifest:Implementation-Title",
        "manifest:Implementation-Version",
    ),
    (
        "spring3-context-3.x.jar",
        "pkg:maven/org.springframework/spring-context@4.3.30.RELEASE",
        Confidence::Medium,
        Some("class-packages"),
        "manifest:Implementation-Title",
        "manifest:Implementation-Version",
    ),
    (
        "spring3-web-3.x.jar",
        "pkg:maven/org.springframework/spring-web@4.3.30.RELEASE",
        Confidence::Medium,
        Some("class-packages"),
        "manifest:Implementation-Title",
        "manifest:Implementation-Version",
    ),
    // Bouncy Castle 1.72 (libbcprov-java 1.72-2): Maven Central's artifact is
    // bcprov-jdk18on, version 1.72; the manifest says 1.72.0, the file name bcprov-1.72.
    (
        "bcprov-1.72.jar",
        "pkg:maven/org.bouncycastle/bcprov-jdk18on@1.72",
        Confidence::Medium,
        Some("manifest:Implementation-Vendor-Id"),
        "known-artifacts",
        "file-name",
    ),
    (
        "bcpkix-1.72.jar",
        "pkg:maven/org.bouncycastle/bcpkix-jdk18on@1.72",
        Confidence::Medium,
        Some("manifest:Implementation-Vendor-Id"),
        "known-artifacts",
        "file-name",
    ),
    // Commons Collections 3.2.2: vendor id `org.apache` (generic), Debian's file name
    // commons-collections3; Maven Central: commons-collections:commons-collections.
    (
        "commons-collections3-3.2.2.jar",
        "pkg:maven/commons-collections/commons-collections@3.2.2",
        Confidence::Medium,
        Some("known-artifacts"),
        "known-artifacts",
        "manifest:Implementation-Version",
    ),
    // log4j 1.2.17: only a bundle name and version.
    (
        "log4j-1.2-1.2.17.jar",
        "pkg:maven/log4j/log4j@1.2.17",
        Confidence::Medium,
        Some("known-artifacts"),
        "known-artifacts",
        "manifest:Bundle-Version",
    ),
    // H2 2.1.214: classes in org.h2, group com.h2database.
    (
        "h2-2.1.214.jar",
        "pkg:maven/com.h2database/h2@2.1.214",
        Confidence::Medium,
        Some("known-artifacts"),
        "file-name",
        "manifest:Implementation-Version",
    ),
    // With pom.properties: declared, high confidence.
    (
        "commons-lang3.jar",
        "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
        Confidence::High,
        Some("pom.properties"),
        "pom.properties",
        "pom.properties",
    ),
    (
        "jackson-databind.jar",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0",
        Confidence::High,
        Some("pom.properties"),
        "pom.properties",
        "pom.properties",
    ),
    (
        "log4j-core.jar",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0",
        Confidence::High,
        Some("pom.properties"),
        "pom.properties",
        "pom.properties",
    ),
];

#[test]
fn debian_jars_get_their_maven_coordinates() {
    let dir = jars_dir();
    let mut wrong = Vec::new();
    for &(jar, purl, confidence, group, artifact, version) in EXPECTED {
        let pkgs = parse(&dir, jar);
        assert_eq!(pkgs.len(), 1, "{jar}: {pkgs:?}");
        let p = &pkgs[0];
        let id = p.identification.as_ref().expect("identification recorded");
        let got =
            (p.purl(None).to_string(), id.confidence, id.group.as_deref(), id.artifact.as_str(), id.version.as_str());
        if got != (purl.to_owned(), confidence, group, artifact, version) {
            wrong.push(format!("{jar}: got {got:?}, want {:?}", (purl, confidence, group, artifact, version)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn disagreeing_evidence_is_shown() {
    let dir = jars_dir();
    // bcprov: the file name's 1.72 wins over the manifest's OSGi-padded 1.72.0 (the same
    // version, so not an alternative); the artifact `bcprov` lost to the table.
    let p = &parse(&dir, "bcprov-1.72.jar")[0];
    let alts: Vec<(&str, &str, &str)> = p
        .identification
        .as_ref()
        .unwrap()
        .alternatives
        .iter()
        .map(|a| (a.coordinate.as_str(), a.value.as_str(), a.source.as_str()))
        .collect();
    assert_eq!(alts, [("artifact", "bcprov", "file-name"), ("version", "1.1", "manifest:Specification-Version")]);
}

#[test]
fn every_debian_jar_is_identified_with_a_version() {
    let dir = jars_dir();
    let listing = std::fs::read_to_string(dir.join("packages.tsv")).expect("packages.tsv");
    let mut low = Vec::new();
    for line in listing.lines() {
        let mut cols = line.split('\t');
        let (_pkg, _ver, path) = (cols.next().unwrap(), cols.next().unwrap(), cols.next().unwrap());
        let jar = path.rsplit('/').next().unwrap();
        let pkgs = parse(&dir, jar);
        assert!(!pkgs.is_empty(), "{jar}: nothing identified");
        for p in &pkgs {
            assert!(!p.version.is_empty(), "{jar}");
            if p.identification.as_ref().unwrap().confidence == Confidence::Low {
                low.push(format!("{jar}: {}", p.name));
            }
        }
    }
    assert!(low.is_empty(), "low confidence: {low:?}");
}
