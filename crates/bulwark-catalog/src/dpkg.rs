//! dpkg: `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/*`, and the owned-file
//! lists in `var/lib/dpkg/info/<pkg>[:<arch>].{list,md5sums}`.
//!
//! Format: deb822 paragraphs (`deb-control(5)`, `deb-status(5)`): `Field: value` lines,
//! continuation lines start with a space or tab, paragraphs are separated by blank lines.

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Limits, Parsed, Warning, Warnings, excerpt, package_limit};

/// Which kind of `info/` file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoKind {
    /// `<pkg>.list`: every path the package installed, directories included.
    List,
    /// `<pkg>.md5sums`: `<md5>  <path>` for each regular file.
    Md5sums,
}

/// One deb822 paragraph: fields in order, values with continuation lines joined by `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
    /// 1-based line number where the paragraph starts, for warnings.
    pub line: usize,
}

impl Paragraph {
    /// The value of a field (names are case-insensitive in deb822).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One line of deb822 text.
enum Line<'a> {
    Blank,
    /// A continuation line, trimmed.
    Continuation(&'a str),
    /// `Name: value`, the value trimmed.
    Field(&'a str, &'a str),
    Bad,
}

fn classify(line: &str) -> Line<'_> {
    if line.trim().is_empty() {
        return Line::Blank;
    }
    if line.starts_with([' ', '\t']) {
        return Line::Continuation(line.trim());
    }
    match line.split_once(':') {
        Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
            Line::Field(name, value.trim())
        }
        _ => Line::Bad,
    }
}

/// Splits deb822 text into paragraphs. Lines that are neither fields nor continuations are
/// reported as warnings (at most [`crate::MAX_WARNINGS`], the rest counted; without a path,
/// the caller knows the file) and skipped. Holds every paragraph in memory; [`parse_status`] streams instead.
pub fn parse_paragraphs(bytes: &[u8]) -> (Vec<Paragraph>, Vec<Warning>) {
    let text = String::from_utf8_lossy(bytes);
    let mut paragraphs = Vec::new();
    let mut warnings = Warnings::default();
    let mut current = Paragraph::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        match classify(line) {
            Line::Blank => {
                if !current.fields.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
            }
            Line::Continuation(more) => match current.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(more);
                }
                None => warnings.push(|| format!("line {lineno}: continuation line without a field")),
            },
            Line::Field(name, value) => {
                if current.fields.is_empty() {
                    current.line = lineno;
                }
                current.fields.push((name.to_owned(), value.to_owned()));
            }
            Line::Bad => warnings.push(|| format!("line {lineno}: not a field: {}", excerpt(line))),
        }
    }
    if !current.fields.is_empty() {
        paragraphs.push(current);
    }
    (paragraphs, warnings.finish())
}

/// Whether a `Status:` value (`want flag state`, see `dpkg-query(1)`) means the package's
/// files are on disk as a configured install. `hold ok installed` (pinned with
/// `apt-mark hold`) counts; `deinstall ok config-files`, half-installed and similar do not.
pub fn status_is_installed(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    matches!(words.as_slice(), ["install" | "hold", "ok", "installed"])
}

/// Splits `Source: name (version)` into its parts.
fn parse_source(source: &str) -> (String, Option<String>) {
    match source.split_once('(') {
        Some((name, rest)) => {
            let version = rest.trim_end().trim_end_matches(')').trim();
            (name.trim().to_owned(), Some(version.to_owned()).filter(|v| !v.is_empty()))
        }
        None => (source.trim().to_owned(), None),
    }
}

/// Parses a dpkg `status` file or one `status.d/` file. Paragraphs with a `Status:` field
/// count only when installed (see [`status_is_installed`]); distroless `status.d/` files
/// have no `Status:` field and every paragraph in them counts. `Conffiles:` entries are
/// added to the owned files. With the default [`Limits`]; see [`parse_status_with`].
pub fn parse_status(bytes: &[u8], db_path: &str) -> Parsed {
    parse_status_with(bytes, db_path, &Limits::default())
}

/// The fields of a paragraph [`parse_status_with`] uses; every other field is skipped
/// as it is read, so that memory does not grow with a paragraph's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Package,
    Status,
    Version,
    Architecture,
    Source,
    Conffiles,
}

