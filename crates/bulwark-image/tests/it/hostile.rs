//! Hostile and broken images: each gets a clear error (or, for odd entries that a runtime
//! would also accept, a warning), never a panic, and nothing is written outside temp dirs.

use bulwark_testkit::image as fixture;
use bulwark_testkit::registry as harness;

use std::io::{self, Read, Write};

use bulwark_core::{Digest, Reference};
use bulwark_image::layer::{AnalyzeOptions, Expected, analyze_layer};
use bulwark_image::spec::Compression;
use bulwark_image::{Error, LimitKind, Limits, NoCache, NoProgress, ReadOptions, read_image};
use fixture::*;

fn read_layout(layers: &[Layer], limits: Limits) -> Result<bulwark_image::Image, Error> {
    let built = build(layers, "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    read_image(&r, &ReadOptions { limits, ..Default::default() }, &NoCache, &NoProgress)
}

#[test]
fn path_traversal_entries_are_clamped_to_the_root_with_a_warning() {
    let layer = Layer {
        compression: Compression::Gzip,
        items: vec![
            Item::RawFile(b"../../../../etc/evil".to_vec(), b"x".to_vec()),
            Item::RawFile(b"/abs/path".to_vec(), b"y".to_vec()),
            Item::RawFile(b"a/../../b".to_vec(), b"z".to_vec()),
        ],
    };
    let image = read_layout(&[layer], Limits::default()).unwrap();
    let paths: Vec<&str> = image.view.iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["abs/path", "b", "etc/evil"]);
    let climbing = image.warnings.iter().filter(|w| w.message.contains("climbs above the image root")).count();
    assert_eq!(climbing, 2, "{:?}", image.warnings);
}

#[test]
fn symlinks_pointing_outside_resolve_inside() {
    let layer = Layer {
        compression: Compression::Gzip,
        items: vec![
            dir("etc"),
            file("etc/shadow", "inside"),
            symlink("escape", "../../../../../etc/shadow"),
            symlink("etc/loop", "/etc/loop"),
            Item::RawFile(b"escape/../../x".to_vec(), b"x".to_vec()),
        ],
    };
    let image = read_layout(&[layer], Limits::default()).unwrap();
    let (path, _) = image.view.resolve("escape").unwrap();
    assert_eq!(path, "etc/shadow");
    assert!(image.view.resolve("etc/loop").is_none());
    // Tar entries are never resolved through symlinks: the view stores names as written.
    assert!(image.view.get("x").is_some());
}

/// A gzip stream of a tar holding one file of `size` zero bytes, produced on the fly.
fn zero_bomb(size: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    io::copy(&mut io::repeat(0).take(size + 1024), &mut gz).unwrap();
    gz.finish().unwrap()
}

#[test]
fn gzip_bomb_is_stopped_by_the_ratio_limit() {
    let blob = zero_bomb(256 << 20);
    assert!(blob.len() < 1 << 20, "the bomb is small: {}", blob.len());
    let expected = Expected { name: "bomb".into(), ..Default::default() };
    let err =
        analyze_layer(&blob[..], &expected, &AnalyzeOptions::default(), &Limits::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::LayerLimit { kind: LimitKind::CompressionRatio, .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("compression ratio above 200:1"), "{err}");
    // And by the absolute size limit when the ratio allows it.
    let limits = Limits { max_layer_bytes: 64 << 20, max_compression_ratio: u64::MAX, ..Limits::default() };
    let err = analyze_layer(&blob[..], &expected, &AnalyzeOptions::default(), &limits, &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::LayerLimit { kind: LimitKind::LayerBytes, .. }), "{err:?}");
    assert!(err.to_string().contains("uncompressed size exceeds the limit"), "{err}");
}

