//! Matches an image's packages against OSV advisories.
//!
//! Pure: no IO of its own, and no dependency that does any. Advisories come from an
//! [`AdvisorySource`] (the advisory model crate `bulwark-advisory`; implemented by the local
//! advisory DB, `bulwark_vulndb::Db`, and by `bulwark_advisory::MemorySource`);
//! [`match_packages`] returns the findings and the warnings.
//!
//! Rules (see the crate README for the reasoning and the known gaps):
//!
//! - OS packages (`deb`, `apk`, `rpm`) are matched only against their distro release's OSV
//!   ecosystem ([`OsRelease::osv_ecosystem`], e.g. `Debian:10`), by *source* package name and
//!   version, with the distro's own ordering (dpkg, apk, rpm). No ecosystem → no OS matching
//!   and a warning (unknown or end-of-life distro).
//! - Language packages are matched against the OSV ecosystem of their purl type (`pypi` →
//!   `PyPI`, `golang` → `Go`, …) by exact name. No CPE or product-name matching at all.
//! - Packages a later layer removed are not matched.
//! - `ECOSYSTEM` and `SEMVER` ranges are evaluated per the OSV spec ([`range::evaluate`]), and
//!   explicit `versions` lists are compared by string; `GIT` ranges are not evaluable for
//!   packages and are ignored. A range that cannot be evaluated is skipped with a warning,
//!   never guessed at; an installed version that does not parse is not matched (warning).
//! - Records of one package that share an id (the record id or an alias) are one finding.

mod maven_fallback;
pub mod range;
mod severity;
pub mod suppress;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use bulwark_advisory::osv::Affected;
use bulwark_advisory::severity::debian_urgency_rating;
use bulwark_advisory::{Advisory, Rating, RedHatState, Scheme, TrackerStatus, ecosystem_key, normalize_name};
use bulwark_core::report::{
    AffectedPackage, FixState, NotChecked, NotCheckedReason, OsRelease, Package, Severity, SourcePackage, Vulnerability,
};
use bulwark_version::{Ecosystem, Version};

use range::{Hit, Upper};

pub use bulwark_advisory::{AdvisorySource, SourceError, osv_ecosystem_of_purl_type};

/// The version scheme an OS package type must be compared with.
fn os_scheme(purl_type: &str) -> Option<Ecosystem> {
    Some(match purl_type {
        "deb" => Ecosystem::Dpkg,
        "apk" => Ecosystem::Apk,
        "rpm" => Ecosystem::Rpm,
        _ => return None,
    })
}

/// What one package is looked up and compared as.
#[derive(Debug)]
struct Target {
    ecosystem: String,
    name: String,
    version: String,
    scheme: Ecosystem,
    /// Set when `name`/`version` are not the package's own (an OS source package).
    matched_as: Option<SourcePackage>,
    /// Said in every finding's explanation (how an uncertain identity was matched).
    note: Option<String>,
}

/// Matches `packages` against the advisories of `source`.
///
/// Returns the findings, sorted by severity (worst first), id, package name, version and
/// location, and the warnings (sorted, deduplicated). Never panics on bad data: what cannot
/// be evaluated is a warning and no finding.
pub fn match_packages(
    packages: &[Package],
    os: Option<&OsRelease>,
    source: &dyn AdvisorySource,
) -> (Vec<Vulnerability>, Vec<String>) {
    let m = match_packages_checked(packages, os, source);
    (m.vulnerabilities, m.warnings)
}

/// What [`match_packages_checked`] found, and what it could not check.
#[derive(Debug, Clone, Default)]
pub struct Matched {
    /// Sorted as [`match_packages`] sorts them.
    pub vulnerabilities: Vec<Vulnerability>,
    /// Sorted, deduplicated.
    pub warnings: Vec<String>,
    /// Packages that could not be checked, grouped by ecosystem and reason: lookups that
    /// failed, ecosystems the source has no records of, distributions with no advisory
    /// source. A caller gating on the result must treat each as a failed check.
    pub not_checked: Vec<NotChecked>,
}

