//! The dependency rules of ARCHITECTURE.md, checked on the resolved dependency graph
//! (`cargo metadata`), so a new edge that breaks them fails CI instead of waiting for a
//! reviewer to notice.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates that do no network or process IO and must stay callable from anywhere.
const PURE: &[&str] = &[
    "bulwark-core",
    "bulwark-version",
    "bulwark-advisory",
    "bulwark-layer",
    "bulwark-catalog",
    "bulwark-match",
    "bulwark-detect",
    "bulwark-report",
    "bulwark-policy",
    // The REST types: shared by admission and the sensor, which must not link the server.
    "bulwark-api",
];

/// Workspace crates that do IO: pure crates never depend on them.
const IO_CRATES: &[&str] = &[
    "bulwark-image",
    "bulwark-registry",
    "bulwark-vulndb",
    "bulwark-scan",
    "bulwark-store",
    "bulwark-server",
    "bulwark-sign",
    "bulwark-admission",
    "bulwark-sensor",
];

/// External crates that mean network or database IO.
const IO_EXTERNAL: &[&str] =
    &["ureq", "reqwest", "hyper", "h2", "tokio", "sqlx", "postgres", "tokio-postgres", "bollard"];

/// Pure crates that read no files either (not even archives or databases from memory):
/// the advisory model and everything that only computes over values. The matcher must run
/// wherever a source of advisories does (a server, an admission check) without SQLite.
const NO_STORAGE: &[&str] =
    &["bulwark-core", "bulwark-version", "bulwark-advisory", "bulwark-match", "bulwark-policy", "bulwark-report"];

/// External crates that mean storage: databases, archives, temp files.
const STORAGE_EXTERNAL: &[&str] = &["rusqlite", "zip", "tempfile"];

/// Edges that break a rule today and are being removed by issue 11 (the engine and crate
/// boundaries). The test fails when one disappears, so this list only ever shrinks.
const KNOWN_VIOLATIONS: &[(&str, &str)] = &[];

/// Normal (non-dev, non-build) dependency closure of every package in the resolved graph,
/// keyed by package name.
fn closures() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let name = names[node["id"].as_str().unwrap()].to_owned();
        let deps = direct.entry(name).or_default();
        for dep in node["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null());
            if normal {
                deps.insert(names[dep["pkg"].as_str().unwrap()].to_owned());
            }
        }
    }
    let mut all = BTreeMap::new();
    for name in direct.keys() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![name.clone()];
        while let Some(n) = stack.pop() {
            for d in direct.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        all.insert(name.clone(), seen);
    }
    all
}

