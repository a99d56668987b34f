//! Unpacked root filesystems (`dir:<path>`), read into one pseudo-layer.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use bulwark_core::{Algorithm, Digest};
use sha2::{Digest as _, Sha256};

use crate::layer::{AnalyzeOptions, Content, Entry, EntryKind, LayerIndex};
use crate::spec::Compression;
use crate::{Error, Limits, Result};

/// Walks a root filesystem without following symlinks or leaving its filesystem (like
/// `find -xdev`), in sorted order so the result is deterministic. Hard-linked files
/// after the first are recorded as hard links to the first path, as `tar` does.
pub fn read_rootfs(root: &Path, opts: &AnalyzeOptions, limits: &Limits) -> Result<LayerIndex> {
    let meta = fs::symlink_metadata(root).map_err(|e| Error::io(format!("reading {}", root.display()), e))?;
    if !meta.is_dir() {
        return Err(Error::invalid(root.display().to_string(), "not a directory"));
    }
    let mut index = LayerIndex::empty(Compression::None);
    let mut inodes: HashMap<(u64, u64), String> = HashMap::new();
    let mut stack: Vec<String> = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut names: Vec<String> = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                index.warnings.push(format!("{}: cannot list: {e}", display(&rel)));
                continue;
            }
        };
        for item in rd {
            let item = item.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
            match item.file_name().into_string() {
                Ok(n) => names.push(n),
                Err(n) => index.warnings.push(format!("{}/{n:?}: file name is not UTF-8; skipped", display(&rel))),
            }
        }
        names.sort_unstable_by(|a, b| b.cmp(a));
        for name in names {
            let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let full = root.join(&path);
            let md = match fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(e) => {
                    index.warnings.push(format!("{path}: {e}"));
                    continue;
                }
            };
            if index.entries.len() as u64 >= limits.max_entries {
                return Err(Error::invalid(
                    root.display().to_string(),
                    format!("more than {} files (hint: raise it with --max-entries)", limits.max_entries),
                ));
            }
            let ft = md.file_type();
            let mut size = 0;
            let mut sha256 = None;
            let kind = if ft.is_dir() {
                if md.dev() == meta.dev() {
                    stack.push(path.clone());
                } else {
                    index.warnings.push(format!("{path}: another filesystem is mounted here; not read"));
                }
                EntryKind::Dir
            } else if ft.is_symlink() {
                let target =
                    fs::read_link(&full).map_err(|e| Error::io(format!("reading link {}", full.display()), e))?;
                EntryKind::Symlink { target: target.to_string_lossy().into_owned() }
            } else if ft.is_file() {
                if md.nlink() > 1 {
                    if let Some(first) = inodes.get(&(md.dev(), md.ino())) {
                        index.entries.push(Entry {
                            path,
                            kind: EntryKind::Hardlink { target: first.clone() },
                            size: 0,
                            mode: md.mode() & 0o7777,
                            uid: md.uid().into(),
                            gid: md.gid().into(),
                            sha256: None,
                        });
                        continue;
                    }
                    inodes.insert((md.dev(), md.ino()), path.clone());
                }
                size = md.len();
                let keep = opts.capture.wants(&path) && size <= opts.capture.max_bytes.min(limits.max_file_bytes);
                if opts.capture.wants(&path) && !keep {
                    index.warnings.push(format!("{path} is {size} bytes, too large to read; skipped"));
                }
                if keep || opts.file_digests {
                    match read_file(&full, keep, opts.file_digests) {
                        Ok((content, digest)) => {
                            if let Some(c) = content {
                                index.captured.insert(path.clone(), Content(c));
                            }
                            sha256 = digest;
                        }
                        Err(e) => index.warnings.push(format!("{path}: {e}")),
                    }
                }
                EntryKind::File
            } else {
                // Devices, FIFOs and sockets carry nothing a scanner reads.
                continue;
            };
            index.uncompressed_size += size;
            index.entries.push(Entry {
                path,
                kind,
                size,
                mode: md.mode() & 0o7777,
                uid: md.uid().into(),
                gid: md.gid().into(),
                sha256,
            });
        }
    }
    index.entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(index)
}

fn display(rel: &str) -> &str {
    if rel.is_empty() { "." } else { rel }
}

fn read_file(path: &Path, keep: bool, digest: bool) -> std::io::Result<(Option<Vec<u8>>, Option<Digest>)> {
    let mut f = File::open(path)?;
    let mut hasher = digest.then(Sha256::new);
    let mut content = keep.then(Vec::new);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(h) = &mut hasher {
            h.update(&buf[..n]);
        }
        if let Some(c) = &mut content {
            c.extend_from_slice(&buf[..n]);
        }
    }
    Ok((content, hasher.map(|h| Digest::from_hasher_output(Algorithm::Sha256, &h.finalize()))))
}
