//! The streaming engine: reads one layer blob, verifies the blob digest, decompresses,
//! verifies the diff_id, and walks the tar entries into a [`LayerIndex`], without writing
//! anything to disk. The model it fills (entries, captured files, analyzer results, the
//! [`FileAnalyzer`] trait) lives in `bulwark-layer` and is re-exported here.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use bulwark_core::{Algorithm, Digest, Warning, WarningKind};
pub use bulwark_layer::{
    AnalyzeCause, AnalyzeError, AnalyzeOptions, Capture, Content, Entry, EntryKind, FileAnalyzer, ImageBudget,
    LayerIndex, LinkRequest, LinkedRead, OverBudget, ReplacedCopy, ResultBudget, normalize_path,
};
use sha2::{Digest as _, Sha256};

use crate::spec::Compression;
use crate::{Error, LimitKind, Limits, Result};

/// A warning about something odd in the layer whose text names no path up front (the
/// image reader adds the layer's index).
fn odd(message: String) -> Warning {
    Warning::new(WarningKind::Layer, message)
}

/// Reads one regular file for everyone that wants it: the file digest, the capture list and
/// the analyzers. The content is read once: streamed when at most one analyzer wants it,
/// buffered (up to `max_file_bytes`) when several do. What is kept comes out of `budget`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_file_content(
    path: &str,
    size: u64,
    mode: u32,
    reader: &mut dyn Read,
    opts: &AnalyzeOptions,
    limits: &Limits,
    index: &mut LayerIndex,
    budget: &mut ResultBudget,
) -> io::Result<Option<Digest>> {
    let capture = opts.capture.wants(path);
    let capture_limit = opts.capture.max_bytes.min(limits.max_file_bytes);
    if capture && size > capture_limit {
        index.warnings.push(odd(format!("{path} is {size} bytes, too large to read; skipped")));
    }
    let keep = capture && size <= capture_limit;
    let wanted: Vec<&std::sync::Arc<dyn FileAnalyzer>> =
        opts.analyzers.iter().filter(|a| a.wants(path, size, mode)).collect();
    if !keep && !opts.file_digests && wanted.is_empty() {
        return Ok(None);
    }
    let buffer = keep || wanted.len() > 1;
    if buffer && size > limits.max_file_bytes {
        index.warnings.push(odd(format!(
            "{path} is {size} bytes, over --max-file-bytes; only the first interested analyzer read it"
        )));
    }
    let buffer = buffer && size <= limits.max_file_bytes;
    let mut tee = Tee {
        inner: reader,
        hasher: opts.file_digests.then(Sha256::new),
        copy: buffer.then(|| Vec::with_capacity(size.min(1 << 20) as usize)),
    };
    let mut results = Vec::new();
    if buffer || wanted.is_empty() {
        io::copy(&mut tee, &mut io::sink())?;
        let content = tee.copy.take().unwrap_or_default();
        for a in &wanted {
            results.push((*a, a.analyze(path, &mut &content[..], size)));
        }
        if keep {
            let bytes = (path.len() + content.len()) as u64;
            if budget.take(bytes) {
                index.captured.insert(path.to_owned(), Content(content));
            } else {
                OverBudget::record(&mut index.over_budget, OverBudget::CAPTURE, "vuln", path, bytes);
            }
        }
    } else {
        let first = wanted[0];
        results.push((first, first.analyze(path, &mut tee, size)));
        // Whatever the analyzer did not read still has to be hashed.
        io::copy(&mut tee, &mut io::sink())?;
    }
    for (a, r) in results {
        match r {
            Ok(Some(v)) => {
                let bytes = bulwark_layer::stored_bytes(path, &v);
                if budget.take(bytes) {
                    index.analyses.entry(a.id().to_owned()).or_default().insert(path.to_owned(), v);
                } else {
                    OverBudget::record(&mut index.over_budget, a.id(), a.scanner(), path, bytes);
                }
            }
            Ok(None) => {}
            Err(e) => index.warnings.push(e.warning()),
        }
    }
    Ok(tee.hasher.map(|h| Digest::from_hasher_output(Algorithm::Sha256, &h.finalize())))
}

