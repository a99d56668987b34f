//! Every fixture in `../shared/signatures` verifies or fails as its SOURCE.md says, and
//! what we sign verifies the same way. Real cosign, skopeo and Sigstore artefacts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use bulwark_sign::bundle::Bundle;
use bulwark_sign::cosign::{
    self, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, CertificateIdentity, Layer, Signer, TrustPolicy,
};
use bulwark_sign::dsse::Envelope;
use bulwark_sign::encrypted::{EncryptedKey, ScryptParams};
use bulwark_sign::intoto::{self, Statement, VerdictPredicate, VulnPredicate};
use bulwark_sign::keys::{PublicKey, SigningKey};
use bulwark_sign::trust::TrustedRoot;
use bulwark_sign::x509::{self, Certificate};
use bulwark_sign::{Error, pem};
use sha2::{Digest as _, Sha256};

fn shared() -> PathBuf {
    bulwark_testkit::shared_dir("signatures")
}

fn read(rel: &str) -> Vec<u8> {
    let path = shared().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const FIX: &str = "containers-image/signature/fixtures";
const DIGEST_SAMPLE: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
const DIGEST_KEY1: &str = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
const DIGEST_PKI: &str = "sha256:253c890b744fe3efa923b68e3a1be07bd007eb44ba29da1e7deb1d4c53b3e212";

fn layer(rel: &str) -> Layer {
    Layer::from_containers_image(&read(&format!("{FIX}/{rel}"))).unwrap()
}

fn key(rel: &str) -> PublicKey {
    PublicKey::from_pem(&read(&format!("{FIX}/{rel}"))).unwrap()
}

fn rekor_key() -> PublicKey {
    PublicKey::from_pem(&read("containers-image/signature/internal/testdata/rekor.pub")).unwrap()
}

fn trusted_root() -> TrustedRoot {
    TrustedRoot::from_json(&read("sigstore-cosign/pkg/cosign/testdata/trusted_root_pgi.json")).unwrap()
}

fn keys_policy(keys: Vec<PublicKey>) -> TrustPolicy {
    TrustPolicy { keys, ..Default::default() }
}

fn keyless(subject: &str, issuer: &str) -> TrustPolicy {
    TrustPolicy {
        trusted_root: Some(trusted_root()),
        identity: Some(CertificateIdentity { subject: subject.into(), issuer: Some(issuer.into()) }),
        ..Default::default()
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

// ---- keys ----

#[test]
fn cosign_generated_key_decrypts_with_empty_password_and_signs_for_its_public_key() {
    let key =
        SigningKey::from_pem(&read("sigstore-rs/tests/data/keys/cosign_generated_encrypted_empty_private.key"), b"")
            .unwrap();
    let public =
        PublicKey::from_pem(&read("derived/sigstore-rs/cosign_generated_encrypted_empty_private.pub")).unwrap();
    assert_eq!(key.public_key(), public);
    let layer = cosign::sign_image(&key, "registry.example/app", DIGEST_SAMPLE, &BTreeMap::new()).unwrap();
    keys_policy(vec![public]).verify_signature(&layer, DIGEST_SAMPLE).unwrap();
}

#[test]
fn cosign_key_with_a_wrong_password_is_refused() {
    let pem_text = read("sigstore-rs/tests/data/keys/cosign_generated_encrypted_empty_private.key");
    assert!(matches!(SigningKey::from_pem(&pem_text, b"not-empty"), Err(Error::WrongPassword)));
    // One altered ciphertext byte fails the same authentication tag.
    let block = pem::parse_one(&pem_text).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&block.contents).unwrap();
    let ct = json["ciphertext"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}", if ct.starts_with('A') { 'B' } else { 'A' }, &ct[1..]);
    json["ciphertext"] = flipped.into();
    let altered = pem::encode(&block.label, &serde_json::to_vec(&json).unwrap());
    assert!(matches!(SigningKey::from_pem(altered.as_bytes(), b""), Err(Error::WrongPassword)));
}

#[test]
fn generated_key_round_trips_through_cosign_format() {
    let key = SigningKey::generate().unwrap();
    let pem_text = key.to_encrypted_pem(b"correct horse").unwrap();
    assert!(pem_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let block = pem::parse_one(pem_text.as_bytes()).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&block.contents).unwrap();
    // cosign's parameters and field layout, so cosign reads the key back.
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(json["kdf"]["params"], serde_json::json!({"N": 65536, "r": 8, "p": 1}));
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    let parsed = EncryptedKey::from_json(&block.contents).unwrap();
    assert_eq!(parsed.params, ScryptParams { n: 65536, r: 8, p: 1 });
    let again = SigningKey::from_pem(pem_text.as_bytes(), b"correct horse").unwrap();
    assert_eq!(again.public_key(), key.public_key());
    assert!(matches!(SigningKey::from_pem(pem_text.as_bytes(), b"wrong"), Err(Error::WrongPassword)));
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let out =
        Command::new("openssl").args(args).current_dir(dir).output().expect("openssl must be installed for this test");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn openssl_sec1_and_pkcs8_p256_keys_sign_and_p384_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sec1.pem"], d);
    openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", "sec1.pem", "-out", "pkcs8.pem"], d);
    openssl(&["ec", "-in", "sec1.pem", "-pubout", "-out", "pub.pem"], d);
    openssl(&["ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "p384.pem"], d);
    let public = PublicKey::from_pem(&std::fs::read(d.join("pub.pem")).unwrap()).unwrap();
    for file in ["sec1.pem", "pkcs8.pem"] {
        let key = SigningKey::from_pem(&std::fs::read(d.join(file)).unwrap(), b"").unwrap();
        assert_eq!(key.public_key(), public, "{file}");
        // openssl verifies our signature: the format is the standard one.
        std::fs::write(d.join("msg"), b"payload").unwrap();
        std::fs::write(d.join("sig"), key.sign(b"payload").unwrap()).unwrap();
        openssl(&["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"], d);
    }
    let p384 = SigningKey::from_pem(&std::fs::read(d.join("p384.pem")).unwrap(), b"");
    assert!(matches!(p384, Err(Error::UnsupportedKey(_))), "{p384:?}");
}

// ---- key-based signatures (containers/image fixtures, made by cosign and skopeo) ----

#[test]
fn cosign_and_skopeo_key_signatures_verify() {
    let policy = keys_policy(vec![key("cosign.pub")]);
    for file in [
        "dir-img-cosign-valid/signature-1",
        "dir-img-cosign-valid-2/signature-2",
        "dir-img-cosign-valid-with-tag/signature-1",
    ] {
        let v = policy.verify_signature(&layer(file), DIGEST_SAMPLE).unwrap();
        assert!(matches!(v.signer, Signer::Key { .. }), "{file}");
        assert_eq!(v.integrated_time, None);
    }
    // The manifest in the fixture is the one signed.
    assert_eq!(sha256(&read(&format!("{FIX}/dir-img-cosign-valid/manifest.json"))), DIGEST_SAMPLE);
}

#[test]
fn any_one_of_several_keys_suffices() {
    let policy = keys_policy(vec![key("cosign2.pub"), key("cosign.pub")]);
    let v = policy.verify_signature(&layer("dir-img-cosign-valid/signature-1"), DIGEST_SAMPLE).unwrap();
    assert_eq!(v.signer, Signer::Key { key_id: key("cosign.pub").key_id() });
}

#[test]
fn key_signature_with_rekor_set_verifies_and_reports_integrated_time() {
    let policy = TrustPolicy {
        keys: vec![key("cosign2.pub")],
        rekor_keys: vec![rekor_key()],
        require_tlog: true,
        ..Default::default()
    };
    let v = policy.verify_signature(&layer("dir-img-cosign-key-rekor-valid/signature-1"), DIGEST_KEY1).unwrap();
    assert_eq!(v.integrated_time, Some(1_674_251_859));
    // Without a rekor key the SET cannot be checked, and a policy that requires it fails.
    let no_rekor = TrustPolicy { keys: vec![key("cosign2.pub")], require_tlog: true, ..Default::default() };
    assert!(matches!(
        no_rekor.verify_signature(&layer("dir-img-cosign-key-rekor-valid/signature-1"), DIGEST_KEY1),
        Err(Error::NoTrust(_))
    ));
    // A signature without any bundle fails a policy that requires one.
    let l = layer("dir-img-cosign-valid/signature-1");
    let strict = TrustPolicy { keys: vec![key("cosign.pub")], require_tlog: true, ..Default::default() };
    assert!(matches!(strict.verify_signature(&l, DIGEST_SAMPLE), Err(Error::MissingTlog)));
}

#[test]
fn unknown_key_fails_with_no_key_verifies() {
    let policy = keys_policy(vec![key("cosign.pub"), key("cosign2.pub")]);
    let err = policy
        .verify_signature(
            &Layer::from_containers_image(&read(&format!("{FIX}/unknown-cosign-key.signature"))).unwrap(),
            DIGEST_SAMPLE,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NoKeyVerifies { count: 2 }), "{err}");
}

#[test]
fn other_attachment_fails_on_media_type() {
    let err = keys_policy(vec![key("cosign.pub")])
        .verify_signature(&layer("dir-img-cosign-other-attachment/signature-1"), DIGEST_SAMPLE)
        .unwrap_err();
    assert!(matches!(err, Error::WrongMediaType { ref found, .. } if found == "text/plain"), "{err}");
}

#[test]
fn modified_manifest_and_replay_fail_on_digest() {
    let modified = sha256(&read(&format!("{FIX}/dir-img-cosign-modified-manifest/manifest.json")));
    let err = keys_policy(vec![key("cosign.pub")])
        .verify_signature(&layer("dir-img-cosign-valid/signature-1"), &modified)
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { ref found, .. } if found == DIGEST_SAMPLE), "{err}");
}

#[test]
fn tampered_payload_fails_on_signature() {
    let mut l = layer("dir-img-cosign-valid/signature-1");
    let text = String::from_utf8(l.content.clone()).unwrap();
    l.content = text.replace("cosign-signed-single-sample", "cosign-signed-single-sampl3").into_bytes();
    let err = keys_policy(vec![key("cosign.pub")]).verify_signature(&l, DIGEST_SAMPLE).unwrap_err();
    assert!(matches!(err, Error::NoKeyVerifies { count: 1 }), "{err}");
}

#[test]
fn bad_set_fails_and_is_never_ignored() {
    let policy = TrustPolicy { keys: vec![key("cosign2.pub")], rekor_keys: vec![rekor_key()], ..Default::default() };
    let original = layer("dir-img-cosign-key-rekor-valid/signature-1");
    // A moved integrated time (to make an expired certificate look valid) breaks the SET.
    let mut l = original.clone();
    let mut bundle: serde_json::Value = serde_json::from_str(&l.annotations[BUNDLE_ANNOTATION]).unwrap();
    bundle["Payload"]["integratedTime"] = 1_674_251_860.into();
    l.annotations.insert(BUNDLE_ANNOTATION.into(), bundle.to_string());
    assert!(matches!(policy.verify_signature(&l, DIGEST_KEY1), Err(Error::BadSet(_))));
    // A SET from an unknown log.
    let mut l = original.clone();
    let mut bundle: serde_json::Value = serde_json::from_str(&l.annotations[BUNDLE_ANNOTATION]).unwrap();
    bundle["Payload"]["logID"] = "00".repeat(32).into();
    l.annotations.insert(BUNDLE_ANNOTATION.into(), bundle.to_string());
    assert!(matches!(policy.verify_signature(&l, DIGEST_KEY1), Err(Error::BadSet(_))));
    // A valid SET for another entry does not vouch for this signature.
    let mut l = original;
    l.annotations.insert(
        BUNDLE_ANNOTATION.into(),
        String::from_utf8(read(
            "derived/containers-image/dir-img-cosign-fulcio-rekor-valid__signature-1/rekor-bundle.json",
        ))
        .unwrap(),
    );
    let err = policy.verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::TlogMismatch(_)), "{err}");
}

