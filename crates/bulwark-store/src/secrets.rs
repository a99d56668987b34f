//! Secrets at rest (migration 0200): registry credentials and signing keys the server holds,
//! sealed with AES-256-GCM (ring) under a key-encryption key ([`Kek`]) that the store never
//! sees. A process without a KEK cannot store or read a secret; nothing is ever written in
//! plaintext.
//!
//! Each row's associated data is `purpose`, `name` and `metadata` (the public facts, such
//! as a credential's registry and user name): a ciphertext copied into another row, or a
//! row whose registry was changed to send the password elsewhere, fails to open. Each row
//! records which KEK sealed it (`kek_id`, a fingerprint), so [`Store::rotate_secrets`] can
//! re-encrypt every row under a new KEK, in one transaction, and can be run again after an
//! interruption.
//!
//! The KEK is 32 random bytes written as 64 hexadecimal characters (`openssl rand -hex 32`),
//! in a file readable by its owner only ([`Kek::from_file`]) or in an environment variable
//! ([`Kek::from_hex`]).

use std::fmt;
use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Error, Result, Store};

/// The environment variable a KEK may come from (64 hex characters).
pub const KEK_ENV: &str = "BULWARK_KEK";

/// Secrets of this purpose are registry credentials (metadata: registry, username).
pub const REGISTRY_CREDENTIAL: &str = "registry-credential";
/// Secrets of this purpose are signing keys (metadata: the public key).
pub const SIGNING_KEY: &str = "signing-key";

/// Format tag of the associated data; a later format changes it.
const AAD_VERSION: &[u8] = b"bulwark-secret-v1";

/// A key-encryption key. Its bytes never leave this type (`Debug` shows only the id).
pub struct Kek {
    id: String,
    key: LessSafeKey,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from 64 hexadecimal characters (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Kek> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(Error::Kek(format!(
                "expected 64 hexadecimal characters (32 random bytes, e.g. `openssl rand -hex 32`), found {} characters",
                text.len()
            )));
        }
        let bytes = hex::decode(text).map_err(|_| Error::Kek("not hexadecimal".to_owned()))?;
        Kek::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Kek> {
        if bytes.iter().all(|b| *b == bytes[0]) {
            return Err(Error::Kek("all 32 bytes are the same: generate it with `openssl rand -hex 32`".to_owned()));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| Error::Kek("not a 256-bit key".to_owned()))?;
        // The id names the key without revealing it: a domain-separated SHA-256 of it.
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"bulwark-kek-id\0");
        ctx.update(bytes);
        let id = hex::encode(&ctx.finish().as_ref()[..8]);
        Ok(Kek { id, key: LessSafeKey::new(key) })
    }

    /// The KEK in `path`. The file must be a regular file that only its owner can read or
    /// write (mode 0600 or 0400): a KEK others can read protects nothing.
    pub fn from_file(path: &Path) -> Result<Kek> {
        let err = |m: String| Error::Kek(format!("{}: {m}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if !meta.is_file() {
            return Err(err("not a regular file".to_owned()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(err(format!(
                    "mode {mode:04o} lets other users read or change it; `chmod 600 {}`",
                    path.display()
                )));
            }
        }
        if meta.len() > 4096 {
            return Err(err("too large for a key".to_owned()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Kek::from_hex(&text).map_err(|e| err(e.to_string()))
    }

    /// The KEK a process is configured with: `file` when given, else `$BULWARK_KEK`, else none.
    pub fn configured(file: Option<&Path>) -> Result<Option<Kek>> {
        if let Some(f) = file {
            return Kek::from_file(f).map(Some);
        }
        match std::env::var(KEK_ENV) {
            Ok(v) => Kek::from_hex(&v).map(Some).map_err(|e| Error::Kek(format!("{KEK_ENV}: {e}"))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::Kek(format!("{KEK_ENV} is not UTF-8"))),
        }
    }

    /// A fingerprint of the key (16 hex characters), stored with each secret it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
        // Random 96-bit nonces: fine for far fewer than 2^32 encryptions under one key,
        // which a store of credentials and keys never approaches (NIST SP 800-38D 8.3).
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| Error::Kek("no system randomness".to_owned()))?;
        let mut data = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut data)
            .map_err(|_| Error::Kek("encryption failed".to_owned()))?;
        Ok((nonce.to_vec(), data))
    }

    fn open(&self, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = ciphertext.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(aad), &mut data).ok()?;
        Some(plain.to_vec())
    }
}

