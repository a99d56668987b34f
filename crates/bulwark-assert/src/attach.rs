//! Signatures and attestations stored where cosign stores them, fetched back with bounds,
//! and verified one by one.
//!
//! Writing: the layer goes into the manifest tagged `sha256-<hex>.sig` (or `.att`),
//! appended to the layers already there, and into a referrer manifest whose `subject`
//! is the image. A registry that indexes `subject` (the OCI 1.1 referrers API; it says
//! so with an `OCI-Subject` header) lists it at once; for the others the referrer is
//! added to the `sha256-<hex>` tag-schema index. The referrer manifest has no timestamp,
//! so attaching the same layer twice changes nothing.
//!
//! Reading: the tag's manifest and every referrer of the right artifact type, each
//! manifest refused before any layer is fetched when it is hostile
//! ([`bulwark_sign::manifest::parse`]: layer count, declared sizes, digests), each layer
//! fetched with a byte bound and checked against its descriptor. A layer seen both under
//! the tag and as a referrer is checked once.

use std::collections::BTreeSet;
use std::fmt;

use bulwark_core::Digest;
use bulwark_registry::{OCI_MANIFEST, ReferrersSource};
use bulwark_sign::cosign::{self, Layer, TrustPolicy, VerifiedAttestation, VerifiedSignature};
use bulwark_sign::manifest;
use serde_json::json;

use crate::{Error, Repo, Result, Subject};

/// `artifactType` of the referrer manifests holding a signature (cosign's OCI 1.1 mode).
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// `artifactType` of the referrer manifests holding an attestation (a DSSE envelope).
pub const ATTESTATION_ARTIFACT_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Other `artifactType`s under which attestations are found (written by other tools).
const OTHER_ATTESTATION_ARTIFACT_TYPES: &[&str] =
    &["application/vnd.dev.cosign.artifact.att.v1+json", "application/vnd.in-toto+json"];
/// The OCI empty descriptor's media type and content, the config of an artifact manifest.
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONTENT: &[u8] = b"{}";
/// The most referrer manifests examined for one image; the rest are reported, not read.
pub const MAX_REFERRERS: usize = 256;

/// Signature or attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A simple-signing payload with its signature annotation.
    Signature,
    /// A DSSE envelope over an in-toto statement.
    Attestation,
}

impl Kind {
    /// The cosign tag: `sha256-<hex>.sig` or `.att`.
    pub fn tag(self, subject: &Digest) -> Result<String> {
        let digest = subject.to_string();
        Ok(match self {
            Kind::Signature => cosign::signature_tag(&digest)?,
            Kind::Attestation => cosign::attestation_tag(&digest)?,
        })
    }

    /// The `artifactType` Bulwark writes on referrers of this kind.
    pub fn artifact_type(self) -> &'static str {
        match self {
            Kind::Signature => SIGNATURE_ARTIFACT_TYPE,
            Kind::Attestation => ATTESTATION_ARTIFACT_TYPE,
        }
    }

    fn reads(self, artifact_type: Option<&str>) -> bool {
        let Some(t) = artifact_type else { return false };
        t == self.artifact_type() || (self == Kind::Attestation && OTHER_ATTESTATION_ARTIFACT_TYPES.contains(&t))
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Signature => "signature manifest",
            Kind::Attestation => "attestation manifest",
        }
    }
}

/// Where an attachment was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The cosign tag.
    pub tag: String,
    /// The digest of the manifest now under that tag.
    pub tag_manifest: Digest,
    /// False when the same layer (same bytes and annotations) was there already.
    pub added: bool,
    /// The referrer manifest, and how registries find it; `None` when not written.
    pub referrer: Option<(Digest, ReferrersSource)>,
}

/// Stores `layer` for `subject`: appended to the cosign tag's manifest, and, with
/// `referrer`, as an OCI 1.1 referrer (see the module docs).
///
/// The tag update is a read-modify-write, as cosign's: two writers racing on one image
/// can lose a layer, never corrupt the manifest. An existing manifest that is malformed
/// or over a limit is an [`Error::ExistingAttachment`], never replaced.
pub fn attach(repo: &Repo, subject: &Subject, kind: Kind, layer: &Layer, referrer: bool) -> Result<Attached> {
    attach_all(repo, subject, &[(kind, layer)], referrer)?
        .pop()
        .ok_or_else(|| Error::Internal("nothing attached".into()))
}

