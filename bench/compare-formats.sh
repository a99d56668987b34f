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
#
# Two commits may have different advisory-database schemas: BULWARK_BASE_DB and
# BULWARK_NEW_DB give each binary its own database (built by itself from the same feeds,
# e.g. with bench/lib/advisories.sh). BULWARK_COMPARE_KEEP=DIR keeps every output there
# (DIR/<n>/{base,new}.<format>) for a closer look at the differences.
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
keep="${BULWARK_COMPARE_KEEP:-}"
base_db=() new_db=()
[ -n "${BULWARK_BASE_DB:-}" ] && base_db=(--db "$BULWARK_BASE_DB")
[ -n "${BULWARK_NEW_DB:-}" ] && new_db=(--db "$BULWARK_NEW_DB")
n=0
export BULWARK_TODAY="${BULWARK_TODAY:-2026-01-15}" COLUMNS=120 NO_COLOR=1
status=0
for ref in "${refs[@]}"; do
  rm -rf "$work/cache-base" "$work/cache-new"
  n=$((n + 1))
  for f in table json sarif junit cyclonedx spdx html markdown; do
    for b in base new; do
      bin_var="${b}_bin"
      db_var="${b}_db[@]"
      "${!bin_var}" scan "$ref" --no-progress -q --cache-dir "$work/cache-$b" --format "$f" "${!db_var}" "${flags[@]}" \
        > "$work/$b.$f" 2> "$work/$b.err" || echo "exit $?" >> "$work/$b.$f"
    done
    if [ -n "$keep" ]; then
      mkdir -p "$keep/$n"
      echo "$ref" > "$keep/$n/reference"
      cp "$work/base.$f" "$work/new.$f" "$keep/$n/"
    fi
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