/// Passes bytes through while hashing and optionally copying them.
struct Tee<'a> {
    inner: &'a mut dyn Read,
    hasher: Option<Sha256>,
    copy: Option<Vec<u8>>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        if let Some(c) = &mut self.copy {
            c.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// What the manifest and config say a layer blob should be.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// Name for errors (usually the blob digest).
    pub name: String,
    pub blob_digest: Option<Digest>,
    pub blob_size: Option<u64>,
    pub diff_id: Option<Digest>,
    /// From the media type; `None` sniffs the magic bytes.
    pub compression: Option<Compression>,
}

/// SHA-256 computed on another thread. Without SHA extensions (as on the machines we
/// benchmark on) SHA-256 runs at about 350 MB/s, slower than zlib-rs inflates, so hashing
/// the blob and the tar inline would more than double a layer's read time. Bytes are
/// batched into large chunks and handed over a bounded channel; buffers are recycled.
struct OffThreadHasher<'scope> {
    tx: Option<SyncSender<Vec<u8>>>,
    recycle: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    handle: ScopedJoinHandle<'scope, Digest>,
}

const HASH_CHUNK: usize = 256 * 1024;

impl<'scope> OffThreadHasher<'scope> {
    fn spawn<'env>(scope: &'scope Scope<'scope, 'env>) -> OffThreadHasher<'scope> {
        let (tx, rx) = sync_channel::<Vec<u8>>(4);
        let (back_tx, recycle) = sync_channel::<Vec<u8>>(6);
        let handle = scope.spawn(move || {
            // ring's SHA-256 (BoringSSL's AVX2 code) measured 1.6x faster than the sha2
            // crate's here; ring is already linked for TLS.
            let mut h = ring::digest::Context::new(&ring::digest::SHA256);
            for mut chunk in rx {
                h.update(&chunk);
                chunk.clear();
                let _ = back_tx.try_send(chunk);
            }
            Digest::from_hasher_output(Algorithm::Sha256, h.finish().as_ref())
        });
        OffThreadHasher { tx: Some(tx), recycle, buf: Vec::with_capacity(HASH_CHUNK), handle }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = data.len().min(HASH_CHUNK - self.buf.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() == HASH_CHUNK {
                self.send();
            }
        }
    }

    fn send(&mut self) {
        let next = self.recycle.try_recv().unwrap_or_else(|_| Vec::with_capacity(HASH_CHUNK));
        let full = std::mem::replace(&mut self.buf, next);
        if let Some(tx) = &self.tx {
            // The receiver only goes away if the hashing thread died; `finish` reports that.
            let _ = tx.send(full);
        }
    }

    fn finish(mut self) -> Option<Digest> {
        if !self.buf.is_empty() {
            self.send();
        }
        self.tx = None;
        self.handle.join().ok()
    }
}

/// Shared state between the reader stages of one layer.
#[derive(Default)]
struct Flags {
    /// Compressed bytes consumed so far (for the compression ratio).
    consumed: Cell<u64>,
    /// The blob ran past its descriptor's size.
    blob_overrun: Cell<bool>,
    /// Why decompression was stopped (size or ratio limit, oversized tar header).
    bomb: RefCell<Option<(Option<LimitKind>, String)>>,
    /// Bytes the tar reader may still read while it looks for the next entry's header.
    header_budget: Cell<Option<u64>>,
}

/// Most bytes of headers (GNU long names, PAX records) read for one entry. The tar reader
/// holds them in memory whole, and a 1 GiB PAX record compresses to a few MB.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Reads the blob as stored: hashes it, counts it, enforces the descriptor size.
struct BlobTap<'a, 's, R> {
    inner: R,
    hasher: Option<OffThreadHasher<'s>>,
    count: u64,
    limit: u64,
    flags: &'a Flags,
    on_bytes: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for BlobTap<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        self.flags.consumed.set(self.count);
        if self.count > self.limit {
            self.flags.blob_overrun.set(true);
            return Err(io::Error::other("blob larger than its descriptor"));
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        (self.on_bytes)(n as u64);
        Ok(n)
    }
}

/// Reads the uncompressed tar stream: hashes it for the diff_id and stops decompression
/// bombs by total size and by ratio to the compressed bytes consumed so far.
struct TarTap<'a, 's, R> {
    inner: R,
    hasher: OffThreadHasher<'s>,
    count: u64,
    limits: &'a Limits,
    flags: &'a Flags,
}

