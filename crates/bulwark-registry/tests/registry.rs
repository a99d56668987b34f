//! The registry client against Debian's real `docker-registry` (plain, htpasswd and
//! token auth) for pull, push, mount, listings, HEAD resolution and the referrers tag
//! fallback, and against an in-process fake only for what no real registry here does:
//! the OCI 1.1 referrers API, retries, and hostile answers.
//!
//! Needs `docker-registry`, `skopeo`, `htpasswd` (apache2-utils) and `openssl`; the tests
//! fail (never skip) when they are missing: run scripts/setup-dev.sh.

use bulwark_testkit::registry as harness;

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bulwark_core::Digest;
use bulwark_registry::{
    Client, Descriptor, Error, Limit, Limits, OCI_INDEX, OCI_MANIFEST, ReferrersSource, RegistryOptions, RetryPolicy,
    TokenCache, referrers_tag,
};
use harness::*;
use serde_json::json;

fn digest(s: &str) -> Digest {
    s.parse().unwrap()
}

/// Options isolated from the machine's own Docker config.
fn isolated(dir: &Path) -> RegistryOptions {
    let config = dir.join("empty-config.json");
    std::fs::write(&config, "{}").unwrap();
    RegistryOptions { docker_config: Some(config), ..Default::default() }
}

/// An image whose big layer takes several upload chunks of 16 KiB.
fn test_image() -> TestImage {
    // Incompressible enough that the gzip layer stays well over one chunk.
    let mut noise = Vec::with_capacity(200_000);
    let mut x: u32 = 2463534242;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    build_image("amd64", &[&[("etc/os-release", b"ID=debian\n")], &[("opt/noise.bin", &noise)]])
}

fn small_chunks(mut opts: RegistryOptions) -> RegistryOptions {
    opts.limits = Some(Limits { upload_chunk_bytes: 16 << 10, ..Limits::default() });
    opts
}

fn read_blob(client: &Client, repo: &str, b: &Blob) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut blob = client.open_blob(repo, &digest(&b.digest), Some(b.bytes.len() as u64)).unwrap();
    blob.read_to_end(&mut buf).unwrap();
    buf
}

/// Pushes every blob of `img` and its manifest under `tag` with our client.
fn push_image(client: &Client, repo: &str, img: &TestImage, tag: &str) {
    for b in image_blobs(img) {
        client.push_blob(repo, &digest(&b.digest), b.bytes.len() as u64, &mut &b.bytes[..]).unwrap();
    }
    let put = client.put_manifest(repo, tag, OCI_MANIFEST, &img.manifest.bytes).unwrap();
    assert_eq!(put.digest, digest(&img.manifest.digest));
}

/// `skopeo inspect --raw`'s view of a manifest: an independent client's reading.
fn skopeo_digest(reference: &str) -> String {
    require_tool("skopeo");
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw", &format!("docker://{reference}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&out.stderr));
    sha256_digest(&out.stdout)
}

