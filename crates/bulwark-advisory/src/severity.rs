//! Severities: CVSS base scores computed from vectors, and the words feeds use (GHSA severity,
//! Debian urgency, Ubuntu priority). Every value keeps where it came from ([`Severity::origin`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::osv::{Record, SeverityEntry};

/// A qualitative rating. CVSS v3.x/v4.0 use the FIRST scale (None 0.0, Low 0.1–3.9, Medium
/// 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0); CVSS v2 uses NVD's (Low < 4.0, Medium < 7.0,
/// High), which has no Critical. Distro words map onto the same scale; `Negligible` is
/// Debian's `unimportant` and Ubuntu's `negligible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Unknown,
    None,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Unknown => "unknown",
            Rating::None => "none",
            Rating::Negligible => "negligible",
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Critical => "critical",
        }
    }

    /// The FIRST CVSS v3.x/v4.0 rating of a base score.
    pub fn from_cvss3_score(score: f64) -> Rating {
        match score {
            s if s <= 0.0 => Rating::None,
            s if s < 4.0 => Rating::Low,
            s if s < 7.0 => Rating::Medium,
            s if s < 9.0 => Rating::High,
            _ => Rating::Critical,
        }
    }
}

/// What kind of value a [`Severity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    CvssV2,
    CvssV3,
    CvssV4,
    /// `database_specific.severity` as GitHub's advisory database writes it
    /// (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`).
    Ghsa,
    /// The Debian security tracker's urgency (`unimportant`, `low`, `medium`, `high`, …).
    DebianUrgency,
    /// Ubuntu's priority (`negligible`, `low`, `medium`, `high`, `critical`).
    UbuntuPriority,
    /// Red Hat's impact rating (`Low`, `Moderate`, `Important`, `Critical`), from CSAF
    /// `threats[]` (kept as `ecosystem_specific.redhat_impact`).
    RedHatImpact,
}

/// One severity value with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    pub scheme: Scheme,
    pub rating: Rating,
    /// The base score computed from [`Severity::vector`] (CVSS only; `None` if the vector
    /// does not parse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The CVSS vector as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The word as published, for non-CVSS schemes (`MODERATE`, `unimportant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where the value was read: `osv:severity`, `osv:affected[2].severity`,
    /// `osv:database_specific.severity`, `osv:affected[0].ecosystem_specific.urgency`,
    /// `nvd:<source> (<Primary|Secondary>)`.
    pub origin: String,
}

impl Severity {
    /// A CVSS severity from a vector string; the version comes from the vector itself (v2
    /// vectors have no prefix). An unparsable vector is kept with no score and
    /// [`Rating::Unknown`].
    pub fn from_cvss(vector: &str, origin: impl Into<String>) -> Severity {
        let vector = vector.trim();
        let (scheme, score, rating) = match cvss_base_score(vector) {
            Ok((scheme, score, rating)) => (scheme, Some(score), rating),
            Err(_) => {
                let scheme = if vector.starts_with("CVSS:4") {
                    Scheme::CvssV4
                } else if vector.starts_with("CVSS:3") {
                    Scheme::CvssV3
                } else {
                    Scheme::CvssV2
                };
                (scheme, None, Rating::Unknown)
            }
        };
        Severity { scheme, rating, score, vector: Some(vector.to_owned()), label: None, origin: origin.into() }
    }

    fn word(scheme: Scheme, label: &str, rating: Rating, origin: String) -> Severity {
        Severity { scheme, rating, score: None, vector: None, label: Some(label.to_owned()), origin }
    }

    /// Whether this is a CVSS value with a computed score.
    pub fn is_scored_cvss(&self) -> bool {
        matches!(self.scheme, Scheme::CvssV2 | Scheme::CvssV3 | Scheme::CvssV4) && self.score.is_some()
    }
}

/// Computes the base score of a CVSS v2.0, v3.0, v3.1 or v4.0 vector and its rating.
///
/// v2 and v3.x use the specification formulas, v4.0 the specification's macro-vector lookup
/// table with interpolation (all as implemented by the `cvss` crate, which is tested against
/// FIRST's and Red Hat's reference calculators).
pub fn cvss_base_score(vector: &str) -> Result<(Scheme, f64, Rating), String> {
    let parsed: cvss::Cvss = vector.trim().parse().map_err(|e: cvss::Error| e.to_string())?;
    let score = parsed.score();
    let (scheme, rating) = match parsed {
        cvss::Cvss::CvssV20(_) => (
            Scheme::CvssV2,
            match score {
                s if s < 4.0 => Rating::Low,
                s if s < 7.0 => Rating::Medium,
                _ => Rating::High,
            },
        ),
        cvss::Cvss::CvssV30(_) | cvss::Cvss::CvssV31(_) => (Scheme::CvssV3, Rating::from_cvss3_score(score)),
        cvss::Cvss::CvssV40(_) => (Scheme::CvssV4, Rating::from_cvss3_score(score)),
        _ => return Err(format!("unsupported CVSS version in {vector}")),
    };
    Ok((scheme, score, rating))
}

/// Maps a GHSA `database_specific.severity` word.
pub fn ghsa_rating(word: &str) -> Option<Rating> {
    Some(match word.trim().to_ascii_uppercase().as_str() {
        "LOW" => Rating::Low,
        "MODERATE" | "MEDIUM" => Rating::Medium,
        "HIGH" => Rating::High,
        "CRITICAL" => Rating::Critical,
        _ => return None,
    })
}

