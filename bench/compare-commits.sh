#!/usr/bin/env bash
# Two builds of Bulwark in the same hyperfine run, over the images bench/run.sh builds:
# the layer read with cataloguing (`scan --scanners vuln --no-db`), the read alone
# (`inspect`), vulnerability matching and every scanner. Each binary gets its own advisory
# database, built by itself from the same feeds (the schema may differ between commits).
# Prints, per image and command, the new/baseline ratio of median wall times; issue 11 asks
# for every ratio to stay within 1.03.
#
#   bench/compare-commits.sh BASELINE_BIN NEW_BIN
#   BULWARK_BENCH_RUNS=10 BULWARK_BENCH_IMAGES=minbase bench/compare-commits.sh A B
#
# The images come from bench/run.sh's cache (`BULWARK_BENCH_SETUP_ONLY=1 bench/run.sh`
# builds them; it needs root for debootstrap). Release builds of two commits:
#   git worktree add /tmp/base <commit>
#   CARGO_TARGET_DIR=/tmp/base-target cargo build --release --locked -p bulwark --manifest-path /tmp/base/Cargo.toml
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 BASELINE_BIN NEW_BIN" >&2; exit 2; }
base_bin=$(realpath "$1")
new_bin=$(realpath "$2")
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
runs="${BULWARK_BENCH_RUNS:-5}"
images="${BULWARK_BENCH_IMAGES:-minbase large}"
out="${BULWARK_BENCH_OUT:-bench/results/commits}"
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
mkdir -p "$out"
log() { echo "compare-commits: $*" >&2; }

for img in $images; do
  [ -f "$cache/oci-$img/layers.txt" ] || { log "no $cache/oci-$img: run BULWARK_BENCH_SETUP_ONLY=1 bench/run.sh first"; exit 2; }
done

# shellcheck source=bench/lib/advisories.sh
. bench/lib/advisories.sh
for which in base new; do
  bin_var="${which}_bin"
  log "building the $which database"
  rm -f "$out/$which.db"
  bench_db_build "${!bin_var}" "$out/$which.db" "$shared" "$out/$which-db.log" || { log "$which: db build failed"; exit 2; }
done

{
  echo "when: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "baseline: $base_bin ($("$base_bin" --version 2>/dev/null || true))"
  echo "new: $new_bin ($("$new_bin" --version 2>/dev/null || true))"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc)"
} >"$out/machine.txt"

for img in $images; do
  dir="$cache/oci-$img"
  cmds=()
  for which in base new; do
    bin_var="${which}_bin"
    bin=${!bin_var}
    scan="$bin scan oci:$dir --no-cache --no-progress --format json -o /dev/null"
    cmds+=(-n "$which:inspect" "BULWARK_CACHE_DIR=/dev/null $bin inspect oci:$dir --format json >/dev/null")
    cmds+=(-n "$which:scan" "$scan --scanners vuln --no-db")
    cmds+=(-n "$which:scan-vuln" "$scan --scanners vuln --db $out/$which.db")
    cmds+=(-n "$which:scan-all" "$scan --db $out/$which.db")
  done
  echo "$img: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
  log "$img: hyperfine, $runs runs + 1 warmup per command"
  hyperfine --runs "$runs" --warmup 1 --style basic --export-json "$out/$img.json" "${cmds[@]}" >&2
  echo "$img: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
done

python3 - "$out" $images <<'EOF' | tee "$out/results.md"
import json, statistics, sys
out, images = sys.argv[1], sys.argv[2:]
print("| image | command | baseline median s | new median s | new / baseline |")
print("|---|---|---:|---:|---:|")
worst = 0.0
for img in images:
    res = {r["command"]: r for r in json.load(open(f"{out}/{img}.json"))["results"]}
    for cmd in ("inspect", "scan", "scan-vuln", "scan-all"):
        b = statistics.median(res[f"base:{cmd}"]["times"])
        n = statistics.median(res[f"new:{cmd}"]["times"])
        worst = max(worst, n / b)
        print(f"| {img} | {cmd} | {b:.3f} | {n:.3f} | {n / b:.3f} |")
print()
print(f"worst ratio: {worst:.3f} ({'within' if worst <= 1.03 else 'over'} 1.03)")
EOF
cat "$out/machine.txt" >&2
