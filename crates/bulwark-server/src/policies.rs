//! Stored policies with versions, their dry run over stored results, and the exception
//! workflow (request, then approval or denial by another user with the security role).
//! Approved, unexpired exceptions apply in every evaluation the server makes.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use bulwark_api::{
    EvaluateRequest, EvaluateResult, Exception, ExceptionDecision, ExceptionRequest, ExceptionScope, ExceptionState,
    Page, PolicyVersion, PolicyWrite, Problem, Role, Verdict, VerdictChange,
};
use bulwark_core::report::{PolicyVerdict, ScanReport};
use bulwark_core::time::Date;
use bulwark_store::policies::{ExceptionRecord, PolicyRecord};
use bulwark_store::requests::ScanRequestRecord;
use serde::Deserialize;

use crate::error::{Error, Result, conflict, forbidden, invalid, not_found};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query};
use crate::util::{check_len, check_name, cursor, decode_cursor, decode_id_cursor, page_size, parse_id, time};
use crate::{AppState, Caller, auth};

/// The owner prefix of exceptions from the workflow inside a verdict, so a verdict names
/// which approved request excused a finding.
const OWNER_PREFIX: &str = "server-exception:";

/// Largest policy text accepted.
const MAX_POLICY_BYTES: usize = 256 << 10;

/// A policy a scan is judged by.
#[derive(Debug, Clone)]
pub enum Resolved {
    Stored(PolicyRecord),
    Inline(String),
}

impl Resolved {
    fn yaml(&self) -> &str {
        match self {
            Resolved::Stored(p) => &p.yaml,
            Resolved::Inline(y) => y,
        }
    }
}

/// Today, or `BULWARK_TODAY` (YYYY-MM-DD) for reproducible runs, as the CLI does.
pub fn today() -> Date {
    std::env::var("BULWARK_TODAY").ok().and_then(|d| Date::parse(&d)).unwrap_or_else(Date::today)
}

/// Parses a policy text, or a 422 naming `field` with every problem's line and column.
fn parse(field: &str, yaml: &str) -> Result<bulwark_policy::Policy> {
    check_len(field, yaml, MAX_POLICY_BYTES)?;
    let config_checks: Vec<&str> = bulwark_detect::config::checks().iter().map(|c| c.id).collect();
    // The same known ids as `bulwark scan --policy`: a rule naming a config check parses
    // here exactly as it does in the CLI.
    bulwark_policy::parse_with(yaml, bulwark_policy::KnownIds { config_checks: &config_checks }).map_err(
        |diagnostics| {
            let mut p = Problem::new(422, "invalid-policy", "the policy has problems");
            for d in diagnostics {
                p = p.with_field(field, format!("{}:{}: {}", d.line, d.column, d.message));
            }
            Error::from(p)
        },
    )
}

/// The policy a request names: a stored one by name (its latest version) or inline text.
pub async fn resolve_policy(state: &AppState, name: Option<&str>, yaml: Option<&str>) -> Result<Option<Resolved>> {
    match (name, yaml) {
        (Some(_), Some(_)) => Err(invalid("/policy_yaml", "give `policy` or `policy_yaml`, not both")),
        (Some(n), None) => {
            check_name("/policy", n)?;
            let p = state.store().policy_version(n, None).await?;
            Ok(Some(Resolved::Stored(p.ok_or_else(|| invalid("/policy", "no stored policy of this name"))?)))
        }
        (None, Some(y)) => {
            parse("/policy_yaml", y)?;
            Ok(Some(Resolved::Inline(y.to_owned())))
        }
        (None, None) => Ok(None),
    }
}

/// The policy a recorded scan request names.
pub fn resolved_of(r: &ScanRequestRecord) -> Option<Resolved> {
    let yaml = r.policy_yaml.clone()?;
    Some(match (&r.policy, r.policy_version) {
        (Some(name), Some(v)) => Resolved::Stored(PolicyRecord {
            name: name.clone(),
            version: u32::try_from(v).unwrap_or(0),
            digest: String::new(),
            yaml,
            created_by: String::new(),
            created_at: 0,
            comment: None,
        }),
        _ => Resolved::Inline(yaml),
    })
}

