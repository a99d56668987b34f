//! Promotion: an image that passed goes from one repository to another, signed and
//! attested there, and gets its tag last.
//!
//! Order, and why it is safe to stop anywhere:
//!
//! 1. The destination tag is checked first: one that points at another image is never
//!    moved without `allow_retag` ([`Error::TagExists`]), and nothing has been written.
//! 2. Every manifest under the source digest is read (every platform of an index).
//! 3. Every blob is copied: skipped when the destination has it, mounted across
//!    repositories on one registry, otherwise streamed with its size and digest verified
//!    while it is read and again while it is uploaded. Blobs are invisible until a
//!    manifest names them.
//! 4. Manifests are pushed by digest, children before the index: no tag names them yet.
//! 5. The image is signed and attested in the destination (skipped when a signature or an
//!    equivalent attestation by the same key is already there, so a re-run adds nothing),
//!    and the signature is read back and verified.
//! 6. Only then is the tag set; when it already names the digest it is left alone, so
//!    registries with immutable tags accept a re-run.
//!
//! A kill between any two steps leaves the tag where it was; running again completes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use bulwark_core::Digest;
use bulwark_registry::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use bulwark_sign::cosign::{self, TrustPolicy};
use bulwark_sign::intoto::{self, Statement, VerdictPredicate};
use bulwark_sign::keys::SigningKey;
use serde::Deserialize;

use crate::attach::{self, Kind};
use crate::{Error, Repo, Result, Subject};

/// Most manifests (an index and its platforms, nested) one promotion copies.
pub const MAX_MANIFESTS: usize = 1024;
/// Deepest nesting of indexes followed.
const MAX_DEPTH: usize = 4;

/// What to promote, where, and with which key.
#[derive(Debug)]
pub struct Promotion<'a> {
    /// The source repository.
    pub src: &'a Repo,
    /// The source digest, resolved once by the caller.
    pub digest: Digest,
    /// The destination repository.
    pub dst: &'a Repo,
    /// The destination tag; `None` copies and signs by digest only.
    pub tag: Option<String>,
    /// The signing key.
    pub key: &'a SigningKey,
    /// `optional` annotations of the signature payload.
    pub annotations: BTreeMap<String, String>,
    /// Statements to attest in the destination (their subject is the destination).
    pub statements: Vec<Statement>,
    /// Move an existing tag that points at another digest.
    pub allow_retag: bool,
    /// Blobs copied at once.
    pub jobs: usize,
    /// Also store signature and attestations as OCI 1.1 referrers.
    pub referrers: bool,
}

/// How a blob reached the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCopy {
    /// It was there already.
    Present,
    /// Mounted from the source repository (same registry).
    Mounted,
    /// Streamed from the source, verified.
    Streamed,
}

/// Progress, one call per step; the CLI prints them (and tests stop the process at them).
#[derive(Debug)]
pub enum Step<'a> {
    /// The manifests were read.
    Planned {
        /// Manifests to push.
        manifests: usize,
        /// Distinct blobs.
        blobs: usize,
        /// Their total size.
        bytes: u64,
    },
    /// Bytes of a streamed blob read so far.
    BlobProgress {
        /// The blob.
        digest: &'a Digest,
        /// Read so far.
        done: u64,
        /// Its size.
        total: u64,
    },
    /// A blob is in the destination.
    Blob {
        /// The blob.
        digest: &'a Digest,
        /// Its size.
        size: u64,
        /// How.
        how: BlobCopy,
    },
    /// Every blob is in the destination.
    BlobsDone,
    /// A manifest was pushed by digest.
    Manifest {
        /// Its digest.
        digest: &'a Digest,
    },
    /// Every manifest is in the destination.
    ManifestsDone,
    /// The destination image is signed (`added` false: an existing signature was kept).
    Signed {
        /// Whether a signature was added.
        added: bool,
    },
    /// An attestation is in the destination.
    Attested {
        /// Its predicate type.
        predicate_type: &'a str,
        /// Whether it was added.
        added: bool,
    },
    /// The tag was set (`moved_from`: what it named before, with allow-retag).
    Tagged {
        /// The tag.
        tag: &'a str,
        /// What it pointed at before, if anything.
        moved_from: Option<&'a Digest>,
    },
}

