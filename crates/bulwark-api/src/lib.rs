//! The REST types of the Bulwark server (`/api/v1`), shared by the server, the CLI client,
//! admission and the sensor.
//!
//! Request bodies reject unknown fields (`deny_unknown_fields`): a misspelt option in a CI
//! pipeline must be an error that names it, never silently ignored. Times are RFC 3339
//! strings in UTC. Lists are [`Page`]s with an opaque cursor.
//!
//! ```
//! let body = r#"{"reference": "registry.example/app:1.2", "scanners": ["vuln"]}"#;
//! let req: bulwark_api::ScanRequest = serde_json::from_str(body).unwrap();
//! assert_eq!(req.scanners, Some(vec![bulwark_api::ScannerName::Vuln]));
//! assert!(serde_json::from_str::<bulwark_api::ScanRequest>(r#"{"referense": "x"}"#).is_err());
//! ```

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod problem;

pub use problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem};

/// The path prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";

/// The largest `limit` a list accepts; larger values are a 400 that says so.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The `limit` a list uses when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// One page of a list. `next_cursor` is absent on the last page; pass it back as `cursor`
/// for the next one. Cursors are opaque and stable under inserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The roles a user has; each route names the permission it needs, and each role grants a
/// fixed set of permissions (see [`Role::grants`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users and tokens of others.
    Admin,
    /// Policies and the approval of exceptions, plus what `ci` may do.
    Security,
    /// Submit scans and report uploads, request exceptions, read results.
    Ci,
    /// Read results.
    Viewer,
}

/// What a route needs. Declared once per route; the authorization test walks every route of
/// the OpenAPI document against this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// No token needed (health, metrics, the API document).
    Public,
    /// Read images, scans, reports, inventories, policies, exceptions.
    Read,
    /// Submit scans, upload reports, request exceptions.
    Submit,
    /// Create policy versions and dry-run them.
    ManagePolicies,
    /// Approve or deny exceptions.
    ApproveExceptions,
    /// Read the audit log.
    ReadAudit,
    /// Registry credentials and signing keys held by the server (admin and security).
    ManageSecrets,
    /// Users, everyone's tokens, registry credentials.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Security, Role::Ci, Role::Viewer];

    /// Whether this role may do what `permission` guards.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::Security => !matches!(permission, P::Admin),
            Role::Ci => matches!(permission, P::Public | P::Read | P::Submit),
            Role::Viewer => matches!(permission, P::Public | P::Read),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Security => "security",
            Role::Ci => "ci",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A scanner a scan may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScannerName {
    Vuln,
    Malware,
    Secret,
    Config,
}

impl ScannerName {
    pub const ALL: [ScannerName; 4] =
        [ScannerName::Vuln, ScannerName::Malware, ScannerName::Secret, ScannerName::Config];

    pub fn as_str(self) -> &'static str {
        match self {
            ScannerName::Vuln => "vuln",
            ScannerName::Malware => "malware",
            ScannerName::Secret => "secret",
            ScannerName::Config => "config",
        }
    }
}

/// A finding severity, as `bulwark scan --severity` and `--fail-on` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Critical,
    High,
    Medium,
    Low,
    Unknown,
}

impl SeverityName {
    pub const ALL: [SeverityName; 5] =
        [SeverityName::Critical, SeverityName::High, SeverityName::Medium, SeverityName::Low, SeverityName::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityName::Critical => "critical",
            SeverityName::High => "high",
            SeverityName::Medium => "medium",
            SeverityName::Low => "low",
            SeverityName::Unknown => "unknown",
        }
    }
}

/// How urgent a job is: CI requests go ahead of background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    Ci,
    Background,
}