#[test]
fn pushes_an_image_and_pulls_it_back() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(&reg.host(), &small_chunks(isolated(tmp.path()))).unwrap();
    let img = test_image();
    assert!(img.layers[1].bytes.len() > 3 * (16 << 10), "the big layer must need several chunks");
    push_image(&client, "app", &img, "1");
    // By digest too (no tag).
    let put = client.put_manifest("app", &img.manifest.digest, OCI_MANIFEST, &img.manifest.bytes).unwrap();
    assert_eq!(put.digest, digest(&img.manifest.digest));
    assert_eq!(put.subject, None);

    // An independent client reads what we pushed.
    assert_eq!(skopeo_digest(&format!("{}/app:1", reg.host())), img.manifest.digest);

    // And so do we: manifest by tag and by digest, every blob verified.
    let m = client.get_manifest("app", "1").unwrap();
    assert_eq!((m.digest.to_string(), m.bytes.clone()), (img.manifest.digest.clone(), img.manifest.bytes.clone()));
    assert_eq!(m.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(client.get_manifest("app", &img.manifest.digest).unwrap().bytes, img.manifest.bytes);
    for b in image_blobs(&img) {
        assert_eq!(sha256_digest(&read_blob(&client, "app", b)), b.digest);
        let info = client.blob_exists("app", &digest(&b.digest)).unwrap().expect("pushed blob exists");
        assert_eq!(info.size, Some(b.bytes.len() as u64));
    }
    assert_eq!(client.fetch_blob("app", &digest(&img.config.digest), 1 << 20).unwrap(), img.config.bytes);
    match client.fetch_blob("app", &digest(&img.layers[1].digest), 1024) {
        Err(Error::TooLarge { kind: Limit::BlobBytes, limit: 1024, .. }) => {}
        other => panic!("{other:?}"),
    }

    // Pushing again is a HEAD per blob, not an upload.
    push_image(&client, "app", &img, "1");

    // A reader whose bytes are not the digest it claims: the registry never gets the blob.
    let lie = b"not the layer".to_vec();
    let claimed = digest(&sha256_digest(b"something else"));
    match client.push_blob("app", &claimed, lie.len() as u64, &mut &lie[..]) {
        Err(Error::DigestMismatch { expected, .. }) => assert_eq!(expected, claimed),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.blob_exists("app", &claimed).unwrap(), None);
    // Fewer bytes than promised, across chunks.
    let short = vec![7u8; 40 << 10];
    match client.push_blob("app", &digest(&sha256_digest(&short)), 50 << 10, &mut &short[..]) {
        Err(Error::SizeMismatch { expected, actual, .. }) => assert_eq!((expected, actual), (50 << 10, 40 << 10)),
        other => panic!("{other:?}"),
    }
    // A manifest PUT by a digest that is not its own is refused before sending.
    match client.put_manifest("app", &claimed.to_string(), OCI_MANIFEST, &img.manifest.bytes) {
        Err(Error::DigestMismatch { .. }) => {}
        other => panic!("{other:?}"),
    }

    // Missing things are typed.
    match client.get_manifest("app", "nope") {
        Err(Error::NotFound { what, .. }) => assert!(what.contains("app:nope"), "{what}"),
        other => panic!("{other:?}"),
    }
    match client.open_blob("app", &claimed, None) {
        Err(Error::NotFound { what, .. }) => assert!(what.contains(&claimed.to_string()), "{what}"),
        other => panic!("{other:?}"),
    }
    // Names that would change the request path never reach the network.
    for bad in ["../app", "app?x", "App"] {
        assert!(matches!(client.get_manifest(bad, "1"), Err(Error::Invalid { .. })), "{bad}");
    }
    assert!(matches!(client.get_manifest("app", "../1"), Err(Error::Invalid { .. })));
}

#[test]
fn head_resolves_tags_to_digests() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(&reg.host(), &isolated(tmp.path())).unwrap();
    let img = test_image();
    push_image(&client, "app", &img, "1");
    let head = client.resolve("app", "1").unwrap();
    assert_eq!(head.digest, digest(&img.manifest.digest));
    assert_eq!(head.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(head.size, Some(img.manifest.bytes.len() as u64));
    assert_eq!(client.head_manifest("app", "2").unwrap(), None);
    assert!(matches!(client.resolve("app", "2"), Err(Error::NotFound { .. })));

    // Retagging moves what the tag resolves to.
    let other = build_image("arm64", &[&[("etc/os-release", b"ID=alpine\n")]]);
    push_image(&client, "app", &other, "1");
    assert_eq!(client.resolve("app", "1").unwrap().digest, digest(&other.manifest.digest));
}

