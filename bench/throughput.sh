#!/usr/bin/env bash
# Server throughput, overhead and reads under load (issue 13), against a local registry that
# shares base layers the way real registries do. Every figure comes with the load average.
#
#   overhead     20 images through the API (`bulwark server --workers 2`) vs the same 20
#                `bulwark scan` runs two at a time at nice 10 (the workers' priority);
#                fresh layer caches for both, same advisory DB, median of
#                BULWARK_BENCH_ROUNDS rounds. Target: API <= 1.10 x CLI.
#   throughput   every tag (200 by default) through the API, 2 in-process workers, fresh
#                store and cache: images/hour. Target >= 8,000 on 2 cores. The registry's
#                access log then says how often each blob was fetched: every shared layer
#                must be read once.
#   reads        `GET /api/v1/images/{digest}` at 200 req/s (wrk, a Lua script pacing each
#                connection and sending the token) while the two workers scan every tag
#                again (fresh cache), and with idle workers as the baseline of the same run.
#                Target: p99 <= 20 ms under load.
#
#   BULWARK_BIN=target/release/bulwark bench/throughput.sh
#   BULWARK_BENCH_TAGS=40 BULWARK_BENCH_ROUNDS=1 bench/throughput.sh     # a quick run
#   BULWARK_BENCH_DB=advisories.db …    # reuse a database `bulwark db build` made (else built
#                                       # from every OSV feed in $BULWARK_SHARED/advisories + KEV)
#
# The registry: Debian's docker-registry on loopback, filled by skopeo from one OCI layout.
# Four bases: the Debian minbase root filesystem (scripts/minbase.sh) alone, and minbase plus
# one layer of this machine's Python dist-packages, Java jars or Perl modules (real package
# metadata); each tag adds its own small top layer (a version file and 16 KiB of random
# bytes). Tags are spread over four repositories, one per base. Needs docker-registry,
# skopeo, wrk, curl and python3 (scripts/setup-dev.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=bench/lib/advisories.sh
. "$repo/bench/lib/advisories.sh"
bin=$(readlink -f "${BULWARK_BIN:-$repo/target/release/bulwark}")
tags="${BULWARK_BENCH_TAGS:-200}"
rounds="${BULWARK_BENCH_ROUNDS:-3}"
rate="${BULWARK_BENCH_RATE:-200}"
duration="${BULWARK_BENCH_DURATION:-20}"
[ -x "$bin" ] || { echo "bench: build first (cargo build --release -p bulwark) or set BULWARK_BIN" >&2; exit 2; }
for t in docker-registry skopeo wrk curl python3; do
  command -v $t >/dev/null || { echo "bench: $t is missing: run scripts/setup-dev.sh" >&2; exit 2; }
done
work=$(mktemp -d /tmp/bulwark-throughput.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -f "$work/registry.pid" ] && kill "$(cat "$work/registry.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# ---- the registry ------------------------------------------------------------------------
port=$(free_port)
reg="127.0.0.1:$port"
cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: error, formatter: text}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $reg, secret: bench}
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 </dev/null &
echo $! >"$work/registry.pid"
for _ in $(seq 100); do curl -fs "http://$reg/v2/" >/dev/null && break; sleep 0.1; done

minbase=${BULWARK_MINBASE_TAR:-$(scripts/minbase.sh)}
log "building $tags images on 4 bases"
python3 - "$minbase" "$work/layout" "$tags" >"$work/tags" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
minbase, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def put(b, media):
    h = hashlib.sha256(b).hexdigest()
    with open(f"{out}/blobs/sha256/{h}", "wb") as f:
        f.write(b)
    return {"mediaType": media, "digest": "sha256:" + h, "size": len(b)}