/// Stores several signatures and attestations of `subject` at once, as [`attach`] stores
/// one, with one update per cosign tag and one of the referrers index for all of them:
/// the layer blobs and referrer manifests are pushed in parallel, the `.sig` and `.att`
/// manifests are each read, appended to and written once, and the tag-schema index (for
/// registries without the referrers API) is read and written once. Returns one
/// [`Attached`] per item, in order. `scan --sign` attaches a signature and three
/// attestations this way: about 20 requests, most of them concurrent, instead of 48 one
/// after another.
pub fn attach_all(repo: &Repo, subject: &Subject, items: &[(Kind, &Layer)], referrer: bool) -> Result<Vec<Attached>> {
    // The blobs first: a manifest never names a blob the registry lacks.
    let mut blobs: Vec<&[u8]> = items.iter().map(|(_, l)| l.content.as_slice()).collect();
    if referrer {
        blobs.push(EMPTY_CONTENT);
    }
    for pushed in par_map(&blobs, |b| repo.client.push_blob_bytes(&repo.name, b)) {
        pushed?;
    }
    // One read-modify-write per cosign tag (the two tags at once).
    let kinds: Vec<Kind> =
        [Kind::Signature, Kind::Attestation].into_iter().filter(|k| items.iter().any(|(kind, _)| kind == k)).collect();
    let updates = par_map(&kinds, |&kind| {
        let layers: Vec<&Layer> = items.iter().filter(|(k, _)| *k == kind).map(|(_, l)| *l).collect();
        update_tag(repo, subject, kind, &layers)
    });
    let mut tags = Vec::new();
    for (kind, update) in kinds.into_iter().zip(updates) {
        tags.push((kind, update?));
    }
    let referrers = if referrer { Some(push_referrers(repo, subject, items)?) } else { None };
    let mut out = Vec::with_capacity(items.len());
    for (i, (kind, _)) in items.iter().enumerate() {
        let (tag, tag_manifest, added) = tags
            .iter_mut()
            .find(|(k, _)| k == kind)
            .map(|(_, u)| (u.tag.clone(), u.manifest.clone(), u.added.remove(0)))
            .ok_or_else(|| Error::Internal("attachment kind not updated".into()))?;
        let referrer = referrers.as_ref().and_then(|r: &Vec<(Digest, ReferrersSource)>| r.get(i).cloned());
        out.push(Attached { tag, tag_manifest, added, referrer });
    }
    Ok(out)
}

/// What one cosign tag's update did: the tag, the manifest now under it, and for each
/// layer (in order) whether it was added.
struct TagUpdate {
    tag: String,
    manifest: Digest,
    added: Vec<bool>,
}

fn update_tag(repo: &Repo, subject: &Subject, kind: Kind, layers: &[&Layer]) -> Result<TagUpdate> {
    let tag = kind.tag(&subject.digest)?;
    let mut all = existing_layers(repo, &tag, kind)?;
    let mut added = Vec::with_capacity(layers.len());
    for layer in layers {
        let before = all.len();
        all = manifest::append(all, layer.descriptor());
        added.push(all.len() != before);
    }
    let manifest = if added.iter().any(|a| *a) {
        let (config, bytes) = manifest::build(&all);
        repo.client.push_blob_bytes(&repo.name, &config)?;
        repo.client.put_manifest(&repo.name, &tag, OCI_MANIFEST, &bytes)?.digest
    } else {
        repo.client.resolve(&repo.name, &tag)?.digest
    };
    Ok(TagUpdate { tag, manifest, added })
}

