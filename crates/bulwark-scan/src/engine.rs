//! The scan engine: everything a scan needs that does not depend on the image, built once
//! and shared by every scan that runs on it, at once or one after another.
//!
//! A CLI run builds one engine for one scan; a server builds one at start-up and runs N
//! workers on it. What is built once: the disk layer cache, the compiled malware and secret
//! rules, the ignore files and VEX documents, and the advisory database handle. What comes
//! with each scan ([`ScanRequest`]): the image or SBOM, the platform, the scanners wanted (a
//! subset of the engine's), and the day. What a scan tells its caller as it goes
//! ([`Events`]): stages with their timings, per-layer progress, and warnings as values. A
//! scan stops early, with [`Error::Cancelled`], when its [`CancelToken`] is cancelled:
//! between stages, and inside blob reading (a layer stopped mid-read is never cached).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bulwark_core::report::{NotRun, ScanReport};
use bulwark_core::time::Date;
use bulwark_core::{Platform, Reference, ScanInput, Warning};
use bulwark_detect::malware::MalwareScanner;
use bulwark_detect::malware::clamd::ClamavScanner;
use bulwark_detect::secret::SecretScanner;
use bulwark_image::layer::FileAnalyzer;
use bulwark_image::{Image, LayerCache, NoCache, Progress};

use crate::advisories::AdvisoryDb;
use crate::{DiskCache, Error, Redactor, Result, ScanOptions, Scanners, Suppressions};

/// A stage of a scan, as [`Events`] and [`ScanOutcome::timings`] name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Resolving the reference, reading every layer (or the cache), squashing; for an
    /// SBOM, reading and parsing it.
    Read,
    /// OS detection and the package inventory with layer attribution.
    Inventory,
    Malware,
    Secret,
    Config,
    /// Matching packages against the advisory database, ignore files and VEX.
    Vulnerabilities,
    /// The one redaction step over the whole report.
    Redact,
}

/// What a caller hears while a scan runs. Every method has an empty default; calls come
/// from the scan's threads (layers are read in parallel), hence `Send + Sync`.
pub trait Events: Send + Sync {
    fn stage_started(&self, _stage: Stage) {}
    fn stage_finished(&self, _stage: Stage, _elapsed: Duration) {}
    /// Layer `layer` starts being read; `size` is its blob size if known (0 if not).
    fn layer_started(&self, _layer: usize, _size: u64) {}
    /// `bytes` more bytes of layer `layer` were read.
    fn layer_bytes(&self, _layer: usize, _bytes: u64) {}
    /// Layer `layer` is done; `cached` when it came from the layer cache.
    fn layer_finished(&self, _layer: usize, _cached: bool) {}
    /// One of the report's warnings, once the report is complete and redacted.
    fn warning(&self, _warning: &Warning) {}
}

/// Events that go nowhere.
#[derive(Debug, Default)]
pub struct NoEvents;
impl Events for NoEvents {}

/// Cancels a scan from another thread; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    /// Asks every scan holding this token (or a clone) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One scan: the image or SBOM and what may differ from one scan to the next.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub input: ScanInput,
    /// Overrides the engine's platform.
    pub platform: Option<Platform>,
    /// The scanners to run; `None` runs every scanner the engine was built with. A
    /// scanner the engine was not built with is an error for an image.
    pub scanners: Option<Scanners>,
    /// The day ignore entries expire against; `None` is the engine's.
    pub today: Option<Date>,
}

impl ScanRequest {
    /// A request with the engine's settings for everything but the input (an image
    /// [`Reference`] converts into one).
    pub fn new(input: impl Into<ScanInput>) -> ScanRequest {
        ScanRequest { input: input.into(), platform: None, scanners: None, today: None }
    }
}

/// What a scan produced.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The redacted report.
    pub report: ScanReport,
    /// The image read (`None` for an SBOM). Not redacted: whatever shows its config or
    /// paths must go through a [`Redactor`] too.
    pub image: Option<Image>,
    /// Wall time of each stage that ran, in order.
    pub timings: Vec<(Stage, Duration)>,
}