impl Kept {
    fn of(name: &str) -> Option<Kept> {
        [
            ("Package", Kept::Package),
            ("Status", Kept::Status),
            ("Version", Kept::Version),
            ("Architecture", Kept::Architecture),
            ("Source", Kept::Source),
            ("Conffiles", Kept::Conffiles),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| k)
    }
}

/// The paragraph being read: the first value of each kept field (deb822 names are
/// case-insensitive; a repeated field's first value wins, as [`Paragraph::get`] does).
#[derive(Default)]
struct Stanza {
    /// 1-based line of the first field; 0 while the paragraph has none.
    line: usize,
    values: [Option<String>; 5],
    /// Conffiles paths, at most `max_files`.
    conffiles: Vec<String>,
    conffiles_dropped: u64,
    has_conffiles: bool,
    /// The field continuation lines belong to, when it is one that is kept.
    last: Option<Kept>,
}

impl Stanza {
    fn get(&self, k: Kept) -> Option<&str> {
        self.values.get(k as usize).and_then(|v| v.as_deref())
    }

    fn conffile(&mut self, line: &str, max: usize) {
        // ` /etc/foo.conf <md5> [obsolete]` per line.
        if let Some(f) = line.split_whitespace().next().filter(|f| f.starts_with('/')) {
            if self.conffiles.len() < max {
                self.conffiles.push(f.to_owned());
            } else {
                self.conffiles_dropped += 1;
            }
        }
    }
}

/// [`parse_status`] with explicit limits. Reads paragraph by paragraph, keeping only the
/// fields it uses, so memory is bounded by the packages kept, not by the file.
pub fn parse_status_with(bytes: &[u8], db_path: &str, limits: &Limits) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let mut w = Warnings::about(db_path);
    let mut packages = Vec::new();
    let mut dropped = 0u64;
    let mut cur = Stanza::default();
    let mut finish = |cur: Stanza, packages: &mut Vec<Package>, w: &mut Warnings| {
        if cur.line == 0 {
            return;
        }
        let Some(name) = cur.get(Kept::Package).filter(|n| !n.is_empty()) else {
            w.push(|| format!("paragraph at line {}: no Package field, skipped", cur.line));
            return;
        };
        if let Some(status) = cur.get(Kept::Status)
            && !status_is_installed(status)
        {
            return;
        }
        let Some(version) = cur.get(Kept::Version).filter(|v| !v.is_empty()) else {
            w.push(|| format!("package {} at line {}: no Version field, skipped", excerpt(name), cur.line));
            return;
        };
        if packages.len() >= limits.max_packages {
            dropped += 1;
            return;
        }
        let mut pkg = Package::new(PackageKind::Deb, name.to_owned(), version.to_owned(), db_path);
        pkg.arch = cur.get(Kept::Architecture).filter(|a| !a.is_empty()).map(str::to_owned);
        // A `Source:` without a name (empty, or just `(version)`) is as if there were none.
        let (source_name, source_version) = match cur.get(Kept::Source).map(parse_source) {
            Some((source, version)) if !source.is_empty() => (source, version),
            _ => (name.to_owned(), None),
        };
        pkg.source_name = Some(source_name);
        pkg.source_version = Some(source_version.unwrap_or_else(|| version.to_owned()));
        if cur.conffiles_dropped > 0 {
            w.files_dropped(limits.max_files, name, cur.conffiles_dropped);
        }
        pkg.files = cur.conffiles;
        pkg.normalise_files();
        packages.push(pkg);
    };
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        match classify(line) {
            Line::Blank => finish(std::mem::take(&mut cur), &mut packages, &mut w),
            Line::Continuation(more) => match cur.last {
                _ if cur.line == 0 => w.push(|| format!("line {lineno}: continuation line without a field")),
                Some(Kept::Conffiles) => cur.conffile(more, limits.max_files),
                Some(k) => {
                    if let Some(v) = cur.values[k as usize].as_mut() {
                        v.push('\n');
                        v.push_str(more);
                    }
                }
                None => {}
            },
            Line::Field(name, value) => {
                if cur.line == 0 {
                    cur.line = lineno;
                }
                cur.last = None;
                match Kept::of(name) {
                    Some(Kept::Conffiles) if !cur.has_conffiles => {
                        cur.has_conffiles = true;
                        cur.last = Some(Kept::Conffiles);
                        cur.conffile(value, limits.max_files);
                    }
                    Some(Kept::Conffiles) | None => {}
                    Some(k) => {
                        if cur.values[k as usize].is_none() {
                            cur.values[k as usize] = Some(value.to_owned());
                            cur.last = Some(k);
                        }
                    }
                }
            }
            Line::Bad => w.push(|| format!("line {lineno}: not a field: {}", excerpt(line))),
        }
    }
    finish(cur, &mut packages, &mut w);
    if dropped > 0 {
        w.limit(package_limit(limits.max_packages, db_path, dropped));
    }
    sort_packages(&mut packages);
    (packages, w.finish())
}