/// Evaluates `policy` plus every approved, unexpired exception over `report`, as of today.
/// Returns the verdict and the ids of workflow exceptions that excused something.
pub async fn evaluate(
    state: &AppState,
    policy: &Resolved,
    report: &ScanReport,
) -> Result<(PolicyVerdict, Vec<String>)> {
    let mut parsed = parse("/policy_yaml", policy.yaml())?;
    let today = today();
    for e in state.store().live_exceptions(&today.to_string()).await? {
        let Some(expires) = Date::parse(&e.expires) else { continue };
        // A scope that no longer parses as a glob never widens into "everywhere": such an
        // exception is not applied at all.
        let glob = |p: &Option<String>| match p {
            None => Ok(None),
            Some(p) => bulwark_core::glob::Glob::new(p).map(Some),
        };
        let (Ok(scope_image), Ok(scope_path)) = (glob(&e.scope_image), glob(&e.scope_path)) else { continue };
        parsed.exceptions.push(bulwark_policy::Exception {
            id: e.finding.clone(),
            scope: bulwark_policy::Scope { image: scope_image, package: e.scope_package.clone(), path: scope_path },
            reason: e.reason.clone(),
            owner: format!(
                "{OWNER_PREFIX}{} requested by {}, approved by {}",
                e.id,
                e.requested_by,
                e.decided_by.as_deref().unwrap_or("?")
            ),
            expires,
            expires_at: (0, 0),
        });
    }
    let verdict = parsed.evaluate(report, today);
    let applied = verdict
        .exceptions
        .iter()
        .filter(|o| !o.matched.is_empty())
        .filter_map(|o| o.owner.strip_prefix(OWNER_PREFIX)?.split(' ').next().map(str::to_owned))
        .collect();
    Ok((verdict, applied))
}

/// The API summary of a verdict.
pub fn verdict_of(v: &PolicyVerdict, policy: &Resolved, applied: &[String]) -> Verdict {
    Verdict {
        passed: v.passed,
        policy: v.policy.clone(),
        policy_version: match policy {
            Resolved::Stored(p) => Some(p.version),
            Resolved::Inline(_) => None,
        },
        policy_digest: v.policy_digest.clone().unwrap_or_default(),
        failed_rules: v.failures().map(|r| r.id.clone()).collect(),
        exceptions: applied.to_vec(),
        evaluated_at: time(crate::util::now_ms()),
    }
}

fn version(p: PolicyRecord) -> PolicyVersion {
    PolicyVersion {
        name: p.name,
        version: p.version,
        digest: p.digest,
        yaml: p.yaml,
        created_by: p.created_by,
        created_at: time(p.created_at),
        comment: p.comment,
    }
}

/// The latest version of every policy.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", params(crate::admin::PageQuery),
    responses((status = 200, description = "Policies", body = Page<PolicyVersion>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<crate::admin::PageQuery>,
) -> Result<Json<Page<PolicyVersion>>> {
    let limit = page_size(q.limit)?;
    let after = decode_cursor("policies", q.cursor.as_deref())?;
    let mut rows = state.store().policies(after.as_deref(), limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("policies", &rows[rows.len() - 1].name)
    });
    Ok(Json(Page { items: rows.into_iter().map(version).collect(), next_cursor: next }))
}

/// `GET /policies/{name}` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version [default: the latest].
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1)]
    pub version: Option<u32>,
}

/// One version of a policy (the latest by default).
#[utoipa::path(get, path = "/api/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "Policy name"), VersionQuery),
    responses((status = 200, description = "The policy version", body = PolicyVersion)))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<Json<PolicyVersion>> {
    check_name("name", &name)?;
    if q.version == Some(0) {
        return Err(invalid("version", "versions count from 1"));
    }
    let p = state.store().policy_version(&name, q.version).await?.ok_or_else(|| not_found("policy", &name))?;
    Ok(Json(version(p)))
}

/// Every version of a policy, newest first.
#[utoipa::path(get, path = "/api/v1/policies/{name}/versions", tag = "policies",
    params(("name" = String, Path, description = "Policy name")),
    responses((status = 200, description = "Versions", body = Page<PolicyVersion>)))]
pub async fn versions(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Page<PolicyVersion>>> {
    check_name("name", &name)?;
    let rows = state.store().policy_versions(&name).await?;
    if rows.is_empty() {
        return Err(not_found("policy", &name));
    }
    Ok(Json(Page { items: rows.into_iter().map(version).collect(), next_cursor: None }))
}

/// Stores a new version of a policy (checked first; an identical text is not a new version).
#[utoipa::path(put, path = "/api/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "Policy name")), request_body = PolicyWrite,
    responses((status = 201, description = "The new version", body = PolicyVersion),
              (status = 200, description = "The text equals the latest version", body = PolicyVersion)))]