#[test]
fn mounts_blobs_across_repositories_with_token_auth() {
    let keys = Arc::new(TokenKeys::generate());
    let tokens = token_server(keys.clone(), "tuser", "tpass");
    let reg = RegistryProcess::start(RegistryAuth::Token {
        realm: format!("http://{}/token", tokens.host()),
        service: TOKEN_SERVICE.into(),
        issuer: TOKEN_ISSUER.into(),
        root_cert: keys.cert.clone(),
    });
    let tmp = tempfile::tempdir().unwrap();
    let opts =
        RegistryOptions { username: Some("tuser".into()), password: Some("tpass".into()), ..isolated(tmp.path()) };
    let client = Client::new(&reg.host(), &opts).unwrap();
    let img = test_image();
    push_image(&client, "team/src", &img, "1");

    let before = tokens.seen().len();
    for b in image_blobs(&img) {
        assert!(client.mount_blob("team/dst", "team/src", &digest(&b.digest)).unwrap(), "{} not mounted", b.digest);
        assert!(client.blob_exists("team/dst", &digest(&b.digest)).unwrap().is_some());
    }
    client.put_manifest("team/dst", "1", OCI_MANIFEST, &img.manifest.bytes).unwrap();
    assert_eq!(client.resolve("team/dst", "1").unwrap().digest, digest(&img.manifest.digest));
    // One token covered the mount's two repositories: push on dst, pull on src.
    let mount_scopes: Vec<Vec<String>> = tokens.seen()[before..]
        .iter()
        .map(|r| r.query().into_iter().filter(|(k, _)| k == "scope").map(|(_, v)| v).collect())
        .filter(|s: &Vec<String>| s.iter().any(|s| s.contains("team/src")))
        .collect();
    assert_eq!(mount_scopes.len(), 1, "{mount_scopes:?}");
    assert_eq!(mount_scopes[0], ["repository:team/dst:pull,push", "repository:team/src:pull"]);

    // A blob the source does not have: no mount, and the caller uploads.
    let absent = digest(&sha256_digest(b"absent"));
    assert!(!client.mount_blob("team/dst", "team/src", &absent).unwrap());
    assert_eq!(client.blob_exists("team/dst", &absent).unwrap(), None);

    // A second client sharing the token cache needs no token request of its own.
    let cache = TokenCache::new();
    let first = Client::with_token_cache(&reg.host(), &opts, cache.clone()).unwrap();
    first.get_manifest("team/dst", "1").unwrap();
    let seen = tokens.seen().len();
    let second = Client::with_token_cache(&reg.host(), &opts, cache.clone()).unwrap();
    // From several threads at once: the cache is shared and thread-safe.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(second.get_manifest("team/dst", "1").unwrap().digest, digest(&img.manifest.digest)));
        }
    });
    assert_eq!(tokens.seen().len(), seen, "the shared token was not reused");
    // The same through the options, as a server's scans would share it.
    let shared = RegistryOptions { token_cache: Some(cache.clone()), ..opts.clone() };
    Client::new(&reg.host(), &shared).unwrap().get_manifest("team/dst", "1").unwrap();
    assert_eq!(tokens.seen().len(), seen, "the token cache in the options was not used");
    // Other credentials never get that token: they ask (and are refused) themselves.
    let wrong = RegistryOptions { password: Some("nope".into()), ..opts.clone() };
    let third = Client::with_token_cache(&reg.host(), &wrong, cache).unwrap();
    match third.get_manifest("team/dst", "1") {
        Err(e @ Error::Token { status: Some(401), .. }) => assert!(!e.to_string().contains("nope"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn lists_tags_and_catalog_across_pages() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(&reg.host(), &isolated(tmp.path())).unwrap();
    let img = build_image("amd64", &[&[("etc/os-release", b"ID=debian\n")]]);
    let tags = ["1", "1.1", "2", "latest", "v3"];
    for t in tags {
        push_image(&client, "app", &img, t);
    }
    for repo in ["a/one", "b/two", "c/three"] {
        push_image(&client, repo, &img, "1");
    }
    let mut all = client.list_tags("app", None).unwrap();
    all.sort();
    assert_eq!(all, tags);
    // docker-registry 2.8 ignores `n=` on tag lists and answers every tag at once (the
    // fake below pages them); the same call still gets them all.
    let mut paged = client.list_tags("app", Some(2)).unwrap();
    paged.sort();
    assert_eq!(paged, tags);
    // The catalog does page: `n=1` chains four pages by Link headers.
    let mut repos = client.catalog(Some(1)).unwrap();
    repos.sort();
    assert_eq!(repos, ["a/one", "app", "b/two", "c/three"]);
    // The page limit holds, which also proves the pages were followed.
    let limited = Client::new(
        &reg.host(),
        &RegistryOptions { limits: Some(Limits { max_pages: 2, ..Limits::default() }), ..isolated(tmp.path()) },
    )
    .unwrap();
    match limited.catalog(Some(1)) {
        Err(Error::TooManyPages { limit: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(limited.catalog(Some(2)).unwrap().len(), 4);
    assert!(matches!(client.list_tags("missing", None), Err(Error::NotFound { .. })));
}

#[test]
fn tag_pages_follow_n_and_last_as_the_spec_says() {
    // The distribution spec's tag listing: sorted, `n` per page, `last` to continue, a
    // Link to the next page while more remain.
    let tags: Vec<String> = (0..7).map(|i| format!("t{i}")).collect();
    let all = tags.clone();
    let server = TestServer::start(move |req| {
        if req.path() != "/v2/app/tags/list" {
            return Reply::new(404);
        }
        let q = req.query();
        let n: usize = q.iter().find(|(k, _)| k == "n").map_or(all.len(), |(_, v)| v.parse().unwrap());
        let last = q.iter().find(|(k, _)| k == "last").map(|(_, v)| v.clone());
        let rest: Vec<&String> = all.iter().filter(|t| last.as_ref().is_none_or(|l| *t > l)).collect();
        let page: Vec<&String> = rest.iter().take(n).copied().collect();
        let mut reply = Reply::json(200, &json!({"name": "app", "tags": page}));
        if rest.len() > n {
            reply = reply.header("Link", &format!("</v2/app/tags/list?n={n}&last={}>; rel=\"next\"", page[n - 1]));
        }
        reply
    });
    let (_tmp, client) = fake_client(&server);
    assert_eq!(client.list_tags("app", Some(3)).unwrap(), tags);
    let seen = server.seen();
    let targets: Vec<&str> = seen.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/v2/app/tags/list?n=3", "/v2/app/tags/list?n=3&last=t2", "/v2/app/tags/list?n=3&last=t5"]);
}

/// A signature-like artifact manifest whose subject is `subject`.
fn artifact(subject: &Blob, artifact_type: &str, payload: &Blob) -> (Blob, Blob) {
    let config = Blob::new("application/vnd.oci.empty.v1+json", b"{}".to_vec());
    let mut subject_desc = subject.descriptor();
    subject_desc["mediaType"] = json!(OCI_MANIFEST);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": config.descriptor(),
        "layers": [payload.descriptor()],
        "subject": subject_desc,
    });
    (Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()), config)
}

#[test]
fn referrers_fall_back_to_the_tag_schema_on_docker_registry() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(&reg.host(), &isolated(tmp.path())).unwrap();
    let img = test_image();
    push_image(&client, "app", &img, "1");
    let subject = digest(&img.manifest.digest);

    // Nothing refers to it yet: an empty list, from the fallback (docker-registry 2.8 has
    // no referrers API; the README's table says so).
    let none = client.referrers("app", &subject, None).unwrap();
    assert_eq!((none.manifests.len(), none.source), (0, ReferrersSource::TagSchema));

    let sig_type = "application/vnd.dev.cosign.artifact.sig.v1+json";
    let sbom_type = "application/vnd.cyclonedx+json";
    let mut descriptors = Vec::new();
    for (t, body) in [(sig_type, &b"signature"[..]), (sbom_type, &b"{\"bomFormat\":\"CycloneDX\"}"[..])] {
        let payload = Blob::new("application/octet-stream", body.to_vec());
        let (manifest, config) = artifact(&img.manifest, t, &payload);
        client.push_blob_bytes("app", &payload.bytes).unwrap();
        client.push_blob_bytes("app", &config.bytes).unwrap();
        let put = client.put_manifest("app", &manifest.digest, OCI_MANIFEST, &manifest.bytes).unwrap();
        // No OCI-Subject header: the registry did not index the subject.
        assert_eq!(put.subject, None);
        let mut d = manifest.descriptor();
        d["artifactType"] = json!(t);
        // The client keeps the fallback index, as the OCI 1.1 spec describes; adding the
        // same referrer twice lists it once.
        let desc: Descriptor = serde_json::from_value(d.clone()).unwrap();
        let first = client.add_to_referrers_tag("app", &subject, &desc).unwrap();
        assert_eq!(client.add_to_referrers_tag("app", &subject, &desc).unwrap(), first);
        assert_eq!(client.resolve("app", &referrers_tag(&subject)).unwrap().digest, first);
        descriptors.push(d);
    }
    // skopeo reads the index we wrote.
    let raw = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{}/app:{}", reg.host(), referrers_tag(&subject)))
        .output()
        .unwrap();
    assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
    let index: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(index["mediaType"], OCI_INDEX);
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

    let all = client.referrers("app", &subject, None).unwrap();
    assert_eq!(all.source, ReferrersSource::TagSchema);
    assert_eq!(all.manifests.len(), 2);
    let sigs = client.referrers("app", &subject, Some(sig_type)).unwrap();
    assert_eq!(sigs.manifests.len(), 1);
    assert_eq!(sigs.manifests[0].artifact_type.as_deref(), Some(sig_type));
    assert_eq!(sigs.manifests[0].digest, digest(descriptors[0]["digest"].as_str().unwrap()));
}

// ---------------------------------------------------------------------------------------
// In-process fakes

fn fake_client(server: &TestServer) -> (tempfile::TempDir, Client) {
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(&server.host(), &isolated(tmp.path())).unwrap();
    (tmp, client)
}

#[test]
fn referrers_api_with_filter_and_pages() {
    let subject = digest(&sha256_digest(b"subject manifest"));
    let d = |n: u8, t: &str| {
        json!({"mediaType": OCI_MANIFEST, "digest": sha256_digest(&[n]), "size": 100 + n as u64, "artifactType": t,
               "annotations": {"n": n.to_string()}})
    };
    let page1 = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [d(1, "sig"), d(2, "sbom")]});
    let page2 = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [d(3, "sig")]});
    let filtered = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [d(1, "sig"), d(3, "sig")]});
    let path = format!("/v2/app/referrers/{subject}");
    let server = TestServer::start(move |req| {
        if req.path() != path {
            return Reply::new(404);
        }
        let query = req.query();
        if query.contains(&("artifactType".into(), "sig".into())) {
            // This registry filters, and says so.
            return Reply::json(200, &filtered).header("OCI-Filters-Applied", "artifactType");
        }
        if query.contains(&("artifactType".into(), "sbom".into())) {
            // This one ignores the filter: the client must apply it.
            return Reply::json(200, &page1);
        }
        if query.iter().any(|(k, _)| k == "last") {
            return Reply::json(200, &page2);
        }
        Reply::json(200, &page1).header("Link", &format!("<{path}?last=2>; rel=\"next\""))
    });
    let (_tmp, client) = fake_client(&server);
    let all = client.referrers("app", &subject, None).unwrap();
    assert_eq!(all.source, ReferrersSource::Api);
    let ns: Vec<&str> = all.manifests.iter().map(|m| m.annotations["n"].as_str()).collect();
    assert_eq!(ns, ["1", "2", "3"]);
    assert_eq!(all.manifests[1].size, 102);
    assert_eq!(client.referrers("app", &subject, Some("sig")).unwrap().manifests.len(), 2);
    let sbom = client.referrers("app", &subject, Some("sbom")).unwrap();
    assert_eq!(sbom.manifests.len(), 1);
    assert_eq!(sbom.manifests[0].artifact_type.as_deref(), Some("sbom"));
    // Every request asked for an index.
    assert!(server.seen().iter().all(|r| r.header("accept") == Some(OCI_INDEX)));
}

