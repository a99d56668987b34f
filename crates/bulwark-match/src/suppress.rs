//! Ignore files and VEX documents: taking vulnerabilities out of a report, on the record.
//!
//! Two inputs say "this finding does not apply here":
//!
//! - an **ignore file** (YAML or JSON) written by the team that owns the image:
//!
//!   ```yaml
//!   ignores:
//!     - id: CVE-2023-45853              # the finding's id or any of its aliases
//!       scope:                          # optional, the same shape as policy exceptions
//!         package: zlib                 # name, source package name, or purl
//!         path: /usr/lib/**             # a package location (glob, `*` and `**`)
//!         image: registry:ghcr.io/org/* # image reference or digest (glob)
//!       reason: minizip is not built
//!       expires: 2026-06-30             # mandatory; the entry applies through this day
//!   ```
//!
//!   The older form with `package`, `path` and `image` beside `id` is still read, with a
//!   deprecation warning per file ([`IgnoreFile::warnings`]). See `docs/ignore-file.md`.
//!
//! - **VEX** statements from the software's supplier: OpenVEX (v0.2.0, and the older
//!   string-valued `vulnerability`/`products` form) and CycloneDX VEX (a BOM whose
//!   `vulnerabilities[]` carry `analysis.state` and `affects[].ref`). `not_affected` and
//!   `fixed` (OpenVEX), `not_affected`, `false_positive` and `resolved` (CycloneDX) suppress;
//!   `affected`, `under_investigation`, `exploitable` and `in_triage` do not, but a finding
//!   they name gets the statement appended to its explanation.
//!
//! [`apply`] moves suppressed findings from `report.vulnerabilities` to `report.suppressed`
//! and lists every entry and statement in `report.suppressions` as applied, expired or
//! unused. Products are matched by purl (type, name and, when the statement's purl has one,
//! version, compared with the ecosystem's ordering, so `pkg:golang/x@v1.2.0` names Go's
//! `1.2.0`; a purl without a version names every version; OS packages also match by their
//! source package) or by image (`pkg:oci/…@sha256:…`, a `sha256:` digest, or the reference).
//! An OpenVEX product with subcomponents names those packages inside that product.
//!
//! Not supported: CycloneDX `affects[].versions` ranges (the `ref`'s own purl version is
//! used), CPE product identifiers (no fuzzy matching, ever), and resolving the latest of
//! several conflicting statements by timestamp: any suppressing statement that matches wins.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bulwark_core::glob::{self, Glob, Legacy};
use bulwark_core::purl::Purl;
use bulwark_core::report::{ExceptionStatus, ScanReport, SuppressedVulnerability, Suppression, Vulnerability};
use bulwark_core::time::Date;
use bulwark_version::{Ecosystem, Version};
use serde::Deserialize;

/// Ignore files and VEX documents larger than this are refused (a real one is a few KiB).
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// Why an ignore file or VEX document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

fn invalid(source: &str, message: impl Into<String>) -> Error {
    Error::Invalid { file: source.to_owned(), message: message.into() }
}

/// A parsed ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFile {
    /// `ignore:<path>`, as reported in [`Suppression::source`].
    pub source: String,
    pub entries: Vec<IgnoreEntry>,
    /// Things to tell the user that do not stop the file from being used (the deprecated
    /// flat scope keys, globs whose meaning changed with the one dialect).
    pub warnings: Vec<String>,
}

/// One ignore entry. Every scope that is set must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// A vulnerability id; matches a finding's id or any alias, case-insensitively.
    pub id: String,
    /// A package name (the package's own or its source package's) or a purl.
    pub package: Option<String>,
    /// A glob over the package's locations (`docs/globs.md`).
    pub path: Option<Glob>,
    /// A glob over the image reference (with or without its `registry:` prefix) or an
    /// exact manifest/config digest.
    pub image: Option<Glob>,
    pub reason: String,
    /// The last day the entry applies.
    pub expires: Date,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreFile {
    #[serde(default)]
    ignores: Vec<RawIgnore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: String,
    #[serde(default)]
    scope: Option<RawScope>,
    /// Deprecated: the flat form of `scope.package` (and of `path` and `image` below).
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// `scope:` of an ignore entry, as in policy exceptions.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    image: Option<String>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(invalid(&path.display().to_string(), format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    Ok(bytes)
}

