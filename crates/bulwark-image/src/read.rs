//! Reading a whole image: open the source, analyse every layer (in parallel, through the
//! layer cache), and squash.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bulwark_core::{Platform, Reference};

use crate::layer::{self, AnalyzeOptions, Expected, ImageBudget, LayerIndex, LinkRequest};
use crate::source::registry::RegistryOptions;
use crate::source::{self, BlobStore, LayerRef, ResolvedImage, docker};
use crate::spec::Compression;
use crate::view::{Body, FileView};
use crate::{Error, LimitKind, Limits, Result};

/// Everything that controls how an image is read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The platform to select from multi-platform images (default: the host's). When set,
    /// an image that does not have it is an error, unless `platform_fallback`.
    pub platform: Option<Platform>,
    /// When the image lacks the requested platform, read the host's platform from a
    /// multi-platform image, or the one platform a single-platform image has, with a
    /// warning, instead of failing.
    pub platform_fallback: bool,
    /// Never use the network: registry references are refused, and bare references are
    /// looked up in the local Docker engine only.
    pub offline: bool,
    pub limits: Limits,
    pub registry: RegistryOptions,
    pub analyze: AnalyzeOptions,
    /// Layers read at once.
    pub jobs: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            platform: None,
            platform_fallback: false,
            offline: false,
            limits: Limits::default(),
            registry: RegistryOptions::default(),
            analyze: AnalyzeOptions::default(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8),
        }
    }
}

/// Stores layer analyses by key (diff_id and analysis options) between scans.
pub trait LayerCache: Send + Sync {
    fn get(&self, key: &str) -> Option<LayerIndex>;
    fn put(&self, key: &str, index: &LayerIndex);
    /// A small document stored with [`LayerCache::put_doc`]: what a `docker:` image's
    /// save stream said besides its layers (config, descriptors), so that a warm rescan
    /// needs no export. `None` when absent or unusable.
    fn get_doc(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }
    /// Stores a small document under `key`; a cache may ignore it.
    fn put_doc(&self, _key: &str, _doc: &[u8]) {}
    /// Called after a miss, before the layer is read: waits while another scan sharing
    /// this cache (another thread or process on the host) reads the same layer, then
    /// returns a guard held until the layer's entry is written (or the read fails). The
    /// reader looks again once it holds the guard, so scans of images that share a base
    /// layer read that layer once between them. `None`: no coordination (or `cancelled`
    /// turned true while waiting).
    fn read_guard(&self, _key: &str, _cancelled: &dyn Fn() -> bool) -> Option<Box<dyn std::any::Any + Send>> {
        None
    }
}

/// A cache that keeps nothing.
#[derive(Debug, Default)]
pub struct NoCache;

impl LayerCache for NoCache {
    fn get(&self, _: &str) -> Option<LayerIndex> {
        None
    }
    fn put(&self, _: &str, _: &LayerIndex) {}
}

/// Receives progress while layers are read. Libraries never print; the CLI draws bars.
pub trait Progress: Send + Sync {
    /// Layer `i` starts; `size` is its blob size if known (0 if not).
    fn layer_started(&self, _i: usize, _size: u64) {}
    /// `n` more bytes of layer `i` were read.
    fn bytes(&self, _i: usize, _n: u64) {}
    /// Layer `i` is done; `cached` when it came from the layer cache.
    fn layer_finished(&self, _i: usize, _cached: bool) {}
    /// Whether the caller wants the read stopped. Checked before each layer and on every
    /// read from a blob, so a cancelled read stops within one buffer fill and returns
    /// [`Error::Cancelled`]; a layer stopped mid-read is never cached.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A blob reader that fails as soon as `progress` says the read is cancelled.
struct Cancellable<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
}

