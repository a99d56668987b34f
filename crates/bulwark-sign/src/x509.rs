//! X.509 certificates: Fulcio leaves, bring-your-own PKI, chain building to trust anchors.
//!
//! Chain validation here is the part of RFC 5280 path validation that code signing needs:
//! names chain, every signature verifies, every certificate is valid at the given time
//! (for keyless signatures, Rekor's integrated time, because Fulcio leaves live ten
//! minutes), issuers are CAs allowed to sign certificates, path lengths hold, the leaf
//! may sign code, and no unknown extension is critical. Name constraints and policy
//! mappings are not implemented, so a certificate that marks them critical is refused.

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName, name::GeneralName};

use crate::error::{Error, Result, malformed};
use crate::keys::{PublicKey, SignatureAlgorithm};
use crate::pem;

const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const OID_EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// Fulcio's first OIDC issuer extension: the issuer URL as raw bytes (deprecated).
pub const OID_FULCIO_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension: a DER UTF8String.
pub const OID_FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");

/// Extensions we understand, so they may be critical.
const KNOWN_CRITICAL: [ObjectIdentifier; 4] = [OID_SAN, OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, OID_EKU];

/// The longest chain we build, counting leaf and root.
const MAX_CHAIN: usize = 8;

/// A parsed certificate and its public key.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    public_key: PublicKey,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Certificate {
    /// A certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| malformed("certificate", e.to_string()))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| malformed("certificate", e.to_string()))?;
        let public_key = PublicKey::from_spki_der(&spki)?;
        Ok(Self { der: der.to_vec(), cert, public_key })
    }

    /// Every `CERTIFICATE` block of a PEM text (other blocks are an error).
    pub fn from_pem_all(input: &[u8]) -> Result<Vec<Self>> {
        pem::parse_all(input)?
            .into_iter()
            .map(|block| {
                if block.label != "CERTIFICATE" {
                    return Err(malformed("certificate", format!("PEM block {:?} is not a CERTIFICATE", block.label)));
                }
                Self::from_der(&block.contents)
            })
            .collect()
    }

    /// The one certificate of a PEM text.
    pub fn from_pem(input: &[u8]) -> Result<Self> {
        let mut all = Self::from_pem_all(input)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(malformed("certificate", format!("expected one certificate, found {n}"))),
        }
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM text.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    /// The subject public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The subject as an RFC 4514 string (empty for Fulcio leaves).
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// A name for messages: the subject, or the first SAN when the subject is empty.
    pub fn display_name(&self) -> String {
        let subject = self.subject();
        if subject.is_empty() { self.identities().into_iter().next().unwrap_or_default() } else { subject }
    }

    /// notBefore, unix seconds.
    pub fn not_before(&self) -> u64 {
        self.cert.tbs_certificate.validity.not_before.to_unix_duration().as_secs()
    }

    /// notAfter, unix seconds.
    pub fn not_after(&self) -> u64 {
        self.cert.tbs_certificate.validity.not_after.to_unix_duration().as_secs()
    }

    /// Fails unless `at` (unix seconds) is within the validity period.
    pub fn check_valid_at(&self, at: u64) -> Result<()> {
        if at < self.not_before() || at > self.not_after() {
            return Err(Error::CertificateNotValid {
                subject: self.display_name(),
                at,
                not_before: self.not_before(),
                not_after: self.not_after(),
            });
        }
        Ok(())
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    /// The subject alternative names a signer identity can be: email addresses, URIs
    /// (workflow identities, SPIFFE ids) and DNS names, in certificate order.
    pub fn identities(&self) -> Vec<String> {
        let Some(value) = self.extension(OID_SAN) else {
            return Vec::new();
        };
        let Ok(san) = SubjectAltName::from_der(value) else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|name| match name {
                GeneralName::Rfc822Name(s) => Some(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
                GeneralName::DnsName(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The OIDC issuer Fulcio recorded: extension 1.3.6.1.4.1.57264.1.8 (a UTF8String),
    /// else the deprecated 1.3.6.1.4.1.57264.1.1 (raw bytes).
    pub fn oidc_issuer(&self) -> Option<String> {
        if let Some(value) = self.extension(OID_FULCIO_ISSUER_V2) {
            return x509_cert::der::asn1::Utf8StringRef::from_der(value).ok().map(|s| s.as_str().to_owned());
        }
        self.extension(OID_FULCIO_ISSUER_V1).and_then(|v| std::str::from_utf8(v).ok()).map(str::to_owned)
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>> {
        self.extension(OID_BASIC_CONSTRAINTS)
            .map(BasicConstraints::from_der)
            .transpose()
            .map_err(|e| malformed("certificate", format!("basicConstraints: {e}")))
    }

    fn key_usage(&self) -> Result<Option<KeyUsage>> {
        self.extension(OID_KEY_USAGE)
            .map(KeyUsage::from_der)
            .transpose()
            .map_err(|e| malformed("certificate", format!("keyUsage: {e}")))
    }

    fn check_critical_extensions(&self) -> Result<()> {
        for ext in self.cert.tbs_certificate.extensions.iter().flatten() {
            if ext.critical && !KNOWN_CRITICAL.contains(&ext.extn_id) {
                return Err(Error::CertificateUsage {
                    subject: self.display_name(),
                    reason: format!("unsupported critical extension {}", ext.extn_id),
                });
            }
        }
        Ok(())
    }

    /// Fails unless this certificate may sign code: digitalSignature key usage when key
    /// usage is present, and the codeSigning (or any) extended key usage when EKU is
    /// present, as cosign requires of Fulcio and PKI leaves.
    pub fn check_code_signing(&self) -> Result<()> {
        self.check_critical_extensions()?;
        let usage_err =
            |reason: &str| Error::CertificateUsage { subject: self.display_name(), reason: reason.to_owned() };
        if let Some(ku) = self.key_usage()?
            && !ku.digital_signature()
        {
            return Err(usage_err("key usage lacks digitalSignature"));
        }
        if let Some(value) = self.extension(OID_EKU) {
            let eku = ExtendedKeyUsage::from_der(value)
                .map_err(|e| malformed("certificate", format!("extendedKeyUsage: {e}")))?;
            if !eku.0.iter().any(|o| *o == OID_EKU_CODE_SIGNING || *o == OID_EKU_ANY) {
                return Err(usage_err("extended key usage lacks codeSigning"));
            }
        }
        Ok(())
    }

    /// Verifies that `issuer` issued this certificate: names match and the signature
    /// verifies with the issuer's key.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<()> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(Error::Chain {
                subject: self.display_name(),
                reason: format!(
                    "issuer {:?} is not {:?}",
                    self.cert.tbs_certificate.issuer.to_string(),
                    issuer.subject()
                ),
            });
        }
        let alg = signature_algorithm(self.cert.signature_algorithm.oid)?;
        let tbs = self.cert.tbs_certificate.to_der().map_err(|e| malformed("certificate", e.to_string()))?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| malformed("certificate", "signature BIT STRING has unused bits"))?;
        issuer.public_key.verify_with(alg, &tbs, sig).map_err(|_| Error::Chain {
            subject: self.display_name(),
            reason: format!("signature does not verify with the key of {:?}", issuer.subject()),
        })
    }

    fn check_ca(&self, below: usize) -> Result<()> {
        self.check_critical_extensions()?;
        let bc = self.basic_constraints()?;
        let err = |reason: String| Error::Chain { subject: self.display_name(), reason };
        match bc {
            Some(bc) if bc.ca => {
                if let Some(limit) = bc.path_len_constraint
                    && below > usize::from(limit)
                {
                    return Err(err(format!(
                        "path length constraint {limit} allows fewer than the {below} intermediate(s) below it"
                    )));
                }
            }
            _ => return Err(err("issuer is not a CA (basicConstraints)".into())),
        }
        if let Some(ku) = self.key_usage()?
            && !ku.key_cert_sign()
        {
            return Err(err("issuer key usage lacks keyCertSign".into()));
        }
        Ok(())
    }
}

