//! `bulwark key`: keys the binary writes are cosign's format and read back; passwords
//! come from the environment or stdin and never from a hanging prompt.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use bulwark_sign::keys::{PublicKey, SigningKey};

fn bulwark(dir: &Path, args: &[&str], password_env: Option<&str>, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args).current_dir(dir).env_remove("BULWARK_KEY_PASSWORD");
    if let Some(p) = password_env {
        cmd.env("BULWARK_KEY_PASSWORD", p);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn generate_writes_an_encrypted_cosign_key_and_its_public_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = bulwark(d, &["key", "generate", "--output-key-prefix", "signer"], Some("s3cret"), None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let key_pem = std::fs::read(d.join("signer.key")).unwrap();
    assert!(key_pem.starts_with(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert_eq!(std::fs::metadata(d.join("signer.key")).unwrap().permissions().mode() & 0o777, 0o600);
    let public = PublicKey::from_pem(&std::fs::read(d.join("signer.pub")).unwrap()).unwrap();
    let key = SigningKey::from_pem(&key_pem, b"s3cret").unwrap();
    assert_eq!(key.public_key(), public);

    // public-key prints the same PEM, with the password from stdin this time.
    let out = bulwark(d, &["key", "public-key", "--key", "signer.key", "--password-stdin"], None, Some("s3cret\n"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(d.join("signer.pub")).unwrap());

    // A wrong password is a clear error (exit 2), not a different key.
    let out = bulwark(d, &["key", "public-key", "--key", "signer.key"], Some("wrong"), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not decrypt with this password"));

    // Existing keys are never overwritten silently.
    let out = bulwark(d, &["key", "generate", "--output-key-prefix", "signer"], Some("x"), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(d.join("signer.key")).unwrap(), key_pem);

    // --force replaces them, and a replaced key file is owner-only even if the old one was not.
    std::fs::set_permissions(d.join("signer.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = bulwark(d, &["key", "generate", "--output-key-prefix", "signer", "--force"], Some("x"), None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(std::fs::read(d.join("signer.key")).unwrap(), key_pem);
    assert_eq!(std::fs::metadata(d.join("signer.key")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn password_from_stdin_and_no_password_without_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = bulwark(d, &["key", "generate", "--password-stdin"], None, Some("from stdin\n"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // The default prefix is cosign's.
    let key = SigningKey::from_pem(&std::fs::read(d.join("cosign.key")).unwrap(), b"from stdin").unwrap();
    assert_eq!(key.public_key(), PublicKey::from_pem(&std::fs::read(d.join("cosign.pub")).unwrap()).unwrap());

    // stdin is not a terminal and no password source is given: an error, at once.
    let out = bulwark(d, &["key", "generate", "--output-key-prefix", "other"], None, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BULWARK_KEY_PASSWORD"));
    assert!(!d.join("other.key").exists());
}

#[test]
fn public_key_of_cosigns_own_key_and_of_an_unencrypted_key() {
    let shared = std::env::var_os("BULWARK_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let sigs = shared.join("signatures");
    let key = sigs.join("sigstore-rs/tests/data/keys/cosign_generated_encrypted_empty_private.key");
    let tmp = tempfile::tempdir().unwrap();
    let out = bulwark(tmp.path(), &["key", "public-key", "--key", key.to_str().unwrap()], Some(""), None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = sigs.join("derived/sigstore-rs/cosign_generated_encrypted_empty_private.pub");
    assert_eq!(
        PublicKey::from_pem(&out.stdout).unwrap(),
        PublicKey::from_pem(&std::fs::read(expected).unwrap()).unwrap()
    );

    // An unencrypted PKCS#8 key needs no password at all, even without a terminal.
    let plain = SigningKey::generate().unwrap();
    let path = tmp.path().join("plain.pem");
    std::fs::write(&path, bulwark_sign::pem::encode("PRIVATE KEY", plain.pkcs8_der())).unwrap();
    let out = bulwark(tmp.path(), &["key", "public-key", "--key", "plain.pem"], None, None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(PublicKey::from_pem(&out.stdout).unwrap(), plain.public_key());
}
