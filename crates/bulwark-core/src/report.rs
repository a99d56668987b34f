//! The report a scan produces. Later issues add packages and findings; every field here
//! is deterministic for the same image (no timestamps, sorted collections).

use serde::{Deserialize, Serialize};

use crate::{Digest, Platform};

/// Version of the JSON report layout; bumped on incompatible changes.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The result of `bulwark scan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema_version: u32,
    pub bulwark_version: String,
    pub image: ImageSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    pub layers: Vec<LayerSummary>,
    /// Regular files, directories and links in the final (squashed) image.
    pub files: FileCounts,
    /// Every package found, sorted by ecosystem, name, version and location. Packages a
    /// later layer removed are listed too, with `removed_in`.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// Known vulnerabilities of the packages, sorted by severity (worst first), then id
    /// and package. Empty when no advisory database was used (see `database`).
    #[serde(default)]
    pub vulnerabilities: Vec<Vulnerability>,
    /// The advisory database the packages were matched against, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSummary>,
    /// Things that were wrong with the image but did not stop the scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// The reference as given, in canonical form (`registry:…`, `oci:…`).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// The distribution an image is based on, from `os-release` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// The file the values were read from.
    pub source: String,
    /// The OSV ecosystem the distro's advisories are published under, e.g. `Debian:12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osv_ecosystem: Option<String>,
    /// A Google distroless image (dpkg `status.d/` layout).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distroless: bool,
}

/// A package found in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The purl type: `deb`, `apk`, `rpm`, `pypi`, `npm`, `golang`, `cargo`, `maven`, …
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// Package URL (purl-spec), with distro qualifiers for OS packages.
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package advisories are filed against, for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The files the package was found in (package database, manifest, binary), absolute.
    pub locations: Vec<String>,
    /// The layer (0 = base) that introduced this package at this version: the first layer
    /// whose package database or files contain it, not merely the last one that rewrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// The layer that removed the package, when a later layer deleted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<usize>,
    /// Direct dependencies by name, where the source records them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

/// A source package name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One layer of the image, in order (base first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    pub diff_id: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Size of the blob as stored (compressed).
    pub size: u64,
    /// Size of the uncompressed tar stream.
    pub uncompressed_size: u64,
    /// Entries in the layer's tar (files, dirs, links; whiteouts counted separately).
    pub entries: u64,
    pub whiteouts: u64,
    /// The history step that created the layer, e.g. `RUN apt-get install …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// Counts over the squashed file view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Bytes in regular files.
    pub bytes: u64,
    /// Paths that some layer added and a later layer deleted or replaced.
    pub shadowed: u64,
}

/// Severity, worst last so that `Ord` sorts by it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

/// Whether a fix exists for an affected package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version is published (`fixed_versions`).
    Fixed,
    /// Affected, and no fixed version is known yet.
    NotFixed,
    /// The distro decided not to fix it (or postponed, or rated it unimportant).
    WontFix,
}

/// A CVSS score with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
    /// E.g. `osv:severity[0]` or `nvd:nvd@nist.gov (Primary)`.
    pub source: String,
}

/// The package a vulnerability was found in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    /// The name and version that were matched, when not the package's own (an OS
    /// package's source package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_as: Option<SourcePackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    pub locations: Vec<String>,
}

/// A known vulnerability in a package, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The primary id: the CVE when the advisory has one, else the advisory id.
    pub id: String,
    /// Every other id of the same vulnerability (advisory ids, GHSA, …), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub package: AffectedPackage,
    pub state: FixState,
    /// Fixed versions, nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    pub severity: Severity,
    /// Where `severity` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<CvssScore>,
    /// In CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kev: bool,
    /// FIRST EPSS probability (0..1) and percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The advisory records that matched, e.g. `osv:Debian:12/DSA-5678-1`.
    pub sources: Vec<String>,
    /// Why it matched: the range and the version comparison, in words.
    pub explanation: String,
}

/// The advisory database a scan used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    /// When the database was built (RFC 3339); the one timestamp in a report.
    pub built_at: String,
    /// Digest of the database content.
    pub digest: String,
    /// Sources and their record counts.
    pub sources: Vec<(String, u64)>,
}
