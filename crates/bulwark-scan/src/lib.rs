//! The scan pipeline, as a library the CLI and (later) the server call: read an image
//! through the layer cache, squash it, detect the OS, and build the report.
//!
//! ```no_run
//! use bulwark_scan::{ScanOptions, scan};
//!
//! let reference = "oci:./my-image".parse().unwrap();
//! let (report, _image) = scan(&reference, &ScanOptions::default(), &bulwark_image::NoProgress).unwrap();
//! println!("{} files", report.files.files);
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use bulwark_core::ScanInput;
use bulwark_core::report::{FileCounts, ImageSummary, LayerSummary, NotRun, REPORT_SCHEMA_VERSION, ScanReport};
use bulwark_core::time::Date;
use bulwark_detect::config::ConfigOptions;
use bulwark_detect::malware::clamd::ClamavScanner;
use bulwark_detect::malware::{MalwareConfig, MalwareScanner};
use bulwark_detect::secret::{SecretConfig, SecretScanner};
use bulwark_image::layer::EntryKind;
use bulwark_image::{Image, Progress, ReadOptions};

mod advisories;
mod budget;
pub mod cache;
pub mod catalog;
mod engine;
mod finish;
pub mod settings;

pub use advisories::AdvisoryDb;
pub use bulwark_core::{Warning, WarningKind};
pub use bulwark_detect::secret::Redactor;
pub use cache::DiskCache;
pub use engine::{CancelToken, Engine, Events, NoEvents, ScanOutcome, ScanRequest, Stage};
pub use finish::{FailOn, Finish, Gate, finish};
pub use settings::ScanSettings;

