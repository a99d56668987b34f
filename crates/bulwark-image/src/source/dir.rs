//! Unpacked root filesystems (`dir:<path>`), read into one pseudo-layer.

use std::collections::HashMap;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use bulwark_core::{Reference, Target};

use super::{ImageSource, wrong_shape};
use crate::layer::{AnalyzeOptions, Entry, EntryKind, LayerIndex, LinkRequest, LinkedRead};
use crate::read::{self, Image, LayerCache, Progress, ReadOptions};
use crate::spec::Compression;
use crate::{Error, Limits, Result};

/// The `dir:` source.
#[derive(Debug)]
pub struct Dir;

impl ImageSource for Dir {
    fn scheme(&self) -> &'static str {
        "dir"
    }

    fn read(
        &self,
        reference: &Reference,
        opts: &ReadOptions,
        _cache: &dyn LayerCache,
        progress: &dyn Progress,
    ) -> Result<Image> {
        let Target::Path(path) = reference.target() else { return Err(wrong_shape(self, reference)) };
        let name = reference.to_string();
        progress.layer_started(0, 0);
        let index = read_rootfs(path, &opts.analyze, &opts.limits)?;
        read::charge(&index, &name, opts)?;
        progress.layer_finished(0, false);
        let mut image = read::assemble(name, self.scheme(), None, vec![Arc::new(index)]);
        let layer0 = Arc::clone(&image.layers[0]);
        read::follow_links(&mut image, opts, &mut |_, requests: &[LinkRequest]| {
            Ok(Some(read_linked(path, &layer0, requests, &opts.analyze, &opts.limits)))
        })?;
        Ok(image)
    }
}

/// Walks a root filesystem without following symlinks or leaving its filesystem (like
/// `find -xdev`), in sorted order so the result is deterministic. Hard-linked files
/// after the first are recorded as hard links to the first path, as `tar` does.
pub fn read_rootfs(root: &Path, opts: &AnalyzeOptions, limits: &Limits) -> Result<LayerIndex> {
    let meta = fs::symlink_metadata(root).map_err(|e| Error::io(format!("reading {}", root.display()), e))?;
    if !meta.is_dir() {
        return Err(Error::invalid(root.display().to_string(), "not a directory"));
    }
    let mut index = LayerIndex::empty(Compression::None);
    let mut budget = crate::layer::ResultBudget::new(opts.max_result_bytes);
    let mut inodes: HashMap<(u64, u64), String> = HashMap::new();
    let mut stack: Vec<String> = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut names: Vec<String> = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                index.warnings.push(bulwark_core::Warning::file(display(&rel), format!("cannot list: {e}")));
                continue;
            }
        };
        for item in rd {
            let item = item.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
            match item.file_name().into_string() {
                Ok(n) => names.push(n),
                Err(n) => index.warnings.push(bulwark_core::Warning::file(
                    format!("{}/{n:?}", display(&rel)),
                    "file name is not UTF-8; skipped",
                )),
            }
        }
        names.sort_unstable_by(|a, b| b.cmp(a));
        for name in names {
            let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let full = root.join(&path);
            let md = match fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(e) => {
                    index.warnings.push(bulwark_core::Warning::file(path, e.to_string()));
                    continue;
                }
            };
            if index.entries.len() as u64 >= limits.max_entries {
                return Err(Error::TooLarge {
                    what: format!("{}: file count", root.display()),
                    size: index.entries.len() as u64 + 1,
                    limit: limits.max_entries,
                    kind: crate::LimitKind::Entries,
                });
            }
            let ft = md.file_type();
            let mut size = 0;
            let mut sha256 = None;
            let kind = if ft.is_dir() {
                if md.dev() == meta.dev() {
                    stack.push(path.clone());
                } else {
                    index.warnings.push(bulwark_core::Warning::file(
                        path.clone(),
                        "another filesystem is mounted here; not read",
                    ));
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
                let read = File::open(&full).and_then(|mut f| {
                    crate::layer::read_file_content(
                        &path,
                        size,
                        md.mode(),
                        &mut f,
                        opts,
                        limits,
                        &mut index,
                        &mut budget,
                    )
                });
                match read {
                    Ok(digest) => sha256 = digest,
                    Err(e) => index.warnings.push(bulwark_core::Warning::file(path.clone(), e.to_string())),
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

/// Reads files of a root filesystem again for link requests (see
/// [`crate::layer::read_linked_bodies`]). Each body is opened at the path the walk recorded,
/// refusing any component that has become a symbolic link since, so nothing outside `root`
/// is read.
pub fn read_linked(
    root: &Path,
    index: &LayerIndex,
    requests: &[LinkRequest],
    opts: &AnalyzeOptions,
    limits: &Limits,
) -> Vec<LinkedRead> {
    let mut out = Vec::new();
    let mut budget = crate::layer::ResultBudget::new(opts.max_result_bytes);
    for r in requests {
        let Some(entry) = index.entries.get(r.entry) else { continue };
        let mut full = root.to_path_buf();
        let mut safe = true;
        for c in entry.path.split('/') {
            full.push(c);
            safe &= fs::symlink_metadata(&full).is_ok_and(|m| !m.file_type().is_symlink());
        }
        let read = if safe {
            File::open(&full).and_then(|mut f| {
                let size = f.metadata()?.len();
                crate::layer::read_linked(&mut f, size, &[r], opts, limits, &mut budget)
            })
        } else {
            Err(std::io::Error::other("a component is now a symbolic link"))
        };
        match read {
            Ok(reads) => out.extend(reads),
            Err(e) => out.push(LinkedRead {
                entry: r.entry,
                path: r.path.clone(),
                analyzers: r.analyzers.clone(),
                capture: r.capture,
                analyses: Default::default(),
                captured: None,
                warnings: vec![bulwark_core::Warning::file(r.path.clone(), format!("cannot read {}: {e}", entry.path))],
                over_budget: Vec::new(),
            }),
        }
    }
    out
}

fn display(rel: &str) -> &str {
    if rel.is_empty() { "." } else { rel }
}