/// [`match_packages`], also saying which packages could not be checked and why. Never
/// reads a failed lookup as "no advisories": it is counted in [`Matched::not_checked`].
pub fn match_packages_checked(packages: &[Package], os: Option<&OsRelease>, source: &dyn AdvisorySource) -> Matched {
    let mut m = Matcher {
        source,
        warnings: BTreeSet::new(),
        cache: HashMap::new(),
        present: HashMap::new(),
        gaps: BTreeMap::new(),
    };
    let mut findings = Vec::new();
    for package in packages {
        if package.removed_in.is_some() {
            continue;
        }
        let Some(target) = m.target(package, os) else { continue };
        if m.has_ecosystem(&target.ecosystem) == Some(false) {
            m.gap(
                NotCheckedReason::EcosystemMissing,
                &target.ecosystem,
                format!("{} {}", package.ecosystem, package.name),
                None,
            );
            continue;
        }
        m.match_package(package, &target, &mut findings);
    }
    findings.sort_by(compare_findings);
    let not_checked = m.gaps.into_iter().map(|((reason, scope), gap)| gap.describe(reason, scope)).collect();
    Matched { vulnerabilities: findings, warnings: m.warnings.into_iter().collect(), not_checked }
}

/// Packages of one ecosystem that could not be checked for one reason.
#[derive(Default)]
struct Gap {
    packages: BTreeSet<String>,
    /// The first error, for lookups that failed.
    error: Option<String>,
}

impl Gap {
    fn describe(self, reason: NotCheckedReason, scope: String) -> NotChecked {
        let n = self.packages.len();
        let some: Vec<&str> = self.packages.iter().take(3).map(String::as_str).collect();
        let more = if n > 3 { format!(", and {} more", n - 3) } else { String::new() };
        let which = format!("{n} package{} ({}{more})", if n == 1 { "" } else { "s" }, some.join(", "));
        let message = match reason {
            NotCheckedReason::EcosystemMissing => format!(
                "the advisory database has no {scope} advisories: {which} not checked for vulnerabilities (add the ecosystem with `bulwark db update --ecosystem {scope}` or `bulwark db build --osv …`)"
            ),
            NotCheckedReason::LookupFailed => format!(
                "advisory lookups in {scope} failed for {which}: {} (the database may be damaged: rebuild or re-import it)",
                self.error.unwrap_or_default()
            ),
            NotCheckedReason::IdentityAmbiguous => format!(
                "{which} of {scope} not checked for vulnerabilities: the jar names no group and several advisory packages share its artifact name (see docs/java.md)"
            ),
            _ => format!("{which} of {scope} not checked for vulnerabilities: no advisory source Bulwark can match"),
        };
        NotChecked { scanner: "vuln".to_owned(), reason, scope: Some(scope), message }
    }
}

fn compare_findings(a: &Vulnerability, b: &Vulnerability) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.package.name.cmp(&b.package.name))
        .then_with(|| a.package.version.cmp(&b.package.version))
        .then_with(|| a.package.locations.first().cmp(&b.package.locations.first()))
        .then_with(|| a.package.ecosystem.cmp(&b.package.ecosystem))
        .then_with(|| a.package.purl.cmp(&b.package.purl))
        .then_with(|| a.sources.cmp(&b.sources))
}

/// The advisories of one package, or why the lookup failed.
type Lookup = Result<Rc<Vec<Advisory>>, SourceError>;

struct Matcher<'a> {
    source: &'a dyn AdvisorySource,
    warnings: BTreeSet<String>,
    cache: HashMap<(String, String), Lookup>,
    /// [`AdvisorySource::has_ecosystem`] answers, by ecosystem key.
    present: HashMap<String, Option<bool>>,
    /// What could not be checked, by reason and ecosystem.
    gaps: BTreeMap<(NotCheckedReason, String), Gap>,
}

/// One advisory record that affects the installed version.
struct RecordMatch<'a> {
    advisory: &'a Advisory,
    /// The intervals that contain the installed version, with the range type.
    hits: Vec<(Hit, String)>,
    /// The installed version is in the record's explicit `versions` list.
    listed: bool,
    /// Fixed versions above the installed one that the record does not list as affected.
    fixed: Vec<(Version, String)>,
    wont_fix: bool,
    /// What the feed says beyond the ranges (Red Hat's state and its reason).
    notes: Vec<String>,
}

