//! cosign's image signatures and attestations as OCI layers: what `bulwark sign` and
//! `bulwark attest` push (as the layers of the `sha256-<hex>.sig` / `.att` manifests or
//! referrers), and what `bulwark verify` checks once it has fetched them.
//!
//! A signature layer's content is the simple-signing payload; its annotations carry the
//! base64 signature and, for keyless and PKI signatures, the certificate, its chain and
//! the Rekor bundle. An attestation layer's content is a DSSE envelope.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::dsse::{self, Envelope};
use crate::error::{Error, Result, malformed};
use crate::intoto::Statement;
use crate::keys::{PublicKey, SigningKey};
use crate::rekor::{self, RekorBundle};
use crate::trust::TrustedRoot;
use crate::x509::{self, Certificate};

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// `critical.type` of a cosign signature payload.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// Annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Annotation holding the signer's PEM certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Annotation holding the PEM chain above the certificate.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Annotation holding the Rekor bundle JSON.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Annotation naming an attestation's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// The `dir:` transport serialisation of containers/image (skopeo, podman).
const CONTAINERS_IMAGE_PREFIX: &[u8] = b"\x00sigstore-json\n";

/// The simple-signing payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    /// What is signed.
    pub critical: Critical,
    /// Unsigned-by-meaning extras (cosign `-a key=value` annotations), `null` when none.
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

/// `critical`: the identity and digest that the signature vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Critical {
    /// The image name.
    pub identity: Identity,
    /// The manifest digest.
    pub image: Image,
    /// [`SIGNATURE_TYPE`].
    #[serde(rename = "type")]
    pub type_: String,
}

/// `critical.identity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The repository (cosign) or reference (containers/image) signed.
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

/// `critical.image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// `sha256:<hex>`.
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// A payload for `docker_reference` at `manifest_digest`, with annotations.
    pub fn new(docker_reference: &str, manifest_digest: &str, annotations: &BTreeMap<String, String>) -> Result<Self> {
        split_digest(manifest_digest)?;
        Ok(Self {
            critical: Critical {
                identity: Identity { docker_reference: docker_reference.to_owned() },
                image: Image { docker_manifest_digest: manifest_digest.to_owned() },
                type_: SIGNATURE_TYPE.to_owned(),
            },
            optional: (!annotations.is_empty())
                .then(|| annotations.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()),
        })
    }

    /// Parses payload bytes and checks the type.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let p: Self = serde_json::from_slice(json).map_err(|e| malformed("simple-signing payload", e))?;
        if p.critical.type_ != SIGNATURE_TYPE {
            return Err(Error::WrongPayloadType(p.critical.type_));
        }
        Ok(p)
    }

    /// The payload bytes, in cosign's field order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Splits `sha256:<64 hex>` into its parts; other algorithms and lengths are refused.
pub fn split_digest(digest: &str) -> Result<(&str, &str)> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(("sha256", hex)),
        _ => Err(malformed("digest", format!("{digest:?} is not sha256:<64 hex digits>"))),
    }
}

/// The tag cosign stores an image's signatures under: `sha256-<hex>.sig`.
pub fn signature_tag(manifest_digest: &str) -> Result<String> {
    let (alg, hex) = split_digest(manifest_digest)?;
    Ok(format!("{alg}-{hex}.sig"))
}

/// The tag cosign stores an image's attestations under: `sha256-<hex>.att`.
pub fn attestation_tag(manifest_digest: &str) -> Result<String> {
    let (alg, hex) = split_digest(manifest_digest)?;
    Ok(format!("{alg}-{hex}.att"))
}

/// One layer of a cosign signature or attestation manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The layer's media type.
    pub media_type: String,
    /// The layer's bytes (the payload, or the DSSE envelope JSON).
    pub content: Vec<u8>,
    /// The layer descriptor's annotations.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainersImageSignature {
    mime_type: String,
    payload: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl Layer {
    /// `sha256:<hex>` of the content, for the layer descriptor.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.content)))
    }

    /// The layer as containers/image stores a signature in a `dir:` image, the inverse of
    /// [`Layer::from_containers_image`]: skopeo and podman verify it from there.
    pub fn to_containers_image(&self) -> Vec<u8> {
        let json = ContainersImageSignature {
            mime_type: self.media_type.clone(),
            payload: STANDARD.encode(&self.content),
            annotations: self.annotations.clone(),
        };
        let mut out = CONTAINERS_IMAGE_PREFIX.to_vec();
        out.extend(serde_json::to_vec(&json).unwrap_or_default());
        out
    }

    /// A signature as containers/image stores one in a `dir:` image (`signature-N`
    /// files: `\0sigstore-json\n` then JSON with mimeType, base64 payload, annotations).
    pub fn from_containers_image(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "containers/image sigstore signature";
        let json = bytes
            .strip_prefix(CONTAINERS_IMAGE_PREFIX)
            .ok_or_else(|| malformed(WHAT, "missing the \\0sigstore-json prefix"))?;
        let sig: ContainersImageSignature = serde_json::from_slice(json).map_err(|e| malformed(WHAT, e))?;
        Ok(Self {
            media_type: sig.mime_type,
            content: STANDARD.decode(&sig.payload).map_err(|e| malformed(WHAT, e))?,
            annotations: sig.annotations,
        })
    }
}

