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
//!   `bulwark:source:name`, `bulwark:source:version`, and for packages whose identity is
//!   inferred (Java archives without Maven metadata) `bulwark:identification:confidence`,
//!   `bulwark:identification:evidence` (`group=<source>, artifact=<source>,
//!   version=<source>`) and one `bulwark:identification:alternative` per losing value
//!   (`version=1.2.3 (file-name)`). Packages a later layer removed are
//!   kept, with `scope: excluded` and `bulwark:removed_in`, so the SBOM records the image's
//!   history without claiming they are present.
//! - `dependencies`: edges from each package's recorded dependency names, resolved within
//!   its ecosystem (see `resolve_dependencies`).
//! - `vulnerabilities`: one entry per finding (advisory id × package), with the advisory's
//!   `source` and page, aliases as `references`, `ratings` (the CVSS score, vector and
//!   method, and the severity word with where it came from), `affects` pointing at the
//!   package's `bom-ref`, `recommendation` (the fixed version), KEV/EPSS as properties, and
//!   a VEX-style `analysis`: `in_triage` for findings (affected by version, not yet judged),
//!   with `response: update` when a fix exists; for suppressed findings `not_affected` with
//!   the CycloneDX justification their VEX justification maps to, `resolved` for VEX
//!   `fixed`, `false_positive` when the reason says so, else `in_triage` with the reason.
//! - `serialNumber`: a UUID derived from the hash of the rest of the document, so that
//!   identical content has an identical serial number.

use bulwark_core::Digest;
use bulwark_core::report::{FixState, Package, ScanReport, Vulnerability};
use serde::Serialize;
use serde_json::{Value, json};

use crate::license::{self, License};
use crate::{Entry, ImageIdentity, entries, resolve_dependencies, short_hash, time};

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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Value>,
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
        vulnerabilities: vulnerabilities(report, &entries),
    }
}

/// The `bom-ref` of the component a finding is in: the package with the same purl that
/// shares a location, else the first with the purl, else the image.
fn affected_ref(entries: &[Entry<'_>], v: &Vulnerability, image_ref: &str) -> String {
    let same: Vec<&Entry<'_>> = entries.iter().filter(|e| e.pkg.purl == v.package.purl).collect();
    same.iter()
        .find(|e| e.pkg.locations.iter().any(|l| v.package.locations.contains(l)))
        .or(same.first())
        .map(|e| e.bom_ref())
        .unwrap_or_else(|| image_ref.to_owned())
}

/// CycloneDX `analysis` for a suppressed finding: (state, justification).
fn suppressed_analysis(justification: &str) -> (&'static str, Option<&'static str>) {
    let j = justification.to_ascii_lowercase();
    let has = |w: &str| j.contains(w) || j.contains(&w.replace('_', " "));
    // OpenVEX justifications first, then CycloneDX's own words passed through.
    let mapped = [
        ("component_not_present", "code_not_present"),
        ("vulnerable_code_not_present", "code_not_present"),
        ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
        ("vulnerable_code_cannot_be_controlled_by_adversary", "requires_environment"),
        ("inline_mitigations_already_exist", "protected_by_mitigating_control"),
        ("code_not_present", "code_not_present"),
        ("code_not_reachable", "code_not_reachable"),
        ("requires_configuration", "requires_configuration"),
        ("requires_dependency", "requires_dependency"),
        ("requires_environment", "requires_environment"),
        ("protected_by_compiler", "protected_by_compiler"),
        ("protected_at_runtime", "protected_at_runtime"),
        ("protected_at_perimeter", "protected_at_perimeter"),
        ("protected_by_mitigating_control", "protected_by_mitigating_control"),
    ]
    .into_iter()
    .find(|(k, _)| has(k))
    .map(|(_, v)| v);
    if has("false_positive") {
        ("false_positive", None)
    } else if let Some(m) = mapped {
        ("not_affected", Some(m))
    } else if has("not_affected") {
        ("not_affected", None)
    } else if j.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == "fixed" || w == "resolved") {
        ("resolved", None)
    } else {
        ("in_triage", None)
    }
}

fn severity_word(s: bulwark_core::report::Severity) -> &'static str {
    crate::common::severity_word(s)
}

