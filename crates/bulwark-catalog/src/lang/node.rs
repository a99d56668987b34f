//! Node.js: installed `node_modules/**/package.json`, `package-lock.json` (and
//! `npm-shrinkwrap.json`, the same format) v1–v3, `yarn.lock` (classic v1 and berry) and
//! `pnpm-lock.yaml` (lockfile versions 5, 6 and 9).
//!
//! # Which source wins
//!
//! What is installed is what runs, so **an installed tree wins**: when a directory has both a
//! lockfile and a `node_modules/` tree next to it, the packages are the ones read from
//! `node_modules/**/package.json` (each nested copy a package of its own, with its own path)
//! and the lockfile's packages are not reported. A lockfile's packages are reported only when
//! no installed tree is present next to it (for example an image that copied the sources but
//! installed nothing, or installed into another directory). The parsers here do not apply this
//! rule, as each sees one file; the pipeline that walks the image does.
//!
//! Lockfile parsers take `include_dev`: with `false`, packages the lockfile marks as
//! development-only are left out (package-lock `dev: true`, pnpm 5/6 `dev: true`); yarn.lock and
//! pnpm 9 do not record this per package, so all their packages are reported.
//!
//! Formats: package.json <https://docs.npmjs.com/cli/configuring-npm/package-json>,
//! package-lock <https://docs.npmjs.com/cli/configuring-npm/package-lock-json>, yarn.lock
//! <https://classic.yarnpkg.com/lang/en/docs/yarn-lock/> and the berry format written by yarn 2+,
//! pnpm-lock <https://github.com/pnpm/spec/tree/master/lockfile>.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Parsed, Warning, excerpt};

/// Nesting deeper than this in a v1 package-lock's `dependencies` is not followed.
const MAX_DEPTH: usize = 64;
/// YAML-ish lockfiles: nesting deeper than this is skipped.
const MAX_YAML_DEPTH: usize = 32;

fn parse_json(bytes: &[u8], path: &str) -> Result<Map<String, Value>, Warning> {
    // serde_json stops at 128 levels of nesting with an error, so hostile nesting cannot
    // overflow the stack.
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Warning::package(path, "not a JSON object, skipped")),
        Err(e) => Err(Warning::package(path, format!("invalid JSON: {e}"))),
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Keys of the given dependency maps, sorted and de-duplicated.
fn dep_names(obj: &Map<String, Value>, keys: &[&str]) -> Vec<String> {
    let names: BTreeSet<String> =
        keys.iter().filter_map(|k| obj.get(*k).and_then(Value::as_object)).flat_map(|m| m.keys().cloned()).collect();
    names.into_iter().collect()
}

/// `license` as a string or `{ "type": … }`, else the deprecated `licenses: [{type}]` array
/// joined with ` OR `.
fn license_of(obj: &Map<String, Value>) -> Option<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Object(o) => str_field(o, "type").map(str::to_owned),
        _ => None,
    };
    if let Some(l) = obj.get("license").and_then(one) {
        return Some(l);
    }
    let list: Vec<String> = obj.get("licenses").and_then(Value::as_array)?.iter().filter_map(one).collect();
    (!list.is_empty()).then(|| list.join(" OR "))
}

/// Parses one `package.json` of an installed package. Returns no package (and no warning)
/// for a manifest without name or version, which is a project or a sub-path stub rather than
/// an installed package.
pub fn parse_package_json(bytes: &[u8], path: &str) -> Parsed {
    let obj = match parse_json(bytes, path) {
        Ok(o) => o,
        Err(w) => return (Vec::new(), vec![w]),
    };
    let (Some(name), Some(version)) = (str_field(&obj, "name"), str_field(&obj, "version")) else {
        return (Vec::new(), Vec::new());
    };
    let mut pkg = Package::new(PackageKind::Npm, name.to_owned(), version.to_owned(), path);
    pkg.license = license_of(&obj);
    pkg.dependencies = dep_names(&obj, &["dependencies", "optionalDependencies"]);
    (vec![pkg], Vec::new())
}

