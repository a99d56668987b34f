//! Signing keys (ECDSA P-256) and public keys (P-256, P-384, RSA, Ed25519).
//!
//! Private keys are read from cosign's encrypted format (see [`crate::encrypted`]),
//! unencrypted PKCS#8 (`PRIVATE KEY`) and SEC1 (`EC PRIVATE KEY`) PEM. Signing is ECDSA
//! P-256 with SHA-256 and an ASN.1 DER signature, which is what `cosign generate-key-pair`
//! keys do and what every cosign-compatible verifier accepts.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self as rsig, EcdsaKeyPair, KeyPair as _};
use sha2::{Digest as _, Sha256};
use x509_cert::der::Decode as _;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use crate::error::{Error, Result, malformed};
use crate::pem;

pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// DER of `SEQUENCE { id-ecPublicKey, prime256v1 }` followed by the BIT STRING header for
/// a 65-byte uncompressed point: the fixed prefix of every P-256 SubjectPublicKeyInfo.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// `SEQUENCE { id-ecPublicKey, prime256v1 }` alone, for wrapping SEC1 keys in PKCS#8.
const P256_ALGORITHM_ID: [u8; 21] = [
    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
    0x01, 0x07,
];

/// An ECDSA P-256 private key that signs with SHA-256.
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: EcdsaKeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key: only which public key it belongs to.
        f.debug_struct("SigningKey").field("public_key", &self.public_key().key_id()).finish()
    }
}

impl SigningKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        let rng = SystemRandom::new();
        let doc =
            EcdsaKeyPair::generate_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).map_err(|_| Error::Random)?;
        Self::from_pkcs8_der(doc.as_ref())
    }

    /// A key from PKCS#8 DER (`PrivateKeyInfo` v1 with the public key, as cosign, Go and
    /// OpenSSL write it).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, der, &SystemRandom::new()).map_err(
            |e| {
                Error::UnsupportedKey(format!(
                    "not an ECDSA P-256 PKCS#8 private key with its public key ({e}); only P-256 keys sign"
                ))
            },
        )?;
        Ok(Self { pkcs8: Zeroizing::new(der.to_vec()), pair })
    }

    /// A key from SEC1 DER (`ECPrivateKey`, OpenSSL's `EC PRIVATE KEY`), which must carry
    /// its public key (OpenSSL always writes it).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self> {
        // PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING }
        let mut body = vec![0x02, 0x01, 0x00];
        body.extend_from_slice(&P256_ALGORITHM_ID);
        body.extend(der_tlv(0x04, der));
        let pkcs8 = Zeroizing::new(der_tlv(0x30, &body));
        body.fill(0);
        Self::from_pkcs8_der(&pkcs8)
    }

    /// A key from a PEM file: cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` (or the older
    /// `ENCRYPTED COSIGN PRIVATE KEY`) with `password`, `PRIVATE KEY` (PKCS#8) or
    /// `EC PRIVATE KEY` (SEC1). The password is ignored for unencrypted keys.
    pub fn from_pem(input: &[u8], password: &[u8]) -> Result<Self> {
        let block = pem::parse_one(input)?;
        let contents = Zeroizing::new(block.contents);
        match block.label.as_str() {
            crate::encrypted::PEM_LABEL | crate::encrypted::PEM_LABEL_LEGACY => {
                let der = crate::encrypted::EncryptedKey::from_json(&contents)?.decrypt(password)?;
                Self::from_pkcs8_der(&der)
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(&contents),
            "EC PRIVATE KEY" => Self::from_sec1_der(&contents),
            "ENCRYPTED PRIVATE KEY" => Err(Error::UnsupportedKey(
                "PKCS#8 PBES2-encrypted keys are not supported; use cosign's format (bulwark key generate) or an unencrypted key".into(),
            )),
            other => Err(Error::UnsupportedKey(format!(
                "PEM label {other:?} is not a private key this crate reads"
            ))),
        }
    }

    /// The PKCS#8 DER of this key (secret: wiped when dropped).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// This key encrypted in cosign's format, as a PEM `ENCRYPTED SIGSTORE PRIVATE KEY`.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String> {
        let enc = crate::encrypted::EncryptedKey::encrypt(&self.pkcs8, password)?;
        Ok(pem::encode(crate::encrypted::PEM_LABEL, &enc.to_json()))
    }

    /// An ASN.1 DER ECDSA P-256 SHA-256 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig = self.pair.sign(&SystemRandom::new(), message).map_err(|_| Error::Random)?;
        Ok(sig.as_ref().to_vec())
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(self.pair.public_key().as_ref());
        PublicKey { spki, kind: KeyKind::EcdsaP256 }
    }
}

/// Which algorithm a public key verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256; cosign signatures use SHA-256.
    EcdsaP256,
    /// ECDSA on P-384; cosign signatures use SHA-384.
    EcdsaP384,
    /// RSA (2048 to 8192 bits); cosign signatures use PKCS#1 v1.5 with SHA-256.
    Rsa,
    /// Ed25519.
    Ed25519,
}

/// A public key, kept as its SubjectPublicKeyInfo DER.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    spki: Vec<u8>,
    kind: KeyKind,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kind", &self.kind).field("key_id", &self.key_id()).finish()
    }
}

/// A signature algorithm, as certificates and DSSE/Rekor name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// ECDSA with SHA-256 (any supported curve).
    EcdsaSha256,
    /// ECDSA with SHA-384 (any supported curve).
    EcdsaSha384,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    RsaPkcs1Sha512,
    /// Ed25519 (pure).
    Ed25519,
}