impl<R: Read> Read for TarTap<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        let limits = self.limits;
        let tripped = if self.count > limits.max_layer_bytes {
            Some((
                LimitKind::LayerBytes,
                format!("uncompressed size exceeds the limit of {} bytes", limits.max_layer_bytes),
            ))
        } else if self.count > limits.ratio_grace_bytes
            && self.count / self.flags.consumed.get().max(1) > limits.max_compression_ratio
        {
            Some((
                LimitKind::CompressionRatio,
                format!(
                    "compression ratio above {}:1 after {} uncompressed bytes, a likely decompression bomb",
                    limits.max_compression_ratio, self.count
                ),
            ))
        } else {
            None
        };
        if let Some((kind, message)) = tripped {
            *self.flags.bomb.borrow_mut() = Some((Some(kind), message));
            return Err(io::Error::other("decompression limit exceeded"));
        }
        if let Some(budget) = self.flags.header_budget.get() {
            if n as u64 > budget {
                *self.flags.bomb.borrow_mut() = Some((
                    None,
                    format!(
                        "tar extension headers (GNU long name or PAX records) over {MAX_HEADER_BYTES} bytes for one entry"
                    ),
                ));
                return Err(io::Error::other("tar header limit exceeded"));
            }
            self.flags.header_budget.set(Some(budget - n as u64));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

const BUF: usize = 256 * 1024;

/// Streams one layer blob: verifies the blob digest and size, decompresses, verifies the
/// diff_id, and indexes the tar. `on_bytes` is called with compressed byte counts as they
/// are read (for progress).
pub fn analyze_layer(
    blob: impl Read,
    expected: &Expected,
    opts: &AnalyzeOptions,
    limits: &Limits,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<LayerIndex> {
    let mut mode = Mode::Full(ResultBudget::within(opts.max_result_bytes, opts.image_budget.clone()));
    std::thread::scope(|scope| analyze_scoped(scope, blob, expected, opts, limits, on_bytes, &mut mode))
}

/// Reads a layer blob a second time, with the same checks (blob digest and size, diff_id,
/// every limit), and runs only what `requests` ask for on the bodies they name, under the
/// paths that reach those bodies through links. Used when the squashed view shows that a
/// package database or other wanted path is a link to a body no analyzer read as such
/// (the layer holding the body was read, or cached, before the link was known).
pub fn read_linked_bodies(
    blob: impl Read,
    expected: &Expected,
    requests: &[LinkRequest],
    opts: &AnalyzeOptions,
    limits: &Limits,
) -> Result<Vec<LinkedRead>> {
    let mut by_entry: BTreeMap<usize, Vec<&LinkRequest>> = BTreeMap::new();
    for r in requests {
        by_entry.entry(r.entry).or_default().push(r);
    }
    let budget = ResultBudget::within(opts.max_result_bytes, opts.image_budget.clone());
    let mut mode = Mode::Linked { requests: by_entry, out: Vec::new(), budget };
    std::thread::scope(|scope| analyze_scoped(scope, blob, expected, opts, limits, &mut |_| {}, &mut mode))?;
    match mode {
        Mode::Linked { out, .. } => Ok(out),
        Mode::Full(_) => Ok(Vec::new()),
    }
}

/// What a walk over a layer does with file bodies.
enum Mode<'r> {
    /// Everything: digests, captures, every analyzer that wants a path; what is kept comes
    /// out of the budget.
    Full(ResultBudget),
    /// Only the linked reads asked for, by entry position, within their own budget.
    Linked { requests: BTreeMap<usize, Vec<&'r LinkRequest>>, out: Vec<LinkedRead>, budget: ResultBudget },
}

impl Mode<'_> {
    fn budget(&self) -> &ResultBudget {
        match self {
            Mode::Full(budget) | Mode::Linked { budget, .. } => budget,
        }
    }
}

/// The message of a [`LimitKind::ImageResults`] error.
pub(crate) fn image_results_message(image: &ImageBudget) -> String {
    format!(
        "analysis results of the image reached {} bytes, over the image-wide limit of {} bytes",
        image.used(),
        image.limit()
    )
}

fn analyze_scoped<'s>(
    scope: &'s Scope<'s, '_>,
    blob: impl Read,
    expected: &Expected,
    opts: &AnalyzeOptions,
    limits: &Limits,
    on_bytes: &mut dyn FnMut(u64),
    mode: &mut Mode<'_>,
) -> Result<LayerIndex> {
    let layer_err = |message: String| Error::Layer { layer: expected.name.clone(), message };
    let flags = Flags::default();
    let hash_blob = expected.blob_digest.as_ref().is_none_or(|d| d.algorithm() == Algorithm::Sha256);
    let tap = BlobTap {
        inner: blob,
        hasher: hash_blob.then(|| OffThreadHasher::spawn(scope)),
        count: 0,
        limit: expected.blob_size.unwrap_or(u64::MAX),
        flags: &flags,
        on_bytes,
    };
    let overrun = || Error::SizeMismatch {
        what: format!("layer {}", expected.name),
        expected: expected.blob_size.unwrap_or_default(),
        actual: flags.consumed.get(),
    };
    let mut compressed = BufReader::with_capacity(BUF, tap);
    let head = compressed
        .fill_buf()
        .map_err(|e| if flags.blob_overrun.get() { overrun() } else { layer_err(format!("reading: {e}")) })?;
    if head.is_empty() {
        return Err(layer_err("empty blob".into()));
    }
    let compression = expected.compression.unwrap_or_else(|| Compression::sniff(head));

    let mut index = LayerIndex::empty(compression);
    let limit_err = |kind: Option<LimitKind>, message: String| match kind {
        Some(kind) => Error::LayerLimit { layer: expected.name.clone(), kind, message },
        None => layer_err(message),
    };
    let stage_err = |e: WalkError| match (flags.bomb.borrow_mut().take(), e) {
        (Some((kind, m)), _) => limit_err(kind, m),
        (None, WalkError::Limit(kind, m)) => limit_err(Some(kind), m),
        (None, WalkError::Io(_)) if flags.blob_overrun.get() => overrun(),
        (None, WalkError::Io(e)) => layer_err(format!("reading tar: {e} (truncated or corrupt blob?)")),
    };
    let (uncompressed_size, diff_id) = {
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::None => Box::new(&mut compressed),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(&mut compressed)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(&mut compressed)
                    .map_err(|e| layer_err(format!("zstd: {e}")))?,
            ),
        };
        let mut tar = TarTap { inner: decoder, hasher: OffThreadHasher::spawn(scope), count: 0, limits, flags: &flags };
        walk_tar(&mut tar, &flags, &mut index, opts, limits, mode).map_err(stage_err)?;
        let diff_id = tar.hasher.finish().ok_or_else(|| layer_err("hashing thread failed".into()))?;
        (tar.count, diff_id)
    };
    // The blob digest covers every byte, including anything after the compressed stream.
    io::copy(&mut compressed, &mut io::sink()).map_err(|e| stage_err(WalkError::Io(e)))?;
    let tap = compressed.into_inner();
    index.uncompressed_size = uncompressed_size;
    index.compressed_size = tap.count;
    if let Some(size) = expected.blob_size
        && size != tap.count
    {
        return Err(Error::SizeMismatch {
            what: format!("layer {}", expected.name),
            expected: size,
            actual: tap.count,
        });
    }
    if let Some(h) = tap.hasher {
        let actual = h.finish().ok_or_else(|| layer_err("hashing thread failed".into()))?;
        if let Some(want) = &expected.blob_digest
            && *want != actual
        {
            return Err(Error::DigestMismatch {
                what: format!("layer blob {}", expected.name),
                expected: want.clone(),
                actual,
            });
        }
        index.blob_digest = Some(actual);
    }
    if let Some(want) = &expected.diff_id
        && *want != diff_id
    {
        return Err(Error::DigestMismatch {
            what: format!("diff_id of layer {} (uncompressed content)", expected.name),
            expected: want.clone(),
            actual: diff_id,
        });
    }
    index.diff_id = Some(diff_id);
    Ok(index)
}

