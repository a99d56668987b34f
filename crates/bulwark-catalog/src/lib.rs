//! OS detection and OS package database parsers for Bulwark.
//!
//! Everything here is a pure function over bytes the caller has already read from an image:
//! the crate does no file, network or process IO (the one exception is internal: SQLite
//! databases are deserialised into SQLite's own memory, never written to disk). A broken
//! or hostile database never panics and never aborts: parsers return the packages they
//! could read plus human-readable warnings, and only return `Err` when the input is not
//! the format at all.
//!
//! | module | reads |
//! |---|---|
//! | [`os`] | `os-release`, `alpine-release`, `debian_version`, `redhat-release`, `system-release`; distroless; OSV ecosystem names |
//! | [`debian_support`] | Debian's `security-support-ended*` and `security-support-limited` lists |
//! | [`dpkg`] | `var/lib/dpkg/status`, `status.d/*`, `info/*.list`, `info/*.md5sums` |
//! | [`apk`] | `lib/apk/db/installed` |
//! | [`rpm`] | `rpmdb.sqlite`, Berkeley DB `Packages`, NDB `Packages.db`, and the rpm header blobs inside them |
//!
//! ```
//! let status = b"Package: curl\nStatus: install ok installed\nArchitecture: amd64\n\
//! Version: 7.88.1-10\n\n";
//! let (packages, warnings) = bulwark_catalog::dpkg::parse_status(status, "/var/lib/dpkg/status");
//! assert!(warnings.is_empty());
//! let purl = packages[0].purl(Some(&bulwark_catalog::os::Distro::new("debian", "12")));
//! assert_eq!(purl.to_string(), "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12");
//! ```

pub mod apk;
pub mod debian_support;
pub mod dpkg;
pub mod lang;
pub mod os;
mod package;
mod purl;
pub mod rpm;

pub use package::{Package, PackageKind};
pub use purl::Purl;

/// Why a whole database could not be read. Problems with single records are warnings instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not the claimed format (wrong magic, too short, unsupported variant).
    #[error("{path}: not a {format} database: {reason}")]
    NotADatabase { format: &'static str, path: String, reason: String },
    /// The SQLite library refused the database. The message is SQLite's, so that the
    /// `rusqlite` error type stays out of this crate's public API.
    #[error("{path}: sqlite: {message}")]
    Sqlite { path: String, message: String },
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Packages read from one database plus the warnings about records that had to be skipped
/// or were only partly readable: [`Warning`]s of kind `package` about the file (its path as
/// the parser was given it, in `path`, not glued into the message), and of kind `limit`
/// for what a limit left unchecked (their message names the file, see [`package_limit`]).
pub type Parsed = (Vec<Package>, Vec<Warning>);

pub use bulwark_core::{Warning, WarningKind};

pub(crate) use bulwark_core::excerpt;

/// Caps on what one parser call keeps, so that a hostile database, lockfile or archive
/// cannot make the scanner hold an unbounded inventory: packages beyond `max_packages` and
/// owned files beyond `max_files` per package are counted in a warning
/// ([`bulwark_core::report::limit_warning`]), not kept, and warnings beyond
/// [`MAX_WARNINGS`] are counted in one more. What is kept is always the first records in
/// file order, so results stay reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Most packages kept from one file (`--max-packages`).
    pub max_packages: usize,
    /// Most owned files kept for one package (`--max-package-files`).
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_packages: 50_000, max_files: 100_000 }
    }
}

/// Most warnings kept from one file; the rest are counted in a last warning. Warnings are
/// per record (a malformed line, a package without a version), so a hostile file could
/// otherwise produce one per line.
pub const MAX_WARNINGS: usize = 100;

impl Limits {
    /// Applies the limits to what a parser returned: packages beyond `max_packages` and
    /// files beyond `max_files` are dropped and counted, warnings are capped. For parsers
    /// whose own memory is bounded by their input (lockfiles, manifests, archives); the
    /// OS database parsers apply the limits while they read.
    pub fn cap(&self, parsed: Parsed, db_path: &str) -> Parsed {
        let (mut packages, warnings) = parsed;
        let mut w = Warnings::from_parsed(db_path, warnings);
        let dropped = packages.len().saturating_sub(self.max_packages);
        packages.truncate(self.max_packages);
        for p in &mut packages {
            self.cap_files(&mut p.files, &p.name, &mut w);
        }
        if dropped > 0 {
            w.limit(package_limit(self.max_packages, db_path, dropped as u64));
        }
        (packages, w.finish())
    }