/// The scan engine; see the module documentation.
pub struct Engine {
    opts: ScanOptions,
    cache: Option<DiskCache>,
    suppressions: Suppressions,
    malware: Option<Arc<MalwareScanner>>,
    secret: Option<Arc<SecretScanner>>,
    redactor: Redactor,
    advisories: Option<AdvisoryDb>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("scanners", &self.opts.scanners)
            .field("cache", &self.cache)
            .field("advisories", &self.advisories)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds everything that can fail on the user's input before any image is read: the
    /// layer cache, the ignore files and VEX documents, the malware and secret rules of the
    /// scanners `settings.scanners` enables, and the advisory database.
    pub fn new(settings: ScanOptions) -> Result<Engine> {
        let opts = settings;
        let cache = match &opts.cache_dir {
            Some(dir) => Some(
                DiskCache::with_integrity(dir, opts.cache_max_bytes, &opts.cache_integrity)
                    .map_err(|source| Error::Cache { path: dir.clone(), source })?,
            ),
            None => None,
        };
        let suppressions = crate::load_suppressions(&opts)?;
        // YARA unless only clamd was chosen (`--malware-engine clamav`).
        let malware = match opts.scanners.malware && opts.malware.yara {
            true => {
                let mut config = opts.malware.clone();
                // Compiled rules live in the cache directory the user named (`<cache>/yara`),
                // never beside it: everything Bulwark writes stays under that directory.
                if config.cache_dir.is_none() {
                    config.cache_dir = opts.cache_dir.as_ref().map(|d| d.join("yara"));
                }
                Some(Arc::new(MalwareScanner::new(&config)?))
            }
            false => None,
        };
        let secret = match opts.scanners.secret {
            true => Some(Arc::new(SecretScanner::new(&opts.secret)?)),
            false => None,
        };
        let redactor = match &secret {
            Some(s) => Redactor::from_scanner(Arc::clone(s)),
            None => Redactor::new(&opts.secret)?,
        };
        let advisories = match (&opts.db, opts.scanners.vuln) {
            (Some(path), true) => Some(AdvisoryDb::open(path)?),
            _ => None,
        };
        Ok(Engine { opts, cache, suppressions, malware, secret, redactor, advisories })
    }

    /// The settings the engine was built with.
    pub fn settings(&self) -> &ScanOptions {
        &self.opts
    }

    /// The advisory database, when vulnerability matching is on.
    pub fn advisories(&self) -> Option<&AdvisoryDb> {
        self.advisories.as_ref()
    }

    /// The redaction step every report of this engine goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Reads and analyses an image, or reads an SBOM (an `sbom:` input, which has no
    /// image). Every enabled scanner runs in the same single pass over the layers. The
    /// report is redacted before it is returned.
    pub fn scan(&self, request: &ScanRequest, events: &dyn Events, cancel: &CancelToken) -> Result<ScanOutcome> {
        let mut run = Run { events, cancel, timings: Vec::new() };
        let scanners = request.scanners.unwrap_or(self.opts.scanners);
        let today = request.today.unwrap_or(self.opts.today);
        let (mut report, image) = match &request.input {
            ScanInput::Sbom(path) => (self.scan_sbom(&mut run, &request.input, path, scanners)?, None),
            ScanInput::Image(reference) => {
                let (report, image) = self.scan_image(&mut run, reference, request, scanners, today)?;
                (report, Some(image))
            }
        };
        run.stage(Stage::Redact, || {
            self.redactor.redact_report(&mut report);
            Ok(())
        })?;
        for w in &report.warnings {
            events.warning(w);
        }
        Ok(ScanOutcome { report, image, timings: run.timings })
    }

