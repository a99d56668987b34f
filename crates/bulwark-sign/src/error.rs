//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading keys, signing or verifying.
///
/// Verification failures are distinct variants so that callers (and tests) can tell a
/// wrong key from a tampered payload, a wrong identity, an expired certificate or a bad
/// transparency-log promise without matching on message text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Input that is not the expected PEM, DER, base64 or JSON.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read, e.g. "encrypted cosign key" or "certificate".
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A key of a type or curve this crate does not handle.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A signature or certificate algorithm this crate does not handle.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// An encrypted private key did not open with the password (or the file was altered).
    #[error("the private key does not decrypt with this password (or its ciphertext was altered)")]
    WrongPassword,
    /// The key-derivation parameters of an encrypted key ask for more than we allow.
    #[error("encrypted key: scrypt parameters N={n} r={r} p={p} are outside the accepted bounds ({limit})")]
    KdfParams {
        /// scrypt cost.
        n: u64,
        /// scrypt block size.
        r: u32,
        /// scrypt parallelism.
        p: u32,
        /// The bound that was exceeded.
        limit: &'static str,
    },
    /// A signature that does not verify with the given key (or certificate).
    #[error("signature does not verify with {signer}")]
    BadSignature {
        /// The key id or certificate subject that was tried.
        signer: String,
    },
    /// No signature verified with any of the given public keys.
    #[error("signature does not verify with any of the {count} given public key(s)")]
    NoKeyVerifies {
        /// How many keys were tried.
        count: usize,
    },
    /// The signature layer carries no signature annotation.
    #[error("signature layer has no {0} annotation")]
    MissingAnnotation(&'static str),
    /// The layer is not a simple-signing payload (e.g. some other attachment).
    #[error("wrong media type {found:?}, expected {expected:?}")]
    WrongMediaType {
        /// What the layer says.
        found: String,
        /// What we accept here.
        expected: &'static str,
    },
    /// The signed payload names another image (replay, or a modified manifest).
    #[error("signed payload is for {found}, not {expected}")]
    DigestMismatch {
        /// The digest the caller is verifying.
        expected: String,
        /// The digest the payload names.
        found: String,
    },
    /// The signed payload's `critical.type` is not cosign's.
    #[error("signed payload has type {0:?}, not \"cosign container image signature\"")]
    WrongPayloadType(String),
    /// The certificate's subject alternative names do not include the required identity.
    #[error("certificate identity {found:?} does not match the required {expected:?}")]
    IdentityMismatch {
        /// The required identity.
        expected: String,
        /// The identities in the certificate (SAN email, URI, DNS).
        found: Vec<String>,
    },
    /// The certificate's OIDC issuer extension does not match.
    #[error("certificate OIDC issuer {found:?} does not match the required {expected:?}")]
    IssuerMismatch {
        /// The required issuer.
        expected: String,
        /// The issuer in the certificate, if any.
        found: Option<String>,
    },
    /// A certificate was used outside its validity period.
    #[error("certificate {subject:?} is not valid at {at} (unix): valid from {not_before} to {not_after}")]
    CertificateNotValid {
        /// The certificate's subject (or its SAN for a Fulcio leaf, which has an empty subject).
        subject: String,
        /// The time it was checked at (Rekor integrated time, or now).
        at: u64,
        /// notBefore, unix seconds.
        not_before: u64,
        /// notAfter, unix seconds.
        not_after: u64,
    },
    /// The certificate chain does not lead to a trusted root.
    #[error("certificate chain of {subject:?}: {reason}")]
    Chain {
        /// The leaf's subject.
        subject: String,
        /// What failed.
        reason: String,
    },
    /// The certificate is not allowed to sign code.
    #[error("certificate {subject:?}: {reason}")]
    CertificateUsage {
        /// The certificate's subject.
        subject: String,
        /// Which constraint failed.
        reason: String,
    },
    /// The Rekor signed entry timestamp (inclusion promise) does not verify.
    #[error("rekor signed entry timestamp: {0}")]
    BadSet(String),
    /// The Rekor entry does not describe this signature.
    #[error("rekor entry does not match the signature: {0}")]
    TlogMismatch(String),
    /// The Rekor inclusion proof does not lead to its root hash.
    #[error("rekor inclusion proof: {0}")]
    BadInclusionProof(String),
    /// Keyless verification was asked for, but the signature carries no transparency-log entry.
    #[error("keyless signature has no rekor bundle: its certificate cannot be checked at a trusted time")]
    MissingTlog,
    /// The verification options leave nothing to verify against.
    #[error("no trust material: {0}")]
    NoTrust(String),
    /// A DSSE envelope or attestation has no signature that verifies.
    #[error("dsse envelope: {0}")]
    Dsse(String),
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Error {
    Error::Malformed { what, reason: reason.to_string() }
}