/// Reads an ignore file (YAML or JSON). Every entry needs `id`, `reason` and `expires`.
pub fn load_ignore_file(path: impl AsRef<Path>) -> Result<IgnoreFile> {
    let path = path.as_ref();
    parse_ignore_file(&read(path)?, &format!("ignore:{}", path.display()))
}

/// Parses ignore-file bytes; `source` names the file in the report (`ignore:<path>`).
pub fn parse_ignore_file(bytes: &[u8], source: &str) -> Result<IgnoreFile> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(source, format!("not UTF-8: {e}")))?;
    let raw: RawIgnoreFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| invalid(source, e.to_string()))?
    } else if text.trim().is_empty() {
        RawIgnoreFile { ignores: Vec::new() }
    } else {
        serde_saphyr::from_str(text).map_err(|e| invalid(source, first_line(&e.to_string())))?
    };
    let mut entries = Vec::with_capacity(raw.ignores.len());
    let mut warnings = Vec::new();
    let mut flat = 0;
    for (i, e) in raw.ignores.into_iter().enumerate() {
        let at = |what: &str| invalid(source, format!("ignores[{i}] ({}): {what}", excerpt(&e.id)));
        let id = e.id.trim().to_owned();
        if id.is_empty() {
            return Err(invalid(source, format!("ignores[{i}]: empty id")));
        }
        let reason = e.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| at("no reason"))?;
        let expires = e.expires.as_deref().map(str::trim).ok_or_else(|| at("no expires date (YYYY-MM-DD)"))?;
        let expires = Date::parse(expires)
            .ok_or_else(|| at(&format!("expires {:?} is not a date (YYYY-MM-DD)", excerpt(expires))))?;
        let scope = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let nested = e.scope.unwrap_or_default();
        if e.package.is_some() || e.path.is_some() || e.image.is_some() {
            flat += 1;
        }
        // One place per key: the flat and the nested form of the same key would be two
        // answers to one question.
        let pick = |key: &str, flat: Option<String>, nested: Option<String>| match (flat, nested) {
            (Some(_), Some(_)) => Err(at(&format!("`{key}` is given both flat and under `scope`: keep `scope.{key}`"))),
            (f, n) => Ok(scope(n.or(f))),
        };
        let package = pick("package", e.package, nested.package)?;
        let mut glob = |key: &str, pattern: Option<String>| -> Result<Option<Glob>> {
            let Some(pattern) = pattern else { return Ok(None) };
            let g = Glob::new(&pattern).map_err(|err| at(&format!("scope.{key}: {err}")))?;
            if let Some(change) = glob::migration(&pattern, Legacy::IgnoreFile) {
                warnings
                    .push(format!("{source}: ignores[{i}] ({}) scope.{key}: {change} (docs/globs.md)", excerpt(&id)));
            }
            Ok(Some(g))
        };
        let path = glob("path", pick("path", e.path, nested.path)?)?;
        let image = glob("image", pick("image", e.image, nested.image)?)?;
        if let Some(p) = package.as_deref().filter(|p| p.starts_with("pkg:")) {
            p.parse::<Purl>().map_err(|err| at(&format!("package: {err}")))?;
        }
        entries.push(IgnoreEntry { id, package, path, image, reason: reason.to_owned(), expires });
    }
    if flat > 0 {
        warnings.insert(0, format!(
            "{source}: {} {} `package`, `path` or `image` beside `id`; this form is deprecated: move them under `scope:` as in policy exceptions (docs/ignore-file.md)",
            flat,
            if flat == 1 { "entry gives" } else { "entries give" }
        ));
    }
    Ok(IgnoreFile { source: source.to_owned(), entries, warnings })
}

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

