//! Scans: submit (queued in the store), state with long-poll, server-sent progress, cancel,
//! the report in any format, and report uploads from build machines.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulwark_api::{
    Priority, Problem, ReportFormat, ReportUpload, Scan, ScanError, ScanRequest, ScanState, ScannerName, SeverityName,
    UploadResult,
};
use bulwark_core::report::ScanReport;
use bulwark_store::jobs::{Job, JobState, NewJob};
use bulwark_store::requests::{ImageVerdict, ScanRequestRecord};
use bulwark_store::worker::ScanJobOptions;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, conflict, invalid, not_found};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query};
use crate::policies::{Resolved, evaluate, resolve_policy, verdict_of};
use crate::util::{check_name, parse_id, time};
use crate::{AppState, Caller, auth};

/// How often a waiting request or an event stream looks at the job again.
const POLL: Duration = Duration::from_millis(250);

/// Queues a scan. Answers 202 with `Location: /api/v1/scans/{id}`.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = ScanRequest,
    responses((status = 202, description = "Queued", body = Scan,
               headers(("Location" = String, description = "The scan's URL")))))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<ScanRequest>,
) -> Result<Response> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    check_reference(&req.reference, state.config().allow_local_sources)?;
    if let Some(p) = &req.platform {
        p.parse::<bulwark_core::Platform>().map_err(|e| invalid("/platform", e.to_string()))?;
    }
    let scanners = req.scanners.clone().unwrap_or_else(|| ScannerName::ALL.to_vec());
    if scanners.is_empty() {
        return Err(invalid("/scanners", "name at least one scanner (or leave it out for all)"));
    }
    let policy = resolve_policy(&state, req.policy.as_deref(), req.policy_yaml.as_deref()).await?;
    if let Some(c) = &req.credential {
        check_name("/credential", c)?;
        let stored = state.store().secret_info(bulwark_store::secrets::REGISTRY_CREDENTIAL, c).await?;
        if stored.is_none() {
            return Err(invalid("/credential", "no stored registry credential of this name"));
        }
    }
    let settings = RequestSettings {
        severity: req.severity.clone().unwrap_or_default(),
        ignore_unfixed: req.ignore_unfixed.unwrap_or(false),
        fail_on: req.fail_on,
    };
    let mut names: Vec<&str> = scanners.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    // The job carries the credential's name only; the worker opens it when it runs the job.
    let options = ScanJobOptions {
        platform: req.platform.clone(),
        scanners: names.iter().map(|s| s.to_string()).collect(),
        credential: req.credential.clone(),
    };
    let priority = req.priority.unwrap_or_default();
    let mut job = NewJob::scan(
        &req.reference,
        serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?,
        match priority {
            Priority::Ci => bulwark_store::jobs::Priority::CI,
            Priority::Background => bulwark_store::jobs::Priority::BACKGROUND,
        },
    );
    job.submitted_by = Some(me.user.clone());
    let enqueued = state.store().enqueue(&job).await?;
    let (policy_name, policy_version, policy_yaml) = match policy {
        Some(Resolved::Stored(p)) => (Some(p.name), Some(i64::from(p.version)), Some(p.yaml)),
        Some(Resolved::Inline(yaml)) => (None, None, Some(yaml)),
        None => (None, None, None),
    };
    let record = state
        .store()
        .add_scan_request(&ScanRequestRecord {
            id: 0,
            job_id: enqueued.id,
            reference: req.reference.clone(),
            platform: req.platform.clone(),
            scanners: names.join(","),
            priority: format!("{priority:?}").to_lowercase(),
            policy: policy_name,
            policy_version,
            policy_yaml,
            credential: req.credential.clone(),
            requested_by: me.user.clone(),
            created_at: 0,
            verdict: None,
            evaluated_at: None,
            settings: settings.to_text()?,
        })
        .await?;
    let scan = view(&state, &record).await?;
    let mut res = (StatusCode::ACCEPTED, Json(scan)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/scans/{}", record.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Refuses references that are not references, and sources on the server's own disk or
/// engine unless the operator allowed them.
fn check_reference(reference: &str, allow_local: bool) -> Result<()> {
    if reference.is_empty() || reference.len() > 1024 || reference.chars().any(char::is_control) {
        return Err(invalid("/reference", "expected an image reference of 1 to 1024 printable characters"));
    }
    let parsed = reference.parse::<bulwark_core::ScanInput>().map_err(|e| invalid("/reference", e.to_string()))?;
    match parsed.image().map(bulwark_core::Reference::target) {
        Some(bulwark_core::Target::Registry { .. }) => Ok(()),
        _ if allow_local => Ok(()),
        _ => Err(invalid(
            "/reference",
            "only registry references are accepted (local sources read the server's own files; the operator can allow them with allow_local_sources)",
        )),
    }
}

/// `GET /scans/{id}` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds to wait for the scan to finish before answering (long poll; at most the
    /// server's max_wait_seconds).
    #[serde(default, deserialize_with = "query::opt_u64")]
    #[param(value_type = Option<u64>, maximum = 3600)]
    pub wait: Option<u64>,
}