fn existing_layers(repo: &Repo, tag: &str, kind: Kind) -> Result<Vec<manifest::Descriptor>> {
    match repo.client.get_manifest(&repo.name, tag) {
        Ok(m) => manifest::parse(&m.bytes).map_err(|e| Error::ExistingAttachment {
            what: kind.what(),
            reference: repo.display(tag),
            reason: e.to_string(),
        }),
        Err(bulwark_registry::Error::NotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The referrer manifest for `layer`: an OCI image manifest with `artifactType`, the
/// empty config, the one layer and `subject`. Deterministic, so pushing it again is a
/// no-op.
pub fn referrer_manifest(subject: &Subject, kind: Kind, layer: &Layer) -> Vec<u8> {
    let m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": kind.artifact_type(),
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": Digest::sha256_of(EMPTY_CONTENT), "size": EMPTY_CONTENT.len()},
        "layers": [layer.descriptor()],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
    });
    serde_json::to_vec(&m).unwrap_or_default()
}

/// Pushes one referrer manifest per item (in parallel) and, for those the registry did
/// not index (no `OCI-Subject` in its answer), adds them all to the tag-schema index in
/// one update. The OCI empty config blob must be in the repository already.
fn push_referrers(repo: &Repo, subject: &Subject, items: &[(Kind, &Layer)]) -> Result<Vec<(Digest, ReferrersSource)>> {
    let puts = par_map(items, |(kind, layer)| {
        let bytes = referrer_manifest(subject, *kind, layer);
        let digest = Digest::sha256_of(&bytes);
        let put = repo.client.put_manifest(&repo.name, &digest.to_string(), OCI_MANIFEST, &bytes)?;
        Ok::<_, Error>((put, bytes.len() as u64))
    });
    let mut out = Vec::with_capacity(items.len());
    let mut unindexed = Vec::new();
    for ((kind, _), put) in items.iter().zip(puts) {
        let (put, size) = put?;
        if put.subject.is_some() {
            out.push((put.digest, ReferrersSource::Api));
            continue;
        }
        unindexed.push(bulwark_registry::Descriptor {
            media_type: OCI_MANIFEST.to_owned(),
            digest: put.digest.clone(),
            size,
            artifact_type: Some(kind.artifact_type().to_owned()),
            annotations: Default::default(),
        });
        out.push((put.digest, ReferrersSource::TagSchema));
    }
    if !unindexed.is_empty() {
        repo.client.add_all_to_referrers_tag(&repo.name, &subject.digest, &unindexed)?;
    }
    Ok(out)
}

/// Where a fetched layer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Layer `index` of the manifest under the cosign tag.
    Tag {
        /// The tag.
        tag: String,
        /// The layer's position.
        index: usize,
    },
    /// Layer `index` of a referrer manifest.
    Referrer {
        /// The referrer manifest's digest.
        manifest: Digest,
        /// The layer's position.
        index: usize,
    },
    /// The referrers list itself (e.g. more referrers than are examined).
    Referrers,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Tag { tag, index } => write!(f, "{tag} layer {index}"),
            Origin::Referrer { manifest, index } => write!(f, "referrer {manifest} layer {index}"),
            Origin::Referrers => f.write_str("referrers"),
        }
    }
}

/// One attachment as fetched (or why it could not be), or one verification outcome.
#[derive(Debug)]
pub struct Check<T> {
    /// Where it came from.
    pub origin: Origin,
    /// The layer or the verification result, or the reason it failed.
    pub result: Result<T>,
}

/// Fetches every attachment of `kind` for `subject`: the cosign tag's layers, then
/// the referrers' (see the module docs for the bounds). A registry that cannot be
/// reached or refuses access is an error (nothing was checked); a bad manifest or layer
/// is a failed entry with its reason.
pub fn fetch(repo: &Repo, subject: &Digest, kind: Kind) -> Result<Vec<Check<Layer>>> {
    fetch_inner(repo, subject, None, kind)
}

/// [`fetch`] for a subject whose media type and size are known (as [`Subject::resolve`]
/// gives them): a referrer that is, byte for byte, the manifest [`attach`] writes for a
/// layer already fetched under the cosign tag is not fetched again. Its digest is that of
/// the bytes [`referrer_manifest`] makes, so its one layer is exactly that layer, already
/// checked. An image signed 50 times by Bulwark is verified with 50 layer requests
/// instead of 100.
pub fn fetch_subject(repo: &Repo, subject: &Subject, kind: Kind) -> Result<Vec<Check<Layer>>> {
    fetch_inner(repo, &subject.digest, Some(subject), kind)
}