/// Splits `name@version` where the name may be scoped (`@scope/name@1.0.0`).
fn split_name_version(s: &str) -> Option<(&str, &str)> {
    let at = s.get(1..)?.rfind('@')? + 1;
    let (name, version) = (&s[..at], &s[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// A package-lock v1 `version` may be an alias, `npm:real-name@1.2.3`.
fn unalias<'a>(name: &'a str, version: &'a str) -> (&'a str, &'a str) {
    match version.strip_prefix("npm:").and_then(split_name_version) {
        Some((n, v)) => (n, v),
        None => (name, version),
    }
}

/// The package name in a v2/v3 `packages` key: the part after the last `node_modules/`.
fn name_from_lock_path(key: &str) -> &str {
    match key.rfind("node_modules/") {
        Some(i) => &key[i + "node_modules/".len()..],
        None => key,
    }
}

/// De-duplicates packages with the same name and version (a lockfile lists one package once
/// per place it is installed; that is one package for vulnerability matching).
fn dedup(packages: &mut Vec<Package>) {
    sort_packages(packages);
    packages.dedup_by(|a, b| a.name == b.name && a.version == b.version);
}

/// Parses a `package-lock.json` or `npm-shrinkwrap.json`. v2 and v3 read the `packages` map
/// (the root entry `""` is the project itself and is skipped, as are `link: true` entries,
/// whose target is listed separately); v1 reads the nested `dependencies` tree.
pub fn parse_package_lock(bytes: &[u8], path: &str, include_dev: bool) -> Parsed {
    let obj = match parse_json(bytes, path) {
        Ok(o) => o,
        Err(w) => return (Vec::new(), vec![w]),
    };
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    if let Some(entries) = obj.get("packages").and_then(Value::as_object) {
        for (key, entry) in entries {
            if key.is_empty() {
                continue;
            }
            let Some(entry) = entry.as_object() else {
                warnings.push(Warning::package(path, format!("packages[{}]: not an object, skipped", excerpt(key))));
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if !include_dev && entry.get("dev").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = str_field(entry, "name").unwrap_or_else(|| name_from_lock_path(key));
            let Some(version) = str_field(entry, "version") else {
                warnings.push(Warning::package(path, format!("packages[{}]: no version, skipped", excerpt(key))));
                continue;
            };
            let mut pkg = Package::new(PackageKind::Npm, name.to_owned(), version.to_owned(), path);
            pkg.license = license_of(entry);
            pkg.dependencies = dep_names(entry, &["dependencies", "optionalDependencies"]);
            packages.push(pkg);
        }
    } else if let Some(deps) = obj.get("dependencies").and_then(Value::as_object) {
        v1_dependencies(deps, path, include_dev, 0, &mut packages, &mut warnings);
    } else {
        warnings.push(Warning::package(path, "neither packages nor dependencies, no packages"));
    }
    dedup(&mut packages);
    (packages, warnings)
}

fn v1_dependencies(
    deps: &Map<String, Value>,
    path: &str,
    include_dev: bool,
    depth: usize,
    packages: &mut Vec<Package>,
    warnings: &mut Vec<Warning>,
) {
    if depth >= MAX_DEPTH {
        warnings.push(Warning::package(path, format!("dependencies nested deeper than {MAX_DEPTH}, not followed")));
        return;
    }
    for (name, entry) in deps {
        let Some(entry) = entry.as_object() else {
            warnings.push(Warning::package(path, format!("dependencies[{}]: not an object, skipped", excerpt(name))));
            continue;
        };
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            v1_dependencies(nested, path, include_dev, depth + 1, packages, warnings);
        }
        if !include_dev && entry.get("dev").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(version) = str_field(entry, "version") else {
            warnings.push(Warning::package(path, format!("dependencies[{}]: no version, skipped", excerpt(name))));
            continue;
        };
        let (name, version) = unalias(name, version);
        let mut pkg = Package::new(PackageKind::Npm, name.to_owned(), version.to_owned(), path);
        pkg.dependencies = dep_names(entry, &["requires"]);
        packages.push(pkg);
    }
}

/// Unquotes a YAML or yarn scalar: `"a\"b"`, `'a''b'` or a plain scalar.
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return s[1..s.len() - 1].replace("''", "'");
    }
    s.to_owned()
}

/// One node of the block-mapping subset of YAML that lockfiles use.
#[derive(Debug, Default)]
struct YamlNode {
    key: String,
    /// The scalar (unquoted) or flow collection (raw text) after the colon; empty for a
    /// mapping or a list.
    value: String,
    /// Nested entries; list items have the key `-`.
    children: Vec<YamlNode>,
}

impl YamlNode {
    fn get(&self, key: &str) -> Option<&YamlNode> {
        self.children.iter().find(|c| c.key == key)
    }
    fn value_of(&self, key: &str) -> Option<&str> {
        self.get(key).map(|n| n.value.as_str()).filter(|v| !v.is_empty())
    }
}