/// A scan's state, progress, timings, error and verdict.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans",
    params(("id" = String, Path, description = "Scan id"), WaitQuery),
    responses((status = 200, description = "The scan", body = Scan)))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<Scan>> {
    let record = request(&state, &id).await?;
    let wait = q.wait.unwrap_or(0);
    if wait > state.config().max_wait_seconds {
        return Err(invalid("wait", format!("at most {} seconds", state.config().max_wait_seconds)));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let scan = view(&state, &record).await?;
        if scan.state.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(scan));
        }
        // An in-process worker finishing a job ends the wait at once; others are seen at POLL.
        state.store().job_finished_or(POLL).await;
    }
}

/// Server-sent events: a `scan` event with the scan each time it changes, until it is done.
#[utoipa::path(get, path = "/api/v1/scans/{id}/events", tag = "scans",
    params(("id" = String, Path, description = "Scan id")),
    responses((status = 200, description = "text/event-stream of `scan` events (data: Scan JSON)", body = String, content_type = "text/event-stream")))]
pub async fn events(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Response> {
    let record = request(&state, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut last = String::new();
        // A stream outlives no scan by more than a day: a stuck client does not hold a task forever.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(86_400);
        loop {
            let scan = match view(&state, &record).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Ok(format!("event: error\ndata: {}\n\n", one_line(&e.to_string())))).await;
                    return;
                }
            };
            let data = serde_json::to_string(&scan).unwrap_or_default();
            if data != last {
                if tx.send(Ok(format!("event: scan\ndata: {data}\n\n"))).await.is_err() {
                    return;
                }
                last = data;
            }
            if scan.state.is_final() || tokio::time::Instant::now() >= deadline {
                let _ = tx.send(Ok("event: done\ndata: {}\n\n".to_owned())).await;
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let mut res = Body::from_stream(stream).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Cancels the scan's job (shared with any request attached to it).
#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans",
    params(("id" = String, Path, description = "Scan id")),
    responses((status = 200, description = "The scan after cancelling", body = Scan),
              (status = 409, description = "Already finished", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Scan>> {
    let record = request(&state, &id).await?;
    let who = caller.actor();
    let job = job_of(&state, &record).await?;
    if job.state.is_final() {
        return Err(conflict(format!("the scan is already {}", job.state.as_str())));
    }
    state.store().cancel(record.job_id, &format!("cancelled by {who} through the API")).await?;
    Ok(Json(view(&state, &record).await?))
}

/// `GET /scans/{id}/report` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Output format [default: json].
    pub format: Option<ReportFormat>,
}

/// The scan's report, byte for byte what `bulwark scan --format FORMAT` writes for the same
/// image, database, options and policy.
#[utoipa::path(get, path = "/api/v1/scans/{id}/report", tag = "scans",
    params(("id" = String, Path, description = "Scan id"), ReportQuery),
    responses((status = 200, description = "The report in the format asked for", body = String),
              (status = 409, description = "The scan has no result (yet)", body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response> {
    let record = request(&state, &id).await?;
    let job = job_of(&state, &record).await?;
    let Some(scan_id) = job.scan_id.filter(|_| job.state == JobState::Succeeded) else {
        return Err(conflict(format!("the scan is {}: no report yet", job.state.as_str())));
    };
    let mut report = load_report(&state, scan_id).await?;
    if let Some(v) = ensure_verdict(&state, &record, scan_id, &report).await? {
        report.policy = Some(v);
    }
    // The request's display filters, applied after the verdict, as `bulwark scan` does.
    RequestSettings::of(&record)?.finish(&mut report);
    let format = q.format.unwrap_or_default();
    let mut res = (StatusCode::OK, crate::render::render(&report, format)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    Ok(res)
}

/// Stores a report made by the CLI elsewhere and evaluates the policy here (a verdict in the
/// upload is replaced, never trusted).
#[utoipa::path(post, path = "/api/v1/reports", tag = "scans", request_body = ReportUpload,
    responses((status = 201, description = "Stored", body = UploadResult)))]
pub async fn upload(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ReportUpload>,
) -> Result<(StatusCode, Json<UploadResult>)> {
    let mut report: ScanReport = serde_path_to_error::deserialize(&body.report).map_err(|e| {
        let field = format!("/report/{}", e.path()).replace('.', "/");
        Error::from(
            Problem::new(422, "invalid-field", "the report is not a Bulwark JSON report")
                .with_field(field, e.into_inner().to_string()),
        )
    })?;
    if report.image.manifest_digest.is_none() && report.image.config_digest.is_none() {
        return Err(invalid(
            "/report/image",
            "the report names no image digest (an SBOM cannot be stored as an image)",
        ));
    }
    if let Some(r) = &body.reference {
        check_reference(r, true).map_err(|_| invalid("/reference", "not an image reference"))?;
        report.image.reference = r.clone();
    }
    report.policy = None;
    // The report comes from a client the server does not control (an older Bulwark, or a
    // hostile one): it goes through this server's own redaction before anything reads or
    // stores it, so no whole secret it carries reaches the store or a policy message.
    redactor()?.redact_report(&mut report);
    let policy = resolve_policy(&state, body.policy.as_deref(), None).await?;
    let mut verdict = None;
    if let Some(p) = &policy {
        let (v, applied) = evaluate(&state, p, &report).await?;
        verdict = Some(verdict_of(&v, p, &applied));
        report.policy = Some(v);
    }
    let mut json = serde_json::to_vec_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?;
    json.push(b'\n');
    let recorded = state.store().record_scan(&json, bulwark_store::ScanOrigin::Upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadResult { digest: recorded.digest, result: recorded.scan_id.to_string(), verdict }),
    ))
}

async fn request(state: &AppState, id: &str) -> Result<ScanRequestRecord> {
    let n = parse_id("id", id)?;
    state.store().scan_request(n).await?.ok_or_else(|| not_found("scan", id))
}

async fn job_of(state: &AppState, record: &ScanRequestRecord) -> Result<Job> {
    state.store().job(record.job_id).await?.ok_or_else(|| Error::Internal(format!("job {} vanished", record.job_id)))
}

async fn load_report(state: &AppState, scan_id: i64) -> Result<ScanReport> {
    let stored = state.store().scan_report(scan_id).await?.ok_or_else(|| not_found("result", &scan_id.to_string()))?;
    let mut report: ScanReport =
        serde_json::from_slice(&stored.json).map_err(|e| Error::Internal(format!("stored report {scan_id}: {e}")))?;
    // A report stored by an earlier build (its warnings as strings) is read into today's
    // layout and served in it, so it says today's schema version.
    report.schema_version = bulwark_core::report::REPORT_SCHEMA_VERSION;
    Ok(report)
}

/// The request's verdict: evaluated once, when its job first has a result, then kept.
pub(crate) async fn ensure_verdict(
    state: &AppState,
    record: &ScanRequestRecord,
    scan_id: i64,
    report: &ScanReport,
) -> Result<Option<bulwark_core::report::PolicyVerdict>> {
    if let Some(v) = &record.verdict {
        let stored: StoredVerdict = serde_json::from_str(v).map_err(|e| Error::Internal(e.to_string()))?;
        return Ok(Some(stored.verdict));
    }
    let Some(policy) = crate::policies::resolved_of(record) else { return Ok(None) };
    let (verdict, applied) = evaluate(state, &policy, report).await?;
    let stored = StoredVerdict { summary: verdict_of(&verdict, &policy, &applied), verdict };
    let text = serde_json::to_string(&stored).map_err(|e| Error::Internal(e.to_string()))?;
    // The image row and the result carry the verdict as they do for an upload: the policy's
    // name and the digest of its exact text.
    let image = ImageVerdict {
        scan_id,
        passed: stored.verdict.passed,
        policy: stored.verdict.policy.clone(),
        policy_version: stored.verdict.policy_digest.clone(),
    };
    let (kept, _) = state.store().judge_scan_request(record.id, &text, Some(&image)).await?;
    let kept: StoredVerdict = serde_json::from_str(&kept).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Some(kept.verdict))
}

/// What a request keeps once judged: the full verdict (for reports) and its summary.
#[derive(Debug, serde::Serialize, Deserialize)]
struct StoredVerdict {
    verdict: bulwark_core::report::PolicyVerdict,
    summary: bulwark_api::Verdict,
}

/// The API view of a request and its job.
async fn view(state: &AppState, record: &ScanRequestRecord) -> Result<Scan> {
    let job = job_of(state, record).await?;
    let scan_state = match job.state {
        JobState::Queued => ScanState::Queued,
        JobState::Running => ScanState::Running,
        JobState::Succeeded => ScanState::Succeeded,
        JobState::Failed => ScanState::Failed,
        JobState::Cancelled => ScanState::Cancelled,
    };
    let mut digest = None;
    let mut verdict = None;
    let mut fail_on = None;
    if let (JobState::Succeeded, Some(scan_id)) = (job.state, job.scan_id) {
        let mut report = load_report(state, scan_id).await?;
        digest = report.image.manifest_digest.as_ref().or(report.image.config_digest.as_ref()).map(ToString::to_string);
        let judged = ensure_verdict(state, record, scan_id, &report).await?;
        report.policy = judged.clone();
        fail_on = RequestSettings::of(record)?.finish(&mut report).fail_on;
        if judged.is_some() {
            let fresh = state.store().scan_request(record.id).await?;
            verdict = fresh
                .and_then(|r| r.verdict)
                .and_then(|v| serde_json::from_str::<StoredVerdict>(&v).ok())
                .map(|s| s.summary);
        }
    }
    let scanners =
        record.scanners.split(',').filter_map(|s| ScannerName::ALL.into_iter().find(|n| n.as_str() == s)).collect();
    Ok(Scan {
        id: record.id.to_string(),
        state: scan_state,
        reference: record.reference.clone(),
        digest,
        platform: record.platform.clone(),
        scanners,
        priority: if record.priority == "background" { Priority::Background } else { Priority::Ci },
        progress: job.progress.clone().filter(|_| job.state == JobState::Running),
        created_at: time(record.created_at),
        started_at: job.started_at.map(time),
        finished_at: job.finished_at.map(time),
        attempts: u32::try_from(job.attempts).unwrap_or(0),
        job: job.id.to_string(),
        error: job.error.clone().map(|message| ScanError {
            kind: job.error_kind.clone().unwrap_or_else(|| "permanent".to_owned()),
            message,
        }),
        verdict,
        fail_on,
    })
}

/// A request's display filters and gate (`severity`, `ignore_unfixed`, `fail_on`), kept
/// with it as JSON: they change what its reports show and how its gate is judged, never
/// the scan, so requests that differ only here share one job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSettings {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    severity: Vec<SeverityName>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ignore_unfixed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail_on: Option<SeverityName>,
}

