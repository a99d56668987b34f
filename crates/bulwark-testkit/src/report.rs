//! Builders for report values: packages, vulnerabilities, OS releases and whole reports,
//! with plain defaults, so that a test names only what it is about and a new field of
//! [`Package`] or [`Vulnerability`] touches this file, not every test that builds one.
//!
//! ```
//! use bulwark_testkit::report::{deb, package, report, vulnerability};
//!
//! let openssl = deb("libssl3", "3.0.11-1~deb12u2", "openssl").layer(0).build();
//! let app = package("npm", "leftpad", "1.2.0").location("/app/package-lock.json").build();
//! let cve = vulnerability("CVE-2099-0001", &openssl).high().fixed("3.0.13-1~deb12u1").build();
//! let r = report("oci:/tmp/image").packages([openssl, app]).vulnerability(cve).build();
//! assert_eq!(r.packages[0].purl, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2");
//! assert_eq!(r.vulnerabilities[0].package.name, "libssl3");
//! ```

use bulwark_core::report::{
    AffectedPackage, FixState, Identification, OsRelease, Package, REPORT_SCHEMA_VERSION, ScanReport, Severity,
    SourcePackage, Vulnerability,
};

/// A [`Package`] under construction; [`PackageBuilder::build`] (or `Package::from`) ends it.
#[derive(Debug, Clone)]
pub struct PackageBuilder(Package);

/// A package of `ecosystem` (the purl type) with purl `pkg:{ecosystem}/{name}@{version}`,
/// no location, no layer, no source, no arch, no license.
pub fn package(ecosystem: &str, name: &str, version: &str) -> PackageBuilder {
    PackageBuilder(Package {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version: version.into(),
        purl: format!("pkg:{ecosystem}/{name}@{version}"),
        arch: None,
        source: None,
        license: None,
        locations: Vec::new(),
        layer: None,
        removed_in: None,
        dependencies: Vec::new(),
        identification: None,
    })
}

/// A Debian package built from `source`, found in `/var/lib/dpkg/status`, with purl
/// `pkg:deb/debian/{name}@{version}`.
pub fn deb(name: &str, version: &str, source: &str) -> PackageBuilder {
    package("deb", name, version)
        .purl(&format!("pkg:deb/debian/{name}@{version}"))
        .source(source)
        .location("/var/lib/dpkg/status")
}

/// An RPM package for x86_64 built from `source` at `source_version`, found in
/// `/var/lib/rpm/rpmdb.sqlite`, with purl `pkg:rpm/redhat/{name}@{version}`.
pub fn rpm(name: &str, version: &str, source: &str, source_version: &str) -> PackageBuilder {
    package("rpm", name, version)
        .purl(&format!("pkg:rpm/redhat/{name}@{version}"))
        .arch("x86_64")
        .source_version(source, source_version)
        .location("/var/lib/rpm/rpmdb.sqlite")
}

impl PackageBuilder {
    pub fn purl(mut self, purl: &str) -> Self {
        self.0.purl = purl.into();
        self
    }

    pub fn arch(mut self, arch: &str) -> Self {
        self.0.arch = Some(arch.into());
        self
    }

    /// The source package, without a version of its own.
    pub fn source(mut self, name: &str) -> Self {
        self.0.source = Some(SourcePackage { name: name.into(), version: None });
        self
    }

    /// The source package with its version.
    pub fn source_version(mut self, name: &str, version: &str) -> Self {
        self.0.source = Some(SourcePackage { name: name.into(), version: Some(version.into()) });
        self
    }

    pub fn license(mut self, license: &str) -> Self {
        self.0.license = Some(license.into());
        self
    }

    /// Adds a location (the file the package was found in).
    pub fn location(mut self, path: &str) -> Self {
        self.0.locations.push(path.into());
        self
    }

    /// The layer that introduced the package.
    pub fn layer(mut self, layer: usize) -> Self {
        self.0.layer = Some(layer);
        self
    }

    pub fn removed_in(mut self, layer: usize) -> Self {
        self.0.removed_in = Some(layer);
        self
    }

    /// Adds a direct dependency by name.
    pub fn dependency(mut self, name: &str) -> Self {
        self.0.dependencies.push(name.into());
        self
    }

    pub fn identification(mut self, identification: Identification) -> Self {
        self.0.identification = Some(identification);
        self
    }

    pub fn build(self) -> Package {
        self.0
    }
}

impl From<PackageBuilder> for Package {
    fn from(b: PackageBuilder) -> Package {
        b.0
    }
}

/// The [`AffectedPackage`] a vulnerability of `p` names: its identity, layer and locations,
/// matched as itself.
pub fn affected(p: &Package) -> AffectedPackage {
    AffectedPackage {
        ecosystem: p.ecosystem.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        purl: p.purl.clone(),
        matched_as: None,
        layer: p.layer,
        locations: p.locations.clone(),
    }
}

/// A [`Vulnerability`] under construction; [`VulnerabilityBuilder::build`] ends it.
#[derive(Debug, Clone)]
pub struct VulnerabilityBuilder(Vulnerability);