// ---- keyless: Fulcio certificate + Rekor SET, offline, at the integrated time ----

const GH_OAUTH: &str = "https://github.com/login/oauth";

#[test]
fn fulcio_rekor_signature_verifies_against_the_trusted_root() {
    let policy = keyless("mitr@redhat.com", GH_OAUTH);
    let v = policy.verify_signature(&layer("dir-img-cosign-fulcio-rekor-valid/signature-1"), DIGEST_KEY1).unwrap();
    let Signer::Certificate { identities, issuer, .. } = &v.signer else { panic!("{v:?}") };
    assert_eq!(identities, &["mitr@redhat.com"]);
    assert_eq!(issuer.as_deref(), Some(GH_OAUTH));
    // The certificate lived 10 minutes in January 2023: it is checked at Rekor's time.
    let t = v.integrated_time.unwrap();
    assert!((1_674_247_891..=1_674_248_491).contains(&t), "{t}");
}

#[test]
fn fulcio_rekor_signature_verifies_with_explicit_roots_and_rekor_key() {
    // cosign's --certificate-chain / --rekor-key style, without a trusted root file.
    let policy = TrustPolicy {
        ca_roots: Certificate::from_pem_all(&read(&format!("{FIX}/fulcio_v1.crt.pem"))).unwrap(),
        rekor_keys: vec![rekor_key()],
        identity: Some(CertificateIdentity { subject: "mitr@redhat.com".into(), issuer: Some(GH_OAUTH.into()) }),
        ..Default::default()
    };
    policy.verify_signature(&layer("dir-img-cosign-fulcio-rekor-valid/signature-1"), DIGEST_KEY1).unwrap();
}

