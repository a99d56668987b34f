//! Composer catalogers against hand-written `installed.json` (Composer 1 and 2) and
//! `composer.lock` files (tests/data/formats/, see tests/data/README.md). Expected values are
//! read off the files.

use std::path::Path;

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::php;

fn data(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn names_versions(pkgs: &[bulwark_catalog::Package]) -> Vec<(&str, &str)> {
    pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect()
}

#[test]
fn installed_json_composer_1_array() {
    let (pkgs, warnings) =
        php::parse_installed_json(&data("composer-v1/installed.json"), "/app/vendor/composer/installed.json");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        names_versions(&pkgs),
        [("monolog/monolog", "1.27.1"), ("psr/log", "1.1.4"), ("symfony/polyfill-ctype", "v1.19.0")]
    );
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Composer && p.license.as_deref() == Some("MIT")));
    // `php` is a platform requirement, not a package; `provide` and `suggest` are not dependencies.
    assert_eq!(pkgs[0].dependencies, ["psr/log"]);
    assert!(pkgs[1].dependencies.is_empty() && pkgs[2].dependencies.is_empty());
    assert_eq!(pkgs[0].purl(None).to_string(), "pkg:composer/monolog/monolog@1.27.1");
}

#[test]
fn installed_json_composer_2_object() {
    let (pkgs, warnings) =
        php::parse_installed_json(&data("composer-v2/installed.json"), "/app/vendor/composer/installed.json");
    assert!(warnings.is_empty(), "{warnings:?}");
    // Everything in `vendor/` is installed, so the package in `dev-package-names` is reported too.
    assert_eq!(
        names_versions(&pkgs),
        [("doctrine/instantiator", "1.5.0"), ("monolog/monolog", "2.9.1"), ("psr/log", "1.1.4")]
    );
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Composer && p.license.as_deref() == Some("MIT")));
    assert_eq!(pkgs[1].dependencies, ["psr/log"]);
    assert!(pkgs[0].dependencies.is_empty());
}

#[test]
fn composer_lock_packages_dev_and_replace() {
    let lock = data("composer-lock/composer.lock");
    let (pkgs, warnings) = php::parse_composer_lock(&lock, "/app/composer.lock", true);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        names_versions(&pkgs),
        [
            ("brick/math", "0.11.0"),
            ("monolog/monolog", "3.4.0"),
            ("psr/log", "3.0.0"),
            ("ramsey/collection", "2.0.0"),
            ("ramsey/uuid", "4.7.4"),
        ]
    );
    // `ext-json` and `php` are platform requirements; the `replace`d `rhumsaa/uuid` is not a package.
    let uuid = pkgs.iter().find(|p| p.name == "ramsey/uuid").unwrap();
    assert_eq!(uuid.dependencies, ["brick/math", "ramsey/collection"]);
    assert!(!pkgs.iter().any(|p| p.name == "rhumsaa/uuid"));
    assert!(pkgs.iter().all(|p| p.license.as_deref() == Some("MIT")));
    // Without dev packages, `packages-dev` (monolog and psr/log) is left out.
    let (prod, _) = php::parse_composer_lock(&lock, "/app/composer.lock", false);
    assert_eq!(
        names_versions(&prod),
        [("brick/math", "0.11.0"), ("ramsey/collection", "2.0.0"), ("ramsey/uuid", "4.7.4")]
    );
}

#[test]
fn dev_packages_and_license_lists() {
    let lock = br#"{"packages": [{"name": "a/b", "version": "1.0.0", "license": ["MIT", "GPL-2.0-only"]}],
        "packages-dev": [{"name": "c/d", "version": "2.0.0"}]}"#;
    let (pkgs, _) = php::parse_composer_lock(lock, "/l", false);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(pkgs[0].license.as_deref(), Some("MIT OR GPL-2.0-only"));
    assert_eq!(php::parse_composer_lock(lock, "/l", true).0.len(), 2);
}

#[test]
fn malformed_inputs_give_warnings_not_panics() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for input in [&b""[..], &garbage, deep.as_bytes(), br#"{"packages": [{"name": "a/b", "vers"#, b"42"] {
        let (pkgs, warnings) = php::parse_installed_json(input, "/i");
        assert!(pkgs.is_empty() && warnings.len() == 1);
        let (pkgs, warnings) = php::parse_composer_lock(input, "/l", true);
        assert!(pkgs.is_empty() && warnings.len() == 1);
    }
    let (pkgs, warnings) = php::parse_installed_json(br#"[{"name": "a/b"}, 7, {"name": "c/d", "version": "1"}]"#, "/i");
    assert_eq!(pkgs.len(), 1);
    assert_eq!(warnings.len(), 2);
}
