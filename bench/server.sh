#!/usr/bin/env bash
# Server read latency and idle memory (issue 13): `GET /api/v1/images/{digest}` under wrk
# on loopback, against `GET /healthz` (no store, no auth) as the baseline of the same run,
# and the server's RSS when idle. Usage: bench/server.sh [target/release/bulwark]
# Needs wrk (scripts/setup-dev.sh). Prints a Markdown table.
set -euo pipefail
bin=${1:-target/release/bulwark}
duration=${BULWARK_BENCH_DURATION:-15s}
conns=${BULWARK_BENCH_CONNECTIONS:-4}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup-dev.sh" >&2; exit 2; }

"$bin" server --data-dir "$tmp/data" --listen 127.0.0.1:0 --workers 0 --rate-per-second 1000000 \
  --rate-burst 1000000 2> "$tmp/log" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/log" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on //p' "$tmp/log")
token=$(cat "$tmp/data/admin-token")
sleep 2
idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

# One stored image: an upload of a real report (the bench image's, if given; else a minimal one).
report=${BULWARK_BENCH_REPORT:-}
if [ -z "$report" ]; then
  report="$tmp/r.json"
  python3 - "$report" <<'PY'
import hashlib, json, sys
d = lambda s: "sha256:" + hashlib.sha256(s.encode()).hexdigest()
pk = [{"ecosystem": "deb", "name": f"pkg{i}", "version": "1.0", "purl": f"pkg:deb/debian/pkg{i}@1.0", "locations": ["/var/lib/dpkg/status"], "layer": 0} for i in range(300)]
r = {"schema_version": 2, "bulwark_version": "0.1.0",
     "image": {"reference": "registry.example/bench/app:1", "manifest_digest": d("bench"), "config_digest": d("bench-config")},
     "layers": [{"index": 0, "digest": d("l0"), "diff_id": d("d0"), "size": 1, "uncompressed_size": 1, "entries": 1, "whiteouts": 0}],
     "files": {"files": 1, "directories": 1, "symlinks": 0, "hardlinks": 0, "bytes": 1, "shadowed": 0}, "packages": pk}
json.dump(r, open(sys.argv[1], "w"))
PY
fi
digest=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); i=r["image"]; print(i.get("manifest_digest") or i["config_digest"])' "$report")
python3 -c 'import json,sys; print(json.dumps({"report": json.load(open(sys.argv[1]))}))' "$report" > "$tmp/upload.json"
curl -sS --fail-with-body -o "$tmp/upload.out" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/upload.json" "$base/api/v1/reports" || { cat "$tmp/upload.out" >&2; exit 2; }

run() { # name url [auth]
  local args=(-t 2 -c "$conns" -d "$duration" --latency)
  [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $token")
  wrk "${args[@]}" "$2" > "$tmp/$1.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/$1.txt")
  echo "| $1 | $rps | $p50 | $p99 |"
}
echo "| request (wrk -t2 -c$conns -d$duration) | req/s | p50 | p99 |"
echo "|---|---|---|---|"
run healthz "$base/healthz"
run image "$base/api/v1/images/$digest" auth
echo
echo "idle RSS: $((idle_kb / 1024)) MiB (target ≤ 60 MiB); store: $(grep -o 'listening on.*' "$tmp/log" | head -1)"