/// Which package an `info/` (or distroless `status.d/`) file belongs to, from its file name:
/// `libc6:amd64.list` → `("libc6", Some("amd64"), List)`, `zlib1g.md5sums` → `("zlib1g", None, Md5sums)`.
pub fn info_file_owner(file_name: &str) -> Option<(&str, Option<&str>, InfoKind)> {
    let (stem, kind) = if let Some(s) = file_name.strip_suffix(".list") {
        (s, InfoKind::List)
    } else if let Some(s) = file_name.strip_suffix(".md5sums") {
        (s, InfoKind::Md5sums)
    } else {
        return None;
    };
    let (name, arch) = match stem.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (stem, None),
    };
    (!name.is_empty()).then_some((name, arch, kind))
}

/// Parses an `info/<pkg>.list` file: one absolute path per line (`/.` is skipped).
pub fn parse_file_list(bytes: &[u8]) -> Vec<String> {
    parse_file_list_with(bytes, usize::MAX).0
}

/// [`parse_file_list`] keeping at most `max_files` paths; also returns how many more there were.
pub fn parse_file_list_with(bytes: &[u8], max_files: usize) -> (Vec<String>, u64) {
    let mut files = Vec::new();
    let mut dropped = 0u64;
    for l in String::from_utf8_lossy(bytes).lines().map(str::trim_end).filter(|l| l.starts_with('/') && *l != "/.") {
        if files.len() < max_files {
            files.push(l.to_owned());
        } else {
            dropped += 1;
        }
    }
    (files, dropped)
}

/// Parses an `info/<pkg>.md5sums` file: `<md5>  <relative path>` per line. Returns absolute
/// paths plus warnings (without a path: the caller knows the file) for lines that do not
/// have that shape.
pub fn parse_md5sums(bytes: &[u8]) -> (Vec<String>, Vec<Warning>) {
    let (files, warnings, _) = parse_md5sums_with(bytes, usize::MAX);
    (files, warnings)
}

/// [`parse_md5sums`] keeping at most `max_files` paths; also returns how many more there were.
pub fn parse_md5sums_with(bytes: &[u8], max_files: usize) -> (Vec<String>, Vec<Warning>, u64) {
    let mut files = Vec::new();
    let mut dropped = 0u64;
    let mut warnings = Warnings::default();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(char::is_whitespace) {
            Some((sum, path))
                if sum.len() == 32 && sum.bytes().all(|b| b.is_ascii_hexdigit()) && !path.trim().is_empty() =>
            {
                if files.len() >= max_files {
                    dropped += 1;
                    continue;
                }
                let path = path.trim_start();
                files.push(if path.starts_with('/') { path.to_owned() } else { format!("/{path}") });
            }
            _ => warnings.push(|| format!("line {}: not an md5sums line: {}", i + 1, excerpt(line))),
        }
    }
    (files, warnings.finish(), dropped)
}

/// Adds owned files to the package with this name (and arch, when the file name had one).
/// Returns `false` when no package matched.
pub fn attach_files(packages: &mut [Package], name: &str, arch: Option<&str>, files: &[String]) -> bool {
    let mut found = false;
    for pkg in packages.iter_mut().filter(|p| p.name == name && (arch.is_none() || p.arch.as_deref() == arch)) {
        pkg.files.extend(files.iter().cloned());
        pkg.normalise_files();
        found = true;
    }
    found
}

