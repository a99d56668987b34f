//! `bulwark promote SRC DST`: the Image Assertion end to end. SRC is scanned under the
//! policy (or a fresh signed verdict in SRC spares the scan); an image that passes is
//! copied to DST, signed and attested there, and tagged last (`bulwark_assert::promote`
//! has the order and why a kill at any step is safe). One that fails leaves DST untouched
//! and exits 1 with the scan's report and outputs.

use std::io::{self, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result, anyhow, bail};
use bulwark_assert::promote::{self, BlobCopy, Observer, Promotion, Step};
use bulwark_assert::{Repo, Subject};
use bulwark_core::Digest;
use bulwark_core::report::ScanReport;
use bulwark_registry::Client;
use bulwark_sign::cosign::TrustPolicy;
use bulwark_sign::intoto::{self, Statement};
use bulwark_sign::keys::SigningKey;
use clap::Args;

use crate::commands::OK;
use crate::sign::{Prepared, parse_duration, pinned, registry_ref, resolve};

/// The destination password for `--dest-username` (the source's comes from --password-stdin).
const DEST_PASSWORD_ENV: &str = "BULWARK_DEST_PASSWORD";
/// Test hook: abort the process at a step (`mid-blob`, `blobs`, `manifests`, `signed`,
/// `attested`), as a kill would, to prove that no step leaves a tag on an incomplete or
/// unsigned image.
const ABORT_AT_ENV: &str = "BULWARK_FAULT_ABORT_AT";

#[derive(Debug, Args)]
#[command(after_help = "\
SRC is scanned under --policy unless it carries a verdict attestation, signed by --key,
for the same digest and policy content and younger than --verdict-max-age. On pass, every
platform and blob is copied to DST (mounted on the same registry, streamed and verified
otherwise), manifests are pushed by digest, DST is signed and attested, and only then is
DST's tag set. A run that was interrupted can be repeated: it completes. On fail DST is
untouched and the exit code is 1, with the same report and outputs as `scan`.

Credentials: SRC uses --username/--password-stdin, DST --dest-username with
$BULWARK_DEST_PASSWORD; otherwise each registry's entry in the Docker config (and its
credential helpers).")]
pub struct PromoteArgs {
    #[command(flatten)]
    pub scan: crate::cli::ScanArgs,
    /// Destination, e.g. registry.example/prod/app:1.2 (without a tag: SRC's tag)
    #[arg(value_name = "DST")]
    pub destination: String,
    /// Move DST's tag when it points at another image
    #[arg(long)]
    pub allow_retag: bool,
    /// Scan even when SRC has a fresh signed verdict for this digest and policy
    #[arg(long)]
    pub rescan: bool,
    /// Oldest verdict attestation in SRC that spares the scan, e.g. 24h
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub verdict_max_age: u64,
    /// Destination registry user name (password from $BULWARK_DEST_PASSWORD)
    #[arg(long)]
    pub dest_username: Option<String>,
    /// Do not also store signature and attestations as OCI 1.1 referrers
    #[arg(long)]
    pub no_referrer: bool,
}

/// Where a passing image goes.
#[derive(Debug)]
pub struct Target {
    pub dst: Repo,
    pub tag: Option<String>,
    pub allow_retag: bool,
    pub jobs: usize,
}

pub fn run(args: PromoteArgs) -> Result<u8> {
    let PromoteArgs { mut scan, destination, allow_retag, rescan, verdict_max_age, dest_username, no_referrer } = args;
    let policy_path = scan.policy.clone().ok_or_else(|| anyhow!("promote needs --policy"))?;
    let key_path = scan.sign.key.clone().ok_or_else(|| anyhow!("promote needs --key (the key DST is signed with)"))?;
    let policy_digest = policy_digest(&policy_path)?;
    let key = crate::key::load_signing_key(&key_path, false)?;
    let src_ref = registry_ref(&scan.input.image)?;
    let dst_ref = registry_ref(&destination)?;
    if dst_ref.digest.is_some() {
        bail!("DST {destination} names a digest; give a repository and tag (the digest is SRC's)");
    }
    let src_opts = crate::commands::registry_options(&scan.input.source)?;
    let mut dst_opts = src_opts.clone();
    match dest_username {
        Some(user) => {
            dst_opts.username = Some(user);
            dst_opts.password = Some(
                std::env::var(DEST_PASSWORD_ENV)
                    .map_err(|_| anyhow!("--dest-username needs the password in ${DEST_PASSWORD_ENV}"))?,
            );
        }
        // Flags name the source's credentials; another registry gets its own from the
        // Docker config.
        None if dst_ref.registry != src_ref.registry => {
            dst_opts.username = None;
            dst_opts.password = None;
        }
        None => {}
    }
    let (src_repo, subject) = resolve(&src_ref, &src_opts)?;
    let dst = Repo::new(Client::for_reference(&dst_ref, &dst_opts)?, dst_ref.repository.clone());
    let tag = dst_ref.tag.clone().or_else(|| src_ref.digest.is_none().then(|| src_ref.reference()));
    let target = Target { dst, tag, allow_retag, jobs: scan.input.source.jobs.unwrap_or(4) };
    let referrers = !no_referrer;
    // A tag that may not move fails before anything is scanned or copied.
    promote::check_tag(&promotion(&key, &src_repo, &subject, &target, Vec::new(), referrers, &scan))?;
    if !rescan {
        let trust = TrustPolicy { keys: vec![key.public_key()], ..Default::default() };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let found = promote::fresh_subject_verdict(&src_repo, &subject, &trust, &policy_digest, verdict_max_age, now)
            .context("looking for a verdict attestation in SRC")?;
        if let Some((_, verdict)) = found {
            if !scan.input.quiet {
                let _ = writeln!(
                    io::stderr().lock(),
                    "using the signed verdict of {} (policy {}, scanned {}) instead of scanning",
                    subject.digest,
                    crate::commands::terminal_safe(&verdict.policy.name),
                    crate::commands::terminal_safe(&verdict.scanned_at)
                );
            }
            let statement = Statement::for_image(
                &target.dst.docker_reference(),
                &subject.digest.to_string(),
                intoto::VERDICT_PREDICATE_TYPE,
                serde_json::to_value(verdict)?,
            )?;
            let p = promotion(&key, &src_repo, &subject, &target, vec![statement], referrers, &scan);
            return finish(&p, scan.input.quiet);
        }
    }
    scan.input.image = pinned(&src_ref, &subject.digest);
    scan.sign.prepared = Some(Prepared {
        key: crate::key::PendingKey::ready(key),
        repo: src_repo,
        subject,
        given: src_ref.to_string(),
        promote: Some(target),
        referrers,
    });
    crate::sign::scan(scan)
}

