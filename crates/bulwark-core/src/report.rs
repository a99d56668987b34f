//! The report a scan produces. Later issues add packages and findings; every field here
//! is deterministic for the same image (no timestamps, sorted collections).

use serde::{Deserialize, Serialize};

use crate::{Digest, Platform, Warning};

/// Version of the JSON report layout; bumped on incompatible changes.
/// 2: `warnings` are objects (kind, layer, path, message), not strings.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// The result of `bulwark scan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// The scanners that ran: `vuln`, `malware`, `secret`, `config`. Empty lists below
    /// mean "nothing found" only for scanners named here.
    #[serde(default)]
    pub scanners: Vec<String>,
    /// Files matching malware rules or hash lists, sorted by path, layer and rule.
    #[serde(default)]
    pub malware: Vec<MalwareFinding>,
    /// Credentials in files and in the image config, sorted by path, layer, line and rule.
    #[serde(default)]
    pub secrets: Vec<SecretFinding>,
    /// Misconfigurations, sorted by severity (worst first), then id.
    #[serde(default)]
    pub misconfigurations: Vec<ConfigFinding>,
    /// Files scanners skipped because of a limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedFiles>,
    /// Scanners, or some of their checks, that were asked for but could not run (no
    /// advisory database, no image config, an SBOM without files): for these, an empty list
    /// above is not "nothing found".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    /// Ignore-file entries and VEX statements, each with what it matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression>,
    /// Vulnerabilities removed by a suppression, kept for the record (and for VEX output).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedVulnerability>,
    /// The policy verdict, when a policy was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyVerdict>,
    /// Things that were wrong with the image but did not stop the scan, each with its kind
    /// and the layer and path it is about (a plain string in reports written before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Checks the scan was asked for and could not complete, with why: a missing or broken
    /// advisory database, an ecosystem the database does not cover, files skipped for a
    /// limit. Empty means every enabled scanner saw everything it should have. A policy
    /// never passes an image with an entry here for a scanner its rules need (the built-in
    /// rule `checks-complete`, see `docs/policy.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
    /// Findings `--severity` or `--ignore-unfixed` left out of this report's lists. The
    /// policy verdict was reached before they were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hidden_by_filters: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why a check could not be completed. The names are stable codes (kebab-case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotCheckedReason {
    /// No advisory database was found or given.
    NoDatabase,
    /// Advisory lookups failed for some packages.
    LookupFailed,
    /// The advisory database has no records of an ecosystem the image has packages in.
    EcosystemMissing,
    /// Packages whose distribution or ecosystem has no advisory source Bulwark can match.
    EcosystemUnsupported,
    /// A scanner a policy rule needs was not enabled for this scan.
    ScannerNotRun,
    /// Files (or layers) were not read by a scanner because of a limit.
    SkippedByLimit,
    /// Packages whose identity is too uncertain to match: a Java archive whose group is
    /// unknown and whose artifact name several advisory packages share.
    IdentityAmbiguous,
}

impl NotCheckedReason {
    /// The stable code, as written in JSON.
    pub fn code(self) -> &'static str {
        match self {
            NotCheckedReason::NoDatabase => "no-database",
            NotCheckedReason::LookupFailed => "lookup-failed",
            NotCheckedReason::EcosystemMissing => "ecosystem-missing",
            NotCheckedReason::EcosystemUnsupported => "ecosystem-unsupported",
            NotCheckedReason::ScannerNotRun => "scanner-not-run",
            NotCheckedReason::SkippedByLimit => "skipped-by-limit",
            NotCheckedReason::IdentityAmbiguous => "identity-ambiguous",
        }
    }
}

/// One check that could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NotChecked {
    /// The scanner concerned: `vuln`, `malware`, `secret` or `config`.
    pub scanner: String,
    pub reason: NotCheckedReason,
    /// What was not checked, where it can be named: an ecosystem (`Debian:12`), a path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// In words, with what to do about it.
    pub message: String,
}

impl ScanReport {
    /// Adds an entry to [`ScanReport::not_checked`], keeping the list sorted and unique.
    pub fn add_not_checked(&mut self, entry: NotChecked) {
        if let Err(at) = self.not_checked.binary_search(&entry) {
            self.not_checked.insert(at, entry);
        }
    }

