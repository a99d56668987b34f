//! The squashed file view: what a container started from the image sees, plus, for every
//! path, which layer last wrote it and which lower layers held it before.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;

use crate::{Entry, EntryKind, LayerIndex};

/// A path present in the final image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub entry: Entry,
    /// The layer (0 = base) that last wrote this path.
    pub layer: usize,
    /// Lower layers that held this path before `layer` replaced it, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<usize>,
    /// Position of the entry in its layer's [`LayerIndex::entries`].
    #[serde(skip)]
    pub index: usize,
    /// For a hard link: the body it points at, fixed when the link entry was applied (as an
    /// extractor links to whatever the target is at that moment). `None` for a hard link
    /// whose target did not exist or was not a regular file then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_body: Option<Body>,
}

/// Where a regular file's bytes are: the layer and the entry that wrote them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Body {
    pub layer: usize,
    /// Position of the entry in the layer's [`LayerIndex::entries`].
    pub entry: usize,
    /// The path that entry wrote.
    pub path: String,
}

/// Why a path could not be followed to a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkError {
    /// The path, or a link's target, does not exist.
    Missing,
    /// More than 40 symbolic links were followed (a loop).
    Loop,
    /// It ends at a directory.
    NotAFile,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkError::Missing => "its target does not exist",
            LinkError::Loop => "it is a symbolic link loop (more than 40 links)",
            LinkError::NotAFile => "it leads to a directory or a special file",
        })
    }
}

/// A path that reaches a body through at least one link (a symbolic or hard link, or a
/// linked directory above it), as [`FileView::for_each_link_path`] finds them.
#[derive(Debug, Clone, Copy)]
pub struct LinkPath<'a> {
    /// The path a container opens.
    pub path: &'a str,
    /// The latest layer among the links and the body: the first layer in which the path
    /// reaches this body.
    pub layer: usize,
    /// The body it reaches, or why it reaches none.
    pub body: Result<(usize, usize, &'a str), LinkError>,
}

