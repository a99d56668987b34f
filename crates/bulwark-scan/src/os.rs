//! Which distribution an image is, from `os-release` and the older release files.
//! (The full OS detection with OSV ecosystem mapping belongs to the catalog crate.)

use bulwark_core::report::OsRelease;
use bulwark_image::layer::LayerIndex;
use bulwark_image::view::FileView;

/// Parses `os-release(5)`: `KEY=value` lines, values optionally quoted with shell escapes.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = if v.len() >= 2
                && (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\''))
            {
                let inner = &v[1..v.len() - 1];
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
                out
            } else {
                v.to_owned()
            };
            Some((k.trim().to_owned(), v))
        })
        .collect()
}

/// Detects the OS of a squashed image.
pub fn detect(view: &FileView, layers: &[std::sync::Arc<LayerIndex>]) -> Option<OsRelease> {
    for path in ["etc/os-release", "usr/lib/os-release"] {
        if let Some(bytes) = view.read_captured(layers, path) {
            let kv = parse_os_release(&String::from_utf8_lossy(bytes));
            let get =
                |k: &str| kv.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
            if let Some(id) = get("ID") {
                return Some(OsRelease {
                    id: id.to_ascii_lowercase(),
                    version_id: get("VERSION_ID"),
                    version_codename: get("VERSION_CODENAME"),
                    pretty_name: get("PRETTY_NAME"),
                    source: format!("/{path}"),
                });
            }
        }
    }
    let first_line = |path: &str| {
        view.read_captured(layers, path)
            .map(|b| String::from_utf8_lossy(b).lines().next().unwrap_or_default().trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    if let Some(v) = first_line("etc/alpine-release") {
        return Some(OsRelease {
            id: "alpine".into(),
            version_id: Some(v),
            version_codename: None,
            pretty_name: None,
            source: "/etc/alpine-release".into(),
        });
    }
    if let Some(v) = first_line("etc/debian_version") {
        return Some(OsRelease {
            id: "debian".into(),
            version_id: Some(v),
            version_codename: None,
            pretty_name: None,
            source: "/etc/debian_version".into(),
        });
    }
    for path in ["etc/redhat-release", "etc/system-release"] {
        if let Some(line) = first_line(path) {
            // "Rocky Linux release 9.3 (Blue Onyx)"
            let version = line.split(" release ").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned);
            let name = line.split(" release ").next().unwrap_or_default();
            let id = release_file_id(name);
            return Some(OsRelease {
                id,
                version_id: version,
                version_codename: None,
                pretty_name: Some(line),
                source: format!("/{path}"),
            });
        }
    }
    None
}

/// Maps the product name in `/etc/redhat-release` to its os-release `ID`.
fn release_file_id(name: &str) -> String {
    const IDS: &[(&str, &str)] = &[
        ("Red Hat Enterprise Linux", "rhel"),
        ("CentOS", "centos"),
        ("Rocky Linux", "rocky"),
        ("AlmaLinux", "almalinux"),
        ("Fedora", "fedora"),
        ("Amazon Linux", "amzn"),
        ("Oracle Linux", "ol"),
    ];
    IDS.iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, id)| (*id).to_owned())
        .unwrap_or_else(|| name.split_whitespace().next().unwrap_or("unknown").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> std::path::PathBuf {
        std::env::var_os("BULWARK_SHARED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
    }

    #[test]
    fn detects_real_release_files() {
        let root = shared().join("fixtures/os-pkgdb/syft/linux/testdata/os");
        assert!(root.exists(), "{} is missing; set BULWARK_SHARED", root.display());
        let opts = bulwark_image::layer::AnalyzeOptions::default();
        for (dir, id, version) in [
            ("alpine", "alpine", "3.11.6"),
            ("debian/with-point-release", "debian", "13"),
            ("redhat/from-redhat-release", "rhel", "8.10"),
            ("centos5", "centos", "5.7"),
            ("amazon", "amzn", "2"),
            ("wolfi", "wolfi", "20220914"),
            ("photon", "photon", "2.0"),
        ] {
            let layer = bulwark_image::source::dir::read_rootfs(&root.join(dir), &opts, &Default::default()).unwrap();
            let layers = vec![std::sync::Arc::new(layer)];
            let view = FileView::build(layers.iter().map(|l| l.as_ref()));
            let os = detect(&view, &layers).unwrap_or_else(|| panic!("{dir}: nothing detected"));
            assert_eq!((os.id.as_str(), os.version_id.as_deref()), (id, Some(version)), "{dir}");
        }
        let kv = parse_os_release("NAME=\"Debian GNU/Linux\"\nID=debian\nPRETTY_NAME='A \\\"q\\\"'\n# c\n");
        assert_eq!(kv[0], ("NAME".into(), "Debian GNU/Linux".into()));
        assert_eq!(kv[2].1, "A \"q\"");
    }
}