def layer(raw):
    d = "sha256:" + hashlib.sha256(raw).hexdigest()
    return put(gzip.compress(raw, compresslevel=1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"), d
def tar_of(paths):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for p in paths:
            if os.path.exists(p):
                t.add(p, arcname=p.lstrip("/"))
    return bio.getvalue()
base = layer(open(minbase, "rb").read())
variants = {
    "minbase": [],
    "python": [layer(tar_of(["/usr/lib/python3/dist-packages"]))],
    "java": [layer(tar_of(["/usr/share/java"]))],
    "perl": [layer(tar_of(["/usr/share/perl5"]))],
}
names = list(variants)
manifests = []
for i in range(n):
    v = names[i % len(names)]
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in [("app/VERSION", f"{v} {i}\n".encode()), ("app/data.bin", os.urandom(16384))]:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    layers = [base] + variants[v] + [layer(bio.getvalue())]
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/bash"]},
           "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
           "history": [{"created_by": f"layer {j}"} for j in range(len(layers))]}
    config = put(json.dumps(cfg).encode(), "application/vnd.oci.image.config.v1+json")
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config,
         "layers": [l for l, _ in layers]}
    md = put(json.dumps(m).encode(), "application/vnd.oci.image.manifest.v1+json")
    md["annotations"] = {"org.opencontainers.image.ref.name": f"{v}-{i}"}
    manifests.append(md)
    print(f"{v}/app:{v}-{i} {v}-{i}")
with open(f"{out}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{out}/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": manifests}, f)
with open(f"{out}/shared-layers", "w") as f:
    for l, _ in [base] + [x for v in variants.values() for x in v]:
        f.write(l["digest"] + "\n")
PY
log "pushing $tags tags to $reg with skopeo"
# The first tag of each base alone (its shared blobs are uploaded once), then the rest.
push() { HOME=$work/skopeo-home skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/layout:$2" "docker://$reg/$1"; }
export -f push; export work reg
head -4 "$work/tags" | while read -r r t; do push "$r" "$t"; done
tail -n +5 "$work/tags" | xargs -P 4 -L 1 bash -c 'push "$0" "$1"'
awk -v r="$reg" '{print "registry:" r "/" $1}' "$work/tags" >"$work/refs"
if [ "${BULWARK_BENCH_SETUP_ONLY:-0}" = 1 ]; then # check the registry and its access log, then stop
  curl -fsS "http://$reg/v2/_catalog"; tail -2 "$work/registry.log"; exit 0
fi

# ---- the advisory database -----------------------------------------------------------------
shared="${BULWARK_SHARED:-$(cd "$repo/.." && pwd)/shared}"
db="$work/advisories.db"
if [ -n "${BULWARK_BENCH_DB:-}" ]; then cp "$BULWARK_BENCH_DB" "$db"; else
log "building the advisory database from $shared/advisories"
bench_db_build "$bin" "$db" "$shared" "$work/db.log" || exit 2
fi

# ---- helpers ---------------------------------------------------------------------------------
export BULWARK_TODAY=2026-06-01
unset BULWARK_DATABASE_URL BULWARK_DATA_DIR DOCKER_HOST BULWARK_CACHE_DIR
# start_server NAME WORKERS: a fresh data dir and layer cache; sets base, token, server_pid.
start_server() {
  local dir="$work/$1"
  mkdir -p "$dir"
  "$bin" server --data-dir "$dir/data" --cache-dir "$dir/cache" --db "$db" --workers "$2" \
    --listen 127.0.0.1:0 --rate-per-second 1000000 --rate-burst 1000000 2>"$dir/log" &
  server_pid=$!
  for _ in $(seq 300); do grep -q 'listening on' "$dir/log" && break; sleep 0.1; done
  base=$(sed -n 's/.*listening on //p' "$dir/log")
  token=$(cat "$dir/data/admin-token")
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }
# submit_and_wait REFS_FILE: submits every reference, waits for all; prints seconds, first
# submission to last result; fails on any failed scan.
submit_and_wait() {
  python3 - "$base" "$token" "$1" <<'PY'
import json, sys, time, urllib.request
base, token, refs = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)
start = time.monotonic()
ids = [call("POST", "/api/v1/scans", {"reference": r})["id"] for r in refs]
for i in ids:
    while True:
        s = call("GET", f"/api/v1/scans/{i}?wait=30")
        if s["state"] in ("succeeded", "failed", "cancelled"):
            break
    if s["state"] != "succeeded":
        sys.exit(f"scan {i} ({s['reference']}): {s['state']}: {s.get('error')}")
print(f"{time.monotonic() - start:.3f}")
PY
}
now() { date +%s.%N; }