/// Receives [`Step`]s. Called from copy threads too.
pub trait Observer: Sync {
    /// One step happened.
    fn step(&self, step: &Step<'_>);
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn step(&self, _: &Step<'_>) {}
}

/// What a promotion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Promoted {
    /// Manifests pushed (an index and its platforms).
    pub manifests: usize,
    /// Blobs already in the destination.
    pub blobs_present: usize,
    /// Blobs mounted.
    pub blobs_mounted: usize,
    /// Blobs streamed.
    pub blobs_streamed: usize,
    /// Bytes streamed.
    pub bytes_streamed: u64,
    /// Whether a signature was added (false: one by this key was there).
    pub signed: bool,
    /// Attestations added.
    pub attested: usize,
    /// Whether the tag was written (false: it named the digest already, or no tag).
    pub tag_set: bool,
    /// What the tag named before it was moved.
    pub tag_moved_from: Option<Digest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<BlobRef>,
    #[serde(default)]
    layers: Vec<BlobRef>,
    #[serde(default)]
    manifests: Option<Vec<BlobRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlobRef {
    #[serde(default)]
    media_type: String,
    digest: Digest,
    size: u64,
}

/// What a manifest or index refers to: its media type, the manifests under it (for an
/// index) and the blobs it names (config and layers, for an image manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct References {
    /// The manifest's media type (its own field, else the registry's, else guessed).
    pub media_type: String,
    /// Child manifests of an index, with their declared media types.
    pub manifests: Vec<ChildManifest>,
    /// Blobs with their sizes.
    pub blobs: Vec<(Digest, u64)>,
}

/// A manifest listed by an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildManifest {
    /// Its digest.
    pub digest: Digest,
    /// The media type the index declares, if any.
    pub media_type: Option<String>,
}

/// Reads what a fetched manifest refers to (untrusted bytes: fuzzed by `promote_manifest`).
/// `content_type` is what the registry (or the parent index) said it is.
pub fn references(bytes: &[u8], content_type: Option<&str>) -> std::result::Result<References, String> {
    let doc: Doc = serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
    let media_type = doc
        .media_type
        .clone()
        .or(content_type.filter(|t| bulwark_registry::is_manifest_type(t)).map(str::to_owned))
        .unwrap_or_else(|| if doc.manifests.is_some() { OCI_INDEX.to_owned() } else { OCI_MANIFEST.to_owned() });
    let mut refs = References { media_type, manifests: Vec::new(), blobs: Vec::new() };
    match refs.media_type.as_str() {
        OCI_INDEX | DOCKER_MANIFEST_LIST => {
            for child in doc.manifests.unwrap_or_default() {
                let media_type = (!child.media_type.is_empty()).then_some(child.media_type);
                refs.manifests.push(ChildManifest { digest: child.digest, media_type });
            }
        }
        OCI_MANIFEST | DOCKER_MANIFEST => {
            refs.blobs = doc.config.into_iter().chain(doc.layers).map(|b| (b.digest, b.size)).collect();
        }
        other => return Err(format!("media type {other:?} is not a manifest or index")),
    }
    Ok(refs)
}

/// A manifest to push, as read.
struct Pushed {
    digest: Digest,
    media_type: String,
    bytes: Vec<u8>,
}

/// What the destination tag names now; an error when it names another digest and
/// retagging is not allowed. Callers check this before scanning, so a refused promotion
/// costs nothing; [`promote`] checks again before setting the tag.
pub fn check_tag(p: &Promotion<'_>) -> Result<Option<Digest>> {
    let Some(tag) = &p.tag else { return Ok(None) };
    let current = p.dst.client.head_manifest(&p.dst.name, tag)?.map(|h| h.digest);
    match &current {
        Some(d) if *d != p.digest && !p.allow_retag => {
            Err(Error::TagExists { reference: p.dst.display(tag), current: d.clone(), wanted: p.digest.clone() })
        }
        _ => Ok(current),
    }
}

