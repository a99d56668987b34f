//! `bulwark key`: cosign-compatible signing keys.
//!
//! The clap types live here rather than in `cli.rs` so that the signing commands are one
//! registration line there.

use std::fs::OpenOptions;
use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context as _, Result, bail};
use bulwark_sign::Zeroizing;
use bulwark_sign::keys::SigningKey;
use clap::{Args, Subcommand};

use crate::commands::OK;

/// The environment variable holding the key password (cosign's is `COSIGN_PASSWORD`).
const PASSWORD_ENV: &str = "BULWARK_KEY_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an ECDSA P-256 key pair: PREFIX.key (encrypted, cosign's format) and PREFIX.pub
    Generate(GenerateArgs),
    /// Print the PEM public key of a private key (cosign, PKCS#8 or SEC1 PEM)
    PublicKey(PublicKeyArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The password comes from $BULWARK_KEY_PASSWORD (may be empty), else from stdin with
--password-stdin, else from a prompt when stdin is a terminal. cosign reads the key with
the same password (COSIGN_PASSWORD), and cosign's own keys work wherever Bulwark takes --key.")]
pub struct GenerateArgs {
    /// Write PREFIX.key and PREFIX.pub
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,
    /// Read the password from stdin (up to end of input; one trailing newline is dropped)
    #[arg(long)]
    pub password_stdin: bool,
    /// Replace existing key files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    /// Private key file (encrypted keys need the password, as for `key generate`)
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Read the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Write the public key here instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

/// Runs a `bulwark key` command.
pub fn run(command: KeyCommand) -> Result<u8> {
    match command {
        KeyCommand::Generate(args) => generate(args),
        KeyCommand::PublicKey(args) => public_key(args),
    }
}

fn generate(args: GenerateArgs) -> Result<u8> {
    let key_path = with_suffix(&args.output_key_prefix, "key");
    let pub_path = with_suffix(&args.output_key_prefix, "pub");
    if !args.force {
        for path in [&key_path, &pub_path] {
            if path.exists() {
                bail!("{} already exists; hint: --force replaces it, or choose --output-key-prefix", path.display());
            }
        }
    }
    let password = password(args.password_stdin, true)?;
    let key = SigningKey::generate()?;
    let encrypted = Zeroizing::new(key.to_encrypted_pem(password.as_bytes())?);
    // The private key is created owner-only from the start, never widened later.
    write_file(&key_path, encrypted.as_bytes(), 0o600, args.force)?;
    write_file(&pub_path, key.public_key().to_pem().as_bytes(), 0o644, args.force)?;
    let mut err = io::stderr().lock();
    writeln!(err, "Private key written to {}", key_path.display())?;
    writeln!(err, "Public key written to {}", pub_path.display())?;
    Ok(OK)
}

fn public_key(args: PublicKeyArgs) -> Result<u8> {
    let key = load_signing_key(&args.key, args.password_stdin)?;
    let pem = key.public_key().to_pem();
    match args.output_file {
        Some(path) => std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?,
        None => io::stdout().lock().write_all(pem.as_bytes())?,
    }
    Ok(OK)
}

/// Reads a private key for signing, asking for the password only when it is encrypted.
pub(crate) fn load_signing_key(path: &Path, password_stdin: bool) -> Result<SigningKey> {
    let (bytes, password) = read_signing_key(path, password_stdin)?;
    SigningKey::from_pem(&bytes, password.as_bytes()).with_context(|| format!("key {}", path.display()))
}

/// The key file and its password, read now (a prompt happens here, before anything else).
fn read_signing_key(path: &Path, password_stdin: bool) -> Result<(Zeroizing<Vec<u8>>, Zeroizing<String>)> {
    let bytes = Zeroizing::new(std::fs::read(path).with_context(|| format!("reading key {}", path.display()))?);
    let encrypted = bytes.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED");
    let password = if encrypted { password(password_stdin, false)? } else { Zeroizing::new(String::new()) };
    Ok((bytes, password))
}

/// A signing key decrypted on another thread: cosign's scrypt parameters cost ~0.15 s of
/// CPU (and 64 MiB), which `scan --sign` spends while it scans instead of before. The file
/// and the password are read at once, so a missing file or password fails before the scan;
/// a wrong password fails when the key is first needed, before anything is signed.
pub(crate) struct PendingKey {
    key: OnceLock<std::result::Result<SigningKey, String>>,
    handle: Mutex<Option<std::thread::JoinHandle<Result<SigningKey>>>>,
}

impl std::fmt::Debug for PendingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingKey").field("ready", &self.key.get().is_some()).finish()
    }
}

impl PendingKey {
    /// A key already loaded.
    pub(crate) fn ready(key: SigningKey) -> PendingKey {
        PendingKey { key: OnceLock::from(Ok(key)), handle: Mutex::new(None) }
    }

    /// Reads the key file and password now and decrypts on another thread.
    pub(crate) fn load(path: &Path, password_stdin: bool) -> Result<PendingKey> {
        let (bytes, password) = read_signing_key(path, password_stdin)?;
        let path = path.to_owned();
        let handle = std::thread::Builder::new()
            .name("key".into())
            .spawn(move || {
                SigningKey::from_pem(&bytes, password.as_bytes()).with_context(|| format!("key {}", path.display()))
            })
            .context("starting the key thread")?;
        Ok(PendingKey { key: OnceLock::new(), handle: Mutex::new(Some(handle)) })
    }

    /// The key, waiting for its decryption.
    pub(crate) fn get(&self) -> Result<&SigningKey> {
        let key = self.key.get_or_init(|| {
            let handle = self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            match handle.map(std::thread::JoinHandle::join) {
                Some(Ok(r)) => r.map_err(|e| format!("{e:#}")),
                Some(Err(_)) => Err("the key thread panicked".into()),
                None => Err("the key was not loaded".into()),
            }
        });
        key.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// The password: environment, then stdin when asked, then a prompt on a terminal. Never
/// waits on a pipe nobody writes to: without a terminal and without the first two, it
/// is an error.
fn password(from_stdin: bool, confirm: bool) -> Result<Zeroizing<String>> {
    if let Some(value) = std::env::var_os(PASSWORD_ENV) {
        let value = value.into_string().map_err(|_| anyhow::anyhow!("{PASSWORD_ENV} is not UTF-8"))?;
        return Ok(Zeroizing::new(value));
    }
    if from_stdin {
        let mut text = Zeroizing::new(String::new());
        io::stdin().read_to_string(&mut text).context("reading the password from stdin")?;
        let trimmed = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
        return Ok(Zeroizing::new(trimmed.to_owned()));
    }
    if !io::stdin().is_terminal() {
        bail!(
            "no key password: stdin is not a terminal; hint: set {PASSWORD_ENV} (empty is allowed) or pass --password-stdin"
        );
    }
    let first = Zeroizing::new(rpassword::prompt_password("Enter password for private key: ")?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Enter password for private key again: ")?);
        if first != second {
            bail!("the passwords do not match");
        }
    }
    Ok(first)
}

fn with_suffix(prefix: &Path, ext: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn write_file(path: &Path, contents: &[u8], mode: u32, replace: bool) -> Result<()> {
    // A replaced file is removed first: the mode only applies to a file being created, and
    // truncating an old world-readable key file would keep its permissions.
    if replace {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("replacing {}", path.display()));
            }
            _ => {}
        }
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("writing {}", path.display()))?;
    file.sync_all().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