enum WalkError {
    Io(io::Error),
    Limit(LimitKind, String),
}

impl From<io::Error> for WalkError {
    fn from(e: io::Error) -> Self {
        WalkError::Io(e)
    }
}

fn walk_tar(
    reader: &mut dyn Read,
    flags: &Flags,
    index: &mut LayerIndex,
    opts: &AnalyzeOptions,
    limits: &Limits,
    mode: &mut Mode<'_>,
) -> std::result::Result<(), WalkError> {
    let mut archive = tar::Archive::new(reader);
    // The latest entry (position and tar ordinal) of each path so far, to keep what the
    // analyzers found in a copy that a later entry of this layer replaces.
    let mut latest: HashMap<String, (usize, u64)> = HashMap::new();
    let mut count: u64 = 0;
    // Bytes of GNU sparse files read so far: their holes are zeros the tar reader makes up,
    // not bytes of the stream, so the stream's limits do not bound them (a 1.5 KiB entry
    // can claim 8 GiB of zeros, or exabytes in base-256). They count against the layer
    // size limit instead.
    let mut sparse_bytes: u64 = 0;
    let mut entries = archive.entries()?;
    let mut pending: u64 = 0;
    loop {
        // Between entries the tar reader reads only headers (plus whatever of the previous
        // entry is still unread): cap them, see MAX_HEADER_BYTES.
        flags.header_budget.set(Some(MAX_HEADER_BYTES + pending));
        let next = entries.next();
        flags.header_budget.set(None);
        let Some(entry) = next else { break };
        let mut entry = entry?;
        walk_entry(&mut entry, &mut count, &mut sparse_bytes, &mut latest, index, opts, limits, mode)?;
        if let Some(image) = mode.budget().image_exhausted() {
            return Err(WalkError::Limit(LimitKind::ImageResults, image_results_message(image)));
        }
        pending = if entry.header().entry_type().is_gnu_sparse() {
            // Reading a sparse entry would expand its holes; let the tar reader skip its
            // stored bytes instead.
            entry.header().entry_size().unwrap_or(0).saturating_add(512)
        } else {
            // Skip what nobody read here, outside the header budget.
            io::copy(&mut entry, &mut io::sink())?;
            0
        };
    }
    // Drain the end-of-archive blocks and any padding so the diff_id covers the whole stream.
    io::copy(&mut archive.into_inner(), &mut io::sink())?;
    Ok(())
}