/// Runs the promotion (see the module docs for the order and its guarantees).
pub fn promote(p: &Promotion<'_>, obs: &dyn Observer) -> Result<Promoted> {
    check_tag(p)?;
    let mut manifests = Vec::new();
    let mut blobs = BTreeMap::new();
    walk(p.src, &p.digest, None, 0, &mut manifests, &mut blobs)?;
    let mut done = Promoted { manifests: manifests.len(), ..Default::default() };
    obs.step(&Step::Planned { manifests: manifests.len(), blobs: blobs.len(), bytes: blobs.values().sum() });
    copy_blobs(p, &blobs, obs, &mut done)?;
    obs.step(&Step::BlobsDone);
    for m in &manifests {
        p.dst.client.put_manifest(&p.dst.name, &m.digest.to_string(), &m.media_type, &m.bytes)?;
        obs.step(&Step::Manifest { digest: &m.digest });
    }
    obs.step(&Step::ManifestsDone);
    let top = manifests.last().ok_or_else(|| Error::Internal("no manifest read".into()))?;
    let subject =
        Subject { digest: p.digest.clone(), media_type: top.media_type.clone(), size: top.bytes.len() as u64 };
    sign_and_attest(p, &subject, obs, &mut done)?;
    if let Some(tag) = &p.tag {
        let current = check_tag(p)?;
        if current.as_ref() != Some(&p.digest) {
            p.dst.client.put_manifest(&p.dst.name, tag, &top.media_type, &top.bytes)?;
            done.tag_set = true;
            done.tag_moved_from = current;
            obs.step(&Step::Tagged { tag, moved_from: done.tag_moved_from.as_ref() });
        }
    }
    Ok(done)
}

/// Reads the manifest `digest` and, for an index, every manifest under it; pushes them
/// to `out` children first, and their blobs to `blobs`.
fn walk(
    src: &Repo,
    digest: &Digest,
    declared_type: Option<&str>,
    depth: usize,
    out: &mut Vec<Pushed>,
    blobs: &mut BTreeMap<Digest, u64>,
) -> Result<()> {
    let what = src.display(&digest.to_string());
    if depth > MAX_DEPTH || out.len() >= MAX_MANIFESTS {
        return Err(Error::Unsupported {
            what,
            reason: format!("more than {MAX_MANIFESTS} manifests or indexes nested deeper than {MAX_DEPTH}"),
        });
    }
    let m = src.client.get_manifest(&src.name, &digest.to_string())?;
    let content_type = m.media_type.as_deref().filter(|t| bulwark_registry::is_manifest_type(t)).or(declared_type);
    let refs = references(&m.bytes, content_type).map_err(|reason| Error::Unsupported { what, reason })?;
    let mut seen = BTreeSet::new();
    for child in &refs.manifests {
        // A manifest listed twice, or under two indexes, is read once.
        if seen.insert(child.digest.clone()) && !out.iter().any(|p| p.digest == child.digest) {
            walk(src, &child.digest, child.media_type.as_deref(), depth + 1, out, blobs)?;
        }
    }
    for (digest, size) in refs.blobs {
        blobs.insert(digest, size);
    }
    let media_type = refs.media_type;
    if !out.iter().any(|p| p.digest == m.digest) {
        out.push(Pushed { digest: m.digest, media_type, bytes: m.bytes });
    }
    Ok(())
}

