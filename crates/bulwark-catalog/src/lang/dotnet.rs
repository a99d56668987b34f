//! .NET: `*.deps.json`, the dependency manifest the .NET host writes next to an application
//! (<https://github.com/dotnet/runtime/blob/main/docs/design/features/host-dependency-resolution.md>,
//! format in <https://github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md>).
//!
//! `libraries` maps `Name/Version` to `{ "type": "package" | "project" | "reference" | … }`;
//! only `package` entries are NuGet packages (a `project` is the application or one of its own
//! projects, a `referenceassembly` is part of the framework). `targets[<runtimeTarget.name>]`
//! maps the same keys to the runtime assets and `dependencies` (name → version) of each.

use serde_json::{Map, Value};

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// Parses a `*.deps.json`.
pub fn parse_deps_json(bytes: &[u8], path: &str) -> Parsed {
    let root = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return (Vec::new(), vec![Warning::package(path, "not a JSON object, skipped")]),
        Err(e) => return (Vec::new(), vec![Warning::package(path, format!("invalid JSON: {e}"))]),
    };
    let Some(libraries) = root.get("libraries").and_then(Value::as_object) else {
        return (Vec::new(), vec![Warning::package(path, "no libraries, skipped")]);
    };
    let targets = root.get("targets").and_then(Value::as_object);
    // The runtime target named by `runtimeTarget`, else the first target.
    let target: Option<&Map<String, Value>> = targets.and_then(|t| {
        let name = root.get("runtimeTarget").and_then(|r| r.get("name")).and_then(Value::as_str);
        name.and_then(|n| t.get(n)).or_else(|| t.values().next()).and_then(Value::as_object)
    });
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    for (key, lib) in libraries {
        if lib.get("type").and_then(Value::as_str) != Some("package") {
            continue;
        }
        let Some((name, version)) = key.split_once('/').filter(|(n, v)| !n.is_empty() && !v.is_empty()) else {
            warnings.push(Warning::package(path, format!("libraries[{}]: not Name/Version, skipped", excerpt(key))));
            continue;
        };
        let mut pkg = Package::new(PackageKind::NuGet, name.to_owned(), version.to_owned(), path);
        if let Some(deps) =
            target.and_then(|t| t.get(key)).and_then(|e| e.get("dependencies")).and_then(Value::as_object)
        {
            pkg.dependencies = deps.keys().cloned().collect();
            pkg.dependencies.sort_unstable();
        }
        packages.push(pkg);
    }
    sort_packages(&mut packages);
    (packages, warnings)
}
