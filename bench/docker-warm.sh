#!/usr/bin/env bash
# Warm rescans of a `docker:` image (issue 11): the time of `bulwark scan docker:<image>`
# when every layer is already in the layer cache, for two binaries in the same run — a
# baseline (e.g. main's) that reads the whole `docker save` stream on every scan, and the
# one under test, which reads only the cached save record and layer analyses.
#
#   bench/docker-warm.sh BASELINE_BIN NEW_BIN
#   BULWARK_BENCH_RUNS=10 bench/docker-warm.sh target-main/release/bulwark target/release/bulwark
#
# The image is the demo's (scripts/demo.sh): the Debian minbase root filesystem imported
# into the local engine, plus a layer of files, built once under BULWARK_BENCH_DOCKER_IMAGE
# (default bulwark-bench/docker-warm:1). Each binary gets its own cache directory, warmed
# by one scan first. Needs the Docker engine and hyperfine (scripts/setup-dev.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
base_bin=$(realpath "${1:?baseline binary}")
new_bin=$(realpath "${2:?binary under test}")
runs="${BULWARK_BENCH_RUNS:-5}"
image="${BULWARK_BENCH_DOCKER_IMAGE:-bulwark-bench/docker-warm:1}"
out="${BULWARK_BENCH_OUT:-bench/results}"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$image" >/dev/null 2>&1; then
  tarball=$(scripts/minbase.sh)
  docker import "$tarball" "$image-base" >/dev/null
  mkdir -p "$work/ctx/app"
  cp -r crates/bulwark-report/src "$work/ctx/app/"
  printf 'FROM %s\nCOPY app /app/\nCMD ["bash"]\n' "$image-base" > "$work/ctx/Dockerfile"
  docker build --quiet -t "$image" "$work/ctx" >/dev/null
  docker rmi "$image-base" >/dev/null
fi

scan() { # BIN CACHE
  "$1" scan "docker:$image" --no-db --no-progress --format json --cache-dir "$2" -o /dev/null -q
}
for b in base new; do
  bin_var="${b}_bin"
  scan "${!bin_var}" "$work/cache-$b"  # warm the cache
done
# The two warm reports must be the same, byte for byte (apart from nothing: no timestamps).
"$base_bin" scan "docker:$image" --no-db --no-progress --format json --cache-dir "$work/cache-base" -q > "$work/base.json"
"$new_bin" scan "docker:$image" --no-db --no-progress --format json --cache-dir "$work/cache-new" -q > "$work/new.json"
cmp "$work/base.json" "$work/new.json"
hyperfine --warmup 1 --runs "$runs" --export-json "$out/docker-warm.json" \
  -n baseline "$base_bin scan docker:$image --no-db --no-progress --format json --cache-dir $work/cache-base -o /dev/null -q" \
  -n new "$new_bin scan docker:$image --no-db --no-progress --format json --cache-dir $work/cache-new -o /dev/null -q"
