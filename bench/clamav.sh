#!/usr/bin/env bash
# clamd as a second malware engine: the scan's time with `--malware-engine yara,clamav`
# against the all-scanner figure (YARA only) on the bench images, and clamd's own
# throughput with the test signature database (for information; no target).
#
# clamd is started here (Debian's clamav-daemon, scripts/setup-dev.sh) on a socket in a
# temp dir with ../shared/malware/clamav-test-db, as the tests do: no freshclam, no network.
# A production database (~8 million signatures) makes clamd slower to start and to scan;
# re-run with CLAMD_DB=/var/lib/clamav to measure with one.
#
#   bench/clamav.sh                          # minbase, 5 runs
#   BULWARK_BENCH_IMAGES="minbase large" bench/clamav.sh
#
# Images are bench/run.sh's OCI layouts; a missing minbase is made from scripts/minbase.sh's
# root filesystem instead of running run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runs="${BULWARK_BENCH_RUNS:-5}"
out="${BULWARK_BENCH_OUT:-$repo/bench/results}"
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
shared="${BULWARK_SHARED:-$repo/../shared}"
db="${CLAMD_DB:-$shared/malware/clamav-test-db}"
mkdir -p "$out" "$cache"
log() { echo "clamav-bench: $*" >&2; }

cargo build --release --locked -q -p bulwark --bin bulwark
bulwark="${CARGO_TARGET_DIR:-$repo/target}/release/bulwark"

for img in ${BULWARK_BENCH_IMAGES:-minbase}; do
  if [ ! -f "$cache/oci-$img/layers.txt" ]; then
    if [ "$img" = minbase ]; then
      root="$cache/rootfs-minbase-tar"
      rm -rf "$root" && mkdir -p "$root"
      tar -C "$root" -xf "$("$repo/scripts/minbase.sh")"
      python3 "$repo/bench/mkoci.py" "$cache/oci-minbase" "$root" >&2
    else
      BULWARK_BENCH_SETUP_ONLY=1 BULWARK_BENCH_IMAGES="$img" "$repo/bench/run.sh"
    fi
  fi
done

tmp=$(mktemp -d)
clamd_pid=""
cleanup() { [ -n "$clamd_pid" ] && kill "$clamd_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/tmp"
cat >"$tmp/clamd.conf" <<CONF
LocalSocket $tmp/clamd.sock
DatabaseDirectory $db
Foreground yes
TemporaryDirectory $tmp/tmp
LogFile $tmp/clamd.log
StreamMaxLength 25M
MaxThreads 8
CONF
/usr/sbin/clamd -c "$tmp/clamd.conf" >/dev/null 2>&1 &
clamd_pid=$!
for _ in $(seq 600); do [ -S "$tmp/clamd.sock" ] && break; sleep 0.1; done
[ -S "$tmp/clamd.sock" ] || { log "clamd did not start"; cat "$tmp/clamd.log" >&2; exit 2; }
log "$(/usr/sbin/clamd --version) with $db"

{
  echo "# clamd benchmark ($(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "clamd: $(/usr/sbin/clamd --version), database $db"
} >"$out/clamav.md"
for img in ${BULWARK_BENCH_IMAGES:-minbase}; do
  dir="$cache/oci-$img"
  scan="$bulwark scan oci:$dir --no-cache --no-progress --no-db --format json -o /dev/null"
  hyperfine --runs "$runs" --warmup 1 --style basic --export-json "$out/clamav-$img.json" \
    -n scan-all "$scan" \
    -n scan-all-clamav "$scan --malware-engine yara,clamav --clamd $tmp/clamd.sock" \
    -n scan-clamav-only "$scan --scanners malware --malware-engine clamav --clamd $tmp/clamd.sock" >&2
  # clamd alone: every regular file of the image's layers, one INSTREAM each, one at a time.
  python3 - "$dir" "$tmp/clamd.sock" "$img" >>"$out/clamav.md" <<'PY'
import gzip, json, socket, struct, sys, tarfile, time
layout, sock, img = sys.argv[1:4]
blobs = [l.strip() for l in open(f"{layout}/layers.txt") if l.strip()]
files, total, elapsed = 0, 0, 0.0
for b in blobs:
    with tarfile.open(b, "r:*") as t:
        for m in t:
            if not m.isreg() or m.size == 0 or m.size > 25 << 20:
                continue
            data = t.extractfile(m).read()
            start = time.perf_counter()
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            s.sendall(b"zINSTREAM\0")
            for i in range(0, len(data), 65536):
                chunk = data[i:i + 65536]
                s.sendall(struct.pack(">I", len(chunk)) + chunk)
            s.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                c = s.recv(256)
                if not c:
                    break
                reply += c
            s.close()
            elapsed += time.perf_counter() - start
            files += 1
            total += len(data)
print(f"\n{img}: clamd alone, one file at a time: {files} files, {total / 1e6:.0f} MB in {elapsed:.1f} s = {total / 1e6 / elapsed:.0f} MB/s, {files / elapsed:.0f} files/s")
PY
  python3 - "$out/clamav-$img.json" "$img" >>"$out/clamav.md" <<'PY'
import json, statistics, sys
res = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
base = statistics.median(res["scan-all"])
print(f"\n{sys.argv[2]} (median of {len(res['scan-all'])} runs):\n")
print("| command | median | vs scan-all |\n|---|---|---|")
for name, times in res.items():
    m = statistics.median(times)
    print(f"| {name} | {m:.2f} s | {m / base:.2f}x |")
PY
done
cat "$out/clamav.md"
