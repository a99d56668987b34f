//! SBOMs out of and into Bulwark: CycloneDX 1.6 and SPDX 2.3 JSON written from a
//! [`ScanReport`], and CycloneDX or SPDX JSON (ours, Syft's, others') read back into the
//! report's [`Package`] list.
//!
//! Everything here is a pure function: no file, network or process IO, no clock. Output is
//! deterministic — the same report gives the same bytes — because collections are sorted,
//! identifiers are derived from content (purl, locations, digests), and the only timestamp
//! is the image's own `created` time (see [`time`]).
//!
//! | module | does |
//! |---|---|
//! | [`cyclonedx`] | CycloneDX 1.6 JSON: image as `metadata.component`, OS, packages with layers and locations, dependencies |
//! | [`spdx`] | SPDX 2.3 JSON: image, OS and package `Package`s, purls, licences, `DESCRIBES`/`CONTAINS`/`DEPENDS_ON` |
//! | [`sarif`] | SARIF 2.1.0 for GitHub code scanning: rules with help and `security-severity`, results with locations |
//! | [`junit`] | JUnit XML, a test case per policy rule or per finding |
//! | [`html`] | one self-contained HTML page with charts and filterable tables |
//! | [`markdown`] | a pull-request comment |
//! | [`table`] | the terminal table, fitted to a width, optionally coloured |
//! | [`sbom_in`] | reads CycloneDX or SPDX JSON back into packages, the OS and warnings |
//! | [`bulwark_core::purl`] | the package URL parser and formatter (shared with the catalogers) |
//!
//! ```
//! use bulwark_core::report::{FileCounts, ImageSummary, Package, ScanReport};
//!
//! let report = ScanReport {
//!     schema_version: 1,
//!     bulwark_version: "0.1.0".into(),
//!     image: ImageSummary {
//!         reference: "dir:/rootfs".into(),
//!         source: None,
//!         manifest_digest: None,
//!         config_digest: None,
//!         platform: None,
//!         created: None,
//!     },
//!     os: None,
//!     layers: vec![],
//!     files: FileCounts::default(),
//!     packages: vec![Package {
//!         ecosystem: "npm".into(),
//!         name: "left-pad".into(),
//!         version: "1.3.0".into(),
//!         purl: "pkg:npm/left-pad@1.3.0".into(),
//!         arch: None,
//!         source: None,
//!         license: Some("WTFPL".into()),
//!         locations: vec!["/app/node_modules/left-pad/package.json".into()],
//!         layer: None,
//!         removed_in: None,
//!         dependencies: vec![],
//!         identification: None,
//!     }],
//!     warnings: vec![],
//!     vulnerabilities: vec![],
//!     database: None,
//!     ..Default::default()
//! };
//! let bytes = bulwark_report::cyclonedx::to_vec(&report);
//! let parsed = bulwark_report::sbom_in::parse(&bytes).unwrap();
//! assert_eq!(parsed.packages[0].purl, "pkg:npm/left-pad@1.3.0");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use bulwark_core::report::{Package, ScanReport};
use bulwark_core::{ArchiveSelector, Digest, ScanInput, Target};

mod common;
pub mod cyclonedx;
pub mod html;
pub mod junit;
mod license;
pub mod markdown;
pub mod sarif;
pub mod sbom_in;
pub mod spdx;
mod spdx_ids;
pub mod table;
pub use bulwark_core::time;

/// Every report format, for [`render`]: what `bulwark scan --format` and (later) the
/// server's report endpoint accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The terminal table ([`table`]).
    Table,
    /// Bulwark's own JSON report, pretty-printed.
    Json,
    Sarif,
    Junit,
    Cyclonedx,
    Spdx,
    Html,
    Markdown,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 8] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Cyclonedx,
        Format::Spdx,
        Format::Html,
        Format::Markdown,
    ];

    /// The format's name, as typed (`cyclonedx`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Cyclonedx => "cyclonedx",
            Format::Spdx => "spdx",
            Format::Html => "html",
            Format::Markdown => "markdown",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// A format by name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Format, String> {
        let wanted = s.trim();
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format {wanted:?} (one of {})", names.join(", "))
        })
    }
}

/// How [`render`] writes the formats that have choices.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub table: table::TableOptions,
    pub junit: junit::Granularity,
}