impl RequestSettings {
    fn of(record: &ScanRequestRecord) -> Result<RequestSettings> {
        match &record.settings {
            None => Ok(RequestSettings::default()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| Error::Internal(format!("scan request {}: settings: {e}", record.id))),
        }
    }

    fn to_text(&self) -> Result<Option<String>> {
        if *self == RequestSettings::default() {
            return Ok(None);
        }
        serde_json::to_string(self).map(Some).map_err(|e| Error::Internal(e.to_string()))
    }

    /// The CLI's end of a scan with the verdict already in `report`: the `fail_on` gate over
    /// every finding, then the display filters (`bulwark_scan::finish`, the one
    /// implementation).
    fn finish(&self, report: &mut ScanReport) -> bulwark_scan::Gate {
        let how = bulwark_scan::Finish {
            policy: None,
            today: None,
            fail_on: self.fail_on.map(|s| bulwark_scan::FailOn { min: severity(s) }),
            severities: self.severity.iter().copied().map(severity).collect(),
            ignore_unfixed: self.ignore_unfixed,
        };
        bulwark_scan::finish(report, &how)
    }
}

fn severity(s: SeverityName) -> bulwark_core::report::Severity {
    use bulwark_core::report::Severity as S;
    match s {
        SeverityName::Critical => S::Critical,
        SeverityName::High => S::High,
        SeverityName::Medium => S::Medium,
        SeverityName::Low => S::Low,
        SeverityName::Unknown => S::Unknown,
    }
}

/// The built-in secret redactor, compiled once.
fn redactor() -> Result<&'static bulwark_scan::Redactor> {
    static REDACTOR: std::sync::OnceLock<std::result::Result<bulwark_scan::Redactor, String>> =
        std::sync::OnceLock::new();
    REDACTOR
        .get_or_init(|| bulwark_scan::Redactor::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(format!("the secret redactor: {e}")))
}

/// Records the verdicts of requests whose job has finished, without waiting for a client to
/// ask: the image row then shows it for every server-run scan. Returns how many it judged.
pub(crate) async fn judge_finished(state: &AppState) -> Result<usize> {
    let pending = state.store().unjudged_scan_requests(50).await?;
    let mut judged = 0;
    for record in pending {
        let job = job_of(state, &record).await?;
        let Some(scan_id) = job.scan_id.filter(|_| job.state == JobState::Succeeded) else { continue };
        let report = load_report(state, scan_id).await?;
        ensure_verdict(state, &record, scan_id, &report).await?;
        judged += 1;
    }
    Ok(judged)
}
