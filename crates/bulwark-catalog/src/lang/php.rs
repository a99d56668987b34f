//! PHP Composer: `vendor/composer/installed.json` (what is installed) and `composer.lock`.
//!
//! `installed.json` is a JSON array of packages (Composer 1) or `{"packages": [...],
//! "dev": …, "dev-package-names": [...]}` (Composer 2). `composer.lock` has `packages` and
//! `packages-dev` (<https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control>).
//! Package objects have the same shape in both files: `name`, `version`, `license` (an array
//! of SPDX ids meaning any one of them, joined here with ` OR `, see
//! <https://getcomposer.org/doc/04-schema.md#license>), `require` (dependency name →
//! constraint; platform requirements such as `php` and `ext-json` are not packages and are
//! left out of `dependencies`).

use serde_json::Value;

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// Reads one package object; `None` with a warning when it has no name or version.
fn package_of(v: &Value, path: &str, index: usize, warnings: &mut Vec<Warning>) -> Option<Package> {
    let obj = v.as_object();
    let get = |k: &str| obj.and_then(|o| o.get(k)).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let (Some(name), Some(version)) = (get("name"), get("version")) else {
        warnings.push(Warning::package(path, format!("package {index}: no name or version, skipped")));
        return None;
    };
    let mut pkg = Package::new(PackageKind::Composer, name.to_owned(), version.to_owned(), path);
    pkg.license = match obj.and_then(|o| o.get("license")) {
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(Value::Array(list)) => {
            let ids: Vec<&str> = list.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).collect();
            (!ids.is_empty()).then(|| ids.join(" OR "))
        }
        _ => None,
    };
    if let Some(require) = obj.and_then(|o| o.get("require")).and_then(Value::as_object) {
        // Packages are `vendor/name`; `php`, `ext-*`, `lib-*`, `composer-plugin-api` are platform.
        pkg.dependencies = require.keys().filter(|k| k.contains('/')).cloned().collect();
        pkg.dependencies.sort_unstable();
    }
    Some(pkg)
}

fn parse_root(bytes: &[u8], path: &str) -> Result<Value, Parsed> {
    serde_json::from_slice::<Value>(bytes)
        .map_err(|e| (Vec::new(), vec![Warning::package(path, format!("invalid JSON: {e}"))]))
}

fn packages_of(list: Option<&Value>, path: &str, packages: &mut Vec<Package>, warnings: &mut Vec<Warning>) {
    for (i, v) in list.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        packages.extend(package_of(v, path, i, warnings));
    }
}

/// Parses `vendor/composer/installed.json` (Composer 1 array or Composer 2 object). Every
/// listed package is installed in `vendor/`, development ones included.
pub fn parse_installed_json(bytes: &[u8], path: &str) -> Parsed {
    let root = match parse_root(bytes, path) {
        Ok(v) => v,
        Err(p) => return p,
    };
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    match &root {
        Value::Array(_) => packages_of(Some(&root), path, &mut packages, &mut warnings),
        Value::Object(o) if o.get("packages").is_some_and(Value::is_array) => {
            packages_of(o.get("packages"), path, &mut packages, &mut warnings)
        }
        other => {
            warnings.push(Warning::package(path, format!("not an installed.json: {}", excerpt(&other.to_string()))))
        }
    }
    sort_packages(&mut packages);
    (packages, warnings)
}

/// Parses a `composer.lock`: `packages`, plus `packages-dev` when `include_dev`.
pub fn parse_composer_lock(bytes: &[u8], path: &str, include_dev: bool) -> Parsed {
    let root = match parse_root(bytes, path) {
        Ok(v) => v,
        Err(p) => return p,
    };
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    let Some(obj) = root.as_object().filter(|o| o.contains_key("packages")) else {
        return (Vec::new(), vec![Warning::package(path, "not a composer.lock (no packages), skipped")]);
    };
    packages_of(obj.get("packages"), path, &mut packages, &mut warnings);
    if include_dev {
        packages_of(obj.get("packages-dev"), path, &mut packages, &mut warnings);
    }
    sort_packages(&mut packages);
    (packages, warnings)
}