/// A tiny image served by the fakes: one blob and a manifest tagged `1`.
fn serve_small(req: &SeenRequest, manifest: &Blob, blob: &Blob) -> Reply {
    if req.path() == "/v2/app/manifests/1" || req.path() == format!("/v2/app/manifests/{}", manifest.digest) {
        return Reply::new(200)
            .header("Content-Type", OCI_MANIFEST)
            .header("Docker-Content-Digest", &manifest.digest)
            .body(if req.method == "HEAD" { Vec::new() } else { manifest.bytes.clone() });
    }
    if req.path() == format!("/v2/app/blobs/{}", blob.digest) {
        return Reply::new(200).body(blob.bytes.clone());
    }
    Reply::json(404, &json!({"errors": [{"code": "NOT_FOUND", "message": "nope"}]}))
}

#[test]
fn retries_503_and_429_with_retry_after_but_never_4xx() {
    let img = build_image("amd64", &[&[("a", b"a")]]);
    let (manifest, blob) = (img.manifest.clone(), img.config.clone());
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = calls.clone();
    let unavailable = Arc::new(AtomicUsize::new(0));
    let limited = Arc::new(AtomicUsize::new(0));
    let (u, l) = (unavailable.clone(), limited.clone());
    let server = TestServer::start(move |req| {
        log.lock().unwrap().push(req.path().to_owned());
        match req.path() {
            "/v2/app/manifests/1" if u.fetch_add(1, Ordering::SeqCst) < 1 => {
                Reply::json(503, &json!({"errors": [{"code": "UNAVAILABLE", "message": "busy"}]}))
            }
            p if p.starts_with("/v2/app/blobs/") && l.fetch_add(1, Ordering::SeqCst) < 1 => {
                Reply::new(429).header("Retry-After", "1")
            }
            "/v2/app/manifests/dated" => {
                Reply::new(429).header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT").header("X-Dated", "1")
            }
            "/v2/app/manifests/forbidden" => Reply::json(403, &json!({"errors": [{"code": "DENIED"}]})),
            _ => serve_small(req, &manifest, &blob),
        }
    });
    let (_tmp, client) = fake_client(&server);
    // 503 then 200.
    assert_eq!(client.get_manifest("app", "1").unwrap().digest, digest(&img.manifest.digest));
    assert_eq!(unavailable.load(Ordering::SeqCst), 2);
    // 429 with Retry-After: 1 then 200, after waiting the second.
    let started = Instant::now();
    assert_eq!(client.fetch_blob("app", &digest(&img.config.digest), 1 << 20).unwrap(), img.config.bytes);
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(limited.load(Ordering::SeqCst), 2);

    // 404 and 403 are answers, not failures: one request each.
    calls.lock().unwrap().clear();
    assert!(matches!(client.get_manifest("app", "missing"), Err(Error::NotFound { .. })));
    match client.get_manifest("app", "forbidden") {
        Err(e @ Error::Denied { .. }) => assert!(!e.is_transient() && e.status() == Some(403)),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.lock().unwrap().len(), 2, "{:?}", calls.lock().unwrap());

    // A Retry-After date in the past means "now": retried without waiting, then the
    // error is transient and says 429.
    let started = Instant::now();
    match client.get_manifest("app", "dated") {
        Err(e @ Error::Status { status: 429, .. }) => assert!(e.is_transient()),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(calls.lock().unwrap().iter().filter(|p| p.ends_with("/dated")).count(), 4, "1 + 3 retries");
}

#[test]
fn retries_timeouts_and_dropped_connections() {
    let img = build_image("amd64", &[&[("a", b"a")]]);
    let (manifest, blob) = (img.manifest.clone(), img.config.clone());
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    // The first answer is a connection closed without a response.
    let server = TestServer::start(move |req| {
        if a.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::Close;
        }
        serve_small(req, &manifest, &blob)
    });
    let tmp = tempfile::tempdir().unwrap();
    let opts = RegistryOptions {
        retry: Some(RetryPolicy { base_delay: Duration::from_millis(50), ..RetryPolicy::default() }),
        ..isolated(tmp.path())
    };
    let client = Client::new(&server.host(), &opts).unwrap();
    assert_eq!(client.get_manifest("app", "1").unwrap().digest, digest(&img.manifest.digest));
    assert!(attempts.load(Ordering::SeqCst) >= 2);

    // A registry that does not answer within the read timeout the first time.
    let img2 = build_image("amd64", &[&[("b", b"b")]]);
    let (manifest, blob) = (img2.manifest.clone(), img2.config.clone());
    let slow = Arc::new(AtomicUsize::new(0));
    let s = slow.clone();
    let server = TestServer::start(move |req| {
        if s.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1500));
        }
        serve_small(req, &manifest, &blob)
    });
    let client = Client::new(
        &server.host(),
        &RegistryOptions { read_timeout: Some(Duration::from_millis(300)), ..opts.clone() },
    )
    .unwrap();
    assert_eq!(client.get_manifest("app", "1").unwrap().digest, digest(&img2.manifest.digest));
    assert_eq!(slow.load(Ordering::SeqCst), 2, "timed out once, then retried");
    // One that never answers in time: a transient timeout error after the retries.
    let server = TestServer::start(|_| {
        std::thread::sleep(Duration::from_millis(1000));
        Reply::new(500)
    });
    let client = Client::new(
        &server.host(),
        &RegistryOptions {
            read_timeout: Some(Duration::from_millis(200)),
            retry: Some(RetryPolicy { retries: 1, base_delay: Duration::from_millis(10), ..RetryPolicy::default() }),
            ..opts
        },
    )
    .unwrap();
    match client.get_manifest("app", "1") {
        Err(e @ Error::Transport { kind: bulwark_registry::TransportKind::Timeout, .. }) => assert!(e.is_transient()),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen().len(), 2, "1 + 1 retry");
}

