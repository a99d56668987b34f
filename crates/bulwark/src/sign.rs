//! `bulwark sign`, `verify`, `attest`, `verify-attestation` and `scan --sign`: cosign's
//! signatures and attestations, stored in registries through `bulwark_assert`.
//!
//! The clap types live here so that `cli.rs` only registers the commands, and
//! `scan.rs` calls [`after_scan`] once at its end.

use std::collections::BTreeMap;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use bulwark_assert::attach::{self, Check, Kind};
use bulwark_assert::{Repo, Subject};
use bulwark_core::report::{ExceptionStatus, ScanReport, Severity};
use bulwark_core::{Digest, DockerRef, Reference, ScanInput};
use bulwark_registry::{Client, RegistryOptions};
use bulwark_sign::cosign::{self, CertificateIdentity, Signer, TrustPolicy};
use bulwark_sign::intoto::{self, Statement, VerdictPredicate};
use bulwark_sign::keys::PublicKey;
use bulwark_sign::trust::TrustedRoot;
use bulwark_sign::x509::Certificate;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::commands::OK;

/// Exit code: nothing verified (or the policy failed).
pub(crate) const FAILED: u8 = 1;

/// How to reach a registry, for the commands that only talk to registries.
#[derive(Debug, Args)]
pub struct RegistryFlags {
    /// Allow plain HTTP (and fall back from HTTPS) for registries that are not on loopback
    #[arg(long, env = "BULWARK_INSECURE_REGISTRY")]
    pub insecure_registry: bool,
    /// Registry user name (the password comes from --password-stdin)
    #[arg(long, env = "BULWARK_USERNAME")]
    pub username: Option<String>,
    /// Read the registry password from stdin
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Docker client config directory (like DOCKER_CONFIG) or its config.json [default: $DOCKER_CONFIG or ~/.docker]
    #[arg(long, value_name = "DIR", env = "BULWARK_DOCKER_CONFIG")]
    pub docker_config: Option<PathBuf>,
}

impl RegistryFlags {
    pub(crate) fn options(&self) -> Result<RegistryOptions> {
        let mut opts = RegistryOptions {
            insecure: self.insecure_registry,
            username: self.username.clone(),
            docker_config: self.docker_config.clone(),
            ..Default::default()
        };
        if self.password_stdin {
            opts.password = Some(read_stdin_password()?);
        }
        Ok(opts)
    }
}

pub(crate) fn read_stdin_password() -> Result<String> {
    let mut password = String::new();
    io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("--password-stdin: stdin was empty");
    }
    Ok(password)
}

/// What verifies a signature: keys, a PKI, or keyless against a Sigstore trusted root.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Public key (PEM, or a certificate); repeatable: a signature by any one of them verifies
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// Bring-your-own PKI: PEM certificates; self-signed ones are trusted roots, the others intermediates
    #[arg(long, value_name = "FILE")]
    pub cert_chain: Option<PathBuf>,
    /// Keyless: the Sigstore trusted root JSON (Fulcio CAs and Rekor keys), read offline
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The exact identity (SAN: email, URI) the signing certificate must carry
    #[arg(long)]
    pub certificate_identity: Option<String>,
    /// The exact OIDC issuer the signing certificate must name
    #[arg(long)]
    pub certificate_oidc_issuer: Option<String>,
    /// Rekor public key (PEM), in addition to the trusted root's; Rekor bundles are then checked
    #[arg(long, value_name = "FILE")]
    pub rekor_key: Vec<PathBuf>,
    /// Refuse signatures without a verified Rekor entry
    #[arg(long)]
    pub require_tlog: bool,
}

