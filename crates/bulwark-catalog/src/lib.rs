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
/// or were only partly readable.
pub type Parsed = (Vec<Package>, Vec<String>);

pub(crate) use bulwark_core::excerpt;

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
