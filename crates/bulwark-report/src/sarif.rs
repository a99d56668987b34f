//! SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/>) for GitHub code scanning
//! and other SARIF consumers.
//!
//! - One run; `tool.driver` is Bulwark with its version and one rule per advisory id,
//!   malware rule (`malware/<rule>`), secret rule (`secret/<rule>`) and config check
//!   (`config/<id>`). Each rule has a short and full description, help as text and
//!   Markdown, `properties.security-severity` (the highest CVSS score of the findings, else
//!   critical 9.5, high 8.0, medium 5.5, low 2.0; none for unknown) and `tags`.
//! - One result per finding: `level` error (critical, high), warning (medium) or note,
//!   a message that names package, versions and layer, and a location GitHub accepts: every
//!   result has a `physicalLocation` with a repository-relative `artifactLocation.uri` (the
//!   path in the image without its leading `/`; the outer file for archive members; the
//!   image name for findings in the image config) and a `region.startLine` (the secret's
//!   line, else 1). The image, package and layer are `logicalLocations`.
//! - `partialFingerprints["bulwark/v1"]`: a hash of what identifies the finding (kind, id,
//!   package or path, line, secret fingerprint), stable across scans of rebuilt images.
//! - `run.properties`: the image reference and digest, and the policy verdict.
//! - `automationDetails.id`: `bulwark/<image name>/`, so scans of several images in one
//!   repository are separate analyses.

use std::collections::BTreeMap;

use bulwark_core::report::{
    ConfigFinding, FileLocation, MalwareFinding, ScanReport, SecretFinding, Severity, Vulnerability,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use crate::common::{self, fixed_text, layer_label, location_text, severity_score, severity_word};
use crate::{ImageIdentity, short_hash};

/// Where users learn about Bulwark; SARIF's `tool.driver.informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/bulwark-sec/bulwark";

/// The `$schema` written: the one GitHub's documentation uses.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A rule being assembled from the findings that use it.
struct Rule {
    name: String,
    short: String,
    full: String,
    help_text: String,
    help_markdown: String,
    help_uri: Option<String>,
    severity: Severity,
    score: Option<f64>,
    tags: Vec<&'static str>,
}

impl Rule {
    fn raise(&mut self, severity: Severity, score: Option<f64>) {
        self.severity = self.severity.max(severity);
        self.score = match (self.score, score) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    fn to_json(&self, id: &str) -> Value {
        let mut props = serde_json::Map::new();
        let score = self.score.or_else(|| severity_score(self.severity));
        if let Some(s) = score {
            props.insert("security-severity".into(), Value::String(format!("{s:.1}")));
        }
        let mut tags: Vec<&str> = self.tags.clone();
        tags.push(severity_word(self.severity));
        props.insert("tags".into(), json!(tags));
        let mut rule = json!({
            "id": id,
            "name": self.name,
            "shortDescription": { "text": self.short },
            "fullDescription": { "text": self.full },
            "help": { "text": self.help_text, "markdown": self.help_markdown },
            "defaultConfiguration": { "level": level(self.severity) },
            "properties": props,
        });
        if let Some(u) = &self.help_uri {
            rule["helpUri"] = json!(u);
        }
        rule
    }
}

/// `error` for critical and high, `warning` for medium, `note` otherwise.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// A rule name in PascalCase from an id (`CVE-2024-1234` → `Cve20241234`), as SARIF
/// recommends for `reportingDescriptor.name`.
fn pascal(id: &str) -> String {
    let mut out = String::new();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
}

/// Percent-encodes a path for a URI reference, keeping `/` and RFC 3986 unreserved and
/// sub-delimiter characters other than those with a meaning in URIs.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'+' | b'@' | b'=' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The file an in-image path names, repository-relative: leading `/` dropped, an archive
/// member's outer file (`/opt/a.tar.gz!b/c` → `opt/a.tar.gz`).
fn artifact_uri(path: &str) -> String {
    let outer = path.split('!').next().unwrap_or(path);
    let rel = outer.trim_start_matches('/');
    uri_path(if rel.is_empty() { "." } else { rel })
}

/// The placeholder artifact for findings without a file: the image's name, as a relative
/// path (`docker.io/library/debian`), which GitHub shows as the alert's file.
fn image_uri(image: &ImageIdentity) -> String {
    let name = image.name.trim_start_matches('/');
    let name = name.split(['@', '?', '#']).next().unwrap_or(name);
    uri_path(if name.is_empty() { "image" } else { name })
}

fn location(uri: String, line: Option<u64>, logical: Vec<Value>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri },
            // GitHub shows a result only with a region; without a line the finding is about
            // the whole file, and line 1 is where it starts.
            "region": { "startLine": line.filter(|l| *l > 0).unwrap_or(1) },
        }
    });
    if !logical.is_empty() {
        loc["logicalLocations"] = Value::Array(logical);
    }
    loc
}