/// Errors from scanning.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(bulwark_image::Error),
    /// The scan's [`CancelToken`] was cancelled; nothing half-read was cached.
    #[error("scan cancelled")]
    Cancelled,
    /// The request asks for a scanner whose rules the engine was not built with.
    #[error("the {scanner} scanner is not enabled on this engine")]
    ScannerUnavailable { scanner: String },
    /// Re-matching needs an advisory database and the engine has none.
    #[error("no advisory database to match against")]
    NoAdvisories,
    #[error("layer cache {path}: {source}")]
    Cache { path: PathBuf, source: std::io::Error },
    #[error("sbom {path}: {message}")]
    Sbom { path: PathBuf, message: String },
    /// The advisory database could not be opened or read; `source` says why (typed, for
    /// the caller's advice: a damaged file, another schema version).
    #[error("advisory database {path}")]
    Db { path: PathBuf, source: bulwark_vulndb::Error },
    #[error("malware rules: {0}")]
    Malware(#[from] bulwark_detect::malware::Error),
    /// clamd was asked for and could not be used (before or during the scan): the malware
    /// check is incomplete, so the scan is an error, never a pass.
    #[error("malware engine clamav: {0}")]
    Clamd(#[from] bulwark_detect::malware::clamd::ClamdError),
    #[error("secret rules: {0}")]
    Secret(#[from] bulwark_detect::secret::Error),
    /// An ignore file or VEX document that cannot be used; `message` names the file.
    #[error("{message}")]
    Suppression { path: PathBuf, message: String },
}

impl From<bulwark_image::Error> for Error {
    fn from(e: bulwark_image::Error) -> Error {
        match e {
            bulwark_image::Error::Cancelled => Error::Cancelled,
            e => Error::Image(e),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub read: ReadOptions,
    /// Where layer analyses are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Size bound of the layer cache.
    pub cache_max_bytes: u64,
    /// How layer cache entries are authenticated (see `docs/cache.md`).
    pub cache_integrity: cache::Integrity,
    /// The advisory database to match packages against; `None` skips vulnerability matching.
    pub db: Option<PathBuf>,
    /// Which scanners run (packages are always catalogued: the other scanners use them).
    pub scanners: Scanners,
    pub malware: MalwareConfig,
    pub secret: SecretConfig,
    pub config: ConfigOptions,
    /// Ignore files (`bulwark_match::suppress`), applied to vulnerabilities.
    pub ignore_files: Vec<PathBuf>,
    /// OpenVEX or CycloneDX VEX documents.
    pub vex_files: Vec<PathBuf>,
    /// The day ignore entries expire against.
    pub today: Date,
}

/// The scanners of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanners {
    pub vuln: bool,
    pub malware: bool,
    pub secret: bool,
    pub config: bool,
}

impl Scanners {
    /// Every scanner.
    pub const ALL: Scanners = Scanners { vuln: true, malware: true, secret: true, config: true };

    /// The names of the enabled scanners, as reported.
    pub fn names(&self) -> Vec<String> {
        [(self.vuln, "vuln"), (self.malware, "malware"), (self.secret, "secret"), (self.config, "config")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| (*n).to_owned())
            .collect()
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            read: ReadOptions::default(),
            cache_dir: DiskCache::default_dir(),
            cache_max_bytes: 2 << 30,
            cache_integrity: cache::Integrity::default(),
            db: None,
            scanners: Scanners::ALL,
            malware: MalwareConfig::default(),
            secret: SecretConfig::default(),
            config: ConfigOptions::default(),
            ignore_files: Vec::new(),
            vex_files: Vec::new(),
            today: Date::today(),
        }
    }
}

/// Largest SBOM file read.
const MAX_SBOM_BYTES: u64 = 256 << 20;

/// Reads and analyses an image, or reads an SBOM (an `sbom:` input, which has no image),
/// on an [`Engine`] built for this one scan: the one-shot form of [`Engine::scan`]. The
/// report is redacted ([`Redactor::redact_report`]) before it is returned; the [`Image`] is
/// not, so whatever shows its config or paths must go through a [`Redactor`] too.
pub fn scan(input: &ScanInput, opts: &ScanOptions, progress: &dyn Progress) -> Result<(ScanReport, Option<Image>)> {
    let mut settings = opts.clone();
    if let ScanInput::Sbom(_) = input {
        // An SBOM has no files: its scan needs no malware or secret rules compiled.
        settings.scanners = Scanners { malware: false, secret: false, ..settings.scanners };
    }
    let engine = Engine::new(settings)?;
    let request = ScanRequest { scanners: Some(opts.scanners), ..ScanRequest::new(input.clone()) };
    let outcome = engine.scan(&request, &engine::ProgressEvents(progress), &CancelToken::new())?;
    Ok((outcome.report, outcome.image))
}

/// The engine's scanners for one image scan, and what they need from the inventory.
pub(crate) struct Detect<'a> {
    pub(crate) malware: Option<&'a Arc<MalwareScanner>>,
    pub(crate) clamav: Option<&'a Arc<ClamavScanner>>,
    pub(crate) secret: Option<&'a Arc<SecretScanner>>,
    pub(crate) package_owned: &'a BTreeSet<String>,
    pub(crate) scanners: Scanners,
}

/// The malware, secret and config stages of an image scan, then the per-rule caps.
pub(crate) fn detect(
    run: &mut engine::Run<'_>,
    report: &mut ScanReport,
    image: &Image,
    opts: &ScanOptions,
    suppressions: &Suppressions,
    d: &Detect<'_>,
) -> Result<()> {
    let limits = &opts.read.limits;
    // The image config's collections, cut to the limit once for the secret scanner and the
    // config checks; what was cut is said once.
    let config = image.resolved.as_ref().map(|r| {
        let (config, cut) = bulwark_detect::config::capped_config(&r.config, limits.max_config_entries);
        if d.scanners.secret || d.scanners.config {
            report.warnings.extend(cut);
        }
        config
    });
    report.warnings.extend(suppressions.0.iter().flat_map(|f| f.warnings.iter().map(Warning::matching)));
    if let Some(m) = d.malware {
        run.stage(Stage::Malware, || {
            report.malware = bulwark_detect::malware::findings(image);
            report.skipped.extend(bulwark_detect::malware::skipped(image, opts.malware.max_file_bytes));
            report.warnings.extend(m.compile_warnings().into_iter().map(Warning::rules));
            // Notes about files in a layer (`malware: layer N: …`); the layer is named
            // inside the text, so it stays there.
            report
                .warnings
                .extend(bulwark_detect::malware::notes(image).into_iter().map(|n| Warning::new(WarningKind::Layer, n)));
            Ok(())
        })?;
    }
    if let Some(c) = d.clamav {
        use bulwark_detect::malware::clamd;
        report.malware.extend(clamd::findings(image));
        report.malware.sort_by(|a, b| {
            (&a.location.path, a.location.layer, &a.rule).cmp(&(&b.location.path, b.location.layer, &b.rule))
        });
        report.skipped.extend(clamd::skipped(image, c.config()));
        report.warnings.extend(clamd::notes(image).into_iter().map(|n| Warning::new(WarningKind::Layer, n)));
    }
    if let Some(s) = d.secret {
        run.stage(Stage::Secret, || {
            let mut found = bulwark_detect::secret::findings(image, s, d.package_owned);
            if let Some(config) = &config {
                found.extend(bulwark_detect::secret::scan_image_config(s, config));
            }
            found.sort_by(|a, b| (&a.location, &a.rule).cmp(&(&b.location, &b.rule)));
            found.dedup_by(|a, b| a.location == b.location && a.rule == b.rule && a.fingerprint == b.fingerprint);
            report.secrets = found;
            report.skipped.extend(bulwark_detect::skipped_larger_than(image, "secret", opts.secret.max_file_bytes));
            report.warnings.extend(
                s.unsupported_rules()
                    .iter()
                    .map(|(id, why)| Warning::rules(format!("secret rule {id} not loaded: {why}"))),
            );
            report.warnings.extend(s.allowlist_warnings().iter().map(Warning::rules));
            Ok(())
        })?;
    }
    if d.scanners.config {
        run.stage(Stage::Config, || {
            let config_opts = ConfigOptions { max_config_entries: limits.max_config_entries, ..opts.config.clone() };
            report.misconfigurations = bulwark_detect::config::check(image, report, &config_opts);
            report.not_run.extend(config_not_run(image, &config_opts));
            Ok(())
        })?;
    }
    cap_findings(report, limits.max_findings);
    Ok(())
}

/// The layer cache, minus every `put` once clamd has failed: a layer whose clamd results
/// are incomplete would otherwise be read back as checked on the next scan.
pub(crate) struct ClamavGuardedCache<'a> {
    pub(crate) inner: &'a dyn bulwark_image::LayerCache,
    pub(crate) clamav: Arc<ClamavScanner>,
}

