//! Rekor transparency-log evidence checked offline: the signed entry timestamp (SET,
//! Rekor's "inclusion promise"), the RFC 6962 inclusion proof, and that the logged entry
//! describes the signature at hand.
//!
//! The SET is Rekor's ECDSA signature over the canonical JSON (keys sorted, no
//! whitespace) of `{"body","integratedTime","logID","logIndex"}`; a valid SET proves the
//! log saw the entry at `integratedTime`, which is the trusted time at which short-lived
//! Fulcio certificates are checked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result, malformed};
use crate::keys::PublicKey;
use crate::pem;

/// The `dev.sigstore.cosign/bundle` annotation: cosign's Rekor bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorBundle {
    /// base64 ECDSA signature by the log over the canonical payload.
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    /// What the log signed.
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

/// The signed part of a [`RekorBundle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorPayload {
    /// base64 of the canonicalised entry body.
    pub body: String,
    /// When the log integrated the entry, unix seconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// The entry's index in the log.
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    /// hex SHA-256 of the log's public key.
    #[serde(rename = "logID")]
    pub log_id: String,
}

impl RekorBundle {
    /// Parses the annotation's JSON.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(|e| malformed("rekor bundle", e))
    }

    /// Verifies the SET with whichever of `log_keys` has the bundle's log id, and returns
    /// the integrated time (unix seconds, never negative).
    pub fn verify_set(&self, log_keys: &[PublicKey]) -> Result<u64> {
        let set = STANDARD
            .decode(&self.signed_entry_timestamp)
            .map_err(|e| Error::BadSet(format!("SignedEntryTimestamp is not base64: {e}")))?;
        let p = &self.payload;
        let canonical = canonical_set_payload(&p.body, p.integrated_time, &p.log_id, p.log_index);
        verify_with_log(log_keys, &p.log_id, &canonical, &set)?;
        u64::try_from(p.integrated_time)
            .map_err(|_| Error::BadSet(format!("negative integratedTime {}", p.integrated_time)))
    }

    /// The decoded entry body.
    pub fn body(&self) -> Result<Vec<u8>> {
        STANDARD.decode(&self.payload.body).map_err(|e| malformed("rekor bundle", format!("body is not base64: {e}")))
    }
}

/// The bytes the SET signs. Written by hand, not through a JSON map, so that key order and
/// number formatting cannot change with serde_json's features.
pub(crate) fn canonical_set_payload(body_b64: &str, integrated: i64, log_id: &str, index: i64) -> Vec<u8> {
    let s = |v: &str| serde_json::to_string(v).unwrap_or_default();
    format!("{{\"body\":{},\"integratedTime\":{integrated},\"logID\":{},\"logIndex\":{index}}}", s(body_b64), s(log_id))
        .into_bytes()
}

pub(crate) fn verify_with_log(log_keys: &[PublicKey], log_id: &str, message: &[u8], sig: &[u8]) -> Result<()> {
    if log_keys.is_empty() {
        return Err(Error::NoTrust("no rekor public key to check the signed entry timestamp".into()));
    }
    let key = log_keys
        .iter()
        .find(|k| k.key_id().eq_ignore_ascii_case(log_id))
        .ok_or_else(|| Error::BadSet(format!("log id {log_id} is not one of the trusted rekor keys")))?;
    key.verify(message, sig).map_err(|_| Error::BadSet(format!("signature does not verify with rekor key {log_id}")))
}

/// What the logged entry must describe.
#[derive(Debug, Clone, Copy)]
pub enum Expected<'a> {
    /// A signature over a blob (cosign's image signatures: `hashedrekord`).
    Blob {
        /// The signed bytes.
        payload: &'a [u8],
        /// The raw signature.
        signature: &'a [u8],
        /// DER of the signer: the certificate, or the SubjectPublicKeyInfo of a key.
        signer_der: &'a [u8],
    },
    /// A DSSE envelope (`intoto` 0.0.1/0.0.2 and `dsse` entries).
    Dsse {
        /// The envelope JSON exactly as it was logged, when known (intoto 0.0.1 hashes it).
        envelope_json: Option<&'a [u8]>,
        /// The envelope's payload.
        payload: &'a [u8],
        /// The raw signature.
        signature: &'a [u8],
        /// DER of the signer.
        signer_der: &'a [u8],
    },
}

