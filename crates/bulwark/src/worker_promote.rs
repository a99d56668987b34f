//! A `promote` job (`POST /promotions`): the Image Assertion of `bulwark promote`, run by a
//! worker with a signing key and registry credentials the server holds. SRC is resolved
//! once and scanned by digest; the stored policy judges the report; only on a pass is the
//! image copied to DST, signed and attested there and DST's tag set
//! ([`bulwark_assert::promote`], which leaves no tag on an incomplete or unsigned image). A
//! re-run of the job (retry, or another worker after a lost lease) completes it
//! idempotently.
//!
//! The job's result is SRC's report, stored like a scan's; what happened to DST is the
//! promotion's outcome (`promoted` or `denied`), recorded in the store.

use bulwark_assert::Repo;
use bulwark_assert::promote::{self, Promotion};
use bulwark_registry::{Client, RegistryOptions};
use bulwark_sign::keys::SigningKey;
use bulwark_store::jobs::{ClaimedJob, JobFailure};
use bulwark_store::promotions::{PromoteJobOptions, PromotionOutcome};
use bulwark_store::worker::ScanOutput;
use serde_json::json;

use crate::worker::{JobSettings, classify, open_credential, today};

fn permanent(m: impl Into<String>) -> JobFailure {
    JobFailure::Permanent(m.into())
}

/// Registry options with a job's credential, if it names one.
fn options_with(credential: Option<crate::worker::JobCredential>) -> RegistryOptions {
    let mut o = RegistryOptions::default();
    if let Some(c) = credential {
        o.username = Some(c.username);
        o.password = Some(c.password);
    }
    o
}

/// Opens the signing key `name` the server holds.
fn open_key(name: &str, settings: &JobSettings) -> Result<SigningKey, JobFailure> {
    let fail = |m: String| permanent(format!("signing key {name:?}: {m}"));
    let secrets = settings.secrets.as_ref().ok_or_else(|| fail("this worker cannot open stored keys".to_owned()))?;
    let kek = secrets.kek.as_ref().ok_or_else(|| {
        fail(
            "this worker has no key-encryption key to open it (give --kek-file or BULWARK_KEK, the server's key)"
                .into(),
        )
    })?;
    let opened = tokio::runtime::Handle::current()
        .block_on(secrets.store.open_secret(kek, bulwark_store::secrets::SIGNING_KEY, name))
        .map_err(|e| match e {
            bulwark_store::Error::Sql(_) => JobFailure::Transient(format!("signing key {name:?}: {e}")),
            other => fail(other.to_string()),
        })?
        .ok_or_else(|| fail("no longer stored".to_owned()))?;
    SigningKey::from_pkcs8_der(&opened.value).map_err(|e| fail(e.to_string()))
}

fn record(settings: &JobSettings, job: i64, outcome: PromotionOutcome) -> Result<(), JobFailure> {
    let secrets = settings.secrets.as_ref().ok_or_else(|| permanent("this worker has no store"))?;
    tokio::runtime::Handle::current()
        .block_on(secrets.store.record_promotion_outcome(job, &outcome))
        .map_err(|e| JobFailure::Transient(format!("recording the promotion: {e}")))
}

pub(crate) fn promote_job(job: &ClaimedJob, settings: &JobSettings) -> Result<ScanOutput, JobFailure> {
    let options: PromoteJobOptions =
        serde_json::from_value(job.options.clone()).map_err(|e| permanent(format!("promotion options: {e}")))?;
    let src_ref = crate::sign::registry_ref(&job.reference).map_err(|e| permanent(format!("SRC: {e:#}")))?;
    let dst_ref = crate::sign::registry_ref(&options.destination).map_err(|e| permanent(format!("DST: {e:#}")))?;
    let src_credential =
        options.source_credential.as_deref().map(|n| open_credential(n, &job.reference, settings)).transpose()?;
    let dst_credential = options
        .destination_credential
        .as_deref()
        .map(|n| open_credential(n, &options.destination, settings))
        .transpose()?;
    let key = open_key(&options.signing_key, settings)?;
    let policy = bulwark_policy::parse(&options.policy_yaml).map_err(|d| {
        permanent(format!(
            "policy {} v{}: {}",
            options.policy,
            options.policy_version,
            d.first().map_or(String::new(), |d| d.message.clone())
        ))
    })?;
    let scan_credential = src_credential.as_ref().map(|c| (c.username.clone(), c.password.clone()));
    let src_opts = options_with(src_credential);
    let dst_opts = options_with(dst_credential);
    // SRC is resolved once: what is scanned, judged, copied and signed is this digest.
    let (src_repo, subject) = crate::sign::resolve(&src_ref, &src_opts).map_err(classify)?;
    let dst_client = Client::for_reference(&dst_ref, &dst_opts).map_err(|e| classify(e.into()))?;
    let dst = Repo::new(dst_client, dst_ref.repository.clone());
    let promotion = |statements| Promotion {
        src: &src_repo,
        digest: subject.digest.clone(),
        dst: &dst,
        tag: dst_ref.tag.clone(),
        key: &key,
        annotations: Default::default(),
        statements,
        allow_retag: options.allow_retag,
        jobs: 4,
        referrers: true,
    };
    // A tag that may not move fails before anything is scanned or copied.
    promote::check_tag(&promotion(Vec::new())).map_err(|e| permanent(format!("DST: {e}")))?;
    let pinned = crate::sign::pinned(&src_ref, &subject.digest);
    let scan_settings = crate::worker::job_scan_settings(&pinned, None, &options.scanners, settings)?;
    let today = today()?;
    let report = crate::commands::run_scan_with(&pinned, &scan_settings, |opts| {
        opts.today = today;
        if let Some((u, p)) = scan_credential {
            opts.read.registry.username = Some(u);
            opts.read.registry.password = Some(p);
        }
    })
    .map_err(classify)?;
    let mut json = serde_json::to_vec_pretty(&report).map_err(|e| permanent(format!("report: {e}")))?;
    json.push(b'\n');
    let mut judged = report.clone();
    let verdict = policy.evaluate(&judged, today);
    let passed = verdict.passed;
    let failures: Vec<String> = verdict.failures().map(|f| f.id.clone()).collect();
    judged.policy = Some(verdict);
    let digest = Some(subject.digest.to_string());
    if !passed {
        let detail =
            json!({"policy": options.policy, "policy_version": options.policy_version, "failed_rules": failures});
        record(
            settings,
            job.id,
            PromotionOutcome { outcome: "denied".into(), digest, detail: detail.to_string(), recorded_at: 0 },
        )?;
        return Ok(ScanOutput { report, json });
    }
    let statements = crate::sign::statements(&dst.docker_reference(), &subject.digest, &job.reference, &judged)
        .map_err(|e| permanent(format!("attestations: {e:#}")))?;
    let done = promote::promote(&promotion(statements), &promote::Quiet).map_err(|e| classify(e.into()))?;
    let detail = json!({
        "destination": options.destination,
        "manifests": done.manifests,
        "blobs_present": done.blobs_present,
        "blobs_mounted": done.blobs_mounted,
        "blobs_streamed": done.blobs_streamed,
        "bytes_streamed": done.bytes_streamed,
        "signed": done.signed,
        "attested": done.attested,
        "tag_set": done.tag_set,
        "tag_moved_from": done.tag_moved_from.map(|d| d.to_string()),
        "public_key": key.public_key().to_pem(),
    });
    record(
        settings,
        job.id,
        PromotionOutcome { outcome: "promoted".into(), digest, detail: detail.to_string(), recorded_at: 0 },
    )?;
    Ok(ScanOutput { report, json })
}
