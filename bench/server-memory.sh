#!/usr/bin/env bash
# Server memory (issue 13): RSS of `bulwark server --workers 2` when idle, and its peak while
# its two workers scan the large bench image (bench/run.sh builds it: Debian minbase plus an
# apt-get layer, 2 layers, 878 MB of tar) at the same time. Targets: idle <= 60 MB, peak
# <= 350 MB.
#
#   BULWARK_BIN=target/release/bulwark bench/server-memory.sh
#
# The two scans ask for different scanner sets (all four; vuln and secret), so they are two
# jobs with different layer-cache keys: both read every layer, neither waits for the other's
# cache entry. The peak is the kernel's high-water mark (VmHWM) of the server process,
# workers included (they are threads of it). The advisory database is the one bench/run.sh
# builds (bench.db), when present.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$(readlink -f "${BULWARK_BIN:-$repo/target/release/bulwark}")
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
image="$cache/oci-large"
[ -x "$bin" ] || { echo "bench: build first (cargo build --release -p bulwark) or set BULWARK_BIN" >&2; exit 2; }
[ -f "$image/index.json" ] || { echo "bench: no $image: run bench/run.sh first (it builds the large image)" >&2; exit 2; }
work=$(mktemp -d /tmp/bulwark-memory.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
db_args=()
[ -s "$cache/bench.db" ] && db_args=(--db "$cache/bench.db")
kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$pid/status"; }

BULWARK_TODAY=2026-06-01 "$bin" server --data-dir "$work/data" --cache-dir "$work/cache" --workers 2 \
  --allow-local-sources --listen 127.0.0.1:0 "${db_args[@]}" 2>"$work/log" &
pid=$!
for _ in $(seq 300); do grep -q 'listening on' "$work/log" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on //p' "$work/log")
token=$(cat "$work/data/admin-token")
sleep 3
idle=$(kb VmRSS)

python3 - "$base" "$token" "oci:$image:bench" <<'PY'
import json, sys, time, urllib.request
base, token, ref = sys.argv[1:4]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)
ids = [call("POST", "/api/v1/scans", {"reference": ref, "scanners": s})["id"]
       for s in (["vuln", "malware", "secret", "config"], ["vuln", "secret"])]
for i in ids:
    while (s := call("GET", f"/api/v1/scans/{i}?wait=30"))["state"] not in ("succeeded", "failed", "cancelled"):
        pass
    if s["state"] != "succeeded":
        sys.exit(f"scan {i}: {s['state']}: {s.get('error')}")
PY
peak=$(kb VmHWM)
after=$(kb VmRSS)
echo "| server RSS | MB | target |"
echo "|---|---|---|"
echo "| idle (3 s after start) | $((idle / 1024)) | <= 60 |"
echo "| peak, two workers scanning the large image | $((peak / 1024)) | <= 350 |"
echo "| after the scans | $((after / 1024)) | — |"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
