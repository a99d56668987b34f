//! The single-host install (deploy/compose/docker-compose.yml) as a test: runs
//! `scripts/compose-check.sh` with the binary under test in the image. The script builds the
//! images locally (Debian minbase + this binary; PostgreSQL and docker-registry from Debian's
//! packages), starts PostgreSQL, two API servers, three workers and a registry, submits scans
//! to both servers' ports, SIGKILLs a worker container mid-scan, and checks that every job
//! ends with exactly one result (see the script's header).
//!
//! Skipped outside CI only when the Docker engine or docker-compose is unavailable. The
//! first run needs the Debian mirror and PyPI (the package layers and the Python packages of
//! the scanned images are cached afterwards).

use std::path::Path;
use std::process::Command;

fn available(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

#[test]
fn compose_stack_scans_through_both_servers_and_survives_a_killed_worker() {
    if !available("docker", &["info"]) || !available("docker-compose", &["version"]) {
        bulwark_testkit::skip_unless_ci("the Docker engine or docker-compose is unavailable");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("scripts/compose-check.sh"))
        .env("BULWARK_BIN", env!("CARGO_BIN_EXE_bulwark"))
        // Its own tag: the test's (debug) binary never replaces a release image.
        .env("BULWARK_IMAGE", "bulwark:compose-check")
        .env("BULWARK_SHARED", bulwark_testkit::shared())
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .output()
        .expect("running scripts/compose-check.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/compose-check.sh failed:\n{stderr}");
    assert!(stderr.contains("compose-check: ok: 6 scans through 2 servers"), "{stderr}");
}
