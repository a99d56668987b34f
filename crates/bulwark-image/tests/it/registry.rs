//! The registry client against real components: Debian's `docker-registry` (plain,
//! htpasswd and token auth), images pushed with `skopeo`, plus an in-process hostile
//! server for behaviour no real registry shows.
//!
//! Needs `docker-registry`, `skopeo`, `htpasswd` (apache2-utils) and `openssl`; the tests
//! fail (never skip) when they are missing: run scripts/setup-dev.sh.

use bulwark_testkit::registry as harness;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bulwark_core::{Digest, DockerRef, Platform};
use bulwark_image::source::registry::{self, RegistryOptions};
use bulwark_image::source::{BlobStore, ResolvedImage};
use bulwark_image::{Error, Limits};
use bulwark_registry::Error as RegistryError;
use harness::*;
use serde_json::json;

fn dref(s: &str) -> DockerRef {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn digest(s: &str) -> Digest {
    s.parse().unwrap()
}

/// Options isolated from the machine's own Docker config.
fn isolated_opts(dir: &Path) -> RegistryOptions {
    let config = dir.join("empty-config.json");
    std::fs::write(&config, "{}").unwrap();
    RegistryOptions { docker_config: Some(config), ..Default::default() }
}

fn open(
    r: &str,
    opts: &RegistryOptions,
    platform: Option<&Platform>,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage), Error> {
    registry::open(&dref(r), opts, platform, &Limits::default())
}

fn try_open(r: &str, opts: &RegistryOptions, platform: Option<&Platform>) -> Result<ResolvedImage, Error> {
    open(r, opts, platform).map(|(_, image)| image)
}

fn read_all(store: &dyn BlobStore, desc: &bulwark_image::spec::Descriptor) -> Vec<u8> {
    let mut buf = Vec::new();
    store.open_blob(desc).unwrap().read_to_end(&mut buf).unwrap();
    buf
}

fn assert_image(image: &ResolvedImage, img: &TestImage) {
    assert_eq!(image.manifest_digest, Some(digest(&img.manifest.digest)));
    assert_eq!(image.config_digest, digest(&img.config.digest));
    assert_eq!(image.layers.len(), img.layers.len());
    for (got, want) in image.layers.iter().zip(&img.layers) {
        assert_eq!(got.descriptor.digest, digest(&want.digest));
        assert_eq!(got.descriptor.size(), want.bytes.len() as u64);
        assert_eq!(got.descriptor.media_type, want.media_type);
    }
    let diff_ids: Vec<Digest> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(diff_ids, img.diff_ids.iter().map(|d| digest(d)).collect::<Vec<_>>());
}

fn single_image() -> TestImage {
    build_image(
        "amd64",
        &[
            &[("etc/os-release", b"ID=alpine\nVERSION_ID=3.20.0\n"), ("bin/sh", b"#!fake shell")],
            &[("app/main.py", b"print('hi')\n"), ("app/requirements.txt", b"requests==2.0\n")],
        ],
    )
}

#[test]
fn pushes_with_skopeo_and_reads_back() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let img = single_image();
    let layout = tmp.path().join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", &format!("{}/app:1", reg.host()), false, None);

    let opts = isolated_opts(tmp.path());
    let (store, image) = open(&format!("{}/app:1", reg.host()), &opts, None).unwrap();
    assert_image(&image, &img);
    assert_eq!(image.reference, format!("{}/app:1", reg.host()));
    assert_eq!(image.index_digest, None);
    assert_eq!(image.config.architecture, "amd64");
    assert_eq!(image.layers[1].created_by.as_deref(), Some("RUN step 1 (amd64)"));
    assert!(image.warnings.is_empty(), "{:?}", image.warnings);

    // Layers stream with the right bytes.
    for (layer, want) in image.layers.iter().zip(&img.layers) {
        let bytes = read_all(store.as_ref(), &layer.descriptor);
        assert_eq!(sha256_digest(&bytes), want.digest);
    }

    // By digest.
    let (_, by_digest) = open(&format!("{}/app@{}", reg.host(), img.manifest.digest), &opts, None).unwrap();
    assert_image(&by_digest, &img);

    // Unknown tag and unknown repository.
    for missing in [format!("{}/app:nope", reg.host()), format!("{}/other:1", reg.host())] {
        match try_open(&missing, &opts, None) {
            Err(Error::Registry(RegistryError::NotFound { what, .. })) => assert!(what.contains(&missing), "{what}"),
            other => panic!("{missing}: {other:?}"),
        }
    }
    // An unknown blob.
    let mut desc = image.layers[0].descriptor.clone();
    desc.digest = Digest::sha256_of(b"nothing");
    match store.open_blob(&desc) {
        Err(Error::Registry(RegistryError::NotFound { what, .. })) => {
            assert!(what.contains(&desc.digest.to_string()), "{what}")
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("unknown blob opened"),
    }
}

#[test]
fn multi_arch_index_selects_platform() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let amd = build_image("amd64", &[&[("etc/arch", b"amd64\n")]]);
    let arm = build_image("arm64", &[&[("etc/arch", b"arm64\n")], &[("opt/extra", b"arm only\n")]]);
    let index = build_index(&[("amd64", &amd), ("arm64", &arm)]);
    let layout = tmp.path().join("layout");
    let mut blobs = image_blobs(&amd);
    blobs.extend(image_blobs(&arm));
    blobs.extend([&amd.manifest, &arm.manifest]);
    write_layout(&layout, &blobs, &index, "multi");
    skopeo_push(&layout, "multi", &format!("{}/multi:1", reg.host()), true, None);

    let opts = isolated_opts(tmp.path());
    let r = format!("{}/multi:1", reg.host());
    for (platform, want) in [("arm64", &arm), ("amd64", &amd)] {
        let p = Platform::new("linux", platform, None);
        let (store, image) = open(&r, &opts, Some(&p)).unwrap();
        assert_image(&image, want);
        assert_eq!(image.index_digest, Some(digest(&index.digest)));
        assert_eq!(image.config.architecture, platform);
        let last = image.layers.last().unwrap();
        assert_eq!(sha256_digest(&read_all(store.as_ref(), &last.descriptor)), want.layers.last().unwrap().digest);
    }
    match try_open(&r, &opts, Some(&Platform::new("linux", "s390x", None))) {
        Err(Error::NoMatchingPlatform { wanted, available, .. }) => {
            assert_eq!(wanted, "linux/s390x");
            assert_eq!(available, "linux/amd64, linux/arm64");
        }
        other => panic!("{other:?}"),
    }
}