fn policy_digest(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading policy {}", path.display()))?;
    Ok(Digest::sha256_of(&bytes).to_string())
}

fn promotion<'a>(
    key: &'a SigningKey,
    src: &'a Repo,
    subject: &Subject,
    target: &'a Target,
    statements: Vec<Statement>,
    referrers: bool,
    scan: &crate::cli::ScanArgs,
) -> Promotion<'a> {
    Promotion {
        src,
        digest: subject.digest.clone(),
        dst: &target.dst,
        tag: target.tag.clone(),
        key,
        annotations: scan.sign.annotations.iter().cloned().collect(),
        statements,
        allow_retag: target.allow_retag,
        jobs: target.jobs,
        referrers,
    }
}

/// Called by `sign::after_scan` when the scan passed: promote with the fresh verdict,
/// SBOM and vuln attestations.
pub(crate) fn after_scan(
    p: &Prepared,
    target: &Target,
    report: &ScanReport,
    args: &crate::cli::ScanArgs,
    quiet: bool,
) -> Result<u8> {
    let statements = crate::sign::statements(&target.dst.docker_reference(), &p.subject.digest, &p.given, report)?;
    let promotion = promotion(p.key.get()?, &p.repo, &p.subject, target, statements, p.referrers, args);
    finish(&promotion, quiet)
}

fn finish(p: &Promotion<'_>, quiet: bool) -> Result<u8> {
    let obs =
        CliObserver { quiet, abort_at: std::env::var(ABORT_AT_ENV).ok(), aborted_mid_blob: AtomicBool::new(false) };
    let done = promote::promote(p, &obs)?;
    let dst = match &p.tag {
        Some(tag) => p.dst.display(tag),
        None => p.dst.display(&p.digest.to_string()),
    };
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "promoted {} to {} ({} manifest(s); blobs: {} copied ({} bytes), {} mounted, {} already there; {}; {} attestation(s) added{})",
        p.src.display(&p.digest.to_string()),
        crate::commands::terminal_safe(&dst),
        done.manifests,
        done.blobs_streamed,
        done.bytes_streamed,
        done.blobs_mounted,
        done.blobs_present,
        if done.signed { "signed" } else { "signature already there" },
        done.attested,
        match (&done.tag_moved_from, done.tag_set) {
            (Some(old), _) => format!("; tag moved from {old}"),
            (None, false) if p.tag.is_some() => "; tag already there".to_owned(),
            _ => String::new(),
        }
    )?;
    Ok(OK)
}

struct CliObserver {
    quiet: bool,
    abort_at: Option<String>,
    aborted_mid_blob: AtomicBool,
}

impl CliObserver {
    fn maybe_abort(&self, step: &str) {
        if self.abort_at.as_deref() == Some(step) {
            let _ = writeln!(io::stderr().lock(), "{ABORT_AT_ENV}={step}: aborting");
            std::process::abort();
        }
    }
}

impl Observer for CliObserver {
    fn step(&self, step: &Step<'_>) {
        let line = match step {
            Step::Planned { manifests, blobs, bytes } => {
                Some(format!("copying {manifests} manifest(s) and {blobs} blob(s), {bytes} bytes"))
            }
            Step::BlobProgress { done, total, .. } => {
                if *total >= 64 << 10 && *done * 2 >= *total && !self.aborted_mid_blob.swap(true, Ordering::SeqCst) {
                    self.maybe_abort("mid-blob");
                }
                None
            }
            Step::Blob { digest, size, how } => Some(format!(
                "blob {digest} ({size} bytes): {}",
                match how {
                    BlobCopy::Present => "already there",
                    BlobCopy::Mounted => "mounted",
                    BlobCopy::Streamed => "copied",
                }
            )),
            Step::BlobsDone => {
                self.maybe_abort("blobs");
                None
            }
            Step::Manifest { digest } => Some(format!("manifest {digest} pushed")),
            Step::ManifestsDone => {
                self.maybe_abort("manifests");
                None
            }
            Step::Signed { added } => {
                self.maybe_abort("signed");
                Some(if *added { "signed".to_owned() } else { "signature by this key already there".to_owned() })
            }
            Step::Attested { predicate_type, added } => {
                self.maybe_abort("attested");
                Some(format!("{predicate_type} attestation {}", if *added { "added" } else { "already there" }))
            }
            Step::Tagged { tag, .. } => Some(format!("tag {tag} set")),
        };
        if let Some(line) = line
            && !self.quiet
        {
            let _ = writeln!(io::stderr().lock(), "{}", crate::commands::terminal_safe(&line));
        }
    }
}