impl bulwark_image::LayerCache for ClamavGuardedCache<'_> {
    fn get(&self, key: &str) -> Option<bulwark_image::layer::LayerIndex> {
        self.inner.get(key)
    }
    fn put(&self, key: &str, index: &bulwark_image::layer::LayerIndex) {
        if !self.clamav.failed() {
            self.inner.put(key, index);
        }
    }
    fn get_doc(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.get_doc(key)
    }
    fn put_doc(&self, key: &str, doc: &[u8]) {
        if !self.clamav.failed() {
            self.inner.put_doc(key, doc);
        }
    }
    fn read_guard(&self, key: &str, cancelled: &dyn Fn() -> bool) -> Option<Box<dyn std::any::Any + Send>> {
        self.inner.read_guard(key, cancelled)
    }
}

/// Keeps at most `max` findings per rule of each scanner, the first in report order, and
/// counts the rest in one limit warning per rule: an image full of one secret or one
/// world-writable path must not make the report (and every format written from it) grow
/// without bound.
fn cap_findings(report: &mut ScanReport, max: u64) {
    fn cap<T>(items: &mut Vec<T>, max: u64, scanner: &str, rule: impl Fn(&T) -> &str, warnings: &mut Vec<Warning>) {
        let mut seen: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        items.retain(|f| {
            let n = seen.entry(rule(f).to_owned()).or_default();
            *n += 1;
            *n <= max
        });
        for (rule, n) in seen.into_iter().filter(|(_, n)| *n > max) {
            let what = format!("{scanner} findings of rule {}", bulwark_core::excerpt(&rule));
            warnings.push(Warning::limit("max-findings", max, &what, n - max));
        }
    }
    let w = &mut report.warnings;
    cap(&mut report.malware, max, "malware", |f| &f.rule, w);
    cap(&mut report.secrets, max, "secret", |f| &f.rule, w);
    cap(&mut report.misconfigurations, max, "config", |f| &f.id, w);
}

/// The config checks that could not run on this image, grouped by why.
fn config_not_run(image: &Image, opts: &ConfigOptions) -> Vec<NotRun> {
    let skipped = bulwark_detect::config::skipped(image, opts);
    let needs_config: Vec<String> = bulwark_detect::config::checks()
        .iter()
        .filter(|c| c.needs_config && skipped.contains(&c.id))
        .map(|c| c.id.to_owned())
        .collect();
    let others: Vec<String> =
        skipped.iter().filter(|id| !needs_config.iter().any(|n| n == *id)).map(|id| (*id).to_owned()).collect();
    let mut out = Vec::new();
    if !needs_config.is_empty() {
        out.push(NotRun {
            scanner: "config".to_owned(),
            checks: needs_config,
            reason: "the source has no image config (user, ports, Env, history)".to_owned(),
        });
    }
    if !others.is_empty() {
        out.push(NotRun {
            scanner: "config".to_owned(),
            checks: others,
            reason: "the base image's layers are not known".to_owned(),
        });
    }
    out
}

