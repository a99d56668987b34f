//! `bulwark sign`, `verify`, `attest`, `verify-attestation` and `scan --sign` against a real
//! `docker-registry`, interoperability with skopeo (containers/image), and hostile
//! registries (an in-process server for what a real registry will not serve).
//!
//! Needs `docker-registry`, `skopeo` and `htpasswd`; fails (never skips) without them.

use crate::support::sign as sign_support;
use bulwark_testkit::registry as harness;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use bulwark_registry::{Client, OCI_MANIFEST, RegistryOptions};
use bulwark_sign::cosign::{self, Layer};
use bulwark_sign::keys::SigningKey;
use harness::*;
use serde_json::{Value, json};
use sign_support::*;

const COSIGN_PUB: &str = "signatures/containers-image/signature/fixtures/cosign.pub";

fn shared(rel: &str) -> String {
    let root = std::env::var("BULWARK_SHARED").unwrap_or_else(|_| "../../../shared".into());
    format!("{root}/{rel}")
}

fn client(reg: &RegistryProcess) -> Client {
    Client::new(&reg.host(), &RegistryOptions::default()).unwrap()
}

/// Pushes `layers` as the `.sig` manifest of `digest` in `repo`, as a hostile signer would.
fn push_sig_manifest(c: &Client, repo: &str, digest: &str, layers: &[Layer], repeat: usize) {
    let mut descriptors = Vec::new();
    for l in layers {
        c.push_blob_bytes(repo, &l.content).unwrap();
        descriptors.push(l.descriptor());
    }
    let descriptors: Vec<_> = descriptors.iter().cycle().take(layers.len() * repeat).cloned().collect();
    let (config, manifest) = bulwark_sign::manifest::build(&descriptors);
    c.push_blob_bytes(repo, &config).unwrap();
    c.put_manifest(repo, &cosign::signature_tag(digest).unwrap(), OCI_MANIFEST, &manifest).unwrap();
}

fn verify_json(image: &str, key: &Path, home: &Path) -> (i32, Value) {
    let out = bulwark(&["verify", image, "--key", key.to_str().unwrap(), "--format", "json"], home);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), doc)
}