/// Checks that the entry body (canonical JSON of a Rekor entry) describes `expected`:
/// same hashes, same signature, same signer. Without this a valid SET for some other
/// entry would vouch for any signature.
pub fn check_body(body: &[u8], expected: Expected<'_>) -> Result<()> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::TlogMismatch(format!("body is not JSON: {e}")))?;
    let kind = v["kind"].as_str().unwrap_or_default();
    let spec = &v["spec"];
    let mismatch = |what: &str| Err(Error::TlogMismatch(what.to_owned()));
    match (kind, expected) {
        ("hashedrekord", Expected::Blob { payload, signature, signer_der }) => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"] != hex::encode(Sha256::digest(payload))
            {
                return mismatch("hashedrekord data hash is not the sha256 of the payload");
            }
            if b64_field(&spec["signature"]["content"])? != signature {
                return mismatch("hashedrekord signature is another signature");
            }
            check_signer(&spec["signature"]["publicKey"]["content"], signer_der)
        }
        ("intoto", Expected::Dsse { envelope_json, payload, signer_der, .. }) => {
            let content = &spec["content"];
            if content["payloadHash"]["value"] != hex::encode(Sha256::digest(payload)) {
                return mismatch("intoto payloadHash is not the sha256 of the envelope payload");
            }
            if v["apiVersion"] == "0.0.1" {
                if let Some(env) = envelope_json
                    && content["hash"]["value"] != hex::encode(Sha256::digest(env))
                {
                    return mismatch("intoto content hash is not the sha256 of the envelope");
                }
                check_signer(&spec["publicKey"], signer_der)
            } else {
                let sigs = content["envelope"]["signatures"].as_array().cloned().unwrap_or_default();
                if sigs.iter().any(|s| check_signer(&s["publicKey"], signer_der).is_ok()) {
                    Ok(())
                } else {
                    mismatch("intoto entry names another signer")
                }
            }
        }
        ("dsse", Expected::Dsse { payload, signature, signer_der, .. }) => {
            if spec["payloadHash"]["value"] != hex::encode(Sha256::digest(payload)) {
                return mismatch("dsse payloadHash is not the sha256 of the envelope payload");
            }
            let sigs = spec["signatures"].as_array().cloned().unwrap_or_default();
            let found = sigs.iter().any(|s| {
                b64_field(&s["signature"]).is_ok_and(|b| b == signature)
                    && check_signer(&s["verifier"], signer_der).is_ok()
            });
            if found { Ok(()) } else { mismatch("dsse entry holds another signature or signer") }
        }
        (kind, _) => Err(Error::TlogMismatch(format!("entry kind {kind:?} does not fit this signature"))),
    }
}

fn b64_field(v: &serde_json::Value) -> Result<Vec<u8>> {
    let text = v.as_str().ok_or_else(|| Error::TlogMismatch("missing base64 field".into()))?;
    STANDARD.decode(text).map_err(|e| Error::TlogMismatch(format!("field is not base64: {e}")))
}

/// A logged signer is base64 of a PEM certificate or public key.
fn check_signer(v: &serde_json::Value, signer_der: &[u8]) -> Result<()> {
    let pem_text = b64_field(v)?;
    let block = pem::parse_one(&pem_text).map_err(|e| Error::TlogMismatch(format!("logged signer: {e}")))?;
    if block.contents == signer_der {
        Ok(())
    } else {
        Err(Error::TlogMismatch("the logged signer is another key or certificate".into()))
    }
}

/// An RFC 6962 inclusion proof as Sigstore bundles carry it.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// Index of the leaf in the tree.
    pub log_index: u64,
    /// Size of the tree the root hash is of.
    pub tree_size: u64,
    /// The expected root hash.
    pub root_hash: Vec<u8>,
    /// Sibling hashes, leaf upwards.
    pub hashes: Vec<Vec<u8>>,
}

impl InclusionProof {
    /// Recomputes the root from the leaf (the canonicalised entry body) and the sibling
    /// hashes, per RFC 9162 section 2.1.3.2, and compares it with `root_hash`.
    ///
    /// This proves the entry is in the tree of that root; that the root is Rekor's needs
    /// the signed checkpoint, which this crate does not verify (the SET does vouch for
    /// the entry on its own).
    pub fn verify(&self, leaf: &[u8]) -> Result<()> {
        let err = |r: &str| Err(Error::BadInclusionProof(r.to_owned()));
        if self.log_index >= self.tree_size {
            return err("log index is outside the tree");
        }
        let mut hash: Vec<u8> = {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(leaf);
            h.finalize().to_vec()
        };
        let (mut fnode, mut snode) = (self.log_index, self.tree_size - 1);
        for sibling in &self.hashes {
            if snode == 0 {
                return err("more hashes than the tree is high");
            }
            let mut h = Sha256::new();
            h.update([1u8]);
            if fnode & 1 == 1 || fnode == snode {
                h.update(sibling);
                h.update(&hash);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                h.update(&hash);
                h.update(sibling);
            }
            hash = h.finalize().to_vec();
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return err("fewer hashes than the tree is high");
        }
        if hash != self.root_hash {
            return err("computed root hash differs from the proof's root hash");
        }
        Ok(())
    }
}