#[test]
fn keyless_wrong_identity_and_issuer_fail() {
    let l = layer("dir-img-cosign-fulcio-rekor-valid/signature-1");
    let err = keyless("someone@example.com", GH_OAUTH).verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::IdentityMismatch { ref found, .. } if found == &["mitr@redhat.com"]), "{err}");
    let err = keyless("mitr@redhat.com", "https://accounts.google.com").verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { found: Some(ref f), .. } if f == GH_OAUTH), "{err}");
}

#[test]
fn keyless_without_rekor_bundle_fails() {
    let mut l = layer("dir-img-cosign-fulcio-rekor-valid/signature-1");
    l.annotations.remove(BUNDLE_ANNOTATION);
    let err = keyless("mitr@redhat.com", GH_OAUTH).verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::MissingTlog), "{err}");
}

#[test]
fn expired_certificate_fails_when_checked_now() {
    // The same Fulcio signature under CA roots and no Rekor time: checked now, long after
    // its ten minutes.
    let mut l = layer("dir-img-cosign-fulcio-rekor-valid/signature-1");
    l.annotations.remove(BUNDLE_ANNOTATION);
    let policy = TrustPolicy {
        ca_roots: Certificate::from_pem_all(&read(&format!("{FIX}/fulcio_v1.crt.pem"))).unwrap(),
        ..Default::default()
    };
    let err = policy.verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::CertificateNotValid { not_after: 1_674_248_491, .. }), "{err}");
    // And before it was issued.
    let early = TrustPolicy { now: Some(1_600_000_000), ..policy };
    assert!(matches!(early.verify_signature(&l, DIGEST_KEY1), Err(Error::CertificateNotValid { .. })));
}

