//! One image, six sources: an OCI layout, a tarred OCI layout, a `docker save` archive,
//! the real Docker engine (`docker load` of that archive, streamed back over the Engine
//! API), a real registry (Debian's `docker-registry`, pushed with `skopeo`), and the root
//! filesystem the test materialises itself. All must give the same squashed view.

use bulwark_testkit::image as fixture;
use bulwark_testkit::registry as harness;

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Command;
use std::sync::Arc;

use bulwark_core::Reference;
use bulwark_image::layer::{AnalyzeCause, AnalyzeError, AnalyzeOptions, EntryKind, FileAnalyzer};
use bulwark_image::spec::Compression;
use bulwark_image::{Image, NoCache, NoProgress, ReadOptions, read_image};
use fixture::*;

/// The layers: base (gzip), a zstd layer with whiteouts and an opaque directory, and an
/// uncompressed layer that deletes a whole directory.
fn layers() -> Vec<Layer> {
    let long_dir = "usr/share/very-long-directory-name-that-needs-more-than-one-hundred-bytes-in-a-tar-header";
    vec![
        Layer {
            compression: Compression::Gzip,
            items: vec![
                dir("etc"),
                dir("usr"),
                dir("usr/lib"),
                file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
                symlink("etc/os-release", "../usr/lib/os-release"),
                file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                dir("bin"),
                file("bin/app", "#!/bin/sh\necho app\n"),
                hardlink("bin/app2", "bin/app"),
                dir("opt"),
                dir("opt/data"),
                file("opt/data/a", "a"),
                file("opt/data/b", "b"),
                dir("var"),
                dir("var/cache"),
                file("var/cache/old", "old"),
                dir("usr/share"),
                dir(long_dir),
                file(&format!("{long_dir}/gnu-long-name-file.txt"), "gnu"),
                Item::PaxFile(format!("{long_dir}/pax-named-file.txt"), b"pax".to_vec()),
            ],
        },
        Layer {
            compression: Compression::Zstd,
            items: vec![
                dir("opt/data"),
                whiteout("opt/data/a"),
                file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"),
                file("etc/new", "new"),
                dir("var/cache"),
                opaque("var/cache"),
                file("var/cache/fresh", "fresh"),
            ],
        },
        Layer {
            compression: Compression::None,
            // Deleting a directory and re-creating it in the same layer is left out: the
            // Docker engine here (fuse-overlayfs) fails to export such a layer.
            items: vec![whiteout("opt/data"), file("opt/c", "c"), whiteout("bin/app2")],
        },
    ]
}

/// What the view says, in a form every source must agree on: kind, content digest (hard
/// links resolved to their target's content) and symlink targets.
fn summary(image: &Image) -> BTreeMap<String, String> {
    image
        .view
        .iter()
        .map(|(path, node)| {
            let what = match &node.entry.kind {
                EntryKind::Dir => "dir".to_owned(),
                EntryKind::Symlink { target } => format!("symlink {target}"),
                EntryKind::File | EntryKind::Hardlink { .. } => {
                    let (_, f) = image.view.resolve_file(path).expect("file resolves");
                    let first = image.view.analysis(&image.layers, "first-line", path);
                    let length = image.view.analysis(&image.layers, "length", path).expect("length of every file");
                    assert_eq!(length.as_u64(), Some(f.entry.size), "{path}");
                    format!("file {} {first:?}", f.entry.sha256.as_ref().expect("digest asked for"))
                }
            };
            (path.to_owned(), what)
        })
        .collect()
}

/// Records the first line and line count of files under `etc/`.
#[derive(Debug)]
struct FirstLine;

impl FileAnalyzer for FirstLine {
    fn id(&self) -> &'static str {
        "first-line"
    }
    fn version(&self) -> u32 {
        1
    }
    fn wants(&self, path: &str, _size: u64, _mode: u32) -> bool {
        path.starts_with("etc/")
    }
    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        _size: u64,
    ) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let mut text = String::new();
        content.read_to_string(&mut text).map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))?;
        Ok(Some(serde_json::json!({"first": text.lines().next(), "lines": text.lines().count()})))
    }
}

/// Counts the bytes of every file, to check that two analyzers on one file both see it all.
#[derive(Debug)]
struct Length;

impl FileAnalyzer for Length {
    fn id(&self) -> &'static str {
        "length"
    }
    fn version(&self) -> u32 {
        1
    }
    fn wants(&self, _path: &str, _size: u64, _mode: u32) -> bool {
        true
    }
    fn analyze(
        &self,
        path: &str,
        content: &mut dyn Read,
        size: u64,
    ) -> Result<Option<serde_json::Value>, AnalyzeError> {
        let n = std::io::copy(content, &mut std::io::sink()).map_err(|e| AnalyzeCause::io(&e).at(self.id(), path))?;
        if n != size {
            return Err(AnalyzeCause::parse(format!("read {n} of {size} bytes")).at(self.id(), path));
        }
        Ok(Some(n.into()))
    }
}