impl<R: std::io::Read> std::io::Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.progress.cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// `result`, or [`Error::Cancelled`] when the error came from a cancelled read.
fn or_cancelled<T>(result: Result<T>, progress: &dyn Progress) -> Result<T> {
    match result {
        Err(_) if progress.cancelled() => Err(Error::Cancelled),
        other => other,
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// An image read and squashed.
#[derive(Debug)]
pub struct Image {
    /// The reference in canonical form. For a bare reference, the form of the source it
    /// was read from: `docker:app:1` or `registry:docker.io/library/app:1`.
    pub reference: String,
    /// Which kind of source the image was read from: `oci`, `oci-archive`,
    /// `docker-archive`, `dir`, `docker`, `container` or `registry`.
    pub source: &'static str,
    /// Manifest, config and layer descriptors; `None` for a root filesystem directory.
    pub resolved: Option<ResolvedImage>,
    /// One analysis per layer, base first (a `dir:` source has exactly one).
    pub layers: Vec<Arc<LayerIndex>>,
    pub view: FileView,
    /// Paths of the final view that reach their body through links and that an analyzer
    /// or the capture list wants while it does not want the body's own path: what was read
    /// there is in the body's layer ([`LayerIndex::linked`]), found through
    /// [`FileView::analysis`] and [`FileView::read_captured`] at `path`.
    pub linked: Vec<LinkedPath>,
    /// Non-fatal problems, from the source and from every layer.
    pub warnings: Vec<bulwark_core::Warning>,
}

/// A path that reaches a body through links, and who wants it (see [`Image::linked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedPath {
    /// The path a container opens, normalised, without a leading `/`.
    pub path: String,
    /// The first layer in which the path reaches this body.
    pub layer: usize,
    pub body: Body,
    /// The analyzers that want `path` but not the body's own path.
    pub analyzers: Vec<String>,
    /// Whether the capture list wants `path` but not the body's own path.
    pub capture: bool,
}

/// The cache key of a layer analysis.
pub fn cache_key(diff_id: &bulwark_core::Digest, opts: &AnalyzeOptions) -> String {
    format!("{}-{}-{}", diff_id.algorithm().name(), diff_id.hex(), opts.fingerprint())
}

/// Opens a reference and resolves its manifest and config without reading layers
/// (`bulwark inspect` for blob-addressed sources). A bare reference is opened from the
/// registry here; [`read_image`] looks in the local Docker engine first.
pub fn open(reference: &Reference, opts: &ReadOptions) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
    let opened = match open_at(reference, opts, opts.platform.as_ref()) {
        // A multi-platform image without the platform asked for: the host's, if allowed.
        Err(Error::NoMatchingPlatform { reference: r, wanted, available })
            if opts.platform_fallback && opts.platform.is_some() =>
        {
            let mut opened = open_at(reference, opts, None).map_err(|_| Error::NoMatchingPlatform {
                reference: r,
                wanted: wanted.clone(),
                available: available.clone(),
            })?;
            if let Some((_, resolved)) = &mut opened {
                let read = resolved.platform.as_ref().map_or_else(|| Platform::host().to_string(), |p| p.to_string());
                resolved.warnings.push(bulwark_core::Warning::source(format!(
                    "the image has no {wanted} (available: {available}); --platform-fallback read {read} instead"
                )));
            }
            return Ok(opened);
        }
        other => other?,
    };
    match opened {
        Some((store, mut resolved)) => {
            // An index entry matched the platform already; a lone manifest is checked here.
            if resolved.index_digest.is_none() {
                check_platform(&mut resolved.warnings, &resolved.reference, resolved.platform.as_ref(), opts)?;
            }
            Ok(Some((store, resolved)))
        }
        None => Ok(None),
    }
}

fn open_at(
    reference: &Reference,
    opts: &ReadOptions,
    platform: Option<&Platform>,
) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
    source::source_for(reference)?.open(reference, opts, platform)
}

/// A single-platform image (a manifest, not an index, or an image from the Docker
/// engine) whose config names another platform than the one asked for: an error, or a
/// warning with `--platform-fallback`. Nothing is checked when no platform was asked for.
pub(crate) fn check_platform(
    warnings: &mut Vec<bulwark_core::Warning>,
    reference: &str,
    have: Option<&Platform>,
    opts: &ReadOptions,
) -> Result<()> {
    let (Some(want), Some(have)) = (opts.platform.as_ref(), have) else { return Ok(()) };
    if want.matches(have) {
        return Ok(());
    }
    if !opts.platform_fallback {
        return Err(Error::NoMatchingPlatform {
            reference: reference.to_owned(),
            wanted: want.to_string(),
            available: have.to_string(),
        });
    }
    warnings.push(bulwark_core::Warning::source(format!(
        "the image is for {have}, not the requested {want}; --platform-fallback read it anyway"
    )));
    Ok(())
}