# ---- 1. overhead: 20 images, API with 2 workers vs CLI two at a time -------------------------
head -20 "$work/refs" >"$work/refs20"
echo "## overhead: 20 images (API, 2 workers) vs 20 CLI scans two at a time"
echo "| round | CLI s | API s | API / CLI | load average |"
echo "|---|---|---|---|---|"
ratios=()
for r in $(seq "$rounds"); do
  t0=$(now)
  # At the workers' priority (they scan at nice 10): on a shared machine a CLI at nice 0
  # would otherwise win CPU from other jobs that the server's scans cannot.
  nice -n 10 xargs -P 2 -I{} "$bin" scan {} --db "$db" --cache-dir "$work/cli-cache-$r" --format json -o /dev/null \
    --quiet --no-progress <"$work/refs20" || [ $? = 123 ] # exit 1 (policy) is not a failure here
  cli=$(python3 -c "print(f'{$(now) - $t0:.3f}')")
  start_server "overhead-$r" 2
  api=$(submit_and_wait "$work/refs20")
  stop_server
  ratio=$(python3 -c "print(f'{$api / $cli:.3f}')")
  ratios+=("$ratio")
  echo "| $r | $cli | $api | $ratio | $(load) |"
done
echo "median API / CLI: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') (target <= 1.10)"
echo

# ---- 2. throughput: every tag through the API, 2 workers --------------------------------------
echo "## throughput: $tags images, bulwark server --workers 2"
before=$(wc -l <"$work/registry.log")
start_server throughput 2
load0=$(load)
secs=$(submit_and_wait "$work/refs")
load1=$(load)
stop_server
echo "$tags images in $secs s: $(python3 -c "print(round($tags / $secs * 3600))") images/hour (target >= 8000); load average $load0 before, $load1 after"
# Blob GETs per shared layer during the run (HEADs are existence checks, not reads).
tail -n +"$((before + 1))" "$work/registry.log" >"$work/throughput-access.log"
while read -r d; do
  n=$(grep -c "\"GET /v2/[^ ]*/blobs/$d " "$work/throughput-access.log" || true)
  echo "shared layer ${d:7:12}: read $n time(s) from the registry (want 1)"
done <"$work/layout/shared-layers"
echo

# ---- 3. reads under load ----------------------------------------------------------------------
echo "## GET /api/v1/images/{digest} at $rate req/s for ${duration}s (wrk, paced Lua script)"
start_server reads 2
head -1 "$work/refs" >"$work/refs1"
submit_and_wait "$work/refs1" >/dev/null
digest=$(curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/images?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["digest"])')
conns=4
cat >"$work/paced.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
-- Each of the $conns connections waits this long between requests: 20% shorter than
-- $conns/$rate s, since each request's own latency adds to the wait; about $rate req/s in all.
function delay() return $((conns * 800 / rate)) end
LUA
reads() { # name
  wrk -t 2 -c "$conns" -d "${duration}s" --latency -s "$work/paced.lua" "$base/api/v1/images/$digest" >"$work/$1.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$1.txt")
  echo "| $1 | $rps | $p50 | $p99 | $(load) |"
}
echo "| workers | req/s | p50 | p99 | load average |"
echo "|---|---|---|---|---|"
reads idle
# Every tag again as new jobs (the first already ran): the workers scan throughout the run.
tail -n +2 "$work/refs" >"$work/refs-rest"
submit_and_wait "$work/refs-rest" >"$work/reads-scan.txt" &
submitter=$!
sleep 2
reads scanning
done_during=$(curl -fsS -H "Authorization: Bearer $token" "$base/metrics" | awk '/^bulwark_jobs\{state="succeeded"\}/ {print $2}')
wait "$submitter"
stop_server
echo "jobs succeeded by the end of the loaded run: ${done_during:-?} of $tags (the workers were busy throughout if fewer than $tags)"