fn logical(name: &str, kind: &str) -> Value {
    json!({ "name": name, "kind": kind })
}

fn layer_logical(r: &ScanReport, layer: Option<usize>) -> Option<Value> {
    layer.map(|l| json!({ "name": layer_label(r, l), "kind": "layer" }))
}

fn file_location(r: &ScanReport, image: &ImageIdentity, l: &FileLocation) -> Value {
    let mut logical_locs = Vec::new();
    logical_locs.extend(layer_logical(r, l.layer));
    if l.path.starts_with("config:") {
        logical_locs.insert(0, logical(&format!("{} {}", r.image.reference, l.path), "image-config"));
        return location(image_uri(image), None, logical_locs);
    }
    if l.path.contains('!') {
        logical_locs.insert(0, logical(&l.path, "archive-member"));
    }
    location(artifact_uri(&l.path), l.line, logical_locs)
}

fn vuln_rule(v: &Vulnerability) -> Rule {
    let title = v.title.clone().unwrap_or_else(|| format!("{} in {}", v.id, v.package.name));
    let aliases =
        if v.aliases.is_empty() { String::new() } else { format!(" Also known as {}.", v.aliases.join(", ")) };
    let url = advisory_url(&v.id);
    let mut md = format!("**{}**: {}\n\n", v.id, md_escape(&title));
    if !v.aliases.is_empty() {
        md.push_str(&format!("Aliases: {}\n\n", md_escape(&v.aliases.join(", "))));
    }
    if let Some(c) = &v.cvss {
        md.push_str(&format!("CVSS {} {:.1} `{}`\n\n", c.version, c.score, c.vector.replace('`', "'")));
    }
    md.push_str(&format!("Upgrade the affected package to a fixed version. Details: <{url}>\n"));
    Rule {
        name: pascal(&v.id),
        short: common::truncate(&common::one_line(&title), 200),
        full: format!("{}: {}.{aliases}", v.id, common::one_line(&title).trim_end_matches('.')),
        help_text: format!(
            "{}: {}.{aliases} Upgrade the affected package to a fixed version. See {url}",
            v.id,
            common::one_line(&title).trim_end_matches('.')
        ),
        help_markdown: md,
        help_uri: Some(url),
        severity: v.severity,
        score: v.cvss.as_ref().map(|c| c.score),
        tags: vec!["security", "vulnerability"],
    }
}

/// The advisory's page: NVD for CVEs, GitHub for GHSAs, osv.dev for everything else
/// (DSA/DLA, RUSTSEC, GO, PYSEC, … all resolve there).
pub(crate) fn advisory_url(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else if id.starts_with("GHSA-") {
        format!("https://github.com/advisories/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{}", uri_path(id))
    }
}