/// `POST /scans`: what to scan and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// Image reference in Bulwark's syntax, e.g. `registry:localhost:5000/app:1.2`,
    /// `registry.example/app@sha256:…`. Sources that read the server's own disk (`oci:`,
    /// `dir:`, `docker:` …) are refused unless the server allows local sources.
    pub reference: String,
    /// `os/arch[/variant]` to select from a multi-platform image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Scanners to run [default: all].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanners: Option<Vec<ScannerName>>,
    /// A stored policy by name (its latest version is used and named in the verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// An inline policy (YAML), instead of `policy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_yaml: Option<String>,
    /// A stored registry credential by name (`POST /credentials`): the worker that runs
    /// the scan opens it for this job only, and only for the credential's own registry.
    /// Also accepted as `registry_credential`.
    #[serde(default, alias = "registry_credential", skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Display filter, as `bulwark scan --severity`: the report in every format keeps only
    /// findings of these severities (the verdict and `fail_on` still see every finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Vec<SeverityName>>,
    /// Display filter, as `bulwark scan --ignore-unfixed`: leave out vulnerabilities without
    /// a fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_unfixed: Option<bool>,
    /// As `bulwark scan --fail-on`: the scan's `fail_on` names why it fails when a finding
    /// of this severity or worse (or of unknown severity) was found, or a check could not
    /// complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<SeverityName>,
}

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScanState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl ScanState {
    /// Whether the scan will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, ScanState::Succeeded | ScanState::Failed | ScanState::Cancelled)
    }
}

/// A scan job and, once done, its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Scan {
    pub id: String,
    pub state: ScanState,
    pub reference: String,
    /// The manifest digest, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub scanners: Vec<ScannerName>,
    pub priority: Priority,
    /// What the worker last reported (per-layer progress), while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub progress: Option<serde_json::Value>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Attempts so far (transient failures are retried with backoff).
    pub attempts: u32,
    /// The job this request runs as; requests for the same image and options share one.
    pub job: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ScanError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// With the request's `fail_on`, once the scan succeeded: why it fails the gate, as
    /// `bulwark scan --fail-on` prints it (absent when it passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<String>,
}

/// Why a scan failed, and whether it was retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScanError {
    /// `permanent` (a bad reference, an auth failure, a limit), `transient` (retries
    /// exhausted), `lease-expired` or `cancelled`.
    pub kind: String,
    pub message: String,
}

/// A policy's verdict on an image, naming exactly which policy version produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Verdict {
    pub passed: bool,
    pub policy: String,
    /// The stored policy version, absent for inline policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<u32>,
    /// `sha256:` of the policy text.
    pub policy_digest: String,
    /// Ids of the deny rules that failed.
    pub failed_rules: Vec<String>,
    /// Exception ids (server workflow) that were applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    pub evaluated_at: String,
}

/// Report formats `GET /scans/{id}/report` serves: the bytes `bulwark scan --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Sarif,
    Junit,
    Cyclonedx,
    Spdx,
    Html,
    Markdown,
}

impl ReportFormat {
    /// The `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Json | ReportFormat::Cyclonedx | ReportFormat::Spdx => "application/json",
            ReportFormat::Sarif => "application/sarif+json",
            ReportFormat::Junit => "application/xml",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
        }
    }
}

