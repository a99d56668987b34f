#!/usr/bin/env bash
# Signing and promotion benchmark (issue 14), every number against a baseline in the same run:
#
#   promote    `bulwark promote` (SRC carries a fresh signed verdict, so no scan: copy, sign,
#              attest, tag) vs `skopeo copy` of the same image between the same two local
#              docker-registry processes. Each run copies into a fresh DST registry and a fresh
#              HOME (skopeo's blob-info cache), so neither side can mount or skip blobs.
#              Target: bulwark's throughput >= 0.9 x skopeo's (ratio = skopeo s / bulwark s).
#   verify-50  `bulwark verify --key` of an image carrying 50 signatures (each also a
#              referrer in the tag-schema index). Target: <= 0.2 s.
#   scan-sign  `bulwark scan --sign` vs the same `bulwark scan` without it. Target: adds
#              <= 0.5 s.
#
#   bench/sign.sh                       # 5 runs each
#   BULWARK_BENCH_RUNS=9 BULWARK_BIN=target/debug/bulwark bench/sign.sh
#
# Image: the Debian minbase rootfs (scripts/minbase.sh) as one gzip layer plus two layers of
# ${BULWARK_BENCH_NOISE_MB:-64} MiB of incompressible bytes each. Needs docker-registry,
# skopeo, python3 and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runs="${BULWARK_BENCH_RUNS:-5}"
bin="${BULWARK_BIN:-$repo/target/release/bulwark}"
noise_mb="${BULWARK_BENCH_NOISE_MB:-64}"
[ -x "$bin" ] || { echo "bench: build first (cargo build --release -p bulwark) or set BULWARK_BIN" >&2; exit 2; }
bin=$(readlink -f "$bin")
work=$(mktemp -d /tmp/bulwark-sign-bench.XXXXXX)
# Registries record their pid in $work/<name>/pid (they start inside $(...), a subshell).
cleanup() { for f in "$work"/*/pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
log() { echo "bench: $*" >&2; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_registry NAME -> prints host:port; storage under $work/NAME
start_registry() {
  local name=$1 port
  port=$(free_port)
  mkdir -p "$work/$name"
  cat >"$work/$name/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/$name/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
YML
  docker-registry serve "$work/$name/config.yml" >"$work/$name/log" 2>&1 </dev/null &
  echo $! >"$work/$name/pid"
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}

minbase=${BULWARK_MINBASE_TAR:-$(scripts/minbase.sh)}
log "building the image (minbase + 2 x ${noise_mb} MiB)"
python3 - "$minbase" "$work/layout" "$noise_mb" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
minbase, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(b)
    return {"digest": "sha256:" + h, "size": len(b)}
layers, diff_ids = [], []
raws = [open(minbase, "rb").read()]
for i in range(2):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        data = os.urandom(mb << 20)
        ti = tarfile.TarInfo(f"opt/noise{i}.bin"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    raws.append(bio.getvalue())
for raw in raws:
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append(dict(put(gzip.compress(raw, compresslevel=1, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
config = dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json")
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers}).encode()
md = dict(put(m), mediaType="application/vnd.oci.image.manifest.v1+json", annotations={"org.opencontainers.image.ref.name": "v1"})
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{out}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [md]}))
PY
bytes=$(du -sb "$work/layout/blobs" | cut -f1)
src=$(start_registry src)
export HOME="$work/home" BULWARK_CACHE_DIR="$work/home/cache" BULWARK_KEY_PASSWORD=bench BULWARK_NO_PROGRESS=true
mkdir -p "$HOME"
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/layout:v1" "docker://$src/app:1"
"$bin" key generate --output-key-prefix "$work/k" 2>/dev/null
cat >"$work/policy.yaml" <<YML
apiVersion: bulwark.dev/v1
kind: ImageAssertion
name: bench
rules:
  - id: debian
    description: only Debian
    action: deny
    allowed_os: [debian]
YML
log "scan --sign of SRC (the verdict promote reuses)"
"$bin" scan "$src/app:1" --scanners config --policy "$work/policy.yaml" --sign --key "$work/k.key" -q >/dev/null

# --- promote vs skopeo copy --------------------------------------------------------------
: >"$work/times.tsv"
for i in $(seq "$runs"); do
  for tool in skopeo bulwark; do
    dst=$(start_registry "dst-$tool-$i")
    h="$work/h-$tool-$i"; mkdir -p "$h"
    t0=$(date +%s.%N)
    if [ $tool = skopeo ]; then
      HOME=$h skopeo --insecure-policy copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$src/app:1" "docker://$dst/app:1"
    else
      HOME=$h BULWARK_CACHE_DIR=$h/cache "$bin" promote "$src/app:1" "$dst/app:1" --policy "$work/policy.yaml" --key "$work/k.key" --scanners config -q 2>"$work/promote.log"
    fi
    t1=$(date +%s.%N)
    echo -e "$tool\t$(echo "$t1 - $t0" | bc)" >>"$work/times.tsv"
    kill "$(cat "$work/dst-$tool-$i/pid")" 2>/dev/null || true; rm -rf "$work/dst-$tool-$i"
  done
done
grep -q "1 attestation(s) added" "$work/promote.log" || { echo "bench: promote rescanned:" >&2; cat "$work/promote.log" >&2; exit 1; }

# --- verify with 50 signatures -------------------------------------------------------------
log "signing 50 times"
for i in $(seq 50); do "$bin" sign "$src/app:1" --key "$work/k.key" -a "n=$i" 2>/dev/null; done
n=$("$bin" verify "$src/app:1" --key "$work/k.pub" 2>/dev/null | grep -c '^verified')
[ "$n" -ge 50 ] || { echo "bench: only $n signatures verified" >&2; exit 1; }
hyperfine -N --warmup 1 --runs "$((runs * 2))" --export-json "$work/verify.json" \
  -n verify-50 "$bin verify $src/app:1 --key $work/k.pub" >/dev/null 2>&1

# --- scan --sign overhead ------------------------------------------------------------------------
hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/scan.json" \
  -n scan "$bin scan $src/app:1 --scanners config --policy $work/policy.yaml -q --format json -o /dev/null" \
  -n scan-sign "$bin scan $src/app:1 --scanners config --policy $work/policy.yaml -q --format json -o /dev/null --sign --key $work/k.key" \
  >/dev/null 2>&1

python3 - "$work" "$bytes" "$runs" <<'PY'
import json, statistics, sys
work, nbytes, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = {"skopeo": [], "bulwark": []}
for line in open(f"{work}/times.tsv"):
    tool, s = line.split(); t[tool].append(float(s))
sk, bw = statistics.median(t["skopeo"]), statistics.median(t["bulwark"])
mb = nbytes / 2**20
print(f"image: {mb:.1f} MiB of blobs, {runs} runs each, medians")
print(f"promote   skopeo copy {sk:.3f} s ({mb/sk:.0f} MiB/s)  bulwark promote {bw:.3f} s ({mb/bw:.0f} MiB/s)  "
      f"throughput ratio {sk/bw:.2f} (target >= 0.90)")
v = json.load(open(f"{work}/verify.json"))["results"][0]
print(f"verify-50 median {v['median']:.3f} s, max {max(v['times']):.3f} s (target <= 0.2 s)")
s = {r["command"]: r for r in json.load(open(f"{work}/scan.json"))["results"]}
d = s["scan-sign"]["median"] - s["scan"]["median"]
print(f"scan-sign scan {s['scan']['median']:.3f} s, scan --sign {s['scan-sign']['median']:.3f} s: adds {d:.3f} s (target <= 0.5 s)")
PY
