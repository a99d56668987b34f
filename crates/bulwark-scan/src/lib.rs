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

use bulwark_core::Reference;
use bulwark_core::report::{
    DatabaseSummary, FileCounts, ImageSummary, LayerSummary, REPORT_SCHEMA_VERSION, ScanReport,
};
use bulwark_core::time::Date;
use bulwark_detect::config::ConfigOptions;
use bulwark_detect::malware::{MalwareConfig, MalwareScanner};
use bulwark_detect::secret::{SecretConfig, SecretScanner};
use bulwark_image::layer::{EntryKind, FileAnalyzer};
use bulwark_image::{Image, LayerCache, NoCache, Progress, ReadOptions};

pub mod cache;
pub mod catalog;

pub use cache::DiskCache;

/// Errors from scanning.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] bulwark_image::Error),
    #[error("layer cache {path}: {source}")]
    Cache { path: PathBuf, source: std::io::Error },
    #[error("sbom {path}: {message}")]
    Sbom { path: PathBuf, message: String },
    #[error("advisory database {path}: {message} (hint: build it with `bulwark db build`)")]
    Db { path: PathBuf, message: String },
    #[error("malware rules: {0}")]
    Malware(#[from] bulwark_detect::malware::Error),
    #[error("secret rules: {0}")]
    Secret(#[from] bulwark_detect::secret::Error),
    #[error("{path}: {message}")]
    Suppression { path: PathBuf, message: String },
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

/// Reads and analyses an image, or reads an SBOM (`sbom:` references, which have no image).
/// Every enabled scanner runs in the same single pass over the layers.
pub fn scan(reference: &Reference, opts: &ScanOptions, progress: &dyn Progress) -> Result<(ScanReport, Option<Image>)> {
    if let Reference::Sbom { path } = reference {
        let mut report = sbom_report(reference, path)?;
        report.scanners = Scanners { vuln: opts.scanners.vuln, ..Scanners::default() }.names();
        if opts.scanners.vuln {
            match_vulnerabilities(&mut report, opts)?;
        }
        return Ok((report, None));
    }
    let disk = match &opts.cache_dir {
        Some(dir) => Some(
            DiskCache::with_integrity(dir, opts.cache_max_bytes, &opts.cache_integrity)
                .map_err(|source| Error::Cache { path: dir.clone(), source })?,
        ),
        None => None,
    };
    let cache: &dyn LayerCache = match &disk {
        Some(d) => d,
        None => &NoCache,
    };
    // Load everything that can fail on the user's input before reading any layer.
    let suppressions = load_suppressions(opts)?;
    let malware = match opts.scanners.malware {
        true => {
            let mut config = opts.malware.clone();
            // Compiled rules live beside the layer cache (`…/bulwark/yara`), not inside it,
            // so the layer cache's size bound and eviction never see them.
            if config.cache_dir.is_none() {
                config.cache_dir = opts.cache_dir.as_ref().map(|d| d.with_file_name("yara"));
            }
            Some(Arc::new(MalwareScanner::new(&config)?))
        }
        false => None,
    };
    let secret = match opts.scanners.secret {
        true => Some(Arc::new(SecretScanner::new(&opts.secret)?)),
        false => None,
    };
    let mut read = opts.read.clone();
    if read.analyze.analyzers.is_empty() {
        read.analyze.analyzers = catalog::analyzers();
        if let Some(m) = &malware {
            read.analyze.analyzers.push(Arc::clone(m) as Arc<dyn FileAnalyzer>);
        }
        if let Some(s) = &secret {
            read.analyze.analyzers.push(Arc::clone(s) as Arc<dyn FileAnalyzer>);
        }
    }
    let image = bulwark_image::read_image(reference, &read, cache, progress)?;
    let (mut report, package_owned) = report_with_owned_files(&image);
    if let Some(d) = &disk {
        report.warnings.extend(d.take_warnings());
    }
    report.scanners = opts.scanners.names();
    if let Some(m) = &malware {
        report.malware = bulwark_detect::malware::findings(&image);
        report.skipped.extend(bulwark_detect::malware::skipped(&image, opts.malware.max_file_bytes));
        report.warnings.extend(m.compile_warnings());
        report.warnings.extend(bulwark_detect::malware::notes(&image));
    }
    if let Some(s) = &secret {
        let mut found = bulwark_detect::secret::findings(&image, s, &package_owned);
        if let Some(resolved) = &image.resolved {
            found.extend(bulwark_detect::secret::scan_image_config(s, &resolved.config));
        }
        found.sort_by(|a, b| (&a.location, &a.rule).cmp(&(&b.location, &b.rule)));
        found.dedup_by(|a, b| a.location == b.location && a.rule == b.rule && a.fingerprint == b.fingerprint);
        report.secrets = found;
        report.skipped.extend(bulwark_detect::skipped_larger_than(&image, "secret", opts.secret.max_file_bytes));
        report
            .warnings
            .extend(s.unsupported_rules().iter().map(|(id, why)| format!("secret rule {id} not loaded: {why}")));
    }
    if opts.scanners.config {
        report.misconfigurations = bulwark_detect::config::check(&image, &report, &opts.config);
    }
    if opts.scanners.vuln {
        match_vulnerabilities(&mut report, opts)?;
        let (ignores, vex) = &suppressions;
        if !ignores.is_empty() || !vex.is_empty() {
            bulwark_match::suppress::apply(&mut report, ignores, vex, opts.today);
        }
    }
    Ok((report, Some(image)))
}

type Suppressions = (Vec<bulwark_match::suppress::IgnoreFile>, Vec<bulwark_match::suppress::Vex>);

fn load_suppressions(opts: &ScanOptions) -> Result<Suppressions> {
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

/// Matches the report's packages against the advisory database, when one is configured.
fn match_vulnerabilities(report: &mut ScanReport, opts: &ScanOptions) -> Result<()> {
    let Some(path) = &opts.db else { return Ok(()) };
    let db = bulwark_vulndb::Db::open(path).map_err(|e| Error::Db { path: path.clone(), message: e.to_string() })?;
    let meta = db.metadata().map_err(|e| Error::Db { path: path.clone(), message: e.to_string() })?;
    let (vulnerabilities, warnings) = bulwark_match::match_packages(&report.packages, report.os.as_ref(), &db);
    report.vulnerabilities = vulnerabilities;
    report.warnings.extend(warnings);
    report.database = Some(DatabaseSummary {
        built_at: meta.built_at,
        digest: meta.content_digest,
        sources: meta.sources.iter().map(|s| (s.name.clone(), s.records)).collect(),
    });
    Ok(())
}

/// The report for an SBOM given as input: its packages and OS, no layers or files.
fn sbom_report(reference: &Reference, path: &std::path::Path) -> Result<ScanReport> {
    use std::io::Read;
    let io_err = |source| Error::Sbom { path: path.to_owned(), message: format!("reading: {source}") };
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(io_err)?.take(MAX_SBOM_BYTES + 1).read_to_end(&mut bytes).map_err(io_err)?;
    if bytes.len() as u64 > MAX_SBOM_BYTES {
        return Err(Error::Sbom { path: path.to_owned(), message: format!("larger than {MAX_SBOM_BYTES} bytes") });
    }
    let sbom = bulwark_report::sbom_in::parse(&bytes)
        .map_err(|e| Error::Sbom { path: path.to_owned(), message: e.to_string() })?;
    Ok(ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        bulwark_version: env!("CARGO_PKG_VERSION").to_owned(),
        image: ImageSummary {
            reference: reference.to_string(),
            manifest_digest: None,
            config_digest: None,
            platform: None,
            created: None,
        },
        os: sbom.os,
        layers: Vec::new(),
        files: FileCounts::default(),
        packages: sbom.packages,
        vulnerabilities: Vec::new(),
        database: None,
        warnings: sbom.warnings,
        ..Default::default()
    })
}

/// Builds the report for an image that has been read: layers, files, OS and packages.
pub fn report(image: &Image) -> ScanReport {
    report_with_owned_files(image).0
}

/// [`report`], plus the absolute paths of the files OS packages own.
fn report_with_owned_files(image: &Image) -> (ScanReport, BTreeSet<String>) {
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
