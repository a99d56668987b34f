#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install prerequisites, build Bulwark, build
# a real image locally (no registry can be pulled here): a Debian 12 root filesystem made
# by debootstrap, plus a layer of Python packages installed from PyPI at old versions, load
# it into the local Docker engine, build the advisory database from local feeds
# (../shared/advisories; osv.dev's feeds cannot be downloaded here), and scan the image.
# The root filesystem and the Python packages are cached between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-dev.sh
cargo build --release -p bulwark
bulwark=target/release/bulwark

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
base=bulwark-demo/debian:bookworm
docker image inspect "$base" >/dev/null 2>&1 || docker import "$tarball" "$base" >/dev/null

# A second layer, as `RUN pip install` would make it: packages with published advisories.
app=bulwark-demo/app:1
if ! docker image inspect "$app" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$ctx/site-packages" \
    requests==2.19.1 urllib3==1.24.1 pyyaml==5.3 >&2
  printf 'FROM %s\nCOPY site-packages /usr/local/lib/python3.11/dist-packages/\nCMD ["bash"]\n' "$base" > "$ctx/Dockerfile"
  docker build --quiet -t "$app" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
db="$cache/bulwark.db"
if [ -d "$shared/advisories" ]; then
  a="$shared/advisories"
  "$bulwark" db build --db "$db" \
    --osv "$a/pypa-advisory-db" --osv "$a/debian-elts-osv" --osv "$a/go-vulndb" --osv "$a/rustsec-osv" \
    --kev "$a/cisa-kev/known_exploited_vulnerabilities.json" 2>/dev/null
  exec "$bulwark" scan "docker:$app" --db "$db" "$@"
fi
echo "demo: no advisory data at $shared/advisories; scanning for the inventory only" >&2
exec "$bulwark" scan "docker:$app" --no-db "$@"