/// Writes `report` in `format`: the one format dispatch, shared by every command and the
/// server. The JSON report ends with a newline, as the other documents do.
pub fn render(
    report: &ScanReport,
    format: Format,
    opts: &RenderOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => w.write_all(table::render(report, &opts.table).as_bytes()),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, report)?;
            w.write_all(b"\n")
        }
        Format::Sarif => w.write_all(&sarif::to_vec(report)),
        Format::Junit => w.write_all(&junit::to_vec(report, opts.junit)),
        Format::Cyclonedx => w.write_all(&cyclonedx::to_vec(report)),
        Format::Spdx => w.write_all(&spdx::to_vec(report)),
        Format::Html => w.write_all(&html::to_vec(report)),
        Format::Markdown => w.write_all(markdown::to_string(report).as_bytes()),
    }
}

/// [`render`] into memory.
pub fn render_to_vec(report: &ScanReport, format: Format, opts: &RenderOptions) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec fails only if serialisation does, which the report types cannot.
    let _ = render(report, format, opts, &mut out);
    out
}

/// Why an SBOM could not be read. Problems with single components are warnings instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sbom is not JSON: {0}")]
    NotJson(String),
    #[error("sbom format not recognised: {0}")]
    UnknownFormat(String),
    #[error(transparent)]
    Core(#[from] bulwark_core::Error),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use bulwark_core::excerpt;

/// The first 16 hex digits of the SHA-256 of `parts` joined by NUL: a short, stable id.
pub(crate) fn short_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut buf = Vec::new();
    for p in parts {
        buf.extend_from_slice(p.as_bytes());
        buf.push(0);
    }
    Digest::sha256_of(&buf).hex()[..16].to_owned()
}

/// How an SBOM names the scanned image.
#[derive(Debug, Clone)]
pub(crate) struct ImageIdentity {
    /// `docker.io/library/debian`, or the layout/archive/dir path.
    pub name: String,
    /// The manifest digest (or, without one, the config digest).
    pub digest: Option<Digest>,
    /// `pkg:oci/<name>@<manifest digest>?…`, when there is a manifest digest.
    pub purl: Option<String>,
}

impl ImageIdentity {
    pub(crate) fn of(report: &ScanReport) -> ImageIdentity {
        let img = &report.image;
        let input: Option<ScanInput> = img.reference.parse().ok();
        let target = match &input {
            Some(ScanInput::Image(r)) => Some(r.target()),
            _ => None,
        };
        let stem = |p: &std::path::Path| {
            let s = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            s.trim_end_matches(".tar").trim_end_matches(".tgz").to_owned()
        };
        // (display name, purl name, repository_url, tag)
        let (name, purl_name, repository_url, tag) = match (&input, target) {
            (_, Some(Target::Registry { reference: r, bare: false })) => {
                let last = r.repository.rsplit('/').next().unwrap_or(&r.repository).to_owned();
                (
                    format!("{}/{}", r.registry, r.repository),
                    last,
                    Some(format!("{}/{}", r.registry, r.repository)),
                    r.tag.clone(),
                )
            }
            (_, Some(Target::Layout { path, selector })) => {
                let tag = match selector {
                    ArchiveSelector::Tag(t) => Some(t.clone()),
                    _ => None,
                };
                (path.display().to_string(), stem(path), None, tag)
            }
            (_, Some(Target::Archive { path, tag })) => {
                let (n, t) = match tag.as_deref().and_then(|t| t.rsplit_once(':')) {
                    Some((repo, t)) => (repo.rsplit('/').next().unwrap_or(repo).to_owned(), Some(t.to_owned())),
                    None => (stem(path), None),
                };
                (path.display().to_string(), n, None, t)
            }
            (_, Some(Target::LocalImage(name))) => {
                let (repo, t) = match name.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
                    Some((repo, t)) => (repo, Some(t.to_owned())),
                    None => (name.as_str(), None),
                };
                (name.clone(), repo.rsplit('/').next().unwrap_or(repo).to_owned(), None, t)
            }
            (_, Some(Target::Path(path))) | (Some(ScanInput::Sbom(path)), _) => {
                (path.display().to_string(), stem(path), None, None)
            }
            // Unparsable (or, later, new kinds of) references: named as given, no purl.
            _ => (img.reference.clone(), String::new(), None, None),
        };
        let purl = img.manifest_digest.as_ref().filter(|_| !purl_name.is_empty()).map(|d| {
            let mut qualifiers = Vec::new();
            if let Some(p) = &img.platform {
                qualifiers.push(("arch".to_owned(), p.architecture.clone()));
            }
            if let Some(u) = repository_url {
                qualifiers.push(("repository_url".to_owned(), u));
            }
            if let Some(t) = tag {
                qualifiers.push(("tag".to_owned(), t));
            }
            bulwark_core::Purl {
                ty: "oci".into(),
                namespace: None,
                // purl-spec: the oci name is the last path segment, lower-cased.
                name: purl_name.to_ascii_lowercase(),
                version: Some(d.to_string()),
                qualifiers,
                subpath: None,
            }
            .to_string()
        });
        ImageIdentity {
            name: if name.is_empty() { img.reference.clone() } else { name },
            digest: img.manifest_digest.clone().or_else(|| img.config_digest.clone()),
            purl,
        }
    }
}