/// Applies ignore files and VEX documents to a report (see the module docs).
///
/// A finding is suppressed by the first entry that matches it: ignore files in order, then
/// VEX documents in order. Entries past their expiry date never apply and are listed as
/// expired. Every entry and VEX statement is listed in `report.suppressions`; findings
/// keep their order.
pub fn apply(report: &mut ScanReport, ignores: &[IgnoreFile], vex: &[Vex], today: Date) {
    let image = ImageIds::of(report);
    let mut rules: Vec<Rule<'_>> = Vec::new();
    for file in ignores {
        for e in &file.entries {
            rules.push(Rule::Ignore { source: &file.source, entry: e, expired: today > e.expires });
        }
    }
    for doc in vex {
        for s in &doc.statements {
            rules.push(Rule::Vex { source: &doc.source, statement: s });
        }
    }
    let mut matched: Vec<Vec<String>> = vec![Vec::new(); rules.len()];
    let mut kept = Vec::with_capacity(report.vulnerabilities.len());
    for mut v in std::mem::take(&mut report.vulnerabilities) {
        let mut by = None;
        for (i, rule) in rules.iter().enumerate() {
            if !rule.matches(&v, &image) {
                continue;
            }
            match rule {
                Rule::Ignore { expired: true, .. } => {}
                Rule::Ignore { .. } | Rule::Vex { .. } if rule.suppresses() => {
                    matched[i].push(finding_name(&v));
                    by = Some(i);
                    break;
                }
                Rule::Ignore { .. } => {}
                Rule::Vex { source, statement } => {
                    matched[i].push(finding_name(&v));
                    let _ = write!(v.explanation, "; VEX {source}: {}", statement_reason(statement));
                }
            }
        }
        match by {
            Some(i) => report.suppressed.push(SuppressedVulnerability {
                vulnerability: v,
                by: rules[i].source().to_owned(),
                justification: rules[i].reason(),
            }),
            None => kept.push(v),
        }
    }
    report.vulnerabilities = kept;
    for (rule, matched) in rules.iter().zip(matched) {
        let status = match rule {
            Rule::Ignore { expired: true, .. } => ExceptionStatus::Expired,
            _ if matched.is_empty() => ExceptionStatus::Unused,
            // A non-suppressing statement that named findings removed nothing: it is
            // recorded in their explanations, and here only when it matched nothing.
            _ if !rule.suppresses() => continue,
            _ => ExceptionStatus::Applied,
        };
        report.suppressions.push(Suppression {
            source: rule.source().to_owned(),
            id: rule.id().to_owned(),
            scope: rule.scope(),
            reason: rule.reason(),
            expires: rule.expires(),
            status,
            matched,
        });
    }
}

/// `CVE-… name@version`, as [`Suppression::matched`] lists findings.
fn finding_name(v: &Vulnerability) -> String {
    format!("{} {}@{}", v.id, v.package.name, v.package.version)
}

fn statement_reason(s: &VexStatement) -> String {
    let mut out = s.status.as_str().to_owned();
    for part in [&s.justification, &s.detail].into_iter().flatten() {
        out.push_str(": ");
        out.push_str(part);
    }
    out
}

enum Rule<'a> {
    Ignore { source: &'a str, entry: &'a IgnoreEntry, expired: bool },
    Vex { source: &'a str, statement: &'a VexStatement },
}

impl Rule<'_> {
    fn source(&self) -> &str {
        match self {
            Rule::Ignore { source, .. } | Rule::Vex { source, .. } => source,
        }
    }

    fn id(&self) -> &str {
        match self {
            Rule::Ignore { entry, .. } => &entry.id,
            Rule::Vex { statement, .. } => &statement.vulnerability,
        }
    }

    fn suppresses(&self) -> bool {
        match self {
            Rule::Ignore { expired, .. } => !expired,
            Rule::Vex { statement, .. } => statement.status.suppresses(),
        }
    }

    fn reason(&self) -> String {
        match self {
            Rule::Ignore { entry, .. } => entry.reason.clone(),
            Rule::Vex { statement, .. } => statement_reason(statement),
        }
    }

    fn expires(&self) -> Option<String> {
        match self {
            Rule::Ignore { entry, .. } => Some(entry.expires.to_string()),
            Rule::Vex { .. } => None,
        }
    }

    fn scope(&self) -> Option<String> {
        let parts: Vec<String> = match self {
            Rule::Ignore { entry, .. } => [
                ("package", entry.package.as_deref()),
                ("path", entry.path.as_ref().map(Glob::as_str)),
                ("image", entry.image.as_ref().map(Glob::as_str)),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
            .collect(),
            Rule::Vex { statement, .. } => statement
                .products
                .iter()
                .map(|p| {
                    if p.subcomponents.is_empty() {
                        p.id.clone()
                    } else {
                        format!("{} [{}]", p.id, p.subcomponents.join(", "))
                    }
                })
                .collect(),
        };
        Some(parts.join(", ")).filter(|s| !s.is_empty())
    }

    fn matches(&self, v: &Vulnerability, image: &ImageIds) -> bool {
        match self {
            Rule::Ignore { entry, .. } => {
                names_vulnerability(v, &entry.id, &[])
                    && entry.package.as_deref().is_none_or(|p| package_matches(v, p))
                    && entry.path.as_ref().is_none_or(|p| v.package.locations.iter().any(|l| p.is_match(l)))
                    && entry.image.as_ref().is_none_or(|p| image.matches_pattern(p))
            }
            Rule::Vex { statement, .. } => {
                names_vulnerability(v, &statement.vulnerability, &statement.aliases)
                    && statement.products.iter().any(|p| product_matches(p, v, image))
            }
        }
    }
}