    /// Drops owned files beyond `max_files`, counted in `w`.
    pub(crate) fn cap_files(&self, files: &mut Vec<String>, package: &str, w: &mut Warnings) {
        if files.len() > self.max_files {
            w.files_dropped(self.max_files, package, (files.len() - self.max_files) as u64);
            files.truncate(self.max_files);
        }
    }
}

/// The warning for packages not kept from one file: a limit warning without a path, whose
/// message names the file (`limit reached: --max-packages=<n>: <db_path>: packages (<dropped>
/// more not checked)`).
pub(crate) fn package_limit(max: usize, db_path: &str, dropped: u64) -> Warning {
    Warning::limit("max-packages", max as u64, &format!("{db_path}: packages"), dropped)
}

/// The warning for owned files not kept for one package: a limit warning without a path,
/// whose message names the file.
pub fn file_limit(max: usize, package: &str, db_path: &str, dropped: u64) -> Warning {
    Warning::limit(
        "max-package-files",
        max as u64,
        &format!("{db_path}: files of package {}", excerpt(package)),
        dropped,
    )
}

/// Warnings of one parse: at most [`MAX_WARNINGS`] kept (a message is only built when it
/// is kept), the rest counted. Limit warnings are always kept: they say what was not checked.
/// Warnings pushed as messages are `package` warnings about the file the parse was given
/// ([`Warnings::about`]), or without a path when the parser is not given one.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    /// The file the warnings are about, as the parser was given its path.
    path: Option<String>,
    list: Vec<Warning>,
    more: u64,
    /// Owned files not kept: (limit, first package, packages, files), one warning in all.
    files: Option<(usize, String, u64, u64)>,
}

impl Warnings {
    /// No warnings yet, about the file at `path`.
    pub(crate) fn about(path: &str) -> Warnings {
        Warnings { path: Some(path.to_owned()), ..Warnings::default() }
    }

    /// `warnings` a parser returned for the file at `path`, capped again: limit warnings
    /// are kept, the others count against [`MAX_WARNINGS`].
    pub(crate) fn from_parsed(path: &str, warnings: Vec<Warning>) -> Warnings {
        let mut w = Warnings::about(path);
        for warning in warnings {
            if warning.kind == WarningKind::Limit {
                w.limit(warning);
            } else {
                w.push_warning(warning);
            }
        }
        w
    }

    /// Adds a warning about the file, built only if it is kept.
    pub(crate) fn push(&mut self, message: impl FnOnce() -> String) {
        if self.list.len() < MAX_WARNINGS {
            let warning = Warning::new(WarningKind::Package, message());
            self.list.push(Warning { path: self.path.clone(), ..warning });
        } else {
            self.more += 1;
        }
    }

    /// Adds a warning a parser already built, if there is room for it.
    fn push_warning(&mut self, warning: Warning) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(warning);
        } else {
            self.more += 1;
        }
    }

    /// Adds a limit warning, which is never dropped: it says what was not checked. There
    /// are few: one per limit and file (owned files are summed over packages).
    pub(crate) fn limit(&mut self, warning: Warning) {
        self.list.push(warning);
    }

    /// Counts owned files not kept for one package.
    pub(crate) fn files_dropped(&mut self, max: usize, package: &str, dropped: u64) {
        let entry = self.files.get_or_insert_with(|| (max, excerpt(package), 0, 0));
        entry.2 += 1;
        entry.3 += dropped;
    }

    /// The kept warnings, plus one that counts the rest and one for owned files not kept.
    pub(crate) fn finish(mut self) -> Vec<Warning> {
        let db_path = self.path.as_deref().unwrap_or_default();
        if let Some((max, first, packages, files)) = self.files.take() {
            self.list.push(match packages {
                1 => file_limit(max, &first, db_path, files),
                n => Warning::limit(
                    "max-package-files",
                    max as u64,
                    &format!("{db_path}: files of {n} packages (the first {first})"),
                    files,
                ),
            });
        }
        if self.more > 0 {
            let more = Warning::new(WarningKind::Package, format!("{} more warnings like these not shown", self.more));
            self.list.push(Warning { path: self.path.take(), ..more });
        }
        self.list
    }
}

/// Locates `../shared` for tests: `BULWARK_SHARED`, else next to the repository.
#[cfg(test)]
pub(crate) fn shared_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("BULWARK_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("fixtures/os-pkgdb").is_dir(),
        "shared test data not found at {} (set BULWARK_SHARED to the shared/ folder)",
        dir.display()
    );
    dir
}