pub(crate) type Suppressions = (Vec<bulwark_match::suppress::IgnoreFile>, Vec<bulwark_match::suppress::Vex>);

pub(crate) fn load_suppressions(opts: &ScanOptions) -> Result<Suppressions> {
    let err =
        |path: &PathBuf, e: &dyn std::fmt::Display| Error::Suppression { path: path.clone(), message: e.to_string() };
    let ignores = opts
        .ignore_files
        .iter()
        .map(|p| bulwark_match::suppress::load_ignore_file(p).map_err(|e| err(p, &e)))
        .collect::<Result<Vec<_>>>()?;
    let vex = opts
        .vex_files
        .iter()
        .map(|p| bulwark_match::suppress::load_vex(p).map_err(|e| err(p, &e)))
        .collect::<Result<Vec<_>>>()?;
    Ok((ignores, vex))
}

/// Re-matches a stored report's inventory (its packages and OS) against `advisories`,
/// without reading the image: what a registry watcher does each day when a database
/// update brings new advisories. The vulnerabilities, the database summary and what the
/// matcher could not check are replaced; the policy verdict, which judged the old
/// vulnerabilities, is cleared (run [`finish`] again). Ignore files and VEX documents are
/// applied by [`Engine::rematch`]; this form applies none. The result is redacted.
pub fn rematch(inventory: &ScanReport, advisories: &AdvisoryDb) -> Result<ScanReport> {
    let mut report = rematch_unredacted(inventory, advisories);
    Redactor::builtin()?.redact_report(&mut report);
    Ok(report)
}

pub(crate) fn rematch_unredacted(inventory: &ScanReport, advisories: &AdvisoryDb) -> ScanReport {
    let mut report = inventory.clone();
    // What the last match said is dropped with its results: its not-checked entries, the
    // same text among the warnings, and the "no advisory database" note.
    let stale: Vec<String> =
        report.not_checked.iter().filter(|n| n.scanner == "vuln").map(|n| n.message.clone()).collect();
    report.not_checked.retain(|n| n.scanner != "vuln");
    // By text: a stored report written before warnings had parts has them as strings.
    for m in stale {
        if let Some(at) = report.warnings.iter().position(|w| w.to_string() == m) {
            report.warnings.remove(at);
        }
    }
    report.not_run.retain(|n| n.scanner != "vuln");
    if !report.scanners.iter().any(|s| s == "vuln") {
        report.scanners.insert(0, "vuln".to_owned());
    }
    report.vulnerabilities.clear();
    report.suppressed.clear();
    report.suppressions.clear();
    report.policy = None;
    let before = report.warnings.clone();
    advisories.match_into(&mut report);
    // A warning the old match gave and this one gives again is said once (by text, as
    // above).
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let (old, new) = report.warnings.split_at(before.len());
    let mut warnings: Vec<Warning> = old.to_vec();
    seen.extend(old.iter().map(Warning::to_string));
    warnings.extend(new.iter().filter(|w| seen.insert(w.to_string())).cloned());
    report.warnings = warnings;
    report
}

/// The report for an SBOM given as input: its packages and OS, no layers or files.
pub(crate) fn sbom_report(input: &ScanInput, path: &std::path::Path, max_packages: u64) -> Result<ScanReport> {
    use std::io::Read;
    let io_err = |source| Error::Sbom { path: path.to_owned(), message: format!("reading: {source}") };
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(io_err)?.take(MAX_SBOM_BYTES + 1).read_to_end(&mut bytes).map_err(io_err)?;
    if bytes.len() as u64 > MAX_SBOM_BYTES {
        return Err(Error::Sbom { path: path.to_owned(), message: format!("larger than {MAX_SBOM_BYTES} bytes") });
    }
    let sbom = bulwark_report::sbom_in::parse_with(&bytes, max_packages)
        .map_err(|e| Error::Sbom { path: path.to_owned(), message: e.to_string() })?;
    let mut os = sbom.os;
    if let Some(os) = &mut os
        && os.osv_ecosystem.is_none()
    {
        os.osv_ecosystem = sbom_osv_ecosystem(os);
    }
    Ok(ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        bulwark_version: env!("CARGO_PKG_VERSION").to_owned(),
        image: ImageSummary {
            reference: input.to_string(),
            source: Some("sbom".to_owned()),
            manifest_digest: None,
            config_digest: None,
            platform: None,
            created: None,
        },
        os,
        layers: Vec::new(),
        files: FileCounts::default(),
        packages: sbom.packages,
        vulnerabilities: Vec::new(),
        database: None,
        warnings: sbom.warnings,
        ..Default::default()
    })
}