/// Most paths [`FileView::for_each_link_path`] visits below linked directories, so a
/// crafted tree of directory links cannot make it run for ever.
pub const MAX_LINK_PATHS: usize = 1 << 20;

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
        for (position, entry) in index.entries.iter().enumerate() {
            let link_body = match &entry.kind {
                EntryKind::Hardlink { target } => self.hardlink_body(target),
                _ => None,
            };
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
            self.nodes
                .insert(entry.path.clone(), Node { entry: entry.clone(), layer, replaced, index: position, link_body });
        }
    }

    /// The body a hard link to `target` gets now: the target's own body if it is a regular
    /// file, the body of a hard link it is. Symbolic links in the target's parents are
    /// followed, as link(2) does; a symbolic link as the target itself is not.
    fn hardlink_body(&self, target: &str) -> Option<Body> {
        let found = match self.nodes.get_key_value(target) {
            Some((k, n)) => Some((k.clone(), n)),
            None => {
                let (parent, name) = target.rsplit_once('/')?;
                let dir = self.resolve_dir_path(parent)?;
                let p = if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") };
                self.nodes.get(&p).map(|n| (p, n))
            }
        };
        let (path, node) = found?;
        match &node.entry.kind {
            EntryKind::File => Some(Body { layer: node.layer, entry: node.index, path }),
            EntryKind::Hardlink { .. } => node.link_body.clone(),
            _ => None,
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
        self.resolve_inner(path).ok()
    }

    fn resolve_inner(&self, path: &str) -> Result<(String, &Node), LinkError> {
        let here = self.follow_symlinks(path)?;
        match self.nodes.get(&here) {
            Some(node) => Ok((here, node)),
            // A directory nobody listed but that has children is there in a container.
            None if self.has_children(&here) || here.is_empty() => Err(LinkError::NotAFile),
            None => Err(LinkError::Missing),
        }
    }

    /// The body a container reads at `path`: symbolic links resolved in every component,
    /// and a hard link replaced by the body it pointed at when it was written (not
    /// whatever its target path holds later: a later entry of the same path does not
    /// change an existing link).
    pub fn resolve_body(&self, path: &str) -> Result<Body, LinkError> {
        let (p, node) = self.resolve_inner(path)?;
        match &node.entry.kind {
            EntryKind::File => Ok(Body { layer: node.layer, entry: node.index, path: p }),
            EntryKind::Hardlink { .. } => node.link_body.clone().ok_or(LinkError::Missing),
            _ => Err(LinkError::NotAFile),
        }
    }

    /// The regular-file node that holds the content for `path`, when that content is
    /// still the final copy at its own path (see [`FileView::resolve_body`] for bodies a
    /// hard link keeps alive after their path was rewritten).
    pub fn resolve_file(&self, path: &str) -> Option<(String, &Node)> {
        let body = self.resolve_body(path).ok()?;
        let node = self.nodes.get(&body.path)?;
        (node.layer == body.layer && node.index == body.entry).then_some((body.path, node))
    }

    /// What analyzer `id` found in the body a container reads at `path` (see
    /// [`crate::FileAnalyzer`]): read at the body's own path, or, when the analyzer
    /// only wants `path`, read again under `path` (see [`crate::LinkRequest`]).
    pub fn analysis<'a>(
        &self,
        layers: &'a [impl AsRef<LayerIndex>],
        id: &str,
        path: &str,
    ) -> Option<&'a serde_json::Value> {
        let body = self.resolve_body(path).ok()?;
        let layer = layers.get(body.layer)?.as_ref();
        layer
            .analysis_of(body.entry, id)
            .or_else(|| layer.linked_read(body.entry, path.trim_start_matches('/'))?.analyses.get(id))
    }

    /// The captured content (see [`crate::Capture`]) of the body a container reads
    /// at `path`, following links as [`FileView::analysis`] does.
    pub fn read_captured<'a>(&self, layers: &'a [impl AsRef<LayerIndex>], path: &str) -> Option<&'a [u8]> {
        let body = self.resolve_body(path).ok()?;
        let layer = layers.get(body.layer)?.as_ref();
        layer.captured_of(body.entry).or_else(|| {
            let read = layer.linked_read(body.entry, path.trim_start_matches('/'))?;
            read.captured.as_ref().map(|c| c.0.as_slice())
        })
    }

    /// Calls `f` for every path of the final view that reaches its content through a link:
    /// each symbolic or hard link, and each path below a symbolic link to a directory
    /// (nested ones too), with the body it reaches. Returns `false` when it stopped at
    /// [`MAX_LINK_PATHS`] paths below linked directories.
    pub fn for_each_link_path(&self, mut f: impl FnMut(LinkPath<'_>)) -> bool {
        // (logical prefix, real directory, latest layer, depth)
        let mut dirs: Vec<(String, String, usize, usize)> = Vec::new();
        for (path, node) in &self.nodes {
            if !matches!(node.entry.kind, EntryKind::Symlink { .. } | EntryKind::Hardlink { .. }) {
                continue;
            }
            self.visit_link(path, node.layer, 0, &mut f, &mut dirs);
        }
        let mut visited = 0usize;
        let mut logical = String::new();
        while let Some((prefix, real, layer, depth)) = dirs.pop() {
            for (key, node) in self.children_range(&real) {
                visited += 1;
                if visited > MAX_LINK_PATHS {
                    return false;
                }
                logical.clear();
                logical.push_str(&prefix);
                logical.push_str(&key[real.len()..]);
                let layer = layer.max(node.layer);
                match &node.entry.kind {
                    EntryKind::File => f(LinkPath { path: &logical, layer, body: Ok((node.layer, node.index, key)) }),
                    EntryKind::Dir => {}
                    EntryKind::Symlink { .. } | EntryKind::Hardlink { .. } => {
                        let l = logical.clone();
                        self.visit_link(&l, layer, depth + 1, &mut f, &mut dirs);
                    }
                }
            }
        }
        true
    }

    /// One link path: reports it, and queues the directory it leads to, if any.
    fn visit_link(
        &self,
        path: &str,
        layer: usize,
        depth: usize,
        f: &mut impl FnMut(LinkPath<'_>),
        dirs: &mut Vec<(String, String, usize, usize)>,
    ) {
        match self.resolve_inner(path) {
            Ok((real, node)) if matches!(node.entry.kind, EntryKind::Dir) => {
                if depth < MAX_SYMLINKS && !path.starts_with(&format!("{real}/")) && !real.is_empty() {
                    dirs.push((path.to_owned(), real, layer.max(node.layer), depth));
                }
            }
            Err(LinkError::NotAFile) => {
                // An implicit directory (or the root): expand it if it has children.
                let real = self.resolve_dir_path(path);
                if let Some(real) = real
                    && depth < MAX_SYMLINKS
                    && !real.is_empty()
                    && !path.starts_with(&format!("{real}/"))
                {
                    dirs.push((path.to_owned(), real, layer, depth));
                }
            }
            _ => match self.resolve_body(path) {
                Ok(b) => {
                    let layer = layer.max(b.layer);
                    f(LinkPath { path, layer, body: Ok((b.layer, b.entry, &b.path)) })
                }
                Err(e) => f(LinkPath { path, layer, body: Err(e) }),
            },
        }
    }

    /// The real path of an implicit directory `path` resolves to.
    fn resolve_dir_path(&self, path: &str) -> Option<String> {
        self.follow_symlinks(path).ok()
    }

    /// `path` with symlinks followed in every component, as the kernel would inside a
    /// chroot at the image root: `..` never leaves the root, loops stop after 40 links.
    /// A missing component is an implicit directory (tars need not list parents, and
    /// runtimes create them); whether the final path exists is the caller's question.
    fn follow_symlinks(&self, path: &str) -> Result<String, LinkError> {
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
            if let Some(EntryKind::Symlink { target }) = self.nodes.get(&here).map(|n| &n.entry.kind) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(LinkError::Loop);
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                pending.extend(components(target).rev().map(str::to_owned));
            }
        }
        Ok(done.join("/"))
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compression;

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

    fn hard(t: &str) -> EntryKind {
        EntryKind::Hardlink { target: t.into() }
    }

    fn body(layer: usize, entry: usize, path: &str) -> Body {
        Body { layer, entry, path: path.into() }
    }

    #[test]
    fn a_hard_link_keeps_the_body_it_pointed_at() {
        // Same layer: x, y linked to it, then x rewritten (issue 10's example).
        let l0 = layer(&[("x", file()), ("y", hard("x")), ("x", file())], &[], &[]);
        // Across layers: z links the second x, w links y (so the first x); layer 2 rewrites x.
        let l1 = layer(&[("z", hard("x")), ("w", hard("y")), ("d", link("sub")), ("sub/f", file())], &[], &[]);
        let l2 = layer(&[("x", file()), ("via", hard("d/f")), ("dangling", hard("nothing"))], &[], &[]);
        let v = FileView::build([&l0, &l1, &l2]);
        assert_eq!(v.resolve_body("y"), Ok(body(0, 0, "x")));
        assert_eq!(v.resolve_body("z"), Ok(body(0, 2, "x")));
        assert_eq!(v.resolve_body("w"), Ok(body(0, 0, "x")));
        assert_eq!(v.resolve_body("/x"), Ok(body(2, 0, "x")));
        // Symbolic links in the target's parents are followed, as link(2) does.
        assert_eq!(v.resolve_body("via"), Ok(body(1, 3, "sub/f")));
        assert_eq!(v.resolve_body("dangling"), Err(LinkError::Missing));
        // The body of y is no longer the final copy at its own path.
        assert!(v.resolve_file("y").is_none());
        assert_eq!(v.resolve_file("x").map(|(p, n)| (p, n.layer)), Some(("x".into(), 2)));
    }

    #[test]
    fn link_paths_cover_links_and_linked_directories() {
        let l0 = layer(
            &[
                ("srv", dir()),
                ("srv/db", dir()),
                ("srv/db/status", file()),
                ("srv/db/info", link("nested")),
                ("srv/db/nested", dir()),
                ("srv/db/nested/a.list", file()),
                ("hl", hard("srv/db/status")),
                ("loop", link("loop")),
                ("self", link(".")),
                ("up", link("..")),
            ],
            &[],
            &[],
        );
        let l1 = layer(&[("var/lib/dpkg", link("/srv/db")), ("etc/os-release", link("../srv/db/status"))], &[], &[]);
        let v = FileView::build([&l0, &l1]);
        let mut seen = Vec::new();
        let complete = v.for_each_link_path(|lp| {
            seen.push((lp.path.to_owned(), lp.layer, lp.body.map(|(l, e, p)| (l, e, p.to_owned()))));
        });
        assert!(complete);
        seen.sort();
        let ok = |p: &str, layer, e, body: &str| (p.to_owned(), layer, Ok((0, e, body.to_owned())));
        assert_eq!(
            seen,
            [
                ok("etc/os-release", 1, 2, "srv/db/status"),
                ok("hl", 0, 2, "srv/db/status"),
                ("loop".to_owned(), 0, Err(LinkError::Loop)),
                ok("srv/db/info/a.list", 0, 5, "srv/db/nested/a.list"),
                ok("var/lib/dpkg/info/a.list", 1, 5, "srv/db/nested/a.list"),
                ok("var/lib/dpkg/nested/a.list", 1, 5, "srv/db/nested/a.list"),
                ok("var/lib/dpkg/status", 1, 2, "srv/db/status"),
            ]
        );
    }
}