/// Splits `key: value` where the key may be quoted. `None` when the line has no mapping colon.
fn split_yaml_key(content: &str) -> Option<(String, &str)> {
    if let Some(q) = content.chars().next().filter(|c| *c == '"' || *c == '\'') {
        // Find the closing quote (doubled quotes inside single-quoted keys, backslash escapes
        // inside double-quoted ones).
        let bytes = content.as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            let b = bytes[i];
            if q == '"' && b == b'\\' {
                i += 2;
                continue;
            }
            if b == q as u8 {
                if q == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        let rest = content.get(i + 1..)?.trim_start().strip_prefix(':')?;
        return Some((unquote(&content[..=i]), rest.trim()));
    }
    if let Some(i) = content.find(": ") {
        return Some((content[..i].trim().to_owned(), content[i + 2..].trim()));
    }
    content.strip_suffix(':').map(|k| (k.trim().to_owned(), ""))
}

/// Parses the block-mapping subset of YAML written by yarn berry and pnpm: nested mappings
/// by indentation, `- item` lists, quoted keys and scalars, one-line flow collections kept
/// as raw text, block scalars skipped. Documents are split at `---`. Never panics; lines it
/// cannot read are warnings.
fn parse_yaml_lite(text: &str, path: &str, warnings: &mut Vec<Warning>) -> Vec<YamlNode> {
    let mut docs = Vec::new();
    let mut roots: Vec<YamlNode> = Vec::new();
    let mut stack: Vec<(usize, YamlNode)> = Vec::new();
    let mut block_scalar_indent: Option<usize> = None;
    let mut reported = 0usize;

    fn close_to(stack: &mut Vec<(usize, YamlNode)>, roots: &mut Vec<YamlNode>, indent: Option<usize>) {
        while let Some((top_indent, _)) = stack.last() {
            if indent.is_some_and(|i| *top_indent < i) {
                break;
            }
            let Some((_, node)) = stack.pop() else { break };
            match stack.last_mut() {
                Some((_, parent)) => parent.children.push(node),
                None => roots.push(node),
            }
        }
    }

    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut indent = line.len() - content.len();
        if let Some(bi) = block_scalar_indent {
            if indent > bi {
                continue;
            }
            block_scalar_indent = None;
        }
        if indent == 0 && (content == "---" || content == "...") {
            close_to(&mut stack, &mut roots, None);
            if !roots.is_empty() {
                docs.push(YamlNode { children: std::mem::take(&mut roots), ..Default::default() });
            }
            continue;
        }
        let (key, value) = if let Some(item) = content.strip_prefix("- ").or((content == "-").then_some("")) {
            // YAML allows a list at the same indentation as its parent key: such items are
            // nested one column deeper than their key (the first item), or than the previous
            // such item (the following ones).
            if let Some((top_indent, top)) = stack.last()
                && ((*top_indent == indent && top.key != "-" && top.value.is_empty())
                    || (*top_indent == indent + 1 && top.key == "-"))
            {
                indent += 1;
            }
            ("-".to_owned(), item.trim())
        } else if let Some((k, v)) = split_yaml_key(content) {
            (k, v)
        } else {
            if reported < 10 {
                warnings.push(Warning::package(
                    path,
                    format!("line {}: not a YAML mapping line: {}", lineno + 1, excerpt(content)),
                ));
            }
            reported += 1;
            continue;
        };
        close_to(&mut stack, &mut roots, Some(indent));
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar_indent = Some(indent);
        }
        if stack.len() >= MAX_YAML_DEPTH {
            if reported < 10 {
                warnings.push(Warning::package(
                    path,
                    format!("line {}: nested deeper than {MAX_YAML_DEPTH}, skipped", lineno + 1),
                ));
            }
            reported += 1;
            continue;
        }
        let value = if value.starts_with(['{', '[', '|', '>']) { value.to_owned() } else { unquote(value) };
        stack.push((indent, YamlNode { key, value, children: Vec::new() }));
    }
    close_to(&mut stack, &mut roots, None);
    if !roots.is_empty() {
        docs.push(YamlNode { children: roots, ..Default::default() });
    }
    if reported > 10 {
        warnings.push(Warning::package(path, format!("{} more unreadable lines", reported - 10)));
    }
    docs
}