/// Convenience: parses a status file and attaches the owned files from `info/` files given
/// as `(file name, bytes)` pairs. Files of other kinds (`.conffiles`, `.preinst`, …) are ignored.
pub fn catalog<'a>(
    status: &[u8],
    status_path: &str,
    info_files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Parsed {
    let (mut packages, mut warnings) = parse_status(status, status_path);
    for (file_name, bytes) in info_files {
        let Some((name, arch, kind)) = info_file_owner(file_name) else { continue };
        let files = match kind {
            InfoKind::List => parse_file_list(bytes),
            InfoKind::Md5sums => {
                let (files, w) = parse_md5sums(bytes);
                warnings.extend(w.into_iter().map(|w| w.at(file_name)));
                files
            }
        };
        attach_files(&mut packages, name, arch, &files);
    }
    (packages, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_with_version() {
        assert_eq!(parse_source("glibc (2.36-9)"), ("glibc".into(), Some("2.36-9".into())));
        assert_eq!(parse_source("pam"), ("pam".into(), None));
    }

    #[test]
    fn source_without_a_name_is_the_package_itself() {
        for source in ["(2.0-1)", " ( 2.0-1 )", ""] {
            let status = format!("Package: a\nVersion: 1.0-1\nSource: {source}\n");
            let (pkgs, _) = parse_status(status.as_bytes(), "/s");
            assert_eq!(pkgs[0].source_name.as_deref(), Some("a"), "{source:?}");
            assert_eq!(pkgs[0].source_version.as_deref(), Some("1.0-1"), "{source:?}");
        }
    }

    #[test]
    fn statuses() {
        assert!(status_is_installed("install ok installed"));
        assert!(status_is_installed("hold ok installed"));
        assert!(!status_is_installed("deinstall ok config-files"));
        assert!(!status_is_installed("install ok half-installed"));
        assert!(!status_is_installed(""));
    }

    #[test]
    fn malformed_input_gives_warnings_not_panics() {
        let input = b" leading continuation\nno colon here\nPackage: a\nVersion: 1\n\nPackage: b\n\n\xff\xfe: x\n";
        let (pkgs, warnings) = parse_status(input, "/s");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        // Each names the file once, in its path, not glued into the message.
        assert!(warnings.iter().all(|w| w.kind == crate::WarningKind::Package && w.path.as_deref() == Some("/s")));
        assert_eq!(warnings[0].message, "line 1: continuation line without a field");
        assert_eq!(warnings[0].to_string(), "/s: line 1: continuation line without a field");
    }

    #[test]
    fn limits_keep_the_first_records_and_count_the_rest() {
        let mut status = String::new();
        for i in 0..10 {
            status.push_str(&format!("Package: p{i}\nVersion: 1\nConffiles:\n /etc/a{i} x\n /etc/b{i} x\n\n"));
        }
        for i in 0..500 {
            status.push_str(&format!("Package: broken{i}\n\n"));
        }
        let limits = Limits { max_packages: 4, max_files: 1 };
        let (pkgs, warnings) = parse_status_with(status.as_bytes(), "/s", &limits);
        assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["p0", "p1", "p2", "p3"]);
        assert!(pkgs.iter().all(|p| p.files.len() == 1));
        let texts: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert!(texts.contains(&"limit reached: --max-packages=4: /s: packages (6 more not checked)".to_owned()));
        assert!(
            texts.contains(
                &"limit reached: --max-package-files=1: /s: files of 4 packages (the first p0) (4 more not checked)"
                    .to_owned()
            )
        );
        assert!(texts.contains(&"/s: 400 more warnings like these not shown".to_owned()), "{texts:?}");
        assert_eq!(warnings.len(), crate::MAX_WARNINGS + 3);
        // Limit warnings are typed and name the file in their message only.
        let limits: Vec<&Warning> = warnings.iter().filter(|w| w.kind == crate::WarningKind::Limit).collect();
        assert_eq!(limits.len(), 2);
        assert!(limits.iter().all(|w| w.path.is_none()));
        assert_eq!(parse_file_list_with(b"/a\n/b\n/c\n", 2), (vec!["/a".to_owned(), "/b".to_owned()], 1));
    }

    #[test]
    fn info_names() {
        assert_eq!(info_file_owner("libc6:amd64.list"), Some(("libc6", Some("amd64"), InfoKind::List)));
        assert_eq!(info_file_owner("zlib1g.md5sums"), Some(("zlib1g", None, InfoKind::Md5sums)));
        assert_eq!(info_file_owner("zlib1g.conffiles"), None);
        assert_eq!(info_file_owner(".list"), None);
    }
}
