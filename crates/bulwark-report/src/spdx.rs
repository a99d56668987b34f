//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>) from a scan report.
//!
//! - `documentNamespace`: `https://bulwark.dev/spdx/<image digest>/<content hash>`, where
//!   the digest is the manifest digest (else the config digest, else `no-digest`) and the
//!   content hash is a short SHA-256 of the rest of the document: the same report always
//!   gives the same namespace, a different report a different one, as the spec asks.
//! - `creationInfo.created`: SPDX requires it. It is the image's `created` time normalised
//!   to UTC seconds, or `1970-01-01T00:00:00Z` when the image has none — never the time of
//!   the scan, so that output stays reproducible (see [`crate::time`]).
//! - Packages: the image (`SPDXRef-Image`, purpose `CONTAINER`, SHA256 checksum and
//!   `pkg:oci` purl), the OS (`SPDXRef-OperatingSystem`), and every package
//!   (`SPDXRef-Package-<ecosystem>-<name>-<hash>`) with a `PACKAGE-MANAGER` `purl`
//!   external reference, `licenseDeclared` (an SPDX expression, a `LicenseRef-` declared
//!   in `hasExtractedLicensingInfos` for other declared values, `NOASSERTION` when none),
//!   `sourceInfo` with the files it was found in and a `comment` with its layers.
//! - Relationships: the document `DESCRIBES` the image; the image `CONTAINS` the OS and
//!   every package still present; packages a later layer removed are related to the image
//!   by `OTHER` with a comment; `DEPENDS_ON` between packages where resolved.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_core::Digest;
use bulwark_core::report::{OsRelease, ScanReport};
use serde::Serialize;
use serde_json::Value;

use crate::license::{self, License};
use crate::{Entry, ImageIdentity, entries, resolve_dependencies, sanitize_spdx_id, time};

/// SPDXID of the image package.
pub const IMAGE_ID: &str = "SPDXRef-Image";
/// SPDXID of the operating system package.
pub const OS_ID: &str = "SPDXRef-OperatingSystem";
/// Prefix of `documentNamespace`.
pub const NAMESPACE_PREFIX: &str = "https://bulwark.dev/spdx/";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    comment: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

/// Writes the report as an SPDX 2.3 JSON document.
pub fn write(report: &ScanReport) -> Value {
    let mut doc = build(report);
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    let hash = Digest::sha256_of(&body).hex()[..16].to_owned();
    let digest = ImageIdentity::of(report).digest.map(|d| d.to_string()).unwrap_or_else(|| "no-digest".to_owned());
    doc.document_namespace = format!("{NAMESPACE_PREFIX}{digest}/{hash}");
    serde_json::to_value(&doc).unwrap_or(Value::Null)
}

/// [`write`], rendered as pretty-printed JSON with a trailing newline.
pub fn to_vec(report: &ScanReport) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&write(report)).unwrap_or_default();
    out.push(b'\n');
    out
}

fn purl_ref(purl: &str) -> ExternalRef {
    ExternalRef { reference_category: "PACKAGE-MANAGER", reference_type: "purl", reference_locator: purl.to_owned() }
}

/// Maps declared licences that are not SPDX expressions to `LicenseRef-`s, declared once.
#[derive(Default)]
struct LicenseRefs {
    by_text: BTreeMap<String, String>,
    used_ids: BTreeSet<String>,
    undeclared: BTreeSet<String>,
}

impl LicenseRefs {
    fn declared(&mut self, license: Option<&str>) -> String {
        match license.and_then(license::classify) {
            None => "NOASSERTION".to_owned(),
            Some(License::Id(x) | License::Expression(x)) => {
                for t in x.split([' ', '(', ')']).filter(|t| t.starts_with("LicenseRef-")) {
                    self.undeclared.insert(t.to_owned());
                }
                x
            }
            Some(License::Name(text)) => {
                if let Some(id) = self.by_text.get(&text) {
                    return id.clone();
                }
                let base = sanitize_spdx_id(&format!("LicenseRef-{text}"));
                let base = base.trim_end_matches('-').to_owned();
                let mut id = base.clone();
                let mut n = 2;
                while !self.used_ids.insert(id.clone()) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                self.by_text.insert(text, id.clone());
                id
            }
        }
    }