#[test]
fn rekor_payload_signature_and_set_from_containers_image_testdata() {
    let td = "containers-image/signature/internal/testdata";
    let cert = String::from_utf8(read(&format!("{td}/rekor-cert"))).unwrap();
    let l = Layer {
        media_type: cosign::SIMPLE_SIGNING_MEDIA_TYPE.into(),
        content: read(&format!("{td}/rekor-payload")),
        annotations: BTreeMap::from([
            (cosign::SIGNATURE_ANNOTATION.into(), String::from_utf8(read(&format!("{td}/rekor-sig"))).unwrap()),
            (CERTIFICATE_ANNOTATION.into(), cert),
            (CHAIN_ANNOTATION.into(), String::from_utf8(read(&format!("{FIX}/fulcio-chain"))).unwrap()),
            (BUNDLE_ANNOTATION.into(), String::from_utf8(read(&format!("{td}/rekor-set"))).unwrap()),
        ]),
    };
    let digest = "sha256:fa93b01658e3a5a1686dc3ae55f170d8de487006fb53a28efcd12ab0710a2e5f";
    let v = keyless("mitr@redhat.com", GH_OAUTH).verify_signature(&l, digest).unwrap();
    assert_eq!(v.integrated_time, Some(1_670_870_899));
}

// ---- bring-your-own PKI (RSA) ----

