//! Which leading layers belong to the base image (`docs/misconfig.md`).

use super::*;

/// The base image's share of an image's layers, and how it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseLayers {
    /// Layers `0..count` belong to the base image.
    pub count: usize,
    pub rule: BaseRule,
}

/// Which rule of [`base_layers`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseRule {
    /// Everything before the last `CMD`/`ENTRYPOINT` step that is followed by a layer.
    BaseCmd,
    /// The leading root-filesystem `ADD` layers (`ADD file:… in /`, `ADD rootfs.tar.gz /`).
    Rootfs,
    /// No history marker, but the first layer is a distribution's root filesystem (it holds
    /// an `os-release`), e.g. `docker import` of a debootstrap tree: that layer is the base.
    DistroRootfs,
    /// No marker of a base image: every layer is the image's own (`FROM scratch`).
    NoBase,
}

/// Decides which leading layers come from the base image, from the config's history (see
/// `docs/misconfig.md`). `None` when there is no config (`dir:`) or its history does not
/// line up with the layers.
pub fn base_layers(image: &dyn AnalyzedImage) -> Option<BaseLayers> {
    let cfg = image.config()?;
    let found = base_layers_in(&cfg.history, image.layers().len())?;
    let distro_rootfs = image
        .layers()
        .first()
        .is_some_and(|l| l.entries.iter().any(|e| matches!(e.path.as_str(), "etc/os-release" | "usr/lib/os-release")));
    if found.rule == BaseRule::NoBase && distro_rootfs {
        return Some(BaseLayers { count: 1, rule: BaseRule::DistroRootfs });
    }
    Some(found)
}

/// [`base_layers`] over a history and a layer count (for callers holding only a config).
pub fn base_layers_in(history: &[History], layers: usize) -> Option<BaseLayers> {
    if history.iter().filter(|h| !h.empty_layer).count() != layers {
        return None;
    }
    // Layers created before each history entry.
    let mut before = Vec::with_capacity(history.len());
    let mut n = 0;
    for h in history {
        before.push(n);
        n += usize::from(!h.empty_layer);
    }
    let boundary = history.iter().enumerate().rev().find(|(i, h)| {
        let ins = Step::parse(h.created_by.as_deref().unwrap_or("")).instruction;
        matches!(ins, "CMD" | "ENTRYPOINT") && before[*i] < layers && (h.empty_layer || before[*i] + 1 < layers)
    });
    if let Some((i, h)) = boundary {
        return Some(BaseLayers { count: before[i] + usize::from(!h.empty_layer), rule: BaseRule::BaseCmd });
    }
    let mut count = 0;
    for h in history {
        let step = Step::parse(h.created_by.as_deref().unwrap_or(""));
        if h.empty_layer {
            continue;
        }
        if step.instruction == "ADD" && is_rootfs_add(step.args) {
            count += 1;
        } else {
            break;
        }
    }
    let rule = if count > 0 { BaseRule::Rootfs } else { BaseRule::NoBase };
    Some(BaseLayers { count, rule })
}

/// `file:<hash> in /` (classic builder) or `<something>.tar[.gz|.xz|…] /` (BuildKit).
pub(super) fn is_rootfs_add(args: &str) -> bool {
    let words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
    match words.as_slice() {
        [src, "in", "/"] => src.starts_with("file:"),
        [src, "/"] => {
            let src = src.to_ascii_lowercase();
            [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst"].iter().any(|e| src.ends_with(e))
        }
        _ => false,
    }
}