fn aad(purpose: &str, name: &str, metadata: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_VERSION.len() + purpose.len() + name.len() + metadata.len() + 3);
    for part in [AAD_VERSION, purpose.as_bytes(), name.as_bytes(), metadata.as_bytes()] {
        // Length-prefixed, so no two different (purpose, name, metadata) give the same bytes.
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// A secret without its value: what lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    pub purpose: String,
    pub name: String,
    /// Public JSON facts, authenticated with the ciphertext.
    pub metadata: String,
    pub kek_id: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A secret to store.
#[derive(Debug, Clone, Copy)]
pub struct NewSecret<'a> {
    pub purpose: &'a str,
    pub name: &'a str,
    pub metadata: &'a str,
    pub value: &'a [u8],
    pub created_by: &'a str,
}

/// A secret and its value, opened for the one use that needs it. `Debug` hides the value.
pub struct OpenedSecret {
    pub info: SecretInfo,
    pub value: Vec<u8>,
}

impl fmt::Debug for OpenedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedSecret").field("info", &self.info).field("value", &"<redacted>").finish()
    }
}

const INFO: &str = "purpose, name, metadata, kek_id, created_by, created_at";

fn info(r: &AnyRow) -> Result<SecretInfo> {
    Ok(SecretInfo {
        purpose: r.try_get(0)?,
        name: r.try_get(1)?,
        metadata: r.try_get(2)?,
        kek_id: r.try_get(3)?,
        created_by: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

impl Store {
    /// Seals and stores a secret; `None` when one of that purpose and name exists (it is
    /// never replaced: delete it first).
    pub async fn put_secret(&self, kek: &Kek, s: &NewSecret<'_>) -> Result<Option<SecretInfo>> {
        let (nonce, ciphertext) = kek.seal(&aad(s.purpose, s.name, s.metadata), s.value)?;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM secrets WHERE purpose = $1 AND name = $2")
            .bind(s.purpose)
            .bind(s.name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO secrets (purpose, name, metadata, kek_id, nonce, ciphertext, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {INFO}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(s.purpose)
            .bind(s.name)
            .bind(s.metadata)
            .bind(kek.id())
            .bind(nonce)
            .bind(ciphertext)
            .bind(s.created_by)
            .bind(crate::unix_ms())
            .fetch_one(&mut *tx)
            .await?;
        let stored = info(&row)?;
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// Secrets of `purpose` by name, after `after`, at most `limit` (never their values).
    pub async fn secrets(&self, purpose: &str, after: Option<&str>, limit: u32) -> Result<Vec<SecretInfo>> {
        let sql = format!("SELECT {INFO} FROM secrets WHERE purpose = $1 AND name > $2 ORDER BY name LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(purpose)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info).collect()
    }

    /// One secret's public part.
    pub async fn secret_info(&self, purpose: &str, name: &str) -> Result<Option<SecretInfo>> {
        let sql = format!("SELECT {INFO} FROM secrets WHERE purpose = $1 AND name = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(purpose).bind(name).fetch_optional(self.pool()).await?;
        row.as_ref().map(info).transpose()
    }

    /// Opens a secret with `kek`. A row sealed by another KEK, or one whose ciphertext,
    /// metadata or name was altered, is an error ([`Error::Secret`]), never a value.
    pub async fn open_secret(&self, kek: &Kek, purpose: &str, name: &str) -> Result<Option<OpenedSecret>> {
        let sql = format!("SELECT {INFO}, nonce, ciphertext FROM secrets WHERE purpose = $1 AND name = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(purpose).bind(name).fetch_optional(self.pool()).await?;
        let Some(row) = row else { return Ok(None) };
        let info = info(&row)?;
        let nonce: Vec<u8> = row.try_get(6)?;
        let ciphertext: Vec<u8> = row.try_get(7)?;
        let value = open_row(kek, &info, &nonce, &ciphertext)?;
        Ok(Some(OpenedSecret { info, value }))
    }

    /// Deletes a secret; false when there is none.
    pub async fn delete_secret(&self, purpose: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM secrets WHERE purpose = $1 AND name = $2")
            .bind(purpose)
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Re-encrypts every secret not sealed by `new` with `new`, opening each with the one of
    /// `old` whose id it records, in one transaction: either every row moves or none does.
    /// Rows already under `new` are left alone, so an interrupted rotation can be re-run.
    /// Returns how many rows were re-encrypted.
    pub async fn rotate_secrets(&self, old: &[&Kek], new: &Kek) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {INFO}, nonce, ciphertext FROM secrets WHERE kek_id <> $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(new.id()).fetch_all(&mut *tx).await?;
        let mut done = 0;
        for row in &rows {
            let info = info(row)?;
            let kek = old.iter().find(|k| k.id() == info.kek_id).ok_or_else(|| Error::Secret {
                purpose: info.purpose.clone(),
                name: info.name.clone(),
                reason: format!("sealed by key-encryption key {}, which was not given", info.kek_id),
            })?;
            let value = open_row(kek, &info, &row.try_get::<Vec<u8>, _>(6)?, &row.try_get::<Vec<u8>, _>(7)?)?;
            let (nonce, ciphertext) = new.seal(&aad(&info.purpose, &info.name, &info.metadata), &value)?;
            sqlx::query(
                "UPDATE secrets SET kek_id = $1, nonce = $2, ciphertext = $3 WHERE purpose = $4 AND name = $5 AND kek_id = $6",
            )
            .bind(new.id())
            .bind(nonce)
            .bind(ciphertext)
            .bind(&info.purpose)
            .bind(&info.name)
            .bind(&info.kek_id)
            .execute(&mut *tx)
            .await?;
            done += 1;
        }
        tx.commit().await?;
        Ok(done)
    }
}

fn open_row(kek: &Kek, info: &SecretInfo, nonce: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    let fail = |reason: String| Error::Secret { purpose: info.purpose.clone(), name: info.name.clone(), reason };
    if info.kek_id != kek.id() {
        return Err(fail(format!(
            "sealed by key-encryption key {}, this process has {} (finish the rotation, or give the right key)",
            info.kek_id,
            kek.id()
        )));
    }
    kek.open(&aad(&info.purpose, &info.name, &info.metadata), nonce, ciphertext)
        .ok_or_else(|| fail("does not decrypt: the row was altered or moved".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn keks_are_checked_and_bound_to_their_row() {
        let kek = Kek::from_hex(HEX).unwrap();
        assert_eq!(kek.id().len(), 16);
        assert!(!format!("{kek:?}").contains("0001020304"));
        assert!(Kek::from_hex("abcd").is_err());
        assert!(Kek::from_hex(&"zz".repeat(32)).is_err());
        assert!(Kek::from_hex(&"00".repeat(32)).is_err());
        let (nonce, ct) = kek.seal(&aad("p", "a", "{}"), b"hunter2").unwrap();
        assert_eq!(kek.open(&aad("p", "a", "{}"), &nonce, &ct).unwrap(), b"hunter2");
        assert!(kek.open(&aad("p", "b", "{}"), &nonce, &ct).is_none(), "another row's name");
        assert!(kek.open(&aad("q", "a", "{}"), &nonce, &ct).is_none(), "another purpose");
        assert!(kek.open(&aad("p", "a", "{\"registry\":\"evil\"}"), &nonce, &ct).is_none(), "changed metadata");
        // Length prefixes: moving a byte between fields changes the associated data.
        assert_ne!(aad("ab", "c", ""), aad("a", "bc", ""));
    }

    #[cfg(unix)]
    #[test]
    fn a_kek_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        std::fs::write(&path, format!("{HEX}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Kek::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("mode 0644") && err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Kek::from_file(&path).unwrap().id(), Kek::from_hex(HEX).unwrap().id());
    }
}