fn opts() -> ReadOptions {
    ReadOptions {
        analyze: AnalyzeOptions {
            file_digests: true,
            analyzers: vec![Arc::new(FirstLine), Arc::new(Length)],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn read(reference: &str) -> Image {
    let r: Reference = reference.parse().unwrap();
    read_image(&r, &opts(), &NoCache, &NoProgress).unwrap_or_else(|e| panic!("{reference}: {e}"))
}

struct DockerImage(String);

impl Drop for DockerImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

#[test]
fn same_view_from_all_six_sources() {
    let layers = layers();
    let built = build(&layers, "amd64");
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    write_oci_layout(&layout, &built, "v1");
    let archive = tmp.path().join("layout.tar");
    tar_dir(&layout, &archive);
    let save = tmp.path().join("save.tar");
    let tag = format!("bulwark-test/six:{}", std::process::id());
    write_docker_archive(&save, &built, &tag);
    let rootfs = tmp.path().join("rootfs");
    materialize(&layers, &rootfs);

    let registry = harness::RegistryProcess::start(harness::RegistryAuth::None);
    harness::skopeo_push(&layout, "v1", &format!("{}/six:v1", registry.host()), false, None);

    harness::require_tool("docker");
    let out = Command::new("docker").arg("load").arg("-i").arg(&save).output().unwrap();
    assert!(out.status.success(), "docker load: {}", String::from_utf8_lossy(&out.stderr));
    let _cleanup = DockerImage(tag.clone());

    let oci = read(&format!("oci:{}:v1", layout.display()));
    let expected = summary(&oci);
    // The model the test built by hand agrees with the view from the OCI layout.
    assert!(expected.contains_key("opt/c") && !expected.contains_key("opt/data"));
    assert!(!expected.contains_key("opt/data/a") && !expected.contains_key("bin/app2"));
    assert!(expected.contains_key("var/cache/fresh") && !expected.contains_key("var/cache/old"));
    assert!(expected.keys().any(|k| k.ends_with("pax-named-file.txt")));
    assert!(expected.keys().any(|k| k.ends_with("gnu-long-name-file.txt")));

    for reference in [
        format!("oci-archive:{}", archive.display()),
        format!("docker-archive:{}", save.display()),
        format!("docker:{tag}"),
        format!("{}/six:v1", registry.host()),
        format!("dir:{}", rootfs.display()),
    ] {
        let image = read(&reference);
        assert_eq!(summary(&image), expected, "{reference} differs from the OCI layout");
        if !reference.starts_with("dir:") {
            let r = image.resolved.as_ref().unwrap();
            assert_eq!(r.config_digest, built.config_digest, "{reference}");
            let diff_ids: Vec<_> = image.layers.iter().map(|l| l.diff_id.clone().unwrap()).collect();
            let want: Vec<_> = built.layers.iter().map(|l| l.1.clone()).collect();
            assert_eq!(diff_ids, want, "{reference}");
            assert_eq!(r.layers[1].created_by.as_deref(), Some("RUN step 1"), "{reference}");
        }
    }
    // Blob-addressed sources also agree on the manifest digest.
    for reference in [format!("oci-archive:{}", archive.display()), format!("registry:{}/six:v1", registry.host())] {
        let image = read(&reference);
        assert_eq!(image.resolved.unwrap().manifest_digest, Some(built.manifest_digest.clone()), "{reference}");
    }
}

#[test]
fn layer_history_in_the_view() {
    let built = build(&layers(), "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let image = read(&format!("oci:{}", tmp.path().display()));
    let v = &image.view;
    assert_eq!(v.get("etc/passwd").unwrap().layer, 1);
    assert_eq!(v.get("etc/passwd").unwrap().replaced, [0]);
    assert_eq!(v.get("opt/c").unwrap().layer, 2);
    assert!(v.get("opt/data").is_none());
    let removed: BTreeMap<&str, (Vec<usize>, usize)> =
        v.removed().map(|(p, r)| (p, (r.held_in.clone(), r.removed_in))).collect();
    assert_eq!(removed["opt/data/a"], (vec![0], 1));
    assert_eq!(removed["opt/data/b"], (vec![0], 2));
    assert_eq!(removed["opt/data"], (vec![0, 1], 2));
    assert_eq!(removed["var/cache/old"], (vec![0], 1));
    assert_eq!(removed["bin/app2"], (vec![0], 2));
    // Analyzer results follow the same layer logic: etc/passwd's comes from layer 1.
    let passwd = v.analysis(&image.layers, "first-line", "etc/passwd").unwrap();
    assert_eq!(passwd["lines"], 2);
    assert_eq!(image.layers[0].analyses["first-line"]["etc/passwd"]["lines"], 1);
    // os-release is reachable through its symlink, from the layer that wrote it.
    let text = v.read_captured(&image.layers, "etc/os-release").unwrap();
    assert!(text.starts_with(b"ID=debian"));
}

#[test]
fn multi_platform_layout_selects_by_platform() {
    let amd = build(&[Layer { compression: Compression::Gzip, items: vec![file("arch", "amd64")] }], "amd64");
    let arm = build(&[Layer { compression: Compression::Gzip, items: vec![file("arch", "arm64")] }], "arm64");
    let tmp = tempfile::tempdir().unwrap();
    let index_digest = write_multiarch_layout(tmp.path(), &[(&amd, "amd64"), (&arm, "arm64")], "multi");
    for (platform, want) in [("linux/amd64", &amd), ("linux/arm64/v8", &arm)] {
        let r: Reference = format!("oci:{}:multi", tmp.path().display()).parse().unwrap();
        let o = ReadOptions { platform: Some(platform.parse().unwrap()), ..opts() };
        let image = read_image(&r, &o, &NoCache, &NoProgress).unwrap();
        let resolved = image.resolved.unwrap();
        assert_eq!(resolved.manifest_digest.as_ref(), Some(&want.manifest_digest), "{platform}");
        assert_eq!(resolved.index_digest.as_ref(), Some(&index_digest), "{platform}");
    }
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let o = ReadOptions { platform: Some("linux/s390x".parse().unwrap()), ..opts() };
    let err = read_image(&r, &o, &NoCache, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("linux/s390x") && err.contains("linux/amd64, linux/arm64"), "{err}");
    // Selecting by the digest index.json lists works; a digest it does not list is refused.
    let r: Reference = format!("oci:{}@{index_digest}", tmp.path().display()).parse().unwrap();
    let o = ReadOptions { platform: Some("linux/arm64".parse().unwrap()), ..opts() };
    let image = read_image(&r, &o, &NoCache, &NoProgress).unwrap();
    assert_eq!(image.resolved.unwrap().manifest_digest, Some(arm.manifest_digest.clone()));
    let r: Reference = format!("oci:{}@{}", tmp.path().display(), amd.manifest_digest).parse().unwrap();
    let err = read_image(&r, &o, &NoCache, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("no such image"), "{err}");
}

#[test]
fn foreign_layers_are_skipped_with_a_warning() {
    let mut built = build(&[Layer { compression: Compression::Gzip, items: vec![file("app", "app")] }], "amd64");
    // Put a Windows-style foreign base layer under the image; its blob is never fetched.
    let foreign = bulwark_core::Digest::sha256_of(b"windows base layer");
    let mut config: serde_json::Value = serde_json::from_slice(&built.config).unwrap();
    config["rootfs"]["diff_ids"].as_array_mut().unwrap().insert(0, foreign.to_string().into());
    config["history"].as_array_mut().unwrap().insert(0, serde_json::json!({"created_by": "base"}));
    built.config = serde_json::to_vec(&config).unwrap();
    built.config_digest = bulwark_core::Digest::sha256_of(&built.config);
    let mut manifest: serde_json::Value = serde_json::from_slice(&built.manifest).unwrap();
    manifest["config"]["digest"] = built.config_digest.to_string().into();
    manifest["config"]["size"] = built.config.len().into();
    manifest["layers"].as_array_mut().unwrap().insert(
        0,
        serde_json::json!({
            "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "digest": foreign.to_string(),
            "size": 1234,
            "urls": ["https://example.invalid/base.tar.gz"],
        }),
    );
    built.manifest = serde_json::to_vec(&manifest).unwrap();
    built.manifest_digest = bulwark_core::Digest::sha256_of(&built.manifest);
    built.blobs.insert(built.config_digest.clone(), built.config.clone());
    built.blobs.insert(built.manifest_digest.clone(), built.manifest.clone());
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");

    let image = read(&format!("oci:{}", tmp.path().display()));
    assert_eq!(image.layers.len(), 2);
    assert!(image.layers[0].entries.is_empty());
    assert!(image.view.get("app").is_some());
    assert!(
        image.warnings.iter().any(|w| w.message.contains("foreign") && w.message.contains(&foreign.to_string())),
        "{:?}",
        image.warnings
    );
}
