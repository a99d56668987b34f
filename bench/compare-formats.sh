#!/usr/bin/env bash
# Byte-for-byte comparison of every report format written by two Bulwark binaries (e.g.
# main's and a branch's) on the same images, each scan with a fresh cache and HOME.
#
#   bench/compare-formats.sh OLD_BULWARK NEW_BULWARK REF [REF...]
#
# Prints one line per reference and format: `same` or `DIFFERENT` (with a diff excerpt);
# exits 1 when anything differs.
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 OLD_BULWARK NEW_BULWARK REF [REF...]" >&2; exit 2; }
old=$1 new=$2
shift 2
formats=(json table sarif junit cyclonedx spdx html markdown)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for ref in "$@"; do
  for side in old new; do
    bin=${!side}
    home="$work/$side-home"
    rm -rf "$home" && mkdir -p "$home"
    args=()
    for f in "${formats[@]}"; do args+=(-o "$f=$work/$side.$f"); done
    HOME=$home BULWARK_CACHE_DIR=$home/cache BULWARK_NO_PROGRESS=true NO_COLOR=1 \
      "$bin" scan "$ref" "${args[@]}" -f json >/dev/null 2>"$work/$side.stderr"
    echo "exit $?" >>"$work/$side.stderr"
  done
  for f in "${formats[@]}" stderr; do
    a="$work/old.$f" b="$work/new.$f"
    # Paths of the per-run HOME differ by construction.
    sed -i "s#$work/old-home#HOME#g" "$a"
    sed -i "s#$work/new-home#HOME#g" "$b"
    if cmp -s "$a" "$b"; then
      echo "$ref $f: same"
    else
      echo "$ref $f: DIFFERENT"
      diff <(head -c 200000 "$a") <(head -c 200000 "$b") | head -10
      status=1
    fi
  done
done
exit $status