/// Signs an image: the simple-signing payload for `docker_reference` at `manifest_digest`
/// with `annotations` in `optional`, and the signature annotation. Push the result as a
/// layer of the `sha256-<hex>.sig` manifest (appending to the layers already there).
pub fn sign_image(
    key: &SigningKey,
    docker_reference: &str,
    manifest_digest: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Layer> {
    let content = SimpleSigning::new(docker_reference, manifest_digest, annotations)?.to_json();
    let signature = key.sign(&content)?;
    Ok(Layer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        content,
        annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature))]),
    })
}

/// Attests: a DSSE envelope over `statement`, as the layer of the `sha256-<hex>.att`
/// manifest. cosign puts an empty signature annotation on attestation layers (the
/// signature is inside the envelope) and names the predicate type.
pub fn attest_image(key: &SigningKey, statement: &Statement) -> Result<Layer> {
    let payload = serde_json::to_vec(statement).map_err(|e| malformed("in-toto statement", e))?;
    let envelope = Envelope::sign(key, dsse::IN_TOTO_PAYLOAD_TYPE, &payload)?;
    Ok(Layer {
        media_type: dsse::DSSE_LAYER_MEDIA_TYPE.to_owned(),
        content: envelope.to_json(),
        annotations: BTreeMap::from([
            (SIGNATURE_ANNOTATION.to_owned(), String::new()),
            (PREDICATE_TYPE_ANNOTATION.to_owned(), statement.predicate_type.clone()),
        ]),
    })
}

/// The identity a certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// Exact SAN (email, URI or DNS name).
    pub subject: String,
    /// Exact OIDC issuer (Fulcio extension); `None` accepts any (PKI certificates have none).
    pub issuer: Option<String>,
}

/// What signatures are trusted.
///
/// A signature is accepted if it verifies with **any one** of `keys`, or its certificate
/// chains to `ca_roots` (bring-your-own PKI) or to a CA of `trusted_root` (keyless), with
/// the required identity. Keyless signatures also need a Rekor bundle whose SET verifies,
/// and their certificate is checked at the Rekor integrated time.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// Public keys.
    pub keys: Vec<PublicKey>,
    /// Bring-your-own PKI trust anchors.
    pub ca_roots: Vec<Certificate>,
    /// Extra untrusted intermediates for PKI chains.
    pub ca_intermediates: Vec<Certificate>,
    /// Sigstore trusted root for keyless signatures (Fulcio CAs and Rekor keys).
    pub trusted_root: Option<TrustedRoot>,
    /// Rekor keys in addition to the trusted root's.
    pub rekor_keys: Vec<PublicKey>,
    /// Required certificate identity; mandatory with a trusted root.
    pub identity: Option<CertificateIdentity>,
    /// Refuse signatures without a verified Rekor SET.
    pub require_tlog: bool,
    /// The current time (unix seconds) for certificates without a Rekor time; `None` is
    /// the system clock.
    pub now: Option<u64>,
}

/// Who made a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A public key, by its key id (hex SHA-256 of the SubjectPublicKeyInfo).
    Key {
        /// The key id.
        key_id: String,
    },
    /// A certificate.
    Certificate {
        /// Subject (RFC 4514), empty for Fulcio leaves.
        subject: String,
        /// SANs.
        identities: Vec<String>,
        /// Fulcio OIDC issuer, if any.
        issuer: Option<String>,
    },
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSignature {
    /// The payload.
    pub payload: SimpleSigning,
    /// Who signed.
    pub signer: Signer,
    /// The Rekor integrated time when a SET verified.
    pub integrated_time: Option<u64>,
}

/// An attestation that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAttestation {
    /// The statement (its subject covers the digest).
    pub statement: Statement,
    /// Who signed.
    pub signer: Signer,
    /// The Rekor integrated time when a SET verified.
    pub integrated_time: Option<u64>,
}