fn fetch_inner(repo: &Repo, digest: &Digest, subject: Option<&Subject>, kind: Kind) -> Result<Vec<Check<Layer>>> {
    let mut out = Vec::new();
    let mut seen = Seen::new();
    let tag = kind.tag(digest)?;
    // The referrers are listed while the tag's manifest and layers are fetched.
    let (tagged, referrers) = std::thread::scope(|s| {
        let listing = s.spawn(|| repo.client.referrers(&repo.name, digest, None));
        let tagged = match repo.client.get_manifest(&repo.name, &tag) {
            Ok(m) => fetch_layers(repo, &m.bytes, |index| Origin::Tag { tag: tag.clone(), index }, &mut out, &mut seen),
            Err(bulwark_registry::Error::NotFound { .. }) => Ok(()),
            Err(e) if fatal(&e) => Err(e.into()),
            Err(e) => {
                out.push(Check { origin: Origin::Tag { tag: tag.clone(), index: 0 }, result: Err(e.into()) });
                Ok(())
            }
        };
        let referrers =
            listing.join().unwrap_or_else(|_| Err(bulwark_registry::Error::invalid("referrers", "panicked")));
        (tagged, referrers)
    });
    tagged?;
    // A broken referrers index (another tool's, or a hostile one) is a failed entry: the
    // signatures under the tag are still checked.
    let referrers = match referrers {
        Ok(r) => r,
        Err(e) if fatal(&e) => return Err(e.into()),
        Err(e) => {
            out.push(Check { origin: Origin::Referrers, result: Err(e.into()) });
            return Ok(out);
        }
    };
    // The referrer manifests Bulwark would have written for the layers fetched so far.
    let known: BTreeSet<Digest> = match subject {
        Some(subject) => out
            .iter()
            .filter_map(|c| c.result.as_ref().ok())
            .map(|layer| Digest::sha256_of(&referrer_manifest(subject, kind, layer)))
            .collect(),
        None => BTreeSet::new(),
    };
    let wanted: Vec<_> = referrers
        .manifests
        .iter()
        .filter(|d| kind.reads(d.artifact_type.as_deref()) && !known.contains(&d.digest))
        .collect();
    if wanted.len() > MAX_REFERRERS {
        out.push(Check {
            origin: Origin::Referrers,
            result: Err(Error::Unsupported {
                what: format!("referrers of {}", repo.display(&digest.to_string())),
                reason: format!("{} referrers; only the first {MAX_REFERRERS} were examined", wanted.len()),
            }),
        });
    }
    let wanted: Vec<_> = wanted.into_iter().take(MAX_REFERRERS).collect();
    let manifests = par_map(&wanted, |d| repo.client.get_manifest(&repo.name, &d.digest.to_string()));
    for (d, fetched) in wanted.into_iter().zip(manifests) {
        match fetched {
            Ok(m) => fetch_layers(
                repo,
                &m.bytes,
                |index| Origin::Referrer { manifest: d.digest.clone(), index },
                &mut out,
                &mut seen,
            )?,
            Err(e) if fatal(&e) => return Err(e.into()),
            Err(e) => out.push(Check {
                origin: Origin::Referrer { manifest: d.digest.clone(), index: 0 },
                result: Err(e.into()),
            }),
        }
    }
    Ok(out)
}

/// Errors that mean nothing could be checked: no answer, no access, a server failing.
fn fatal(e: &bulwark_registry::Error) -> bool {
    use bulwark_registry::Error as E;
    e.is_transient()
        || matches!(
            e,
            E::Auth { .. } | E::Unauthorized { .. } | E::Denied { .. } | E::Token { .. } | E::PlainHttp { .. }
        )
}

/// Layers fetched so far, by descriptor digest and annotations.
type Seen = BTreeSet<(String, std::collections::BTreeMap<String, String>)>;

fn fetch_layers(
    repo: &Repo,
    manifest_bytes: &[u8],
    origin: impl Fn(usize) -> Origin,
    out: &mut Vec<Check<Layer>>,
    seen: &mut Seen,
) -> Result<()> {
    let descriptors = match manifest::parse(manifest_bytes) {
        Ok(d) => d,
        Err(e) => {
            out.push(Check { origin: origin(0), result: Err(e.into()) });
            return Ok(());
        }
    };
    // The referrer copy of a layer already fetched under the tag is not fetched again.
    let todo: Vec<(usize, &manifest::Descriptor)> = descriptors
        .iter()
        .enumerate()
        .filter(|(_, d)| !seen.contains(&(d.digest.clone(), d.annotations.clone())))
        .collect();
    let results = par_map(&todo, |(_, d)| fetch_layer(repo, d));
    for ((index, d), result) in todo.into_iter().zip(results) {
        if let Err(Error::Registry(e)) = &result
            && fatal(e)
        {
            return Err(result.err().unwrap_or_else(|| Error::Internal("unreachable".into())));
        }
        if result.is_ok() && !seen.insert((d.digest.clone(), d.annotations.clone())) {
            continue;
        }
        out.push(Check { origin: origin(index), result });
    }
    Ok(())
}

/// Requests made at once when fetching attachments: registries answer small objects in a
/// few milliseconds each, so 50 signatures fetched one by one take most of a second.
const FETCH_JOBS: usize = 8;