/// Parses a `yarn.lock`: the classic v1 format, or the berry (yarn 2+) YAML format, which is
/// recognised by its `__metadata` entry. Workspace entries (the project itself) are skipped.
pub fn parse_yarn_lock(bytes: &[u8], path: &str) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let is_berry = text.lines().any(|l| l.trim_end() == "__metadata:");
    let (mut packages, warnings) = if is_berry { yarn_berry(&text, path) } else { yarn_classic(&text, path) };
    dedup(&mut packages);
    (packages, warnings)
}

fn yarn_classic(text: &str, path: &str) -> (Vec<Package>, Vec<Warning>) {
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    // (name from the first specifier, version, dependency names)
    let mut current: Option<(String, Option<String>, Vec<String>, usize)> = None;
    let mut in_deps = false;
    let mut finish = |cur: Option<(String, Option<String>, Vec<String>, usize)>, warnings: &mut Vec<Warning>| {
        let Some((name, version, mut deps, line)) = cur else { return };
        match version {
            Some(v) => {
                let mut pkg = Package::new(PackageKind::Npm, name, v, path);
                deps.sort_unstable();
                deps.dedup();
                pkg.dependencies = deps;
                packages.push(pkg);
            }
            None => warnings.push(Warning::package(
                path,
                format!("entry at line {line} ({}): no version, skipped", excerpt(&name)),
            )),
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if indent == 0 {
            finish(current.take(), &mut warnings);
            in_deps = false;
            // `"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":`
            let first = content.trim_end_matches(':').split(", ").next().map(unquote).unwrap_or_default();
            match split_name_version(&first) {
                Some((name, _)) => current = Some((name.to_owned(), None, Vec::new(), i + 1)),
                None => warnings
                    .push(Warning::package(path, format!("line {}: not an entry header: {}", i + 1, excerpt(content)))),
            }
            continue;
        }
        let Some((_, version, deps, _)) = current.as_mut() else { continue };
        if indent <= 2 {
            in_deps = matches!(content, "dependencies:" | "optionalDependencies:");
            if let Some(v) = content.strip_prefix("version ") {
                *version = Some(unquote(v)).filter(|v| !v.is_empty());
            }
        } else if in_deps {
            let name = match content.strip_prefix('"') {
                Some(rest) => rest.split('"').next().unwrap_or_default(),
                None => content.split(' ').next().unwrap_or_default(),
            };
            if !name.is_empty() {
                deps.push(name.to_owned());
            }
        }
    }
    finish(current.take(), &mut warnings);
    (packages, warnings)
}

fn yarn_berry(text: &str, path: &str) -> (Vec<Package>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let mut packages = Vec::new();
    for doc in parse_yaml_lite(text, path, &mut warnings) {
        for entry in doc.children.iter().filter(|e| e.key != "__metadata") {
            let resolution = entry.value_of("resolution").unwrap_or(&entry.key);
            // `async@npm:3.2.6`, `my-app@workspace:.`, `resolve@patch:resolve@npm%3A1.22.1#…`
            let Some((name, reference)) = split_name_version(resolution) else {
                warnings
                    .push(Warning::package(path, format!("{}: unreadable resolution, skipped", excerpt(resolution))));
                continue;
            };
            if reference.starts_with("workspace:") {
                continue;
            }
            let Some(version) = entry.value_of("version") else {
                warnings.push(Warning::package(path, format!("{}: no version, skipped", excerpt(&entry.key))));
                continue;
            };
            let mut pkg = Package::new(PackageKind::Npm, name.to_owned(), version.to_owned(), path);
            let mut deps: Vec<String> = ["dependencies", "optionalDependencies"]
                .iter()
                .filter_map(|k| entry.get(k))
                .flat_map(|d| d.children.iter().map(|c| c.key.clone()))
                .collect();
            deps.sort_unstable();
            deps.dedup();
            pkg.dependencies = deps;
            packages.push(pkg);
        }
    }
    (packages, warnings)
}

/// Splits a pnpm `packages`/`snapshots` key into name and version:
/// v5 `/@scope/name/1.0.0_peer@2`, v6 `/name@1.0.0(peer@2)`, v9 `name@1.0.0(peer@2)`.
fn pnpm_key(key: &str, major: u32) -> Option<(String, String)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if major < 6 {
        let (name, version) = key.rsplit_once('/')?;
        let version = version.split('_').next()?;
        // A registry-qualified key (`registry.npmjs.org/name/1.0.0`) keeps only the name.
        let name = match name.find('@') {
            Some(i) if i > 0 => &name[i..],
            _ => name.rsplit('/').next().filter(|_| !name.starts_with('@')).unwrap_or(name),
        };
        return Some((name.to_owned(), version.to_owned())).filter(|(n, v)| !n.is_empty() && !v.is_empty());
    }
    let base = key.split('(').next()?;
    let (name, version) = split_name_version(base)?;
    Some((name.to_owned(), version.to_owned()))
}