/// Whether `id` (or one of `aliases`) is the finding's id or one of its aliases.
fn names_vulnerability(v: &Vulnerability, id: &str, aliases: &[String]) -> bool {
    let ours = || std::iter::once(&v.id).chain(&v.aliases);
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .any(|x| ours().any(|o| o.eq_ignore_ascii_case(x.trim())))
}

fn product_matches(p: &VexProduct, v: &Vulnerability, image: &ImageIds) -> bool {
    let in_product = image.matches_id(&p.id) || package_matches(v, &p.id);
    if !in_product {
        return false;
    }
    p.subcomponents.is_empty() || p.subcomponents.iter().any(|s| package_matches(v, s))
}

/// Whether `spec` (a purl, else a package name) names the finding's package.
fn package_matches(v: &Vulnerability, spec: &str) -> bool {
    let pkg = &v.package;
    if !spec.starts_with("pkg:") {
        let spec = spec.trim();
        return pkg.name == spec || pkg.matched_as.as_ref().is_some_and(|s| s.name == spec);
    }
    let Ok(want) = spec.parse::<Purl>() else { return false };
    let Ok(have) = pkg.purl.parse::<Purl>() else { return false };
    if want.ty != have.ty {
        return false;
    }
    let arch = |p: &Purl| p.qualifier("arch").map(str::to_owned);
    if let (Some(a), Some(b)) = (arch(&want), arch(&have))
        && a != b
    {
        return false;
    }
    let scheme = scheme_of(&have.ty);
    let same_version = |ours: Option<&str>| match want.ecosystem_version() {
        None => true,
        Some(w) => ours.is_some_and(|o| versions_equal(scheme, &w, o)),
    };
    let name = want.ecosystem_name();
    let eq_name = |a: &str| names_equal(&have.ty, a, &name);
    if eq_name(&have.ecosystem_name()) && same_version(have.ecosystem_version().as_deref()) {
        return true;
    }
    // OS vendors often state VEX for the source package.
    pkg.matched_as
        .as_ref()
        .is_some_and(|s| eq_name(&s.name) && same_version(s.version.as_deref().or(Some(pkg.version.as_str()))))
}

fn names_equal(ty: &str, a: &str, b: &str) -> bool {
    match ty {
        "pypi" => bulwark_advisory::normalize_name("PyPI", a) == bulwark_advisory::normalize_name("PyPI", b),
        "nuget" | "composer" | "deb" | "apk" => a.eq_ignore_ascii_case(b),
        _ => a == b,
    }
}

fn scheme_of(purl_type: &str) -> Option<Ecosystem> {
    Some(match purl_type {
        "deb" => Ecosystem::Dpkg,
        "apk" => Ecosystem::Apk,
        "rpm" => Ecosystem::Rpm,
        other => Ecosystem::from_osv(crate::osv_ecosystem_of_purl_type(other)?),
    })
}

/// Equal by the ecosystem's ordering when both parse (`v1.2.0` = `1.2.0` for Go, `1.0` =
/// `1.0.0` for PEP 440), else by string.
fn versions_equal(scheme: Option<Ecosystem>, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let Some(scheme) = scheme else { return false };
    let strip = |s: &'_ str| -> String {
        if scheme == Ecosystem::Go { s.trim_start_matches('v').to_owned() } else { s.to_owned() }
    };
    match (Version::parse(scheme, &strip(a)), Version::parse(scheme, &strip(b))) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y) == Some(std::cmp::Ordering::Equal),
        _ => false,
    }
}

/// How the scanned image can be named.
struct ImageIds {
    reference: String,
    digests: Vec<String>,
}

