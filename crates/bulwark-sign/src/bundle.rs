//! Sigstore bundles (`application/vnd.dev.sigstore.bundle+json;version=0.1|0.2`,
//! `application/vnd.dev.sigstore.bundle.v0.3+json`): one JSON document with the DSSE
//! envelope, the signer's certificate (or a key hint) and the Rekor entry with its
//! inclusion promise and proof. `cosign attest --new-bundle-format` writes these.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer};

use crate::cosign::{CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, TrustPolicy, VerifiedAttestation};
use crate::dsse::{self, Envelope};
use crate::error::{Error, Result, malformed};
use crate::intoto::Statement;
use crate::rekor::{self, InclusionProof};
use crate::x509::Certificate;

const WHAT: &str = "sigstore bundle";

/// A parsed bundle.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// The bundle media type (version).
    pub media_type: String,
    /// Certificate or key, and transparency-log entries.
    pub verification_material: VerificationMaterial,
    /// The signed envelope (attestations).
    pub dsse_envelope: Option<Envelope>,
    /// A signature over an artifact digest (blobs); not verified by this crate.
    pub message_signature: Option<serde_json::Value>,
}

/// `verificationMaterial`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// v0.3: the leaf alone.
    pub certificate: Option<RawBytes>,
    /// v0.1/v0.2: leaf first, then the chain.
    pub x509_certificate_chain: Option<CertificateChain>,
    /// A key named by hint, for key-based bundles.
    pub public_key: Option<serde_json::Value>,
    /// Rekor entries.
    #[serde(default)]
    pub tlog_entries: Vec<TlogEntry>,
}

/// `{"rawBytes": base64}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// base64 DER.
    pub raw_bytes: String,
}

/// `x509CertificateChain`.
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateChain {
    /// Leaf first.
    pub certificates: Vec<RawBytes>,
}

/// One Rekor entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    /// Index in the log (protobuf JSON writes int64 as a string).
    #[serde(deserialize_with = "int64")]
    pub log_index: i64,
    /// `{"keyId": base64 SHA-256 of the log key}`.
    pub log_id: LogId,
    /// Entry kind and version, e.g. `dsse` `0.0.1`.
    pub kind_version: KindVersion,
    /// Unix seconds.
    #[serde(deserialize_with = "int64")]
    pub integrated_time: i64,
    /// The SET.
    pub inclusion_promise: Option<InclusionPromise>,
    /// The Merkle proof.
    pub inclusion_proof: Option<RawInclusionProof>,
    /// base64 of the canonical entry body.
    pub canonicalized_body: String,
}

/// `logId`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// base64 key id.
    pub key_id: String,
}

/// `kindVersion`.
#[derive(Debug, Clone, Deserialize)]
pub struct KindVersion {
    /// e.g. `dsse`, `intoto`, `hashedrekord`.
    pub kind: String,
    /// e.g. `0.0.1`.
    pub version: String,
}

/// `inclusionPromise`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// base64 SET.
    pub signed_entry_timestamp: String,
}

/// `inclusionProof`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawInclusionProof {
    /// Leaf index within the tree of `tree_size`.
    #[serde(deserialize_with = "int64")]
    pub log_index: i64,
    /// base64 root hash.
    pub root_hash: String,
    /// Tree size.
    #[serde(deserialize_with = "int64")]
    pub tree_size: i64,
    /// base64 sibling hashes.
    #[serde(default)]
    pub hashes: Vec<String>,
}

fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
    }
    match N::deserialize(d)? {
        N::I(i) => Ok(i),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

impl Bundle {
    /// Parses a bundle and checks its media type.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let bundle: Self = serde_json::from_slice(json).map_err(|e| malformed(WHAT, e))?;
        let known = [
            "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "application/vnd.dev.sigstore.bundle+json;version=0.3",
            "application/vnd.dev.sigstore.bundle.v0.3+json",
        ];
        if !known.contains(&bundle.media_type.as_str()) {
            return Err(malformed(WHAT, format!("unknown mediaType {:?}", bundle.media_type)));
        }
        Ok(bundle)
    }

    /// The signer's certificate and chain, leaf first (empty for key-based bundles).
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        let vm = &self.verification_material;
        let raw: Vec<&RawBytes> = match (&vm.certificate, &vm.x509_certificate_chain) {
            (Some(leaf), _) => vec![leaf],
            (None, Some(chain)) => chain.certificates.iter().collect(),
            (None, None) => Vec::new(),
        };
        raw.into_iter()
            .map(|r| {
                let der = STANDARD.decode(&r.raw_bytes).map_err(|e| malformed(WHAT, e))?;
                Certificate::from_der(&der)
            })
            .collect()
    }
}

