//! Cosign-compatible signing and offline verification for Bulwark.
//!
//! - [`keys`]: ECDSA P-256 signing keys (cosign's encrypted format, PKCS#8, SEC1) and
//!   public keys (P-256, P-384, RSA, Ed25519) for verification.
//! - [`cosign`]: the simple-signing payload, signature and attestation layers with their
//!   annotations, and [`cosign::TrustPolicy`], which verifies fetched layers by key, by
//!   bring-your-own PKI or keyless (Fulcio certificate + Rekor SET, offline).
//! - [`dsse`], [`intoto`]: DSSE envelopes and in-toto statements, with Bulwark's verdict
//!   predicate and cosign's vuln predicate.
//! - [`bundle`]: Sigstore bundles (v0.1–v0.3).
//! - [`manifest`]: the `.sig`/`.att` manifests: limits when reading, appending when writing.
//!
//! No network IO: the registry code fetches and pushes the layers this crate makes and
//! checks. See `docs/signing.md` and `docs/attestations.md`.
//!
//! ```
//! use std::collections::BTreeMap;
//! use bulwark_sign::{cosign, keys::SigningKey};
//!
//! let key = SigningKey::generate()?;
//! let digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
//! let layer = cosign::sign_image(&key, "registry.example/app", digest, &BTreeMap::new())?;
//! let policy = cosign::TrustPolicy { keys: vec![key.public_key()], ..Default::default() };
//! let verified = policy.verify_signature(&layer, digest)?;
//! assert_eq!(verified.payload.critical.identity.docker_reference, "registry.example/app");
//! # Ok::<(), bulwark_sign::Error>(())
//! ```

pub mod bundle;
pub mod cosign;
pub mod dsse;
pub mod encrypted;
mod error;
pub mod intoto;
pub mod keys;
pub mod manifest;
pub mod pem;
pub mod rekor;
pub mod trust;
pub mod x509;

pub use error::{Error, Result};
/// Secrets (passwords, key bytes) that are wiped when dropped.
pub use zeroize::Zeroizing;