/// `POST /reports`: a report `bulwark scan --format json` wrote on a machine the server
/// cannot reach. The server stores it as the image's latest result and evaluates the policy
/// itself (a verdict inside the upload is not trusted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportUpload {
    /// The JSON report, as the CLI wrote it.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The reference the image is published as, e.g. `registry.example/app:1.2`, when the
    /// report names a build-machine path (`oci:…`); used for repository and tag filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A stored policy to evaluate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// A name an image was seen under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// One image in `GET /images`: what its latest scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageSummary {
    pub digest: String,
    pub refs: Vec<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The distribution, e.g. `debian 12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// `pass` or `fail` of the latest scan's policy, absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// What names the policy's exact text (its `sha256:` digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// The worst vulnerability severity, absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_severity: Option<String>,
    /// Whether a vulnerability is in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    /// How many packages and vulnerabilities (named apart from `ImageDetail`'s lists).
    pub package_count: u64,
    pub vulnerability_count: u64,
    pub first_seen: String,
    pub last_scanned: String,
}

/// A layer with the history entry that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Layer {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub diff_id: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// A package of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Package {
    pub purl: String,
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// Index of the layer that introduced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Index of the layer that removed it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<u32>,
    /// The file it was found in.
    pub location: String,
}

/// A vulnerability of an image's package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub vulnerability: String,
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// `fixed`, `not-fixed` or `wont-fix`.
    pub fix_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub severity: String,
    pub kev: bool,
}

/// A past scan of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScanRef {
    /// The stored result's id (not a `POST /scans` id).
    pub result: String,
    /// `worker` or `upload`.
    pub origin: String,
    pub reference: String,
    pub created_at: String,
    pub bulwark_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}

/// `GET /images/{digest}`: tags, layers with history, packages, findings, the latest
/// verdict and the scan history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageDetail {
    #[serde(flatten)]
    pub summary: ImageSummary,
    pub layers: Vec<Layer>,
    pub packages: Vec<Package>,
    pub findings: Vec<Finding>,
    pub scans: Vec<ScanRef>,
}

/// One answer to "which of our images have this vulnerability": per image and package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AffectedImage {
    pub digest: String,
    pub refs: Vec<ImageRef>,
    /// The id the finding is recorded under (the query may name an alias).
    pub vulnerability: String,
    pub purl: String,
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    pub fix_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub fix_available: bool,
    pub severity: String,
    pub kev: bool,
}

/// One answer to "where is this package".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageLocation {
    pub digest: String,
    pub refs: Vec<ImageRef>,
    #[serde(flatten)]
    pub package: Package,
}

/// The answer to `POST /reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UploadResult {
    pub digest: String,
    /// The stored result's id.
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// `PUT /policies/{name}`: a new version of a stored policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyWrite {
    /// The policy YAML (see docs/policy.md); checked before it is stored.
    pub yaml: String,
    /// Why this version (kept with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersion {
    pub name: String,
    pub version: u32,
    pub digest: String,
    pub yaml: String,
    pub created_by: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /policies/{name}/evaluate`: dry-run a policy version (or a candidate text) over the
/// stored results, without storing any verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// A candidate text to try instead of the stored latest version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaml: Option<String>,
    /// A stored version to try instead of the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// The dry run's answer: how many images were evaluated and which would change verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluateResult {
    pub policy: String,
    pub evaluated: u64,
    pub would_pass: u64,
    pub would_fail: u64,
    pub changes: Vec<VerdictChange>,
}

/// An image whose verdict the dry-run policy would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerdictChange {
    pub digest: String,
    pub repository: String,
    /// The latest stored verdict (absent: never evaluated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<bool>,
    pub after: bool,
    pub failed_rules: Vec<String>,
}

/// Narrows an exception; every field given must match (as in a policy's `exceptions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionScope {
    /// Glob over the image reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Package name, `name@version` or purl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Glob over the finding's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `POST /exceptions`: ask for a finding to be excused until a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionRequest {
    /// Advisory id or alias, secret rule or fingerprint, malware rule, config check id, or
    /// a policy rule id.
    pub finding: String,
    #[serde(default)]
    pub scope: ExceptionScope,
    pub reason: String,
    /// The last day it applies, `YYYY-MM-DD`.
    pub expires: String,
}

/// Where an exception is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionState {
    Pending,
    Approved,
    Denied,
    Expired,
}

/// A requested exception and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Exception {
    pub id: String,
    pub finding: String,
    pub scope: ExceptionScope,
    pub reason: String,
    pub expires: String,
    pub state: ExceptionState,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /exceptions/{id}/approve` and `/deny`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionDecision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// Lower-case letters, digits, `.`, `_`, `-`; 1 to 64 characters.
    pub name: String,
    pub role: Role,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// `POST /tokens`: a token for yourself, or (admin) for `user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// What the token is for, e.g. `github-actions`.
    pub name: String,
    /// Days until it expires (1 to 366).
    pub expires_in_days: u32,
    /// The user it acts as [default: the caller]; only admins may name another user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A token's metadata; the secret is shown once, in [`TokenCreated`], and stored hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub user: String,
    pub created_at: String,
    pub expires_at: String,
}

