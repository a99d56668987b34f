#!/usr/bin/env bash
# Java coordinate resolution's share of a scan (issue 15: ≤ 2% on an image with 200 jars).
#
# The image is bench/mkjars.sh's with 4 copies of Debian's jars (~240 jars, most without
# pom.properties, so nearly every jar goes through the resolution). In the same run:
#   - `bulwark scan` of that image, inventory only and with every scanner (hyperfine);
#   - the resolution work alone over the same jars (class packages from the entry names,
#     the manifest, `java_coords::resolve`), and the whole Java cataloger, in process
#     (crates/bulwark-catalog/examples/java_coords_bench.rs).
# The ratio resolution / scan is the overhead. It is an upper bound: reading the manifest
# was done before this change too.
#
#   bench/java-coords.sh                 # 5 runs
#   BULWARK_BENCH_RUNS=10 bench/java-coords.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runs="${BULWARK_BENCH_RUNS:-5}"
out="${BULWARK_BENCH_OUT:-$repo/bench/results}"
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
mkdir -p "$out"
log() { echo "java-coords: $*" >&2; }

dir=$(JAR_COPIES=4 "$repo/bench/mkjars.sh")
cargo build --release --locked -q -p bulwark --bin bulwark
cargo build --release --locked -q -p bulwark-catalog --example java_coords_bench
target="${CARGO_TARGET_DIR:-$repo/target}/release"
bulwark="$target/bulwark"
jars=$(find "$cache/rootfs-jars4" -name '*.jar' | wc -l)
log "$jars jars in $dir"

scan="$bulwark scan oci:$dir --no-cache --no-progress --format json -o /dev/null"
hyperfine --runs "$runs" --warmup 1 --style basic --export-json "$out/java-coords.json" \
  -n scan-inventory "$scan --scanners vuln --no-db" \
  -n scan-all "$scan --no-db" >&2
"$target/examples/java_coords_bench" "$cache/rootfs-jars4" 15 >"$out/java-coords.txt"
cat "$out/java-coords.txt" >&2
python3 - "$out/java-coords.json" "$out/java-coords.txt" <<'PY'
import json, sys, statistics
runs = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(sys.argv[1]))["results"]}
kv = dict(l.strip().split("=", 1) for l in open(sys.argv[2]) if "=" in l)
resolve = float(kv["resolve_ms"])
print(f"jars: {kv['jars']}")
print(f"Java cataloger, in process: {float(kv['catalog_ms']):.1f} ms; of which coordinate resolution: {resolve:.1f} ms")
for name, ms in runs.items():
    print(f"{name}: {ms:.0f} ms median; resolution = {100 * resolve / ms:.2f}% of it")
worst = 100 * resolve / min(runs.values())
print(f"target <= 2%: {'met' if worst <= 2 else 'NOT met'} ({worst:.2f}% of the fastest scan)")
PY