    fn scan_sbom(
        &self,
        run: &mut Run<'_>,
        input: &ScanInput,
        path: &std::path::Path,
        scanners: Scanners,
    ) -> Result<ScanReport> {
        let max_packages = self.opts.read.limits.max_packages;
        let mut report = run.stage(Stage::Read, || crate::sbom_report(input, path, max_packages))?;
        report.scanners = Scanners { vuln: scanners.vuln, ..Scanners::default() }.names();
        let no_files = Scanners { vuln: false, ..scanners };
        report.not_run.extend(no_files.names().into_iter().map(|scanner| NotRun {
            scanner,
            checks: Vec::new(),
            reason: "an SBOM has no files or image config to look at".to_owned(),
        }));
        if scanners.vuln {
            run.stage(Stage::Vulnerabilities, || {
                if let Some(db) = &self.advisories {
                    db.match_into(&mut report);
                }
                Ok(())
            })?;
        }
        self.vuln_not_run(&mut report, scanners);
        Ok(report)
    }

    fn scan_image(
        &self,
        run: &mut Run<'_>,
        reference: &Reference,
        request: &ScanRequest,
        scanners: Scanners,
        today: Date,
    ) -> Result<(ScanReport, Image)> {
        let unavailable = [
            (scanners.malware && self.malware.is_none() && self.opts.malware.clamd.is_none(), "malware"),
            (scanners.secret && self.secret.is_none(), "secret"),
        ];
        if let Some((_, name)) = unavailable.iter().find(|(missing, _)| *missing) {
            return Err(Error::ScannerUnavailable { scanner: (*name).to_owned() });
        }
        let malware = self.malware.as_ref().filter(|_| scanners.malware);
        let secret = self.secret.as_ref().filter(|_| scanners.secret);
        // clamd is connected to per scan (an unreachable clamd is an error before any layer is
        // read), and its failure state belongs to this scan alone.
        let clamav = match (&self.opts.malware.clamd, scanners.malware) {
            (Some(c), true) => Some(Arc::new(ClamavScanner::new(c.clone(), self.opts.malware.limits)?)),
            _ => None,
        };
        let mut read = self.opts.read.clone();
        if request.platform.is_some() {
            read.platform = request.platform.clone();
        }
        if read.analyze.analyzers.is_empty() {
            read.analyze.analyzers = crate::catalog::analyzers(&read.limits);
            if let Some(m) = malware {
                read.analyze.analyzers.push(Arc::clone(m) as Arc<dyn FileAnalyzer>);
            }
            if let Some(s) = secret {
                read.analyze.analyzers.push(Arc::clone(s) as Arc<dyn FileAnalyzer>);
            }
            if let Some(c) = &clamav {
                read.analyze.analyzers.push(Arc::clone(c) as Arc<dyn FileAnalyzer>);
            }
        }
        // Each scan has its own view of the cache, so the warnings of its lookups are its own.
        let disk = self.cache.as_ref().map(DiskCache::fork);
        let cache: &dyn LayerCache = match &disk {
            Some(d) => d,
            None => &NoCache,
        };
        // A layer analysed while clamd was failing must not be cached as if complete.
        let guarded = clamav.as_ref().map(|c| crate::ClamavGuardedCache { inner: cache, clamav: Arc::clone(c) });
        let cache: &dyn LayerCache = match &guarded {
            Some(g) => g,
            None => cache,
        };
        let progress = ReadProgress { events: run.events, cancel: run.cancel };
        let image = run.stage(Stage::Read, || {
            let image = bulwark_image::read_image(reference, &read, cache, &progress);
            if let Some(e) = clamav.as_ref().and_then(|c| c.failure()) {
                return Err(Error::Clamd(e));
            }
            Ok(image?)
        })?;
        let (mut report, package_owned) = run.stage(Stage::Inventory, || Ok(crate::report_with_owned_files(&image)))?;
        crate::budget::record(&image, read.analyze.max_result_bytes, &mut report);
        if let Some(d) = &disk {
            report.warnings.extend(d.take_warnings());
        }
        report.scanners = scanners.names();
        let detect =
            crate::Detect { malware, clamav: clamav.as_ref(), secret, package_owned: &package_owned, scanners };
        crate::detect(run, &mut report, &image, &self.opts, &self.suppressions, &detect)?;
        if scanners.vuln {
            run.stage(Stage::Vulnerabilities, || {
                if let Some(db) = &self.advisories {
                    db.match_into(&mut report);
                }
                let (ignores, vex) = &self.suppressions;
                if !ignores.is_empty() || !vex.is_empty() {
                    bulwark_match::suppress::apply(&mut report, ignores, vex, today);
                }
                Ok(())
            })?;
        }
        report.record_skipped_as_not_checked();
        self.vuln_not_run(&mut report, scanners);
        Ok((report, image))
    }