/// The answer to `POST /tokens`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// One audit-log entry: who did what, when, from where, with what outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: String,
    /// The user, or `anonymous` for a request without a valid token.
    pub actor: String,
    /// `METHOD /route/template`, e.g. `POST /api/v1/policies/{name}`.
    pub action: String,
    /// The path as requested.
    pub target: String,
    pub source: String,
    pub status: u16,
    /// `success`, `denied` or `error`.
    pub outcome: String,
}

/// `/readyz`: whether the server can serve, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub store: String,
    pub schema_version: i64,
}

/// `POST /credentials`: a registry credential for scans to name. The password is sealed
/// with the server's key-encryption key and never returned.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialCreate {
    /// 1-64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// The registry it is for, `host[:port]` (e.g. `registry.example:5000`); it is sent to
    /// no other registry.
    pub registry: String,
    pub username: String,
    /// The password or token. Write-only.
    #[schema(write_only)]
    pub password: String,
}

impl std::fmt::Debug for CredentialCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCreate")
            .field("name", &self.name)
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A stored registry credential, without its password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Credential {
    pub name: String,
    pub registry: String,
    pub username: String,
    pub created_by: String,
    pub created_at: String,
    /// Which key-encryption key sealed it (a fingerprint, never the key).
    pub kek_id: String,
}

/// `POST /signing-keys`: a signing key the server holds, so that CI never sees it. Without
/// `private_key` the server generates an ECDSA P-256 key; with it, the PEM (cosign's
/// encrypted format with `password`, PKCS#8 or SEC1) is imported. Either way the private
/// key is sealed with the server's key-encryption key and never returned.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyCreate {
    /// 1-64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// A private key PEM to import. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(write_only)]
    pub private_key: Option<String>,
    /// The password of an encrypted `private_key`. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(write_only)]
    pub password: Option<String>,
}

impl std::fmt::Debug for SigningKeyCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCreate")
            .field("name", &self.name)
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A signing key the server holds: its public half only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyInfo {
    pub name: String,
    /// The public key, PEM (`PUBLIC KEY`), for `bulwark verify --key`.
    pub public_key: String,
    pub created_by: String,
    pub created_at: String,
    /// Which key-encryption key sealed the private key (a fingerprint, never the key).
    pub kek_id: String,
}

/// `POST /promotions`: the Image Assertion run by a worker with a signing key the server
/// holds. SRC is scanned by digest and judged by the stored policy; only when it passes is
/// it copied to DST (every platform and blob), signed and attested there, and only then is
/// DST's tag set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionRequest {
    /// SRC, `registry/repository:tag` (or `@sha256:…`).
    pub source: String,
    /// DST, `registry/repository:tag`.
    pub destination: String,
    /// A stored policy by name (its latest version).
    pub policy: String,
    /// A signing key the server holds (`POST /signing-keys`).
    pub signing_key: String,
    /// Let DST's tag move from another digest [default: false].
    #[serde(default)]
    pub allow_retag: bool,
    /// A stored registry credential for SRC's registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_credential: Option<String>,
    /// A stored registry credential for DST's registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_credential: Option<String>,
    /// Scanners to run [default: all].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanners: Option<Vec<ScannerName>>,
}

/// Where a promotion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromotionState {
    Queued,
    Running,
    /// Copied, signed, attested and tagged.
    Promoted,
    /// The policy failed: DST was not touched.
    Denied,
    Failed,
    Cancelled,
}

impl PromotionState {
    /// Whether the promotion will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, PromotionState::Queued | PromotionState::Running)
    }
}

/// A promotion and, once done, its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Promotion {
    pub id: String,
    pub state: PromotionState,
    pub source: String,
    pub destination: String,
    pub policy: String,
    pub policy_version: u32,
    pub signing_key: String,
    pub allow_retag: bool,
    pub requested_by: String,
    pub created_at: String,
    /// SRC's manifest digest, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// What the worker did (blobs copied or mounted, signed, attestations, tag), or the
    /// policy's violations when denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ScanError>,
}
