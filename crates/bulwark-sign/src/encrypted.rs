//! cosign's encrypted private key format.
//!
//! `cosign generate-key-pair` writes a PEM block `ENCRYPTED SIGSTORE PRIVATE KEY` (older
//! releases: `ENCRYPTED COSIGN PRIVATE KEY`) whose contents are the JSON
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64 32 bytes>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64 24 bytes>"},
//!  "ciphertext":"<base64>"}
//! ```
//!
//! The key is scrypt(password, salt, N, r, p) with 32 output bytes, and the ciphertext is
//! NaCl `secretbox` (XSalsa20-Poly1305, tag first) of the PKCS#8 DER private key. This is
//! the layout of go-securesystemslib's `encrypted` package that cosign uses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result, malformed};

/// The PEM label cosign writes today.
pub const PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label of keys written by cosign before 1.x's rename.
pub const PEM_LABEL_LEGACY: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// The scrypt parameters cosign uses for new keys (64 MiB of memory).
pub const COSIGN_SCRYPT: ScryptParams = ScryptParams { n: 65536, r: 8, p: 1 };

/// The most memory (128 * N * r bytes) we let a key file make scrypt use: 4x cosign's.
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;

/// scrypt cost parameters as they appear in the key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptParams {
    /// CPU/memory cost, a power of two.
    #[serde(rename = "N")]
    pub n: u64,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Json {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

/// A parsed encrypted key: checked parameters, not yet decrypted.
#[derive(Debug, Clone)]
pub struct EncryptedKey {
    /// scrypt parameters, within bounds.
    pub params: ScryptParams,
    salt: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl EncryptedKey {
    /// Parses the JSON inside the PEM block and checks the algorithm names, sizes and the
    /// scrypt cost bounds before any work is done.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        const WHAT: &str = "encrypted cosign key";
        let parsed: Json = serde_json::from_slice(json).map_err(|e| malformed(WHAT, e))?;
        if parsed.kdf.name != "scrypt" {
            return Err(malformed(WHAT, format!("kdf {:?} is not scrypt", parsed.kdf.name)));
        }
        if parsed.cipher.name != "nacl/secretbox" {
            return Err(malformed(WHAT, format!("cipher {:?} is not nacl/secretbox", parsed.cipher.name)));
        }
        let params = parsed.kdf.params;
        check_params(params)?;
        let b64 = |field: &str, text: &str| STANDARD.decode(text).map_err(|e| malformed(WHAT, format!("{field}: {e}")));
        let salt = b64("kdf.salt", &parsed.kdf.salt)?;
        let nonce: [u8; 24] = b64("cipher.nonce", &parsed.cipher.nonce)?
            .try_into()
            .map_err(|_| malformed(WHAT, "cipher.nonce is not 24 bytes"))?;
        let ciphertext = b64("ciphertext", &parsed.ciphertext)?;
        if ciphertext.len() < 16 {
            return Err(malformed(WHAT, "ciphertext is shorter than its tag"));
        }
        Ok(Self { params, salt, nonce, ciphertext })
    }

    /// Encrypts `plaintext` (a PKCS#8 DER key) with cosign's parameters, a fresh 32-byte
    /// salt and a fresh nonce.
    pub fn encrypt(plaintext: &[u8], password: &[u8]) -> Result<Self> {
        Self::encrypt_with(plaintext, password, COSIGN_SCRYPT)
    }

    /// As [`EncryptedKey::encrypt`] with other scrypt parameters (tests use cheap ones).
    pub fn encrypt_with(plaintext: &[u8], password: &[u8], params: ScryptParams) -> Result<Self> {
        check_params(params)?;
        let rng = SystemRandom::new();
        let mut salt = vec![0u8; 32];
        let mut nonce = [0u8; 24];
        rng.fill(&mut salt).map_err(|_| Error::Random)?;
        rng.fill(&mut nonce).map_err(|_| Error::Random)?;
        let key = derive(password, &salt, params)?;
        let ciphertext = XSalsa20Poly1305::new(key.as_ref().into())
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| Error::Random)?;
        Ok(Self { params, salt, nonce, ciphertext })
    }

    /// Decrypts to the PKCS#8 DER; a wrong password and an altered file both fail the
    /// authentication tag and give [`Error::WrongPassword`].
    pub fn decrypt(&self, password: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let key = derive(password, &self.salt, self.params)?;
        XSalsa20Poly1305::new(key.as_ref().into())
            .decrypt(Nonce::from_slice(&self.nonce), self.ciphertext.as_slice())
            .map(Zeroizing::new)
            .map_err(|_| Error::WrongPassword)
    }

    /// The JSON that goes inside the PEM block, with cosign's field order.
    pub fn to_json(&self) -> Vec<u8> {
        let json = Json {
            kdf: Kdf { name: "scrypt".into(), params: self.params, salt: STANDARD.encode(&self.salt) },
            cipher: Cipher { name: "nacl/secretbox".into(), nonce: STANDARD.encode(self.nonce) },
            ciphertext: STANDARD.encode(&self.ciphertext),
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }
}

fn check_params(params: ScryptParams) -> Result<()> {
    let ScryptParams { n, r, p } = params;
    let err = |limit| Err(Error::KdfParams { n, r, p, limit });
    if n < 2 || !n.is_power_of_two() {
        return err("N must be a power of two, at least 2");
    }
    if r == 0 || r > 32 || p == 0 || p > 16 {
        return err("1 <= r <= 32 and 1 <= p <= 16");
    }
    if 128u64.saturating_mul(n).saturating_mul(u64::from(r)) > MAX_SCRYPT_MEMORY {
        return err("128 * N * r <= 256 MiB");
    }
    Ok(())
}

fn derive(password: &[u8], salt: &[u8], params: ScryptParams) -> Result<Zeroizing<[u8; 32]>> {
    let log_n = params.n.trailing_zeros() as u8;
    let scrypt_params = scrypt::Params::new(log_n, params.r, params.p, 32).map_err(|_| Error::KdfParams {
        n: params.n,
        r: params.r,
        p: params.p,
        limit: "rejected by scrypt",
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &scrypt_params, key.as_mut()).map_err(|_| Error::KdfParams {
        n: params.n,
        r: params.r,
        p: params.p,
        limit: "rejected by scrypt",
    })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: ScryptParams = ScryptParams { n: 1024, r: 8, p: 1 };

    #[test]
    fn round_trip_and_wrong_password() {
        let enc = EncryptedKey::encrypt_with(b"secret der", b"pw", CHEAP).unwrap();
        let parsed = EncryptedKey::from_json(&enc.to_json()).unwrap();
        assert_eq!(parsed.decrypt(b"pw").unwrap().as_slice(), b"secret der");
        assert!(matches!(parsed.decrypt(b"pX"), Err(Error::WrongPassword)));
    }

    #[test]
    fn hostile_parameters_are_refused_before_any_work() {
        let enc = EncryptedKey::encrypt_with(b"x", b"", CHEAP).unwrap();
        let json = String::from_utf8(enc.to_json()).unwrap();
        for bad in [r#""N":1073741824"#, r#""N":1000"#, r#""N":0"#] {
            let text = json.replace(r#""N":1024"#, bad);
            assert!(matches!(EncryptedKey::from_json(text.as_bytes()), Err(Error::KdfParams { .. })), "{bad}");
        }
        let text = json.replace(r#""p":1"#, r#""p":1000"#);
        assert!(matches!(EncryptedKey::from_json(text.as_bytes()), Err(Error::KdfParams { .. })));
        let text = json.replace("nacl/secretbox", "aes");
        assert!(matches!(EncryptedKey::from_json(text.as_bytes()), Err(Error::Malformed { .. })));
    }
}
