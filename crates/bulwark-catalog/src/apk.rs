//! apk: `lib/apk/db/installed`. One block per package, blocks separated by blank lines,
//! each line `X:value` with a one-letter key (see apk-tools' `apk_db_index_read` and the
//! Alpine wiki's "Apk spec"): `P` name, `V` version, `A` arch, `o` origin (source package),
//! `L` license, `m` maintainer, `F` a directory, `R` a file inside the last `F`.

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Limits, Parsed, Warnings, excerpt, package_limit};

/// Parses `lib/apk/db/installed` with the default [`Limits`].
pub fn parse_installed(bytes: &[u8], db_path: &str) -> Parsed {
    parse_installed_with(bytes, db_path, &Limits::default())
}

/// Parses `lib/apk/db/installed`, block by block: packages beyond `max_packages` and files
/// beyond `max_files` per package are counted in a warning, not kept.
pub fn parse_installed_with(bytes: &[u8], db_path: &str, limits: &Limits) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Out { packages: Vec::new(), warnings: Warnings::about(db_path), dropped: 0, limits };
    let mut block = Block::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            block.finish(db_path, &mut out);
            continue;
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' || !bytes[0].is_ascii_alphabetic() {
            out.warnings.push(|| format!("line {lineno}: not an apk field: {}", excerpt(line)));
            continue;
        }
        if block.start == 0 {
            block.start = lineno;
        }
        let value = &line[2..];
        match bytes[0] {
            b'P' => block.name = Some(value.to_owned()),
            b'V' => block.version = Some(value.to_owned()),
            b'A' => block.arch = Some(value.to_owned()),
            b'o' => block.origin = Some(value.to_owned()),
            b'L' => block.license = Some(value.to_owned()),
            b'F' => block.dir = Some(value.trim_matches('/').to_owned()),
            b'R' if block.files.len() >= limits.max_files => block.files_dropped += 1,
            b'R' => {
                let path = match block.dir.as_deref() {
                    Some(dir) if !dir.is_empty() => format!("/{dir}/{value}"),
                    _ => format!("/{value}"),
                };
                block.files.push(path);
            }
            _ => {}
        }
    }
    block.finish(db_path, &mut out);
    let Out { mut packages, mut warnings, dropped, .. } = out;
    if dropped > 0 {
        warnings.limit(package_limit(limits.max_packages, db_path, dropped));
    }
    sort_packages(&mut packages);
    (packages, warnings.finish())
}

/// What the blocks read so far produced.
struct Out<'a> {
    packages: Vec<Package>,
    warnings: Warnings,
    /// Packages not kept because of `limits.max_packages`.
    dropped: u64,
    limits: &'a Limits,
}

#[derive(Default)]
struct Block {
    start: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    license: Option<String>,
    dir: Option<String>,
    files: Vec<String>,
    /// `R:` lines beyond `max_files`.
    files_dropped: u64,
}

impl Block {
    fn finish(&mut self, db_path: &str, out: &mut Out<'_>) {
        let b = std::mem::take(self);
        if b.start == 0 {
            return;
        }
        let (Some(name), Some(version)) = (b.name.filter(|n| !n.is_empty()), b.version.filter(|v| !v.is_empty()))
        else {
            out.warnings.push(|| format!("block at line {}: no P: name or V: version, skipped", b.start));
            return;
        };
        if out.packages.len() >= out.limits.max_packages {
            out.dropped += 1;
            return;
        }
        if b.files_dropped > 0 {
            out.warnings.files_dropped(out.limits.max_files, &name, b.files_dropped);
        }
        let mut pkg = Package::new(PackageKind::Apk, name.clone(), version.clone(), db_path);
        pkg.arch = b.arch.filter(|a| !a.is_empty());
        // Sub-packages share their origin's version: apk builds them from one APKBUILD.
        pkg.source_name = Some(b.origin.filter(|o| !o.is_empty()).unwrap_or(name));
        pkg.source_version = Some(version);
        pkg.license = b.license.filter(|l| !l.is_empty());
        pkg.files = b.files;
        pkg.normalise_files();
        out.packages.push(pkg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_follow_their_directory() {
        let db = b"P:a\nV:1-r0\nR:rootfile\nF:usr/bin\nR:x\nF:etc\nR:y\n\n\nP:b\n";
        let (pkgs, warnings) = parse_installed(db, "/lib/apk/db/installed");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].files, vec!["/etc/y", "/rootfile", "/usr/bin/x"]);
        assert_eq!(pkgs[0].source_name.as_deref(), Some("a"));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].path.as_deref(), Some("/lib/apk/db/installed"));
        assert_eq!(warnings[0].message, "block at line 10: no P: name or V: version, skipped");
    }

    #[test]
    fn limits_keep_the_first_records_and_count_the_rest() {
        let db: String = (0..5).map(|i| format!("P:p{i}\nV:1-r0\nF:usr\nR:a\nR:b\nR:c\n\n")).collect();
        let limits = Limits { max_packages: 2, max_files: 2 };
        let (pkgs, warnings) = parse_installed_with(db.as_bytes(), "/i", &limits);
        assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["p0", "p1"]);
        assert!(pkgs.iter().all(|p| p.files == ["/usr/a", "/usr/b"]));
        assert!(warnings.iter().all(|w| w.kind == crate::WarningKind::Limit && w.path.is_none()));
        assert_eq!(
            warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "limit reached: --max-packages=2: /i: packages (3 more not checked)",
                "limit reached: --max-package-files=2: /i: files of 2 packages (the first p0) (2 more not checked)",
            ]
        );
    }
}
