#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install prerequisites, build Bulwark,
# build a real Debian 12 image locally (no registry can be pulled here), load it into the
# local Docker engine, and scan it. The root filesystem is cached between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-dev.sh
cargo build --release -p bulwark

cache="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/demo"
mkdir -p "$cache"
tarball="$cache/debian-bookworm-minbase.tar"
if [ ! -s "$tarball" ]; then
  echo "demo: building a Debian bookworm root filesystem with debootstrap (one time, ~2 min)" >&2
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
image=bulwark-demo/debian:bookworm
if ! docker image inspect "$image" >/dev/null 2>&1; then
  docker import "$tarball" "$image" >/dev/null
fi
exec target/release/bulwark scan "docker:$image" "$@"