/// Records one tar entry (and reads its content for whoever wants it).
#[allow(clippy::too_many_arguments)]
fn walk_entry(
    entry: &mut tar::Entry<'_, &mut dyn Read>,
    count: &mut u64,
    sparse_bytes: &mut u64,
    latest: &mut HashMap<String, (usize, u64)>,
    index: &mut LayerIndex,
    opts: &AnalyzeOptions,
    limits: &Limits,
    mode: &mut Mode<'_>,
) -> std::result::Result<(), WalkError> {
    *count += 1;
    if *count > limits.max_entries {
        return Err(WalkError::Limit(LimitKind::Entries, format!("more than {} tar entries", limits.max_entries)));
    }
    let raw_path = entry.path_bytes();
    let raw = String::from_utf8_lossy(&raw_path).into_owned();
    let (path, escaped) = normalize_path(&raw);
    if escaped {
        index.warnings.push(odd(format!("entry {raw:?} climbs above the image root; read as {path:?}")));
    }
    if path.is_empty() {
        return Ok(());
    }
    let (parent, name) = match path.rsplit_once('/') {
        Some((p, n)) => (p, n),
        None => ("", path.as_str()),
    };
    if let Some(hidden) = name.strip_prefix(".wh.") {
        if hidden == ".wh..opq" {
            index.opaque_dirs.push(parent.to_owned());
        } else if hidden.starts_with(".wh.") {
            // Other `.wh..wh.` names are AUFS bookkeeping (e.g. `.wh..wh.plnk`), not whiteouts.
        } else if hidden.is_empty() {
            index.warnings.push(odd(format!("whiteout entry {raw:?} names nothing; ignored")));
        } else {
            let target = if parent.is_empty() { hidden.to_owned() } else { format!("{parent}/{hidden}") };
            index.whiteouts.push(target);
        }
        return Ok(());
    }
    let header = entry.header();
    let file_mode = header.mode().unwrap_or(0o644);
    let uid = header.uid().unwrap_or(0);
    let gid = header.gid().unwrap_or(0);
    let size = entry.size();
    let sparse = header.entry_type().is_gnu_sparse();
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => EntryKind::File,
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => {
            let target = entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            EntryKind::Symlink { target }
        }
        tar::EntryType::Link => {
            let raw_target =
                entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            let (target, escaped) = normalize_path(&raw_target);
            if escaped {
                index.warnings.push(odd(format!("hard link {raw:?} targets {raw_target:?} above the image root")));
            }
            if target.is_empty() || target == path {
                index.warnings.push(odd(format!("hard link {raw:?} has an invalid target {raw_target:?}; ignored")));
                return Ok(());
            }
            EntryKind::Hardlink { target }
        }
        // Devices, FIFOs and unknown types carry nothing a scanner reads.
        _ => return Ok(()),
    };
    let is_file = kind == EntryKind::File;
    let mut sha256 = None;
    let position = index.entries.len();
    // A later entry for the same path wins in the running container, but the earlier
    // copy's bytes still ship in the blob, and a hard link written in between still points
    // at them (as GNU tar and umoci extract it): keep what was found in it, by entry.
    if let Some((earlier, tar_entry)) = latest.insert(path.clone(), (position, *count)) {
        keep_replaced(index, &path, earlier, tar_entry);
    }
    let (linked, budget) = match mode {
        Mode::Full(budget) => (None, budget),
        Mode::Linked { requests, out, budget } => (Some((requests.get(&position), out)), budget),
    };
    let read = is_file
        && match &linked {
            None => {
                opts.file_digests
                    || opts.capture.wants(&path)
                    || opts.analyzers.iter().any(|a| a.wants(&path, size, file_mode))
            }
            Some((requests, _)) => requests.is_some(),
        };
    if read && sparse && sparse_bytes.saturating_add(size) > limits.max_layer_bytes {
        index.warnings.push(odd(format!(
            "{path} is a sparse file of {size} bytes, more than --max-layer-bytes allows; contents not read"
        )));
    } else if is_file {
        if read && sparse {
            *sparse_bytes += size;
        }
        match linked {
            None => sha256 = read_file_content(&path, size, file_mode, entry, opts, limits, index, budget)?,
            Some((Some(requests), out)) => out.extend(read_linked(entry, size, requests, opts, limits, budget)?),
            Some((None, _)) => {}
        }
    }
    index.entries.push(Entry { path, kind, size: if is_file { size } else { 0 }, mode: file_mode, uid, gid, sha256 });
    Ok(())
}

