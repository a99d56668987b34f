//! Applying ignore files and VEX statements to a report: which finding each entry names, and
//! the record of what was applied, expired or unused.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(versions_equal(scheme_of("golang"), "v1.2.0", "1.2.0"));
        assert!(versions_equal(scheme_of("pypi"), "1.0", "1.0.0"));
        assert!(!versions_equal(scheme_of("pypi"), "1.0", "1.0.1"));
        assert!(versions_equal(scheme_of("deb"), "1:2.0-1", "1:2.0-1"));
        assert!(!versions_equal(scheme_of("deb"), "2.0-1", "1:2.0-1"));
    }
}
