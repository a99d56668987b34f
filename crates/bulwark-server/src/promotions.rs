//! Promotions: `POST /promotions` queues a `promote` job (the Image Assertion, run by a
//! worker with a signing key the server holds, so CI never sees the private key);
//! `GET /promotions` and `GET /promotions/{id}` are the history, from the store.

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulwark_api::{Page, Promotion, PromotionRequest, PromotionState, ScanError, ScannerName};
use bulwark_store::jobs::{JobState, NewJob, Priority};
use bulwark_store::promotions::{JOB_KIND, PromoteJobOptions, PromotionRecord};
use bulwark_store::secrets::{REGISTRY_CREDENTIAL, SIGNING_KEY};

use crate::admin::PageQuery;
use crate::error::{Error, Result, invalid, not_found};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::policies::{Resolved, resolve_policy};
use crate::scans::WaitQuery;
use crate::util::{check_name, cursor, decode_id_cursor, page_size, parse_id, time};
use crate::{AppState, Caller, auth};

const POLL: Duration = Duration::from_millis(250);

/// A registry reference (`registry/repository:tag` or `@digest`), for SRC and DST.
fn registry_ref(field: &str, s: &str) -> Result<bulwark_core::DockerRef> {
    if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
        return Err(invalid(field, "expected an image reference of 1 to 1024 printable characters"));
    }
    // Parsed as a scan input, so that an `sbom:` names no registry rather than no image.
    let parsed = s.parse::<bulwark_core::ScanInput>().map_err(|e| invalid(field, e.to_string()))?;
    match parsed.image().and_then(bulwark_core::Reference::docker_ref) {
        Some(r) => Ok(r.clone()),
        None => Err(invalid(field, "expected an image in a registry (registry/repository:tag)")),
    }
}

async fn check_secret(state: &AppState, field: &str, purpose: &str, name: &str) -> Result<()> {
    check_name(field, name)?;
    if state.store().secret_info(purpose, name).await?.is_none() {
        let what = if purpose == SIGNING_KEY { "signing key" } else { "registry credential" };
        return Err(invalid(field, format!("no stored {what} of this name")));
    }
    Ok(())
}

/// Queues a promotion. Answers 202 with `Location: /api/v1/promotions/{id}`; follow it
/// with `?wait=` to long-poll until it is done.
#[utoipa::path(post, path = "/api/v1/promotions", tag = "promotions", request_body = PromotionRequest,
    responses((status = 202, description = "Queued", body = Promotion,
               headers(("Location" = String, description = "The promotion's URL")))))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<PromotionRequest>,
) -> Result<Response> {
    let me = caller.principal().ok_or_else(|| auth::unauthorized("no token"))?;
    registry_ref("/source", &req.source)?;
    let dst = registry_ref("/destination", &req.destination)?;
    if dst.digest.is_some() || dst.tag.is_none() {
        return Err(invalid("/destination", "give a repository and tag (the digest is SRC's)"));
    }
    let Some(Resolved::Stored(policy)) = resolve_policy(&state, Some(&req.policy), None).await? else {
        return Err(invalid("/policy", "no stored policy of this name"));
    };
    check_secret(&state, "/signing_key", SIGNING_KEY, &req.signing_key).await?;
    for (field, c) in
        [("/source_credential", &req.source_credential), ("/destination_credential", &req.destination_credential)]
    {
        if let Some(c) = c {
            check_secret(&state, field, REGISTRY_CREDENTIAL, c).await?;
        }
    }
    let scanners = req.scanners.clone().unwrap_or_else(|| ScannerName::ALL.to_vec());
    if scanners.is_empty() {
        return Err(invalid("/scanners", "name at least one scanner (or leave it out for all)"));
    }
    let mut names: Vec<String> = scanners.iter().map(|s| s.as_str().to_owned()).collect();
    names.sort_unstable();
    names.dedup();
    let options = PromoteJobOptions {
        destination: req.destination.clone(),
        policy: policy.name.clone(),
        policy_version: i64::from(policy.version),
        policy_yaml: policy.yaml.clone(),
        signing_key: req.signing_key.clone(),
        allow_retag: req.allow_retag,
        source_credential: req.source_credential.clone(),
        destination_credential: req.destination_credential.clone(),
        scanners: names,
    };
    let mut job = NewJob::scan(
        &req.source,
        serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?,
        Priority::CI,
    );
    job.kind = JOB_KIND.to_owned();
    job.submitted_by = Some(me.user.clone());
    let enqueued = state.store().enqueue(&job).await?;
    let record = state
        .store()
        .add_promotion(&PromotionRecord {
            id: 0,
            job_id: enqueued.id,
            source: req.source.clone(),
            destination: req.destination.clone(),
            policy: policy.name,
            policy_version: i64::from(policy.version),
            signing_key: req.signing_key.clone(),
            allow_retag: req.allow_retag,
            source_credential: req.source_credential.clone(),
            destination_credential: req.destination_credential.clone(),
            requested_by: me.user.clone(),
            created_at: 0,
        })
        .await?;
    let view = view(&state, &record).await?;
    let mut res = (StatusCode::ACCEPTED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/promotions/{}", record.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// A promotion: its state and, once done, what was copied, signed and tagged (or why not).
#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "promotions",
    params(("id" = String, Path, description = "Promotion id"), WaitQuery),
    responses((status = 200, description = "The promotion", body = Promotion)))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<Promotion>> {
    let n = parse_id("id", &id)?;
    let record = state.store().promotion(n).await?.ok_or_else(|| not_found("promotion", &id))?;
    let wait = q.wait.unwrap_or(0);
    if wait > state.config().max_wait_seconds {
        return Err(invalid("wait", format!("at most {} seconds", state.config().max_wait_seconds)));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let p = view(&state, &record).await?;
        if p.state.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(p));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Promotion history, newest first.
#[utoipa::path(get, path = "/api/v1/promotions", tag = "promotions", params(PageQuery),
    responses((status = 200, description = "Promotions", body = Page<Promotion>)))]
