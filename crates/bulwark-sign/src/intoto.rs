//! in-toto Statements and the predicates Bulwark writes: its own verdict predicate and
//! cosign's vulnerability predicate. `docs/attestations.md` documents both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, malformed};

/// in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// in-toto Statement v0.1, which older cosign releases write and we still read.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// Bulwark's verdict predicate.
pub const VERDICT_PREDICATE_TYPE: &str = "https://bulwark.dev/attestations/verdict/v1";
/// cosign's vulnerability scan predicate.
pub const VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// The same, as cosign wrote it before it gained the scheme.
pub const VULN_PREDICATE_TYPE_LEGACY: &str = "cosign.sigstore.dev/attestation/vuln/v1";
/// CycloneDX SBOM predicate (cosign `--type cyclonedx`).
pub const CYCLONEDX_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";

/// What a statement is about: an artifact name and its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// e.g. the repository (`registry.example/team/app`).
    pub name: String,
    /// Algorithm to hex digest, e.g. `sha256` → `e3b0…`.
    pub digest: BTreeMap<String, String>,
}

/// An in-toto statement with its predicate as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_V1`] (or v0.1 when read).
    #[serde(rename = "_type")]
    pub type_: String,
    /// The artifacts.
    pub subject: Vec<Subject>,
    /// What the predicate means.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement about one image (`name` without tag, `digest` as `sha256:<hex>`).
    pub fn for_image(name: &str, digest: &str, predicate_type: &str, predicate: serde_json::Value) -> Result<Self> {
        let (alg, hex) = crate::cosign::split_digest(digest)?;
        Ok(Self {
            type_: STATEMENT_V1.into(),
            subject: vec![Subject {
                name: name.to_owned(),
                digest: BTreeMap::from([(alg.to_owned(), hex.to_owned())]),
            }],
            predicate_type: predicate_type.to_owned(),
            predicate,
        })
    }

    /// Parses a statement (v1 or v0.1).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let st: Self = serde_json::from_slice(json).map_err(|e| malformed("in-toto statement", e))?;
        if st.type_ != STATEMENT_V1 && st.type_ != STATEMENT_V01 {
            return Err(malformed("in-toto statement", format!("_type {:?}", st.type_)));
        }
        Ok(st)
    }

    /// Whether a subject has this digest (`sha256:<hex>`).
    pub fn covers(&self, digest: &str) -> bool {
        let Ok((alg, hex)) = crate::cosign::split_digest(digest) else {
            return false;
        };
        self.subject.iter().any(|s| s.digest.get(alg).is_some_and(|h| h.eq_ignore_ascii_case(hex)))
    }
}

/// Bulwark's verdict predicate (`https://bulwark.dev/attestations/verdict/v1`): what was
/// decided about an image, under which policy and advisory data, by which Bulwark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerdictPredicate {
    /// The image as it was named when scanned, and its manifest digest.
    pub image: ImageInfo,
    /// The policy the verdict was made under.
    pub policy: PolicyInfo,
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// How many rule results of each kind.
    pub summary: VerdictSummary,
    /// Findings counted by severity (`critical`, `high`, `medium`, `low`, `unknown`).
    #[serde(default)]
    pub vulnerabilities: BTreeMap<String, u64>,
    /// The advisory database the scan used.
    pub advisory_db: AdvisoryDbInfo,
    /// The scanner.
    pub scanner: ScannerInfo,
    /// When the scan finished, RFC 3339 UTC.
    pub scanned_at: String,
}

/// An image in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageInfo {
    /// The reference the user gave.
    pub reference: String,
    /// The manifest digest, `sha256:<hex>`.
    pub digest: String,
}

/// A policy in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyInfo {
    /// The policy's name.
    pub name: String,
    /// `sha256:<hex>` of the policy file's bytes: two verdicts under the same digest were
    /// made under the same rules.
    pub digest: String,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The image meets the policy.
    Pass,
    /// It does not.
    Fail,
}

/// Counts of rule results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerdictSummary {
    /// Violations of `deny` rules (any makes the verdict `fail`).
    pub denied: u64,
    /// Violations of `warn` rules.
    pub warned: u64,
    /// Violations waived by an exception.
    pub excepted: u64,
}

/// The advisory database in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvisoryDbInfo {
    /// When it was built, RFC 3339 UTC.
    pub built_at: String,
    /// Its content digest, `sha256:<hex>`.
    pub digest: String,
}

/// The scanner in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScannerInfo {
    /// `bulwark`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// cosign's vuln predicate v1 (`cosign attest --type vuln`), as policy-controller and
/// Kyverno read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnPredicate {
    /// Who ran the scan.
    pub invocation: VulnInvocation,
    /// The scanner and its result document.
    pub scanner: VulnScanner,
    /// Scan times.
    pub metadata: VulnMetadata,
}

/// `invocation` of a vuln predicate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VulnInvocation {
    /// Free-form parameters.
    #[serde(default)]
    pub parameters: serde_json::Value,
    /// Where the scan ran (e.g. a CI run URL).
    #[serde(default)]
    pub uri: String,
    /// The CI event id.
    #[serde(default)]
    pub event_id: String,
    /// The builder.
    #[serde(default, rename = "builder.id")]
    pub builder_id: String,
}

/// `scanner` of a vuln predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnScanner {
    /// The scanner's home page.
    pub uri: String,
    /// Its version.
    pub version: String,
    /// Its database.
    #[serde(default)]
    pub db: VulnDb,
    /// The report (for Bulwark: its JSON report).
    pub result: serde_json::Value,
}

/// `scanner.db` of a vuln predicate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VulnDb {
    /// Where the database came from.
    #[serde(default)]
    pub uri: String,
    /// Its version (Bulwark: the content digest).
    #[serde(default)]
    pub version: String,
}

/// `metadata` of a vuln predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VulnMetadata {
    /// RFC 3339.
    pub scan_started_on: String,
    /// RFC 3339.
    pub scan_finished_on: String,
}
