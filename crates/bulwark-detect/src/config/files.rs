//! Checks of the files, packages and layers an image holds: file modes, package
//! manager caches, package-level findings, oversized layers.

use super::*;

pub(super) fn file_mode_checks(image: &dyn AnalyzedImage, base: usize, out: &mut Vec<ConfigFinding>) {
    // Paths a base layer already shipped with the same special bits: a later layer that
    // rewrites them (an upgrade, a `chown -R`) did not add the risk.
    let mut base_setid = BTreeSet::new();
    let mut base_writable = BTreeSet::new();
    for layer in image.layers().iter().take(base) {
        for e in &layer.entries {
            if matches!(e.kind, EntryKind::File) && e.mode & 0o6000 != 0 {
                base_setid.insert(e.path.as_str());
            }
            if world_writable(&e.kind, e.mode) {
                base_writable.insert(e.path.as_str());
            }
        }
    }
    for (path, node) in image.view().iter() {
        if node.layer < base {
            continue;
        }
        let e = &node.entry;
        if matches!(e.kind, EntryKind::File) && e.mode & 0o6000 != 0 && !base_setid.contains(path) {
            let bits = match (e.mode & 0o4000 != 0, e.mode & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            out.push(finding(
                SETID_FILE,
                format!(
                    "/{path} is {bits} (mode {:04o}, owner {}:{}), added in layer {}",
                    e.mode & 0o7777,
                    e.uid,
                    e.gid,
                    node.layer
                ),
                file_loc(path, node.layer, None),
            ));
        }
        if world_writable(&e.kind, e.mode) && !base_writable.contains(path) {
            let what = if matches!(e.kind, EntryKind::Dir) { "directory (no sticky bit)" } else { "file" };
            out.push(finding(
                WORLD_WRITABLE,
                format!(
                    "/{path} is a world-writable {what} (mode {:04o}), added in layer {}",
                    e.mode & 0o7777,
                    node.layer
                ),
                file_loc(path, node.layer, None),
            ));
        }
    }
}

pub(super) fn world_writable(kind: &EntryKind, mode: u32) -> bool {
    mode & 0o002 != 0
        && match kind {
            EntryKind::File => true,
            EntryKind::Dir => mode & 0o1000 == 0,
            EntryKind::Symlink { .. } | EntryKind::Hardlink { .. } => false,
        }
}

/// A package manager's cache: its name, the directory reported, and which files count.
pub(super) struct Cache {
    name: &'static str,
    dir: &'static str,
    matches: fn(&str) -> bool,
}

pub(super) const CACHES: &[Cache] = &[
    Cache {
        name: "apt package archives",
        dir: "var/cache/apt/archives",
        matches: |p| p.starts_with("var/cache/apt/archives/") && p.ends_with(".deb"),
    },
    Cache {
        name: "apt package lists",
        dir: "var/lib/apt/lists",
        matches: |p| p.strip_prefix("var/lib/apt/lists/").is_some_and(|f| !f.contains('/') && f.contains("_Packages")),
    },
    Cache {
        name: "apk cache",
        dir: "var/cache/apk",
        matches: |p| p.strip_prefix("var/cache/apk/").is_some_and(|f| f.ends_with(".apk") || f.starts_with("APKINDEX")),
    },
    Cache { name: "yum cache", dir: "var/cache/yum", matches: |p| p.starts_with("var/cache/yum/") },
    Cache { name: "dnf cache", dir: "var/cache/dnf", matches: |p| p.starts_with("var/cache/dnf/") },
    Cache { name: "pip cache", dir: "root/.cache/pip", matches: |p| p.starts_with("root/.cache/pip/") },
    Cache { name: "npm cache", dir: "root/.npm/_cacache", matches: |p| p.starts_with("root/.npm/_cacache/") },
];

/// Home-directory caches of other users: `home/<user>/.cache/pip/…`, `home/<user>/.npm/_cacache/…`.
pub(super) fn home_cache(path: &str) -> Option<(&'static str, String)> {
    let rest = path.strip_prefix("home/")?;
    let (user, rest) = rest.split_once('/')?;
    if rest.starts_with(".cache/pip/") {
        Some(("pip cache", format!("home/{user}/.cache/pip")))
    } else if rest.starts_with(".npm/_cacache/") {
        Some(("npm cache", format!("home/{user}/.npm/_cacache")))
    } else {
        None
    }
}

pub(super) fn cache_checks(image: &dyn AnalyzedImage, out: &mut Vec<ConfigFinding>) {
    // (dir, layer) -> (name, files, bytes, files still visible)
    let mut found: BTreeMap<(String, usize), (&'static str, u64, u64, u64)> = BTreeMap::new();
    for (layer, index) in image.layers().iter().enumerate() {
        for e in &index.entries {
            if !matches!(e.kind, EntryKind::File) || e.size == 0 {
                continue;
            }
            let hit = CACHES
                .iter()
                .find(|c| (c.matches)(&e.path))
                .map(|c| (c.name, c.dir.to_owned()))
                .or_else(|| home_cache(&e.path));
            let Some((name, dir)) = hit else { continue };
            let slot = found.entry((dir, layer)).or_insert((name, 0, 0, 0));
            slot.1 += 1;
            slot.2 += e.size;
            slot.3 += u64::from(image.view().superseded_in(&e.path, layer).is_none());
        }
    }
    for ((dir, layer), (name, files, bytes, visible)) in found {
        let gone = if visible == 0 { " (deleted by a later layer, but the bytes still ship)" } else { "" };
        out.push(finding(
            PACKAGE_CACHE,
            format!(
                "{name}: {}, {} in /{dir}, left by layer {layer}{gone}",
                bulwark_core::plural::count(files, "file", "files"),
                human(bytes)
            ),
            file_loc(&dir, layer, None),
        ));
    }
}

pub(super) fn package_checks(report: &ScanReport, out: &mut Vec<ConfigFinding>) {
    for p in &report.packages {
        if p.removed_in.is_some() || !matches!(p.ecosystem.as_str(), "deb" | "apk" | "rpm") {
            continue;
        }
        let id = match p.name.as_str() {
            "sudo" | "sudo-rs" | "sudo-ldap" => SUDO_INSTALLED,
            "openssh-server" | "openssh-server-pam" | "dropbear" => SSH_SERVER,
            _ => continue,
        };
        let layer = p.layer.map(|l| format!(", installed in layer {l}")).unwrap_or_default();
        let location = p.locations.first().map(|path| FileLocation {
            path: path.clone(),
            layer: p.layer,
            removed_in: None,
            line: None,
            entry: None,
        });
        out.push(finding(
            id,
            format!("{} package {} {} is installed{layer}", p.ecosystem, p.name, p.version),
            location,
        ));
    }
}

pub(super) fn large_layer_check(image: &dyn AnalyzedImage, opts: &ConfigOptions, out: &mut Vec<ConfigFinding>) {
    let total: u64 = image.layers().iter().map(|l| l.uncompressed_size).sum();
    if total == 0 {
        return;
    }
    for (i, l) in image.layers().iter().enumerate() {
        let size = l.uncompressed_size;
        if size <= opts.large_layer_bytes || (size as f64) <= opts.large_layer_share * total as f64 {
            continue;
        }
        let step = image.created_by(i).map(|s| format!(" (created by {})", short(s))).unwrap_or_default();
        out.push(finding(
            LARGE_LAYER,
            format!(
                "layer {i} is {} of the image's {} uncompressed ({:.0}%){step}",
                human(size),
                human(total),
                100.0 * size as f64 / total as f64
            ),
            file_loc("/", i, None),
        ));
    }
}

/// A history step cut to a readable length (on a char boundary).
pub(super) fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

pub(super) fn human(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}