impl<'a> Matcher<'a> {
    fn warn(&mut self, message: String) {
        self.warnings.insert(message);
    }

    /// Records a package that could not be checked.
    fn gap(&mut self, reason: NotCheckedReason, scope: &str, package: String, error: Option<String>) {
        let gap = self.gaps.entry((reason, scope.to_owned())).or_default();
        gap.packages.insert(package);
        if gap.error.is_none() {
            gap.error = error;
        }
    }

    fn target(&mut self, package: &Package, os: Option<&OsRelease>) -> Option<Target> {
        let kind = package.ecosystem.as_str();
        if let Some(expected) = os_scheme(kind) {
            let who = format!("{kind} {}", package.name);
            let Some(os) = os else {
                self.warn(format!("{kind} packages not matched: the distribution was not identified"));
                self.gap(NotCheckedReason::EcosystemUnsupported, "an unidentified distribution", who, None);
                return None;
            };
            let Some(eco) = os.osv_ecosystem.as_deref().filter(|e| !e.trim().is_empty()) else {
                let release = os.version_id.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
                self.warn(format!(
                    "{kind} packages not matched: no advisory ecosystem for {}{release} (unknown or end-of-life distribution)",
                    os.id
                ));
                self.gap(NotCheckedReason::EcosystemUnsupported, &format!("{}{release}", os.id), who, None);
                return None;
            };
            let Some(eco) = self.rhel_family_ecosystem(kind, os, eco) else {
                self.gap(NotCheckedReason::EcosystemMissing, eco, who, None);
                return None;
            };
            let eco = eco.as_str();
            let scheme = Ecosystem::from_osv(eco);
            if scheme != expected {
                self.warn(format!(
                    "{kind} packages not matched: {eco} advisories use {scheme} ordering, {kind} packages {expected}"
                ));
                self.gap(NotCheckedReason::EcosystemUnsupported, eco, who, None);
                return None;
            }
            let src = package.source.as_ref();
            let name = src.map(|s| s.name.trim()).filter(|n| !n.is_empty()).unwrap_or(&package.name).to_owned();
            let mut version = src
                .and_then(|s| s.version.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or(&package.version)
                .to_owned();
            // rpm's SOURCERPM has no epoch; the source package is built with the binary's.
            if expected == Ecosystem::Rpm
                && !version.contains(':')
                && let Some((epoch, _)) = package.version.split_once(':')
                && !epoch.is_empty()
                && epoch.bytes().all(|b| b.is_ascii_digit())
            {
                version = format!("{epoch}:{version}");
            }
            let matched_as = (name != package.name || version != package.version)
                .then(|| SourcePackage { name: name.clone(), version: Some(version.clone()) });
            return Some(Target { ecosystem: eco.to_owned(), name, version, scheme, matched_as, note: None });
        }
        let Some(eco) = osv_ecosystem_of_purl_type(kind) else {
            self.warn(format!("{kind} packages not matched: no OSV ecosystem for this package type"));
            return None;
        };
        let mut name = package.name.trim().to_owned();
        let mut version = package.version.trim().to_owned();
        match kind {
            // OSV's Go ecosystem spells versions without the `v` (and the toolchain as `1.x`).
            "golang" => {
                let v = version.strip_prefix("go").filter(|_| name == "stdlib").unwrap_or(&version);
                version = v.strip_prefix('v').unwrap_or(v).to_owned();
            }
            // OSV names Maven packages `group:artifact`.
            "maven" if !name.contains(':') => {
                name = name.replacen('/', ":", 1);
                if !name.contains(':') {
                    return self.maven_fallback(package, name, version);
                }
            }
            _ => {}
        }
        Some(Target {
            ecosystem: eco.to_owned(),
            name,
            version,
            scheme: Ecosystem::from_osv(eco),
            matched_as: None,
            note: None,
        })
    }

    fn has_ecosystem(&mut self, eco: &str) -> Option<bool> {
        let key = ecosystem_key(eco);
        if let Some(found) = self.present.get(&key) {
            return *found;
        }
        // A failed answer is "cannot tell": the lookups that follow fail and are reported.
        let found = self.source.has_ecosystem(eco).ok().flatten();
        self.present.insert(key, found);
        found
    }

    /// The ecosystem RHEL-family rpm packages are matched in, with a warning saying which
    /// advisory source covers them (or why nothing does). Other ecosystems pass through.
    ///
    /// - RHEL (`Red Hat:enterprise_linux:<major>`): the Red Hat CSAF VEX entries of that major
    ///   (`bulwark db build --csaf`); none in the database → not matched, with a warning.
    /// - Rocky Linux / AlmaLinux: their own OSV ecosystem when the database has it, else the
    ///   Red Hat entries of the same major (they rebuild RHEL's sources), with a warning.
    fn rhel_family_ecosystem(&mut self, kind: &str, os: &OsRelease, eco: &str) -> Option<String> {
        let major = |e: &str| e.rsplit(':').next().unwrap_or_default().to_owned();
        if eco.starts_with("Red Hat:") {
            if self.has_ecosystem(eco) == Some(false) {
                self.warn(format!(
                    "{kind} packages not matched: the advisory database has no {eco} advisories (add Red Hat CSAF VEX documents with `bulwark db build --csaf`)"
                ));
                return None;
            }
            self.warn(format!(
                "{kind} packages matched against {eco} advisories from Red Hat CSAF VEX (main RHEL {} stream; modular, EUS and layered-product packages are not covered)",
                major(eco)
            ));
            return Some(eco.to_owned());
        }
        if !(eco.starts_with("Rocky Linux:") || eco.starts_with("AlmaLinux:")) || self.has_ecosystem(eco) != Some(false)
        {
            return Some(eco.to_owned());
        }
        let redhat = format!("Red Hat:enterprise_linux:{}", major(eco));
        if self.has_ecosystem(&redhat) == Some(true) {
            self.warn(format!(
                "{kind} packages of {} matched against {redhat} advisories from Red Hat CSAF VEX: the advisory database has no {eco} advisories (rebuilt packages can differ from RHEL's in release numbers)",
                os.id
            ));
            return Some(redhat);
        }
        self.warn(format!(
            "{kind} packages not matched: the advisory database has neither {eco} nor {redhat} advisories"
        ));
        None
    }

    /// The advisories of a package; `Err` (remembered per package) when the lookup failed.
    fn lookup(&mut self, eco: &str, name: &str) -> Lookup {
        let key = (ecosystem_key(eco), normalize_name(eco, name));
        if let Some(found) = self.cache.get(&key) {
            return found.clone();
        }
        let found = self.source.advisories_for(eco, name).map(Rc::new);
        self.cache.insert(key, found.clone());
        found
    }

    fn match_package(&mut self, package: &Package, target: &Target, out: &mut Vec<Vulnerability>) {
        let advisories = match self.lookup(&target.ecosystem, &target.name) {
            Ok(a) => a,
            Err(e) => {
                self.lookup_failed(package, target, &e);
                return;
            }
        };
        if advisories.is_empty() {
            return;
        }
        let installed = match Version::parse(target.scheme, &target.version) {
            Ok(v) => v,
            Err(e) => {
                self.warn(format!(
                    "{} {} {}: not a valid {} version ({e}); not matched",
                    package.ecosystem, target.name, target.version, target.scheme
                ));
                return;
            }
        };
        let mut matches = Vec::new();
        for advisory in advisories.iter().filter(|a| a.withdrawn.is_none()) {
            if let Some(m) = self.evaluate(advisory, target, &installed) {
                matches.push(m);
            }
        }
        for group in group_records(matches) {
            out.push(self.finding(package, target, group));
        }
    }

    /// The affected entries of `advisory` for the target package.
    fn entries<'b>(advisory: &'b Advisory, target: &Target) -> impl Iterator<Item = &'b Affected> {
        let (eco, name) = (ecosystem_key(&target.ecosystem), normalize_name(&target.ecosystem, &target.name));
        advisory.affected.iter().filter(move |a| {
            a.package.as_ref().is_some_and(|p| {
                ecosystem_key(&p.ecosystem) == eco && normalize_name(&target.ecosystem, &p.name) == name
            })
        })
    }

    fn evaluate<'b>(
        &mut self,
        advisory: &'b Advisory,
        target: &Target,
        installed: &Version,
    ) -> Option<RecordMatch<'b>> {
        let canonical = installed.to_string();
        let mut hits = Vec::new();
        let mut listed = false;
        let mut wont_fix = false;
        let mut notes = Vec::new();
        // The evaluable ranges, kept to check that a fixed version is really unaffected.
        let mut ranges: Vec<range::ParsedRange<'b>> = Vec::new();
        let mut versions: Vec<&str> = Vec::new();
        for entry in Self::entries(advisory, target) {
            for r in &entry.ranges {
                let kind = r.kind.trim().to_ascii_uppercase();
                match kind.as_str() {
                    "ECOSYSTEM" | "SEMVER" => {}
                    "GIT" => continue,
                    _ => {
                        self.warn(format!(
                            "{}/{}: range type {:?} not understood; range skipped",
                            target.ecosystem, advisory.id, r.kind
                        ));
                        continue;
                    }
                }
                match range::ParsedRange::parse(target.scheme, &r.events) {
                    Ok(parsed) => {
                        if let Some(hit) = parsed.contains(installed) {
                            hits.push((hit, kind));
                        }
                        ranges.push(parsed);
                    }
                    Err(e) => self.warn(format!("{}/{}: {e}; range skipped", target.ecosystem, advisory.id)),
                }
            }
            let listed_here = entry.versions.iter().any(|v| v.trim() == target.version || v.trim() == canonical);
            listed |= listed_here;
            versions.extend(entry.versions.iter().map(|v| v.trim()));
            wont_fix |= says_wont_fix(entry, &target.ecosystem);
            notes.extend(redhat_note(entry));
        }
        if hits.is_empty() && !listed {
            return None;
        }
        let affected = |v: &Version, s: &str| versions.contains(&s) || ranges.iter().any(|r| r.contains(v).is_some());
        let mut fixed: Vec<(Version, String)> = ranges
            .iter()
            .flat_map(|r| r.fixed())
            .filter(|(v, s)| v.partial_cmp(&installed) == Some(Ordering::Greater) && !affected(v, s))
            .map(|(v, s)| (v.clone(), s.to_owned()))
            .collect();
        sort_dedup_versions(&mut fixed);
        notes.dedup();
        Some(RecordMatch { advisory, hits, listed, fixed, wont_fix, notes })
    }

    fn lookup_failed(&mut self, package: &Package, target: &Target, error: &SourceError) {
        self.warn(format!("advisory lookup for {} {} failed: {error}", target.ecosystem, target.name));
        self.gap(
            NotCheckedReason::LookupFailed,
            &target.ecosystem,
            format!("{} {}", package.ecosystem, package.name),
            Some(error.to_string()),
        );
    }

    fn finding(&mut self, package: &Package, target: &Target, group: Vec<RecordMatch<'_>>) -> Vulnerability {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for m in &group {
            ids.extend(record_ids(m.advisory));
        }
        let cves: Vec<&String> = {
            let mut c: Vec<&String> = ids.iter().filter(|i| is_cve(i)).collect();
            c.sort_by_key(|i| cve_key(i));
            c
        };
        let id = cves.first().map(|s| (*s).clone()).unwrap_or_else(|| group[0].advisory.id.clone());
        let aliases: Vec<String> = ids.iter().filter(|i| **i != id).cloned().collect();

        let mut fixed: Vec<(Version, String)> = group.iter().flat_map(|m| m.fixed.iter().cloned()).collect();
        sort_dedup_versions(&mut fixed);
        let mut state = if !fixed.is_empty() {
            FixState::Fixed
        } else if group.iter().any(|m| m.wont_fix) {
            FixState::WontFix
        } else {
            FixState::NotFixed
        };

        let advisories: Vec<&Advisory> = group.iter().map(|m| m.advisory).collect();
        let mut sev = severity::pick(&advisories);
        // No severity in the matching records (a distro record that states none): take the
        // one of another advisory in the database for the same vulnerability (a GHSA record,
        // NVD's CVSS attached to it), naming that advisory as the source.
        if sev.severity == Severity::Unknown {
            let mut others: Vec<Advisory> = Vec::new();
            for cve in &cves {
                match self.source.advisories_aliasing(cve) {
                    Ok(found) => others.extend(found.into_iter().filter(|a| !ids.contains(&a.id))),
                    Err(e) => self.lookup_failed(package, target, &e),
                }
            }
            // Only vendor-neutral ratings (CVSS, as NVD scores it, and GHSA's word): another
            // distribution's urgency says how that distribution sees it, not this one.
            for a in &mut others {
                a.severities
                    .retain(|s| matches!(s.scheme, Scheme::CvssV3 | Scheme::CvssV4 | Scheme::CvssV2 | Scheme::Ghsa));
            }
            let refs: Vec<&Advisory> = others.iter().collect();
            let alt = severity::pick(&refs);
            if alt.severity != Severity::Unknown {
                sev.severity = alt.severity;
                sev.source = alt.source;
                if sev.cvss.is_none() {
                    sev.cvss = alt.cvss;
                }
            }
        }

        // The Debian security tracker's state for this release, source package and CVE.
        let mut tracker_notes = Vec::new();
        if target.ecosystem.to_ascii_lowercase().starts_with("debian:") {
            for cve in &cves {
                // A failed lookup is a lookup that failed, not "no statement".
                let t = match self.source.debian_tracker(&target.ecosystem, &target.name, cve) {
                    Ok(Some(t)) => t,
                    Ok(None) => continue,
                    Err(e) => {
                        self.lookup_failed(package, target, &e);
                        continue;
                    }
                };
                if t.is_wont_fix() && state == FixState::NotFixed {
                    state = FixState::WontFix;
                }
                if sev.severity == Severity::Unknown
                    && let Some(word) = t.urgency.as_deref()
                {
                    let rating = debian_urgency_rating(word);
                    if rating != Rating::Unknown {
                        sev.severity = severity::to_report(rating);
                        sev.source = Some(format!("debian-tracker:{} {cve} (Debian urgency {word})", t.source));
                    }
                }
                if t.state != TrackerStatus::NotAffected {
                    tracker_notes.push(format!("{cve}: {}", t.describe()));
                }
            }
        }
        // A failed KEV or EPSS lookup is a lookup that failed, not "not exploited".
        let mut kev = false;
        for c in &cves {
            match self.source.kev(c) {
                Ok(found) => kev |= found,
                Err(e) => self.lookup_failed(package, target, &e),
            }
        }
        let epss = match cves.first().map(|c| self.source.epss(c)) {
            Some(Ok(e)) => e.map(|e| (e.epss, e.percentile)),
            Some(Err(e)) => {
                self.lookup_failed(package, target, &e);
                None
            }
            None => None,
        };
        let title = advisories.iter().find_map(|a| a.summary.clone()).filter(|s| !s.trim().is_empty());
        let mut sources: Vec<String> = advisories
            .iter()
            .map(|a| {
                if a.source.starts_with("csaf:") {
                    format!("{}/{}", a.source, a.id)
                } else {
                    format!("osv:{}/{}", target.ecosystem, a.id)
                }
            })
            .collect();
        sources.sort();
        sources.dedup();
        let explanation = group
            .iter()
            .map(|m| {
                let mut text = explain(m, target);
                for note in &m.notes {
                    text.push_str(&format!("; {note}"));
                }
                if group.len() > 1 { format!("{}: {text}", m.advisory.id) } else { text }
            })
            .chain(tracker_notes)
            .chain(target.note.clone())
            .collect::<Vec<_>>()
            .join("; ");

        Vulnerability {
            id,
            aliases,
            package: AffectedPackage {
                ecosystem: package.ecosystem.clone(),
                name: package.name.clone(),
                version: package.version.clone(),
                purl: package.purl.clone(),
                matched_as: target.matched_as.clone(),
                layer: package.layer,
                locations: package.locations.clone(),
            },
            state,
            fixed_versions: fixed.into_iter().map(|(_, s)| s).collect(),
            severity: sev.severity,
            severity_source: sev.source,
            cvss: sev.cvss,
            kev,
            epss,
            title,
            sources,
            explanation,
        }
    }
}