/// Escapes Markdown's inline syntax characters in text taken from advisories or images.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in common::one_line(s).chars() {
        if "\\`*_{}[]()<>#+-!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn malware_rule(m: &MalwareFinding) -> Rule {
    Rule {
        name: pascal(&m.rule),
        short: common::truncate(&common::one_line(&m.title), 200),
        full: format!("{} (rule {} from {}).", common::one_line(&m.title), m.rule, m.source),
        help_text: format!(
            "A file matched the malware rule {} ({}). Remove the file from the image and find out how it got there.",
            m.rule, m.source
        ),
        help_markdown: format!(
            "A file matched the malware rule `{}` ({}).\n\nRemove the file from the image and find out how it got there.\n",
            m.rule.replace('`', "'"),
            md_escape(&m.source)
        ),
        help_uri: None,
        severity: m.severity,
        score: None,
        tags: vec!["security", "malware"],
    }
}

fn secret_rule(s: &SecretFinding) -> Rule {
    Rule {
        name: pascal(&s.rule),
        short: common::truncate(&common::one_line(&s.title), 200),
        full: format!("{} (rule {}).", common::one_line(&s.title), s.rule),
        help_text: "A credential is stored in the image. Revoke it, then rebuild the image without it: \
            deleting it in a later layer does not remove it from the earlier layer."
            .to_owned(),
        help_markdown: "A credential is stored in the image.\n\n1. Revoke it.\n2. Rebuild the image without \
            it: deleting it in a later layer does not remove it from the earlier layer.\n"
            .to_owned(),
        help_uri: None,
        severity: s.severity,
        score: None,
        tags: vec!["security", "secret"],
    }
}

/// `CIS Docker Benchmark x.y.` for a check that has one.
fn cis_text(c: &ConfigFinding) -> String {
    c.cis.as_deref().map(|x| format!(" CIS Docker Benchmark {x}.")).unwrap_or_default()
}

fn config_rule(c: &ConfigFinding) -> Rule {
    let cis = cis_text(c);
    let fix = c.remediation.as_deref().map(common::one_line).unwrap_or_else(|| "Fix the image configuration.".into());
    Rule {
        name: pascal(&c.id),
        short: common::truncate(&common::one_line(&c.title), 200),
        full: format!("{}.{cis}", common::one_line(&c.title).trim_end_matches('.')),
        help_text: format!("{fix}{cis}"),
        help_markdown: format!(
            "{}\n{}",
            md_escape(&fix),
            if cis.is_empty() { String::new() } else { format!("\n{}\n", md_escape(cis.trim())) }
        ),
        help_uri: None,
        severity: c.severity,
        score: None,
        tags: vec!["security", "misconfiguration"],
    }
}

/// Every rule the findings use, by id. A rule's text is built once per id: only its
/// severity and score are raised by later findings of the same rule.
fn rules(report: &ScanReport) -> BTreeMap<String, Rule> {
    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    for v in common::vulnerabilities(report) {
        let score = v.cvss.as_ref().map(|c| c.score);
        match rules.get_mut(&v.id) {
            Some(r) => r.raise(v.severity, score),
            None => {
                rules.insert(v.id.clone(), vuln_rule(v));
            }
        }
    }
    let mut add = |id: String, severity: Severity, make: &dyn Fn() -> Rule| match rules.get_mut(&id) {
        Some(r) => r.raise(severity, None),
        None => {
            rules.insert(id, make());
        }
    };
    for m in common::malware(report) {
        add(format!("malware/{}", m.rule), m.severity, &|| malware_rule(m));
    }
    for s in common::secrets(report) {
        add(format!("secret/{}", s.rule), s.severity, &|| secret_rule(s));
    }
    for c in common::misconfigurations(report) {
        add(format!("config/{}", c.id), c.severity, &|| config_rule(c));
    }
    rules
}

