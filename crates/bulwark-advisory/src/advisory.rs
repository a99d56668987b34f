//! The advisory as the matcher sees it, and how ecosystems and package names are compared.

use serde::{Deserialize, Serialize};

use crate::osv::{Affected, Record};
use crate::severity::{Severity, dedupe, severities_of};

/// An advisory as the matcher needs it: everything except the free-text details. From an
/// [`AdvisorySource::advisories_for`](crate::AdvisorySource::advisories_for) lookup it holds
/// only the `affected` entries of the package that was asked for (see
/// [`Advisory::restricted_to`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// The name of the source it was read from (as given to the DB builder); records
    /// converted from Red Hat CSAF VEX have a source starting `csaf:`.
    pub source: String,
    pub modified: Option<String>,
    pub published: Option<String>,
    /// Set for withdrawn advisories; these never match a package.
    pub withdrawn: Option<String>,
    pub summary: Option<String>,
    pub aliases: Vec<String>,
    pub upstream: Vec<String>,
    pub related: Vec<String>,
    /// The record's severities, plus NVD's when the record had no CVSS of its own. From a
    /// package lookup, those stated inside other packages' `affected` entries are left out.
    pub severities: Vec<Severity>,
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// The advisory of a whole record read from `source`: its severities computed
    /// ([`severities_of`], not yet [`dedupe`]d: a repeated vector is dropped only once the
    /// entries are known, see [`Advisory::restricted_to`]), all its `affected` entries kept.
    pub fn from_record(source: &str, record: &Record) -> Advisory {
        let severities = severities_of(record);
        Advisory {
            id: record.id.clone(),
            source: source.to_owned(),
            modified: record.modified.clone(),
            published: record.published.clone(),
            withdrawn: record.withdrawn.clone(),
            summary: record.summary.clone(),
            aliases: record.aliases.clone(),
            upstream: record.upstream.clone(),
            related: record.related.clone(),
            severities,
            affected: record.affected.clone(),
        }
    }

    /// The highest computed CVSS base score, if any.
    pub fn max_cvss(&self) -> Option<f64> {
        self.severities.iter().filter_map(|s| s.score).reduce(f64::max)
    }

    /// This advisory as a lookup of package `name` in `ecosystem` answers it: only the
    /// `affected` entries naming that package (ecosystem by [`ecosystem_key`], name by
    /// [`normalize_name`]) and only the severities that are the record's own or stated in
    /// those entries. `None` when no entry names the package.
    pub fn restricted_to(&self, ecosystem: &str, name: &str) -> Option<Advisory> {
        let (eco, name) = (ecosystem_key(ecosystem), normalize_name(ecosystem, name));
        let mut indexes = Vec::new();
        let mut affected = Vec::new();
        for (i, entry) in self.affected.iter().enumerate() {
            if entry.package.as_ref().is_some_and(|p| {
                !p.ecosystem.trim().is_empty() && ecosystem_key(&p.ecosystem) == eco && {
                    let n = normalize_name(&p.ecosystem, &p.name);
                    !n.is_empty() && n == name
                }
            }) {
                indexes.push(i);
                affected.push(entry.clone());
            }
        }
        if affected.is_empty() {
            return None;
        }
        let mut severities = self.severities.clone();
        retain_entry_severities(&mut severities, &indexes);
        Some(Advisory { affected, severities, ..self.clone() })
    }
}

/// Keeps the severities that are a record's own (or from outside, such as NVD's) and those
/// stated inside the `affected` entries at `indexes`: a severity stated for another package
/// (another release of a distro) does not apply. Then [`dedupe`]s.
pub fn retain_entry_severities(severities: &mut Vec<Severity>, indexes: &[usize]) {
    severities.retain(|s| affected_index(&s.origin).is_none_or(|i| indexes.contains(&i)));
    dedupe(severities);
}

/// `Some(i)` for severity origins inside `affected[i]`.
fn affected_index(origin: &str) -> Option<usize> {
    let rest = origin.strip_prefix("osv:affected[")?;
    rest[..rest.find(']')?].parse().ok()
}

/// A FIRST EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    /// Probability of exploitation activity in the next 30 days, 0–1.
    pub epss: f64,
    /// Rank among all scored CVEs, 0–1.
    pub percentile: f64,
}

/// The key an ecosystem is stored and queried under: trimmed and lower-cased, release kept.
pub fn ecosystem_key(ecosystem: &str) -> String {
    ecosystem.trim().to_ascii_lowercase()
}

/// Normalises a package name the way its ecosystem compares names, so that the name an
/// installed package reports and the name an advisory uses meet:
///
/// - PyPI: PEP 503 (lower-case, runs of `-`, `_`, `.` become one `-`).
/// - NuGet, Packagist: lower-case (both registries are case-insensitive).
/// - everything else: as published (Go module paths, Maven coordinates, npm, RubyGems and
///   crates.io names are case-sensitive or canonical already; Debian and Alpine source
///   package names are lower-case by policy).
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let name = name.trim();
    let base = ecosystem.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
    match base.as_str() {
        "pypi" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "nuget" | "packagist" => name.to_lowercase(),
        _ => name.to_owned(),
    }
}

/// The OSV ecosystem of a language package's purl type (`pypi` → `PyPI`), if it has one.
///
/// The one table of it: OS package types (`deb`, `apk`, `rpm`) have none, since their
/// ecosystem is the distribution release's (`Debian:12`), which OS detection decides.
pub fn osv_ecosystem_of_purl_type(purl_type: &str) -> Option<&'static str> {
    Some(match purl_type {
        "pypi" => "PyPI",
        "npm" => "npm",
        "golang" => "Go",
        "cargo" => "crates.io",
        "maven" => "Maven",
        "gem" => "RubyGems",
        "composer" => "Packagist",
        "nuget" => "NuGet",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        // PEP 503's own examples.
        for n in [
            "friendly-bar",
            "Friendly-Bar",
            "FRIENDLY-BAR",
            "friendly.bar",
            "friendly_bar",
            "friendly--bar",
            "FrIeNdLy-._.-bAr",
        ] {
            assert_eq!(normalize_name("PyPI", n), "friendly-bar", "{n}");
        }
        assert_eq!(normalize_name("NuGet", "Newtonsoft.Json"), "newtonsoft.json");
        assert_eq!(normalize_name("Go", "github.com/BurntSushi/toml"), "github.com/BurntSushi/toml");
        assert_eq!(normalize_name("Debian:10", "openssl"), "openssl");
        assert_eq!(ecosystem_key(" Debian:10 "), "debian:10");
    }

    #[test]
    fn purl_types() {
        assert_eq!(osv_ecosystem_of_purl_type("golang"), Some("Go"));
        assert_eq!(osv_ecosystem_of_purl_type("cargo"), Some("crates.io"));
        for os in ["deb", "apk", "rpm", "generic", ""] {
            assert_eq!(osv_ecosystem_of_purl_type(os), None, "{os}");
        }
    }

    #[test]
    fn severity_origins() {
        assert_eq!(affected_index("osv:affected[12].severity"), Some(12));
        assert_eq!(affected_index("osv:severity"), None);
        assert_eq!(affected_index("nvd:nvd@nist.gov (Primary)"), None);
        assert_eq!(affected_index("osv:affected[x]"), None);
    }
}