fn copy_blobs(p: &Promotion<'_>, blobs: &BTreeMap<Digest, u64>, obs: &dyn Observer, done: &mut Promoted) -> Result<()> {
    let queue = Mutex::new(blobs.iter().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..p.jobs.clamp(1, 16).min(blobs.len().max(1)) {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some((digest, size)) = queue.lock().ok().and_then(|mut q| q.pop()) else { break };
                    let r = copy_blob(p, digest, *size, obs);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut all) = results.lock() {
                        all.push((*size, r));
                    }
                }
            });
        }
    });
    let results = results.into_inner().map_err(|_| Error::Internal("a copy thread panicked".into()))?;
    if results.len() != blobs.len() && !failed.load(Ordering::Relaxed) {
        return Err(Error::Internal("a copy thread stopped early".into()));
    }
    for (size, r) in results {
        match r? {
            BlobCopy::Present => done.blobs_present += 1,
            BlobCopy::Mounted => done.blobs_mounted += 1,
            BlobCopy::Streamed => {
                done.blobs_streamed += 1;
                done.bytes_streamed += size;
            }
        }
    }
    Ok(())
}

fn copy_blob(p: &Promotion<'_>, digest: &Digest, size: u64, obs: &dyn Observer) -> Result<BlobCopy> {
    let (src, dst) = (p.src, p.dst);
    let how = if dst.client.blob_exists(&dst.name, digest)?.is_some() {
        BlobCopy::Present
    } else if src.client.registry() == dst.client.registry()
        && src.name != dst.name
        && dst.client.mount_blob(&dst.name, &src.name, digest)?
    {
        BlobCopy::Mounted
    } else {
        stream_blob(p, digest, size, obs)?;
        BlobCopy::Streamed
    };
    obs.step(&Step::Blob { digest, size, how });
    Ok(how)
}

/// Streams a blob from the source to the destination: each read from the source is
/// written to the upload as it comes (no buffering beyond the HTTP buffers), and the
/// bytes are hashed once, by the upload, which withholds the last byte unless the size
/// and digest match, so the destination never commits anything else. The source's
/// `Content-Length` is checked against the descriptor's size before the upload starts.
/// A copy cut off by a transient failure (a connection reset, a 5xx) is started again,
/// twice at most: a streamed request cannot be replayed, the whole blob can.
fn stream_blob(p: &Promotion<'_>, digest: &Digest, size: u64, obs: &dyn Observer) -> Result<()> {
    const ATTEMPTS: usize = 3;
    let (src, dst) = (p.src, p.dst);
    let mut attempt = 1;
    loop {
        let copied = src.client.open_blob_raw(&src.name, digest, Some(size)).and_then(|(blob, _)| {
            let mut reader = Progress { inner: blob, obs, digest, done: 0, total: size };
            dst.client.upload_blob(&dst.name, digest, size, &mut reader)
        });
        match copied {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => attempt += 1,
            other => return Ok(other?),
        }
    }
}

/// A reader that reports how far it got.
struct Progress<'a, R> {
    inner: R,
    obs: &'a dyn Observer,
    digest: &'a Digest,
    done: u64,
    total: u64,
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if n > 0 {
            self.obs.step(&Step::BlobProgress { digest: self.digest, done: self.done, total: self.total });
        }
        Ok(n)
    }
}