/// Vulnerability `id` of `p`: severity unknown, not fixed, no aliases, source `test:{id}`,
/// an empty explanation.
pub fn vulnerability(id: &str, p: &Package) -> VulnerabilityBuilder {
    VulnerabilityBuilder(Vulnerability {
        id: id.into(),
        aliases: Vec::new(),
        package: affected(p),
        state: FixState::NotFixed,
        fixed_versions: Vec::new(),
        severity: Severity::Unknown,
        severity_source: None,
        cvss: None,
        kev: false,
        epss: None,
        title: None,
        sources: vec![format!("test:{id}")],
        explanation: String::new(),
    })
}

impl VulnerabilityBuilder {
    /// Adds an alias; aliases stay sorted, as the matcher writes them.
    pub fn alias(mut self, alias: &str) -> Self {
        self.0.aliases.push(alias.into());
        self.0.aliases.sort();
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }

    pub fn low(self) -> Self {
        self.severity(Severity::Low)
    }

    pub fn medium(self) -> Self {
        self.severity(Severity::Medium)
    }

    pub fn high(self) -> Self {
        self.severity(Severity::High)
    }

    pub fn critical(self) -> Self {
        self.severity(Severity::Critical)
    }

    pub fn severity_source(mut self, source: &str) -> Self {
        self.0.severity_source = Some(source.into());
        self
    }

    /// Adds a fixed version and makes the state [`FixState::Fixed`].
    pub fn fixed(mut self, version: &str) -> Self {
        self.0.fixed_versions.push(version.into());
        self.0.state = FixState::Fixed;
        self
    }

    pub fn state(mut self, state: FixState) -> Self {
        self.0.state = state;
        self
    }

    pub fn kev(mut self) -> Self {
        self.0.kev = true;
        self
    }

    pub fn epss(mut self, probability: f64, percentile: f64) -> Self {
        self.0.epss = Some((probability, percentile));
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.0.title = Some(title.into());
        self
    }

    /// The name and version that were matched, when not the package's own.
    pub fn matched_as(mut self, name: &str, version: Option<&str>) -> Self {
        self.0.package.matched_as = Some(SourcePackage { name: name.into(), version: version.map(Into::into) });
        self
    }

    /// Replaces the advisory records that matched.
    pub fn sources(mut self, sources: &[&str]) -> Self {
        self.0.sources = sources.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn explanation(mut self, explanation: &str) -> Self {
        self.0.explanation = explanation.into();
        self
    }

    pub fn build(self) -> Vulnerability {
        self.0
    }
}

impl From<VulnerabilityBuilder> for Vulnerability {
    fn from(b: VulnerabilityBuilder) -> Vulnerability {
        b.0
    }
}

/// An [`OsRelease`] read from `/etc/os-release`, with the OSV ecosystem its advisories
/// are published under (`Debian:12`), if any.
pub fn os_release(id: &str, version_id: &str, osv_ecosystem: Option<&str>) -> OsRelease {
    OsRelease {
        id: id.into(),
        version_id: Some(version_id.into()),
        version_codename: None,
        pretty_name: None,
        source: "/etc/os-release".into(),
        osv_ecosystem: osv_ecosystem.map(Into::into),
        distroless: false,
    }
}

/// A [`ScanReport`] under construction; [`ReportBuilder::build`] ends it.
#[derive(Debug, Clone)]
pub struct ReportBuilder(ScanReport);

/// A report of `reference` in the current schema, everything else empty (no layers, no
/// scanners, no database).
pub fn report(reference: &str) -> ReportBuilder {
    let mut r = ScanReport { schema_version: REPORT_SCHEMA_VERSION, ..ScanReport::default() };
    r.image.reference = reference.into();
    ReportBuilder(r)
}

impl ReportBuilder {
    pub fn os(mut self, os: OsRelease) -> Self {
        self.0.os = Some(os);
        self
    }

    pub fn package(mut self, p: impl Into<Package>) -> Self {
        self.0.packages.push(p.into());
        self
    }

    pub fn packages(mut self, packages: impl IntoIterator<Item = Package>) -> Self {
        self.0.packages.extend(packages);
        self
    }

    pub fn vulnerability(mut self, v: impl Into<Vulnerability>) -> Self {
        self.0.vulnerabilities.push(v.into());
        self
    }

    pub fn vulnerabilities(mut self, vs: impl IntoIterator<Item = Vulnerability>) -> Self {
        self.0.vulnerabilities.extend(vs);
        self
    }

    /// The scanners that ran (`vuln`, `malware`, `secret`, `config`).
    pub fn scanners(mut self, scanners: &[&str]) -> Self {
        self.0.scanners = scanners.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn warning(mut self, warning: bulwark_core::Warning) -> Self {
        self.0.warnings.push(warning);
        self
    }

    pub fn build(self) -> ScanReport {
        self.0
    }
}

impl From<ReportBuilder> for ScanReport {
    fn from(b: ReportBuilder) -> ScanReport {
        b.0
    }
}
