//! Node.js catalogers against real files: the npm that ships with node (a real installed
//! `node_modules` tree, read in place; expected values from node itself), real
//! `package-lock.json` v1/v2/v3 written by `npm shrinkwrap` (tests/data/make-lang-fixtures.sh),
//! and hand-written yarn/pnpm lockfiles (tests/data/formats/, see tests/data/README.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::lang::node;
use bulwark_catalog::{Package, PackageKind};

fn lang_fixtures() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-lang-fixtures.sh");
    let ok = Command::new("bash").arg(&script).output().is_ok_and(|o| o.status.success());
    assert!(ok || std::env::var_os("CI").is_none(), "{} failed", script.display());
    let out = Command::new("bash").arg(&script).arg("--print-dir").output().ok()?;
    ok.then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn data(rel: &str) -> (Vec<u8>, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel);
    (std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())), p.display().to_string())
}

fn node(script: &str) -> String {
    let out = Command::new("node").arg("-e").arg(script).output().expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn ids(pkgs: &[Package]) -> BTreeSet<String> {
    pkgs.iter().map(|p| format!("{}@{}", p.name, p.version)).collect()
}

fn find<'a>(pkgs: &'a [Package], name: &str) -> &'a Package {
    pkgs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not found"))
}

/// `<node prefix>/lib/node_modules/npm`.
fn npm_dir() -> PathBuf {
    let dir = node(
        "const p=require('path');console.log(p.join(p.dirname(process.execPath),'..','lib','node_modules','npm'))",
    );
    std::fs::canonicalize(dir.trim()).expect("node's bundled npm")
}

/// Every `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json`
/// below `dir`, at any depth.
fn installed_manifests(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join("node_modules")) else { return };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let dirs: Vec<PathBuf> = if name.starts_with('@') {
            std::fs::read_dir(e.path()).into_iter().flatten().filter_map(|s| s.ok()).map(|s| s.path()).collect()
        } else if name.starts_with('.') {
            Vec::new()
        } else {
            vec![e.path()]
        };
        for d in dirs {
            if d.join("package.json").is_file() {
                out.push(d.join("package.json"));
            }
            installed_manifests(&d, out);
        }
    }
}

#[test]
fn npm_installed_tree_matches_node() {
    let npm = npm_dir();
    let mut manifests = Vec::new();
    installed_manifests(&npm, &mut manifests);
    assert!(manifests.len() > 100, "npm ships its dependencies: {}", manifests.len());
    let mut ours = Vec::new();
    for m in &manifests {
        let (pkgs, warnings) = node::parse_package_json(&std::fs::read(m).unwrap(), m.to_str().unwrap());
        assert!(warnings.is_empty(), "{}: {warnings:?}", m.display());
        ours.push(pkgs.into_iter().next().map(|p| format!("{}@{}", p.name, p.version)).unwrap_or_default());
    }
    // The same manifests read by node's own JSON parser.
    let list = serde_json::to_string(&manifests).unwrap();
    let theirs = node(&format!(
        "for (const f of {list}) {{ const j = JSON.parse(require('fs').readFileSync(f)); \
         console.log(j.name && j.version ? j.name + '@' + j.version : '') }}"
    ));
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());

    let pj = npm.join("package.json");
    let (pkgs, _) = node::parse_package_json(&std::fs::read(&pj).unwrap(), pj.to_str().unwrap());
    let version = Command::new("npm").arg("--version").output().expect("npm runs").stdout;
    assert_eq!(pkgs[0].name, "npm");
    assert_eq!(pkgs[0].version, String::from_utf8_lossy(&version).trim());
    assert_eq!(pkgs[0].license.as_deref(), Some("Artistic-2.0"));
    assert!(pkgs[0].dependencies.iter().any(|d| d == "@npmcli/arborist"));
}

