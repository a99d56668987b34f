//! The squashed file view: what a container started from the image sees, plus, for every
//! path, which layer last wrote it and which lower layers held it before.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;

use crate::layer::{Entry, EntryKind, LayerIndex};

/// A path present in the final image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub entry: Entry,
    /// The layer (0 = base) that last wrote this path.
    pub layer: usize,
    /// Lower layers that held this path before `layer` replaced it, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<usize>,
}

/// A path that some layer added and a later layer deleted (by whiteout, opaque directory,
/// or by replacing a directory with a non-directory). Its bytes are still in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The layers that held the path, oldest first.
    pub held_in: Vec<usize>,
    /// The layer that deleted it.
    pub removed_in: usize,
    /// What the path was in the last layer that held it.
    pub entry: Entry,
}

/// The squashed view of an image's layers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileView {
    nodes: BTreeMap<String, Node>,
    removed: BTreeMap<String, Removed>,
}

/// The most symlinks followed while resolving one path, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

impl FileView {
    /// Applies layers in order (base first): whiteouts and opaque directories of a layer
    /// hide lower layers only, then the layer's entries are added.
    pub fn build<'a>(layers: impl IntoIterator<Item = &'a LayerIndex>) -> FileView {
        let mut view = FileView::default();
        for (i, layer) in layers.into_iter().enumerate() {
            view.apply(i, layer);
        }
        view
    }

    fn apply(&mut self, layer: usize, index: &LayerIndex) {
        for dir in &index.opaque_dirs {
            self.remove_children(dir, layer);
        }
        for path in &index.whiteouts {
            self.remove(path, layer);
            self.remove_children(path, layer);
        }
        for entry in &index.entries {
            let mut replaced = Vec::new();
            if let Some(old) = self.nodes.remove(&entry.path) {
                if old.layer == layer {
                    replaced = old.replaced;
                } else {
                    replaced = old.replaced;
                    replaced.push(old.layer);
                }
                if matches!(old.entry.kind, EntryKind::Dir) && !matches!(entry.kind, EntryKind::Dir) {
                    self.remove_children(&entry.path, layer);
                }
            } else if let Some(gone) = self.removed.remove(&entry.path) {
                replaced = gone.held_in;
            }
            self.nodes.insert(entry.path.clone(), Node { entry: entry.clone(), layer, replaced });
        }
    }

    fn remove(&mut self, path: &str, layer: usize) {
        if let Some(node) = self.nodes.remove(path) {
            let mut held_in = node.replaced;
            held_in.push(node.layer);
            self.removed.insert(path.to_owned(), Removed { held_in, removed_in: layer, entry: node.entry });
        }
    }

    fn remove_children(&mut self, dir: &str, layer: usize) {
        let doomed: Vec<String> = self.children_range(dir).map(|(k, _)| k.clone()).collect();
        for path in doomed {
            self.remove(&path, layer);
        }
    }

    /// Whether any path exists strictly below `dir` (which itself need not be listed).
    pub fn has_children(&self, dir: &str) -> bool {
        self.children_range(dir.trim_matches('/')).next().is_some()
    }

    /// Every node strictly below `dir` (`""` is the root).
    fn children_range<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        let (lo, hi) = if dir.is_empty() {
            (Bound::Unbounded, Bound::Unbounded)
        } else {
            // '0' is the byte after '/', so [dir/, dir0) is exactly the subtree.
            (Bound::Included(format!("{dir}/")), Bound::Excluded(format!("{dir}0")))
        };
        self.nodes.range::<String, _>((lo, hi))
    }

    /// All paths in the final image, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Paths deleted by a later layer, sorted.
    pub fn removed(&self) -> impl Iterator<Item = (&str, &Removed)> {
        self.removed.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// For the copy of `path` that `layer` wrote: the later layer that deleted or replaced
    /// it, or `None` when it is the copy a running container sees. Scanners use it to report
    /// files that are gone from the running view but whose bytes still ship in the image.
    pub fn superseded_in(&self, path: &str, layer: usize) -> Option<usize> {
        let path = path.trim_start_matches('/');
        let next = |held: &[usize], last: usize| held.iter().copied().filter(|&l| l > layer).min().unwrap_or(last);
        if let Some(n) = self.nodes.get(path) {
            return (n.layer != layer).then(|| next(&n.replaced, n.layer));
        }
        self.removed.get(path).map(|r| next(&r.held_in, r.removed_in))
    }

    /// Number of paths in the final image.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the image has no paths at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node at exactly `path` (normalised, no symlinks followed).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    /// Resolves `path` as the kernel would inside a chroot at the image root: symlinks in
    /// every component are followed, `..` never leaves the root, loops stop after 40 links.
    /// Returns the final normalised path and its node. Hard links are returned as is.
    pub fn resolve(&self, path: &str) -> Option<(String, &Node)> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                done.pop();
                continue;
            }
            done.push(c);
            let here = done.join("/");
            // A missing parent is an implicit directory: tars need not list parents, and
            // runtimes create them. Only the final path must exist (checked below).
            let Some(node) = self.nodes.get(&here) else { continue };
            if let EntryKind::Symlink { target } = &node.entry.kind {
                links += 1;
                if links > MAX_SYMLINKS {
                    return None;
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                pending.extend(components(target).rev().map(str::to_owned));
            }
        }
        let here = done.join("/");
        let node = self.nodes.get(&here)?;
        Some((here, node))
    }

    /// The regular-file node that holds the content for `path`: symlinks resolved, and a
    /// hard link replaced by its target.
    pub fn resolve_file(&self, path: &str) -> Option<(String, &Node)> {
        let (p, node) = self.resolve(path)?;
        match &node.entry.kind {
            EntryKind::File => Some((p, node)),
            EntryKind::Hardlink { target } => {
                let t = self.nodes.get(target)?;
                matches!(t.entry.kind, EntryKind::File).then(|| (target.clone(), t))
            }
            _ => None,
        }
    }

    /// What analyzer `id` found in `path` (see [`crate::layer::FileAnalyzer`]), following
    /// symlinks and hard links, from the layer that wrote the final version.
    pub fn analysis<'a>(
        &self,
        layers: &'a [impl AsRef<LayerIndex>],
        id: &str,
        path: &str,
    ) -> Option<&'a serde_json::Value> {
        let (p, node) = self.resolve_file(path)?;
        layers.get(node.layer)?.as_ref().analyses.get(id)?.get(&p)
    }

    /// The captured content of `path` (see [`crate::layer::Capture`]), following symlinks
    /// and hard links, from the layer that wrote the final version.
    pub fn read_captured<'a>(&self, layers: &'a [impl AsRef<LayerIndex>], path: &str) -> Option<&'a [u8]> {
        let (p, node) = self.resolve_file(path)?;
        let layer = layers.get(node.layer)?.as_ref();
        layer.captured.get(&p).map(|c| c.0.as_slice())
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Compression;

    fn layer(entries: &[(&str, EntryKind)], whiteouts: &[&str], opaque: &[&str]) -> LayerIndex {
        LayerIndex {
            entries: entries
                .iter()
                .map(|(p, k)| Entry {
                    path: p.to_string(),
                    kind: k.clone(),
                    size: 1,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    sha256: None,
                })
                .collect(),
            whiteouts: whiteouts.iter().map(|s| s.to_string()).collect(),
            opaque_dirs: opaque.iter().map(|s| s.to_string()).collect(),
            ..LayerIndex::empty(Compression::None)
        }
    }

    fn file() -> EntryKind {
        EntryKind::File
    }
    fn dir() -> EntryKind {
        EntryKind::Dir
    }
    fn link(t: &str) -> EntryKind {
        EntryKind::Symlink { target: t.into() }
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
        let l0 = layer(
            &[("a", dir()), ("a/x", file()), ("a/y", file()), ("ab", file()), ("a-b", file()), ("keep", file())],
            &[],
            &[],
        );
        let l1 = layer(&[("a", dir()), ("a/new", file()), ("keep", file())], &[], &["a"]);
        let l2 = layer(&[("ab", file())], &["ab", "a-b"], &[]);
        let v = FileView::build([&l0, &l1, &l2]);
        let paths: Vec<&str> = v.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["a", "a/new", "ab", "keep"]);
        // `ab` was whited out by layer 2 and re-added by the same layer: present, history kept.
        assert_eq!(v.get("ab").unwrap().layer, 2);
        assert_eq!(v.get("ab").unwrap().replaced, [0]);
        assert_eq!(v.get("keep").unwrap().replaced, [0]);
        let removed: Vec<(&str, usize, Vec<usize>)> =
            v.removed().map(|(p, r)| (p, r.removed_in, r.held_in.clone())).collect();
        assert_eq!(removed, [("a-b", 2, vec![0]), ("a/x", 1, vec![0]), ("a/y", 1, vec![0])]);
    }

    #[test]
    fn superseded_in_names_the_layer_that_hid_each_copy() {
        let l0 = layer(&[("a", dir()), ("a/x", file()), ("key", file()), ("f", file())], &[], &[]);
        let l1 = layer(&[("f", file())], &["key"], &[]);
        let l2 = layer(&[("f", file())], &["a"], &[]);
        let v = FileView::build([&l0, &l1, &l2]);
        assert_eq!(v.superseded_in("/key", 0), Some(1));
        assert_eq!(v.superseded_in("a/x", 0), Some(2));
        assert_eq!(v.superseded_in("f", 0), Some(1));
        assert_eq!(v.superseded_in("f", 1), Some(2));
        assert_eq!(v.superseded_in("f", 2), None);
        assert_eq!(v.superseded_in("never", 0), None);
    }

    #[test]
    fn whiteout_of_directory_removes_subtree_and_file_replaces_dir() {
        let l0 = layer(&[("d", dir()), ("d/f", file()), ("e", dir()), ("e/g", file())], &[], &[]);
        let l1 = layer(&[("e", file())], &["d"], &[]);
        let v = FileView::build([&l0, &l1]);
        assert_eq!(v.iter().map(|(p, _)| p).collect::<Vec<_>>(), ["e"]);
        assert_eq!(v.removed().map(|(p, _)| p).collect::<Vec<_>>(), ["d", "d/f", "e/g"]);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let l0 = layer(
            &[
                ("etc", dir()),
                ("usr", dir()),
                ("usr/lib", dir()),
                ("usr/lib/os-release", file()),
                ("etc/os-release", link("../usr/lib/os-release")),
                ("etc/escape", link("../../../../usr/lib/os-release")),
                ("etc/abs", link("/usr/lib/os-release")),
                ("lib", link("usr/lib")),
                ("loop1", link("loop2")),
                ("loop2", link("loop1")),
            ],
            &[],
            &[],
        );
        let v = FileView::build([&l0]);
        for p in ["etc/os-release", "/etc/escape", "etc/abs", "lib/os-release", "lib/../lib/os-release"] {
            assert_eq!(v.resolve(p).map(|(p, _)| p).as_deref(), Some("usr/lib/os-release"), "{p}");
        }
        assert!(v.resolve("loop1").is_none());
        // Parents a tar did not list are implicit directories.
        let l1 = layer(&[("a/b/c", file()), ("x", link("a/b"))], &[], &[]);
        let v = FileView::build([&l1]);
        assert_eq!(v.resolve("a/b/c").map(|(p, _)| p).as_deref(), Some("a/b/c"));
        assert_eq!(v.resolve("x/c").map(|(p, _)| p).as_deref(), Some("a/b/c"));
        assert!(v.has_children("a") && v.has_children("/a/b/") && !v.has_children("a/b/c"));
        assert!(v.resolve("etc/missing").is_none());
    }
}
