//! Enrichment feeds: CISA KEV (JSON), FIRST EPSS (CSV, plain or gzip), NVD 2.0 CVSS (JSON).
//!
//! Each parser reads one whole feed file. A feed that cannot be read as a whole is an
//! error (the caller names the file); single bad rows inside a readable feed are counted in
//! `skipped` and left out.

use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::severity::Severity;

/// Feeds larger than this (after gzip decoding) are rejected: the full EPSS CSV is about
/// 10 MB, the KEV JSON about 2 MB, a yearly NVD 2.0 file a few hundred MB.
pub const MAX_FEED_BYTES: u64 = 1 << 30;

/// One CISA Known Exploited Vulnerabilities entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KevEntry {
    #[serde(rename = "cveID")]
    pub cve_id: String,
    #[serde(default)]
    pub vendor_project: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub vulnerability_name: String,
    #[serde(default)]
    pub date_added: String,
    #[serde(default)]
    pub due_date: String,
    /// `Known` or `Unknown`.
    #[serde(default)]
    pub known_ransomware_campaign_use: String,
}

/// The KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevCatalog {
    pub catalog_version: Option<String>,
    pub date_released: Option<String>,
    pub entries: Vec<KevEntry>,
    /// Entries without a usable `cveID`.
    pub skipped: usize,
}

/// Parses `known_exploited_vulnerabilities.json`.
pub fn parse_kev(bytes: &[u8]) -> Result<KevCatalog, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        catalog_version: Option<String>,
        date_released: Option<String>,
        vulnerabilities: Vec<Value>,
    }
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    let mut skipped = 0;
    for v in raw.vulnerabilities {
        match serde_json::from_value::<KevEntry>(v) {
            Ok(e) if e.cve_id.starts_with("CVE-") => entries.push(e),
            _ => skipped += 1,
        }
    }
    Ok(KevCatalog { catalog_version: raw.catalog_version, date_released: raw.date_released, entries, skipped })
}

/// One EPSS row (the model's type: the matcher reads it through `AdvisorySource::epss`).
pub use bulwark_advisory::EpssScore;

/// A FIRST EPSS daily file.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssFeed {
    /// From the leading `#model_version:...,score_date:...` comment, when present.
    pub model_version: Option<String>,
    pub score_date: Option<String>,
    pub scores: Vec<(String, EpssScore)>,
    pub skipped: usize,
}

/// Parses FIRST's `epss_scores-YYYY-MM-DD.csv` (or `.csv.gz`, detected by the gzip magic):
/// an optional `#model_version:…,score_date:…` line, a `cve,epss,percentile` header, rows.
pub fn parse_epss(bytes: &[u8]) -> Result<EpssFeed, String> {
    let text = decode_maybe_gzip(bytes)?;
    let mut model_version = None;
    let mut score_date = None;
    let mut columns: Option<(usize, usize, usize)> = None;
    let mut scores = Vec::new();
    let mut skipped = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for kv in comment.split(',') {
                match kv.split_once(':') {
                    Some(("model_version", v)) => model_version = Some(v.trim().to_owned()),
                    Some(("score_date", v)) => score_date = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some((c, e, p)) = columns else {
            let find = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            match (find("cve"), find("epss"), find("percentile")) {
                (Some(c), Some(e), Some(p)) => columns = Some((c, e, p)),
                _ => return Err(format!("no `cve,epss,percentile` header (first line: {line:.80})")),
            }
            continue;
        };
        let parsed = (|| {
            let cve = fields.get(c).filter(|s| s.starts_with("CVE-"))?;
            let epss: f64 = fields.get(e)?.parse().ok()?;
            let percentile: f64 = fields.get(p)?.parse().ok()?;
            ((0.0..=1.0).contains(&epss) && (0.0..=1.0).contains(&percentile))
                .then(|| ((*cve).to_owned(), EpssScore { epss, percentile }))
        })();
        match parsed {
            Some(row) => scores.push(row),
            None => skipped += 1,
        }
    }
    if columns.is_none() {
        return Err("empty EPSS file".to_owned());
    }
    Ok(EpssFeed { model_version, score_date, scores, skipped })
}

fn decode_maybe_gzip(bytes: &[u8]) -> Result<String, String> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_FEED_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        if out.len() as u64 > MAX_FEED_BYTES {
            return Err(format!("over {MAX_FEED_BYTES} bytes once decompressed"));
        }
    } else {
        out = bytes.to_vec();
    }
    String::from_utf8(out).map_err(|e| format!("not UTF-8: {e}"))
}

