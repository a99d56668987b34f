//! VEX documents: OpenVEX and CycloneDX VEX, read into one statement model.

use super::*;

/// The VEX dialect of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexFormat {
    OpenVex,
    CycloneDx,
}

/// A VEX status, from either dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexStatus {
    /// OpenVEX `not_affected`, CycloneDX `not_affected`.
    NotAffected,
    /// OpenVEX `fixed`.
    Fixed,
    /// CycloneDX `resolved`.
    Resolved,
    /// CycloneDX `false_positive`.
    FalsePositive,
    /// OpenVEX `affected`.
    Affected,
    /// OpenVEX `under_investigation`.
    UnderInvestigation,
    /// CycloneDX `exploitable`.
    Exploitable,
    /// CycloneDX `in_triage`.
    InTriage,
}

impl VexStatus {
    fn parse(format: VexFormat, s: &str) -> Option<VexStatus> {
        Some(match (format, s.trim()) {
            (_, "not_affected") => VexStatus::NotAffected,
            (VexFormat::OpenVex, "fixed") => VexStatus::Fixed,
            (VexFormat::OpenVex, "affected") => VexStatus::Affected,
            (VexFormat::OpenVex, "under_investigation") => VexStatus::UnderInvestigation,
            (VexFormat::CycloneDx, "resolved" | "resolved_with_pedigree") => VexStatus::Resolved,
            (VexFormat::CycloneDx, "false_positive") => VexStatus::FalsePositive,
            (VexFormat::CycloneDx, "exploitable") => VexStatus::Exploitable,
            (VexFormat::CycloneDx, "in_triage") => VexStatus::InTriage,
            _ => return None,
        })
    }

    /// Whether a statement with this status takes the finding out of the report.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed | VexStatus::Resolved | VexStatus::FalsePositive)
    }

    /// The status as the document spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Fixed => "fixed",
            VexStatus::Resolved => "resolved",
            VexStatus::FalsePositive => "false_positive",
            VexStatus::Affected => "affected",
            VexStatus::UnderInvestigation => "under_investigation",
            VexStatus::Exploitable => "exploitable",
            VexStatus::InTriage => "in_triage",
        }
    }
}

/// What a VEX statement is about: a package (by purl) or an image, and optionally the
/// packages inside it the statement is limited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexProduct {
    /// A purl (`pkg:…`), a digest (`sha256:…`) or an image reference, as written.
    pub id: String,
    /// Packages inside the product the statement is about (OpenVEX `subcomponents`).
    pub subcomponents: Vec<String>,
}

/// One VEX statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// The vulnerability id (OpenVEX `vulnerability.name`, CycloneDX `id`).
    pub vulnerability: String,
    /// Other ids of the vulnerability the statement gives.
    pub aliases: Vec<String>,
    pub products: Vec<VexProduct>,
    pub status: VexStatus,
    /// OpenVEX `justification`, CycloneDX `analysis.justification`.
    pub justification: Option<String>,
    /// OpenVEX `impact_statement`/`action_statement`/`status_notes`, CycloneDX `analysis.detail`.
    pub detail: Option<String>,
}

/// A parsed VEX document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vex {
    /// `openvex:<path>` or `cyclonedx-vex:<path>`.
    pub source: String,
    pub format: VexFormat,
    pub statements: Vec<VexStatement>,
}

/// Reads an OpenVEX or CycloneDX VEX document (JSON), telling them apart by content.
pub fn load_vex(path: impl AsRef<Path>) -> Result<Vex> {
    let path = path.as_ref();
    parse_vex(&read(path)?, &path.display().to_string())
}

/// Parses VEX bytes; `name` (the file) goes into [`Vex::source`] after the dialect.
pub fn parse_vex(bytes: &[u8], name: &str) -> Result<Vex> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(name, format!("not JSON: {e}")))?;
    let obj = doc.as_object().ok_or_else(|| invalid(name, "not a JSON object"))?;
    let is_openvex = obj.get("@context").and_then(|c| c.as_str()).is_some_and(|c| c.contains("openvex"))
        || (obj.contains_key("statements") && !obj.contains_key("bomFormat"));
    if is_openvex {
        openvex(obj, &format!("openvex:{name}"))
    } else if obj.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") || obj.contains_key("vulnerabilities")
    {
        cyclonedx(obj, &format!("cyclonedx-vex:{name}"))
    } else {
        Err(invalid(name, "neither OpenVEX (`@context`, `statements`) nor CycloneDX (`bomFormat`, `vulnerabilities`)"))
    }
}

type Object = serde_json::Map<String, serde_json::Value>;