    fn infos(self) -> Vec<ExtractedLicense> {
        let mut out: Vec<ExtractedLicense> = self
            .by_text
            .into_iter()
            .map(|(text, id)| ExtractedLicense {
                license_id: id,
                extracted_text: text.clone(),
                name: Some(text),
                comment: None,
            })
            .collect();
        for id in self.undeclared {
            if !out.iter().any(|e| e.license_id == id) {
                out.push(ExtractedLicense {
                    license_id: id,
                    extracted_text: "NOASSERTION".to_owned(),
                    name: None,
                    comment: Some("named by the package's declared licence; its text was not available".to_owned()),
                });
            }
        }
        out.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        out
    }
}

fn build(report: &ScanReport) -> Document {
    let image = ImageIdentity::of(report);
    let mut packages = vec![image_package(report, &image)];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID.to_owned(),
        comment: None,
    }];
    if let Some(os) = &report.os {
        packages.push(os_package(os));
        relationships.push(Relationship {
            spdx_element_id: IMAGE_ID.to_owned(),
            relationship_type: "CONTAINS",
            related_spdx_element: OS_ID.to_owned(),
            comment: None,
        });
    }
    let entries = entries(report);
    let mut licenses = LicenseRefs::default();
    let contains = package_entries(report, &entries, &mut licenses, &mut packages);
    relationships.extend(contains);
    relationships.extend(dependencies(&entries));

    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: image.name.clone(),
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: report
                .image
                .created
                .as_deref()
                .and_then(time::normalise)
                .unwrap_or_else(|| time::EPOCH.to_owned()),
            creators: vec![format!("Tool: bulwark-{}", report.bulwark_version)],
            comment: format!(
                "created is the image's creation time ({}), not the time of the scan, so that the same image gives the same document",
                if report.image.created.is_some() {
                    "from its config"
                } else {
                    "unknown: the Unix epoch stands for it"
                }
            ),
        },
        packages,
        relationships,
        has_extracted_licensing_infos: licenses.infos(),
    }
}

/// The image itself: its name, manifest digest, purl and layers.
fn image_package(report: &ScanReport, image: &ImageIdentity) -> SpdxPackage {
    let layers_comment = (!report.layers.is_empty()).then(|| {
        let lines: Vec<String> = report
            .layers
            .iter()
            .map(|l| {
                let created_by = l.created_by.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
                format!("layer {} diff_id {}{created_by}", l.index, l.diff_id)
            })
            .collect();
        lines.join("\n")
    });
    SpdxPackage {
        spdx_id: IMAGE_ID.to_owned(),
        name: image.name.clone(),
        version_info: image.digest.as_ref().map(ToString::to_string),
        download_location: "NOASSERTION",
        checksums: report
            .image
            .manifest_digest
            .iter()
            .map(|d| Checksum {
                algorithm: match d.algorithm() {
                    bulwark_core::Algorithm::Sha256 => "SHA256",
                    bulwark_core::Algorithm::Sha512 => "SHA512",
                },
                checksum_value: d.hex().to_owned(),
            })
            .collect(),
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".to_owned(),
        copyright_text: "NOASSERTION",
        description: Some(format!("container image {}", report.image.reference)),
        comment: layers_comment,
        external_refs: image.purl.iter().map(|p| purl_ref(p)).collect(),
        primary_package_purpose: "CONTAINER",
        ..SpdxPackage::default()
    }
}

/// The operating system the image is based on.
fn os_package(os: &OsRelease) -> SpdxPackage {
    SpdxPackage {
        spdx_id: OS_ID.to_owned(),
        name: os.id.clone(),
        version_info: os.version_id.clone(),
        download_location: "NOASSERTION",
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".to_owned(),
        copyright_text: "NOASSERTION",
        description: os.pretty_name.clone(),
        source_info: Some(format!("found in: {}", os.source)),
        primary_package_purpose: "OPERATING_SYSTEM",
        ..SpdxPackage::default()
    }
}