#[test]
fn truncated_blob_names_the_blob() {
    let built =
        build(&[Layer { compression: Compression::Gzip, items: vec![file("a", &"x".repeat(100_000))] }], "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let (digest, _, _) = &built.layers[0];
    let path = tmp.path().join("blobs/sha256").join(digest.hex());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let err = read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_err().to_string();
    assert!(err.contains(&digest.to_string()), "{err}");
    assert!(err.contains("truncated") || err.contains("size mismatch"), "{err}");
}

#[test]
fn wrong_diff_id_and_wrong_blob_digest_are_errors() {
    let built = build(&[Layer { compression: Compression::Gzip, items: vec![file("a", "a")] }], "amd64");
    let (digest, diff_id, tar) = &built.layers[0];
    let blob = &built.blobs[digest];
    let opts = AnalyzeOptions::default();
    let limits = Limits::default();
    let wrong = Digest::sha256_of(b"something else");
    let e = Expected {
        name: digest.to_string(),
        blob_digest: Some(digest.clone()),
        blob_size: Some(blob.len() as u64),
        diff_id: Some(wrong.clone()),
        compression: Some(Compression::Gzip),
    };
    let err = analyze_layer(&blob[..], &e, &opts, &limits, &mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch { expected, actual, .. } if *expected == wrong && actual == diff_id),
        "{err}"
    );
    let e = Expected { blob_digest: Some(wrong.clone()), diff_id: Some(diff_id.clone()), ..e };
    let err = analyze_layer(&blob[..], &e, &opts, &limits, &mut |_| {}).unwrap_err();
    assert!(matches!(&err, Error::DigestMismatch { actual, .. } if actual == digest), "{err}");
    assert!(err.to_string().contains("layer blob"), "{err}");
    // Extra bytes after the declared size are an error too.
    let mut longer = blob.clone();
    longer.extend_from_slice(b"trailing");
    let e = Expected { blob_digest: Some(digest.clone()), ..e };
    let err = analyze_layer(&longer[..], &e, &opts, &limits, &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { .. }), "{err}");
    // The uncompressed tar read as if it were the blob: the media type says gzip.
    let err = analyze_layer(&tar[..], &Expected { blob_size: None, ..e }, &opts, &limits, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains(&digest.to_string()), "{err}");
}

#[test]
fn wrong_layer_digest_from_a_hostile_registry() {
    let built = build(&[Layer { compression: Compression::Gzip, items: vec![file("a", "a")] }], "amd64");
    let (layer_digest, _, _) = built.layers[0].clone();
    let wanted = layer_digest.clone();
    let blobs = built.blobs.clone();
    let manifest = built.manifest.clone();
    let server = harness::TestServer::start(move |req| {
        let path = req.path().to_owned();
        if path == "/v2/" {
            return harness::Reply::new(200);
        }
        if path.starts_with("/v2/evil/manifests/") {
            return harness::Reply::new(200)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .body(manifest.clone());
        }
        let Some(d) = path.strip_prefix("/v2/evil/blobs/") else { return harness::Reply::new(404) };
        let d: Digest = d.parse().unwrap();
        let mut body = blobs[&d].clone();
        if d == layer_digest {
            // Same length, one byte changed: only the digest check can notice.
            let n = body.len();
            body[n - 9] ^= 0xff;
        }
        harness::Reply::new(200).body(body)
    });
    let r: Reference = format!("{}/evil:1", server.host()).parse().unwrap();
    let err = read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&wanted.to_string()), "{msg}");
    assert!(matches!(err, Error::DigestMismatch { .. } | Error::Layer { .. }), "{msg}");
}