fn signature_algorithm(oid: ObjectIdentifier) -> Result<SignatureAlgorithm> {
    Ok(match oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" => SignatureAlgorithm::EcdsaSha256,
        "1.2.840.10045.4.3.3" => SignatureAlgorithm::EcdsaSha384,
        "1.2.840.113549.1.1.11" => SignatureAlgorithm::RsaPkcs1Sha256,
        "1.2.840.113549.1.1.12" => SignatureAlgorithm::RsaPkcs1Sha384,
        "1.2.840.113549.1.1.13" => SignatureAlgorithm::RsaPkcs1Sha512,
        "1.3.101.112" => SignatureAlgorithm::Ed25519,
        other => {
            return Err(Error::UnsupportedAlgorithm(format!("certificate signature algorithm {other}")));
        }
    })
}

/// Builds and checks a path from `leaf` through `intermediates` (untrusted, e.g. the
/// chain annotation) to one of `anchors` (trusted), every certificate valid at `at`.
/// Returns the path, leaf first, anchor last.
///
/// The search is greedy (the first issuer that verifies is taken), never revisits a
/// certificate, and stops after [`MAX_CHAIN`] certificates, so a loop in the supplied
/// chain is an error, not a hang.
pub fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: u64,
) -> Result<Vec<Certificate>> {
    if anchors.is_empty() {
        return Err(Error::NoTrust("no trusted root certificates".into()));
    }
    leaf.check_valid_at(at)?;
    leaf.check_code_signing()?;
    let mut path = vec![leaf.clone()];
    loop {
        let current = path.last().cloned().unwrap_or_else(|| leaf.clone());
        let below = path.len() - 1;
        // A trusted anchor ends the path. An anchor may itself be an intermediate of a
        // trusted chain (Sigstore's trusted root lists Fulcio's intermediate), and is
        // trusted as given, without climbing further.
        if let Some(anchor) = anchors.iter().find(|a| current.verify_issued_by(a).is_ok()) {
            anchor.check_valid_at(at)?;
            anchor.check_ca(below)?;
            path.push(anchor.clone());
            return Ok(path);
        }
        if path.len() >= MAX_CHAIN {
            return Err(Error::Chain {
                subject: leaf.display_name(),
                reason: format!("no trusted root within {MAX_CHAIN} certificates"),
            });
        }
        let mut next = None;
        for candidate in intermediates {
            if current.verify_issued_by(candidate).is_err() {
                continue;
            }
            if path.contains(candidate) {
                return Err(Error::Chain {
                    subject: leaf.display_name(),
                    reason: format!("certificate chain loops at {:?}", candidate.subject()),
                });
            }
            candidate.check_valid_at(at)?;
            candidate.check_ca(below)?;
            next = Some(candidate.clone());
            break;
        }
        match next {
            Some(cert) => path.push(cert),
            None => {
                return Err(Error::Chain {
                    subject: leaf.display_name(),
                    reason: format!(
                        "no trusted root issued {:?} (issuer {:?})",
                        current.display_name(),
                        current.cert.tbs_certificate.issuer.to_string()
                    ),
                });
            }
        }
    }
}
