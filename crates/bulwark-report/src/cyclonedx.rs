//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>) from a scan report.
//!
//! - `metadata.component`: the image, type `container`, version and SHA-256 hash from the
//!   manifest digest, purl `pkg:oci/<name>@<digest>?arch=…&repository_url=…&tag=…`, and one
//!   `bulwark:layer:<i>:…` property per layer (digest, diff_id, created_by).
//! - `metadata.timestamp`: the image's `created` time normalised to UTC seconds; left out
//!   when the image has none (see [`crate::time`]). `metadata.tools`: Bulwark and its version.
//! - `components`: the OS (type `operating-system`) and every package (type `library`) with
//!   a `bom-ref` derived from its purl and locations, purl, licences (an SPDX `expression`
//!   or `id` when the declared value is one, else a `name`), `evidence.occurrences` with the
//!   files it was found in, and the properties `bulwark:layer`, `bulwark:layer:diff_id`,
//!   `bulwark:location`, `bulwark:removed_in`, `bulwark:removed_in:diff_id`,
//!   `bulwark:source:name`, `bulwark:source:version`. Packages a later layer removed are
//!   kept, with `scope: excluded` and `bulwark:removed_in`, so the SBOM records the image's
//!   history without claiming they are present.
//! - `dependencies`: edges from each package's recorded dependency names, resolved within
//!   its ecosystem (see `resolve_dependencies`).
//! - `serialNumber`: a UUID derived from the hash of the rest of the document, so that
//!   identical content has an identical serial number.

use bulwark_core::Digest;
use bulwark_core::report::{Package, ScanReport};
use serde::Serialize;
use serde_json::Value;

use crate::license::{self, License};
use crate::{Entry, ImageIdentity, entries, resolve_dependencies, time};

/// The spec version written.
pub const SPEC_VERSION: &str = "1.6";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    tools: Tools,
    component: Component,
}

#[derive(Debug, Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Debug, Default, Serialize)]
struct Component {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
}

#[derive(Debug, Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Debug, Serialize)]
struct LicenseObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Property {
    name: String,
    value: String,
}

fn prop(name: impl Into<String>, value: impl Into<String>) -> Property {
    Property { name: name.into(), value: value.into() }
}

