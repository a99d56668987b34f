//! Language package catalogers: one module per ecosystem, each a pure function over the
//! bytes of one file (a manifest, a lockfile, a binary, an archive) returning
//! [`Parsed`](crate::Parsed) — packages plus warnings, never a panic.
//!
//! Every package's `db_path` is the file it was found in (nested archives as
//! `outer.jar!BOOT-INF/lib/inner.jar`), `kind` its ecosystem, `name` the name as the
//! ecosystem spells it (PyPI names as declared; purls normalise), `license` the declared
//! licence, `dependencies` the direct dependency names where the file records them.
//!
//! | module | reads |
//! |---|---|
//! | [`python`] | `*.dist-info/METADATA` (+ `RECORD`), `*.egg-info/PKG-INFO`, `.egg-info` files |
//! | [`node`] | `node_modules/**/package.json`, `package-lock.json` v1–v3, `yarn.lock` (classic, berry), `pnpm-lock.yaml` |
//! | [`ruby`] | `specifications/*.gemspec`, `Gemfile.lock` |
//! | [`php`] | `vendor/composer/installed.json`, `composer.lock` |
//! | [`dotnet`] | `*.deps.json` |
//! | [`golang`] | Go build info in ELF, PE and Mach-O binaries (modules, replacements, toolchain as `stdlib`) |
//! | [`rust`] | `cargo-auditable` `.dep-v0` data in binaries, `Cargo.lock` |
//! | [`java`] | `.jar/.war/.ear/.par`: `pom.properties`, `MANIFEST.MF`, file name; nested archives |
//! | [`java_coords`] | Maven coordinates of jars without `pom.properties`: `pom.xml`, manifest, file name, class packages, well-known artifacts |

pub mod dotnet;
pub mod golang;
pub mod java;
pub mod java_coords;
pub mod node;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