#[test]
fn pki_rsa_signature_verifies_with_its_roots_only() {
    let l = layer("dir-img-cosign-pki-valid/signature-1");
    let roots = Certificate::from_pem_all(&read(&format!("{FIX}/pki_root_crts.pem"))).unwrap();
    let leaf = Certificate::from_pem(l.annotations[CERTIFICATE_ANNOTATION].as_bytes()).unwrap();
    // Check at a time inside the leaf's validity, so the test does not expire.
    let at = leaf.not_before() + 60;
    let policy = TrustPolicy { ca_roots: roots, now: Some(at), ..Default::default() };
    let v = policy.verify_signature(&l, DIGEST_PKI).unwrap();
    let Signer::Certificate { subject, .. } = &v.signer else { panic!() };
    assert!(subject.contains("Team A Cosign Certificate"), "{subject}");
    // The Fulcio root does not vouch for it.
    let wrong = TrustPolicy {
        ca_roots: Certificate::from_pem_all(&read(&format!("{FIX}/fulcio_v1.crt.pem"))).unwrap(),
        now: Some(at),
        ..Default::default()
    };
    assert!(matches!(wrong.verify_signature(&l, DIGEST_PKI), Err(Error::Chain { .. })));
    // Neither keys nor roots: nothing to verify against, which is an error, not a pass.
    assert!(matches!(TrustPolicy::default().verify_signature(&l, DIGEST_PKI), Err(Error::NoTrust(_))));
}

// ---- attestations ----

