#!/usr/bin/env bash
# What CI runs and what a developer runs: format check, clippy with warnings denied, and
# every test in the workspace. Run scripts/setup-dev.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests that build fixtures with real tools (pip, npm, bundler) fail rather than skip.
export CI=1
export BULWARK_REQUIRE_SYFT=1
export BULWARK_SHARED="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
# A real Debian minbase root filesystem: a clean image must give no secret or malware finding.
BULWARK_MINBASE_TAR="${BULWARK_MINBASE_TAR:-$(scripts/minbase.sh)}"
export BULWARK_MINBASE_TAR
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Bulwark checks itself: its Cargo.lock against RustSec, with the binary just built.
scripts/self-check.sh
# The fuzz targets (fuzz/, its own workspace) must keep compiling; running them needs nightly.
cargo check --manifest-path fuzz/Cargo.toml --all-targets