pub async fn list(State(state): State<AppState>, ApiQuery(q): ApiQuery<PageQuery>) -> Result<Json<Page<Promotion>>> {
    let limit = page_size(q.limit)?;
    let before = decode_id_cursor("promotions", q.cursor.as_deref())?;
    let mut rows = state.store().promotions(before, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor("promotions", &rows[rows.len() - 1].id.to_string())
    });
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(view(&state, r).await?);
    }
    Ok(Json(Page { items, next_cursor: next }))
}

async fn view(state: &AppState, r: &PromotionRecord) -> Result<Promotion> {
    let job =
        state.store().job(r.job_id).await?.ok_or_else(|| Error::Internal(format!("job {} vanished", r.job_id)))?;
    let outcome = state.store().promotion_outcome(r.job_id).await?;
    let promotion_state = match (job.state, outcome.as_ref().map(|o| o.outcome.as_str())) {
        (JobState::Queued, _) => PromotionState::Queued,
        (JobState::Running, _) => PromotionState::Running,
        (JobState::Succeeded, Some("promoted")) => PromotionState::Promoted,
        (JobState::Succeeded, Some("denied")) => PromotionState::Denied,
        // A job that succeeded without an outcome cannot happen; never report it as promoted.
        (JobState::Succeeded, _) | (JobState::Failed, _) => PromotionState::Failed,
        (JobState::Cancelled, _) => PromotionState::Cancelled,
    };
    Ok(Promotion {
        id: r.id.to_string(),
        state: promotion_state,
        source: r.source.clone(),
        destination: r.destination.clone(),
        policy: r.policy.clone(),
        policy_version: u32::try_from(r.policy_version).unwrap_or(0),
        signing_key: r.signing_key.clone(),
        allow_retag: r.allow_retag,
        requested_by: r.requested_by.clone(),
        created_at: time(r.created_at),
        digest: outcome.as_ref().and_then(|o| o.digest.clone()),
        detail: outcome.as_ref().and_then(|o| serde_json::from_str(&o.detail).ok()),
        error: job.error.clone().filter(|_| job.state != JobState::Succeeded).map(|message| ScanError {
            kind: job.error_kind.clone().unwrap_or_else(|| "permanent".to_owned()),
            message,
        }),
    })
}