/// Writes a `docker-credential-test` helper that knows one server.
fn write_helper(dir: &Path, server: &str, user: &str, pass: &str) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server || true\nif [ \"$server\" = \"{server}\" ]; then\n  printf '%s' '{{\"ServerURL\":\"{server}\",\"Username\":\"{user}\",\"Secret\":\"{pass}\"}}'\nelse\n  echo 'credentials not found in native keychain'\n  exit 1\nfi\n"
    );
    let path = dir.join("docker-credential-test");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn basic_auth_with_options_config_and_helper() {
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = htpasswd_file(tmp.path(), "user", "s3cret-pass");
    let reg = RegistryProcess::start(RegistryAuth::Htpasswd(htpasswd));
    let img = single_image();
    let layout = tmp.path().join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", &format!("{}/app:1", reg.host()), false, Some("user:s3cret-pass"));
    let r = format!("{}/app:1", reg.host());

    // Command-line credentials.
    let opts = RegistryOptions {
        username: Some("user".into()),
        password: Some("s3cret-pass".into()),
        ..isolated_opts(tmp.path())
    };
    let (store, image) = open(&r, &opts, None).unwrap();
    assert_image(&image, &img);
    assert_eq!(sha256_digest(&read_all(store.as_ref(), &image.layers[0].descriptor)), img.layers[0].digest);

    // None, and wrong ones; the password never appears in the error.
    for opts in [
        isolated_opts(tmp.path()),
        RegistryOptions {
            username: Some("user".into()),
            password: Some("wrong-pass".into()),
            ..isolated_opts(tmp.path())
        },
    ] {
        match try_open(&r, &opts, None) {
            Err(e @ Error::Registry(RegistryError::Unauthorized { .. })) => {
                let msg = e.to_string();
                assert!(msg.contains(&reg.host()) && !msg.contains("wrong-pass"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }

    // A Docker config with `auths`.
    let config = tmp.path().join("auths.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("user:s3cret-pass");
    std::fs::write(&config, json!({"auths": {reg.host(): {"auth": auth}}}).to_string()).unwrap();
    let opts = RegistryOptions { docker_config: Some(config), ..Default::default() };
    assert_image(&open(&r, &opts, None).unwrap().1, &img);

    // `credsStore` pointing at a helper in a directory of our own (not on PATH).
    let helpers = tmp.path().join("helpers");
    std::fs::create_dir(&helpers).unwrap();
    write_helper(&helpers, &reg.host(), "user", "s3cret-pass");
    let config = tmp.path().join("store.json");
    std::fs::write(&config, json!({"credsStore": "test", "auths": {reg.host(): {}}}).to_string()).unwrap();
    let opts = RegistryOptions {
        docker_config: Some(config.clone()),
        credential_helper_dir: Some(helpers.clone()),
        ..Default::default()
    };
    assert_image(&open(&r, &opts, None).unwrap().1, &img);

    // `credHelpers` wins over `credsStore`; a helper that does not know the server means
    // anonymous, which this registry refuses.
    let config = tmp.path().join("helpers.json");
    std::fs::write(&config, json!({"credsStore": "missing", "credHelpers": {"other.example": "test"}}).to_string())
        .unwrap();
    let opts = RegistryOptions {
        docker_config: Some(config.clone()),
        credential_helper_dir: Some(helpers.clone()),
        ..Default::default()
    };
    match try_open(&r, &opts, None) {
        Err(Error::Registry(RegistryError::Auth { message, .. })) => {
            assert!(message.contains("docker-credential-missing"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&config, json!({"credHelpers": {reg.host(): "test"}}).to_string()).unwrap();
    assert_image(&open(&r, &opts, None).unwrap().1, &img);
    write_helper(&helpers, "someone-else", "user", "s3cret-pass");
    match try_open(&r, &opts, None) {
        Err(Error::Registry(RegistryError::Unauthorized { anonymous: true, .. })) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_auth_with_real_registry() {
    let keys = Arc::new(TokenKeys::generate());
    let tokens = token_server(keys.clone(), "tuser", "tpass");
    let reg = RegistryProcess::start(RegistryAuth::Token {
        realm: format!("http://{}/token", tokens.host()),
        service: TOKEN_SERVICE.into(),
        issuer: TOKEN_ISSUER.into(),
        root_cert: keys.cert.clone(),
    });
    let tmp = tempfile::tempdir().unwrap();
    let img = single_image();
    let layout = tmp.path().join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", &format!("{}/app:1", reg.host()), false, Some("tuser:tpass"));
    let pushed = tokens.seen().len();
    assert!(pushed > 0, "skopeo never asked the token server");

    let r = format!("{}/app:1", reg.host());
    let opts =
        RegistryOptions { username: Some("tuser".into()), password: Some("tpass".into()), ..isolated_opts(tmp.path()) };
    let (store, image) = open(&r, &opts, None).unwrap();
    assert_image(&image, &img);
    for (layer, want) in image.layers.iter().zip(&img.layers) {
        assert_eq!(sha256_digest(&read_all(store.as_ref(), &layer.descriptor)), want.digest);
    }
    let ours: Vec<SeenRequest> = tokens.seen().into_iter().skip(pushed).collect();
    // One token for the manifest, config and both layers: it is cached.
    assert_eq!(ours.len(), 1, "{ours:?}");
    let query = ours[0].query();
    let scopes: Vec<&str> = query.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.as_str()).collect();
    assert_eq!(scopes, ["repository:app:pull"]);
    assert!(query.contains(&("service".into(), TOKEN_SERVICE.into())), "{query:?}");

    // Wrong password: the token server refuses.
    let bad = RegistryOptions { password: Some("nope".into()), ..opts.clone() };
    match try_open(&r, &bad, None) {
        Err(Error::Registry(RegistryError::Token { reason, status: Some(401), .. })) => {
            assert!(reason.contains("rejected"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Anonymous: no token server credentials, so the token server says no too.
    match try_open(&r, &isolated_opts(tmp.path()), None) {
        Err(Error::Registry(RegistryError::Token { .. })) => {}
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Hostile server

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Serves `img` as repository `app`, tag `1`, or `None` for other paths.
fn serve_image(img: &TestImage, req: &SeenRequest) -> Option<Reply> {
    let path = req.path();
    if path == "/v2/app/manifests/1" || path == format!("/v2/app/manifests/{}", img.manifest.digest) {
        return Some(
            Reply::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &img.manifest.digest)
                .body(img.manifest.bytes.clone()),
        );
    }
    for b in img.layers.iter().chain([&img.config]) {
        if path == format!("/v2/app/blobs/{}", b.digest) {
            return Some(Reply::new(200).header("Content-Type", "application/octet-stream").body(b.bytes.clone()));
        }
    }
    None
}

fn not_found() -> Reply {
    Reply::json(404, &json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}))
}

fn hostile_opts() -> (tempfile::TempDir, RegistryOptions) {
    let tmp = tempfile::tempdir().unwrap();
    let opts = isolated_opts(tmp.path());
    (tmp, opts)
}

#[test]
fn config_digest_mismatch_is_caught() {
    let img = single_image();
    let mut bad_config = img.config.bytes.clone();
    bad_config[0] ^= 0x20; // same size, other bytes
    let served = img.clone();
    let server = TestServer::start(move |req| {
        if req.path() == format!("/v2/app/blobs/{}", served.config.digest) {
            return Reply::new(200).body(bad_config.clone());
        }
        serve_image(&served, req).unwrap_or_else(not_found)
    });
    let (_tmp, opts) = hostile_opts();
    match try_open(&format!("{}/app:1", server.host()), &opts, None) {
        Err(Error::DigestMismatch { what, expected, actual }) => {
            assert_eq!(expected, digest(&img.config.digest));
            assert_ne!(actual, expected);
            assert!(what.contains("config"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn manifest_digest_mismatches_are_caught() {
    let img = single_image();
    let served = img.clone();
    let server = TestServer::start(move |req| {
        if req.path() == "/v2/app/manifests/liar" {
            // The header claims another digest than the bytes have.
            return Reply::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &sha256_digest(b"other"))
                .body(served.manifest.bytes.clone());
        }
        if req.path().starts_with("/v2/app/manifests/sha256:") {
            // Whatever digest was asked for, serve the same manifest.
            return Reply::new(200).header("Content-Type", OCI_MANIFEST).body(served.manifest.bytes.clone());
        }
        serve_image(&served, req).unwrap_or_else(not_found)
    });
    let (_tmp, opts) = hostile_opts();
    match try_open(&format!("{}/app:liar", server.host()), &opts, None) {
        Err(Error::DigestMismatch { what, .. }) => assert!(what.contains("Docker-Content-Digest"), "{what}"),
        other => panic!("{other:?}"),
    }
    let wrong = sha256_digest(b"another manifest");
    match try_open(&format!("{}/app@{wrong}", server.host()), &opts, None) {
        Err(Error::DigestMismatch { expected, .. }) => assert_eq!(expected, digest(&wrong)),
        other => panic!("{other:?}"),
    }
    assert_image(&open(&format!("{}/app@{}", server.host(), img.manifest.digest), &opts, None).unwrap().1, &img);
}

#[test]
fn oversized_manifest_is_refused_without_buffering_it() {
    let limit: u64 = 64 << 10;
    let cap: u64 = 1 << 30;
    let server = TestServer::start(move |req| match req.path() {
        "/v2/app/manifests/endless" => {
            Reply::Endless { status: 200, headers: vec![("Content-Type".into(), OCI_MANIFEST.into())], cap }
        }
        "/v2/app/manifests/declared" => Reply::new(200)
            .header("Content-Type", OCI_MANIFEST)
            .header("Content-Length", "10737418240")
            .body(b"{}".to_vec())
            .without_length(),
        _ => not_found(),
    });
    let (_tmp, opts) = hostile_opts();
    let limits = Limits { max_manifest_bytes: limit, ..Limits::default() };
    let started = Instant::now();
    match registry::open(&dref(&format!("{}/app:endless", server.host())), &opts, None, &limits).map(|(_, i)| i) {
        Err(Error::TooLarge { size, limit: l, kind, .. }) => {
            assert_eq!(l, limit);
            assert_eq!(size, limit + 1, "read exactly limit+1 bytes");
            assert_eq!(kind, bulwark_image::LimitKind::ManifestBytes);
        }
        other => panic!("{other:?}"),
    }
    // The client hung up: the server stopped long before its 1 GiB (socket buffers
    // account for what it wrote beyond the limit).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.endless_done.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "server still writing: the client did not hang up");
        std::thread::sleep(Duration::from_millis(10));
    }
    let written = server.streamed.load(Ordering::SeqCst);
    assert!(written < 64 << 20, "server wrote {written} bytes");
    assert!(started.elapsed() < Duration::from_secs(20));

    match registry::open(&dref(&format!("{}/app:declared", server.host())), &opts, None, &limits).map(|(_, i)| i) {
        Err(Error::TooLarge { size, .. }) => assert_eq!(size, 10737418240),
        other => panic!("{other:?}"),
    }
}

#[test]
fn schema1_manifest_is_refused() {
    let schema1 = json!({
        "schemaVersion": 1,
        "name": "app",
        "tag": "old",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": sha256_digest(b"layer")}],
        "history": [{"v1Compatibility": "{}"}],
        "signatures": [],
    });
    let server = TestServer::start(move |req| match req.path() {
        "/v2/app/manifests/old" => Reply::new(200)
            .header("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")
            .body(serde_json::to_vec(&schema1).unwrap()),
        _ => not_found(),
    });
    let (_tmp, opts) = hostile_opts();
    match try_open(&format!("{}/app:old", server.host()), &opts, None) {
        // What to do about it is the caller's to say (the CLI's hint), not the message's.
        Err(e @ Error::Schema1 { .. }) => assert!(e.to_string().contains("schema 1 is unsupported"), "{e}"),
        other => panic!("{other:?}"),
    }
    // We never asked for schema 1, so a registry has no reason to convert down to it.
    let accept = server.seen().last().unwrap().header("accept").unwrap_or_default().to_owned();
    assert_eq!(accept, bulwark_image::spec::MANIFEST_ACCEPT);
    assert!(!accept.contains("distribution.manifest.v1"), "{accept}");
    let ua = server.seen().last().unwrap().header("user-agent").unwrap_or_default().to_owned();
    assert!(ua.starts_with("bulwark/"), "{ua}");
}

#[test]
fn retries_server_errors_and_rate_limits() {
    let img = single_image();
    let served = img.clone();
    let manifest_calls = Arc::new(AtomicUsize::new(0));
    let config_calls = Arc::new(AtomicUsize::new(0));
    let (m, c) = (manifest_calls.clone(), config_calls.clone());
    let server = TestServer::start(move |req| {
        if req.path() == "/v2/app/manifests/1" && m.fetch_add(1, Ordering::SeqCst) < 2 {
            return Reply::json(503, &json!({"errors": [{"code": "UNAVAILABLE", "message": "try later"}]}));
        }
        if req.path() == format!("/v2/app/blobs/{}", served.config.digest) && c.fetch_add(1, Ordering::SeqCst) < 1 {
            return Reply::new(429).header("Retry-After", "1");
        }
        if req.path() == "/v2/app/manifests/down" {
            return Reply::json(503, &json!({"errors": [{"code": "UNAVAILABLE", "message": "down for maintenance"}]}));
        }
        if req.path() == "/v2/app/manifests/limited" {
            return Reply::new(429).header("Retry-After", "3600");
        }
        serve_image(&served, req).unwrap_or_else(not_found)
    });
    let (_tmp, opts) = hostile_opts();
    let started = Instant::now();
    let (_, image) = open(&format!("{}/app:1", server.host()), &opts, None).unwrap();
    assert_image(&image, &img);
    assert_eq!(manifest_calls.load(Ordering::SeqCst), 3);
    assert_eq!(config_calls.load(Ordering::SeqCst), 2);
    // At least 100ms + 200ms of backoff for the 503s (200ms and 400ms less jitter), then
    // the 1s Retry-After.
    assert!(started.elapsed() >= Duration::from_millis(1300), "{:?}", started.elapsed());

    // A registry that stays down: the error carries its message.
    match try_open(&format!("{}/app:down", server.host()), &opts, None) {
        Err(Error::Registry(e @ RegistryError::Status { status: 503, .. })) => {
            assert!(e.to_string().contains("down for maintenance"), "{e}");
            assert!(e.is_transient());
        }
        other => panic!("{other:?}"),
    }
    // A Retry-After far beyond the cap fails at once instead of sleeping for an hour.
    let started = Instant::now();
    match try_open(&format!("{}/app:limited", server.host()), &opts, None) {
        Err(Error::Registry(RegistryError::Status { status: 429, retry_after, .. })) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn redirects_never_forward_authorization() {
    let img = single_image();
    // Blob storage on another port: serves any blob of the image.
    let storage_img = img.clone();
    let storage = TestServer::start(move |req| {
        for b in storage_img.layers.iter().chain([&storage_img.config]) {
            if req.path() == format!("/storage/{}", b.digest.trim_start_matches("sha256:")) {
                return Reply::new(200).body(b.bytes.clone());
            }
        }
        Reply::new(404)
    });
    let storage_host = storage.host();
    let served = img.clone();
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("user:pw"));
    let server = TestServer::start(move |req| {
        if req.header("authorization") != Some(expected.as_str()) {
            return Reply::json(
                401,
                &json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            )
            .header("WWW-Authenticate", "Basic realm=\"hostile, \\\"quoted\\\" realm\"");
        }
        if let Some(d) = req.path().strip_prefix("/v2/app/blobs/sha256:") {
            return Reply::new(307)
                .header("Location", &format!("http://{storage_host}/storage/{d}?X-Amz-Signature=secret"));
        }
        serve_image(&served, req).unwrap_or_else(not_found)
    });
    let (_tmp, mut opts) = hostile_opts();
    opts.username = Some("user".into());
    opts.password = Some("pw".into());
    let (store, image) = open(&format!("{}/app:1", server.host()), &opts, None).unwrap();
    assert_image(&image, &img);
    for (layer, want) in image.layers.iter().zip(&img.layers) {
        assert_eq!(sha256_digest(&read_all(store.as_ref(), &layer.descriptor)), want.digest);
    }
    let seen = storage.seen();
    assert_eq!(seen.len(), 1 + img.layers.len(), "{seen:?}");
    for req in &seen {
        assert_eq!(req.header("authorization"), None, "Authorization leaked to blob storage: {req:?}");
    }
    // The registry itself got the credentials after its challenge (once per request
    // after the first: they are cached).
    let registry_seen = server.seen();
    assert_eq!(registry_seen.iter().filter(|r| r.header("authorization").is_none()).count(), 1);
}

#[test]
fn bearer_tokens_anonymous_and_from_identity_tokens() {
    let img = single_image();
    let served = img.clone();
    let token_requests = Arc::new(std::sync::Mutex::new(Vec::<SeenRequest>::new()));
    let log = token_requests.clone();
    // This server is both registry and token server (realm on the same origin).
    let server = Arc::new(std::sync::OnceLock::<String>::new());
    let host = server.clone();
    let srv = TestServer::start(move |req| {
        if req.path() == "/oauth/token" {
            log.lock().unwrap().push(req.clone());
            let form = String::from_utf8_lossy(&req.body).into_owned();
            if req.method == "POST" {
                // OAuth2 refresh-token grant.
                let ok = form.contains("grant_type=refresh_token")
                    && form.contains("refresh_token=refresh-me")
                    && form.contains("scope=repository%3Aapp%3Apull");
                return if ok { Reply::json(200, &json!({"access_token": "oauth-token"})) } else { Reply::new(400) };
            }
            // Anonymous GET.
            return match req.header("authorization") {
                None => Reply::json(200, &json!({"token": "anon-token"})),
                Some(_) => Reply::new(401),
            };
        }
        let auth = req.header("authorization");
        if auth != Some("Bearer anon-token") && auth != Some("Bearer oauth-token") {
            let realm = format!("http://{}/oauth/token", host.get().unwrap());
            return Reply::new(401).header(
                "WWW-Authenticate",
                &format!(
                    "Bearer realm=\"{realm}\",service=\"hostile\",scope=\"repository:app:pull\",error=\"invalid_token\""
                ),
            );
        }
        if auth == Some("Bearer anon-token") && req.path() == "/v2/app/manifests/private" {
            return Reply::json(401, &json!({"errors": [{"code": "DENIED", "message": "log in for this one"}]}))
                .header("WWW-Authenticate", &format!("Bearer realm=\"http://{}/oauth/token\"", host.get().unwrap()));
        }
        serve_image(&served, req).unwrap_or_else(not_found)
    });
    server.set(srv.host()).unwrap();

    // Anonymous bearer token.
    let (tmp, opts) = hostile_opts();
    assert_image(&try_open(&format!("{}/app:1", srv.host()), &opts, None).unwrap(), &img);
    assert_eq!(token_requests.lock().unwrap().len(), 1);
    let q = token_requests.lock().unwrap()[0].query();
    assert!(
        q.contains(&("scope".into(), "repository:app:pull".into()))
            && q.contains(&("service".into(), "hostile".into()))
    );

    // Anonymous token not enough: a clear auth error with the registry's message.
    match try_open(&format!("{}/app:private", srv.host()), &opts, None) {
        Err(Error::Registry(e @ RegistryError::Unauthorized { anonymous: true, .. })) => {
            let message = e.to_string();
            assert!(message.contains("anonymous") && message.contains("log in for this one"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    // An identity token from the Docker config is exchanged with an OAuth2 POST.
    token_requests.lock().unwrap().clear();
    let config = tmp.path().join("identity.json");
    std::fs::write(
        &config,
        json!({"auths": {srv.host(): {"identitytoken": "refresh-me", "username": "u"}}}).to_string(),
    )
    .unwrap();
    let opts = RegistryOptions { docker_config: Some(config), ..Default::default() };
    assert_image(&try_open(&format!("{}/app:1", srv.host()), &opts, None).unwrap(), &img);
    let seen = token_requests.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "POST");
}

#[test]
fn tls_registry_with_untrusted_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed_cert(tmp.path());
    let reg = RegistryProcess::start_with(RegistryAuth::None, Some((&cert, &key)));
    let img = single_image();
    let layout = tmp.path().join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", &format!("{}/app:1", reg.host()), false, None);
    let r = format!("{}/app:1", reg.host());

    // Verified TLS fails on the self-signed certificate, and says so (the plain-HTTP
    // fallback's 400 from the TLS port does not hide it).
    let started = Instant::now();
    match try_open(&r, &isolated_opts(tmp.path()), None) {
        Err(Error::Registry(RegistryError::Transport { message, kind, .. })) => {
            assert_eq!(kind, bulwark_registry::TransportKind::Tls);
            assert!(message.to_lowercase().contains("certificate"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    // --insecure-registry: TLS without verification.
    let opts = RegistryOptions { insecure: true, ..isolated_opts(tmp.path()) };
    let (store, image) = open(&r, &opts, None).unwrap();
    assert_image(&image, &img);
    assert_eq!(sha256_digest(&read_all(store.as_ref(), &image.layers[0].descriptor)), img.layers[0].digest);
}