fn vuln_result(report: &ScanReport, image: &ImageIdentity, v: &Vulnerability) -> (String, Value) {
    let mut msg = format!(
        "{} in {} {} ({}): {}.",
        v.id,
        v.package.name,
        v.package.version,
        v.package.ecosystem,
        match v.state {
            bulwark_core::report::FixState::Fixed => format!("fixed in {}", fixed_text(v)),
            _ => fixed_text(v),
        }
    );
    if let Some(l) = v.package.layer {
        msg.push_str(&format!(" Introduced by layer {}.", layer_label(report, l)));
    }
    if v.kev {
        msg.push_str(" Known exploited (CISA KEV).");
    }
    if let Some((p, pct)) = v.epss {
        msg.push_str(&format!(" EPSS {:.1}% (percentile {:.0}).", p * 100.0, pct * 100.0));
    }
    let mut logical_locs = vec![logical(&report.image.reference, "image"), logical(&v.package.purl, "package")];
    logical_locs.extend(layer_logical(report, v.package.layer));
    let path = v.package.locations.first().map(String::as_str).unwrap_or("");
    let uri = if path.is_empty() { image_uri(image) } else { artifact_uri(path) };
    let mut props = json!({ "package": v.package.purl, "installedVersion": v.package.version, "fixState": v.state });
    if !v.fixed_versions.is_empty() {
        props["fixedVersions"] = json!(v.fixed_versions);
    }
    if v.kev {
        props["kev"] = json!(true);
    }
    (
        v.id.clone(),
        json!({
            "level": level(v.severity),
            "message": { "text": msg },
            "locations": [location(uri, None, logical_locs)],
            "partialFingerprints": {
                "bulwark/v1": short_hash(["vulnerability", &v.id, &v.package.purl, path]),
            },
            "properties": props,
        }),
    )
}

fn malware_result(report: &ScanReport, image: &ImageIdentity, m: &MalwareFinding) -> (String, Value) {
    let mut msg = format!("{} matched {}: {}.", m.location.path, m.rule, common::one_line(&m.title));
    if let Some(h) = &m.sha256 {
        msg.push_str(&format!(" SHA-256 {h}."));
    }
    if let Some(l) = m.location.layer {
        msg.push_str(&format!(" Added by layer {}.", layer_label(report, l)));
    }
    if let Some(l) = m.location.removed_in {
        msg.push_str(&format!(" Deleted by layer {l}, but its bytes still ship in the image."));
    }
    (
        format!("malware/{}", m.rule),
        json!({
            "level": level(m.severity),
            "message": { "text": msg },
            "locations": [file_location(report, image, &m.location)],
            "partialFingerprints": {
                "bulwark/v1": short_hash(["malware", &m.rule, &m.location.path, m.sha256.as_deref().unwrap_or("")]),
            },
        }),
    )
}

fn secret_result(report: &ScanReport, image: &ImageIdentity, s: &SecretFinding) -> (String, Value) {
    let mut msg =
        format!("{} in {}: {}", common::one_line(&s.title), location_text(&s.location), common::one_line(&s.preview));
    if let Some(l) = s.location.layer {
        msg.push_str(&format!(" (added by layer {})", layer_label(report, l)));
    }
    (
        format!("secret/{}", s.rule),
        json!({
            "level": level(s.severity),
            "message": { "text": msg },
            "locations": [file_location(report, image, &s.location)],
            "partialFingerprints": { "bulwark/v1": short_hash(["secret", &s.rule, &s.fingerprint]) },
        }),
    )
}

fn config_result(report: &ScanReport, image: &ImageIdentity, c: &ConfigFinding) -> (String, Value) {
    let loc = match &c.location {
        Some(l) => file_location(report, image, l),
        None => location(image_uri(image), None, vec![logical(&report.image.reference, "image")]),
    };
    let where_ = c.location.as_ref().map(|l| l.path.as_str()).unwrap_or("");
    (
        format!("config/{}", c.id),
        json!({
            "level": level(c.severity),
            "message": { "text": common::one_line(&c.message) },
            "locations": [loc],
            "partialFingerprints": { "bulwark/v1": short_hash(["config", &c.id, where_, &c.message]) },
        }),
    )
}

/// The SARIF log of a report, serialised on demand. Rules are computed up front (one per
/// id); results are built and written one at a time, so memory does not grow with the
/// number of findings beyond the output itself. Maps are written with their keys in
/// sorted order, as a `serde_json::Value` would write them, so the bytes are the same as
/// building the whole document as a value.
struct Log<'a> {
    report: &'a ScanReport,
    image: ImageIdentity,
    rules: BTreeMap<String, Rule>,
}