/// Moves what the analyzers and the capture list kept for `path` (the copy written by
/// entry `entry`) into [`LayerIndex::replaced`], before a later entry of the same path.
fn keep_replaced(index: &mut LayerIndex, path: &str, entry: usize, tar_entry: u64) {
    let mut analyses = BTreeMap::new();
    for (id, results) in index.analyses.iter_mut() {
        if let Some(v) = results.remove(path) {
            analyses.insert(id.clone(), v);
        }
    }
    let captured = index.captured.remove(path);
    if !analyses.is_empty() || captured.is_some() {
        index.replaced.push(ReplacedCopy { path: path.to_owned(), entry, tar_entry, analyses, captured });
    }
}

/// Reads one body for the linked reads that ask for it: once into memory (bounded by
/// `max_file_bytes`), then each requested analyzer under each requested path. What is kept
/// comes out of `budget`.
pub(crate) fn read_linked(
    reader: &mut dyn Read,
    size: u64,
    requests: &[&LinkRequest],
    opts: &AnalyzeOptions,
    limits: &Limits,
    budget: &mut ResultBudget,
) -> io::Result<Vec<LinkedRead>> {
    let too_big = size > limits.max_file_bytes;
    let mut content = Vec::new();
    if !too_big {
        reader.take(limits.max_file_bytes).read_to_end(&mut content)?;
    }
    let capture_limit = opts.capture.max_bytes.min(limits.max_file_bytes);
    let mut out = Vec::new();
    for r in requests {
        let mut read = LinkedRead {
            entry: r.entry,
            path: r.path.clone(),
            analyzers: r.analyzers.clone(),
            capture: r.capture,
            analyses: BTreeMap::new(),
            captured: None,
            warnings: Vec::new(),
            over_budget: Vec::new(),
        };
        if too_big {
            read.warnings.push(odd(format!("{} is {size} bytes, over --max-file-bytes; not read", r.path)));
            out.push(read);
            continue;
        }
        for a in opts.analyzers.iter().filter(|a| r.analyzers.iter().any(|id| id == a.id())) {
            match a.analyze(&r.path, &mut &content[..], size) {
                Ok(Some(v)) => {
                    let bytes = bulwark_layer::stored_bytes(&r.path, &v);
                    if budget.take(bytes) {
                        read.analyses.insert(a.id().to_owned(), v);
                    } else {
                        OverBudget::record(&mut read.over_budget, a.id(), a.scanner(), &r.path, bytes);
                    }
                }
                Ok(None) => {}
                Err(e) => read.warnings.push(e.warning()),
            }
        }
        if r.capture {
            let bytes = (r.path.len() + content.len()) as u64;
            if size > capture_limit {
                read.warnings.push(odd(format!("{} is {size} bytes, too large to read; skipped", r.path)));
            } else if budget.take(bytes) {
                read.captured = Some(Content(content.clone()));
            } else {
                OverBudget::record(&mut read.over_budget, OverBudget::CAPTURE, "vuln", &r.path, bytes);
            }
        }
        out.push(read);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gnu_sparse_entry(path: &str, real_size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_entry_type(tar::EntryType::GNUSparse);
        h.set_mode(0o644);
        h.set_size(0);
        let gnu = h.as_gnu_mut().unwrap();
        // One empty data block at the end of the file: the whole file is a hole.
        gnu.sparse[0].offset.copy_from_slice(format!("{real_size:011o}\0").as_bytes());
        gnu.sparse[0].numbytes.copy_from_slice(b"00000000000\0");
        gnu.realsize.copy_from_slice(format!("{real_size:011o}\0").as_bytes());
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    #[test]
    fn sparse_holes_count_against_the_layer_size_limit() {
        // Found writing the fuzz/ layer_tar target: 1.5 KiB claiming 8 GiB of zeros took
        // minutes to hash with --file-digests, as did reading it for any analyzer.
        let mut tar = gnu_sparse_entry("small", 1000);
        tar.extend(gnu_sparse_entry("huge", 64 << 20));
        tar.extend([0u8; 1024]);
        let limits = Limits { max_layer_bytes: 1 << 20, ..Limits::default() };
        let opts = AnalyzeOptions { file_digests: true, ..Default::default() };
        let ix = analyze_layer(&tar[..], &Expected::default(), &opts, &limits, &mut |_| {}).unwrap();
        assert_eq!(ix.entries[0].sha256, Some(Digest::sha256_of(&[0u8; 1000])));
        assert_eq!((ix.entries[1].path.as_str(), ix.entries[1].size, &ix.entries[1].sha256), ("huge", 64 << 20, &None));
        assert!(ix.warnings.iter().any(|w| w.message.starts_with("huge is a sparse file")), "{:?}", ix.warnings);
    }

    #[test]
    fn a_later_entry_drops_what_an_earlier_one_captured() {
        let mut b = tar::Builder::new(Vec::new());
        for content in [&b"ID=first\n"[..], &vec![b'x'; 2 << 20]] {
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, "etc/os-release", content).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let ix =
            analyze_layer(&tar[..], &Expected::default(), &AnalyzeOptions::default(), &Limits::default(), &mut |_| {})
                .unwrap();
        assert_eq!(ix.entries.len(), 2);
        assert!(ix.captured.is_empty(), "stale capture of a replaced file: {:?}", ix.captured);
    }

    /// Stores the length of files whose name starts with `want`.
    #[derive(Debug)]
    struct Length;

    impl FileAnalyzer for Length {
        fn id(&self) -> &'static str {
            "len"
        }
        fn version(&self) -> u32 {
            1
        }
        fn wants(&self, path: &str, _: u64, _: u32) -> bool {
            path.starts_with("want")
        }
        fn analyze(
            &self,
            path: &str,
            r: &mut dyn Read,
            _: u64,
        ) -> std::result::Result<Option<serde_json::Value>, AnalyzeError> {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))?;
            Ok(Some(serde_json::json!(v.len())))
        }
    }

    fn tar_of(items: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, link, content) in items {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match link {
                Some(target) => {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_size(0);
                    b.append_link(&mut h, path, target).unwrap();
                }
                None => {
                    h.set_size(content.len() as u64);
                    b.append_data(&mut h, path, *content).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn every_copy_of_a_path_keeps_its_results_and_linked_reads_find_bodies_by_entry() {
        let tar = tar_of(&[
            ("want", None, b"one"),
            ("other", Some("want"), b""),
            ("want", None, b"three"),
            ("neutral", None, b"seven77"),
            ("want", None, b"x"),
        ]);
        let opts = AnalyzeOptions {
            analyzers: vec![std::sync::Arc::new(Length)],
            capture: Capture { paths: vec!["want".into()], ..Capture::default() },
            ..Default::default()
        };
        let ix = analyze_layer(&tar[..], &Expected::default(), &opts, &Limits::default(), &mut |_| {}).unwrap();
        let copies: Vec<(usize, u64, &serde_json::Value)> =
            ix.replaced.iter().map(|r| (r.entry, r.tar_entry, &r.analyses["len"])).collect();
        assert_eq!(copies, [(0, 1, &serde_json::json!(3)), (2, 3, &serde_json::json!(5))]);
        assert_eq!(ix.analysis_of(0, "len"), Some(&serde_json::json!(3)));
        assert_eq!(ix.analysis_of(4, "len"), Some(&serde_json::json!(1)));
        assert_eq!(ix.captured_of(2), Some(&b"three"[..]));
        assert_eq!(ix.captured_of(4), Some(&b"x"[..]));

        // A second read of the same blob runs only what is asked, on the entry asked for,
        // under the path that reaches it, and checks the blob as the first read did.
        let request = LinkRequest { entry: 3, path: "want-link".into(), analyzers: vec!["len".into()], capture: true };
        let expected = Expected { diff_id: ix.diff_id.clone(), ..Expected::default() };
        let reads =
            read_linked_bodies(&tar[..], &expected, std::slice::from_ref(&request), &opts, &Limits::default()).unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!((reads[0].entry, reads[0].path.as_str()), (3, "want-link"));
        assert_eq!(reads[0].analyses["len"], serde_json::json!(7));
        assert_eq!(reads[0].captured, Some(Content(b"seven77".to_vec())));
        let wrong = Expected { diff_id: Some(Digest::sha256_of(b"another layer")), ..Expected::default() };
        assert!(read_linked_bodies(&tar[..], &wrong, &[request], &opts, &Limits::default()).is_err());
    }

    #[test]
    fn results_past_the_layer_budget_are_counted_not_kept() {
        let big = vec![b'x'; 1000];
        let tar = tar_of(&[
            ("want1", None, &big[..]),
            ("want2", None, &big[..]),
            ("want3", None, b"abc"),
            ("cap", None, b"ID=x\n"),
        ]);
        // Each result is a number stored under a five-byte path: the same size.
        let one = bulwark_layer::stored_bytes("want1", &serde_json::json!(1000));
        let opts = AnalyzeOptions {
            analyzers: vec![std::sync::Arc::new(Length)],
            capture: Capture { paths: vec!["cap".into()], ..Capture::default() },
            max_result_bytes: 2 * one,
            ..Default::default()
        };
        let ix = analyze_layer(&tar[..], &Expected::default(), &opts, &Limits::default(), &mut |_| {}).unwrap();
        assert_eq!(ix.analyses["len"].keys().collect::<Vec<_>>(), ["want1", "want2"]);
        assert!(ix.captured.is_empty());
        let dropped = |analyzer: &str, scanner: &str, path: &str, bytes: u64| OverBudget {
            analyzer: analyzer.into(),
            scanner: scanner.into(),
            files: 1,
            bytes,
            examples: vec![path.into()],
        };
        assert_eq!(
            ix.over_budget,
            [dropped("len", "len", "/want3", one), dropped(OverBudget::CAPTURE, "vuln", "/cap", 3 + 5)]
        );
        // The budget is part of the cache key: a layer cached under another budget is read again.
        let wider = AnalyzeOptions { max_result_bytes: 3 * one, ..opts.clone() };
        assert_ne!(opts.fingerprint(), wider.fingerprint());

        // A linked read keeps within the budget of its own pass, and says what it left out.
        let request = LinkRequest { entry: 2, path: "want-link".into(), analyzers: vec!["len".into()], capture: true };
        let none = AnalyzeOptions { max_result_bytes: 0, ..opts.clone() };
        let reads = read_linked_bodies(&tar[..], &Expected::default(), &[request], &none, &Limits::default()).unwrap();
        assert!(reads[0].analyses.is_empty() && reads[0].captured.is_none(), "{:?}", reads[0]);
        let left_out: Vec<&str> = reads[0].over_budget.iter().map(|o| o.analyzer.as_str()).collect();
        assert_eq!(left_out, ["len", OverBudget::CAPTURE]);
    }
}