fn sign_and_attest(p: &Promotion<'_>, subject: &Subject, obs: &dyn Observer, done: &mut Promoted) -> Result<()> {
    let trust = TrustPolicy { keys: vec![p.key.public_key()], ..Default::default() };
    let docker_reference = p.dst.docker_reference();
    let ours = |checks: &[attach::Check<cosign::VerifiedSignature>]| {
        checks
            .iter()
            .any(|c| c.result.as_ref().is_ok_and(|v| v.payload.critical.identity.docker_reference == docker_reference))
    };
    // What DST has already, signatures and attestations read at once.
    let (signatures, attestations) = std::thread::scope(|s| {
        let attestations = (!p.statements.is_empty())
            .then(|| s.spawn(|| attach::verify_subject_attestations(p.dst, subject, &trust, None)));
        let signatures = attach::verify_subject_signatures(p.dst, subject, &trust);
        let attestations = match attestations {
            Some(h) => h.join().unwrap_or_else(|_| Err(Error::Internal("attestation check panicked".into()))),
            None => Ok(Vec::new()),
        };
        (signatures, attestations)
    });
    let mut layers = Vec::new();
    let sign = !ours(&signatures?);
    if sign {
        let layer = cosign::sign_image(p.key, &docker_reference, &subject.digest.to_string(), &p.annotations)?;
        layers.push((Kind::Signature, layer));
    }
    // An attestation of another predicate type never makes one redundant (`equivalent`
    // compares types), so all of them are read unfiltered, once.
    let existing: Vec<Statement> =
        attestations?.into_iter().filter_map(|c| c.result.ok().map(|v| v.statement)).collect();
    let mut added = Vec::with_capacity(p.statements.len());
    for (i, statement) in p.statements.iter().enumerate() {
        let have = existing.iter().chain(&p.statements[..i]).any(|e| equivalent(e, statement));
        if !have {
            layers.push((Kind::Attestation, cosign::attest_image(p.key, statement)?));
        }
        added.push(!have);
    }
    // The signature and every attestation in one go: one update of `.sig`, one of
    // `.att`, one of the referrers index.
    if !layers.is_empty() {
        let items: Vec<(Kind, &cosign::Layer)> = layers.iter().map(|(k, l)| (*k, l)).collect();
        attach::attach_all(p.dst, subject, &items, p.referrers)?;
    }
    done.signed = sign;
    obs.step(&Step::Signed { added: done.signed });
    for (statement, added) in p.statements.iter().zip(added) {
        done.attested += usize::from(added);
        obs.step(&Step::Attested { predicate_type: &statement.predicate_type, added });
    }
    // Read back: the tag is set only over a signature that verifies where it is stored.
    let checks = attach::verify_subject_signatures(p.dst, subject, &trust)?;
    if !ours(&checks) {
        let reason = checks
            .iter()
            .filter_map(|c| c.result.as_ref().err().map(|e| format!("{}: {e}", c.origin)))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::NotSigned {
            reference: p.dst.display(&subject.digest.to_string()),
            reason: if reason.is_empty() { "no signature found".into() } else { reason },
        });
    }
    Ok(())
}

/// Whether an existing statement makes `new` redundant: the same predicate type and, for
/// verdicts, the same policy content and outcome (a re-run re-scans, so its time
/// differs); for other types the same predicate.
fn equivalent(existing: &Statement, new: &Statement) -> bool {
    if existing.predicate_type != new.predicate_type || existing.subject != new.subject {
        return false;
    }
    if new.predicate_type == intoto::VERDICT_PREDICATE_TYPE {
        let parse = |s: &Statement| serde_json::from_value::<VerdictPredicate>(s.predicate.clone()).ok();
        return match (parse(existing), parse(new)) {
            (Some(a), Some(b)) => a.policy == b.policy && a.verdict == b.verdict && a.image.digest == b.image.digest,
            _ => false,
        };
    }
    existing.predicate == new.predicate
}

/// A verdict that spares a rescan: a verdict attestation of `digest` that verifies under
/// `trust`, passed, was made under the policy whose content digest is `policy_digest`,
/// and is at most `max_age` seconds old at `now` (unix seconds). The newest one wins.
pub fn fresh_verdict(
    repo: &Repo,
    digest: &Digest,
    trust: &TrustPolicy,
    policy_digest: &str,
    max_age: u64,
    now: u64,
) -> Result<Option<(Statement, VerdictPredicate)>> {
    let checks = attach::verify_attestations(repo, digest, trust, Some(intoto::VERDICT_PREDICATE_TYPE))?;
    Ok(newest_fresh(checks, digest, policy_digest, max_age, now))
}

/// [`fresh_verdict`] of a resolved subject, fetching as [`attach::fetch_subject`] does.
pub fn fresh_subject_verdict(
    repo: &Repo,
    subject: &Subject,
    trust: &TrustPolicy,
    policy_digest: &str,
    max_age: u64,
    now: u64,
) -> Result<Option<(Statement, VerdictPredicate)>> {
    let checks = attach::verify_subject_attestations(repo, subject, trust, Some(intoto::VERDICT_PREDICATE_TYPE))?;
    Ok(newest_fresh(checks, &subject.digest, policy_digest, max_age, now))
}