    /// Records every [`ScanReport::skipped`] entry as not checked (a file a scanner skipped
    /// for a limit is a file it did not check).
    pub fn record_skipped_as_not_checked(&mut self) {
        let entries: Vec<NotChecked> = self
            .skipped
            .iter()
            .map(|s| NotChecked {
                scanner: s.scanner.clone(),
                reason: NotCheckedReason::SkippedByLimit,
                scope: s.examples.first().cloned(),
                message: format!(
                    "{} file{} ({} bytes) not read by the {} scanner: {}",
                    s.files,
                    if s.files == 1 { "" } else { "s" },
                    s.bytes,
                    s.scanner,
                    s.reason
                ),
            })
            .collect();
        for e in entries {
            self.add_not_checked(e);
        }
    }
}

/// How every warning about a counted limit starts (see [`limit_warning`]).
pub const LIMIT_WARNING_PREFIX: &str = "limit reached: ";

/// The warning a counted limit produces when it is reached (too many packages in one
/// database, findings for one rule, `Env` entries…): the rest was not checked, and the
/// report says so. One shape for all, `limit reached: --<flag>=<limit>: <what> (<n> more
/// not checked)`, so that readers and the policy gate can recognise it.
pub fn limit_warning(flag: &str, limit: u64, what: &str, dropped: u64) -> String {
    format!("{LIMIT_WARNING_PREFIX}--{flag}={limit}: {what} ({dropped} more not checked)")
}

/// What was scanned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// The reference as given, in canonical form (`registry:…`, `oci:…`); a bare
    /// reference is written as the source it was read from (`docker:app:1` or
    /// `registry:docker.io/library/app:1`).
    pub reference: String,
    /// Which kind of source was read: `oci`, `oci-archive`, `docker-archive`, `dir`,
    /// `docker` (the local engine), `container`, `registry` or `sbom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
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
    /// Which evidence gave the package its name and version, for packages whose identity
    /// is inferred rather than declared (Java archives: see `docs/java.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<Identification>,
}

/// How sure the identification of a package is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The group is unknown: matched only by an artifact name that is unique across the
    /// ecosystem's advisories.
    Low,
    /// Every coordinate came from indirect evidence (manifest, file name, class packages,
    /// the table of well-known artifacts).
    Medium,
    /// The package's own metadata declares it (`pom.properties`, `pom.xml`).
    High,
}

impl Confidence {
    /// The lower-case name, as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Which evidence gave each coordinate of a package, and what other evidence said.
/// Sources are stable strings: `pom.properties`, `pom.xml`, `manifest:<attribute>`,
/// `file-name`, `class-packages`, `known-artifacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identification {
    pub confidence: Confidence,
    /// The source of the group; `None` when no evidence named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The source of the artifact (name).
    pub artifact: String,
    /// The source of the version.
    pub version: String,
    /// Values other evidence gave for a coordinate and that lost to the evidence order
    /// (a manifest version that differs from the file name's, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// A coordinate value that lost to stronger evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Alternative {
    /// `group`, `artifact` or `version`.
    pub coordinate: String,
    pub value: String,
    pub source: String,
}

/// Sorts packages in report order: ecosystem, name, version, locations, architecture.
pub fn sort_packages(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.version, &a.locations, &a.arch).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.version,
            &b.locations,
            &b.arch,
        ))
    });
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

/// Where a finding in a file (or in the image config) is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileLocation {
    /// Absolute path in the image. Members of archives follow `!`, outermost first, e.g.
    /// `/opt/a.tar.gz!b.zip!eicar.com`. Findings in the image config use `config:Env`,
    /// `config:Labels`, `config:history[3]` and so on.
    pub path: String,
    /// The layer (0 = base) holding the bytes; `None` for the image config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// The later layer that deleted or replaced the file: it is not visible in a running
    /// container, but its bytes still ship to everyone who pulls the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<usize>,
    /// 1-based line, for text findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The tar entry of `layer` that wrote these bytes, counted from 1 over the layer's
    /// headers (as `tar tv` lists them), when a later entry of the same layer wrote the
    /// same path again: the copy is then not what a container sees (`removed_in` is the
    /// layer itself), but it ships in the blob and a hard link may still point at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
}

/// A file that matched a malware rule or a known-bad hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalwareFinding {
    /// The rule name (`EICAR_Test_File`) or `hash:<list name>`.
    pub rule: String,
    /// Where the rule came from: `bundled`, a YARA rule file, a hash list file, or `clamd`.
    pub source: String,
    /// The engine that found it: `yara` (Bulwark's own: YARA rules and hash lists) or
    /// `clamav` (clamd, `--malware-engine clamav`).
    #[serde(default = "yara_engine")]
    pub engine: String,
    pub title: String,
    pub severity: Severity,
    pub location: FileLocation,
    /// SHA-256 of the matching file (or archive member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The engine of findings written before engines were recorded.
