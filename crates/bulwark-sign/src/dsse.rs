//! DSSE (Dead Simple Signing Envelope) v1: the envelope cosign and in-toto use for
//! attestations. The signature is over the pre-authentication encoding (PAE)
//! `"DSSEv1" SP len(type) SP type SP len(body) SP body`, never over the JSON, so the
//! envelope's own encoding does not matter.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, malformed};
use crate::keys::{PublicKey, SigningKey};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The OCI layer media type cosign gives an attestation (the envelope JSON).
pub const DSSE_LAYER_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// The most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 16;

/// The PAE of a payload.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Optional hint naming the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// base64 signature over the PAE.
    pub sig: String,
}

/// A DSSE envelope as JSON carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload's media type.
    pub payload_type: String,
    /// base64 of the payload.
    pub payload: String,
    /// Signatures over the PAE.
    pub signatures: Vec<Signature>,
}

/// The spec allows standard or URL-safe base64, padded or not.
pub(crate) fn decode_b64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()
}

impl Envelope {
    /// Parses envelope JSON.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let env: Self = serde_json::from_slice(json).map_err(|e| malformed("DSSE envelope", e))?;
        if env.signatures.is_empty() {
            return Err(malformed("DSSE envelope", "no signatures"));
        }
        // Each signature is tried against every trusted key; real envelopes carry one or
        // two, so a long list is an attempt to make verification expensive.
        if env.signatures.len() > MAX_SIGNATURES {
            return Err(malformed(
                "DSSE envelope",
                format!("{} signatures, more than the {MAX_SIGNATURES} accepted", env.signatures.len()),
            ));
        }
        Ok(env)
    }

    /// The envelope as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Signs `payload` with `key`.
    pub fn sign(key: &SigningKey, payload_type: &str, payload: &[u8]) -> Result<Self> {
        let sig = key.sign(&pae(payload_type, payload))?;
        Ok(Self {
            payload_type: payload_type.to_owned(),
            payload: STANDARD.encode(payload),
            signatures: vec![Signature { keyid: String::new(), sig: STANDARD.encode(sig) }],
        })
    }

    /// The decoded payload (not yet verified).
    pub fn payload_bytes(&self) -> Result<Vec<u8>> {
        decode_b64(&self.payload).ok_or_else(|| malformed("DSSE envelope", "payload is not base64"))
    }

    /// The decoded signatures, in order; undecodable ones are an error.
    pub fn signature_bytes(&self) -> Result<Vec<Vec<u8>>> {
        self.signatures
            .iter()
            .map(|s| decode_b64(&s.sig).ok_or_else(|| malformed("DSSE envelope", "signature is not base64")))
            .collect()
    }

    /// Verifies that at least one signature verifies with at least one of `keys`;
    /// returns the payload and the signature that verified.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<(Vec<u8>, Vec<u8>, PublicKey)> {
        if keys.is_empty() {
            return Err(Error::NoTrust("no public key for the DSSE envelope".into()));
        }
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        for sig in self.signature_bytes()? {
            for key in keys {
                if key.verify(&message, &sig).is_ok() {
                    return Ok((payload, sig, key.clone()));
                }
            }
        }
        Err(Error::Dsse(format!(
            "none of its {} signature(s) verifies with the {} given key(s)",
            self.signatures.len(),
            keys.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // The example in the DSSE protocol description (secure-systems-lab/dsse protocol.md).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_verify_and_tamper() {
        let key = SigningKey::generate().unwrap();
        let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, b"{}").unwrap();
        let parsed = Envelope::from_json(&env.to_json()).unwrap();
        let (payload, _, _) = parsed.verify(&[key.public_key()]).unwrap();
        assert_eq!(payload, b"{}");
        let mut tampered = parsed.clone();
        tampered.payload = STANDARD.encode(b"{ }");
        assert!(matches!(tampered.verify(&[key.public_key()]), Err(Error::Dsse(_))));
        let mut retyped = parsed;
        retyped.payload_type = "text/plain".into();
        assert!(retyped.verify(&[key.public_key()]).is_err());
    }

    #[test]
    fn too_many_signatures_are_refused() {
        let key = SigningKey::generate().unwrap();
        let mut env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, b"{}").unwrap();
        env.signatures = vec![env.signatures[0].clone(); MAX_SIGNATURES + 1];
        assert!(matches!(Envelope::from_json(&env.to_json()), Err(Error::Malformed { .. })));
    }
}