#[test]
fn manifest_over_the_size_limit() {
    let built = build(&[Layer { compression: Compression::Gzip, items: vec![file("a", "a")] }], "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let limits = Limits { max_manifest_bytes: 100, ..Limits::default() };
    let err = read_image(&r, &ReadOptions { limits, ..Default::default() }, &NoCache, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::TooLarge { kind: LimitKind::ManifestBytes, .. }), "{err}");
    // Same through a tarred layout.
    let archive = tmp.path().with_extension("tar");
    tar_dir(tmp.path(), &archive);
    let r: Reference = format!("oci-archive:{}", archive.display()).parse().unwrap();
    let limits = Limits { max_manifest_bytes: 100, ..Limits::default() };
    let err = read_image(&r, &ReadOptions { limits, ..Default::default() }, &NoCache, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// A tar of `n` empty files, generated as it is read (512 MB for a million entries
/// would be wasteful to hold).
struct ManyEntries {
    n: u64,
    i: u64,
    block: Vec<u8>,
    pos: usize,
    trailer: usize,
}

impl Read for ManyEntries {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.block.len() {
            if self.i < self.n {
                let mut h = tar::Header::new_ustar();
                h.set_path(format!("d/{}", self.i)).unwrap();
                h.set_size(0);
                h.set_mode(0o644);
                h.set_cksum();
                self.block = h.as_bytes().to_vec();
                self.i += 1;
            } else if self.trailer < 2 {
                self.block = vec![0; 512];
                self.trailer += 1;
            } else {
                return Ok(0);
            }
            self.pos = 0;
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_million_empty_entries_hit_the_entry_limit() {
    let many = ManyEntries { n: 1_000_000, i: 0, block: vec![], pos: 0, trailer: 0 };
    let expected = Expected { name: "many".into(), compression: Some(Compression::None), ..Default::default() };
    let err = analyze_layer(many, &expected, &AnalyzeOptions::default(), &Limits::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::LayerLimit { kind: LimitKind::Entries, .. }), "{err:?}");
    assert!(err.to_string().contains("more than 500000 tar entries"), "{err}");
    // Under the limit the same stream is fine.
    let few = ManyEntries { n: 10_000, i: 0, block: vec![], pos: 0, trailer: 0 };
    let ix = analyze_layer(few, &expected, &AnalyzeOptions::default(), &Limits::default(), &mut |_| {}).unwrap();
    assert_eq!(ix.entries.len(), 10_000);
}

#[test]
fn schema1_and_artifacts_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let schema1 = br#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#;
    let d = Digest::sha256_of(schema1);
    std::fs::create_dir_all(tmp.path().join("blobs/sha256")).unwrap();
    std::fs::write(tmp.path().join("blobs/sha256").join(d.hex()), schema1).unwrap();
    std::fs::write(tmp.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "", "digest": d.to_string(), "size": schema1.len()}]});
    std::fs::write(tmp.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let r: Reference = format!("oci:{}", tmp.path().display()).parse().unwrap();
    let err = read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::Schema1 { .. }), "{err}");
    // The advice (re-push with a current client) is the CLI's, from the variant (hints.rs).
    assert!(err.to_string().contains("schema 1 is unsupported"), "{err}");
}

#[test]
fn broken_docker_archive_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("not-an-image.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    b.append_data(&mut h, "hello.txt", &b"hi\n"[..]).unwrap();
    b.finish().unwrap();
    let r: Reference = format!("docker-archive:{}", path.display()).parse().unwrap();
    let err = read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("no manifest.json"), "{err}");
    // A docker archive whose layer does not match the config's diff_id.
    let mut built = build(&[Layer { compression: Compression::None, items: vec![file("a", "a")] }], "amd64");
    built.layers[0].2 = tar_bytes(&[file("a", "b")]);
    let path = tmp.path().join("mismatch.tar");
    write_docker_archive(&path, &built, "x:1");
    let r: Reference = format!("docker-archive:{}", path.display()).parse().unwrap();
    let err = read_image(&r, &ReadOptions::default(), &NoCache, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("diff_id of layer") && err.contains("layer.tar"), "{err}");
}

#[test]
fn oversized_pax_record_is_refused_before_it_is_held_in_memory() {
    // The tar reader holds a PAX record whole; an 8 MiB one (a 1 GiB one compresses to a
    // few MB) must be stopped at the header limit, not read into memory.
    let record_len = 8 << 20;
    let mut pax = tar::Header::new_ustar();
    pax.set_entry_type(tar::EntryType::XHeader);
    pax.set_path("PaxHeaders/x").unwrap();
    pax.set_size(record_len);
    pax.set_mode(0o644);
    pax.set_cksum();
    let mut blob = pax.as_bytes().to_vec();
    blob.extend(std::iter::repeat_n(b'a', record_len as usize));
    blob.extend_from_slice(&[0u8; 1024]);
    let expected = Expected { name: "pax".into(), compression: Some(Compression::None), ..Default::default() };
    let err = analyze_layer(&blob[..], &expected, &AnalyzeOptions::default(), &Limits::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("tar extension headers") && err.contains("pax"), "{err}");
    // Large files are still fine: only headers are capped.
    let big = tar_bytes(&[Item::File("big".into(), vec![7u8; 3 << 20]), file("after", "x")]);
    let ix = analyze_layer(&big[..], &expected, &AnalyzeOptions::default(), &Limits::default(), &mut |_| {}).unwrap();
    assert_eq!(ix.entries.len(), 2);
}