fn yara_engine() -> String {
    "yara".to_owned()
}

/// A credential found in a file or in the image config. Never carries the whole secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// Stable rule id, e.g. `aws-access-key-id`.
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub location: FileLocation,
    /// The matching line with the secret masked (at most a few leading characters shown).
    pub preview: String,
    /// Stable identifier of this secret at this place (hash of rule, path and secret), for
    /// allowlists; reveals nothing about the secret.
    pub fingerprint: String,
}

/// A misconfiguration of the image (its config, history or files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFinding {
    /// Stable check id, e.g. `BW-CFG-001`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// CIS Docker Benchmark recommendation, e.g. `4.1`, where one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cis: Option<String>,
    /// What exactly is wrong in this image.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FileLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

/// Files a scanner did not look at because of a limit: counted, never silent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFiles {
    /// `malware`, `secret`, …
    pub scanner: String,
    /// Why, e.g. `larger than 67108864 bytes`.
    pub reason: String,
    pub files: u64,
    pub bytes: u64,
    /// A few of the paths (sorted), so the user can look.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// A scanner, or some of its checks, that could not run on this input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    /// `vuln`, `malware`, `secret` or `config`.
    pub scanner: String,
    /// The checks that did not run (`BW-CFG-001`…); empty when the whole scanner did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// Why, e.g. `the source has no image config`.
    pub reason: String,
}

/// Whether an exception, ignore entry or VEX statement was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionStatus {
    /// It matched findings and removed them.
    Applied,
    /// Its expiry date has passed: it no longer applies.
    Expired,
    /// It is valid but matched nothing.
    Unused,
}

/// An ignore-file entry or VEX statement and what it did to the vulnerabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `ignore`, `openvex` or `cyclonedx-vex`, with the file: `ignore:.bulwarkignore.yaml`.
    pub source: String,
    /// The vulnerability id the statement names.
    pub id: String,
    /// Scope: package name or purl, path, image pattern, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The reason, or the VEX status and justification.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub status: ExceptionStatus,
    /// The findings it removed, as `id package@version`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

/// A vulnerability removed from the findings by an ignore entry or VEX statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressedVulnerability {
    pub vulnerability: Vulnerability,
    /// The suppression's source, e.g. `openvex:vex.json`.
    pub by: String,
    /// The VEX justification or the ignore reason.
    pub justification: String,
}

/// What a policy rule does when violated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    /// The image fails the policy.
    #[default]
    Deny,
    /// Reported, but the image passes.
    Warn,
}

/// The kind of finding a policy violation refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Vulnerability,
    Malware,
    Secret,
    Config,
    /// A property of the image itself (OS release, base registry, age).
    Image,
    /// A check that could not be completed (see [`ScanReport::not_checked`]).
    #[serde(rename = "not-checked")]
    NotChecked,
}

/// One finding that violated a policy rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Violation {
    pub kind: FindingKind,
    /// Advisory id, rule id, check id; for image properties the property name.
    pub id: String,
    /// `package@version` or a path, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Why this finding violates the rule, for a developer to act on.
    pub message: String,
}

/// How one policy rule came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub id: String,
    pub description: String,
    pub action: PolicyAction,
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
}

/// How one policy exception came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionOutcome {
    /// The advisory or rule id the exception names.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    pub status: ExceptionStatus,
    /// The findings it excused, as `id target`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

/// The result of checking a report against a policy ("image assertion").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    /// The policy's name.
    pub policy: String,
    /// The policy file's SHA-256, so a verdict names exactly what it checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
    /// False when any `deny` rule was violated.
    pub passed: bool,
    /// The day exceptions were checked against (`YYYY-MM-DD`).
    pub evaluated_on: String,
    /// Every rule, in policy order.
    pub rules: Vec<RuleOutcome>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionOutcome>,
}

impl PolicyVerdict {
    /// Rules whose action is `deny` and that were violated.
    pub fn failures(&self) -> impl Iterator<Item = &RuleOutcome> {
        self.rules.iter().filter(|r| !r.passed && r.action == PolicyAction::Deny)
    }

    /// Rules whose action is `warn` and that were violated.
    pub fn warnings(&self) -> impl Iterator<Item = &RuleOutcome> {
        self.rules.iter().filter(|r| !r.passed && r.action == PolicyAction::Warn)
    }
}