/// Reads an image from any source: the one registered for its scheme
/// ([`source::SOURCES`]).
pub fn read_image(
    reference: &Reference,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Image> {
    // One image-wide result budget per read, shared by the layers read in parallel.
    let mut fresh = opts.clone();
    fresh.analyze.image_budget = Some(Arc::new(ImageBudget::new(opts.limits.max_image_result_bytes)));
    source::source_for(reference)?.read(reference, &fresh, cache, progress)
}

/// Reads an image of a blob-addressed source (one whose [`source::ImageSource::open`]
/// resolves it): opens it, reads its layers through the cache, squashes it and follows its
/// links, reading a layer's blob again for bodies reached only through links.
pub(crate) fn read_blob_addressed(
    reference: &Reference,
    source: &'static str,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Image> {
    let Some((store, resolved)) = open(reference, opts)? else {
        return Err(Error::invalid(reference.to_string(), "this source resolves no manifest"));
    };
    let layers = read_layers(store.as_ref(), &resolved.layers, opts, cache, progress)?;
    let refs = resolved.layers.clone();
    let mut image = assemble(resolved.reference.clone(), source, Some(resolved), layers);
    let reread = |i: usize, requests: &[LinkRequest]| -> Result<Option<Vec<layer::LinkedRead>>> {
        let layer = refs.get(i).ok_or_else(|| Error::invalid("image", "no such layer"))?;
        let expected = layer.expected();
        let blob = store.open_blob(&layer.descriptor)?;
        Ok(Some(layer::read_linked_bodies(blob, &expected, requests, &opts.analyze, &opts.limits)?))
    };
    let updated = follow_links(&mut image, opts, &mut { reread })?;
    // Keep what was read again with the layer, so the next scan needs no second read.
    for i in updated {
        cache.put(&cache_key(&refs[i].diff_id, &opts.analyze), &image.layers[i]);
    }
    Ok(image)
}

/// Exports the engine's image by its id (so exactly the image inspected is read, never
/// every tag of a repository) and checks its platform first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_engine_image(
    engine: &docker::Engine,
    found: &docker::EngineImage,
    reference: &str,
    source: &'static str,
    mut warnings: Vec<bulwark_core::Warning>,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Image> {
    check_platform(&mut warnings, reference, found.platform().as_ref(), opts)?;
    // A body reached only through a link is read again from a second export of the same id.
    let reopen = || -> Result<Box<dyn std::io::Read>> { Ok(Box::new(engine.export(&found.id)?)) };
    let record_key = format!("docker-save-{}", found.id.replace(':', "-"));
    let mut image = match read_engine_warm(&record_key, reference, opts, cache, progress, &reopen)? {
        Some(image) => image,
        None => {
            let stream = engine.export(&found.id)?;
            read_saved(stream, found.size, reference, None, Some(&record_key), opts, cache, progress, &reopen)?
        }
    };
    image.source = source;
    image.warnings.splice(0..0, warnings);
    Ok(image)
}

/// A warm rescan of an engine image: when the save record of this image id and every
/// layer's analysis are in the cache, the image is put together from them without an
/// export (`docker save` streams every layer, whatever is cached). `Ok(None)` otherwise.
fn read_engine_warm(
    record_key: &str,
    reference: &str,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
    reopen: &dyn Fn() -> Result<Box<dyn std::io::Read>>,
) -> Result<Option<Image>> {
    let Some(doc) = cache.get_doc(record_key) else { return Ok(None) };
    let Ok(record) = serde_json::from_slice::<docker::SaveRecord>(&doc) else { return Ok(None) };
    let Ok(resolved) = record.resolve(reference) else { return Ok(None) };
    let mut layers = Vec::with_capacity(resolved.layers.len());
    for layer in &resolved.layers {
        match cache.get(&cache_key(&layer.diff_id, &opts.analyze)) {
            Some(ix) => {
                charge(&ix, &layer.descriptor.digest.to_string(), opts)?;
                layers.push(Arc::new(ix));
            }
            None => return Ok(None),
        }
    }
    for i in 0..layers.len() {
        progress.layer_finished(i, true);
    }
    Ok(Some(finish_saved(resolved, layers, reference, opts, cache, reopen)?))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn read_saved(
    stream: impl std::io::Read,
    size: u64,
    name: &str,
    tag: Option<&str>,
    record_key: Option<&str>,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
    reopen: &dyn Fn() -> Result<Box<dyn std::io::Read>>,
) -> Result<Image> {
    progress.layer_started(0, size);
    let stream = Cancellable { inner: stream, progress };
    let saved = docker::read_save_stream(stream, name, tag, &opts.analyze, &opts.limits, &mut |n| progress.bytes(0, n));
    let saved = or_cancelled(saved, progress)?;
    progress.layer_finished(0, false);
    for (layer, index) in saved.image.layers.iter().zip(&saved.layers) {
        cache.put(&cache_key(&layer.diff_id, &opts.analyze), index);
    }
    if let (Some(key), Some(record)) = (record_key, &saved.record)
        && let Ok(doc) = serde_json::to_vec(record)
    {
        cache.put_doc(key, &doc);
    }
    finish_saved(saved.image, saved.layers, name, opts, cache, reopen)
}

/// Squashes a saved image's layers and follows its links, reading a layer again from a
/// fresh stream (`reopen`) for bodies reached only through links.
fn finish_saved(
    resolved: ResolvedImage,
    layers: Vec<Arc<LayerIndex>>,
    name: &str,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    reopen: &dyn Fn() -> Result<Box<dyn std::io::Read>>,
) -> Result<Image> {
    let refs = resolved.layers.clone();
    let mut image = assemble(name.to_owned(), "docker-archive", Some(resolved), layers);
    // The save stream was read once and is gone: open it again (the file, or a second
    // export from the engine) and read only the member that holds layer `i`.
    let updated = follow_links(&mut image, opts, &mut |i, requests: &[LinkRequest]| {
        let layer = refs.get(i).ok_or_else(|| Error::invalid("image", "no such layer"))?;
        reread_saved_member(reopen()?, name, layer, requests, opts).map(Some)
    })?;
    for i in updated {
        cache.put(&cache_key(&refs[i].diff_id, &opts.analyze), &image.layers[i]);
    }
    Ok(image)
}

/// Finds layer `layer` among the members of a `docker save` stream — by its blob digest in
/// the member name (Docker 25+ saves are OCI layouts), else among members of its size,
/// each checked by blob digest and diff_id — and serves the link requests from it.
fn reread_saved_member(
    stream: Box<dyn std::io::Read>,
    name: &str,
    layer: &LayerRef,
    requests: &[LinkRequest],
    opts: &ReadOptions,
) -> Result<Vec<layer::LinkedRead>> {
    let desc = &layer.descriptor;
    let io_err = |e: std::io::Error| Error::io(format!("reading {name} again"), e);
    let by_name = format!("blobs/{}/{}", desc.digest.algorithm().name(), desc.digest.hex());
    let mut archive = tar::Archive::new(stream);
    let mut last_error = None;
    for entry in archive.entries().map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let (member, _) = layer::normalize_path(&String::from_utf8_lossy(&entry.path_bytes()));
        if entry.header().entry_type() != tar::EntryType::Regular || (member != by_name && entry.size() != desc.size())
        {
            continue;
        }
        let expected = Expected { name: member, ..layer.expected() };
        match layer::read_linked_bodies(entry, &expected, requests, &opts.analyze, &opts.limits) {
            Ok(reads) => return Ok(reads),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| Error::invalid(name, format!("layer {} is gone on a second read", desc.digest))))
}

/// Reads bodies of layer `i` again for link requests; `Ok(None)` when the source cannot.
type Reread<'a> = dyn FnMut(usize, &[LinkRequest]) -> Result<Option<Vec<layer::LinkedRead>>> + 'a;

/// Decides, on the squashed view, which paths reach their content through links and are
/// wanted there by an analyzer or the capture list that did not read the body at its own
/// path; reads those bodies again (once per layer, only the bodies needed), records the
/// paths in [`Image::linked`], and turns every link that cannot be followed at a wanted
/// path into a warning. Returns the layers whose analysis gained linked reads.
pub(crate) fn follow_links(image: &mut Image, opts: &ReadOptions, reread: &mut Reread<'_>) -> Result<Vec<usize>> {
    let analyze = &opts.analyze;
    let mut linked: Vec<LinkedPath> = Vec::new();
    let mut warnings: Vec<bulwark_core::Warning> = Vec::new();
    let layers = &image.layers;
    let complete = image.view.for_each_link_path(|lp| match lp.body {
        Ok((bl, be, bp)) => {
            let Some(entry) = layers.get(bl).and_then(|l| l.entries.get(be)) else { return };
            let (size, mode) = (entry.size, entry.mode);
            let analyzers: Vec<String> = analyze
                .analyzers
                .iter()
                // Only analyzers that read files at fixed locations (the catalogers) need a
                // path's links followed; the others read every body at its own path already
                // (and hard-link bodies through `stored_results`), and asking them again under
                // link paths (merged-/usr's `lib -> usr/lib` expands to thousands) would read
                // whole layers twice for the same bytes.
                .filter(|a| a.follows_links() && a.wants(lp.path, size, mode) && !a.wants(bp, size, mode))
                .map(|a| a.id().to_owned())
                .collect();
            let capture = analyze.capture.wants(lp.path) && !analyze.capture.wants(bp);
            if !analyzers.is_empty() || capture {
                linked.push(LinkedPath {
                    path: lp.path.to_owned(),
                    layer: lp.layer,
                    body: Body { layer: bl, entry: be, path: bp.to_owned() },
                    analyzers,
                    capture,
                });
            }
        }
        Err(e) => {
            let wanted = analyze.capture.wants(lp.path)
                || analyze.analyzers.iter().any(|a| a.follows_links() && a.wants(lp.path, 1, 0o644));
            if wanted {
                warnings.push(bulwark_core::Warning::file(
                    format!("/{}", lp.path),
                    format!("a link that cannot be followed ({e}); nothing read there"),
                ));
            }
        }
    });
    if !complete {
        warnings.push(bulwark_core::Warning::new(
            bulwark_core::WarningKind::Limit,
            format!(
                "more than {} paths below linked directories; files reached only through the rest were not read",
                crate::view::MAX_LINK_PATHS
            ),
        ));
    }
    // A request is served when this or an earlier scan (through the cache) read that body
    // under that path for every analyzer asked.
    let mut todo: std::collections::BTreeMap<usize, Vec<LinkRequest>> = std::collections::BTreeMap::new();
    for l in &linked {
        let served = image
            .layers
            .get(l.body.layer)
            .and_then(|ix| ix.linked_read(l.body.entry, &l.path))
            .is_some_and(|r| l.analyzers.iter().all(|a| r.analyzers.contains(a)) && (!l.capture || r.capture));
        if !served {
            todo.entry(l.body.layer).or_default().push(LinkRequest {
                entry: l.body.entry,
                path: l.path.clone(),
                analyzers: l.analyzers.clone(),
                capture: l.capture,
            });
        }
    }
    let mut updated = Vec::new();
    for (i, requests) in todo {
        match reread(i, &requests)? {
            Some(reads) => {
                let ix = Arc::make_mut(&mut image.layers[i]);
                ix.linked.retain(|r| !reads.iter().any(|n| n.entry == r.entry && n.path == r.path));
                ix.linked.extend(reads);
                updated.push(i);
            }
            None => {
                for r in &requests {
                    warnings.push(bulwark_core::Warning::file(
                        format!("/{}", r.path),
                        format!("reached through a link to a file of layer {i} that this source cannot read again; not read (hint: scan the image as an OCI layout or from a registry)"),
                    ));
                }
            }
        }
    }
    for l in &linked {
        if let Some(r) = image.layers.get(l.body.layer).and_then(|ix| ix.linked_read(l.body.entry, &l.path)) {
            warnings.extend(r.warnings.iter().map(|w| w.clone().in_layer(l.body.layer)));
        }
    }
    image.linked = linked;
    image.warnings.extend(warnings);
    Ok(updated)
}

pub(crate) fn assemble(
    reference: String,
    source: &'static str,
    resolved: Option<ResolvedImage>,
    layers: Vec<Arc<LayerIndex>>,
) -> Image {
    let mut warnings: Vec<bulwark_core::Warning> = resolved.iter().flat_map(|r| r.warnings.iter().cloned()).collect();
    for (i, layer) in layers.iter().enumerate() {
        warnings.extend(layer.warnings.iter().map(|w| w.clone().in_layer(i)));
    }
    let view = FileView::build(layers.iter().map(|l| l.as_ref()));
    Image { reference, source, resolved, layers, view, linked: Vec::new(), warnings }
}

/// Reads layers from a blob store, at most `opts.jobs` at a time, using the cache.
pub fn read_layers(
    store: &dyn BlobStore,
    layers: &[LayerRef],
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Vec<Arc<LayerIndex>>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<Arc<LayerIndex>>>>> = Mutex::new((0..layers.len()).map(|_| None).collect());
    let worker = || {
        loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= layers.len() || failed.load(Ordering::SeqCst) {
                break;
            }
            let r = read_one(store, i, &layers[i], opts, cache, progress);
            if r.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
        }
    };
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, layers.len().max(1)) {
            s.spawn(worker);
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    // Report the lowest failing layer, so the error does not depend on thread timing.
    let mut out = Vec::with_capacity(layers.len());
    for r in results {
        match r {
            Some(Ok(ix)) => out.push(ix),
            Some(Err(e)) => return Err(e),
            None => return Err(Error::invalid("image", "layer reading stopped early")),
        }
    }
    Ok(out)
}

