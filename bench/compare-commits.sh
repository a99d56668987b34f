#!/usr/bin/env bash
# Two builds of Bulwark in the same run, rounds interleaved, over the images bench/run.sh
# builds: the layer read with cataloguing (`scan --scanners vuln --no-db`), the read alone
# (`inspect`), vulnerability matching, every scanner, and malware, secret and config alone. Each binary gets its own advisory
# database, built by itself from the same feeds (the schema may differ between commits).
# Prints, per image and command, the new/baseline ratios of median wall times and of median
# CPU times (user + system of all threads: on a busy machine the steadier of the two); issue
# 11 asks for every ratio to stay within 1.03.
#
#   bench/compare-commits.sh BASELINE_BIN NEW_BIN
#   BULWARK_BENCH_RUNS=10 BULWARK_BENCH_IMAGES=minbase bench/compare-commits.sh A B
#   BULWARK_BENCH_COMMANDS="scan-all malware" bench/compare-commits.sh A B
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

# Each round runs every command once with each binary, alternating which goes first, so a
# load that drifts during the run (another build, a cron job) weighs on both alike; hyperfine
# runs one command's rounds back to back, which let drifting load pass for a difference.
python3 - "$out" "$runs" "$cache" "$base_bin" "$new_bin" $images <<'EOF'
import json, os, statistics, subprocess, sys, time
out, runs, cache, base_bin, new_bin, images = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
commands = {
    # (arguments, environment): the read alone, the read with cataloguing, matching, every
    # scanner, and each of the other scanners alone (where a difference in scan-all comes from).
    "inspect": (["inspect", "{ref}", "--format", "json"], {"BULWARK_CACHE_DIR": "/dev/null"}),
    "scan": (["scan", "{ref}", "--scanners", "vuln", "--no-db"], {}),
    "scan-vuln": (["scan", "{ref}", "--scanners", "vuln", "--db", "{db}"], {}),
    "scan-all": (["scan", "{ref}", "--db", "{db}"], {}),
    "malware": (["scan", "{ref}", "--scanners", "malware", "--no-db"], {}),
    "secret": (["scan", "{ref}", "--scanners", "secret", "--no-db"], {}),
    "config": (["scan", "{ref}", "--scanners", "config", "--no-db"], {}),
}
wanted = os.environ.get("BULWARK_BENCH_COMMANDS", " ".join(commands)).split()
def run(binary, which, img, name):
    args, env = commands[name]
    ref, db = f"oci:{cache}/oci-{img}", f"{out}/{which}.db"
    argv = [binary] + [a.format(ref=ref, db=db) for a in args]
    if argv[1] == "scan":
        argv += ["--no-cache", "--no-progress", "--format", "json", "-o", "/dev/null"]
    start = time.monotonic()
    child = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{which} {name} on {img}: exit {code} ({' '.join(argv)})")
    # Wall time, and the CPU time of every thread (user + system), which another process
    # on the machine disturbs far less than wall time.
    return took, usage.ru_utime + usage.ru_stime
def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])
results = {}
for img in images:
    with open(f"{out}/machine.txt", "a") as m:
        m.write(f"{img}: load average before: {load()}\n")
    for name in wanted:
        run(base_bin, "base", img, name)  # warm-up: page cache and rule caches
        run(new_bin, "new", img, name)
        times = {"base": [], "new": []}
        for r in range(runs):
            order = [("base", base_bin), ("new", new_bin)]
            for which, binary in order if r % 2 == 0 else order[::-1]:
                times[which].append(run(binary, which, img, name))
        results[f"{img}:{name}"] = times
        b, n = (statistics.median(w for w, _ in times[k]) for k in ("base", "new"))
        print(f"compare-commits: {img} {name}: base {b:.3f} s, new {n:.3f} s", file=sys.stderr)
    with open(f"{out}/machine.txt", "a") as m:
        m.write(f"{img}: load average after: {load()}\n")
json.dump(results, open(f"{out}/times.json", "w"), indent=1)
lines = ["| image | command | baseline wall s | new wall s | wall new / baseline | baseline CPU s | new CPU s | CPU new / baseline |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
worst = 0.0
for key, t in results.items():
    img, name = key.split(":")
    bw, nw = (statistics.median(w for w, _ in t[k]) for k in ("base", "new"))
    bc, nc = (statistics.median(c for _, c in t[k]) for k in ("base", "new"))
    worst = max(worst, nw / bw)
    lines.append(f"| {img} | {name} | {bw:.3f} | {nw:.3f} | {nw / bw:.3f} | {bc:.3f} | {nc:.3f} | {nc / bc:.3f} |")
lines += ["", f"worst wall-time ratio: {worst:.3f} ({'within' if worst <= 1.03 else 'over'} 1.03)"]
open(f"{out}/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
cat "$out/machine.txt" >&2