impl TrustPolicy {
    /// The Rekor keys trusted at `at` (all of them when `None`).
    pub fn rekor_keys_at(&self, at: Option<u64>) -> Vec<PublicKey> {
        let mut keys = self.rekor_keys.clone();
        if let Some(root) = &self.trusted_root {
            keys.extend(root.rekor_keys_at(at));
        }
        keys
    }

    fn has_cert_trust(&self) -> bool {
        !self.ca_roots.is_empty() || self.trusted_root.is_some()
    }

    fn now(&self) -> u64 {
        self.now.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
        })
    }

    /// Verifies the Rekor bundle annotation when there is one and Rekor keys to check it
    /// with. A bundle that is present but fails is an error, never ignored.
    fn tlog(&self, annotations: &BTreeMap<String, String>) -> Result<Option<(RekorBundle, u64)>> {
        let Some(text) = annotations.get(BUNDLE_ANNOTATION) else {
            return if self.require_tlog { Err(Error::MissingTlog) } else { Ok(None) };
        };
        let bundle = RekorBundle::from_json(text.as_bytes())?;
        let keys = self.rekor_keys_at(None);
        if keys.is_empty() {
            return if self.require_tlog {
                Err(Error::NoTrust("a rekor bundle is required but no rekor key was given".into()))
            } else {
                Ok(None)
            };
        }
        let at = bundle.verify_set(&keys)?;
        // The log key must have been valid when it integrated the entry.
        bundle.verify_set(&self.rekor_keys_at(Some(at)))?;
        Ok(Some((bundle, at)))
    }

    /// Finds who signed `message` with `signature`: the certificate annotation under
    /// certificate trust, else the keys.
    pub(crate) fn signer_for(
        &self,
        annotations: &BTreeMap<String, String>,
        integrated: Option<u64>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(Signer, Vec<u8>)> {
        if let Some(cert_pem) = annotations.get(CERTIFICATE_ANNOTATION).filter(|c| !c.is_empty())
            && self.has_cert_trust()
        {
            let leaf = Certificate::from_pem(cert_pem.as_bytes())?;
            let chain = match annotations.get(CHAIN_ANNOTATION) {
                Some(chain) if !chain.is_empty() => Certificate::from_pem_all(chain.as_bytes())?,
                _ => Vec::new(),
            };
            let signer = self.check_certificate(&leaf, &chain, integrated)?;
            leaf.public_key()
                .verify(message, signature)
                .map_err(|_| Error::BadSignature { signer: format!("certificate {:?}", leaf.display_name()) })?;
            return Ok((signer, leaf.der().to_vec()));
        }
        if self.keys.is_empty() {
            return Err(Error::NoTrust(if annotations.contains_key(CERTIFICATE_ANNOTATION) {
                "the signature has a certificate but no trusted root or CA roots were given".into()
            } else {
                "no public key was given".into()
            }));
        }
        for key in &self.keys {
            if key.verify(message, signature).is_ok() {
                return Ok((Signer::Key { key_id: key.key_id() }, key.spki_der().to_vec()));
            }
        }
        Err(Error::NoKeyVerifies { count: self.keys.len() })
    }

    /// Checks a certificate's chain, time and identity. Keyless (trusted root) needs the
    /// Rekor time; PKI certificates without one are checked now.
    pub fn check_certificate(
        &self,
        leaf: &Certificate,
        chain: &[Certificate],
        integrated: Option<u64>,
    ) -> Result<Signer> {
        let at = match integrated {
            Some(t) => t,
            None if self.trusted_root.is_some() && self.ca_roots.is_empty() => return Err(Error::MissingTlog),
            None => self.now(),
        };
        let mut anchors = self.ca_roots.clone();
        if let Some(root) = &self.trusted_root {
            if self.identity.is_none() {
                return Err(Error::NoTrust(
                    "keyless verification needs the certificate identity and OIDC issuer".into(),
                ));
            }
            if integrated.is_some() {
                anchors.extend(root.anchors_at(at));
            }
        }
        let mut intermediates = chain.to_vec();
        intermediates.extend(self.ca_intermediates.iter().cloned());
        x509::verify_chain(leaf, &intermediates, &anchors, at)?;
        let identities = leaf.identities();
        let issuer = leaf.oidc_issuer();
        if let Some(required) = &self.identity {
            if !identities.contains(&required.subject) {
                return Err(Error::IdentityMismatch { expected: required.subject.clone(), found: identities });
            }
            if let Some(want) = &required.issuer
                && issuer.as_deref() != Some(want.as_str())
            {
                return Err(Error::IssuerMismatch { expected: want.clone(), found: issuer });
            }
        }
        Ok(Signer::Certificate { subject: leaf.subject(), identities, issuer })
    }

    /// Verifies one fetched signature layer for the image `manifest_digest`.
    ///
    /// Order: media type, Rekor SET (if any), signer (certificate chain, identity, or
    /// keys) and signature, that the log entry is this signature, and last the payload:
    /// its type and that it names `manifest_digest` (a payload for another image is a
    /// replay and fails with [`Error::DigestMismatch`]).
    pub fn verify_signature(&self, layer: &Layer, manifest_digest: &str) -> Result<VerifiedSignature> {
        if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
            return Err(Error::WrongMediaType { found: layer.media_type.clone(), expected: SIMPLE_SIGNING_MEDIA_TYPE });
        }
        let sig_b64 =
            layer.annotations.get(SIGNATURE_ANNOTATION).ok_or(Error::MissingAnnotation(SIGNATURE_ANNOTATION))?;
        // Go's decoder skips line breaks, and cosign's PKI signatures are wrapped at 76
        // columns, so ours does too.
        let compact: String = sig_b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let signature = STANDARD.decode(compact).map_err(|e| malformed("signature annotation", e))?;
        let tlog = self.tlog(&layer.annotations)?;
        let integrated = tlog.as_ref().map(|(_, t)| *t);
        let (signer, signer_der) = self.signer_for(&layer.annotations, integrated, &layer.content, &signature)?;
        if let Some((bundle, _)) = &tlog {
            rekor::check_body(
                &bundle.body()?,
                rekor::Expected::Blob { payload: &layer.content, signature: &signature, signer_der: &signer_der },
            )?;
        }
        let payload = SimpleSigning::from_json(&layer.content)?;
        if !payload.critical.image.docker_manifest_digest.eq_ignore_ascii_case(manifest_digest) {
            return Err(Error::DigestMismatch {
                expected: manifest_digest.to_owned(),
                found: payload.critical.image.docker_manifest_digest,
            });
        }
        Ok(VerifiedSignature { payload, signer, integrated_time: integrated })
    }

    /// Verifies every layer; the image is signed if at least one result is `Ok`. Each
    /// failure keeps its own reason for the report.
    pub fn verify_signatures(&self, layers: &[Layer], manifest_digest: &str) -> Vec<Result<VerifiedSignature>> {
        layers.iter().map(|l| self.verify_signature(l, manifest_digest)).collect()
    }

    /// Verifies one fetched attestation layer (a DSSE envelope) for `manifest_digest`:
    /// the envelope signature, the Rekor entry if any, an in-toto statement whose
    /// subject covers the digest.
    pub fn verify_attestation(&self, layer: &Layer, manifest_digest: &str) -> Result<VerifiedAttestation> {
        if layer.media_type != dsse::DSSE_LAYER_MEDIA_TYPE {
            return Err(Error::WrongMediaType {
                found: layer.media_type.clone(),
                expected: dsse::DSSE_LAYER_MEDIA_TYPE,
            });
        }
        let envelope = Envelope::from_json(&layer.content)?;
        let (statement, signer, integrated) =
            self.verify_envelope(&envelope, Some(&layer.content), &layer.annotations)?;
        if !statement.covers(manifest_digest) {
            return Err(Error::DigestMismatch {
                expected: manifest_digest.to_owned(),
                found: statement
                    .subject
                    .iter()
                    .filter_map(|s| s.digest.get("sha256").map(|h| format!("sha256:{h}")))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(VerifiedAttestation { statement, signer, integrated_time: integrated })
    }

    /// Verifies a DSSE envelope whose certificate and Rekor bundle come as cosign
    /// annotations (or as separate files, put into `annotations` under the same keys).
    pub fn verify_envelope(
        &self,
        envelope: &Envelope,
        envelope_json: Option<&[u8]>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(Statement, Signer, Option<u64>)> {
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(Error::Dsse(format!("payload type {:?} is not in-toto", envelope.payload_type)));
        }
        let payload = envelope.payload_bytes()?;
        let message = dsse::pae(&envelope.payload_type, &payload);
        let tlog = self.tlog(annotations)?;
        let integrated = tlog.as_ref().map(|(_, t)| *t);
        let mut last_err = Error::Dsse("no signatures".into());
        for signature in envelope.signature_bytes()? {
            match self.signer_for(annotations, integrated, &message, &signature) {
                Ok((signer, signer_der)) => {
                    if let Some((bundle, _)) = &tlog {
                        rekor::check_body(
                            &bundle.body()?,
                            rekor::Expected::Dsse {
                                envelope_json,
                                payload: &payload,
                                signature: &signature,
                                signer_der: &signer_der,
                            },
                        )?;
                    }
                    return Ok((Statement::from_json(&payload)?, signer, integrated));
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }
}