fn newest_fresh(
    checks: Vec<attach::Check<cosign::VerifiedAttestation>>,
    digest: &Digest,
    policy_digest: &str,
    max_age: u64,
    now: u64,
) -> Option<(Statement, VerdictPredicate)> {
    let mut best: Option<(u64, Statement, VerdictPredicate)> = None;
    for check in checks {
        let Ok(verified) = check.result else { continue };
        let Ok(verdict) = serde_json::from_value::<VerdictPredicate>(verified.statement.predicate.clone()) else {
            continue;
        };
        let Ok(at) = bulwark_sign::trust::parse_rfc3339(&verdict.scanned_at) else { continue };
        let fresh = at <= now.saturating_add(300) && now.saturating_sub(at) <= max_age;
        if verdict.verdict == intoto::Verdict::Pass
            && verdict.policy.digest == policy_digest
            && verdict.image.digest == digest.to_string()
            && fresh
            && best.as_ref().is_none_or(|(t, _, _)| at > *t)
        {
            best = Some((at, verified.statement, verdict));
        }
    }
    best.map(|(_, s, v)| (s, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_of_indexes_and_manifests() {
        let d = |s: &str| Digest::sha256_of(s.as_bytes());
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": DOCKER_MANIFEST, "digest": d("a"), "size": 1},
            {"digest": d("b"), "size": 2}]});
        let refs = references(index.to_string().as_bytes(), Some(DOCKER_MANIFEST_LIST)).unwrap();
        assert_eq!(refs.media_type, DOCKER_MANIFEST_LIST);
        assert_eq!(refs.manifests.len(), 2);
        assert_eq!(refs.manifests[0].media_type.as_deref(), Some(DOCKER_MANIFEST));
        assert!(refs.blobs.is_empty());
        let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "c", "digest": d("c"), "size": 3},
            "layers": [{"mediaType": "l", "digest": d("l"), "size": 4}]});
        let refs = references(manifest.to_string().as_bytes(), Some("application/json")).unwrap();
        assert_eq!(refs.blobs, vec![(d("c"), 3), (d("l"), 4)]);
        assert!(references(b"{}", Some("text/plain")).unwrap().manifests.is_empty());
        let odd = serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar"});
        assert!(references(odd.to_string().as_bytes(), None).unwrap_err().contains("not a manifest or index"));
        assert!(references(b"[1]", None).is_err());
        let bad_digest = serde_json::json!({"layers": [{"digest": "sha256:../x", "size": 1}]});
        assert!(references(bad_digest.to_string().as_bytes(), None).is_err());
    }

    #[test]
    fn verdicts_are_equivalent_by_policy_outcome_and_digest() {
        let digest = Digest::sha256_of(b"img").to_string();
        let verdict = |policy: &str, at: &str| {
            serde_json::json!({"image": {"reference": "r", "digest": digest}, "policy": {"name": "p", "digest": policy},
                "verdict": "pass", "summary": {"denied": 0, "warned": 0, "excepted": 0}, "vulnerabilities": {},
                "advisoryDb": {"builtAt": "", "digest": ""}, "scanner": {"name": "bulwark", "version": "0"}, "scannedAt": at})
        };
        let st = |p| Statement::for_image("r/app", &digest, intoto::VERDICT_PREDICATE_TYPE, p).unwrap();
        let a = st(verdict("sha256:1", "2026-01-01T00:00:00Z"));
        assert!(equivalent(&a, &st(verdict("sha256:1", "2026-01-02T00:00:00Z"))));
        assert!(!equivalent(&a, &st(verdict("sha256:2", "2026-01-01T00:00:00Z"))));
        let sbom =
            Statement::for_image("r/app", &digest, intoto::CYCLONEDX_PREDICATE_TYPE, serde_json::json!({})).unwrap();
        assert!(!equivalent(&a, &sbom));
        assert!(equivalent(&sbom, &sbom.clone()));
    }
}