/// An image of `layers` layers, each holding one captured file of `size` bytes (its own
/// content, so every layer is a distinct blob): each layer's results fit its own budget,
/// all of them together may not.
fn captured_layers(layers: usize, size: usize) -> Vec<Layer> {
    (0..layers)
        .map(|i| Layer {
            compression: Compression::Gzip,
            items: vec![dir("etc"), Item::File("etc/keep".into(), vec![b'a' + i as u8; size])],
        })
        .collect()
}

/// Read options that capture `etc/keep`, with a per-layer budget of `layer` bytes and an
/// image-wide one of `image` bytes.
fn budgets(layer: u64, image: u64) -> ReadOptions {
    let mut opts = ReadOptions::default();
    opts.analyze.capture.paths.push("etc/keep".into());
    opts.analyze.max_result_bytes = layer;
    opts.limits.max_image_result_bytes = image;
    opts
}

/// A layer cache in memory, to read the same image again from it.
#[derive(Default)]
struct MemoryCache(std::sync::Mutex<std::collections::HashMap<String, bulwark_image::layer::LayerIndex>>);

impl bulwark_image::LayerCache for MemoryCache {
    fn get(&self, key: &str) -> Option<bulwark_image::layer::LayerIndex> {
        self.0.lock().unwrap().get(key).cloned()
    }
    fn put(&self, key: &str, index: &bulwark_image::layer::LayerIndex) {
        self.0.lock().unwrap().insert(key.to_owned(), index.clone());
    }
}

#[test]
fn many_layers_each_within_their_budget_stop_at_the_image_budget() {
    // Issue 10: the per-layer budget bounds one layer, but an image of many layers each
    // just under it kept layers x budget. Eight layers of 8 KB each against a 10 KB layer
    // budget and a 40 KB image budget: every layer fits its own, the image does not.
    let built = build(&captured_layers(8, 8 << 10), "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let oci: Reference = format!("oci:{}:v1", tmp.path().display()).parse().unwrap();
    let archive = tmp.path().join("image.tar");
    write_docker_archive(&archive, &built, "x:1");
    let saved: Reference = format!("docker-archive:{}", archive.display()).parse().unwrap();

    for (reference, jobs) in [(&oci, 1), (&oci, 4), (&saved, 1)] {
        let opts = ReadOptions { jobs, ..budgets(10 << 10, 40 << 10) };
        let err = read_image(reference, &opts, &NoCache, &NoProgress).unwrap_err();
        assert!(matches!(err, Error::LayerLimit { kind: LimitKind::ImageResults, .. }), "{reference}: {err:?}");
        let text = err.to_string();
        assert!(text.contains("over the image-wide limit of 40960 bytes"), "{text}");
    }

    // Raised, the same image reads whole, every layer's file kept.
    let image = read_image(&oci, &budgets(10 << 10, 80 << 10), &NoCache, &NoProgress).unwrap();
    assert!(image.layers.iter().all(|l| l.captured.contains_key("etc/keep")));
    assert!(image.layers.iter().all(|l| l.over_budget.is_empty()));
    let used: u64 = image.layers.iter().map(|l| l.result_bytes()).sum();
    assert!(used > 40 << 10 && used <= 80 << 10, "{used}");
}

#[test]
fn layers_from_the_cache_count_against_the_image_budget() {
    // A warm read keeps what the cache holds: it takes the same budget as a cold read.
    let built = build(&captured_layers(6, 8 << 10), "amd64");
    let tmp = tempfile::tempdir().unwrap();
    write_oci_layout(tmp.path(), &built, "v1");
    let oci: Reference = format!("oci:{}:v1", tmp.path().display()).parse().unwrap();
    let cache = MemoryCache::default();
    read_image(&oci, &budgets(10 << 10, 1 << 20), &cache, &NoProgress).unwrap();
    assert_eq!(cache.0.lock().unwrap().len(), 6);
    let err = read_image(&oci, &budgets(10 << 10, 30 << 10), &cache, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::LayerLimit { kind: LimitKind::ImageResults, .. }), "{err:?}");
    // Each read has its own budget: the failed read did not use up the next one's.
    read_image(&oci, &budgets(10 << 10, 1 << 20), &cache, &NoProgress).unwrap();
}
