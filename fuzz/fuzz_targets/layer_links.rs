//! The layer walker's handling of paths written twice and of links (issue 10, items 1
//! and 2), on tars generated from the input: a few layers of files, hard links, symbolic
//! links, directories and whiteouts over a small set of paths, so rewrites and links
//! collide often. Checks, against a model of what an extractor (GNU tar, umoci) leaves:
//!
//! - every regular-file body of every layer was analysed, whatever came after it;
//! - a hard link resolves to the body its target held when the link entry was applied;
//! - link paths are enumerated in bounded time, each with a body that exists or a reason;
//! - a second, targeted read finds the same bytes at the same entry as the first.

#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use bulwark_image::layer::{self, EntryKind, Expected, LayerIndex, LinkRequest};
use bulwark_image::view::{Body, FileView};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const PATHS: &[&str] = &[
    "a",
    "b",
    "d",
    "d/x",
    "d/y",
    "etc/os-release",
    "var/lib/dpkg/status",
    "var/lib/dpkg",
    "usr/lib/os-release",
    "e/../a",
];

const TARGETS: &[&str] = &["a", "b", "d", "d/x", "/d/y", "../a", "usr/lib/os-release", "d/..", "missing", "."];

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h
}

/// Layers from the input: two bytes per member; kind 6 starts a new layer.
fn layers_from(data: &[u8]) -> Vec<Vec<u8>> {
    let mut layers = Vec::new();
    let mut b = tar::Builder::new(Vec::new());
    for op in data.chunks_exact(2).take(64) {
        let (k, arg) = (op[0] % 7, op[1]);
        let path = PATHS[(op[0] / 7) as usize % PATHS.len()];
        let target = TARGETS[arg as usize % TARGETS.len()];
        let _ = match k {
            0 | 1 => {
                // Content unique per member: the layer, the op's bytes.
                let content = format!("{}:{}:{}", layers.len(), op[0], arg).into_bytes();
                b.append_data(&mut header(tar::EntryType::Regular, content.len() as u64), path, &content[..])
            }
            2 => b.append_link(&mut header(tar::EntryType::Link, 0), path, target),
            3 => b.append_link(&mut header(tar::EntryType::Symlink, 0), path, target),
            4 => b.append_data(&mut header(tar::EntryType::Directory, 0), path, &[][..]),
            5 => {
                let (dir, name) = path.rsplit_once('/').map_or((String::new(), path), |(d, n)| (format!("{d}/"), n));
                b.append_data(&mut header(tar::EntryType::Regular, 0), format!("{dir}.wh.{name}"), &[][..])
            }
            _ => {
                layers.push(std::mem::replace(&mut b, tar::Builder::new(Vec::new())).into_inner().unwrap());
                Ok(())
            }
        };
    }
    layers.push(b.into_inner().unwrap());
    layers.truncate(4);
    layers
}

fuzz_target!(|data: &[u8]| {
    let opts = common::options();
    let limits = common::limits();
    let mut indexes = Vec::new();
    for tar in layers_from(data) {
        let Ok(ix) =
            layer::analyze_layer(&tar[..], &Expected { name: "fuzz".into(), ..Expected::default() }, &opts, &limits, &mut |_| {})
        else {
            return;
        };
        common::check_index(&ix);
        // Every body was analysed by `head`, which wants every file: found by entry.
        for (i, e) in ix.entries.iter().enumerate() {
            if e.kind == EntryKind::File && e.size > 0 {
                assert!(ix.analysis_of(i, "head").is_some(), "body of entry {i} ({:?}) lost", e.path);
            }
        }
        for r in &ix.replaced {
            let e = &ix.entries[r.entry];
            assert!(e.path == r.path && e.kind == EntryKind::File, "replaced copy {r:?} is not its entry");
            assert!(ix.entries[r.entry + 1..].iter().any(|l| l.path == r.path), "{:?} was not replaced", r.path);
        }
        indexes.push((tar, Arc::new(ix)));
    }
    let layers: Vec<Arc<LayerIndex>> = indexes.iter().map(|(_, ix)| Arc::clone(ix)).collect();
    let view = FileView::build(layers.iter().map(|l| l.as_ref()));
    common::check_view(&layers);

    // The model: per path, the body an extractor leaves there, applying each layer's
    // whiteouts first (as the view does), then its entries in order. Hard links whose
    // target is not exactly a path of the model are left out of the comparison.
    let mut model: BTreeMap<String, Option<Body>> = BTreeMap::new();
    for (l, ix) in layers.iter().enumerate() {
        for w in ix.whiteouts.iter().chain(&ix.opaque_dirs) {
            model.retain(|p, _| !(p == w || p.starts_with(&format!("{w}/")) || w.is_empty()));
        }
        for (i, e) in ix.entries.iter().enumerate() {
            let body = match &e.kind {
                EntryKind::File => Some(Body { layer: l, entry: i, path: e.path.clone() }),
                EntryKind::Hardlink { target } => match model.get(target) {
                    Some(b) => b.clone(),
                    None => {
                        model.remove(&e.path);
                        continue;
                    }
                },
                _ => None,
            };
            model.insert(e.path.clone(), body);
        }
    }
    for (path, node) in view.iter() {
        if let (Some(Some(want)), EntryKind::Hardlink { .. }) = (model.get(path), &node.entry.kind) {
            assert_eq!(node.link_body.as_ref(), Some(want), "hard link {path:?}");
        }
        if let Ok(b) = view.resolve_body(path) {
            let e = &layers[b.layer].entries[b.entry];
            assert!(e.kind == EntryKind::File && e.path == b.path, "{path:?} resolves to {b:?}, not a file entry");
        }
    }

    // Link paths: bounded, each body a file entry; a targeted second read of its layer
    // sees the same bytes (the `head` analyzer's result) at the same entry.
    let mut requests: BTreeMap<usize, Vec<LinkRequest>> = BTreeMap::new();
    let mut count = 0usize;
    view.for_each_link_path(|lp| {
        count += 1;
        if let Ok((l, e, p)) = lp.body {
            let entry = &layers[l].entries[e];
            assert!(entry.kind == EntryKind::File && entry.path == p);
            if entry.size > 0 {
                let r = LinkRequest { entry: e, path: lp.path.to_owned(), analyzers: vec!["head".into()], capture: false };
                requests.entry(l).or_default().push(r);
            }
        }
    });
    assert!(count <= bulwark_image::view::MAX_LINK_PATHS + 64 * 4);
    for (l, reqs) in requests {
        let (tar, ix) = &indexes[l];
        let expected = Expected { diff_id: ix.diff_id.clone(), ..Expected::default() };
        let reads = layer::read_linked_bodies(&tar[..], &expected, &reqs, &opts, &limits).expect("same blob reads again");
        assert_eq!(reads.len(), reqs.len());
        for r in reads {
            assert_eq!(r.analyses.get("head"), ix.analysis_of(r.entry, "head"), "entry {} read again differs", r.entry);
        }
    }
});
