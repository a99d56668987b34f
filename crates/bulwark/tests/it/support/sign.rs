//! Shared by `sign_cli.rs` and `promote.rs`: the binary with an isolated home, keys,
//! policies and images pushed to real registries.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bulwark_testkit::registry::*;

pub const KEY_PASSWORD: &str = "correct horse";

/// Runs `bulwark args…` isolated from the caller's Docker config and caches, with the key
/// password in the environment and `env` added.
pub fn bulwark_env(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args)
        .env("HOME", home)
        .env("BULWARK_CACHE_DIR", home.join("cache"))
        .env("BULWARK_KEY_PASSWORD", KEY_PASSWORD)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env_remove("BULWARK_DB")
        .env_remove("BULWARK_INSECURE_REGISTRY")
        .env_remove("BULWARK_USERNAME")
        .env_remove("BULWARK_SIGN_KEY")
        .env_remove("BULWARK_FAULT_ABORT_AT")
        .env_remove("XDG_CACHE_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn bulwark(args: &[&str], home: &Path) -> Output {
    bulwark_env(args, home, &[])
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bulwark key generate` → (private, public).
pub fn keypair(home: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = home.join(name);
    let out = bulwark(&["key", "generate", "--output-key-prefix", prefix.to_str().unwrap()], home);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (prefix.with_extension("key"), prefix.with_extension("pub"))
}

/// A policy that passes only images whose OS is `os`.
pub fn policy(home: &Path, name: &str, os: &str) -> PathBuf {
    let path = home.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: bulwark.dev/v1\nkind: ImageAssertion\nname: {name}\nrules:\n  - id: os\n    description: only {os}\n    action: deny\n    allowed_os: [{os}]\n"
        ),
    )
    .unwrap();
    path
}

/// A single-platform Debian image with `extra` bytes in a second layer, pushed to `dest`.
/// Returns its manifest digest.
pub fn push_debian(dir: &Path, dest: &str, extra: &[u8], creds: Option<&str>) -> String {
    let img =
        build_image("amd64", &[&[("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")], &[("opt/data.bin", extra)]]);
    let layout = dir.join(format!("layout-{}", &img.manifest.digest[7..19]));
    write_layout(&layout, &image_blobs(&img), &img.manifest, "v1");
    skopeo_push(&layout, "v1", dest, false, creds);
    img.manifest.digest
}

/// Bytes that do not compress (a layer of this size is that size on the wire).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A Docker config whose `auths` hold `user:pass` for `registry`.
pub fn docker_login(home: &Path, registry: &str, user: &str, pass: &str) {
    use base64::Engine as _;
    let dir = home.join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let mut f = std::fs::File::create(dir.join("config.json")).unwrap();
    write!(f, r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}}}}"#).unwrap();
}

/// `skopeo list-tags` of a repository (empty when it does not exist).
pub fn tags(repo: &str, creds: Option<&str>) -> Vec<String> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["list-tags", "--tls-verify=false"]);
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    let out = cmd.arg(format!("docker://{repo}")).output().unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["Tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect()
}

/// `skopeo inspect --raw`, and the digest of what it printed.
pub fn skopeo_raw(reference: &str, creds: Option<&str>) -> Option<(Vec<u8>, String)> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    let out = cmd.arg(format!("docker://{reference}")).output().unwrap();
    out.status.success().then(|| {
        let d = sha256_digest(&out.stdout);
        (out.stdout, d)
    })
}