#[test]
fn sign_appends_and_verify_needs_one_good_signature() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let image = format!("{}/team/app:1", reg.host());
    let digest = push_debian(home, &image, b"one", None);
    let (k1, p1) = keypair(home, "k1");
    let (k2, p2) = keypair(home, "k2");

    let out = bulwark(&["sign", &image, "--key", k1.to_str().unwrap(), "-a", "team=payments", "-a", "build=42"], home);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("tag-schema index"), "{}", stderr(&out));
    let out = bulwark(&["sign", &image, "--key", k2.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Both signatures are layers of the one cosign manifest, k1's first.
    let c = client(&reg);
    let sig = c.get_manifest("team/app", &cosign::signature_tag(&digest).unwrap()).unwrap();
    let layers = bulwark_sign::manifest::parse(&sig.bytes).unwrap();
    assert_eq!(layers.len(), 2);
    // And two referrers in the tag-schema index (docker-registry 2.8 has no referrers API).
    let refs = c.referrers("team/app", &digest.parse().unwrap(), None).unwrap();
    assert_eq!(refs.source, bulwark_registry::ReferrersSource::TagSchema);
    assert_eq!(refs.manifests.len(), 2);

    let (code, doc) = verify_json(&image, &p1, home);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["digest"], digest);
    let sigs = doc["signatures"].as_array().unwrap();
    // Tag and referrer copies of a signature count once.
    assert_eq!(sigs.len(), 2, "{doc}");
    let good: Vec<_> = sigs.iter().filter(|s| s["verified"] == true).collect();
    assert_eq!(good.len(), 1);
    assert_eq!(good[0]["optional"], json!({"build": "42", "team": "payments"}));
    assert_eq!(good[0]["dockerReference"], format!("{}/team/app", reg.host()));
    assert!(sigs.iter().any(|s| s["reason"].as_str().is_some_and(|r| r.contains("does not verify"))), "{doc}");

    // Several keys: any one verifies; both signatures verify.
    let out = bulwark(&["verify", &image, "--key", p1.to_str().unwrap(), "--key", p2.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).matches("verified  ").count(), 2, "{}", stdout(&out));

    // A key that signed nothing: exit 1 with each signature's reason.
    let out = bulwark(&["verify", &image, "--key", &shared(COSIGN_PUB)], home);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).matches("FAILED").count(), 2, "{}", stdout(&out));

    // The tag moves to another image: what it names now is unsigned.
    push_debian(home, &image, b"two", None);
    let out = bulwark(&["verify", &image, "--key", p1.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no signatures found"), "{}", stderr(&out));
    // The signed digest still verifies.
    let by_digest = format!("{}/team/app@{digest}", reg.host());
    assert_eq!(bulwark(&["verify", &by_digest, "--key", p1.to_str().unwrap()], home).status.code(), Some(0));
    // No trust material is an error, never a pass.
    assert_eq!(bulwark(&["verify", &by_digest], home).status.code(), Some(2));
    // A tag that does not resolve is never signed.
    let out = bulwark(&["sign", &format!("{}/team/app:nope", reg.host()), "--key", k1.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn scan_sign_attests_only_a_passing_image_and_verify_attestation_checks_the_verdict() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let image = format!("{}/app:1", reg.host());
    let digest = push_debian(home, &image, b"x", None);
    let (key, public) = keypair(home, "k");
    let (pass, fail) = (policy(home, "debian-only", "debian"), policy(home, "alpine-only", "alpine"));
    let (key, public) = (key.to_str().unwrap(), public.to_str().unwrap());
    let scan = |policy: &Path| {
        bulwark(
            &[
                "scan",
                &image,
                "--scanners",
                "config",
                "--policy",
                policy.to_str().unwrap(),
                "--sign",
                "--key",
                key,
                "-q",
            ],
            home,
        )
    };

    // Failing policy: exit 1, nothing signed.
    let out = scan(&fail);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not signed"), "{}", stderr(&out));
    assert!(!tags(&format!("{}/app", reg.host()), None).iter().any(|t| t.ends_with(".sig")));

    // A wrong password (the key is decrypted while the scan runs): exit 2, nothing signed.
    let out = bulwark_env(
        &["scan", &image, "--scanners", "config", "--policy", pass.to_str().unwrap(), "--sign", "--key", key, "-q"],
        home,
        &[("BULWARK_KEY_PASSWORD", "not the password")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    assert!(!tags(&format!("{}/app", reg.host()), None).iter().any(|t| t.ends_with(".sig") || t.ends_with(".att")));

    let out = scan(&pass);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(bulwark(&["verify", &image, "--key", public], home).status.code(), Some(0));
    let att_tag = format!("sha256-{}.att", &digest[7..]);
    assert!(tags(&format!("{}/app", reg.host()), None).contains(&att_tag));

    let va = |extra: &[&str]| {
        let mut args = vec!["verify-attestation", image.as_str(), "--key", public, "--format", "json"];
        args.extend_from_slice(extra);
        let out = bulwark(&args, home);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap(), doc, stderr(&out))
    };
    let (code, doc, err) = va(&["--type", "verdict", "--max-age", "24h", "--policy", pass.to_str().unwrap()]);
    assert_eq!(code, 0, "{err} {doc}");
    let ok = doc["attestations"].as_array().unwrap().iter().find(|a| a["verified"] == true).unwrap().clone();
    assert_eq!(ok["predicate"]["verdict"], "pass");
    assert_eq!(ok["predicate"]["image"]["digest"], digest);
    assert_eq!(ok["predicate"]["policy"]["name"], "debian-only");
    assert_eq!(ok["predicate"]["scanner"]["name"], "bulwark");
    // The predicate is valid under the committed schema.
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/verdict.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&ok["predicate"]).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Another policy's content: refused, with the reason.
    let (code, doc, _) = va(&["--type", "verdict", "--policy", fail.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(doc.to_string().contains("made under policy debian-only"), "{doc}");
    // Too old.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, doc, _) = va(&["--type", "verdict", "--max-age", "1s"]);
    assert_eq!(code, 1);
    assert!(doc.to_string().contains("older than"), "{doc}");
    // SBOM and vuln attestations were attached in the same run.
    let (code, doc, _) = va(&["--type", "sbom"]);
    assert_eq!(code, 0, "{doc}");
    let sbom = doc["attestations"].as_array().unwrap().iter().find(|a| a["verified"] == true).unwrap().clone();
    assert_eq!(sbom["predicate"]["bomFormat"], "CycloneDX");
    let (code, doc, _) = va(&["--type", "vuln"]);
    assert_eq!(code, 0, "{doc}");
    // Another key: nothing accepted.
    let out = bulwark(&["verify-attestation", &image, "--key", &shared(COSIGN_PUB)], home);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn attest_from_a_saved_report() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let digest = push_debian(home, &format!("{}/app:1", reg.host()), b"y", None);
    let image = format!("{}/app@{digest}", reg.host());
    let (key, public) = keypair(home, "k");
    let pass = policy(home, "debian-only", "debian");
    let report = home.join("report.json");
    let out = bulwark(
        &["scan", &image, "--scanners", "config", "--format", "json", "-o", report.to_str().unwrap(), "-q"],
        home,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = bulwark(
        &[
            "attest",
            &image,
            "--key",
            key.to_str().unwrap(),
            "--type",
            "verdict",
            "--report",
            report.to_str().unwrap(),
            "--policy",
            pass.to_str().unwrap(),
        ],
        home,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = bulwark(
        &["verify-attestation", &image, "--key", public.to_str().unwrap(), "--policy", pass.to_str().unwrap()],
        home,
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    // A report of another image is refused.
    let other = push_debian(home, &format!("{}/app:2", reg.host()), b"z", None);
    let out = bulwark(
        &[
            "attest",
            &format!("{}/app@{other}", reg.host()),
            "--key",
            key.to_str().unwrap(),
            "--type",
            "sbom",
            "--report",
            report.to_str().unwrap(),
        ],
        home,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the report is of"), "{}", stderr(&out));
}

#[test]
fn hostile_signatures_in_a_real_registry_each_get_a_reason() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let c = client(&reg);
    let a = push_debian(home, &format!("{}/app:a", reg.host()), b"a", None);
    let (key_path, public) = keypair(home, "k");
    let key = SigningKey::from_pem(&std::fs::read(&key_path).unwrap(), KEY_PASSWORD.as_bytes()).unwrap();
    let name = format!("{}/app", reg.host());
    let case = |tag: &str, layers: Vec<Layer>, repeat: usize, want: &str| {
        let digest = push_debian(home, &format!("{}/app:{tag}", reg.host()), tag.as_bytes(), None);
        push_sig_manifest(&c, "app", &digest, &layers, repeat);
        let (code, doc) = verify_json(&format!("{}/app:{tag}", reg.host()), &public, home);
        assert_eq!(code, 1, "{tag}: {doc}");
        assert!(doc.to_string().contains(want), "{tag}: {doc}");
        digest
    };
    // Replay: A's valid signature under B's tag.
    let for_a = cosign::sign_image(&key, &name, &a, &BTreeMap::new()).unwrap();
    case("replay", vec![for_a.clone()], 1, &format!("signed payload is for {a}"));
    // A payload whose docker-manifest-digest matches nothing.
    let nowhere = format!("sha256:{}", "ab".repeat(32));
    case(
        "mismatch",
        vec![cosign::sign_image(&key, &name, &nowhere, &BTreeMap::new()).unwrap()],
        1,
        "signed payload is for sha256:abab",
    );
    // A layer that is not a signature, carrying a copied signature annotation.
    let mut other = for_a.clone();
    other.media_type = "text/plain".into();
    other.content = b"this is not a signature".to_vec();
    case("mediatype", vec![other], 1, "wrong media type \\\"text/plain\\\"");
    // 10,000 layers: refused before any layer is fetched.
    case("many", vec![for_a], 10_000, "10000 layers, over the 1000 accepted");
}

/// A registry that serves one image and a `.sig` manifest of our choosing, and a blob that
/// never ends.
fn hostile_registry(sig_manifest: Value, image_manifest: Vec<u8>) -> TestServer {
    let image_digest = sha256_digest(&image_manifest);
    let sig_tag = format!("sha256-{}.sig", &image_digest[7..]);
    let sig_bytes = serde_json::to_vec(&sig_manifest).unwrap();
    TestServer::start(move |req| {
        let path = req.path().to_owned();
        if path == "/v2/" {
            Reply::new(200)
        } else if path.ends_with("/manifests/1") || path.ends_with(&format!("/manifests/{image_digest}")) {
            Reply::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &image_digest)
                .body(image_manifest.clone())
        } else if path.ends_with(&format!("/manifests/{sig_tag}")) {
            Reply::new(200).header("Content-Type", OCI_MANIFEST).body(sig_bytes.clone())
        } else if path.contains("/blobs/") {
            Reply::Endless { status: 200, headers: vec![], cap: 2 << 30 }
        } else {
            Reply::json(404, &json!({"errors": [{"code": "NAME_UNKNOWN", "message": "no"}]}))
        }
    })
}

#[test]
fn hostile_registry_sizes_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let (_, public) = keypair(home, "k");
    let img = build_image("amd64", &[&[("a", b"a")]]);
    let layer = |size: u64| {
        json!({"mediaType": cosign::SIMPLE_SIGNING_MEDIA_TYPE, "digest": sha256_digest(b"x"), "size": size,
                                   "annotations": {cosign::SIGNATURE_ANNOTATION: "AA=="}})
    };
    // A 1 GiB signature layer, declared: refused from the manifest.
    let server = hostile_registry(json!({"schemaVersion": 2, "layers": [layer(1 << 30)]}), img.manifest.bytes.clone());
    let (code, doc) = verify_json(&format!("{}/app:1", server.host()), &public, home);
    assert_eq!(code, 1, "{doc}");
    assert!(doc.to_string().contains("is 1073741824 bytes, over the 134217728 accepted"), "{doc}");
    assert_eq!(server.streamed.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A layer that says 600 bytes and never ends: cut off right after the declared size.
    let server = hostile_registry(json!({"schemaVersion": 2, "layers": [layer(600)]}), img.manifest.bytes.clone());
    let (code, doc) = verify_json(&format!("{}/app:1", server.host()), &public, home);
    assert_eq!(code, 1, "{doc}");
    assert!(
        doc.to_string().contains("over the limit of 600 bytes") || doc.to_string().contains("size mismatch"),
        "{doc}"
    );
    assert!(server.streamed.load(std::sync::atomic::Ordering::SeqCst) < 64 << 20);
}

fn skopeo(args: &[&str], home: &Path) -> std::process::Output {
    require_tool("skopeo");
    Command::new("skopeo")
        .args(args)
        .env("HOME", home)
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .output()
        .unwrap()
}

/// skopeo (containers/image) reads the signatures Bulwark stores and stores signatures
/// Bulwark verifies; and where the packaged skopeo can sign or check sigstore policies,
/// it agrees with Bulwark. Debian's 1.9.3 is built with both off: the test pins the
/// exact refusal so that a skopeo that can do it is tested for real.
#[test]
fn skopeo_interoperates_with_bulwark_signatures() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    std::fs::write(home.join("auth.json"), "{}").unwrap();
    let regd = home.join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(regd.join("default.yaml"), "default-docker:\n  use-sigstore-attachments: true\n").unwrap();
    let regd_s = regd.to_str().unwrap();
    let image = format!("{}/app:1", reg.host());
    let digest = push_debian(home, &image, b"s", None);
    let (key, public) = keypair(home, "k");
    let out = bulwark(&["sign", &image, "--key", key.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // skopeo reads our .sig attachment into a dir: image: the same layer, which verifies.
    let dir = home.join("dir");
    let out = skopeo(
        &[
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{image}"),
            &format!("dir:{}", dir.display()),
        ],
        home,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layer = Layer::from_containers_image(&std::fs::read(dir.join("signature-1")).unwrap()).unwrap();
    let trust = cosign::TrustPolicy {
        keys: vec![bulwark_sign::keys::PublicKey::from_pem(&std::fs::read(&public).unwrap()).unwrap()],
        ..Default::default()
    };
    trust.verify_signature(&layer, &digest).unwrap();
    assert!(!dir.join("signature-2").exists());

    // skopeo writes the .sig attachment itself into another repository: Bulwark verifies it.
    let copied = format!("{}/copied:1", reg.host());
    let out = skopeo(
        &[
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "copy",
            "--dest-tls-verify=false",
            &format!("dir:{}", dir.display()),
            &format!("docker://{copied}"),
        ],
        home,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tags(&format!("{}/copied", reg.host()), None).contains(&format!("sha256-{}.sig", &digest[7..])));
    assert_eq!(bulwark(&["verify", &copied, "--key", public.to_str().unwrap()], home).status.code(), Some(0));
    // ... and a cosign signature by another key, stored by skopeo, is refused.
    std::fs::copy(
        shared("signatures/containers-image/signature/fixtures/unknown-cosign-key.signature"),
        dir.join("signature-1"),
    )
    .unwrap();
    let foreign = format!("{}/foreign:1", reg.host());
    let out = skopeo(
        &[
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "copy",
            "--dest-tls-verify=false",
            &format!("dir:{}", dir.display()),
            &format!("docker://{foreign}"),
        ],
        home,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bulwark(&["verify", &foreign, "--key", public.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("does not verify"), "{}", stdout(&out));

    // skopeo signing with a Bulwark-generated key.
    let pass_file = home.join("pass");
    std::fs::write(&pass_file, KEY_PASSWORD).unwrap();
    let signed = format!("{}/skopeo-signed:1", reg.host());
    let out = skopeo(
        &[
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key",
            key.to_str().unwrap(),
            "--sign-passphrase-file",
            pass_file.to_str().unwrap(),
            &format!("docker://{image}"),
            &format!("docker://{signed}"),
        ],
        home,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert_eq!(bulwark(&["verify", &signed, "--key", public.to_str().unwrap()], home).status.code(), Some(0));
    } else {
        assert!(err.contains("creating signature: Debian-local change: sigstore disabled"), "{err}");
    }

    // skopeo verifying under a sigstoreSigned policy with our public key.
    let policy = home.join("policy.json");
    let policy_for = |key: &str| {
        let p = json!({"default": [{"type": "reject"}], "transports": {"docker": {reg.host(): [
            {"type": "sigstoreSigned", "keyPath": key, "signedIdentity": {"type": "matchRepository"}}]}}});
        std::fs::write(&policy, p.to_string()).unwrap();
    };
    policy_for(public.to_str().unwrap());
    let pull = |from: &str| {
        let dest = home.join(format!("pulled-{}", from.replace(['/', ':'], "_")));
        skopeo(
            &[
                "--policy",
                policy.to_str().unwrap(),
                "--registries.d",
                regd_s,
                "copy",
                "--src-tls-verify=false",
                &format!("docker://{from}"),
                &format!("dir:{}", dest.display()),
            ],
            home,
        )
    };
    let out = pull(&image);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        // A working sigstore build: another key's signature and a changed image are refused.
        assert!(!pull(&foreign).status.success());
        policy_for(&shared(COSIGN_PUB));
        assert!(!pull(&image).status.success());
    } else {
        assert!(err.contains("Source image rejected: Debian-local change: sigstore disabled"), "{err}");
    }
}

/// Serves the image `manifest` as `app:1` and `layers` as its `.sig` manifest: how real
/// cosign signatures (whose images we do not have) reach `bulwark verify`.
fn fixture_registry(manifest: Vec<u8>, layers: Vec<Layer>) -> TestServer {
    let digest = sha256_digest(&manifest);
    let media_type =
        serde_json::from_slice::<Value>(&manifest).unwrap()["mediaType"].as_str().unwrap_or(OCI_MANIFEST).to_owned();
    let (config, sig) = bulwark_sign::manifest::build(&layers.iter().map(Layer::descriptor).collect::<Vec<_>>());
    let mut blobs: BTreeMap<String, Vec<u8>> = layers.iter().map(|l| (l.digest(), l.content.clone())).collect();
    blobs.insert(sha256_digest(&config), config);
    let sig_tag = format!("sha256-{}.sig", &digest[7..]);
    TestServer::start(move |req| {
        let path = req.path();
        let found = |body: &[u8], ct: &str| {
            Reply::new(200)
                .header("Content-Type", ct)
                .header("Docker-Content-Digest", &sha256_digest(body))
                .body(body.to_vec())
        };
        if path == "/v2/" {
            Reply::new(200)
        } else if path == "/v2/app/manifests/1" || path == format!("/v2/app/manifests/{digest}") {
            found(&manifest, &media_type)
        } else if path == format!("/v2/app/manifests/{sig_tag}") {
            found(&sig, OCI_MANIFEST)
        } else if let Some(b) = path.strip_prefix("/v2/app/blobs/").and_then(|d| blobs.get(d)) {
            found(b, "application/octet-stream")
        } else {
            Reply::json(404, &json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}))
        }
    })
}

/// Keyless (Fulcio + Rekor, offline, at the integrated time) and bring-your-own PKI through
/// the CLI, with real cosign signatures.
#[test]
fn keyless_and_pki_cosign_signatures_verify_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let fix = "signatures/containers-image/signature/fixtures";
    let read = |rel: &str| std::fs::read(shared(&format!("{fix}/{rel}"))).unwrap();
    let layer = |rel: &str| Layer::from_containers_image(&read(rel)).unwrap();
    let root = shared("signatures/sigstore-cosign/pkg/cosign/testdata/trusted_root_pgi.json");

    let server = fixture_registry(
        read("dir-img-cosign-fulcio-rekor-valid/manifest.json"),
        vec![layer("dir-img-cosign-fulcio-rekor-valid/signature-1")],
    );
    let image = format!("{}/app:1", server.host());
    let keyless = |identity: &str| {
        bulwark(
            &[
                "verify",
                &image,
                "--trusted-root",
                &root,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
            ],
            home,
        )
    };
    let out = keyless("mitr@redhat.com");
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("certificate mitr@redhat.com (issuer https://github.com/login/oauth)"),
        "{}",
        stdout(&out)
    );
    let out = keyless("someone@example.com");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("does not match the required \"someone@example.com\""), "{}", stdout(&out));
    // Keyless without the identity is refused before anything is fetched.
    let out = bulwark(&["verify", &image, "--trusted-root", &root], home);
    assert_eq!(out.status.code(), Some(2));

    let server = fixture_registry(
        read("dir-img-cosign-pki-valid/manifest.json"),
        vec![layer("dir-img-cosign-pki-valid/signature-1")],
    );
    let image = format!("{}/app:1", server.host());
    let roots = shared(&format!("{fix}/pki_root_crts.pem"));
    let out = bulwark(&["verify", &image, "--cert-chain", &roots, "--format", "json"], home);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    // Intermediates alone are no trust anchor.
    let out = bulwark(&["verify", &image, "--cert-chain", &shared(&format!("{fix}/pki_intermediate_crts.pem"))], home);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Key + Rekor SET, and the modified-manifest case: the signature names another digest.
    let server = fixture_registry(
        read("dir-img-cosign-modified-manifest/manifest.json"),
        vec![layer("dir-img-cosign-valid/signature-1")],
    );
    let out = bulwark(&["verify", &format!("{}/app:1", server.host()), "--key", &shared(COSIGN_PUB)], home);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("signed payload is for sha256:634a8f35"), "{}", stdout(&out));
    let server = fixture_registry(
        read("dir-img-cosign-key-rekor-valid/manifest.json"),
        vec![layer("dir-img-cosign-key-rekor-valid/signature-1")],
    );
    let rekor = shared("signatures/containers-image/signature/internal/testdata/rekor.pub");
    let out = bulwark(
        &[
            "verify",
            &format!("{}/app:1", server.host()),
            "--key",
            &shared(&format!("{fix}/cosign2.pub")),
            "--rekor-key",
            &rekor,
            "--require-tlog",
            "--format",
            "json",
        ],
        home,
    );
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["signatures"][0]["integratedTime"].as_u64().is_some(), "{doc}");
}