/// One package of the report with the identifiers both writers use.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub pkg: &'a Package,
    /// A short hash of purl, locations and removal: stable across runs, unique in the SBOM.
    pub id: String,
}

impl Entry<'_> {
    /// CycloneDX `bom-ref`: the purl with a `package-id` qualifier, as Syft does, so that a
    /// reader sees which package it is and two copies of one package stay distinct.
    pub(crate) fn bom_ref(&self) -> String {
        let (base, subpath) = match self.pkg.purl.split_once('#') {
            Some((b, s)) => (b, Some(s)),
            None => (self.pkg.purl.as_str(), None),
        };
        let base = if base.is_empty() { "bulwark:package" } else { base };
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut r = format!("{base}{sep}package-id={}", self.id);
        if let Some(s) = subpath {
            r.push('#');
            r.push_str(s);
        }
        r
    }

    /// SPDX `SPDXID`: `SPDXRef-Package-<ecosystem>-<name>-<id>`, sanitised to `[A-Za-z0-9.-]`.
    pub(crate) fn spdx_id(&self) -> String {
        sanitize_spdx_id(&format!("SPDXRef-Package-{}-{}-{}", self.pkg.ecosystem, self.pkg.name, self.id))
    }
}

/// Replaces every character an SPDX id may not contain with `-`.
pub(crate) fn sanitize_spdx_id(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect()
}

/// The report's packages in a stable order, with unique ids.
pub(crate) fn entries(report: &ScanReport) -> Vec<Entry<'_>> {
    let mut pkgs: Vec<&Package> = report.packages.iter().collect();
    pkgs.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.version, &a.locations, &a.arch, &a.purl, a.removed_in).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.version,
            &b.locations,
            &b.arch,
            &b.purl,
            b.removed_in,
        ))
    });
    let mut seen = BTreeSet::new();
    pkgs.into_iter()
        .map(|pkg| {
            let removed = pkg.removed_in.map(|r| r.to_string()).unwrap_or_default();
            let mut parts: Vec<&str> = vec![&pkg.purl, &removed];
            parts.extend(pkg.locations.iter().map(String::as_str));
            let base = short_hash(parts);
            let mut id = base.clone();
            let mut n = 2;
            // Identical packages (same purl, locations and removal) get a counter.
            while !seen.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            Entry { pkg, id }
        })
        .collect()
}