#[test]
fn package_locks_v1_v2_v3_written_by_npm() {
    let Some(cache) = lang_fixtures() else { return };
    let mut sets = Vec::new();
    for v in 1..=3 {
        let path = cache.join(format!("node/package-lock-v{v}.json"));
        let bytes = std::fs::read(&path).unwrap();
        let (pkgs, warnings) = node::parse_package_lock(&bytes, path.to_str().unwrap(), true);
        assert!(warnings.is_empty(), "v{v}: {warnings:?}");
        assert!(pkgs.iter().all(|p| p.kind == PackageKind::Npm && p.db_path == path.to_str().unwrap()));
        assert!(!pkgs.iter().any(|p| p.name == "npm"), "v{v}: the root project is not a package");
        // Independent reading: every name@version in the file, by node. Aliases
        // (`string-width-cjs` → `npm:string-width@4.2.3` in npm's own tree) are the real package.
        let expected = node(&format!(
            "const l = JSON.parse(require('fs').readFileSync({:?})); const s = new Set(); \
             const walk = d => {{ for (const [n, e] of Object.entries(d || {{}})) {{ \
               s.add(e.version.startsWith('npm:') ? e.version.slice(4) : n + '@' + e.version); walk(e.dependencies) }} }}; \
             if (l.packages) {{ for (const [k, e] of Object.entries(l.packages)) if (k && !e.link) \
               s.add((e.name || k.slice(k.lastIndexOf('node_modules/') + 13)) + '@' + e.version) }} else walk(l.dependencies); \
             console.log([...s].join('\\n'))",
            path.to_str().unwrap()
        ));
        assert_eq!(ids(&pkgs), expected.lines().map(str::to_owned).collect::<BTreeSet<_>>(), "v{v}");
        sets.push(ids(&pkgs));
    }
    // v1 lists only node_modules packages; v2/v3 also the workspace packages of npm's repo.
    assert_eq!(sets[1], sets[2]);
    assert!(sets[0].is_subset(&sets[2]));
    let v3 = cache.join("node/package-lock-v3.json");
    let (pkgs, _) = node::parse_package_lock(&std::fs::read(&v3).unwrap(), "/l", true);
    let semver = pkgs.iter().find(|p| p.name == "semver").expect("npm depends on semver");
    assert_eq!(semver.license.as_deref(), Some("ISC"));
    assert!(find(&pkgs, "@npmcli/arborist").dependencies.iter().any(|d| d == "semver"));
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn yarn_classic() {
    let (bytes, path) = data("formats/yarn-v1/yarn.lock");
    let (pkgs, warnings) = node::parse_yarn_lock(&bytes, &path);
    assert!(warnings.is_empty(), "{warnings:?}");
    // Eleven entries: lodash 4.17.21 is listed twice (one package), ms in two releases (two).
    assert_eq!(
        ids(&pkgs),
        set(&[
            "@types/body-parser@1.19.5",
            "@types/connect@3.4.38",
            "@types/node@20.10.0",
            "debug@4.3.4",
            "fsevents@2.3.3",
            "lodash@4.17.21",
            "ms@2.1.2",
            "ms@2.1.3",
            "rollup@2.79.1",
            "undici-types@5.26.5",
        ])
    );
    assert_eq!(pkgs.len(), 10);
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Npm && p.db_path == path));
    // Quoted scoped dependency names; `optionalDependencies` count as dependencies.
    assert_eq!(find(&pkgs, "@types/body-parser").dependencies, ["@types/connect", "@types/node"]);
    assert_eq!(find(&pkgs, "@types/node").dependencies, ["undici-types"]);
    assert_eq!(find(&pkgs, "debug").dependencies, ["ms"]);
    assert_eq!(find(&pkgs, "rollup").dependencies, ["fsevents"]);
    assert!(find(&pkgs, "lodash").dependencies.is_empty());
    assert_eq!(find(&pkgs, "@types/node").purl(None).to_string(), "pkg:npm/%40types/node@20.10.0");
}

#[test]
fn yarn_berry() {
    let (bytes, path) = data("formats/yarn-berry/yarn.lock");
    let (pkgs, warnings) = node::parse_yarn_lock(&bytes, &path);
    assert!(warnings.is_empty(), "{warnings:?}");
    // The workspace (the project itself) is not a package; aliases (`lodash-legacy`,
    // `old-left-pad`) are reported under the name in their `resolution`.
    assert_eq!(
        ids(&pkgs),
        set(&["debug@4.3.4", "left-pad@1.1.3", "left-pad@1.3.0", "lodash@3.10.1", "lodash@4.17.21", "ms@2.1.2"])
    );
    assert!(!pkgs.iter().any(|p| p.name.contains("legacy") || p.name.starts_with("old-") || p.name == "demo-app"));
    // `peerDependenciesMeta` is not a dependency list.
    assert_eq!(find(&pkgs, "debug").dependencies, ["ms"]);
}

#[test]
fn pnpm_v5_peer_suffixes() {
    let (bytes, path) = data("formats/pnpm-v5/pnpm-lock.yaml");
    let (pkgs, warnings) = node::parse_pnpm_lock(&bytes, &path, true);
    assert!(warnings.is_empty(), "{warnings:?}");
    // `_react@18.2.0` and `_react-dom@18.2.0+react@18.2.0` suffixes are not part of the version.
    assert_eq!(
        ids(&pkgs),
        set(&[
            "@remix-run/router@1.3.3",
            "js-tokens@4.0.0",
            "loose-envify@1.4.0",
            "react-dom@18.2.0",
            "react-router-dom@6.8.2",
            "react-router@6.8.2",
            "react@18.2.0",
            "scheduler@0.23.0",
            "typescript@4.9.5",
        ])
    );
    assert_eq!(find(&pkgs, "react-dom").dependencies, ["loose-envify", "react", "scheduler"]);
    assert_eq!(
        find(&pkgs, "react-router-dom").dependencies,
        ["@remix-run/router", "react", "react-dom", "react-router"]
    );
    assert!(find(&pkgs, "@remix-run/router").dependencies.is_empty());
    // `typescript` is the only `dev: true` package.
    let (prod, _) = node::parse_pnpm_lock(&bytes, &path, false);
    assert_eq!(prod.len(), 8);
    assert!(!prod.iter().any(|p| p.name == "typescript"));
}