fn vulnerability(v: &Vulnerability, affects: String, suppressed: Option<(&str, &str)>) -> Value {
    let source = |id: &str| {
        let name = if id.starts_with("CVE-") {
            "NVD"
        } else if id.starts_with("GHSA-") {
            "GitHub"
        } else {
            "OSV"
        };
        json!({ "name": name, "url": crate::sarif::advisory_url(id) })
    };
    let mut ratings = Vec::new();
    if let Some(c) = &v.cvss {
        let method = match c.version.as_str() {
            "2.0" => "CVSSv2",
            "3.0" => "CVSSv3",
            "3.1" => "CVSSv31",
            "4.0" => "CVSSv4",
            _ => "other",
        };
        ratings.push(json!({
            "source": { "name": c.source },
            "score": c.score,
            "severity": severity_word(v.severity),
            "method": method,
            "vector": c.vector,
        }));
    }
    if v.cvss.is_none() || v.severity_source.is_some() {
        let mut r = json!({ "severity": severity_word(v.severity), "method": "other" });
        if let Some(src) = &v.severity_source {
            r["source"] = json!({ "name": src });
        }
        ratings.push(r);
    }
    let mut props =
        vec![json!({ "name": "bulwark:fix_state", "value": serde_json::to_value(v.state).unwrap_or(Value::Null) })];
    if v.kev {
        props.push(json!({ "name": "bulwark:kev", "value": "true" }));
    }
    if let Some((p, pct)) = v.epss {
        props.push(json!({ "name": "bulwark:epss", "value": format!("{p}") }));
        props.push(json!({ "name": "bulwark:epss:percentile", "value": format!("{pct}") }));
    }
    if let Some(l) = v.package.layer {
        props.push(json!({ "name": "bulwark:layer", "value": l.to_string() }));
    }
    for s in &v.sources {
        props.push(json!({ "name": "bulwark:source", "value": s }));
    }
    let analysis = match suppressed {
        Some((by, justification)) => {
            let (state, just) = suppressed_analysis(justification);
            props.push(json!({ "name": "bulwark:suppressed_by", "value": by }));
            let mut a = json!({ "state": state, "detail": format!("{by}: {justification}") });
            if let Some(j) = just {
                a["justification"] = json!(j);
            }
            a
        }
        None => {
            let mut a = json!({ "state": "in_triage", "detail": v.explanation });
            match v.state {
                FixState::Fixed => a["response"] = json!(["update"]),
                FixState::WontFix => a["response"] = json!(["will_not_fix"]),
                FixState::NotFixed => {}
            }
            a
        }
    };
    let mut out = json!({
        "bom-ref": format!("bulwark:vulnerability:{}:{}", v.id, short_hash([affects.as_str(), v.package.purl.as_str()])),
        "id": v.id,
        "source": source(&v.id),
        "ratings": ratings,
        "detail": v.explanation,
        "analysis": analysis,
        "affects": [{ "ref": affects, "versions": [{ "version": v.package.version, "status": "affected" }] }],
        "properties": props,
    });
    if !v.aliases.is_empty() {
        out["references"] = Value::Array(v.aliases.iter().map(|a| json!({ "id": a, "source": source(a) })).collect());
    }
    if let Some(t) = &v.title {
        out["description"] = json!(t);
    }
    if let Some(f) = v.fixed_versions.first().filter(|_| v.state == FixState::Fixed) {
        out["recommendation"] = json!(format!("Upgrade {} to {f} or later.", v.package.name));
    }
    out
}

fn vulnerabilities(report: &ScanReport, entries: &[Entry<'_>]) -> Vec<Value> {
    let image_ref = ImageIdentity::of(report).purl.unwrap_or_else(|| "bulwark:image".to_owned());
    let mut out: Vec<(String, String, Value)> = report
        .vulnerabilities
        .iter()
        .map(|v| (v, None))
        .chain(report.suppressed.iter().map(|s| (&s.vulnerability, Some((s.by.as_str(), s.justification.as_str())))))
        .map(|(v, sup)| {
            let r = affected_ref(entries, v, &image_ref);
            (v.id.clone(), r.clone(), vulnerability(v, r, sup))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, a.2.to_string()).cmp(&(&b.0, &b.1, b.2.to_string())));
    // A finding reported twice for one component (two records merged upstream) keeps one
    // entry: bom-refs must be unique.
    out.dedup_by(|a, b| a.2["bom-ref"] == b.2["bom-ref"]);
    out.into_iter().map(|(_, _, v)| v).collect()
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
    if let Some(id) = &p.identification {
        props.push(prop("bulwark:identification:confidence", id.confidence.as_str()));
        let group = id.group.as_deref().unwrap_or("none");
        props.push(prop(
            "bulwark:identification:evidence",
            format!("group={group}, artifact={}, version={}", id.artifact, id.version),
        ));
        for a in &id.alternatives {
            props.push(prop(
                "bulwark:identification:alternative",
                format!("{}={} ({})", a.coordinate, a.value, a.source),
            ));
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

    #[test]
    fn java_identification_evidence_is_a_property() {
        use bulwark_core::report::{Alternative, Confidence, Identification};
        let mut p = pkg(
            "maven",
            "org.bouncycastle:bcprov-jdk18on",
            "1.72",
            "pkg:maven/org.bouncycastle/bcprov-jdk18on@1.72",
            "/opt/lib/bcprov-1.72.jar",
        );
        p.identification = Some(Identification {
            confidence: Confidence::Medium,
            group: Some("manifest:Implementation-Vendor-Id".into()),
            artifact: "known-artifacts".into(),
            version: "file-name".into(),
            alternatives: vec![Alternative {
                coordinate: "artifact".into(),
                value: "bcprov".into(),
                source: "file-name".into(),
            }],
        });
        let v = write(&report(vec![p]));
        let props = v["components"][0]["properties"].as_array().unwrap();
        let get = |name: &str| -> Vec<&str> {
            props.iter().filter(|p| p["name"] == name).map(|p| p["value"].as_str().unwrap()).collect()
        };
        assert_eq!(get("bulwark:identification:confidence"), ["medium"]);
        assert_eq!(
            get("bulwark:identification:evidence"),
            ["group=manifest:Implementation-Vendor-Id, artifact=known-artifacts, version=file-name"]
        );
        assert_eq!(get("bulwark:identification:alternative"), ["artifact=bcprov (file-name)"]);
        assert_eq!(v["components"][0]["group"], "org.bouncycastle");
    }
}