/// Takes what a layer analysis made elsewhere (the layer cache, a directory walk) keeps
/// from the image-wide result budget of this read; a layer analysed here took it as it
/// kept each result.
pub(crate) fn charge(index: &LayerIndex, layer: &str, opts: &ReadOptions) -> Result<()> {
    match &opts.analyze.image_budget {
        Some(image) if !image.take(index.result_bytes()) => Err(Error::LayerLimit {
            layer: layer.to_owned(),
            kind: LimitKind::ImageResults,
            message: layer::image_results_message(image),
        }),
        _ => Ok(()),
    }
}

fn read_one(
    store: &dyn BlobStore,
    i: usize,
    layer: &LayerRef,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Arc<LayerIndex>> {
    let desc = &layer.descriptor;
    if layer.kind.foreign {
        progress.layer_finished(i, false);
        return Ok(Arc::new(LayerIndex {
            diff_id: Some(layer.diff_id.clone()),
            blob_digest: Some(desc.digest.clone()),
            compressed_size: desc.size(),
            warnings: vec![bulwark_core::Warning::source(format!("foreign layer {} not read", desc.digest))],
            ..LayerIndex::empty(layer.kind.compression.unwrap_or(Compression::Gzip))
        }));
    }
    let key = cache_key(&layer.diff_id, &opts.analyze);
    if let Some(hit) = cache.get(&key) {
        charge(&hit, &desc.digest.to_string(), opts)?;
        progress.layer_finished(i, true);
        return Ok(Arc::new(hit));
    }
    // Dropped when this function returns: after the entry is written, or on an error.
    let guard = cache.read_guard(&key, &|| progress.cancelled());
    if guard.is_some()
        && let Some(hit) = cache.get(&key)
    {
        progress.layer_finished(i, true);
        return Ok(Arc::new(hit));
    }
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.layer_started(i, desc.size());
    let blob = Cancellable { inner: store.open_blob(desc)?, progress };
    let expected = layer.expected();
    let analysed = layer::analyze_layer(blob, &expected, &opts.analyze, &opts.limits, &mut |n| progress.bytes(i, n));
    let index = or_cancelled(analysed, progress)?;
    cache.put(&key, &index);
    progress.layer_finished(i, false);
    Ok(Arc::new(index))
}