/// The OSV ecosystem of an SBOM's distribution, by the same table an image's os-release
/// goes through: only Bulwark's CycloneDX carries it, SPDX and Syft's SBOMs do not.
fn sbom_osv_ecosystem(os: &bulwark_core::report::OsRelease) -> Option<String> {
    let info = bulwark_catalog::os::OsInfo {
        id: os.id.to_ascii_lowercase(),
        id_like: Vec::new(),
        name: None,
        pretty_name: os.pretty_name.clone(),
        version_id: os.version_id.clone(),
        version: os.pretty_name.clone(),
        codename: os.version_codename.clone(),
        point_release: None,
        distroless: os.distroless,
        osv_ecosystem: None,
        source: "sbom",
    };
    bulwark_catalog::os::osv_ecosystem(&info)
}

/// Builds the report for an image that has been read: layers, files, OS and packages.
pub fn report(image: &Image) -> ScanReport {
    report_with_owned_files(image).0
}

/// [`report`], plus the absolute paths of the files OS packages own.
pub(crate) fn report_with_owned_files(image: &Image) -> (ScanReport, BTreeSet<String>) {
    let resolved = image.resolved.as_ref();
    let layers = match resolved {
        Some(r) => r
            .layers
            .iter()
            .zip(&image.layers)
            .enumerate()
            .map(|(i, (lr, ix))| LayerSummary {
                index: i,
                digest: Some(lr.descriptor.digest.clone()),
                diff_id: lr.diff_id.clone(),
                media_type: Some(lr.descriptor.media_type.clone()).filter(|m| !m.is_empty()),
                size: lr.descriptor.size(),
                uncompressed_size: ix.uncompressed_size,
                entries: ix.entries.len() as u64,
                whiteouts: (ix.whiteouts.len() + ix.opaque_dirs.len()) as u64,
                created_by: lr.created_by.clone(),
            })
            .collect(),
        None => Vec::new(),
    };
    let mut files = FileCounts::default();
    for (_, node) in image.view.iter() {
        match node.entry.kind {
            EntryKind::File => {
                files.files += 1;
                files.bytes += node.entry.size;
            }
            EntryKind::Dir => files.directories += 1,
            EntryKind::Symlink { .. } => files.symlinks += 1,
            EntryKind::Hardlink { .. } => files.hardlinks += 1,
        }
    }
    files.shadowed = image.view.removed().count() as u64
        + image.view.iter().filter(|(_, n)| !n.replaced.is_empty() && !matches!(n.entry.kind, EntryKind::Dir)).count()
            as u64;
    let os = catalog::detect_os(image);
    let (mut packages, os_owned, mut catalog_warnings) = catalog::os_packages(image, os.as_ref());
    let (lang, lang_warnings) = catalog::lang_packages(image, &os_owned);
    packages.extend(lang);
    catalog_warnings.extend(lang_warnings);
    bulwark_core::report::sort_packages(&mut packages);
    let mut warnings = image.warnings.clone();
    warnings.extend(catalog_warnings);
    let report = ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        bulwark_version: env!("CARGO_PKG_VERSION").to_owned(),
        image: ImageSummary {
            reference: image.reference.clone(),
            source: Some(image.source.to_owned()),
            manifest_digest: resolved.and_then(|r| r.manifest_digest.clone()),
            config_digest: resolved.map(|r| r.config_digest.clone()),
            platform: resolved.and_then(|r| r.platform.clone()),
            created: resolved.and_then(|r| r.config.created.clone()),
        },
        os: os.as_ref().map(catalog::os_release),
        layers,
        files,
        packages,
        vulnerabilities: Vec::new(),
        database: None,
        warnings,
        ..Default::default()
    };
    (report, os_owned)
}