/// `f` over `items` on up to [`FETCH_JOBS`] threads, results in the order of `items`.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    if items.len() <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..FETCH_JOBS.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    // Every slot was filled: a worker that panicked has already propagated its panic
    // out of the scope above.
    slots.into_iter().filter_map(|m| m.into_inner().ok().flatten()).collect()
}

fn fetch_layer(repo: &Repo, d: &manifest::Descriptor) -> Result<Layer> {
    let digest: Digest = d.digest.parse().map_err(|e: bulwark_core::Error| Error::Unsupported {
        what: format!("layer {}", d.digest),
        reason: e.to_string(),
    })?;
    // The descriptor's size is the bound: a registry that sends more is cut off there.
    let blob = repo.client.fetch_blob(&repo.name, &digest, d.size.min(manifest::MAX_LAYER_SIZE))?;
    Ok(Layer::from_descriptor(d, blob)?)
}

/// Fetches and verifies every signature of `subject`. The image is signed if at least
/// one entry is `Ok`; each failure keeps its reason. An empty list means unsigned.
pub fn verify_signatures(repo: &Repo, subject: &Digest, trust: &TrustPolicy) -> Result<Vec<Check<VerifiedSignature>>> {
    Ok(check_signatures(fetch(repo, subject, Kind::Signature)?, subject, trust))
}

/// [`verify_signatures`] of a resolved subject, fetching as [`fetch_subject`] does.
pub fn verify_subject_signatures(
    repo: &Repo,
    subject: &Subject,
    trust: &TrustPolicy,
) -> Result<Vec<Check<VerifiedSignature>>> {
    Ok(check_signatures(fetch_subject(repo, subject, Kind::Signature)?, &subject.digest, trust))
}

fn check_signatures(layers: Vec<Check<Layer>>, subject: &Digest, trust: &TrustPolicy) -> Vec<Check<VerifiedSignature>> {
    let digest = subject.to_string();
    layers
        .into_iter()
        .map(|c| Check {
            origin: c.origin,
            result: c.result.and_then(|layer| Ok(trust.verify_signature(&layer, &digest)?)),
        })
        .collect()
}

/// Fetches and verifies every attestation of `subject`; with `predicate_type`, one of
/// another type is a failure that says so.
pub fn verify_attestations(
    repo: &Repo,
    subject: &Digest,
    trust: &TrustPolicy,
    predicate_type: Option<&str>,
) -> Result<Vec<Check<VerifiedAttestation>>> {
    Ok(check_attestations(fetch(repo, subject, Kind::Attestation)?, subject, trust, predicate_type))
}

/// [`verify_attestations`] of a resolved subject, fetching as [`fetch_subject`] does.
pub fn verify_subject_attestations(
    repo: &Repo,
    subject: &Subject,
    trust: &TrustPolicy,
    predicate_type: Option<&str>,
) -> Result<Vec<Check<VerifiedAttestation>>> {
    Ok(check_attestations(fetch_subject(repo, subject, Kind::Attestation)?, &subject.digest, trust, predicate_type))
}

fn check_attestations(
    layers: Vec<Check<Layer>>,
    subject: &Digest,
    trust: &TrustPolicy,
    predicate_type: Option<&str>,
) -> Vec<Check<VerifiedAttestation>> {
    let digest = subject.to_string();
    layers
        .into_iter()
        .map(|c| Check {
            origin: c.origin,
            result: c.result.and_then(|layer| {
                let verified = trust.verify_attestation(&layer, &digest)?;
                match predicate_type {
                    Some(want) if !same_predicate_type(&verified.statement.predicate_type, want) => {
                        Err(Error::Unsupported {
                            what: "attestation".into(),
                            reason: format!("predicate type {:?}, not {want:?}", verified.statement.predicate_type),
                        })
                    }
                    _ => Ok(verified),
                }
            }),
        })
        .collect()
}

/// cosign's vuln predicate type was written without its scheme by older releases.
fn same_predicate_type(found: &str, want: &str) -> bool {
    use bulwark_sign::intoto::{VULN_PREDICATE_TYPE, VULN_PREDICATE_TYPE_LEGACY};
    found == want
        || (want == VULN_PREDICATE_TYPE && found == VULN_PREDICATE_TYPE_LEGACY)
        || (want == VULN_PREDICATE_TYPE_LEGACY && found == VULN_PREDICATE_TYPE)
}