/// Maps a Debian security tracker urgency. A trailing `*` (the tracker's "guessed" marker) is
/// ignored; `not yet assigned` and `end-of-life` are [`Rating::Unknown`].
pub fn debian_urgency_rating(word: &str) -> Rating {
    match word.trim().trim_end_matches('*').to_ascii_lowercase().as_str() {
        "unimportant" => Rating::Negligible,
        "low" => Rating::Low,
        "medium" => Rating::Medium,
        "high" => Rating::High,
        _ => Rating::Unknown,
    }
}

/// Maps a Red Hat impact rating; other words are [`Rating::Unknown`].
pub fn redhat_impact_rating(word: &str) -> Rating {
    match word.trim().to_ascii_lowercase().as_str() {
        "low" => Rating::Low,
        "moderate" => Rating::Medium,
        "important" => Rating::High,
        "critical" => Rating::Critical,
        _ => Rating::Unknown,
    }
}

/// Maps an Ubuntu priority; `untriaged` is [`Rating::Unknown`].
pub fn ubuntu_priority_rating(word: &str) -> Rating {
    match word.trim().to_ascii_lowercase().as_str() {
        "negligible" => Rating::Negligible,
        "low" => Rating::Low,
        "medium" => Rating::Medium,
        "high" => Rating::High,
        "critical" => Rating::Critical,
        _ => Rating::Unknown,
    }
}

/// Every severity a record states, in record order (see [`dedupe`]).
pub fn severities_of(record: &Record) -> Vec<Severity> {
    let mut out = Vec::new();
    for entry in &record.severity {
        push_entry(&mut out, entry, "osv:severity".to_owned());
    }
    for (i, affected) in record.affected.iter().enumerate() {
        for entry in &affected.severity {
            push_entry(&mut out, entry, format!("osv:affected[{i}].severity"));
        }
        let eco = affected.package.as_ref().map(|p| p.ecosystem.to_ascii_lowercase()).unwrap_or_default();
        for (field, value) in
            [("ecosystem_specific", &affected.ecosystem_specific), ("database_specific", &affected.database_specific)]
        {
            let Some(value) = value else { continue };
            if eco.starts_with("debian")
                && let Some(word) = value.get("urgency").and_then(Value::as_str)
            {
                let origin = format!("osv:affected[{i}].{field}.urgency");
                out.push(Severity::word(Scheme::DebianUrgency, word, debian_urgency_rating(word), origin));
            }
            if eco.starts_with("red hat")
                && let Some(word) = value.get("redhat_impact").and_then(Value::as_str)
            {
                let origin = format!("osv:affected[{i}].{field}.redhat_impact");
                out.push(Severity::word(Scheme::RedHatImpact, word, redhat_impact_rating(word), origin));
            }
            if eco.starts_with("ubuntu")
                && let Some(word) =
                    value.get("ubuntu_priority").or_else(|| value.get("priority")).and_then(Value::as_str)
            {
                let origin = format!("osv:affected[{i}].{field}.ubuntu_priority");
                out.push(Severity::word(Scheme::UbuntuPriority, word, ubuntu_priority_rating(word), origin));
            }
        }
    }
    if let Some(word) = record.database_specific.as_ref().and_then(|d| d.get("severity")).and_then(Value::as_str)
        && let Some(rating) = ghsa_rating(word)
    {
        out.push(Severity::word(Scheme::Ghsa, word, rating, "osv:database_specific.severity".to_owned()));
    }
    out
}

/// Keeps the first of several equal CVSS vectors within one record (the Kubernetes feed
/// repeats one per affected entry). Distro words stay per entry (each entry is one release,
/// and releases can differ), and so do values from different outside sources (NVD's own
/// and a CNA's metric often have the same vector).
pub fn dedupe(severities: &mut Vec<Severity>) {
    let mut seen = std::collections::HashSet::new();
    severities.retain(|s| {
        let from = if s.origin.starts_with("osv:") { "osv:" } else { s.origin.as_str() };
        s.vector.is_none() || seen.insert((s.scheme, s.vector.clone(), from.to_owned()))
    });
}

fn push_entry(out: &mut Vec<Severity>, entry: &SeverityEntry, origin: String) {
    match entry.kind.to_ascii_uppercase().as_str() {
        "CVSS_V2" | "CVSS_V3" | "CVSS_V4" => out.push(Severity::from_cvss(&entry.score, origin)),
        "UBUNTU" => {
            out.push(Severity::word(Scheme::UbuntuPriority, &entry.score, ubuntu_priority_rating(&entry.score), origin))
        }
        // Unknown severity types are not guessed at; the raw record still has them.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings() {
        assert_eq!(Rating::from_cvss3_score(0.0), Rating::None);
        assert_eq!(Rating::from_cvss3_score(3.9), Rating::Low);
        assert_eq!(Rating::from_cvss3_score(4.0), Rating::Medium);
        assert_eq!(Rating::from_cvss3_score(8.9), Rating::High);
        assert_eq!(Rating::from_cvss3_score(9.0), Rating::Critical);
        assert_eq!(debian_urgency_rating("low*"), Rating::Low);
        assert_eq!(debian_urgency_rating("not yet assigned"), Rating::Unknown);
        assert_eq!(ghsa_rating("MODERATE"), Some(Rating::Medium));
        assert_eq!(ghsa_rating("bogus"), None);
    }

    #[test]
    fn bad_vector_is_kept_unscored() {
        let s = Severity::from_cvss("CVSS:3.1/AV:X", "osv:severity");
        assert_eq!((s.scheme, s.score, s.rating), (Scheme::CvssV3, None, Rating::Unknown));
        assert!(cvss_base_score("").is_err());
        assert!(cvss_base_score("CVSS:9.9/AV:N").is_err());
    }
}