/// Sorts versions ascending (nearest first) and drops equal-precedence duplicates.
fn sort_dedup_versions(list: &mut Vec<(Version, String)>) {
    list.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal).then_with(|| a.1.cmp(&b.1)));
    list.dedup_by(|a, b| a.0.partial_cmp(&b.0) == Some(Ordering::Equal));
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// Orders CVE ids by year and number (`CVE-2021-999` before `CVE-2021-1000`).
fn cve_key(id: &str) -> (u32, u64, String) {
    let mut parts = id.trim_start_matches("CVE-").splitn(2, '-');
    let year = parts.next().and_then(|y| y.parse().ok()).unwrap_or(u32::MAX);
    let num = parts.next().and_then(|n| n.parse().ok()).unwrap_or(u64::MAX);
    (year, num, id.to_owned())
}

/// The ids that name the same vulnerability as a record: its id, its aliases, and its
/// `upstream` id when there is exactly one (several upstream ids make an umbrella advisory,
/// such as a DSA fixing many CVEs, which is not the same vulnerability as any one of them).
fn record_ids(a: &Advisory) -> Vec<String> {
    let mut ids = vec![a.id.clone()];
    ids.extend(a.aliases.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    if let [one] = a.upstream.as_slice() {
        ids.push(one.trim().to_owned());
    }
    ids
}

/// Merges the records of one package that share an id (union over id and aliases), in the
/// order of the records (which the source returns sorted by id).
fn group_records(matches: Vec<RecordMatch<'_>>) -> Vec<Vec<RecordMatch<'_>>> {
    let mut groups: Vec<(BTreeSet<String>, Vec<RecordMatch<'_>>)> = Vec::new();
    for m in matches {
        let ids: BTreeSet<String> = record_ids(m.advisory).into_iter().collect();
        let (mut joined, rest): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(g, _)| !g.is_disjoint(&ids));
        let mut merged_ids = ids;
        let mut merged = Vec::new();
        for (g, records) in joined.drain(..) {
            merged_ids.extend(g);
            merged.extend(records);
        }
        merged.push(m);
        groups = rest;
        groups.push((merged_ids, merged));
    }
    groups
        .into_iter()
        .map(|(_, mut records)| {
            records.sort_by(|a, b| a.advisory.id.cmp(&b.advisory.id));
            records
        })
        .collect()
}

/// Whether an affected entry says the distro will not fix it: the Debian security tracker's
/// urgency `unimportant` (kept in `ecosystem_specific`/`database_specific.urgency` by Debian's
/// OSV export), or Red Hat's `no_fix_planned` ([`RedHatState::WontFix`], written by
/// `bulwark_advisory::csaf`).
fn says_wont_fix(entry: &Affected, ecosystem: &str) -> bool {
    if ecosystem.starts_with("Red Hat:") {
        return entry.redhat_statement().is_some_and(|s| s.state == RedHatState::WontFix);
    }
    if !ecosystem.to_ascii_lowercase().starts_with("debian") {
        return false;
    }
    [&entry.ecosystem_specific, &entry.database_specific].into_iter().flatten().any(|v| {
        v.get("urgency")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|u| u.trim().trim_end_matches('*').eq_ignore_ascii_case("unimportant"))
    })
}

/// Red Hat's statement for an entry of a CSAF-derived record, for the explanation.
fn redhat_note(entry: &Affected) -> Option<String> {
    entry.redhat_statement()?.describe()
}

fn explain(m: &RecordMatch<'_>, target: &Target) -> String {
    let v = &target.version;
    let mut parts: Vec<String> = m
        .hits
        .iter()
        .map(|(hit, kind)| {
            let lower =
                if hit.introduced == "0" { String::new() } else { format!("introduced {} <= ", hit.introduced) };
            let text = match &hit.upper {
                Upper::Fixed(f) => format!("{lower}installed {v} < fixed {f}"),
                Upper::LastAffected(l) => format!("{lower}installed {v} <= last_affected {l}"),
                Upper::Open => format!("{lower}installed {v}, no fixed version"),
            };
            let zero = if hit.introduced == "0" { " (introduced 0)" } else { "" };
            format!("{text}{zero} in {} {kind} range, {} ordering", target.ecosystem, target.scheme)
        })
        .collect();
    parts.dedup();
    if m.listed {
        parts.push(format!("installed {v} is listed in the affected versions of {}", target.ecosystem));
    }
    parts.join(", and ")
}
