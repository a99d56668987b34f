#!/usr/bin/env bash
# Builds the "jars" image: one layer of real jars from Debian 12's Java library packages
# (scripts/debian-jars.sh: Spring 4.3, Bouncy Castle, Commons, log4j 1 and 2, Jackson,
# Netty, SLF4J, H2, XStream, SnakeYAML), most without pom.properties, copied to
# /opt/app<N>/lib the way an application image's COPY step adds them (not registered with
# dpkg, so they are language packages, not OS-owned files).
#
#   bench/mkjars.sh            # 1 copy: the Syft comparison image (bench/compare-syft.sh jars)
#   JAR_COPIES=4 bench/mkjars.sh   # 4 copies: ~240 jars, the coordinate benchmark (bench/java-coords.sh)
#
# Output: ${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}/oci-jars<copies> (prints it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
copies="${JAR_COPIES:-1}"
jars=$("$repo/scripts/debian-jars.sh")
root="$cache/rootfs-jars$copies"
out="$cache/oci-jars$copies"
if [ ! -f "$out/layers.txt" ] || [ "$jars/.done" -nt "$out/layers.txt" ]; then
  rm -rf "$root" "$out"
  for i in $(seq 1 "$copies"); do
    mkdir -p "$root/opt/app$i/lib"
    # The real files only (Debian's unversioned names are symlinks to them).
    cut -f3 "$jars/packages.tsv" | while read -r f; do cp "$jars/root$f" "$root/opt/app$i/lib/"; done
  done
  python3 "$repo/bench/mkoci.py" "$out" "$root" >&2
fi
echo "$out"