    /// Without an advisory database the vulnerability scanner did not run: it is not listed
    /// among the scanners that ran, and `not_run` says why.
    fn vuln_not_run(&self, report: &mut ScanReport, scanners: Scanners) {
        if scanners.vuln && self.advisories.is_none() {
            report.scanners.retain(|s| s != "vuln");
            report.not_run.push(NotRun {
                scanner: "vuln".to_owned(),
                checks: Vec::new(),
                reason: "no advisory database".to_owned(),
            });
        }
    }

    /// Matches a stored report's inventory against this engine's advisory database (with
    /// its ignore files and VEX documents, as of `today`), without reading the image. See
    /// [`crate::rematch`].
    pub fn rematch(&self, inventory: &ScanReport, today: Date) -> Result<ScanReport> {
        let db = self.advisories.as_ref().ok_or(Error::NoAdvisories)?;
        let mut report = crate::rematch_unredacted(inventory, db);
        let (ignores, vex) = &self.suppressions;
        if !ignores.is_empty() || !vex.is_empty() {
            bulwark_match::suppress::apply(&mut report, ignores, vex, today);
        }
        self.redactor.redact_report(&mut report);
        Ok(report)
    }
}

/// One scan's events, cancellation and timings.
pub(crate) struct Run<'a> {
    pub(crate) events: &'a dyn Events,
    pub(crate) cancel: &'a CancelToken,
    pub(crate) timings: Vec<(Stage, Duration)>,
}

impl Run<'_> {
    /// Runs one stage: checks for cancellation first, tells the events, times it.
    pub(crate) fn stage<T>(&mut self, stage: Stage, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        self.events.stage_started(stage);
        let start = Instant::now();
        let out = f()?;
        let elapsed = start.elapsed();
        self.events.stage_finished(stage, elapsed);
        self.timings.push((stage, elapsed));
        Ok(out)
    }
}

/// The image reader's progress, passed on to the events, with the scan's cancellation.
struct ReadProgress<'a> {
    events: &'a dyn Events,
    cancel: &'a CancelToken,
}

impl Progress for ReadProgress<'_> {
    fn layer_started(&self, i: usize, size: u64) {
        self.events.layer_started(i, size);
    }
    fn bytes(&self, i: usize, n: u64) {
        self.events.layer_bytes(i, n);
    }
    fn layer_finished(&self, i: usize, cached: bool) {
        self.events.layer_finished(i, cached);
    }
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Events that pass layer progress on to an image reader's [`Progress`]: how the
/// [`crate::scan`] wrapper keeps its signature.
pub(crate) struct ProgressEvents<'a>(pub(crate) &'a dyn Progress);

impl Events for ProgressEvents<'_> {
    fn layer_started(&self, layer: usize, size: u64) {
        self.0.layer_started(layer, size);
    }
    fn layer_bytes(&self, layer: usize, bytes: u64) {
        self.0.bytes(layer, bytes);
    }
    fn layer_finished(&self, layer: usize, cached: bool) {
        self.0.layer_finished(layer, cached);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Engine>();
        shared::<CancelToken>();
    }
}
