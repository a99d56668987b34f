#!/usr/bin/env bash
# Prints the path of a Debian bookworm minbase root filesystem tarball, building it with
# debootstrap the first time (~2 min, from the Debian mirror). Used by the demo and by the
# false-positive test (a clean Debian image must yield no secret or malware finding).
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/demo"
mkdir -p "$cache"
tarball="$cache/debian-bookworm-minbase.tar"
if [ ! -s "$tarball" ]; then
  echo "minbase: building a Debian bookworm root filesystem with debootstrap (one time, ~2 min)" >&2
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
echo "$tarball"