#[test]
fn hostile_registry_gets_typed_errors() {
    let img = build_image("amd64", &[&[("a", b"some layer content")]]);
    let layer = img.layers[0].clone();
    let (manifest, config) = (img.manifest.clone(), img.config.clone());
    let host = Arc::new(std::sync::OnceLock::<String>::new());
    let h = host.clone();
    let server = TestServer::start(move |req| {
        let p = req.path();
        if p == format!("/v2/wrong/blobs/{}", layer.digest) {
            let mut bytes = layer.bytes.clone();
            bytes[0] ^= 1;
            return Reply::new(200).body(bytes);
        }
        if p == format!("/v2/short/blobs/{}", layer.digest) {
            // Declares the full size, sends half, hangs up.
            let half = layer.bytes[..layer.bytes.len() / 2].to_vec();
            return Reply::new(200)
                .header("Content-Length", &layer.bytes.len().to_string())
                .body(half)
                .without_length();
        }
        if p == format!("/v2/long/blobs/{}", layer.digest) {
            let mut bytes = layer.bytes.clone();
            bytes.extend_from_slice(b"trailing");
            return Reply::new(200).body(bytes).without_length();
        }
        if p == "/v2/huge/manifests/1" {
            return Reply::Endless {
                status: 200,
                headers: vec![("Content-Type".into(), OCI_MANIFEST.into())],
                cap: 1 << 30,
            };
        }
        if p == "/v2/endless/tags/list" {
            // Every page links to another.
            let n = req.query().iter().find(|(k, _)| k == "last").map_or(0, |(_, v)| v.parse::<u64>().unwrap() + 1);
            return Reply::json(200, &json!({"name": "endless", "tags": [n.to_string()]}))
                .header("Link", &format!("</v2/endless/tags/list?last={n}>; rel=\"next\""));
        }
        if p == "/v2/away/tags/list" {
            return Reply::json(200, &json!({"tags": ["a"]})).header("Link", "<http://evil.example/steal>; rel=next");
        }
        if p == "/v2/garbage/tags/list" {
            return Reply::new(200).body(b"<html>not json</html>".to_vec());
        }
        if p.starts_with("/v2/tokenjunk/") {
            if req.header("authorization").is_some() {
                return serve_small(req, &manifest, &config);
            }
            let realm = format!("http://{}/junk-token", h.get().unwrap());
            return Reply::new(401).header("WWW-Authenticate", &format!("Bearer realm=\"{realm}\",service=x"));
        }
        if p == "/junk-token" {
            return Reply::new(200).body(b"<html>login page</html>".to_vec());
        }
        serve_small(req, &manifest, &config)
    });
    host.set(server.host()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let opts = RegistryOptions {
        limits: Some(Limits { max_manifest_bytes: 64 << 10, max_pages: 50, ..Limits::default() }),
        ..isolated(tmp.path())
    };
    let client = Client::new(&server.host(), &opts).unwrap();
    let size = Some(img.layers[0].bytes.len() as u64);
    let d = digest(&img.layers[0].digest);
    let read = |repo: &str, size: Option<u64>| -> Result<Vec<u8>, Error> {
        let mut blob = client.open_blob(repo, &d, size)?;
        let mut buf = Vec::new();
        match blob.read_to_end(&mut buf) {
            Ok(_) => Ok(buf),
            Err(e) => match e.into_inner().map(|b| b.downcast::<Error>()) {
                Some(Ok(inner)) => Err(*inner),
                other => panic!("untyped read error: {other:?}"),
            },
        }
    };
    match read("wrong", size) {
        Err(Error::DigestMismatch { expected, .. }) => assert_eq!(expected, d),
        other => panic!("{other:?}"),
    }
    match read("wrong", None) {
        Err(Error::DigestMismatch { .. }) => {}
        other => panic!("{other:?}"),
    }
    // Truncated: the body ends before its Content-Length.
    let mut blob = client.open_blob("short", &d, size).unwrap();
    let mut buf = Vec::new();
    assert!(blob.read_to_end(&mut buf).is_err(), "a truncated blob read to a clean EOF");
    // Bytes beyond the descriptor's size.
    match read("long", size) {
        Err(Error::SizeMismatch { expected, .. }) => assert_eq!(Some(expected), size),
        other => panic!("{other:?}"),
    }
    match client.get_manifest("huge", "1") {
        Err(Error::TooLarge { kind: Limit::ManifestBytes, limit, size, .. }) => {
            assert_eq!((limit, size), (64 << 10, (64 << 10) + 1))
        }
        other => panic!("{other:?}"),
    }
    match client.list_tags("endless", None) {
        Err(Error::TooManyPages { limit: 50, .. }) => {}
        other => panic!("{other:?}"),
    }
    match client.list_tags("away", None) {
        Err(Error::Invalid { reason, .. }) => assert!(reason.contains("origin"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(client.list_tags("garbage", None), Err(Error::Invalid { .. })));
    match client.get_manifest("tokenjunk", "1") {
        Err(Error::Token { reason, status: None, .. }) => assert!(reason.contains("invalid JSON"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_http_registry_outside_loopback_needs_insecure() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let img = build_image("amd64", &[&[("a", b"a")]]);
    push_image(&Client::new(&reg.host(), &isolated(tmp.path())).unwrap(), "app", &img, "1");
    // 0.0.0.0 reaches the loopback listener on Linux but is not a loopback name, so
    // the client treats it as any remote registry: HTTPS only.
    let remote = format!("0.0.0.0:{}", reg.port);
    let client = Client::new(&remote, &isolated(tmp.path())).unwrap();
    match client.get_manifest("app", "1") {
        Err(e @ Error::PlainHttp { .. }) => {
            assert!(matches!(&e, Error::PlainHttp { registry } if *registry == remote));
            assert!(!e.is_transient());
        }
        other => panic!("{other:?}"),
    }
    let insecure = Client::new(&remote, &RegistryOptions { insecure: true, ..isolated(tmp.path()) }).unwrap();
    assert_eq!(insecure.get_manifest("app", "1").unwrap().digest, digest(&img.manifest.digest));
}