pub async fn put(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<PolicyWrite>,
) -> Result<(StatusCode, Json<PolicyVersion>)> {
    check_name("name", &name)?;
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    let parsed = parse("/yaml", &body.yaml)?;
    if let Some(c) = &body.comment {
        check_len("/comment", c, 4096)?;
    }
    if let Some(latest) = state.store().policy_version(&name, None).await?
        && latest.digest == parsed.digest
    {
        return Ok((StatusCode::OK, Json(version(latest))));
    }
    let p =
        state.store().add_policy_version(&name, &parsed.digest, &body.yaml, &me.user, body.comment.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(version(p))))
}

/// Dry run: evaluates a policy version (or a candidate text) over the latest stored result of
/// every image and lists those whose verdict would change. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/policies/{name}/evaluate", tag = "policies",
    params(("name" = String, Path, description = "Policy name")), request_body = EvaluateRequest,
    responses((status = 200, description = "What would change", body = EvaluateResult)))]
pub async fn dry_run(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<EvaluateRequest>,
) -> Result<Json<EvaluateResult>> {
    check_name("name", &name)?;
    let policy = match (&body.yaml, body.version) {
        (Some(_), Some(_)) => return Err(invalid("/version", "give `yaml` or `version`, not both")),
        (Some(y), None) => {
            parse("/yaml", y)?;
            Resolved::Inline(y.clone())
        }
        (None, v) => Resolved::Stored(
            state.store().policy_version(&name, v).await?.ok_or_else(|| not_found("policy version", &name))?,
        ),
    };
    let mut result =
        EvaluateResult { policy: name.clone(), evaluated: 0, would_pass: 0, would_fail: 0, changes: Vec::new() };
    let mut page = bulwark_store::images::PageRequest { limit: 500, cursor: None };
    loop {
        let images = state.store().list_images(&bulwark_store::ImageFilter::default(), &page).await?;
        for image in &images.items {
            let Some(scan_id) = image.latest_scan else { continue };
            let Some(stored) = state.store().scan_report(scan_id).await? else { continue };
            let Ok(report) = serde_json::from_slice::<ScanReport>(&stored.json) else { continue };
            let (v, _) = evaluate(&state, &policy, &report).await?;
            result.evaluated += 1;
            if v.passed {
                result.would_pass += 1;
            } else {
                result.would_fail += 1;
            }
            let before = image.verdict.map(|b| b == bulwark_store::Verdict::Pass);
            if before != Some(v.passed) {
                result.changes.push(VerdictChange {
                    digest: image.digest.clone(),
                    repository: image.refs.first().map(|r| r.repository.clone()).unwrap_or_default(),
                    before,
                    after: v.passed,
                    failed_rules: v.failures().map(|r| r.id.clone()).collect(),
                });
            }
        }
        match images.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(Json(result))
}

fn exception(e: ExceptionRecord, today: &str) -> Exception {
    let state = match e.state.as_str() {
        "approved" if e.expires.as_str() < today => ExceptionState::Expired,
        "approved" => ExceptionState::Approved,
        "denied" => ExceptionState::Denied,
        _ if e.expires.as_str() < today => ExceptionState::Expired,
        _ => ExceptionState::Pending,
    };
    Exception {
        id: e.id.to_string(),
        finding: e.finding,
        scope: ExceptionScope { image: e.scope_image, package: e.scope_package, path: e.scope_path },
        reason: e.reason,
        expires: e.expires,
        state,
        requested_by: e.requested_by,
        requested_at: time(e.requested_at),
        decided_by: e.decided_by,
        decided_at: e.decided_at.map(time),
        comment: e.comment,
    }
}

/// Requests an exception; it applies once another user with the security role approves it.
#[utoipa::path(post, path = "/api/v1/exceptions", tag = "exceptions", request_body = ExceptionRequest,
    responses((status = 201, description = "Requested (pending)", body = Exception)))]