#[test]
fn sigstore_bundle_v03_dsse_attestation_verifies_offline() {
    let json = read("sigstore-cosign/pkg/cosign/testdata/oci-attestation.sigstore.json");
    let bundle = Bundle::from_json(&json).unwrap();
    let v = keyless("cody@soyland.com", GH_OAUTH).verify_bundle(&bundle).unwrap();
    assert_eq!(v.integrated_time, Some(1_740_770_291));
    assert_eq!(v.statement.predicate_type, "https://cosign.sigstore.dev/attestation/v1");
    assert!(v.statement.covers("sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"));

    let err = keyless("mitr@redhat.com", GH_OAUTH).verify_bundle(&bundle).unwrap_err();
    assert!(matches!(err, Error::IdentityMismatch { .. }), "{err}");

    // A changed statement no longer matches the signature.
    let mut tampered = bundle.clone();
    let env = tampered.dsse_envelope.as_mut().unwrap();
    let payload = String::from_utf8(env.payload_bytes().unwrap()).unwrap().replace("foo", "fox");
    env.payload = base64_encode(payload.as_bytes());
    assert!(keyless("cody@soyland.com", GH_OAUTH).verify_bundle(&tampered).is_err());

    // A broken inclusion proof is reported as such.
    let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0] = base64_encode(&[0u8; 32]).into();
    let broken = Bundle::from_json(v.to_string().as_bytes()).unwrap();
    let err = keyless("cody@soyland.com", GH_OAUTH).verify_bundle(&broken).unwrap_err();
    assert!(matches!(err, Error::BadInclusionProof(_)), "{err}");
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn policy_controller_vuln_attestation_verifies_offline() {
    let dir = "derived/policy-controller-distroless-vuln-attestation";
    let envelope_json = read(&format!("{dir}/envelope.dsse.json"));
    let envelope = Envelope::from_json(&envelope_json).unwrap();
    let annotations = BTreeMap::from([
        (CERTIFICATE_ANNOTATION.to_owned(), String::from_utf8(read(&format!("{dir}/leaf-cert.pem"))).unwrap()),
        (CHAIN_ANNOTATION.to_owned(), String::from_utf8(read(&format!("{dir}/chain.pem"))).unwrap()),
        (BUNDLE_ANNOTATION.to_owned(), String::from_utf8(read(&format!("{dir}/rekor-bundle.json"))).unwrap()),
    ]);
    let policy = keyless(
        "https://github.com/distroless/static/.github/workflows/release.yaml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    let (statement, _, at) = policy.verify_envelope(&envelope, Some(&envelope_json), &annotations).unwrap();
    assert_eq!(at, Some(1_659_061_729));
    assert_eq!(statement.predicate_type, intoto::VULN_PREDICATE_TYPE_LEGACY);
    assert!(statement.covers("sha256:a1e82f6a5f6dfc735165d3442e7cc5a615f72abac3db19452481f5f3c90fbfa8"));
    let vuln: VulnPredicate = serde_json::from_value(statement.predicate).unwrap();
    assert_eq!(vuln.scanner.uri, "https://github.com/aquasecurity/trivy");
    assert_eq!(vuln.scanner.version, "0.29.2");

    // The same envelope as a cosign `.att` layer.
    let l = Layer {
        media_type: bulwark_sign::dsse::DSSE_LAYER_MEDIA_TYPE.into(),
        content: envelope_json.clone(),
        annotations,
    };
    policy.verify_attestation(&l, "sha256:a1e82f6a5f6dfc735165d3442e7cc5a615f72abac3db19452481f5f3c90fbfa8").unwrap();
    let err = policy.verify_attestation(&l, DIGEST_SAMPLE).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

fn verdict() -> VerdictPredicate {
    serde_json::from_value(serde_json::json!({
        "image": {"reference": "registry.example/app:1.0", "digest": DIGEST_SAMPLE},
        "policy": {"name": "default", "digest": format!("sha256:{}", "ab".repeat(32))},
        "verdict": "pass",
        "summary": {"denied": 0, "warned": 2, "excepted": 1},
        "vulnerabilities": {"critical": 0, "high": 1},
        "advisoryDb": {"builtAt": "2026-12-07T10:00:00Z", "digest": format!("sha256:{}", "cd".repeat(32))},
        "scanner": {"name": "bulwark", "version": "0.1.0"},
        "scannedAt": "2026-12-07T12:00:00Z"
    }))
    .unwrap()
}

#[test]
fn our_signatures_and_verdict_attestations_round_trip() {
    let key = SigningKey::generate().unwrap();
    let annotations = BTreeMap::from([("pipeline".to_owned(), "build-42".to_owned())]);
    let l = cosign::sign_image(&key, "registry.example/app", DIGEST_SAMPLE, &annotations).unwrap();
    assert_eq!(cosign::signature_tag(DIGEST_SAMPLE).unwrap(), format!("sha256-{}.sig", &DIGEST_SAMPLE[7..]));
    let policy = keys_policy(vec![key.public_key()]);
    let v = policy.verify_signature(&l, DIGEST_SAMPLE).unwrap();
    assert_eq!(v.payload.optional.unwrap()["pipeline"], "build-42");
    // cosign's exact payload layout.
    assert!(String::from_utf8(l.content.clone()).unwrap().starts_with(
        r#"{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:634a"#
    ));
    // Replay for another image.
    let err = policy.verify_signature(&l, DIGEST_KEY1).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");

    let predicate = serde_json::to_value(verdict()).unwrap();
    let statement =
        Statement::for_image("registry.example/app", DIGEST_SAMPLE, intoto::VERDICT_PREDICATE_TYPE, predicate).unwrap();
    let att = cosign::attest_image(&key, &statement).unwrap();
    assert_eq!(att.annotations["predicateType"], intoto::VERDICT_PREDICATE_TYPE);
    let v = policy.verify_attestation(&att, DIGEST_SAMPLE).unwrap();
    let back: VerdictPredicate = serde_json::from_value(v.statement.predicate).unwrap();
    assert_eq!(back, verdict());
    let other = keys_policy(vec![SigningKey::generate().unwrap().public_key()]);
    assert!(other.verify_attestation(&att, DIGEST_SAMPLE).is_err());
}

// ---- hostile certificate chains ----

#[test]
fn certificate_chain_loop_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n").unwrap();
    std::fs::write(d.join("leaf.ext"), "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n").unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    // Self-signed A0 and B0 give the names; A is signed by B's key, B by A's: a loop.
    for (name, cn) in [("a0", "/CN=A"), ("b0", "/CN=B"), ("root", "/CN=Unrelated Root")] {
        let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &cert, "-subj", cn, "-days", "30"]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        openssl(&owned.iter().map(String::as_str).collect::<Vec<_>>(), d);
    }
    let sign = |csr_key: &str, subj: &str, ca: &str, ext: &str, out: &str| {
        openssl(&["req", "-new", "-key", csr_key, "-subj", subj, "-out", "tmp.csr"], d);
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "tmp.csr",
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                ext,
                "-out",
                out,
            ],
            d,
        );
    };
    sign("a0.key", "/CN=A", "b0", "ca.ext", "a.pem");
    sign("b0.key", "/CN=B", "a0", "ca.ext", "b.pem");
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key"], d);
    sign("leaf.key", "/CN=Leaf", "a0", "leaf.ext", "leaf.pem");
    let load = |f: &str| Certificate::from_pem(&std::fs::read(d.join(f)).unwrap()).unwrap();
    let leaf = load("leaf.pem");
    let now = leaf.not_before() + 60;
    let err = x509::verify_chain(&leaf, &[load("a.pem"), load("b.pem")], &[load("root.pem")], now).unwrap_err();
    assert!(matches!(err, Error::Chain { ref reason, .. } if reason.contains("loops")), "{err}");
    // Sanity: with A0 trusted the same leaf verifies, so the failure above is the loop.
    x509::verify_chain(&leaf, &[load("a.pem"), load("b.pem")], &[load("a0.pem")], now).unwrap();
}

