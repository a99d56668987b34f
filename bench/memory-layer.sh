#!/usr/bin/env bash
# Peak memory of one hostile layer (issue 10, item 5): twenty dpkg `status.d` files of
# 50,000 stanzas each in one layer, each file within --max-packages. Runs every binary given
# (e.g. main's and a branch's) on the same image in the same run, `--no-cache`, and prints
# peak RSS (`/usr/bin/time -v`), wall time, exit code, packages kept and limit warnings.
#
#   bench/memory-layer.sh BULWARK [BULWARK...]
#   BULWARK_BENCH_AS=1073741824 bench/memory-layer.sh …   # also under an address-space limit
#
# BULWARK_BENCH_SHAPE="FILES STANZAS LAYERS" changes the image (default "20 50000 1"). The
# image-wide budget case (--max-image-results) is many layers each within the per-layer
# budget: "2 40000 12" is twelve layers of 80,000 packages each, ~1.2 GB kept without it.
# A run that stops at a limit shows exit 2 and "-" packages.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 BULWARK [BULWARK...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -r files stanzas layers <<<"${BULWARK_BENCH_SHAPE:-20 50000 1}"
python3 bench/mkstatusd.py "$work/img" "$files" "$stanzas" "$layers"
echo "image: $layers layer(s) of $files status.d file(s) x $stanzas stanzas"
limit=()
[ -n "${BULWARK_BENCH_AS:-}" ] && limit=(prlimit "--as=$BULWARK_BENCH_AS" --)
printf '%-40s %12s %10s %5s %9s  %s\n' binary peak_rss_mb wall exit packages "limit warnings"
for bin in "$@"; do
  rm -rf "$work/home" && mkdir -p "$work/home"
  set +e
  HOME=$work/home BULWARK_NO_PROGRESS=true /usr/bin/time -v "${limit[@]}" "$bin" scan "oci:$work/img:1" \
    -f json --no-cache >"$work/out.json" 2>"$work/time.txt"
  code=$?
  set -e
  rss=$(awk -F: '/Maximum resident/ {printf "%.0f", $2/1024}' "$work/time.txt")
  wall=$(awk '/Elapsed/ {print $NF}' "$work/time.txt")
  read -r packages warnings < <(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("- -"); sys.exit()
w = [x for x in r.get("warnings", []) if x.startswith("limit reached: ")]
print(len(r.get("packages", [])), len(w))' "$work/out.json")
  printf '%-40s %12s %10s %5s %9s  %s\n' "$bin" "$rss" "$wall" "$code" "$packages" "$warnings"
done
