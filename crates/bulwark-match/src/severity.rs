//! Picks one severity for a finding from the severities of its records.
//!
//! Preference: a computed CVSS v3.x score, then CVSS v4.0, then GHSA's word, then the distro's
//! word (Debian urgency, Ubuntu priority, Red Hat impact), then CVSS v2. Within one kind, the record's own
//! values come before NVD's, then the higher score or rating wins; ties break on the record id
//! and origin, so the choice is deterministic. `cvss` is the preferred scored CVSS value
//! (v3.x, v4.0, v2), whatever `severity` came from.

use bulwark_advisory::{Advisory, Rating, Scheme};
use bulwark_core::report::{CvssScore, Severity};

pub(crate) struct Picked {
    pub severity: Severity,
    pub source: Option<String>,
    pub cvss: Option<CvssScore>,
}

pub(crate) fn to_report(r: Rating) -> Severity {
    match r {
        Rating::Critical => Severity::Critical,
        Rating::High => Severity::High,
        Rating::Medium => Severity::Medium,
        Rating::Low | Rating::Negligible | Rating::None => Severity::Low,
        Rating::Unknown => Severity::Unknown,
    }
}

/// Lower is preferred; `None` for values that say nothing.
fn preference(s: &bulwark_advisory::Severity) -> Option<u8> {
    if s.rating == Rating::Unknown {
        return None;
    }
    Some(match s.scheme {
        Scheme::CvssV3 if s.score.is_some() => 0,
        Scheme::CvssV4 if s.score.is_some() => 1,
        Scheme::Ghsa => 2,
        Scheme::DebianUrgency | Scheme::UbuntuPriority | Scheme::RedHatImpact => 3,
        Scheme::CvssV2 if s.score.is_some() => 4,
        _ => return None,
    })
}

fn cvss_version(vector: &str) -> String {
    match vector.strip_prefix("CVSS:") {
        Some(rest) => rest.split('/').next().unwrap_or_default().to_owned(),
        None => "2.0".to_owned(),
    }
}

/// What orders candidates: preference, NVD after the record's own, higher score, higher
/// rating, then record id and origin for determinism. Smallest wins.
type Key<'a> = (u8, bool, i64, std::cmp::Reverse<Rating>, &'a str, &'a str);

fn key<'a>(preference: u8, id: &'a str, s: &'a bulwark_advisory::Severity) -> Key<'a> {
    let score = -(s.score.unwrap_or(0.0) * 10.0).round() as i64;
    (preference, !s.origin.starts_with("osv:"), score, std::cmp::Reverse(s.rating), id, &s.origin)
}

pub(crate) fn pick(advisories: &[&Advisory]) -> Picked {
    let all = || advisories.iter().flat_map(|a| a.severities.iter().map(move |s| (a.id.as_str(), s)));
    let best = all().filter_map(|(id, s)| Some((key(preference(s)?, id, s), id, s))).min_by(|a, b| a.0.cmp(&b.0));
    let best_cvss = all()
        .filter(|(_, s)| s.is_scored_cvss())
        .map(|(id, s)| {
            let p = match s.scheme {
                Scheme::CvssV3 => 0,
                Scheme::CvssV4 => 1,
                _ => 2,
            };
            (key(p, id, s), s)
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, s)| s);
    let cvss = best_cvss.and_then(|s| {
        Some(CvssScore {
            version: cvss_version(s.vector.as_deref()?),
            vector: s.vector.clone()?,
            score: s.score?,
            source: s.origin.clone(),
        })
    });
    match best {
        Some((_, id, s)) => {
            let label = s.label.as_deref().unwrap_or_default();
            let what = match (&s.vector, s.scheme) {
                (Some(v), _) => format!("CVSS {}", cvss_version(v)),
                (None, Scheme::Ghsa) => format!("GHSA severity {label}"),
                (None, Scheme::DebianUrgency) => format!("Debian urgency {label}"),
                (None, Scheme::UbuntuPriority) => format!("Ubuntu priority {label}"),
                (None, Scheme::RedHatImpact) => format!("Red Hat impact {label}"),
                (None, other) => format!("{other:?} {label}"),
            };
            Picked { severity: to_report(s.rating), source: Some(format!("{} {} ({what})", id, s.origin)), cvss }
        }
        None => Picked { severity: Severity::Unknown, source: None, cvss },
    }
}