impl PublicKey {
    /// A key from SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| malformed("public key", format!("SubjectPublicKeyInfo: {e}")))?;
        let oid = spki.algorithm.oid;
        let kind = if oid == OID_EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = spki
                .algorithm
                .parameters
                .ok_or_else(|| malformed("public key", "EC key without a named curve"))?
                .decode_as()
                .map_err(|e| malformed("public key", format!("EC curve: {e}")))?;
            if curve == OID_P256 {
                KeyKind::EcdsaP256
            } else if curve == OID_P384 {
                KeyKind::EcdsaP384
            } else {
                return Err(Error::UnsupportedKey(format!("EC curve {curve}")));
            }
        } else if oid == OID_RSA {
            KeyKind::Rsa
        } else if oid == OID_ED25519 {
            KeyKind::Ed25519
        } else {
            return Err(Error::UnsupportedKey(format!("public key algorithm {oid}")));
        };
        Ok(Self { spki: der.to_vec(), kind })
    }

    /// A key from a `PUBLIC KEY` PEM block (cosign's `.pub` files), or the public key of
    /// a `CERTIFICATE` block.
    pub fn from_pem(input: &[u8]) -> Result<Self> {
        let block = pem::parse_one(input)?;
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&block.contents),
            "CERTIFICATE" => Ok(crate::x509::Certificate::from_der(&block.contents)?.public_key().clone()),
            other => Err(Error::UnsupportedKey(format!("PEM label {other:?} is not a public key"))),
        }
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as a `PUBLIC KEY` PEM block, as cosign writes `cosign.pub`.
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The hex SHA-256 of the SubjectPublicKeyInfo DER: Rekor's log id for its own key,
    /// and a stable name for any key in messages.
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(&self.spki))
    }

    /// Verifies a signature the way cosign signs with this kind of key (P-256: ECDSA
    /// SHA-256, P-384: ECDSA SHA-384, RSA: PKCS#1 v1.5 SHA-256, Ed25519).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let alg = match self.kind {
            KeyKind::EcdsaP256 => SignatureAlgorithm::EcdsaSha256,
            KeyKind::EcdsaP384 => SignatureAlgorithm::EcdsaSha384,
            KeyKind::Rsa => SignatureAlgorithm::RsaPkcs1Sha256,
            KeyKind::Ed25519 => SignatureAlgorithm::Ed25519,
        };
        self.verify_with(alg, message, signature)
    }

    /// Verifies a signature made with `alg`; an algorithm that does not fit the key is an
    /// [`Error::UnsupportedAlgorithm`].
    pub fn verify_with(&self, alg: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> Result<()> {
        use SignatureAlgorithm as A;
        let ring_alg: &dyn rsig::VerificationAlgorithm = match (self.kind, alg) {
            (KeyKind::EcdsaP256, A::EcdsaSha256) => &rsig::ECDSA_P256_SHA256_ASN1,
            (KeyKind::EcdsaP256, A::EcdsaSha384) => &rsig::ECDSA_P256_SHA384_ASN1,
            (KeyKind::EcdsaP384, A::EcdsaSha256) => &rsig::ECDSA_P384_SHA256_ASN1,
            (KeyKind::EcdsaP384, A::EcdsaSha384) => &rsig::ECDSA_P384_SHA384_ASN1,
            (KeyKind::Rsa, A::RsaPkcs1Sha256) => &rsig::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa, A::RsaPkcs1Sha384) => &rsig::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa, A::RsaPkcs1Sha512) => &rsig::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::Ed25519, A::Ed25519) => &rsig::ED25519,
            (kind, alg) => {
                return Err(Error::UnsupportedAlgorithm(format!("{alg:?} signature with a {kind:?} key")));
            }
        };
        // ring takes the BIT STRING contents: the EC point, RSAPublicKey DER or raw key.
        let spki = SubjectPublicKeyInfoRef::from_der(&self.spki).map_err(|e| malformed("public key", e))?;
        let raw = spki.subject_public_key.raw_bytes();
        rsig::UnparsedPublicKey::new(ring_alg, raw)
            .verify(message, signature)
            .map_err(|_| Error::BadSignature { signer: format!("public key sha256:{}", self.key_id()) })
    }
}

/// One DER TLV with a definite length.
pub(crate) fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_and_verifies() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign(b"hello").unwrap();
        let public = PublicKey::from_pem(key.public_key().to_pem().as_bytes()).unwrap();
        assert_eq!(public.kind(), KeyKind::EcdsaP256);
        public.verify(b"hello", &sig).unwrap();
        assert!(matches!(public.verify(b"hellp", &sig), Err(Error::BadSignature { .. })));
        let other = SigningKey::generate().unwrap().public_key();
        assert!(other.verify(b"hello", &sig).is_err());
    }

    #[test]
    fn pkcs8_pem_round_trip() {
        let key = SigningKey::generate().unwrap();
        let pem_text = pem::encode("PRIVATE KEY", key.pkcs8_der());
        let again = SigningKey::from_pem(pem_text.as_bytes(), b"").unwrap();
        assert_eq!(again.public_key(), key.public_key());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_tlv(4, &[0; 3])[..2], [4, 3]);
        assert_eq!(der_tlv(4, &[0; 200])[..3], [4, 0x81, 200]);
        assert_eq!(der_tlv(4, &[0; 300])[..4], [4, 0x82, 1, 44]);
    }
}
