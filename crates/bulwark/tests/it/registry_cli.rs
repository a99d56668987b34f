//! Registry errors through the binary name their cure, with flags that exist: a real
//! `docker-registry` speaking plain HTTP outside loopback, and one that wants a password.
//!
//! Needs `docker-registry`, `skopeo` and `htpasswd`; fails (never skips) without them.

use bulwark_testkit::registry as harness;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use harness::*;

/// Runs `bulwark args…` with `stdin`, isolated from the caller's Docker config and caches.
fn bulwark(args: &[&str], home: &Path, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(args)
        .env("HOME", home)
        .env("BULWARK_CACHE_DIR", home.join("cache"))
        .env_remove("DOCKER_CONFIG")
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_INSECURE_REGISTRY")
        .env_remove("BULWARK_USERNAME")
        .env_remove("BULWARK_PASSWORD_STDIN")
        .env_remove("XDG_CACHE_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn pushed_image(dir: &Path, dest: &str, creds: Option<&str>) {
    let img = build_image("amd64", &[&[("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")]]);
    let layout = dir.join("layout");
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", dest, false, creds);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn plain_http_registry_hint_names_insecure_registry() {
    let reg = RegistryProcess::start(RegistryAuth::None);
    let tmp = tempfile::tempdir().unwrap();
    pushed_image(tmp.path(), &format!("{}/app:1", reg.host()), None);
    // 0.0.0.0 reaches the loopback listener but is not a loopback name: HTTPS only.
    let remote = format!("0.0.0.0:{}/app:1", reg.port);

    let out = bulwark(&["inspect", &remote], tmp.path(), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("plain HTTP"), "{err}");
    let hint = err.lines().find(|l| l.starts_with("hint: ")).unwrap_or_else(|| panic!("no hint: {err}"));
    assert!(hint.contains("--insecure-registry"), "{hint}");
    // The library's message has no flag in it; only the hint does.
    assert_eq!(err.matches("--insecure-registry").count(), 1, "{err}");

    let out = bulwark(&["inspect", "--insecure-registry", &remote], tmp.path(), "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn auth_hint_names_username_and_password_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = htpasswd_file(tmp.path(), "user", "s3cret-pass");
    let reg = RegistryProcess::start(RegistryAuth::Htpasswd(htpasswd));
    let image = format!("{}/app:1", reg.host());
    pushed_image(tmp.path(), &image, Some("user:s3cret-pass"));

    // Anonymous, through the scan pipeline's error.
    let out = bulwark(&["scan", &image], tmp.path(), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let hint = err.lines().find(|l| l.starts_with("hint: ")).unwrap_or_else(|| panic!("no hint: {err}"));
    assert!(hint.contains("--username") && hint.contains("--password-stdin"), "{hint}");
    // The flag the old hint named does not exist.
    assert!(!err.contains("--password ") && !err.contains("--password/"), "{err}");

    // Wrong password: a hint to check the credentials, and the password is never shown.
    let out = bulwark(&["inspect", "--username", "user", "--password-stdin", &image], tmp.path(), "wrong-pass\n");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused the credentials") && !err.contains("wrong-pass"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("hint: ") && l.contains("--password-stdin")), "{err}");

    // The flags the hint names work.
    let out = bulwark(&["inspect", "--username", "user", "--password-stdin", &image], tmp.path(), "s3cret-pass\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