impl TrustArgs {
    fn policy(&self) -> Result<TrustPolicy> {
        let mut trust = TrustPolicy { require_tlog: self.require_tlog, ..Default::default() };
        for path in &self.key {
            trust.keys.push(PublicKey::from_pem(&read(path)?).with_context(|| format!("key {}", path.display()))?);
        }
        if let Some(path) = &self.cert_chain {
            let certs = Certificate::from_pem_all(&read(path)?).with_context(|| format!("{}", path.display()))?;
            for cert in certs {
                if cert.verify_issued_by(&cert).is_ok() {
                    trust.ca_roots.push(cert);
                } else {
                    trust.ca_intermediates.push(cert);
                }
            }
            if trust.ca_roots.is_empty() {
                bail!("--cert-chain {}: no self-signed root certificate in it", path.display());
            }
        }
        if let Some(path) = &self.trusted_root {
            trust.trusted_root =
                Some(TrustedRoot::from_json(&read(path)?).with_context(|| format!("{}", path.display()))?);
            if self.certificate_identity.is_none() || self.certificate_oidc_issuer.is_none() {
                bail!(
                    "keyless verification needs --certificate-identity and --certificate-oidc-issuer; hint: they are compared exactly with the signing certificate"
                );
            }
        }
        for path in &self.rekor_key {
            trust.rekor_keys.push(PublicKey::from_pem(&read(path)?).with_context(|| format!("{}", path.display()))?);
        }
        if let Some(subject) = &self.certificate_identity {
            trust.identity =
                Some(CertificateIdentity { subject: subject.clone(), issuer: self.certificate_oidc_issuer.clone() });
        }
        if trust.keys.is_empty() && trust.ca_roots.is_empty() && trust.trusted_root.is_none() {
            bail!("nothing to verify against; hint: give --key, --cert-chain or --trusted-root");
        }
        Ok(trust)
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The tag is resolved once and that digest is signed. The signature is appended to the
manifest tagged sha256-<hex>.sig (cosign's place) and stored as an OCI 1.1 referrer:
through the referrers API where the registry has it, else in the sha256-<hex> index.
The key password comes from $BULWARK_KEY_PASSWORD or a prompt.")]
pub struct SignArgs {
    /// Image in a registry, e.g. localhost:5000/app:1 or ghcr.io/org/app@sha256:...
    pub image: String,
    /// Private key (cosign's encrypted format, PKCS#8 or SEC1 PEM)
    #[arg(long, value_name = "FILE", env = "BULWARK_SIGN_KEY")]
    pub key: PathBuf,
    /// Annotation KEY=VALUE in the signed payload's `optional`; repeatable
    #[arg(long = "annotation", short = 'a', value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotations: Vec<(String, String)>,
    /// Do not also store the signature as an OCI 1.1 referrer
    #[arg(long)]
    pub no_referrer: bool,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 at least one signature verifies, 1 none does (each signature's reason is
listed), 2 error (registry unreachable, bad options).")]
pub struct VerifyArgs {
    /// Image in a registry (a tag is resolved once)
    pub image: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Output format on stdout
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Attestation predicate types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PredicateKind {
    /// Bulwark's verdict (https://bulwark.dev/attestations/verdict/v1)
    Verdict,
    /// CycloneDX 1.6 SBOM (https://cyclonedx.org/bom)
    Sbom,
    /// cosign's vuln predicate carrying Bulwark's JSON report
    Vuln,
}

impl PredicateKind {
    fn predicate_type(self) -> &'static str {
        match self {
            PredicateKind::Verdict => intoto::VERDICT_PREDICATE_TYPE,
            PredicateKind::Sbom => intoto::CYCLONEDX_PREDICATE_TYPE,
            PredicateKind::Vuln => intoto::VULN_PREDICATE_TYPE,
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
The predicate is made from a saved report (`bulwark scan --format json`) of the same
image digest. `--type verdict` evaluates --policy on it (or takes the verdict the report
holds, when it was made with one). To scan, sign and attest in one run, use
`bulwark scan --sign --key K --policy P`.")]
pub struct AttestArgs {
    /// Image in a registry (a tag is resolved once)
    pub image: String,
    /// Private key
    #[arg(long, value_name = "FILE", env = "BULWARK_SIGN_KEY")]
    pub key: PathBuf,
    /// Predicate type
    #[arg(long = "type", value_enum)]
    pub kind: PredicateKind,
    /// Bulwark JSON report of this image
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// Policy to evaluate the report under (verdict)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Do not also store the attestation as an OCI 1.1 referrer
    #[arg(long)]
    pub no_referrer: bool,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Args)]
#[command(after_help = "\
A verdict attestation is accepted when its signature verifies, its subject is the image's
digest, the verdict is pass, it is at most --max-age old, and (with --policy) it was made
under exactly that policy file's content. Exit codes: 0 one is accepted, 1 none is, 2 error.")]
pub struct VerifyAttestationArgs {
    /// Image in a registry (a tag is resolved once)
    pub image: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Predicate type
    #[arg(long = "type", value_enum, default_value = "verdict")]
    pub kind: PredicateKind,
    /// Largest verdict age, e.g. 24h, 90m, 7d (verdict only)
    #[arg(long, value_parser = parse_duration)]
    pub max_age: Option<u64>,
    /// The verdict must have been made under this policy file's exact content (verdict only)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Output format on stdout
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// `scan --sign`: the flags, and what [`prepare`] resolved before the scan.
#[derive(Debug, Args, Default)]
pub struct ScanSignArgs {
    /// When the policy passes: sign the image and attach verdict, SBOM and vuln attestations (needs --key and --policy)
    #[arg(long, requires = "key", env = "BULWARK_SIGN")]
    pub sign: bool,
    /// Private key for --sign
    #[arg(long, value_name = "FILE", env = "BULWARK_SIGN_KEY")]
    pub key: Option<PathBuf>,
    /// Signature annotation KEY=VALUE (with --sign); repeatable
    #[arg(long = "annotation", short = 'a', value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotations: Vec<(String, String)>,
    /// Set by `prepare`: the key, the pinned image, and for `promote` the target.
    #[arg(skip)]
    pub prepared: Option<Prepared>,
}

/// What `scan --sign` and `promote` settle before scanning.
#[derive(Debug)]
pub struct Prepared {
    /// Decrypted while the scan runs (`scan --sign`), or already loaded (`promote`).
    pub key: crate::key::PendingKey,
    pub repo: Repo,
    pub subject: Subject,
    /// The reference as the user wrote it.
    pub given: String,
    pub promote: Option<crate::promote::Target>,
    pub referrers: bool,
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// `24h`, `90m`, `30s`, `7d`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Result<u64, String> {
    let (num, unit) = s.trim().split_at(s.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(s.trim().len()));
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a duration such as 24h, 90m or 7d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too long"))
}

/// A registry reference from the command line (`registry:` prefix allowed).
pub(crate) fn registry_ref(s: &str) -> Result<DockerRef> {
    // A scan input, so that `sbom:` is refused as no registry image, like `docker:`.
    let input: ScanInput =
        s.parse().map_err(|e| anyhow!("{e}\nhint: see `bulwark scan --help` for the reference syntax"))?;
    match input.image().and_then(Reference::docker_ref) {
        Some(d) => Ok(d.clone()),
        None => bail!("{s} is not an image in a registry; signatures are stored in registries"),
    }
}

/// The repository of `reference` and its digest, resolved once.
pub(crate) fn resolve(reference: &DockerRef, opts: &RegistryOptions) -> Result<(Repo, Subject)> {
    let client = Client::for_reference(reference, opts)?;
    let repo = Repo::new(client, reference.repository.clone());
    let subject = Subject::resolve(&repo, &reference.reference()).with_context(|| format!("resolving {reference}"))?;
    Ok((repo, subject))
}

pub fn sign(args: SignArgs) -> Result<u8> {
    let key = crate::key::load_signing_key(&args.key, false)?;
    let reference = registry_ref(&args.image)?;
    let (repo, subject) = resolve(&reference, &args.registry.options()?)?;
    let annotations: BTreeMap<_, _> = args.annotations.into_iter().collect();
    let layer = cosign::sign_image(&key, &repo.docker_reference(), &subject.digest.to_string(), &annotations)?;
    let attached = attach::attach(&repo, &subject, Kind::Signature, &layer, !args.no_referrer)?;
    report_attached(&repo, &subject, "signature", &attached, false);
    Ok(OK)
}

fn report_attached(repo: &Repo, subject: &Subject, what: &str, a: &attach::Attached, quiet: bool) {
    if quiet {
        return;
    }
    let mut err = io::stderr().lock();
    let target = crate::commands::terminal_safe(&repo.display(&subject.digest.to_string()));
    let how = if a.added { "added to" } else { "already in" };
    let _ = writeln!(err, "{what} of {target} {how} {}", a.tag);
    if let Some((digest, source)) = &a.referrer {
        let via = match source {
            bulwark_registry::ReferrersSource::Api => "the referrers API",
            bulwark_registry::ReferrersSource::TagSchema => "the sha256-<hex> tag-schema index (no referrers API)",
        };
        let _ = writeln!(err, "{what} stored as referrer {digest}, listed through {via}");
    }
}

pub fn verify(args: VerifyArgs) -> Result<u8> {
    let trust = args.trust.policy()?;
    let reference = registry_ref(&args.image)?;
    let (repo, subject) = resolve(&reference, &args.registry.options()?)?;
    let checks = attach::verify_subject_signatures(&repo, &subject, &trust)?;
    let ok = checks.iter().any(|c| c.result.is_ok());
    match args.format {
        OutputFormat::Json => {
            let sigs: Vec<_> = checks.iter().map(signature_json).collect();
            let doc = json!({
                "image": repo.display(&subject.digest.to_string()),
                "reference": args.image,
                "digest": subject.digest,
                "verified": ok,
                "signatures": sigs,
            });
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let mut out = io::stdout().lock();
            for c in &checks {
                let line = match &c.result {
                    Ok(v) => format!(
                        "verified  {}: {} ({})",
                        c.origin,
                        signer_text(&v.signer),
                        v.payload.critical.identity.docker_reference
                    ),
                    Err(e) => format!("FAILED    {}: {e}", c.origin),
                };
                writeln!(out, "{}", crate::commands::terminal_safe(&line))?;
            }
        }
    }
    let target = crate::commands::terminal_safe(&repo.display(&subject.digest.to_string()));
    let mut err = io::stderr().lock();
    if checks.is_empty() {
        writeln!(err, "{target}: no signatures found")?;
    } else if ok {
        writeln!(
            err,
            "{target}: {} of {} signature(s) verified",
            checks.iter().filter(|c| c.result.is_ok()).count(),
            checks.len()
        )?;
    } else {
        writeln!(err, "{target}: none of {} signature(s) verified", checks.len())?;
    }
    Ok(if ok { OK } else { FAILED })
}

fn signer_text(s: &Signer) -> String {
    match s {
        Signer::Key { key_id } => format!("key {key_id}"),
        Signer::Certificate { subject, identities, issuer } => {
            let who = if identities.is_empty() { subject.clone() } else { identities.join(", ") };
            match issuer {
                Some(i) => format!("certificate {who} (issuer {i})"),
                None => format!("certificate {who}"),
            }
        }
    }
}

fn signer_json(s: &Signer) -> serde_json::Value {
    match s {
        Signer::Key { key_id } => json!({"keyId": key_id}),
        Signer::Certificate { subject, identities, issuer } => {
            json!({"certificate": {"subject": subject, "identities": identities, "issuer": issuer}})
        }
    }
}

fn signature_json(c: &Check<cosign::VerifiedSignature>) -> serde_json::Value {
    match &c.result {
        Ok(v) => json!({
            "origin": c.origin.to_string(),
            "verified": true,
            "signer": signer_json(&v.signer),
            "dockerReference": v.payload.critical.identity.docker_reference,
            "optional": v.payload.optional,
            "integratedTime": v.integrated_time,
        }),
        Err(e) => json!({"origin": c.origin.to_string(), "verified": false, "reason": e.to_string()}),
    }
}

pub fn attest(args: AttestArgs) -> Result<u8> {
    let key = crate::key::load_signing_key(&args.key, false)?;
    let reference = registry_ref(&args.image)?;
    let bytes = read(&args.report)?;
    let mut report: ScanReport = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a Bulwark JSON report", args.report.display()))?;
    let (repo, subject) = resolve(&reference, &args.registry.options()?)?;
    check_report_digest(&report, &subject.digest)?;
    if let Some(path) = &args.policy {
        let policy = crate::scan::load_policy(path)?;
        report.policy = Some(policy.evaluate(&report, crate::scan::today()?));
    }
    let name = repo.docker_reference();
    let statement = match args.kind {
        PredicateKind::Verdict => {
            if report.policy.is_none() {
                bail!("--type verdict needs --policy (or a report made with --policy)");
            }
            verdict_statement(&name, &subject.digest, &args.image, &report)?
        }
        PredicateKind::Sbom => sbom_statement(&name, &subject.digest, &report)?,
        PredicateKind::Vuln => vuln_statement(&name, &subject.digest, &report)?,
    };
    let layer = cosign::attest_image(&key, &statement)?;
    let attached = attach::attach(&repo, &subject, Kind::Attestation, &layer, !args.no_referrer)?;
    report_attached(&repo, &subject, "attestation", &attached, false);
    Ok(OK)
}

/// A saved report must be of the image being attested: its manifest digest, or the
/// index digest it was pinned to.
fn check_report_digest(report: &ScanReport, digest: &Digest) -> Result<()> {
    let d = digest.to_string();
    let matches = report.image.manifest_digest.as_ref() == Some(digest) || report.image.reference.ends_with(&d);
    if !matches {
        bail!(
            "the report is of {} ({}), not of {d}",
            report.image.reference,
            report.image.manifest_digest.as_ref().map(ToString::to_string).unwrap_or_else(|| "no digest".into())
        );
    }
    Ok(())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn rfc3339_now() -> String {
    bulwark_core::time::format_unix_seconds(i64::try_from(now_unix()).unwrap_or(i64::MAX))
}

/// Bulwark's verdict for `report` (which carries the policy verdict), about `name@digest`.
pub(crate) fn verdict_statement(name: &str, digest: &Digest, given: &str, report: &ScanReport) -> Result<Statement> {
    let verdict = report.policy.as_ref().ok_or_else(|| anyhow!("no policy verdict to attest"))?;
    let mut vulnerabilities = BTreeMap::new();
    for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Unknown] {
        let n = report.vulnerabilities.iter().filter(|v| v.severity == s).count() as u64;
        vulnerabilities.insert(format!("{s:?}").to_lowercase(), n);
    }
    let excepted = verdict
        .exceptions
        .iter()
        .filter(|e| e.status == ExceptionStatus::Applied)
        .map(|e| e.matched.len().max(1) as u64)
        .sum();
    let predicate = VerdictPredicate {
        image: intoto::ImageInfo { reference: given.to_owned(), digest: digest.to_string() },
        policy: intoto::PolicyInfo {
            name: verdict.policy.clone(),
            digest: verdict.policy_digest.clone().ok_or_else(|| anyhow!("the verdict has no policy digest"))?,
        },
        verdict: if verdict.passed { intoto::Verdict::Pass } else { intoto::Verdict::Fail },
        summary: intoto::VerdictSummary {
            denied: verdict.failures().count() as u64,
            warned: verdict.warnings().count() as u64,
            excepted,
        },
        vulnerabilities,
        advisory_db: intoto::AdvisoryDbInfo {
            built_at: report.database.as_ref().map(|d| d.built_at.clone()).unwrap_or_default(),
            digest: report.database.as_ref().map(|d| d.digest.clone()).unwrap_or_default(),
        },
        scanner: intoto::ScannerInfo { name: "bulwark".into(), version: report.bulwark_version.clone() },
        scanned_at: rfc3339_now(),
    };
    Ok(Statement::for_image(
        name,
        &digest.to_string(),
        intoto::VERDICT_PREDICATE_TYPE,
        serde_json::to_value(predicate)?,
    )?)
}

fn sbom_statement(name: &str, digest: &Digest, report: &ScanReport) -> Result<Statement> {
    let bom = bulwark_report::cyclonedx::write(report);
    Ok(Statement::for_image(name, &digest.to_string(), intoto::CYCLONEDX_PREDICATE_TYPE, bom)?)
}

fn vuln_statement(name: &str, digest: &Digest, report: &ScanReport) -> Result<Statement> {
    let now = rfc3339_now();
    let predicate = intoto::VulnPredicate {
        invocation: intoto::VulnInvocation::default(),
        scanner: intoto::VulnScanner {
            uri: "https://bulwark.dev".into(),
            version: report.bulwark_version.clone(),
            db: intoto::VulnDb {
                uri: String::new(),
                version: report.database.as_ref().map(|d| d.digest.clone()).unwrap_or_default(),
            },
            result: serde_json::to_value(report)?,
        },
        metadata: intoto::VulnMetadata { scan_started_on: now.clone(), scan_finished_on: now },
    };
    Ok(Statement::for_image(name, &digest.to_string(), intoto::VULN_PREDICATE_TYPE, serde_json::to_value(predicate)?)?)
}

/// The three statements `scan --sign` and `promote` attach.
pub(crate) fn statements(name: &str, digest: &Digest, given: &str, report: &ScanReport) -> Result<Vec<Statement>> {
    Ok(vec![
        verdict_statement(name, digest, given, report)?,
        sbom_statement(name, digest, report)?,
        vuln_statement(name, digest, report)?,
    ])
}

pub fn verify_attestation(args: VerifyAttestationArgs) -> Result<u8> {
    if args.kind != PredicateKind::Verdict && (args.max_age.is_some() || args.policy.is_some()) {
        bail!("--max-age and --policy check verdicts; use them with --type verdict");
    }
    let trust = args.trust.policy()?;
    let policy_digest =
        args.policy.as_deref().map(|p| read(p).map(|b| Digest::sha256_of(&b).to_string())).transpose()?;
    let reference = registry_ref(&args.image)?;
    let (repo, subject) = resolve(&reference, &args.registry.options()?)?;
    let checks = attach::verify_subject_attestations(&repo, &subject, &trust, Some(args.kind.predicate_type()))?;
    let now = now_unix();
    let results: Vec<(String, Result<cosign::VerifiedAttestation, String>)> = checks
        .into_iter()
        .map(|c| {
            let origin = c.origin.to_string();
            let r = c.result.map_err(|e| e.to_string()).and_then(|v| {
                if args.kind == PredicateKind::Verdict {
                    check_verdict(&v.statement, &subject.digest, args.max_age, policy_digest.as_deref(), now)?;
                }
                Ok(v)
            });
            (origin, r)
        })
        .collect();
    let ok = results.iter().any(|(_, r)| r.is_ok());
    match args.format {
        OutputFormat::Json => {
            let list: Vec<_> = results
                .iter()
                .map(|(origin, r)| match r {
                    Ok(v) => json!({"origin": origin, "verified": true, "signer": signer_json(&v.signer),
                                    "predicateType": v.statement.predicate_type, "predicate": v.statement.predicate}),
                    Err(e) => json!({"origin": origin, "verified": false, "reason": e}),
                })
                .collect();
            let doc = json!({"image": repo.display(&subject.digest.to_string()), "digest": subject.digest,
                             "verified": ok, "attestations": list});
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let mut out = io::stdout().lock();
            for (origin, r) in &results {
                let line = match r {
                    Ok(v) => {
                        format!("verified  {origin}: {} by {}", v.statement.predicate_type, signer_text(&v.signer))
                    }
                    Err(e) => format!("FAILED    {origin}: {e}"),
                };
                writeln!(out, "{}", crate::commands::terminal_safe(&line))?;
            }
        }
    }
    let target = crate::commands::terminal_safe(&repo.display(&subject.digest.to_string()));
    if results.is_empty() {
        writeln!(io::stderr().lock(), "{target}: no attestations found")?;
    } else if !ok {
        writeln!(io::stderr().lock(), "{target}: none of {} attestation(s) accepted", results.len())?;
    }
    Ok(if ok { OK } else { FAILED })
}

/// The checks on a verdict predicate after its signature verified.
fn check_verdict(
    statement: &Statement,
    digest: &Digest,
    max_age: Option<u64>,
    policy_digest: Option<&str>,
    now: u64,
) -> Result<(), String> {
    let v: VerdictPredicate =
        serde_json::from_value(statement.predicate.clone()).map_err(|e| format!("not a verdict predicate v1: {e}"))?;
    if v.image.digest != digest.to_string() {
        return Err(format!("the verdict is about {}, not {digest}", v.image.digest));
    }
    if v.verdict != intoto::Verdict::Pass {
        return Err(format!("verdict is fail ({} denied) under policy {}", v.summary.denied, v.policy.name));
    }
    let at = bulwark_sign::trust::parse_rfc3339(&v.scanned_at).map_err(|e| format!("scannedAt: {e}"))?;
    if at > now + 300 {
        return Err(format!("scannedAt {} is in the future", v.scanned_at));
    }
    if let Some(max) = max_age
        && now.saturating_sub(at) > max
    {
        return Err(format!("verdict of {} is older than the {max}s allowed", v.scanned_at));
    }
    if let Some(want) = policy_digest
        && v.policy.digest != want
    {
        return Err(format!("made under policy {} ({}), not under {want}", v.policy.name, v.policy.digest));
    }
    Ok(())
}

/// `bulwark scan`: with `--sign`, the key file and password are read (the key is decrypted
/// on another thread while the scan runs) and the image pinned to its digest
/// before any layer is read; otherwise the scan as it is.
pub fn scan(mut args: crate::cli::ScanArgs) -> Result<u8> {
    let settings = args.settings.take().unwrap_or_else(|| crate::config_file::all_of(&args));
    if args.sign.sign && args.sign.prepared.is_none() {
        if settings.policy.is_none() {
            bail!("--sign needs --policy: only an image that passes a policy is signed");
        }
        let key = crate::key::PendingKey::load(args.sign.key.as_deref().unwrap_or(Path::new("")), false)?;
        let reference = registry_ref(&args.input.image)?;
        let opts = crate::commands::registry_options_of(&settings)?;
        let (repo, subject) = resolve(&reference, &opts)?;
        let given = std::mem::replace(&mut args.input.image, pinned(&reference, &subject.digest));
        args.sign.prepared = Some(Prepared { key, repo, subject, given, promote: None, referrers: true });
    }
    crate::scan::scan(args, settings)
}

/// `registry:host/repo@digest`: what the scan reads once the tag is resolved.
pub(crate) fn pinned(reference: &DockerRef, digest: &Digest) -> String {
    format!("registry:{}/{}@{digest}", reference.registry, reference.repository)
}

/// Called by `scan` with its report and exit code: signs and attests (or promotes) when
/// the scan passed and `--sign` (or `promote`) asked for it. Returns the exit code.
pub(crate) fn after_scan(args: &crate::cli::ScanArgs, report: &ScanReport, code: u8, quiet: bool) -> Result<u8> {
    let Some(p) = &args.sign.prepared else { return Ok(code) };
    if code != OK {
        let what = if p.promote.is_some() { "not promoted" } else { "not signed" };
        writeln!(io::stderr().lock(), "{what}: the policy failed")?;
        return Ok(code);
    }
    if report.policy.as_ref().is_none_or(|v| !v.passed) {
        bail!("no passing policy verdict: nothing is signed");
    }
    if let Some(target) = &p.promote {
        return crate::promote::after_scan(p, target, report, args, quiet);
    }
    let key = p.key.get()?;
    let name = p.repo.docker_reference();
    let annotations: BTreeMap<_, _> = args.sign.annotations.iter().cloned().collect();
    let mut layers = vec![(
        "signature".to_owned(),
        Kind::Signature,
        cosign::sign_image(key, &name, &p.subject.digest.to_string(), &annotations)?,
    )];
    for statement in statements(&name, &p.subject.digest, &p.given, report)? {
        let what = format!("{} attestation", statement.predicate_type);
        layers.push((what, Kind::Attestation, cosign::attest_image(key, &statement)?));
    }
    // One update of the `.sig` tag, one of `.att` and one of the referrers index for all
    // four, their uploads in parallel.
    let items: Vec<_> = layers.iter().map(|(_, kind, layer)| (*kind, layer)).collect();
    let attached = attach::attach_all(&p.repo, &p.subject, &items, p.referrers)?;
    for ((what, _, _), attached) in layers.iter().zip(&attached) {
        report_attached(&p.repo, &p.subject, what, attached, quiet);
    }
    Ok(OK)
}
