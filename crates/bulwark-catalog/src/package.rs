//! The package record every parser produces.

use crate::os::Distro;
use crate::purl::Purl;

/// Which package manager a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PackageKind {
    /// Debian / Ubuntu `dpkg`.
    Deb,
    /// Alpine / Wolfi / Chainguard `apk`.
    Apk,
    /// Red Hat family, SUSE, Photon, Azure Linux … `rpm`.
    Rpm,
}

impl PackageKind {
    /// The purl type (`deb`, `apk`, `rpm`).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
        }
    }
}

/// One installed OS package, as its package manager recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub kind: PackageKind,
    pub name: String,
    /// The full version as the package manager compares it: dpkg `[epoch:]upstream[-revision]`,
    /// apk `1.2.3-r4`, rpm `[epoch:]version-release`.
    pub version: String,
    /// rpm epoch, when the header has one (dpkg keeps the epoch inside `version`).
    pub epoch: Option<u32>,
    /// rpm release (also contained in `version`).
    pub release: Option<String>,
    pub arch: Option<String>,
    /// The source package advisories are filed against: dpkg `Source:` (or the package
    /// itself), apk origin, the name part of rpm's `SOURCERPM`.
    pub source_name: Option<String>,
    /// The source package's version: dpkg `Source: name (version)` or the binary version,
    /// the apk package version, the version-release part of rpm's `SOURCERPM`.
    pub source_version: Option<String>,
    pub license: Option<String>,
    /// rpm `VENDOR` (dpkg and apk records have no vendor field).
    pub vendor: Option<String>,
    /// Files the package owns, as absolute paths, sorted and de-duplicated.
    pub files: Vec<String>,
    /// The database file the package was read from, e.g. `/var/lib/dpkg/status`.
    pub db_path: String,
}

impl Package {
    pub(crate) fn new(kind: PackageKind, name: String, version: String, db_path: &str) -> Self {
        Package {
            kind,
            name,
            version,
            epoch: None,
            release: None,
            arch: None,
            source_name: None,
            source_version: None,
            license: None,
            vendor: None,
            files: Vec::new(),
            db_path: db_path.to_owned(),
        }
    }

    /// The package URL (purl-spec) of this package, with the distro qualifier when known.
    pub fn purl(&self, distro: Option<&Distro>) -> Purl {
        Purl::for_package(self, distro)
    }

    /// Sorts and de-duplicates `files`.
    pub(crate) fn normalise_files(&mut self) {
        self.files.sort_unstable();
        self.files.dedup();
    }
}

/// Sorts packages into a stable order (name, version, arch, db path) so that output never
/// depends on the order records happened to have in a database.
pub(crate) fn sort_packages(packages: &mut [Package]) {
    packages
        .sort_by(|a, b| (&a.name, &a.version, &a.arch, &a.db_path).cmp(&(&b.name, &b.version, &b.arch, &b.db_path)));
}