/// One package per inventory entry (appended to `packages`), and the image's CONTAINS (or,
/// for a package a later layer removed, OTHER) relationship to each, sorted.
fn package_entries(
    report: &ScanReport,
    entries: &[Entry<'_>],
    licenses: &mut LicenseRefs,
    packages: &mut Vec<SpdxPackage>,
) -> Vec<Relationship> {
    let layer = |i: usize| match report.layers.iter().find(|l| l.index == i) {
        Some(l) => format!("layer {i} (diff_id {})", l.diff_id),
        None => format!("layer {i}"),
    };
    let mut contains = Vec::new();
    for e in entries {
        let p = e.pkg;
        let id = e.spdx_id();
        let mut comment = Vec::new();
        if let Some(l) = p.layer {
            comment.push(format!("introduced by {}", layer(l)));
        }
        if let Some(r) = p.removed_in {
            comment.push(format!("removed by {}", layer(r)));
        }
        if let Some(s) = &p.source {
            comment.push(match &s.version {
                Some(v) => format!("source package {} {v}", s.name),
                None => format!("source package {}", s.name),
            });
        }
        packages.push(SpdxPackage {
            spdx_id: id.clone(),
            name: p.name.clone(),
            version_info: Some(p.version.clone()).filter(|v| !v.is_empty()),
            download_location: "NOASSERTION",
            license_concluded: "NOASSERTION",
            license_declared: licenses.declared(p.license.as_deref()),
            copyright_text: "NOASSERTION",
            source_info: (!p.locations.is_empty()).then(|| format!("found in: {}", p.locations.join(", "))),
            comment: (!comment.is_empty()).then(|| comment.join("; ")),
            external_refs: Some(&p.purl).filter(|u| !u.is_empty()).map(|u| purl_ref(u)).into_iter().collect(),
            primary_package_purpose: "LIBRARY",
            ..SpdxPackage::default()
        });
        contains.push(match p.removed_in {
            None => Relationship {
                spdx_element_id: IMAGE_ID.to_owned(),
                relationship_type: "CONTAINS",
                related_spdx_element: id,
                comment: None,
            },
            Some(r) => Relationship {
                spdx_element_id: IMAGE_ID.to_owned(),
                relationship_type: "OTHER",
                related_spdx_element: id,
                comment: Some(format!("installed by an earlier layer and removed by {}", layer(r))),
            },
        });
    }
    contains.sort_by(|a, b| {
        (a.relationship_type, &a.related_spdx_element).cmp(&(b.relationship_type, &b.related_spdx_element))
    });
    contains
}

/// DEPENDS_ON relationships between inventory entries, sorted.
fn dependencies(entries: &[Entry<'_>]) -> Vec<Relationship> {
    let mut depends = Vec::new();
    for (i, deps) in resolve_dependencies(entries) {
        for j in deps {
            depends.push(Relationship {
                spdx_element_id: entries[i].spdx_id(),
                relationship_type: "DEPENDS_ON",
                related_spdx_element: entries[j].spdx_id(),
                comment: None,
            });
        }
    }
    depends.sort_by(|a, b| {
        (&a.spdx_element_id, &a.related_spdx_element).cmp(&(&b.spdx_element_id, &b.related_spdx_element))
    });
    depends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn namespace_and_created_are_deterministic() {
        let mut r = report(vec![pkg("npm", "a", "1", "pkg:npm/a@1", "/a")]);
        let v = write(&r);
        let ns = v["documentNamespace"].as_str().unwrap();
        assert!(ns.starts_with(
            "https://bulwark.dev/spdx/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/"
        ));
        assert_eq!(v["creationInfo"]["created"], "2024-05-13T20:53:54Z");
        assert_eq!(write(&r), v);
        r.image.created = None;
        assert_eq!(write(&r)["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn licence_refs_are_declared_once() {
        let mut a = pkg("apk", "a", "1", "pkg:apk/alpine/a@1", "/lib/apk/db/installed");
        a.license = Some("MIT BSD".into());
        let mut b = a.clone();
        b.name = "b".into();
        b.purl = "pkg:apk/alpine/b@1".into();
        let mut c = a.clone();
        c.name = "c".into();
        c.purl = "pkg:apk/alpine/c@1".into();
        c.license = Some("MIT OR LicenseRef-Custom".into());
        let v = write(&report(vec![a, b, c]));
        let declared: Vec<&str> =
            v["packages"].as_array().unwrap()[1..].iter().map(|p| p["licenseDeclared"].as_str().unwrap()).collect();
        assert_eq!(declared, ["LicenseRef-MIT-BSD", "LicenseRef-MIT-BSD", "MIT OR LicenseRef-Custom"]);
        let infos = v["hasExtractedLicensingInfos"].as_array().unwrap();
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[1]["extractedText"], "MIT BSD");
    }
}
