#!/usr/bin/env bash
# Before/after comparison of every report format: scans each reference with two binaries
# (e.g. main's and a branch's) and compares the outputs byte for byte. Used to prove that a
# refactoring leaves reports unchanged (issue 11). Prints one line per reference and format; stderr must match too.
#
#   bench/compare-formats.sh BASELINE_BIN NEW_BIN REF... [-- SCAN_FLAGS...]
#   bench/compare-formats.sh /tmp/bulwark-main target/debug/bulwark docker:app:1 oci:/tmp/img -- --db bench.db
#
# Each binary scans each reference with its own layer cache, fresh for the reference's first
# format (so both read every layer once, and the later formats are warm rescans), a fixed
# BULWARK_TODAY and no progress bars; the table is rendered at a fixed width, without colour.
set -euo pipefail
base_bin=$(realpath "${1:?baseline binary}")
new_bin=$(realpath "${2:?binary under test}")
shift 2
refs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do refs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
flags=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BULWARK_TODAY="${BULWARK_TODAY:-2026-01-15}" COLUMNS=120 NO_COLOR=1
status=0
for ref in "${refs[@]}"; do
  rm -rf "$work/cache-base" "$work/cache-new"
  for f in table json sarif junit cyclonedx spdx html markdown; do
    for b in base new; do
      bin_var="${b}_bin"
      "${!bin_var}" scan "$ref" --no-progress -q --cache-dir "$work/cache-$b" --format "$f" "${flags[@]}" \
        > "$work/$b.$f" 2> "$work/$b.err" || echo "exit $?" >> "$work/$b.$f"
    done
    if ! cmp -s "$work/base.err" "$work/new.err"; then
      echo "DIFFERENT $ref $f (stderr)"; diff "$work/base.err" "$work/new.err" | head -20 || true
      status=1
    fi
    if cmp -s "$work/base.$f" "$work/new.$f"; then
      echo "same      $ref $f ($(wc -c < "$work/new.$f") bytes)"
    else
      echo "DIFFERENT $ref $f"; diff <(head -c 200000 "$work/base.$f") <(head -c 200000 "$work/new.$f") | head -20 || true
      status=1
    fi
  done
done
exit $status