/// Resolves each package's dependency names to packages of the same ecosystem: a name
/// present once resolves to it; a name present several times (nested npm copies, several
/// versions) resolves to the copy that shares a location with the dependent, else not at
/// all — a guessed edge is worse than a missing one. Packages a later layer removed neither
/// depend nor are depended on. Returns `(dependent, dependencies)` index pairs, sorted.
pub(crate) fn resolve_dependencies(entries: &[Entry<'_>]) -> Vec<(usize, Vec<usize>)> {
    let mut by_name: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.pkg.removed_in.is_none() {
            by_name.entry((&e.pkg.ecosystem, &e.pkg.name)).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.pkg.removed_in.is_some() || e.pkg.dependencies.is_empty() {
            continue;
        }
        let mut deps = BTreeSet::new();
        for name in &e.pkg.dependencies {
            // dpkg records `name:arch` for multi-arch dependencies.
            let plain = name.split(':').next().unwrap_or(name);
            let candidates = by_name
                .get(&(e.pkg.ecosystem.as_str(), name.as_str()))
                .or_else(|| by_name.get(&(e.pkg.ecosystem.as_str(), plain)));
            let Some(candidates) = candidates else { continue };
            let chosen: Vec<usize> = if candidates.len() == 1 {
                candidates.clone()
            } else {
                candidates
                    .iter()
                    .copied()
                    .filter(|&c| entries[c].pkg.locations.iter().any(|l| e.pkg.locations.contains(l)))
                    .collect()
            };
            if chosen.len() == 1 && chosen[0] != i {
                deps.insert(chosen[0]);
            }
        }
        if !deps.is_empty() {
            out.push((i, deps.into_iter().collect()));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use bulwark_core::report::{FileCounts, ImageSummary, Package, ScanReport};

    pub(crate) fn pkg(ecosystem: &str, name: &str, version: &str, purl: &str, location: &str) -> Package {
        Package {
            ecosystem: ecosystem.into(),
            name: name.into(),
            version: version.into(),
            purl: purl.into(),
            arch: None,
            source: None,
            license: None,
            locations: vec![location.into()],
            layer: None,
            removed_in: None,
            dependencies: vec![],
            identification: None,
        }
    }

    pub(crate) fn report(packages: Vec<Package>) -> ScanReport {
        ScanReport {
            schema_version: 1,
            bulwark_version: "0.1.0".into(),
            image: ImageSummary {
                reference: "registry:docker.io/library/debian:12".into(),
                source: None,
                manifest_digest: Some(
                    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse().unwrap(),
                ),
                config_digest: None,
                platform: Some(bulwark_core::Platform::new("linux", "amd64", None)),
                created: Some("2024-05-13T20:53:54.5Z".into()),
            },
            os: None,
            layers: vec![],
            files: FileCounts::default(),
            packages,
            warnings: vec![],
            vulnerabilities: vec![],
            database: None,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn image_purl() {
        let r = report(vec![]);
        let id = ImageIdentity::of(&r);
        assert_eq!(id.name, "docker.io/library/debian");
        assert_eq!(
            id.purl.as_deref(),
            Some(
                "pkg:oci/debian@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\
                 ?arch=amd64&repository_url=docker.io/library/debian&tag=12"
            )
        );
    }

    #[test]
    fn dependencies_resolve_only_when_unambiguous() {
        let mut a = pkg("npm", "a", "1", "pkg:npm/a@1", "/app/node_modules/a/package.json");
        a.dependencies = vec!["b".into(), "c".into(), "missing".into()];
        let b = pkg("npm", "b", "1", "pkg:npm/b@1", "/app/node_modules/b/package.json");
        let c1 = pkg("npm", "c", "1", "pkg:npm/c@1", "/app/node_modules/c/package.json");
        let c2 = pkg("npm", "c", "2", "pkg:npm/c@2", "/other/node_modules/c/package.json");
        let other_eco = pkg("pypi", "b", "1", "pkg:pypi/b@1", "/x");
        let r = report(vec![a, b, c1, c2, other_eco]);
        let e = entries(&r);
        let deps = resolve_dependencies(&e);
        let names: Vec<(&str, Vec<&str>)> = deps
            .iter()
            .map(|(i, d)| (e[*i].pkg.name.as_str(), d.iter().map(|j| e[*j].pkg.name.as_str()).collect()))
            .collect();
        // `c` exists twice and neither copy shares a location with `a`: no edge.
        assert_eq!(names, vec![("a", vec!["b"])]);
    }

    #[test]
    fn ids_are_unique_and_sanitised() {
        let p = pkg("npm", "@scope/x", "1", "pkg:npm/%40scope/x@1", "/l");
        let r = report(vec![p.clone(), p]);
        let e = entries(&r);
        assert_ne!(e[0].id, e[1].id);
        assert!(e[0].spdx_id().starts_with("SPDXRef-Package-npm--scope-x-"));
        assert!(e[1].bom_ref().starts_with("pkg:npm/%40scope/x@1?package-id="));
    }
}