impl ImageIds {
    fn of(report: &ScanReport) -> ImageIds {
        let digests = [&report.image.manifest_digest, &report.image.config_digest]
            .into_iter()
            .flatten()
            .map(|d| d.to_string().to_ascii_lowercase())
            .collect();
        ImageIds { reference: report.image.reference.clone(), digests }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        let bare =
            self.reference.split_once(':').filter(|(p, _)| p.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        std::iter::once(self.reference.as_str()).chain(bare.map(|(_, r)| r))
    }

    fn has_digest(&self, d: &str) -> bool {
        let d = d.trim().to_ascii_lowercase();
        !d.is_empty() && self.digests.contains(&d)
    }

    /// An ignore entry's `image`: a digest, or a glob over the reference.
    fn matches_pattern(&self, pattern: &Glob) -> bool {
        self.has_digest(pattern.as_str()) || self.names().any(|n| pattern.is_match(n))
    }

    /// A VEX product id: `pkg:oci/…@<digest>`, a digest, or the reference itself.
    fn matches_id(&self, id: &str) -> bool {
        if let Ok(p) = id.parse::<Purl>()
            && p.ty == "oci"
        {
            return p.version.as_deref().is_some_and(|d| self.has_digest(d));
        }
        self.has_digest(id) || self.names().any(|n| n == id.trim())
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

fn excerpt(s: &str) -> String {
    bulwark_core::excerpt(s)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(x) = u8::from_str_radix(h, 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_globs_migrate_with_a_warning() {
        let file = "ignores:\n  - id: CVE-1\n    scope: {path: /usr/**.so, image: ghcr.io/acme/*}\n    reason: r\n    expires: 2030-01-01\n";
        let f = parse_ignore_file(file.as_bytes(), "ignore:a.yaml").unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(
            f.warnings[0]
                .starts_with("ignore:a.yaml: ignores[0] (CVE-1) scope.path: glob `/usr/**.so` changed meaning"),
            "{:?}",
            f.warnings
        );
        let path = f.entries[0].path.as_ref().unwrap();
        assert!(path.is_match("/usr/libz.so") && !path.is_match("/usr/lib/libz.so"), "now a `*` that stops at `/`");
        let bad = "ignores:\n  - id: CVE-1\n    scope: {path: '/usr/[lib'}\n    reason: r\n    expires: 2030-01-01\n";
        let e = parse_ignore_file(bad.as_bytes(), "ignore:a.yaml").unwrap_err().to_string();
        assert!(e.contains("scope.path: invalid glob"), "{e}");
    }

    #[test]
    fn versions() {
        assert!(versions_equal(scheme_of("golang"), "v1.2.0", "1.2.0"));
        assert!(versions_equal(scheme_of("pypi"), "1.0", "1.0.0"));
        assert!(!versions_equal(scheme_of("pypi"), "1.0", "1.0.1"));
        assert!(versions_equal(scheme_of("deb"), "1:2.0-1", "1:2.0-1"));
        assert!(!versions_equal(scheme_of("deb"), "2.0-1", "1:2.0-1"));
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn scope_is_nested_as_in_policies_and_the_flat_form_is_deprecated() {
        let nested = "ignores:\n  - id: CVE-1\n    scope: {package: zlib, path: /usr/lib/**, image: ghcr.io/acme/*}\n    reason: r\n    expires: 2030-01-01\n";
        let f = parse_ignore_file(nested.as_bytes(), "ignore:a.yaml").unwrap();
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let e = &f.entries[0];
        assert_eq!(
            (e.package.as_deref(), e.path.as_ref().map(Glob::as_str), e.image.as_ref().map(Glob::as_str)),
            (Some("zlib"), Some("/usr/lib/**"), Some("ghcr.io/acme/*"))
        );
        let flat = "ignores:\n  - id: CVE-1\n    package: zlib\n    path: /usr/lib/**\n    image: ghcr.io/acme/*\n    reason: r\n    expires: 2030-01-01\n";
        let g = parse_ignore_file(flat.as_bytes(), "ignore:a.yaml").unwrap();
        assert_eq!(g.entries, f.entries, "both forms mean the same");
        assert_eq!(g.warnings.len(), 1);
        assert!(g.warnings[0].contains("1 entry gives `package`, `path` or `image` beside `id`"), "{:?}", g.warnings);
        assert!(g.warnings[0].contains("under `scope:`"), "{:?}", g.warnings);
        let both = "ignores:\n  - id: CVE-1\n    package: zlib\n    scope: {package: openssl}\n    reason: r\n    expires: 2030-01-01\n";
        let err = parse_ignore_file(both.as_bytes(), "ignore:a.yaml").unwrap_err().to_string();
        assert!(err.contains("`package` is given both flat and under `scope`"), "{err}");
        let typo = "ignores:\n  - id: CVE-1\n    scope: {pakage: zlib}\n    reason: r\n    expires: 2030-01-01\n";
        assert!(parse_ignore_file(typo.as_bytes(), "ignore:a.yaml").is_err());
    }
}