#[test]
fn pnpm_v6_aliases_and_dev_flag() {
    let (bytes, path) = data("formats/pnpm-v6/pnpm-lock.yaml");
    let (pkgs, warnings) = node::parse_pnpm_lock(&bytes, &path, true);
    assert!(warnings.is_empty(), "{warnings:?}");
    // The `lodash-legacy` alias is installed as `/lodash@3.10.1`; the `(react@18.2.0)` peer
    // suffix is not part of the version.
    assert_eq!(
        ids(&pkgs),
        set(&[
            "@types/lodash@4.14.191",
            "js-tokens@4.0.0",
            "left-pad@1.3.0",
            "lodash@3.10.1",
            "lodash@4.17.21",
            "loose-envify@1.4.0",
            "react@18.2.0",
            "typescript@5.0.4",
            "use-sync-external-store@1.2.0",
        ])
    );
    assert_eq!(find(&pkgs, "use-sync-external-store").dependencies, ["react"]);
    assert_eq!(find(&pkgs, "loose-envify").dependencies, ["js-tokens"]);
    // Without dev packages `@types/lodash` and `typescript` are left out.
    let (prod, warnings) = node::parse_pnpm_lock(&bytes, &path, false);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(prod.len(), 7);
    assert!(!prod.iter().any(|p| p.name == "typescript" || p.name == "@types/lodash"));
}

#[test]
fn pnpm_v9_snapshots() {
    let (bytes, path) = data("formats/pnpm-v9/pnpm-lock.yaml");
    let (pkgs, warnings) = node::parse_pnpm_lock(&bytes, &path, true);
    assert!(warnings.is_empty(), "{warnings:?}");
    let expected = set(&[
        "@babel/runtime@7.24.0",
        "js-tokens@4.0.0",
        "loose-envify@1.4.0",
        "prettier@3.2.5",
        "react@18.2.0",
        "regenerator-runtime@0.14.1",
        "use-sync-external-store@1.2.0",
    ]);
    assert_eq!(ids(&pkgs), expected);
    // Dependencies come from `snapshots`, including the peer-suffixed snapshot key.
    assert_eq!(find(&pkgs, "@babel/runtime").dependencies, ["regenerator-runtime"]);
    assert_eq!(find(&pkgs, "use-sync-external-store").dependencies, ["react"]);
    assert_eq!(find(&pkgs, "react").dependencies, ["loose-envify"]);
    // pnpm 9 marks dev dependencies only on the importer, not per package: `prettier`
    // (a devDependency) is still reported without dev packages.
    let (prod, _) = node::parse_pnpm_lock(&bytes, &path, false);
    assert_eq!(ids(&prod), expected);
}

#[test]
fn malformed_inputs_give_warnings_not_panics() {
    let deep = format!("{}{}", "{\"dependencies\":".repeat(10_000), "}".repeat(10_000));
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let truncated = br#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1"#;
    for input in [&b""[..], &garbage, truncated, deep.as_bytes(), b"[1,2]", b"null"] {
        assert_eq!(node::parse_package_json(input, "/p").1.len(), 1, "{}", String::from_utf8_lossy(input));
        let (pkgs, warnings) = node::parse_package_lock(input, "/p", true);
        assert!(pkgs.is_empty() && warnings.len() == 1);
        let _ = node::parse_yarn_lock(input, "/p");
        let _ = node::parse_pnpm_lock(input, "/p", true);
    }
    // Deep YAML nesting is cut at a limit.
    let mut yaml = String::from("lockfileVersion: '9.0'\npackages:\n");
    for i in 0..1000 {
        yaml.push_str(&format!("{}k{i}:\n", " ".repeat(i + 2)));
    }
    let (_, warnings) = node::parse_pnpm_lock(yaml.as_bytes(), "/p", true);
    assert!(!warnings.is_empty());
    // Entries without versions are warnings; the rest is still read.
    let lock = br#"{"packages": {"": {"name": "root"}, "node_modules/a": {}, "node_modules/b": {"version": "2.0.0"}, "node_modules/c": 5}}"#;
    let (pkgs, warnings) = node::parse_package_lock(lock, "/p", true);
    assert_eq!(ids(&pkgs), ["b@2.0.0".to_owned()].into());
    assert_eq!(warnings.len(), 2);
    let (pkgs, warnings) = node::parse_yarn_lock(b"a@^1:\n  resolved \"x\"\nb@^2:\n  version \"2.0.0\"\n", "/y");
    assert_eq!(ids(&pkgs), ["b@2.0.0".to_owned()].into());
    assert_eq!(warnings.len(), 1);
}