/// Parses a `pnpm-lock.yaml` (lockfile versions 5.x, 6.x and 9.x). Package keys give name and
/// version (peer-dependency suffixes removed); dependencies come from the package entry (5, 6)
/// or its `snapshots` entry (9).
pub fn parse_pnpm_lock(bytes: &[u8], path: &str, include_dev: bool) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut warnings = Vec::new();
    let mut packages = Vec::new();
    let docs = parse_yaml_lite(&text, path, &mut warnings);
    // pnpm 9 may write a second document (the environment lockfile) before the project's.
    let Some(doc) = docs.iter().rev().find(|d| d.get("packages").is_some()).or(docs.last()) else {
        return (Vec::new(), vec![Warning::package(path, "empty lockfile")]);
    };
    let version = doc.value_of("lockfileVersion").unwrap_or("");
    let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if major == 0 {
        warnings.push(Warning::package(path, format!("unknown lockfileVersion {}", excerpt(version))));
    }
    let snapshots = doc.get("snapshots");
    for entry in doc.get("packages").map(|p| p.children.as_slice()).unwrap_or_default() {
        let Some((name, version)) = pnpm_key(&entry.key, major) else {
            warnings.push(Warning::package(path, format!("packages: unreadable key {}, skipped", excerpt(&entry.key))));
            continue;
        };
        if !include_dev && entry.value_of("dev") == Some("true") {
            continue;
        }
        let mut pkg = Package::new(PackageKind::Npm, name, version, path);
        let mut deps: Vec<String> = Vec::new();
        let mut add_deps = |node: &YamlNode| {
            for k in ["dependencies", "optionalDependencies"] {
                deps.extend(node.get(k).into_iter().flat_map(|d| d.children.iter().map(|c| c.key.clone())));
            }
        };
        add_deps(entry);
        if let Some(snapshots) = snapshots {
            for snap in snapshots.children.iter().filter(|s| s.key.split('(').next() == Some(entry.key.as_str())) {
                add_deps(snap);
            }
        }
        deps.sort_unstable();
        deps.dedup();
        pkg.dependencies = deps;
        packages.push(pkg);
    }
    dedup(&mut packages);
    (packages, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(split_name_version("@babel/core@7.21.4"), Some(("@babel/core", "7.21.4")));
        assert_eq!(split_name_version("react@18.2.0"), Some(("react", "18.2.0")));
        assert_eq!(split_name_version("@scope"), None);
        assert_eq!(name_from_lock_path("node_modules/a/node_modules/@s/b"), "@s/b");
        assert_eq!(unalias("alias", "npm:@s/real@1.0.0"), ("@s/real", "1.0.0"));
    }

    #[test]
    fn pnpm_keys() {
        let k = |key, major| pnpm_key(key, major).map(|(n, v)| format!("{n} {v}"));
        assert_eq!(k("/acorn-jsx/5.3.2_acorn@8.8.0", 5).as_deref(), Some("acorn-jsx 5.3.2"));
        assert_eq!(k("/@babel/core/7.21.4", 5).as_deref(), Some("@babel/core 7.21.4"));
        assert_eq!(k("/react-dom@18.2.0(react@18.2.0)", 6).as_deref(), Some("react-dom 18.2.0"));
        assert_eq!(k("@types/node@20.1.0", 9).as_deref(), Some("@types/node 20.1.0"));
    }

    #[test]
    fn yaml_lite_nesting_and_quotes() {
        let mut w = Vec::new();
        let docs = parse_yaml_lite(
            "a:\n  'b@1(c@2)':\n    x: \"1\"\n    list:\n    - one\n    - two\n  c: {k: v}\nd: |\n  text\n  more\ne: 'it''s'\n",
            "/y",
            &mut w,
        );
        assert!(w.is_empty(), "{w:?}");
        let root = &docs[0];
        let b = root.get("a").and_then(|a| a.get("b@1(c@2)")).expect("b");
        assert_eq!(b.value_of("x"), Some("1"));
        assert_eq!(b.get("list").map(|l| l.children.len()), Some(2));
        assert_eq!(root.get("a").and_then(|a| a.value_of("c")), Some("{k: v}"));
        assert_eq!(root.value_of("e"), Some("it's"));
    }
}