pub async fn request(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ExceptionRequest>,
) -> Result<(StatusCode, Json<Exception>)> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    if body.finding.trim().is_empty() {
        return Err(invalid("/finding", "must not be empty"));
    }
    check_len("/finding", &body.finding, 256)?;
    if body.reason.trim().is_empty() {
        return Err(invalid("/reason", "say why the finding is acceptable"));
    }
    check_len("/reason", &body.reason, 4096)?;
    for (field, v) in [
        ("/scope/image", &body.scope.image),
        ("/scope/package", &body.scope.package),
        ("/scope/path", &body.scope.path),
    ] {
        if let Some(v) = v {
            check_len(field, v, 1024)?;
        }
    }
    let expires = Date::parse(&body.expires).ok_or_else(|| invalid("/expires", "expected a YYYY-MM-DD date"))?;
    let today = today();
    if expires < today {
        return Err(invalid("/expires", "the day has passed"));
    }
    if expires.days_since(today) > 366 {
        return Err(invalid("/expires", "at most a year ahead: exceptions are reviewed, not permanent"));
    }
    let record = state
        .store()
        .request_exception(&ExceptionRecord {
            id: 0,
            finding: body.finding.trim().to_owned(),
            scope_image: body.scope.image.clone(),
            scope_package: body.scope.package.clone(),
            scope_path: body.scope.path.clone(),
            reason: body.reason.clone(),
            expires: expires.to_string(),
            state: "pending".to_owned(),
            requested_by: me.user.clone(),
            requested_at: 0,
            decided_by: None,
            decided_at: None,
            comment: None,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(exception(record, &today.to_string()))))
}

/// `GET /exceptions` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    /// Only exceptions in this state: pending, approved, denied.
    pub state: Option<String>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Exceptions, newest first.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionQuery),
    responses((status = 200, description = "Exceptions", body = Page<Exception>)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExceptionQuery>,
) -> Result<Json<Page<Exception>>> {
    let limit = page_size(q.limit)?;
    if let Some(s) = &q.state
        && !matches!(s.as_str(), "pending" | "approved" | "denied")
    {
        return Err(invalid("state", "one of pending, approved, denied"));
    }
    let before = decode_id_cursor("exceptions", q.cursor.as_deref())?;
    let mut rows = state.store().exceptions(q.state.as_deref(), before, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("exceptions", &rows[rows.len() - 1].id.to_string())
    });
    let today = today().to_string();
    Ok(Json(Page { items: rows.into_iter().map(|e| exception(e, &today)).collect(), next_cursor: next }))
}

/// One exception.
#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "exceptions",
    params(("id" = String, Path, description = "Exception id")),
    responses((status = 200, description = "The exception", body = Exception)))]
pub async fn get_exception(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<Exception>> {
    let n = parse_id("id", &id)?;
    let e = state.store().exception(n).await?.ok_or_else(|| not_found("exception", &id))?;
    Ok(Json(exception(e, &today().to_string())))
}

/// Approves a pending exception (security role; not the requester).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/approve", tag = "exceptions",
    params(("id" = String, Path, description = "Exception id")), request_body = ExceptionDecision,
    responses((status = 200, description = "Approved", body = Exception),
              (status = 409, description = "Not pending", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ExceptionDecision>,
) -> Result<Json<Exception>> {
    decide(state, caller, id, body, true).await
}

/// Denies a pending exception (security role; not the requester).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/deny", tag = "exceptions",
    params(("id" = String, Path, description = "Exception id")), request_body = ExceptionDecision,
    responses((status = 200, description = "Denied", body = Exception),
              (status = 409, description = "Not pending", body = Problem, content_type = "application/problem+json")))]
pub async fn deny(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ExceptionDecision>,
) -> Result<Json<Exception>> {
    decide(state, caller, id, body, false).await
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    body: ExceptionDecision,
    approve: bool,
) -> Result<Json<Exception>> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    let n = parse_id("id", &id)?;
    if let Some(c) = &body.comment {
        check_len("/comment", c, 4096)?;
    }
    let e = state.store().exception(n).await?.ok_or_else(|| not_found("exception", &id))?;
    if e.requested_by == me.user {
        return Err(forbidden("an exception is decided by another user than the one who asked for it"));
    }
    debug_assert!(matches!(me.role, Role::Admin | Role::Security));
    let today = today().to_string();
    if e.expires.as_str() < today.as_str() {
        return Err(conflict("the exception has expired"));
    }
    let decided = state.store().decide_exception(n, approve, &me.user, body.comment.as_deref()).await?;
    let decided = decided.ok_or_else(|| conflict(format!("the exception is {}, not pending", e.state)))?;
    Ok(Json(exception(decided, &today)))
}
