//! Reading a whole image: open the source, analyse every layer (in parallel, through the
//! layer cache), and squash.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bulwark_core::{Platform, Reference};

use crate::layer::{self, AnalyzeOptions, Expected, LayerIndex};
use crate::source::registry::RegistryOptions;
use crate::source::{self, BlobStore, LayerRef, ResolvedImage, docker, oci};
use crate::spec::Compression;
use crate::view::FileView;
use crate::{Error, Limits, Result};

/// Everything that controls how an image is read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The platform to select from multi-platform images (default: the host's).
    pub platform: Option<Platform>,
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
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// An image read and squashed.
#[derive(Debug)]
pub struct Image {
    /// The reference in canonical form.
    pub reference: String,
    /// Manifest, config and layer descriptors; `None` for a root filesystem directory.
    pub resolved: Option<ResolvedImage>,
    /// One analysis per layer, base first (a `dir:` source has exactly one).
    pub layers: Vec<Arc<LayerIndex>>,
    pub view: FileView,
    /// Non-fatal problems, from the source and from every layer.
    pub warnings: Vec<String>,
}

/// The cache key of a layer analysis.
pub fn cache_key(diff_id: &bulwark_core::Digest, opts: &AnalyzeOptions) -> String {
    format!("{}-{}-{}", diff_id.algorithm().name(), diff_id.hex(), opts.fingerprint())
}

/// Opens a reference and resolves its manifest and config without reading layers
/// (`bulwark inspect` for blob-addressed sources).
pub fn open(reference: &Reference, opts: &ReadOptions) -> Result<Option<(Arc<dyn BlobStore>, ResolvedImage)>> {
    let name = reference.to_string();
    let platform = opts.platform.as_ref();
    Ok(Some(match reference {
        Reference::OciLayout { path, selector } => oci::open_dir(path, selector, &name, platform, &opts.limits)?,
        Reference::OciArchive { path, selector } => oci::open_archive(path, selector, &name, platform, &opts.limits)?,
        Reference::Registry(r) => source::registry::open(r, &opts.registry, platform, &opts.limits)?,
        Reference::DockerArchive { .. } | Reference::Docker { .. } | Reference::Dir { .. } | Reference::Sbom { .. } => {
            return Ok(None);
        }
    }))
}

/// Reads an image from any source.
pub fn read_image(
    reference: &Reference,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Image> {
    let name = reference.to_string();
    if let Some((store, resolved)) = open(reference, opts)? {
        let layers = read_layers(store.as_ref(), &resolved.layers, opts, cache, progress)?;
        return Ok(assemble(name, Some(resolved), layers));
    }
    match reference {
        Reference::Dir { path } => {
            progress.layer_started(0, 0);
            let index = source::dir::read_rootfs(path, &opts.analyze, &opts.limits)?;
            progress.layer_finished(0, false);
            Ok(assemble(name, None, vec![Arc::new(index)]))
        }
        Reference::DockerArchive { path, tag } => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            read_saved(file, size, &name, tag.as_deref(), opts, cache, progress)
        }
        Reference::Docker { name: image } => {
            let stream = docker::Engine::from_env()?.export(image)?;
            read_saved(stream, 0, &name, None, opts, cache, progress)
        }
        Reference::Sbom { path } => Err(Error::Unsupported(format!(
            "sbom:{}: an SBOM holds no image to read (hint: `bulwark scan sbom:…` matches its packages)",
            path.display()
        ))),
        _ => unreachable!("blob-addressed sources are handled by open()"),
    }
}

fn read_saved(
    stream: impl std::io::Read,
    size: u64,
    name: &str,
    tag: Option<&str>,
    opts: &ReadOptions,
    cache: &dyn LayerCache,
    progress: &dyn Progress,
) -> Result<Image> {
    progress.layer_started(0, size);
    let saved =
        docker::read_save_stream(stream, name, tag, &opts.analyze, &opts.limits, &mut |n| progress.bytes(0, n))?;
    progress.layer_finished(0, false);
    for (layer, index) in saved.image.layers.iter().zip(&saved.layers) {
        cache.put(&cache_key(&layer.diff_id, &opts.analyze), index);
    }
    Ok(assemble(name.to_owned(), Some(saved.image), saved.layers))
}

fn assemble(reference: String, resolved: Option<ResolvedImage>, layers: Vec<Arc<LayerIndex>>) -> Image {
    let mut warnings: Vec<String> = resolved.iter().flat_map(|r| r.warnings.iter().cloned()).collect();
    for (i, layer) in layers.iter().enumerate() {
        warnings.extend(layer.warnings.iter().map(|w| format!("layer {i}: {w}")));
    }
    let view = FileView::build(layers.iter().map(|l| l.as_ref()));
    Image { reference, resolved, layers, view, warnings }
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
            warnings: vec![format!("foreign layer {} not read", desc.digest)],
            ..LayerIndex::empty(layer.kind.compression.unwrap_or(Compression::Gzip))
        }));
    }
    let key = cache_key(&layer.diff_id, &opts.analyze);
    if let Some(hit) = cache.get(&key) {
        progress.layer_finished(i, true);
        return Ok(Arc::new(hit));
    }
    progress.layer_started(i, desc.size());
    let blob = store.open_blob(desc)?;
    let expected = Expected {
        name: desc.digest.to_string(),
        blob_digest: Some(desc.digest.clone()),
        blob_size: Some(desc.size()),
        diff_id: Some(layer.diff_id.clone()),
        compression: layer.kind.compression,
    };
    let index = layer::analyze_layer(blob, &expected, &opts.analyze, &opts.limits, &mut |n| progress.bytes(i, n))?;
    cache.put(&key, &index);
    progress.layer_finished(i, false);
    Ok(Arc::new(index))
}
