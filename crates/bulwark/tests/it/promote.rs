//! `bulwark promote` between two real `docker-registry` processes (the destination with
//! htpasswd auth, credentials from the Docker config), checked with skopeo: every
//! platform copied, the tag set only over a signed image, the process aborted at each
//! step and re-run, retag rules, and a failing policy that leaves DST untouched.
//!
//! Needs `docker-registry`, `skopeo` and `htpasswd`; fails (never skips) without them.

use crate::support::sign as sign_support;
use bulwark_testkit::registry as harness;

use std::path::Path;

use harness::*;
use sign_support::*;

const USER: &str = "promoter";
const PASS: &str = "s3cret-pass";

struct Setup {
    _tmp: tempfile::TempDir,
    src: RegistryProcess,
    dst: RegistryProcess,
    home: std::path::PathBuf,
    key: String,
    public: String,
    pass: String,
    fail: String,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_path_buf();
    let src = RegistryProcess::start(RegistryAuth::None);
    let dst = RegistryProcess::start(RegistryAuth::Htpasswd(htpasswd_file(&home, USER, PASS)));
    docker_login(&home, &dst.host(), USER, PASS);
    let (key, public) = keypair(&home, "k");
    let pass = policy(&home, "debian-only", "debian");
    let fail = policy(&home, "alpine-only", "alpine");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    Setup { key: s(&key), public: s(&public), pass: s(&pass), fail: s(&fail), src, dst, home, _tmp: tmp }
}

/// A two-platform index (amd64 with a 3 MiB incompressible layer, arm64) in SRC as `app:1`.
fn push_index(s: &Setup) -> String {
    let big = noise(3 << 20, 7);
    let os: &[(&str, &[u8])] = &[("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")];
    let amd = build_image("amd64", &[os, &[("opt/big.bin", &big)]]);
    let arm = build_image("arm64", &[os, &[("opt/arm.bin", b"arm")]]);
    let index = build_index(&[("amd64", &amd), ("arm64", &arm)]);
    let layout = s.home.join("index-layout");
    let mut blobs = image_blobs(&amd);
    blobs.extend(image_blobs(&arm));
    blobs.push(&amd.manifest);
    blobs.push(&arm.manifest);
    write_layout(&layout, &blobs, &index, "v1");
    skopeo_push(&layout, "v1", &format!("{}/team/app:1", s.src.host()), true, None);
    index.digest
}

fn promote(s: &Setup, policy: &str, dst: &str, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let src = format!("{}/team/app:1", s.src.host());
    let mut args =
        vec!["promote", src.as_str(), dst, "--policy", policy, "--key", s.key.as_str(), "--scanners", "config"];
    args.extend_from_slice(extra);
    bulwark_env(&args, &s.home, env)
}

fn creds() -> Option<&'static str> {
    Some("promoter:s3cret-pass")
}

#[test]
fn promotes_every_platform_signed_and_survives_an_abort_at_each_step() {
    let s = setup();
    let digest = push_index(&s);
    let dst = format!("{}/prod/app:stable", s.dst.host());
    let dst_repo = format!("{}/prod/app", s.dst.host());
    for step in ["mid-blob", "blobs", "manifests", "signed", "attested"] {
        let out = promote(&s, &s.pass, &dst, &["--rescan"], &[("BULWARK_FAULT_ABORT_AT", step)]);
        assert_eq!(out.status.code(), None, "{step}: not killed: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("BULWARK_FAULT_ABORT_AT={step}")), "{}", stderr(&out));
        let t = tags(&dst_repo, creds());
        assert!(!t.contains(&"stable".to_owned()), "{step}: DST tagged after an abort: {t:?}");
        if step == "signed" {
            assert!(t.iter().any(|t| t.ends_with(".sig")), "{step}: {t:?}");
        }
    }
    // The re-run completes: nothing copied twice, no second signature.
    let out = promote(&s, &s.pass, &dst, &["--rescan"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("0 copied") && err.contains("signature already there"), "{err}");

    // skopeo sees DST's tag at SRC's digest, with every platform.
    let (raw, d) = skopeo_raw(&dst, creds()).unwrap();
    assert_eq!(d, digest);
    let index: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    for m in index["manifests"].as_array().unwrap() {
        let child = format!("{dst_repo}@{}", m["digest"].as_str().unwrap());
        let (_, cd) = skopeo_raw(&child, creds()).unwrap_or_else(|| panic!("{child} missing"));
        assert_eq!(cd, m["digest"].as_str().unwrap());
    }
    let out = bulwark(&["verify", &dst, "--key", &s.public], &s.home);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).matches("verified  ").count(), 1, "{}", stdout(&out));
    let out =
        bulwark(&["verify-attestation", &dst, "--key", &s.public, "--policy", &s.pass, "--max-age", "1h"], &s.home);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_failing_image_leaves_dst_untouched() {
    let s = setup();
    push_index(&s);
    let dst = format!("{}/prod/app:stable", s.dst.host());
    let out = promote(&s, &s.fail, &dst, &["--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policy"]["passed"], false);
    assert!(stderr(&out).contains("not promoted"), "{}", stderr(&out));
    assert!(tags(&format!("{}/prod/app", s.dst.host()), creds()).is_empty());
}

#[test]
fn tags_move_only_with_allow_retag_and_a_fresh_verdict_spares_the_scan() {
    let s = setup();
    let digest = push_index(&s);
    // DST's tag already names another image.
    let dst = format!("{}/prod/app:stable", s.dst.host());
    let other = push_debian(&s.home, &dst, b"other", creds());
    let out = promote(&s, &s.pass, &dst, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("already points at {other}")), "{}", stderr(&out));
    assert_eq!(skopeo_raw(&dst, creds()).unwrap().1, other);

    // SRC gets a signed verdict (scan --sign); promote then uses it instead of scanning.
    let src = format!("{}/team/app:1", s.src.host());
    let out =
        bulwark(&["scan", &src, "--scanners", "config", "--policy", &s.pass, "--sign", "--key", &s.key, "-q"], &s.home);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = promote(&s, &s.pass, &dst, &["--allow-retag"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("using the signed verdict"), "{err}");
    assert!(err.contains(&format!("tag moved from {other}")), "{err}");
    assert_eq!(skopeo_raw(&dst, creds()).unwrap().1, digest);
    let out = bulwark(&["verify-attestation", &dst, "--key", &s.public, "--policy", &s.pass], &s.home);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    // Promoting again changes nothing (the tag is not rewritten: immutable tags accept it).
    let out = promote(&s, &s.pass, &dst, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("tag already there"), "{}", stderr(&out));
}

#[test]
fn same_registry_promotion_mounts_blobs() {
    let s = setup();
    let digest = push_index(&s);
    let dst = format!("{}/prod/app:stable", s.src.host());
    let out = promote(&s, &s.pass, &dst, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("mounted") && err.contains("0 copied"), "{err}");
    assert_eq!(skopeo_raw(&dst, None).unwrap().1, digest);
}
