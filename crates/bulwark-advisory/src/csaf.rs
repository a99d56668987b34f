//! Red Hat CSAF 2.0 VEX documents (<https://security.access.redhat.com/data/csaf/v2/vex/>),
//! turned into OSV-shaped records the DB stores and the matcher evaluates like any other.
//!
//! What is read:
//!
//! - `product_tree`: branches (recursively) give each product id its CPE or purl;
//!   `relationships` (`default_component_of`) join a package (`openssl-1:3.0.7-27.el9.x86_64`,
//!   purl `pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=x86_64&epoch=1`, or a versionless component
//!   `pkg:rpm/redhat/openssl`) to a platform (`AppStream-9.4.0.GA`,
//!   CPE `cpe:/a:redhat:enterprise_linux:9::appstream`).
//! - Only platforms whose CPE is the main stream of a RHEL major
//!   (`cpe:/o:redhat:enterprise_linux:9`, `…:9::baseos`, `…:9::appstream`, …) are kept; EUS/AUS/
//!   E4S/TUS streams (`rhel_eus:9.2`), layered products (Satellite, JBCS, …) and non-rpm
//!   components (containers) are not, and neither are modular rpms (purl `rpmmod=`, release
//!   `.module+el…`): one name can have several module streams with unrelated fixed versions.
//! - `vulnerabilities[].product_status`: `fixed` → a range `introduced 0` / `fixed <evr>` per
//!   fixed build (several builds of one major: below the highest one is affected, since a fix
//!   shipped for a newer minor stream is the one a current image needs); `known_affected` →
//!   affected, no fix: `no_fix_planned` remediation → "will not fix" (`state: wont_fix`),
//!   `none_available` → affected (`state: affected`, e.g. "Fix deferred");
//!   `under_investigation` → affected, `state: under_investigation`; `known_not_affected` →
//!   no entry (never matched). A `fixed` build wins over an unversioned `known_affected` of the
//!   same major and name.
//! - `scores[].cvss_v3`/`cvss_v2` vectors (per entry, for the products they name) and the
//!   `threats[]` of category `impact` (Red Hat's Low/Moderate/Important/Critical, kept as
//!   `ecosystem_specific.redhat_impact`).
//!
//! The ecosystem is `Red Hat:enterprise_linux:<major>`, what the catalog gives RHEL images; the
//! package name is the rpm name (source and binary rpms both get entries, so a lookup by source
//! package or by binary name finds them). Record ids are `REDHAT-<CVE>`, with the CVE as alias.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::osv::{Affected, Event, Package, Range, Record, Reference, SeverityEntry};
use crate::redhat::{RedHatState, RedHatStatement};

/// Documents larger than this are rejected before parsing (Red Hat's largest VEX files, the
/// kernel's, are a few tens of MiB).
pub const MAX_CSAF_BYTES: usize = 128 << 20;

/// The OSV-style ecosystem CSAF entries of a RHEL major are stored under.
pub fn redhat_ecosystem(major: u32) -> String {
    format!("Red Hat:enterprise_linux:{major}")
}

fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A CSAF 2.0 document, leniently: unknown fields ignored, `null` reads as empty.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Document {
    #[serde(default, deserialize_with = "nullable")]
    pub document: Meta,
    #[serde(default, deserialize_with = "nullable")]
    pub product_tree: ProductTree,
    #[serde(default, deserialize_with = "nullable")]
    pub vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, deserialize_with = "nullable")]
    pub tracking: Tracking,
    #[serde(default, deserialize_with = "nullable")]
    pub references: Vec<DocReference>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tracking {
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    #[serde(default)]
    pub current_release_date: Option<String>,
    #[serde(default)]
    pub initial_release_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocReference {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductTree {
    #[serde(default, deserialize_with = "nullable")]
    pub branches: Vec<Branch>,
    #[serde(default, deserialize_with = "nullable")]
    pub full_product_names: Vec<FullProductName>,
    #[serde(default, deserialize_with = "nullable")]
    pub relationships: Vec<Relationship>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Branch {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub product: Option<FullProductName>,
    #[serde(default, deserialize_with = "nullable")]
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FullProductName {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub product_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub product_identification_helper: Helper,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Helper {
    #[serde(default)]
    pub cpe: Option<String>,
    #[serde(default)]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Relationship {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub full_product_name: FullProductName,
    #[serde(default, deserialize_with = "nullable")]
    pub product_reference: String,
    #[serde(default, deserialize_with = "nullable")]
    pub relates_to_product_reference: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Vulnerability {
    #[serde(default)]
    pub cve: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub release_date: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub notes: Vec<Note>,
    #[serde(default, deserialize_with = "nullable")]
    pub product_status: ProductStatus,
    #[serde(default, deserialize_with = "nullable")]
    pub remediations: Vec<Remediation>,
    #[serde(default, deserialize_with = "nullable")]
    pub scores: Vec<Score>,
    #[serde(default, deserialize_with = "nullable")]
    pub threats: Vec<Threat>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Note {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductStatus {
    #[serde(default, deserialize_with = "nullable")]
    pub fixed: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub first_fixed: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub known_affected: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub known_not_affected: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub under_investigation: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Remediation {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Score {
    #[serde(default)]
    pub cvss_v3: Option<Value>,
    #[serde(default)]
    pub cvss_v2: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub products: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Threat {
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub product_ids: Vec<String>,
}

/// Parses one CSAF document from untrusted bytes (size-limited; never panics).
pub fn parse_csaf(bytes: &[u8]) -> Result<Document> {
    if bytes.len() > MAX_CSAF_BYTES {
        return Err(Error::InvalidRecord {
            message: format!("CSAF document of {} bytes is over the {MAX_CSAF_BYTES}-byte limit", bytes.len()),
        });
    }
    let doc: Document = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidRecord { message: format!("not a CSAF JSON document: {e}") })?;
    if doc.document.tracking.id.trim().is_empty() && doc.vulnerabilities.is_empty() {
        return Err(Error::InvalidRecord {
            message: "not a CSAF document (no tracking id, no vulnerabilities)".into(),
        });
    }
    Ok(doc)
}

/// What a conversion kept and skipped, for the source's `detail`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// `affected` entries written, by state (`fixed`, `wont_fix`, `affected`, `under_investigation`).
    pub entries: BTreeMap<String, u64>,
    /// Status product ids on other platforms (layered products, EUS streams, non-RHEL).
    pub other_platform: u64,
    /// Status product ids that are modular rpms.
    pub modular: u64,
    /// Status product ids whose component is not an rpm or cannot be resolved.
    pub unresolved: u64,
    /// Vulnerabilities with no RHEL main-stream entry (no record written).
    pub empty: u64,
}

impl Stats {
    pub fn add(&mut self, other: &Stats) {
        for (k, v) in &other.entries {
            *self.entries.entry(k.clone()).or_default() += v;
        }
        self.other_platform += other.other_platform;
        self.modular += other.modular;
        self.unresolved += other.unresolved;
        self.empty += other.empty;
    }

    /// One line for a source's `detail`.
    pub fn summary(&self) -> String {
        let entries: Vec<String> = self.entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "entries: {}; skipped product ids: {} other platforms/streams, {} modular, {} unresolved; {} vulnerabilities without RHEL entries",
            if entries.is_empty() { "none".to_owned() } else { entries.join(" ") },
            self.other_platform,
            self.modular,
            self.unresolved,
            self.empty
        )
    }
}

/// An rpm named by a CSAF component purl.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rpm {
    name: String,
    /// `[epoch:]version-release` (epoch only when not 0), if the purl has a version.
    evr: Option<String>,
    modular: bool,
}

/// The RHEL major of a main-stream platform CPE (`cpe:/o:redhat:enterprise_linux:9`,
/// `cpe:/a:redhat:enterprise_linux:9::appstream`, or the CPE 2.3 form).
pub fn rhel_major(cpe: &str) -> Option<u32> {
    let cpe = cpe.trim();
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else {
        let rest = cpe.strip_prefix("cpe:/")?;
        rest.split(':').collect()
    };
    let [part, vendor, product, version, ..] = parts.as_slice() else { return None };
    if !matches!(*part, "o" | "a") || *vendor != "redhat" || *product != "enterprise_linux" {
        return None;
    }
    if version.is_empty() || version.len() > 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    version.parse().ok()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Reads `pkg:rpm/<namespace>/<name>[@<version-release>][?arch=…&epoch=…&rpmmod=…]`.
fn rpm_of_purl(purl: &str) -> Option<Rpm> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let (kind, rest) = rest.split_once('/')?;
    if !kind.eq_ignore_ascii_case("rpm") {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) => (p, Some(percent_decode(v))),
        None => (path, None),
    };
    let name = percent_decode(path.rsplit('/').next()?);
    if name.is_empty() {
        return None;
    }
    let mut epoch = None;
    let mut modular = false;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "epoch" => epoch = Some(percent_decode(v)),
            "rpmmod" => modular = true,
            _ => {}
        }
    }
    let version = version.filter(|v| !v.is_empty());
    if version.as_deref().is_some_and(|v| v.contains(".module+el") || v.contains(".module_el")) {
        modular = true;
    }
    let evr = version.map(|v| match epoch.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() && e != "0" => format!("{e}:{v}"),
        _ => v,
    });
    Some(Rpm { name, evr, modular })
}

#[derive(Default)]
struct Acc {
    fixed: BTreeSet<String>,
    /// `(state, reason)` from known_affected / under_investigation.
    affected: Option<(RedHatState, String)>,
    product_ids: Vec<String>,
}

/// What a status product id stands for: (major, rpm), or why it is skipped.
enum Resolved {
    Rhel(u32, Rpm),
    OtherPlatform,
    Modular,
    Unresolved,
}

/// The product tree of one document, indexed by product id.
struct ProductIndex<'a> {
    products: HashMap<&'a str, &'a FullProductName>,
    relationships: HashMap<&'a str, &'a Relationship>,
}

impl<'a> ProductIndex<'a> {
    fn new(doc: &'a Document) -> ProductIndex<'a> {
        fn walk<'a>(branches: &'a [Branch], products: &mut HashMap<&'a str, &'a FullProductName>) {
            for b in branches {
                if let Some(p) = &b.product {
                    products.insert(p.product_id.as_str(), p);
                }
                walk(&b.branches, products);
            }
        }
        let mut products = HashMap::new();
        walk(&doc.product_tree.branches, &mut products);
        for p in &doc.product_tree.full_product_names {
            products.insert(p.product_id.as_str(), p);
        }
        let relationships =
            doc.product_tree.relationships.iter().map(|r| (r.full_product_name.product_id.as_str(), r)).collect();
        ProductIndex { products, relationships }
    }

    fn resolve(&self, pid: &str) -> Resolved {
        let Some(rel) = self.relationships.get(pid) else { return Resolved::Unresolved };
        let platform = self.products.get(rel.relates_to_product_reference.as_str());
        let Some(major) = platform.and_then(|p| p.product_identification_helper.cpe.as_deref()).and_then(rhel_major)
        else {
            return Resolved::OtherPlatform;
        };
        let component = self.products.get(rel.product_reference.as_str());
        match component.and_then(|c| c.product_identification_helper.purl.as_deref()).and_then(rpm_of_purl) {
            Some(rpm) if rpm.modular => Resolved::Modular,
            Some(rpm) => Resolved::Rhel(major, rpm),
            None => Resolved::Unresolved,
        }
    }
}

/// Converts a CSAF VEX document into records, one per vulnerability with RHEL main-stream
/// entries. `source` (e.g. `csaf:cve-2024-0727.json`) is written into each record's
/// `database_specific.source`.
pub fn to_records(doc: &Document, source: &str) -> (Vec<Record>, Stats) {
    let index = ProductIndex::new(doc);
    let mut stats = Stats::default();
    let tracking_id = doc.document.tracking.id.trim();
    let mut records = Vec::new();
    let many = doc.vulnerabilities.len() > 1;
    for (vi, vuln) in doc.vulnerabilities.iter().enumerate() {
        let cve = vuln.cve.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let id = match (cve, many) {
            (Some(c), _) => format!("REDHAT-{c}"),
            (None, false) if !tracking_id.is_empty() => format!("REDHAT-{tracking_id}"),
            (None, _) => format!("REDHAT-{}-{vi}", if tracking_id.is_empty() { "CSAF" } else { tracking_id }),
        };
        let acc = product_states(vuln, &index, &mut stats);
        let affected_entries = affected_entries(vuln, acc, &mut stats);
        if affected_entries.is_empty() {
            stats.empty += 1;
            continue;
        }
        let (related, references) = references_of(doc, vuln);
        let details = vuln
            .notes
            .iter()
            .find(|n| n.category == "description")
            .map(|n| n.text.chars().take(8192).collect::<String>());
        let summary = vuln
            .title
            .as_deref()
            .or(Some(doc.document.title.as_str()))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        records.push(Record {
            id,
            schema_version: None,
            modified: doc.document.tracking.current_release_date.clone(),
            published: vuln.release_date.clone().or_else(|| doc.document.tracking.initial_release_date.clone()),
            withdrawn: None,
            aliases: cve.map(|c| vec![c.to_owned()]).unwrap_or_default(),
            upstream: Vec::new(),
            related,
            summary,
            details,
            severity: Vec::new(),
            affected: affected_entries,
            references,
            database_specific: Some(json!({ "source": source, "csaf_document": tracking_id })),
        });
    }
    (records, stats)
}

/// One vulnerability's product statuses, folded per (RHEL major, package name): the fixed
/// versions, and otherwise the strongest "affected" statement with its reason.
fn product_states(vuln: &Vulnerability, index: &ProductIndex<'_>, stats: &mut Stats) -> BTreeMap<(u32, String), Acc> {
    let mut remediations: HashMap<&str, Vec<&Remediation>> = HashMap::new();
    for r in &vuln.remediations {
        for p in &r.product_ids {
            remediations.entry(p.as_str()).or_default().push(r);
        }
    }
    let mut acc: BTreeMap<(u32, String), Acc> = BTreeMap::new();
    let ps = &vuln.product_status;
    let fixed = ps.fixed.iter().chain(&ps.first_fixed).map(|p| (p, "fixed"));
    let affected = ps.known_affected.iter().map(|p| (p, "known_affected"));
    let investigating = ps.under_investigation.iter().map(|p| (p, "under_investigation"));
    for (pid, status) in fixed.chain(affected).chain(investigating) {
        let (major, rpm) = match index.resolve(pid) {
            Resolved::Rhel(m, r) => (m, r),
            Resolved::OtherPlatform => {
                stats.other_platform += 1;
                continue;
            }
            Resolved::Modular => {
                stats.modular += 1;
                continue;
            }
            Resolved::Unresolved => {
                stats.unresolved += 1;
                continue;
            }
        };
        let a = acc.entry((major, rpm.name.clone())).or_default();
        a.product_ids.push(pid.clone());
        match status {
            "fixed" => match rpm.evr {
                Some(evr) => {
                    a.fixed.insert(evr);
                }
                None => stats.unresolved += 1,
            },
            "known_affected" => {
                let rems = remediations.get(pid.as_str()).map(Vec::as_slice).unwrap_or_default();
                let reason = |cat: &str| {
                    rems.iter().find(|r| r.category == cat).map(|r| {
                        r.details.as_deref().map(str::trim).filter(|d| !d.is_empty()).unwrap_or(cat).to_owned()
                    })
                };
                let state = if let Some(why) = reason("no_fix_planned") {
                    (RedHatState::WontFix, why)
                } else if let Some(why) = reason("none_available") {
                    (RedHatState::Affected, why)
                } else {
                    (RedHatState::Affected, "Affected".to_owned())
                };
                // "will not fix" is the strongest statement for one name; keep it.
                if a.affected.as_ref().is_none_or(|(s, _)| *s != RedHatState::WontFix) {
                    a.affected = Some(state);
                }
            }
            _ => {
                if a.affected.is_none() {
                    a.affected = Some((RedHatState::UnderInvestigation, "Under investigation".to_owned()));
                }
            }
        }
    }
    acc
}

/// The OSV `affected` entries of one vulnerability: ranges from the fixed versions (or an
/// open range for an affected statement), the Red Hat state, and the CVSS vectors and impact
/// word of the products behind each entry.
fn affected_entries(vuln: &Vulnerability, acc: BTreeMap<(u32, String), Acc>, stats: &mut Stats) -> Vec<Affected> {
    let vector_of =
        |v: &Option<Value>| v.as_ref().and_then(|v| v.get("vectorString")).and_then(Value::as_str).map(str::to_owned);
    let mut impact: HashMap<&str, &str> = HashMap::new();
    for t in vuln.threats.iter().filter(|t| t.category == "impact") {
        if let Some(d) = t.details.as_deref() {
            for p in &t.product_ids {
                impact.insert(p.as_str(), d);
            }
        }
    }
    let range = |events: Vec<Event>| Range { kind: "ECOSYSTEM".into(), repo: None, events, database_specific: None };
    let mut entries = Vec::new();
    for ((major, name), a) in acc {
        let mut specific = serde_json::Map::new();
        let (state, ranges) = if !a.fixed.is_empty() {
            RedHatStatement { state: RedHatState::Fixed, reason: None }.write_into(&mut specific);
            let ranges = a.fixed.iter().map(|f| range(vec![Event::Introduced("0".into()), Event::Fixed(f.clone())]));
            (RedHatState::Fixed, ranges.collect())
        } else if let Some((state, reason)) = &a.affected {
            RedHatStatement { state: *state, reason: Some(reason.clone()) }.write_into(&mut specific);
            (*state, vec![range(vec![Event::Introduced("0".into())])])
        } else {
            continue;
        };
        *stats.entries.entry(state.as_str().to_owned()).or_default() += 1;
        let ids: BTreeSet<&str> = a.product_ids.iter().map(String::as_str).collect();
        let mut severity: Vec<SeverityEntry> = Vec::new();
        for s in vuln.scores.iter().filter(|s| s.products.iter().any(|p| ids.contains(p.as_str()))) {
            for (kind, v) in [("CVSS_V3", &s.cvss_v3), ("CVSS_V2", &s.cvss_v2)] {
                if let Some(vector) = vector_of(v) {
                    let e = SeverityEntry { kind: kind.into(), score: vector };
                    if !severity.contains(&e) {
                        severity.push(e);
                    }
                }
            }
        }
        if let Some(word) = ids.iter().find_map(|p| impact.get(p)) {
            specific.insert("redhat_impact".into(), json!(word));
        }
        entries.push(Affected {
            package: Some(Package { ecosystem: redhat_ecosystem(major), name, purl: None }),
            severity,
            ranges,
            versions: Vec::new(),
            ecosystem_specific: Some(Value::Object(specific)),
            database_specific: None,
        });
    }
    entries
}

/// The document's own URL and the vendor-fix errata (RHSA/RHBA/RHEA) of one vulnerability:
/// (the errata ids, the references).
fn references_of(doc: &Document, vuln: &Vulnerability) -> (Vec<String>, Vec<Reference>) {
    let mut related = BTreeSet::new();
    let mut references = Vec::new();
    for r in &doc.document.references {
        if r.category == "self" && !r.url.trim().is_empty() {
            references.push(Reference { kind: "ADVISORY".into(), url: r.url.trim().to_owned() });
        }
    }
    for r in vuln.remediations.iter().filter(|r| r.category == "vendor_fix") {
        if let Some(url) = r.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            let last = url.rsplit('/').next().unwrap_or_default();
            if ["RHSA-", "RHBA-", "RHEA-"].iter().any(|p| last.starts_with(p)) && related.insert(last.to_owned()) {
                references.push(Reference { kind: "ADVISORY".into(), url: url.to_owned() });
            }
        }
    }
    (related.into_iter().collect(), references)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpes() {
        assert_eq!(rhel_major("cpe:/o:redhat:enterprise_linux:9"), Some(9));
        assert_eq!(rhel_major("cpe:/a:redhat:enterprise_linux:9::appstream"), Some(9));
        assert_eq!(rhel_major("cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*"), Some(8));
        assert_eq!(rhel_major("cpe:/a:redhat:rhel_eus:9.2::appstream"), None);
        assert_eq!(rhel_major("cpe:/a:redhat:enterprise_linux:8.2::appstream"), None);
        assert_eq!(rhel_major("cpe:/a:redhat:satellite:6.14::el8"), None);
        assert_eq!(rhel_major("cpe:/o:redhat:enterprise_linux"), None);
    }

    #[test]
    fn purls() {
        let r = rpm_of_purl("pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=src&epoch=1").unwrap();
        assert_eq!((r.name.as_str(), r.evr.as_deref(), r.modular), ("openssl", Some("1:3.0.7-27.el9"), false));
        let r = rpm_of_purl("pkg:rpm/redhat/curl@7.76.1-23.el9_2.4?arch=aarch64").unwrap();
        assert_eq!(r.evr.as_deref(), Some("7.76.1-23.el9_2.4"));
        let r = rpm_of_purl("pkg:rpm/redhat/libstdc%2B%2B@1-2?arch=x86_64&epoch=0").unwrap();
        assert_eq!((r.name.as_str(), r.evr.as_deref()), ("libstdc++", Some("1-2")));
        assert!(rpm_of_purl("pkg:rpm/redhat/PyYAML?arch=src&rpmmod=python39-devel:3.9").unwrap().modular);
        assert!(
            rpm_of_purl("pkg:rpm/redhat/perl-FCGI@0.78-12.module%2Bel8.10.0%2B23147%2B20b7d289?arch=x86_64")
                .unwrap()
                .modular
        );
        assert_eq!(rpm_of_purl("pkg:rpm/redhat/openssl").unwrap().evr, None);
        assert_eq!(rpm_of_purl("pkg:oci/ubi9@sha256:00"), None);
        assert_eq!(rpm_of_purl("pkg:rpm/%"), Some(Rpm { name: "%".into(), evr: None, modular: false }));
    }

    #[test]
    fn rejects_non_documents() {
        assert!(parse_csaf(b"[]").is_err());
        assert!(parse_csaf(b"{}").is_err());
        assert!(parse_csaf(b"{\"document\": null, \"vulnerabilities\": [{}]}").is_ok());
    }
}