impl TlogEntry {
    /// Verifies the SET against `policy`'s Rekor keys and the inclusion proof if there is
    /// one; returns the integrated time and the decoded body.
    fn verify(&self, policy: &TrustPolicy) -> Result<(u64, Vec<u8>)> {
        let body = STANDARD
            .decode(&self.canonicalized_body)
            .map_err(|e| malformed(WHAT, format!("canonicalizedBody: {e}")))?;
        let promise = self
            .inclusion_promise
            .as_ref()
            .ok_or_else(|| Error::BadSet("the entry has no inclusion promise (signed entry timestamp)".into()))?;
        let set =
            STANDARD.decode(&promise.signed_entry_timestamp).map_err(|e| Error::BadSet(format!("not base64: {e}")))?;
        let log_id =
            hex::encode(STANDARD.decode(&self.log_id.key_id).map_err(|e| malformed(WHAT, format!("logId: {e}")))?);
        let at = u64::try_from(self.integrated_time)
            .map_err(|_| Error::BadSet(format!("negative integratedTime {}", self.integrated_time)))?;
        let canonical =
            rekor::canonical_set_payload(&STANDARD.encode(&body), self.integrated_time, &log_id, self.log_index);
        rekor::verify_with_log(&policy.rekor_keys_at(Some(at)), &log_id, &canonical, &set)?;
        if let Some(proof) = &self.inclusion_proof {
            let b64 = |s: &str| STANDARD.decode(s).map_err(|e| Error::BadInclusionProof(format!("not base64: {e}")));
            InclusionProof {
                log_index: u64::try_from(proof.log_index)
                    .map_err(|_| Error::BadInclusionProof("negative log index".into()))?,
                tree_size: u64::try_from(proof.tree_size)
                    .map_err(|_| Error::BadInclusionProof("negative tree size".into()))?,
                root_hash: b64(&proof.root_hash)?,
                hashes: proof.hashes.iter().map(|h| b64(h)).collect::<Result<_>>()?,
            }
            .verify(&body)?;
        }
        Ok((at, body))
    }
}

impl TrustPolicy {
    /// Verifies a Sigstore bundle that holds a DSSE attestation: the Rekor SET (and the
    /// inclusion proof when present), the certificate chain at the integrated time and
    /// the identity, the envelope signature, that the log entry is this envelope, and
    /// returns the in-toto statement. The caller checks the statement's subject.
    pub fn verify_bundle(&self, bundle: &Bundle) -> Result<VerifiedAttestation> {
        let envelope = bundle.dsse_envelope.as_ref().ok_or_else(|| {
            Error::UnsupportedAlgorithm(
                "bundles with a messageSignature (blob signatures) are not verified here".into(),
            )
        })?;
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(Error::Dsse(format!("payload type {:?} is not in-toto", envelope.payload_type)));
        }
        let entry = match bundle.verification_material.tlog_entries.first() {
            Some(entry) => Some(entry.verify(self)?),
            None if self.require_tlog || self.trusted_root.is_some() => return Err(Error::MissingTlog),
            None => None,
        };
        let integrated = entry.as_ref().map(|(t, _)| *t);
        let certs = bundle.certificates()?;
        let mut annotations = BTreeMap::new();
        if let Some((leaf, chain)) = certs.split_first() {
            annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), leaf.to_pem());
            annotations.insert(CHAIN_ANNOTATION.to_owned(), chain.iter().map(Certificate::to_pem).collect::<String>());
        }
        let payload = envelope.payload_bytes()?;
        let message = dsse::pae(&envelope.payload_type, &payload);
        let mut last_err = Error::Dsse("no signatures".into());
        for signature in envelope.signature_bytes()? {
            match self.signer_for(&annotations, integrated, &message, &signature) {
                Ok((signer, signer_der)) => {
                    if let Some((_, body)) = &entry {
                        rekor::check_body(
                            body,
                            rekor::Expected::Dsse {
                                envelope_json: None,
                                payload: &payload,
                                signature: &signature,
                                signer_der: &signer_der,
                            },
                        )?;
                    }
                    return Ok(VerifiedAttestation {
                        statement: Statement::from_json(&payload)?,
                        signer,
                        integrated_time: integrated,
                    });
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }
}