#[test]
fn dependency_rules_hold() {
    let closures = closures();
    let mut violations = BTreeSet::new();
    for pure in PURE {
        let deps = closures.get(*pure).unwrap_or_else(|| panic!("{pure} is not in the workspace"));
        for dep in IO_CRATES.iter().chain(IO_EXTERNAL) {
            if deps.contains(*dep) {
                violations.insert((pure.to_string(), dep.to_string()));
            }
        }
        // SQLite is allowed only where it reads an rpmdb from memory (bulwark-catalog).
        if *pure != "bulwark-catalog" && deps.contains("rusqlite") {
            violations.insert((pure.to_string(), "rusqlite".into()));
        }
    }
    for krate in NO_STORAGE {
        let deps = closures.get(*krate).unwrap_or_else(|| panic!("{krate} is not in the workspace"));
        for dep in STORAGE_EXTERNAL {
            if deps.contains(*dep) {
                violations.insert((krate.to_string(), dep.to_string()));
            }
        }
    }
    // bulwark-core sits at the bottom: no other workspace crate below it.
    for dep in &closures["bulwark-core"] {
        if dep.starts_with("bulwark-") {
            violations.insert(("bulwark-core".into(), dep.clone()));
        }
    }
    // The atomic-write helper touches the local filesystem: of the pure crates, only the
    // detectors (their compiled-rule cache) may use it. (Reached through an IO crate, it is
    // that crate's edge that is reported above.)
    for pure in PURE.iter().filter(|p| **p != "bulwark-detect") {
        let deps = &closures[*pure];
        if deps.contains("bulwark-fs") && !IO_CRATES.iter().any(|io| deps.contains(*io)) {
            violations.insert((pure.to_string(), "bulwark-fs".into()));
        }
    }
    // Test support is a dev-dependency only: nothing ships with it.
    for (name, deps) in &closures {
        if deps.contains("bulwark-testkit") {
            violations.insert((name.clone(), "bulwark-testkit".into()));
        }
    }
    // Enforcement points and the sensor never link the server or its store.
    for edge in ["bulwark-admission", "bulwark-sensor"] {
        if let Some(deps) = closures.get(edge) {
            for forbidden in ["bulwark-server", "bulwark-store", "bulwark-scan"] {
                if deps.contains(forbidden) {
                    violations.insert((edge.into(), forbidden.into()));
                }
            }
        }
    }

    let known: BTreeSet<(String, String)> =
        KNOWN_VIOLATIONS.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let new: Vec<_> = violations.difference(&known).collect();
    let gone: Vec<_> = known.difference(&violations).collect();
    assert!(new.is_empty(), "dependency rules of ARCHITECTURE.md broken by: {new:?}");
    assert!(gone.is_empty(), "these known violations are fixed: remove them from KNOWN_VIOLATIONS: {gone:?}");
}

/// The matcher has no SQLite, HTTP or archive crate even among its dev-dependencies, so
/// `cargo tree -p bulwark-match` (which shows them) lists none: its end-to-end tests over a
/// real database live in bulwark-vulndb.
#[test]
fn the_matcher_tree_has_no_storage_or_http_crate_even_for_tests() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "bulwark-match", "--locked", "--prefix", "none", "--edges", "normal,build,dev"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: BTreeSet<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains("bulwark-advisory"), "unexpected cargo tree output: {tree}");
    // Tests may write temporary files (tempfile); nothing that reaches a database or the network.
    let storage = ["rusqlite", "libsqlite3-sys", "zip"];
    let found: Vec<&&str> =
        IO_CRATES.iter().chain(IO_EXTERNAL).chain(&storage).filter(|c| names.contains(**c)).collect();
    assert!(found.is_empty(), "cargo tree -p bulwark-match shows {found:?}");
}

/// No function in the library and binary sources is longer than 150 lines (issue 11): a
/// longer one is split into named steps. Counted from the `fn` line to the closing brace at
/// the same indentation, as rustfmt lays them out; tests are not counted.
#[test]
fn no_function_is_longer_than_150_lines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut long = Vec::new();
    let mut stack: Vec<std::path::PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path().join("src")).filter(|p| p.is_dir()).collect();
    assert!(stack.len() > 10, "no crates found under {}", root.display());
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let code = line.trim_start();
                    let indent = &line[..line.len() - code.len()];
                    let is_fn = [
                        "fn ",
                        "pub fn ",
                        "pub(crate) fn ",
                        "pub(super) fn ",
                        "async fn ",
                        "pub async fn ",
                        "pub(crate) async fn ",
                        "const fn ",
                        "pub const fn ",
                    ]
                    .iter()
                    .any(|p| code.starts_with(p));
                    if !is_fn || code.trim_end().ends_with(';') {
                        continue;
                    }
                    let close = format!("{indent}}}");
                    let Some(end) = lines[i + 1..].iter().position(|l| l.trim_end() == close) else { continue };
                    if end + 2 > 150 {
                        long.push(format!("{}:{} ({} lines)", path.display(), i + 1, end + 2));
                    }
                }
            }
        }
    }
    assert!(long.is_empty(), "functions over 150 lines: split them into named steps: {long:#?}");
}
