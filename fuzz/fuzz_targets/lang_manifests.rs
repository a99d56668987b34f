//! Language manifests and lockfiles. The first byte picks the parser (and, for lockfiles
//! with dev packages, `include_dev`), the rest is the file: Python `METADATA`, npm
//! `package.json`, `package-lock.json`, `yarn.lock`, `pnpm-lock.yaml`, a gemspec,
//! `Gemfile.lock`, Composer `installed.json`, `composer.lock`, `*.deps.json`, `Cargo.lock`.
//! Must never panic or hang.

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::{dotnet, node, php, python, ruby, rust};
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

/// Where each parser's file would be, by selector.
const PATHS: [&str; 11] = [
    "/usr/lib/python3/site-packages/x-1.dist-info/METADATA",
    "/app/node_modules/x/package.json",
    "/app/package-lock.json",
    "/app/yarn.lock",
    "/app/pnpm-lock.yaml",
    "/gems/specifications/x-1.gemspec",
    "/app/Gemfile.lock",
    "/app/vendor/composer/installed.json",
    "/app/composer.lock",
    "/app/App.deps.json",
    "/src/Cargo.lock",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else { return };
    let dev = selector & 0x80 != 0;
    let which = usize::from(selector % 11);
    let path = PATHS[which];
    let (kind, (packages, _)) = match which {
        0 => (PackageKind::Python, python::parse_metadata(file, path)),
        1 => (PackageKind::Npm, node::parse_package_json(file, path)),
        2 => (PackageKind::Npm, node::parse_package_lock(file, path, dev)),
        3 => (PackageKind::Npm, node::parse_yarn_lock(file, path)),
        4 => (PackageKind::Npm, node::parse_pnpm_lock(file, path, dev)),
        5 => (PackageKind::Gem, ruby::parse_gemspec(file, path)),
        6 => (PackageKind::Gem, ruby::parse_gemfile_lock(file, path)),
        7 => (PackageKind::Composer, php::parse_installed_json(file, path)),
        8 => (PackageKind::Composer, php::parse_composer_lock(file, path, dev)),
        9 => (PackageKind::NuGet, dotnet::parse_deps_json(file, path)),
        _ => (PackageKind::Cargo, rust::parse_cargo_lock(file, path)),
    };
    common::check_packages(&packages, kind, path);
});
