#!/usr/bin/env bash
# Advisory-database benchmark (issue 4): `bulwark db build` over all the advisory data in
# ../shared/advisories (every OSV directory, CISA KEV, the NVD 2.0 sample), timed with
# hyperfine; the size of the DB it writes; then opening that DB and matching 1,000 real
# packages with the `match_bench` example (bulwark-vulndb: the matcher over the database) (packages/s).
# See bench/README.md ("Advisory database") for the latest results.
#
#   bench/db.sh                      # 5 runs
#   BULWARK_BENCH_RUNS=10 bench/db.sh
#
# Needs hyperfine. Results (hyperfine JSON, `db status`, match_bench output) go to
# ${BULWARK_BENCH_OUT:-bench/results}/db-*.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
a="$shared/advisories"
runs="${BULWARK_BENCH_RUNS:-5}"
out="${BULWARK_BENCH_OUT:-$repo/bench/results}"
log() { echo "bench: $*" >&2; }

[ -d "$a" ] || { log "no advisory data at $a (set BULWARK_SHARED)"; exit 2; }
command -v hyperfine >/dev/null || { log "hyperfine is needed (apt-get install hyperfine)"; exit 2; }
mkdir -p "$out"

log "building release binaries"
cargo build --release --quiet -p bulwark
cargo build --release --quiet -p bulwark-vulndb --example match_bench
bulwark="$repo/target/release/bulwark"
match_bench="$repo/target/release/examples/match_bench"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/bulwark.db"

# Every OSV-format directory in the shared data, named as the demo names them. The other
# folders are not OSV (RubySec, FriendsOfPHP and Alpine secdb YAML, Node.js's own JSON,
# Red Hat CSAF) and are read by their own ingesters where `db build` has them.
osv=(
  "go-vulndb=$a/go-vulndb/data/osv"
  "rustsec-osv=$a/rustsec-osv/crates"
  "pypa-advisory-db=$a/pypa-advisory-db/vulns"
  "debian-elts-osv=$a/debian-elts-osv/advisories"
  "k8s-cve-feed-osv=$a/k8s-cve-feed-osv/vulns"
  "ghsa-sample=$a/index-samples/ghsa-osv"
  "ubuntu-sample=$a/index-samples/ubuntu-osv"
)
args=(db build --db "$db")
for o in "${osv[@]}"; do args+=(--osv "$o"); done
args+=(--kev "$a/cisa-kev/known_exploited_vulnerabilities.json" --nvd "$a/index-samples/nvd-json2")
# Feeds with their own ingesters, when this build of `db build` has the flag for them.
help=$("$bulwark" db build --help)
if grep -q -- '--csaf' <<<"$help"; then args+=(--csaf "$a/redhat-csaf-vex-samples"); fi
if grep -q -- '--debian-tracker' <<<"$help"; then args+=(--debian-tracker "$a/index-samples/debian-tracker-cve"); fi

cmd=$(printf '%q ' "$bulwark" "${args[@]}")
log "db build: $cmd"
hyperfine --warmup 1 --runs "$runs" --export-json "$out/db-build.json" -n db-build "$cmd 2>/dev/null"

# One more build, kept, to report on and to match against.
"$bulwark" "${args[@]}" 2>"$out/db-build.log"
size=$(stat -c %s "$db")
"$bulwark" db status --db "$db" --max-age-days 100000 | tee "$out/db-status.txt"
records=$(awk '$2 == "osv" { n += $3 } END { print n + 0 }' "$out/db-status.txt")
median=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$out/db-build.json")

log "open + match 1,000 packages against that DB"
BULWARK_SHARED="$shared" "$match_bench" "$db" | tee "$out/db-match.txt"

echo
echo "db build: median ${median} s over ${runs} runs (target < 10 s); ${records} OSV records"
echo "DB size:  ${size} bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'))"
grep -o '[0-9]* packages/s' "$out/db-match.txt" | sed 's/^/matching: /'