fn text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn openvex(doc: &Object, source: &str) -> Result<Vex> {
    let statements =
        doc.get("statements").and_then(|s| s.as_array()).ok_or_else(|| invalid(source, "no statements"))?;
    let mut out = Vec::with_capacity(statements.len());
    for (i, s) in statements.iter().enumerate() {
        let at = |what: &str| invalid(source, format!("statements[{i}]: {what}"));
        let s = s.as_object().ok_or_else(|| at("not an object"))?;
        // v0.2.0: `vulnerability: {name, aliases}`; before: a string.
        let vuln = s.get("vulnerability");
        let (vulnerability, aliases) = match vuln {
            Some(serde_json::Value::String(name)) => (name.trim().to_owned(), Vec::new()),
            Some(serde_json::Value::Object(v)) => (
                text(v.get("name")).unwrap_or_default(),
                v.get("aliases")
                    .and_then(|a| a.as_array())
                    .map(|a| a.iter().filter_map(|x| text(Some(x))).collect())
                    .unwrap_or_default(),
            ),
            _ => (String::new(), Vec::new()),
        };
        if vulnerability.is_empty() {
            return Err(at("no vulnerability name"));
        }
        let status = text(s.get("status")).ok_or_else(|| at("no status"))?;
        let status = VexStatus::parse(VexFormat::OpenVex, &status)
            .ok_or_else(|| at(&format!("status {:?} is not an OpenVEX status", excerpt(&status))))?;
        let mut products = Vec::new();
        for p in s.get("products").and_then(|p| p.as_array()).into_iter().flatten() {
            match p {
                serde_json::Value::String(id) => {
                    products.push(VexProduct { id: id.trim().to_owned(), subcomponents: Vec::new() })
                }
                serde_json::Value::Object(p) => {
                    let Some(id) = openvex_component_id(p) else { continue };
                    let subcomponents = p
                        .get("subcomponents")
                        .and_then(|s| s.as_array())
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_object().and_then(openvex_component_id))
                        .collect();
                    products.push(VexProduct { id, subcomponents });
                }
                _ => {}
            }
        }
        // The pre-0.2.0 form lists subcomponents beside the products.
        if let Some(subs) = s.get("subcomponents").and_then(|s| s.as_array()) {
            let subs: Vec<String> = subs.iter().filter_map(|c| text(Some(c))).collect();
            for p in &mut products {
                p.subcomponents.extend(subs.iter().cloned());
            }
        }
        if products.is_empty() {
            return Err(at("no products"));
        }
        let detail = ["impact_statement", "action_statement", "status_notes"]
            .into_iter()
            .filter_map(|k| text(s.get(k)))
            .collect::<Vec<_>>()
            .join("; ");
        out.push(VexStatement {
            vulnerability,
            aliases,
            products,
            status,
            justification: text(s.get("justification")),
            detail: Some(detail).filter(|d| !d.is_empty()),
        });
    }
    Ok(Vex { source: source.to_owned(), format: VexFormat::OpenVex, statements: out })
}

/// An OpenVEX component's identity: its purl identifier, else its `@id`.
fn openvex_component_id(c: &Object) -> Option<String> {
    c.get("identifiers").and_then(|i| i.as_object()).and_then(|i| text(i.get("purl"))).or_else(|| text(c.get("@id")))
}

fn cyclonedx(doc: &Object, source: &str) -> Result<Vex> {
    // bom-ref → purl, over every component (nested ones too) and the metadata component.
    let mut refs: Vec<(String, String)> = Vec::new();
    let mut stack: Vec<&serde_json::Value> = Vec::new();
    stack.extend(doc.get("components").and_then(|c| c.as_array()).into_iter().flatten());
    stack.extend(doc.get("metadata").and_then(|m| m.get("component")));
    let mut seen = 0usize;
    while let Some(c) = stack.pop() {
        seen += 1;
        if seen > 1_000_000 {
            return Err(invalid(source, "more than 1,000,000 components"));
        }
        if let (Some(r), Some(p)) = (text(c.get("bom-ref")), text(c.get("purl"))) {
            refs.push((r, p));
        }
        stack.extend(c.get("components").and_then(|c| c.as_array()).into_iter().flatten());
    }
    refs.sort();
    let resolve = |r: &str| -> String {
        if let Ok(i) = refs.binary_search_by(|(k, _)| k.as_str().cmp(r)) {
            return refs[i].1.clone();
        }
        // A BOM-Link to another BOM (`urn:cdx:<serial>/<version>#<bom-ref>`): the bom-ref is
        // usually the component's purl.
        if r.starts_with("urn:cdx:")
            && let Some((_, frag)) = r.split_once('#')
        {
            return percent_decode(frag);
        }
        r.to_owned()
    };
    let vulns =
        doc.get("vulnerabilities").and_then(|v| v.as_array()).ok_or_else(|| invalid(source, "no vulnerabilities"))?;
    let mut out = Vec::new();
    for (i, v) in vulns.iter().enumerate() {
        let at = |what: &str| invalid(source, format!("vulnerabilities[{i}]: {what}"));
        let v = v.as_object().ok_or_else(|| at("not an object"))?;
        let id = text(v.get("id")).ok_or_else(|| at("no id"))?;
        // A vulnerability without an analysis is a finding, not a VEX statement.
        let Some(analysis) = v.get("analysis").and_then(|a| a.as_object()) else { continue };
        let Some(state) = text(analysis.get("state")) else { continue };
        let status = VexStatus::parse(VexFormat::CycloneDx, &state)
            .ok_or_else(|| at(&format!("analysis.state {:?} is not a CycloneDX state", excerpt(&state))))?;
        let products: Vec<VexProduct> = v
            .get("affects")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
            .filter_map(|a| text(a.get("ref")))
            .map(|r| VexProduct { id: resolve(&r), subcomponents: Vec::new() })
            .collect();
        if products.is_empty() {
            return Err(at("no affects[].ref"));
        }
        let aliases = v
            .get("references")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| text(r.get("id")))
            .collect();
        let mut detail: Vec<String> = text(analysis.get("detail")).into_iter().collect();
        if let Some(resp) = analysis.get("response").and_then(|r| r.as_array()) {
            let resp: Vec<String> = resp.iter().filter_map(|r| text(Some(r))).collect();
            if !resp.is_empty() {
                detail.push(format!("response: {}", resp.join(", ")));
            }
        }
        out.push(VexStatement {
            vulnerability: id,
            aliases,
            products,
            status,
            justification: text(analysis.get("justification")),
            detail: Some(detail.join("; ")).filter(|d| !d.is_empty()),
        });
    }
    Ok(Vex { source: source.to_owned(), format: VexFormat::CycloneDx, statements: out })
}