impl<'a> Log<'a> {
    fn new(report: &'a ScanReport) -> Self {
        Log { report, image: ImageIdentity::of(report), rules: rules(report) }
    }

    /// Every result, in the report's order, with its rule id.
    fn results(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        let (r, image) = (self.report, &self.image);
        common::vulnerabilities(r)
            .into_iter()
            .map(move |v| vuln_result(r, image, v))
            .chain(common::malware(r).into_iter().map(move |m| malware_result(r, image, m)))
            .chain(common::secrets(r).into_iter().map(move |s| secret_result(r, image, s)))
            .chain(common::misconfigurations(r).into_iter().map(move |c| config_result(r, image, c)))
    }
}

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut doc = serializer.serialize_map(Some(3))?;
        doc.serialize_entry("$schema", SCHEMA_URI)?;
        doc.serialize_entry("runs", &[Run(self)])?;
        doc.serialize_entry("version", "2.1.0")?;
        doc.end()
    }
}

struct Run<'a, 'b>(&'b Log<'a>);

impl Serialize for Run<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let log = self.0;
        let report = log.report;
        let mut run_props = json!({ "imageReference": report.image.reference });
        if let Some(d) = &log.image.digest {
            run_props["imageDigest"] = json!(d.to_string());
        }
        if let Some(p) = &report.policy {
            run_props["policy"] = serde_json::to_value(p).unwrap_or(Value::Null);
        }
        if let Some(created) = report.image.created.as_deref().and_then(crate::time::normalise) {
            run_props["imageCreated"] = json!(created);
        }
        let rules: Vec<Value> = log.rules.iter().map(|(id, r)| r.to_json(id)).collect();
        let tool = json!({
            "driver": {
                "name": "Bulwark",
                "version": report.bulwark_version,
                "semanticVersion": report.bulwark_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        });
        // Keys in sorted order (see `Log`).
        let mut run = serializer.serialize_map(Some(5))?;
        run.serialize_entry("automationDetails", &json!({ "id": format!("bulwark/{}/", image_uri(&log.image)) }))?;
        run.serialize_entry("columnKind", "unicodeCodePoints")?;
        run.serialize_entry("properties", &run_props)?;
        run.serialize_entry("results", &Results(log))?;
        run.serialize_entry("tool", &tool)?;
        run.end()
    }
}

struct Results<'a, 'b>(&'b Log<'a>);

impl Serialize for Results<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index: BTreeMap<&str, usize> = self.0.rules.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let mut seq = serializer.serialize_seq(None)?;
        for (rule_id, mut res) in self.0.results() {
            res["ruleIndex"] = json!(index.get(rule_id.as_str()).copied().unwrap_or_default());
            res["ruleId"] = Value::String(rule_id);
            seq.serialize_element(&res)?;
        }
        seq.end()
    }
}

/// Writes the report as a SARIF 2.1.0 log.
pub fn write(report: &ScanReport) -> Value {
    serde_json::to_value(Log::new(report)).unwrap_or(Value::Null)
}

/// Streams the SARIF log, pretty-printed with a trailing newline, to `out`: memory stays
/// bounded by the rules, not the number of results.
pub fn to_writer(report: &ScanReport, mut out: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, &Log::new(report)).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// [`write`] as pretty-printed JSON with a trailing newline.
pub fn to_vec(report: &ScanReport) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = to_writer(report, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_repository_relative() {
        assert_eq!(artifact_uri("/usr/lib/x y/METADATA"), "usr/lib/x%20y/METADATA");
        assert_eq!(artifact_uri("/opt/a.tar.gz!b.zip!eicar.com"), "opt/a.tar.gz");
        assert_eq!(artifact_uri("/"), ".");
        assert_eq!(pascal("CVE-2024-1234"), "Cve20241234");
    }
}