/// One CVSS metric from NVD.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdMetric {
    pub cve: String,
    /// Computed from the vector; `origin` is `nvd:<source> (<type>)`.
    pub severity: Severity,
    /// The `baseScore` NVD published beside the vector, for cross-checking.
    pub published_score: Option<f64>,
}

/// Reads CVSS metrics from NVD 2.0 JSON: an API/feed response
/// (`{"vulnerabilities": [{"cve": {…}}]}`) or a single CVE object (`{"id": "CVE-…",
/// "metrics": {…}}`, as mirrored one file per CVE).
pub fn parse_nvd(bytes: &[u8]) -> Result<Vec<NvdMetric>, String> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Some(list) = root.get("vulnerabilities").and_then(Value::as_array) {
        for item in list {
            if let Some(cve) = item.get("cve") {
                nvd_cve(cve, &mut out);
            }
        }
    } else if root.get("id").is_some() && root.get("metrics").is_some() {
        nvd_cve(&root, &mut out);
    } else {
        return Err("neither an NVD 2.0 response (`vulnerabilities`) nor a CVE object (`id`, `metrics`)".to_owned());
    }
    Ok(out)
}

fn nvd_cve(cve: &Value, out: &mut Vec<NvdMetric>) {
    let Some(id) = cve.get("id").and_then(Value::as_str).filter(|id| id.starts_with("CVE-")) else { return };
    let Some(metrics) = cve.get("metrics").and_then(Value::as_object) else { return };
    for key in ["cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"] {
        for m in metrics.get(key).and_then(Value::as_array).into_iter().flatten() {
            let data = m.get("cvssData");
            let Some(vector) = data.and_then(|d| d.get("vectorString")).and_then(Value::as_str) else { continue };
            let source = m.get("source").and_then(Value::as_str).unwrap_or("unknown");
            let kind = m.get("type").and_then(Value::as_str).unwrap_or("unknown");
            out.push(NvdMetric {
                cve: id.to_owned(),
                severity: Severity::from_cvss(vector, format!("nvd:{source} ({kind})")),
                published_score: data.and_then(|d| d.get("baseScore")).and_then(Value::as_f64),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epss_formats() {
        let f = parse_epss(b"#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\ncve,epss,percentile\nCVE-2024-3094,0.83739,0.99245\nbogus,1,1\nCVE-1,2,0\n").unwrap();
        assert_eq!(f.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(f.score_date.as_deref(), Some("2025-08-25T00:00:00Z"));
        assert_eq!(f.scores, vec![("CVE-2024-3094".to_owned(), EpssScore { epss: 0.83739, percentile: 0.99245 })]);
        assert_eq!(f.skipped, 2);
        assert!(parse_epss(b"").is_err());
        assert!(parse_epss(b"a,b\n").is_err());
        assert!(parse_epss(&[0x1f, 0x8b, 0, 0]).is_err());
    }

    #[test]
    fn nvd_shapes() {
        assert!(parse_nvd(b"{}").is_err());
        let m = parse_nvd(br#"{"vulnerabilities":[{"cve":{"id":"CVE-1","metrics":{"cvssMetricV2":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"vectorString":"AV:N/AC:L/Au:N/C:N/I:N/A:P","baseScore":5.0}}]}}}]}"#).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].severity.score, Some(5.0));
        assert_eq!(m[0].severity.origin, "nvd:nvd@nist.gov (Primary)");
    }
}