#[derive(Debug, Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Debug, Serialize)]
struct Occurrence {
    location: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

/// Writes the report as a CycloneDX 1.6 JSON document.
pub fn write(report: &ScanReport) -> Value {
    let mut bom = build(report);
    // The serial number is derived from everything else, so it is written last.
    let body = serde_json::to_vec(&bom).unwrap_or_default();
    bom.serial_number = Some(uuid_from(&Digest::sha256_of(&body)));
    serde_json::to_value(&bom).unwrap_or(Value::Null)
}

/// [`write`], rendered as pretty-printed JSON with a trailing newline.
pub fn to_vec(report: &ScanReport) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&write(report)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A version-5-shaped UUID (the schema only accepts versions 1–5) from a content hash.
fn uuid_from(d: &Digest) -> String {
    let h = d.hex();
    let mut b: Vec<char> = h[..32].chars().collect();
    b[12] = '5';
    let variant = u8::from_str_radix(&h[16..17], 16).unwrap_or(0);
    b[16] = char::from_digit(u32::from((variant & 0x3) | 0x8), 16).unwrap_or('8');
    let s: String = b.into_iter().collect();
    format!("urn:uuid:{}-{}-{}-{}-{}", &s[..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
}

fn hash_of(d: &Digest) -> Hash {
    let alg = match d.algorithm() {
        bulwark_core::Algorithm::Sha256 => "SHA-256",
        bulwark_core::Algorithm::Sha512 => "SHA-512",
    };
    Hash { alg, content: d.hex().to_owned() }
}

fn build(report: &ScanReport) -> Bom {
    let image = ImageIdentity::of(report);
    let layer_diff_id = |i: usize| report.layers.iter().find(|l| l.index == i).map(|l| l.diff_id.to_string());

    let mut image_props = vec![prop("bulwark:image:reference", &report.image.reference)];
    if let Some(d) = &report.image.config_digest {
        image_props.push(prop("bulwark:image:config_digest", d.to_string()));
    }
    if let Some(p) = &report.image.platform {
        image_props.push(prop("bulwark:image:platform", p.to_string()));
    }
    for l in &report.layers {
        if let Some(d) = &l.digest {
            image_props.push(prop(format!("bulwark:layer:{}:digest", l.index), d.to_string()));
        }
        image_props.push(prop(format!("bulwark:layer:{}:diff_id", l.index), l.diff_id.to_string()));
        if let Some(c) = l.created_by.as_deref().filter(|c| !c.is_empty()) {
            image_props.push(prop(format!("bulwark:layer:{}:created_by", l.index), c));
        }
    }
    let image_component = Component {
        ty: "container",
        bom_ref: Some(image.purl.clone().unwrap_or_else(|| "bulwark:image".to_owned())),
        name: image.name.clone(),
        version: image.digest.as_ref().map(ToString::to_string),
        hashes: report.image.manifest_digest.iter().map(hash_of).collect(),
        purl: image.purl.clone(),
        properties: image_props,
        ..Component::default()
    };

    let mut components = Vec::new();
    if let Some(os) = &report.os {
        let mut props = vec![prop("bulwark:os:source", &os.source)];
        if let Some(c) = &os.version_codename {
            props.push(prop("bulwark:os:codename", c));
        }
        if let Some(e) = &os.osv_ecosystem {
            props.push(prop("bulwark:os:osv_ecosystem", e));
        }
        if os.distroless {
            props.push(prop("bulwark:os:distroless", "true"));
        }
        components.push(Component {
            ty: "operating-system",
            bom_ref: Some(os_ref(report).unwrap_or_default()),
            name: os.id.clone(),
            version: os.version_id.clone(),
            description: os.pretty_name.clone(),
            properties: props,
            ..Component::default()
        });
    }
    let entries = entries(report);
    for e in &entries {
        components.push(package_component(e, &layer_diff_id));
    }
    let dependencies = resolve_dependencies(&entries)
        .into_iter()
        .map(|(i, deps)| Dependency {
            reference: entries[i].bom_ref(),
            depends_on: {
                let mut d: Vec<String> = deps.iter().map(|&j| entries[j].bom_ref()).collect();
                d.sort();
                d
            },
        })
        .collect::<Vec<_>>();
    let mut dependencies = dependencies;
    dependencies.sort_by(|a, b| a.reference.cmp(&b.reference));

    Bom {
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: None,
        version: 1,
        metadata: Metadata {
            timestamp: report.image.created.as_deref().and_then(time::normalise),
            tools: Tools {
                components: vec![Component {
                    ty: "application",
                    name: "bulwark".to_owned(),
                    version: Some(report.bulwark_version.clone()),
                    ..Component::default()
                }],
            },
            component: image_component,
        },
        components,
        dependencies,
    }
}

pub(crate) fn os_ref(report: &ScanReport) -> Option<String> {
    let os = report.os.as_ref()?;
    Some(format!("bulwark:os:{}@{}", os.id, os.version_id.as_deref().unwrap_or("unknown")))
}

fn package_component(e: &Entry<'_>, layer_diff_id: &dyn Fn(usize) -> Option<String>) -> Component {
    let p: &Package = e.pkg;
    let mut props = Vec::new();
    if let Some(l) = p.layer {
        props.push(prop("bulwark:layer", l.to_string()));
        if let Some(d) = layer_diff_id(l) {
            props.push(prop("bulwark:layer:diff_id", d));
        }
    }
    for loc in &p.locations {
        props.push(prop("bulwark:location", loc));
    }
    if let Some(r) = p.removed_in {
        props.push(prop("bulwark:removed_in", r.to_string()));
        if let Some(d) = layer_diff_id(r) {
            props.push(prop("bulwark:removed_in:diff_id", d));
        }
    }
    if let Some(s) = &p.source {
        props.push(prop("bulwark:source:name", &s.name));
        if let Some(v) = &s.version {
            props.push(prop("bulwark:source:version", v));
        }
    }
    // CycloneDX names Maven artifacts by group and name; the purl carries the same split.
    let (group, name) = match (p.ecosystem.as_str(), p.name.split_once(':')) {
        ("maven", Some((g, a))) => (Some(g.to_owned()), a.to_owned()),
        _ => (None, p.name.clone()),
    };
    let licenses = match p.license.as_deref().and_then(license::classify) {
        Some(License::Id(id)) => vec![LicenseChoice::License { license: LicenseObject { id: Some(id), name: None } }],
        Some(License::Expression(x)) => vec![LicenseChoice::Expression { expression: x }],
        Some(License::Name(n)) => vec![LicenseChoice::License { license: LicenseObject { id: None, name: Some(n) } }],
        None => Vec::new(),
    };
    Component {
        ty: "library",
        bom_ref: Some(e.bom_ref()),
        group,
        name,
        version: Some(p.version.clone()).filter(|v| !v.is_empty()),
        scope: p.removed_in.map(|_| "excluded"),
        licenses,
        purl: Some(p.purl.clone()).filter(|u| !u.is_empty()),
        properties: props,
        evidence: (!p.locations.is_empty()).then(|| Evidence {
            occurrences: p.locations.iter().map(|l| Occurrence { location: l.clone() }).collect(),
        }),
        ..Component::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn serial_number_is_a_v5_uuid_from_content() {
        let r = report(vec![pkg("npm", "a", "1", "pkg:npm/a@1", "/a")]);
        let v = write(&r);
        let sn = v["serialNumber"].as_str().unwrap();
        assert_eq!(sn.len(), "urn:uuid:".len() + 36);
        assert_eq!(&sn[23..24], "5");
        assert!(matches!(&sn[28..29], "8" | "9" | "a" | "b"), "{sn}");
        assert_eq!(write(&r), v);
        let other = write(&report(vec![pkg("npm", "a", "2", "pkg:npm/a@2", "/a")]));
        assert_ne!(other["serialNumber"], v["serialNumber"]);
    }

    #[test]
    fn timestamp_is_the_image_created_time() {
        let mut r = report(vec![]);
        assert_eq!(write(&r)["metadata"]["timestamp"], "2024-05-13T20:53:54Z");
        r.image.created = None;
        assert!(write(&r)["metadata"].get("timestamp").is_none());
    }

    #[test]
    fn licences() {
        let mut a = pkg("apk", "busybox", "1.36.1-r2", "pkg:apk/alpine/busybox@1.36.1-r2", "/lib/apk/db/installed");
        a.license = Some("GPL-2.0-only".into());
        let mut b = a.clone();
        b.name = "x".into();
        b.purl = "pkg:apk/alpine/x@1".into();
        b.license = Some("MIT BSD GPL2+".into());
        let mut c = a.clone();
        c.name = "y".into();
        c.purl = "pkg:apk/alpine/y@1".into();
        c.license = Some("mit or apache-2.0".into());
        let v = write(&report(vec![a, b, c]));
        let lic: Vec<&Value> = v["components"].as_array().unwrap().iter().map(|c| &c["licenses"][0]).collect();
        assert_eq!(lic[0], &serde_json::json!({"license": {"id": "GPL-2.0-only"}}));
        assert_eq!(lic[1], &serde_json::json!({"license": {"name": "MIT BSD GPL2+"}}));
        assert_eq!(lic[2], &serde_json::json!({"expression": "MIT OR Apache-2.0"}));
    }
}
