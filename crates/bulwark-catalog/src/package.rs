//! The package record every parser produces.

use crate::os::Distro;
use crate::purl::Purl;

/// Which package manager a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// Debian / Ubuntu `dpkg`.
    Deb,
    /// Alpine / Wolfi / Chainguard `apk`.
    Apk,
    /// Red Hat family, SUSE, Photon, Azure Linux … `rpm`.
    Rpm,
    /// Python distributions (`*.dist-info`, `*.egg-info`).
    Python,
    /// Node.js packages (`node_modules`, lockfiles).
    Npm,
    /// Go modules from binaries' build info (and the `stdlib` pseudo-package).
    GoModule,
    /// Rust crates (`cargo-auditable` data, `Cargo.lock`).
    Cargo,
    /// Java archives; `name` is `groupId:artifactId`.
    Maven,
    /// Ruby gems.
    Gem,
    /// PHP Composer packages.
    Composer,
    /// .NET NuGet packages (`*.deps.json`).
    NuGet,
}

impl PackageKind {
    /// The purl type (`deb`, `apk`, `rpm`). Its OSV ecosystem, for language packages, is
    /// `bulwark_advisory::osv_ecosystem_of_purl_type` (the one table of it).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
            PackageKind::Python => "pypi",
            PackageKind::Npm => "npm",
            PackageKind::GoModule => "golang",
            PackageKind::Cargo => "cargo",
            PackageKind::Maven => "maven",
            PackageKind::Gem => "gem",
            PackageKind::Composer => "composer",
            PackageKind::NuGet => "nuget",
        }
    }

    /// Whether the OS package manager installs packages of this kind.
    pub fn is_os(self) -> bool {
        matches!(self, PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm)
    }
}

/// One installed package, as its package manager (or the file declaring it) recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The database file the package was read from, e.g. `/var/lib/dpkg/status`; for
    /// language packages the file that declared it (`METADATA`, `package.json`, a lockfile,
    /// a binary, a jar — nested archives as `outer.jar!inner.jar`).
    pub db_path: String,
    /// Names of the packages this one depends on, where the source records them.
    pub dependencies: Vec<String>,
    /// Which evidence identified the package, where its identity is inferred (Java).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<bulwark_core::report::Identification>,
}

impl Package {
    /// A package with only the required fields set.
    pub fn new(kind: PackageKind, name: String, version: String, db_path: &str) -> Self {
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
            dependencies: Vec::new(),
            identification: None,
        }
    }

    /// The report's view of this package: purl (with the distro qualifier when known), source
    /// package, the file it was found in, the layer that introduced it and, for packages a
    /// later layer deleted, the layer that removed it. Dependencies sorted and de-duplicated.
    pub fn to_report(
        &self,
        distro: Option<&Distro>,
        layer: Option<usize>,
        removed_in: Option<usize>,
    ) -> bulwark_core::report::Package {
        let mut dependencies = self.dependencies.clone();
        dependencies.sort();
        dependencies.dedup();
        bulwark_core::report::Package {
            ecosystem: self.kind.purl_type().to_owned(),
            name: self.name.clone(),
            version: self.version.clone(),
            purl: self.purl(distro).to_string(),
            arch: self.arch.clone(),
            source: self.source_name.as_ref().map(|name| bulwark_core::report::SourcePackage {
                name: name.clone(),
                version: self.source_version.clone(),
            }),
            license: self.license.clone(),
            locations: vec![self.db_path.clone()],
            layer,
            removed_in,
            dependencies,
            identification: self.identification.clone(),
        }
    }

    /// The package URL (purl-spec) of this package, with the distro qualifier when known.
    pub fn purl(&self, distro: Option<&Distro>) -> Purl {
        crate::purl::for_package(self, distro)
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