#[test]
fn containers_image_serialisation_round_trips_and_reads_upstream_files() {
    let upstream = read(&format!("{FIX}/dir-img-cosign-valid/signature-1"));
    let l = Layer::from_containers_image(&upstream).unwrap();
    assert_eq!(Layer::from_containers_image(&l.to_containers_image()).unwrap(), l);
    for bad in [&b"{}"[..], b"\x00sigstore-json\n{", b"\x00sigstore-json\n{\"mimeType\":\"x\",\"payload\":\"!!\"}"] {
        assert!(matches!(Layer::from_containers_image(bad), Err(Error::Malformed { .. })));
    }
}

/// Malformed PEM, DER, JSON, DSSE and bundles are errors that say what was wrong.
#[test]
fn malformed_inputs_are_clear_errors() {
    let check = |result: Result<(), Error>, needle: &str| {
        let err = result.unwrap_err().to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    };
    check(PublicKey::from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n").map(drop), "no END line");
    check(
        PublicKey::from_pem(b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n").map(drop),
        "SubjectPublicKeyInfo",
    );
    check(PublicKey::from_pem(b"-----BEGIN FOO-----\nMAA=\n-----END FOO-----\n").map(drop), "not a public key");
    check(Certificate::from_der(&[0x30, 0x03, 0x02, 0x01]).map(drop), "malformed certificate");
    check(
        Certificate::from_pem_all(b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n").map(drop),
        "not a CERTIFICATE",
    );
    check(
        SigningKey::from_pem(
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            b"",
        )
        .map(drop),
        "encrypted cosign key",
    );
    check(
        SigningKey::from_pem(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
            b"",
        )
        .map(drop),
        "PBES2",
    );
    check(
        Envelope::from_json(b"{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[]}").map(drop),
        "no signatures",
    );
    check(Envelope::from_json(b"[]").map(drop), "DSSE envelope");
    check(
        Bundle::from_json(b"{\"mediaType\":\"text/plain\",\"verificationMaterial\":{}}").map(drop),
        "unknown mediaType",
    );
    check(TrustedRoot::from_json(b"{\"mediaType\":\"x\"}").map(drop), "mediaType");
    check(cosign::SimpleSigning::from_json(b"{\"critical\":{}}").map(drop), "simple-signing payload");
    // Unknown fields inside `critical` are refused, as containers/image does.
    let payload = br#"{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature","extra":1},"optional":null}"#;
    check(cosign::SimpleSigning::from_json(payload).map(drop), "unknown field");
    check(cosign::signature_tag("sha512:00").map(drop), "sha256:<64 hex digits>");
}
