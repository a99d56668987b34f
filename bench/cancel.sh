#!/usr/bin/env bash
# How promptly `bulwark scan` stops on a signal: scans REF with a fresh layer cache, sends
# SIGNAL (default INT) once the process has read 8 MiB (the layers are streaming), and
# prints the time from the signal to the exit, the exit code and the last stderr line.
# Reads from a socket (docker:, registries) do not count in /proc/PID/io: for those, set
# CANCEL_AFTER=SECONDS to signal after a fixed time instead.
#
#   bench/cancel.sh BIN REF [RUNS] [SIGNAL]
#   bench/cancel.sh target/release/bulwark oci:/tmp/oci-minbase:bench 5 INT
set -euo pipefail
bin=$(realpath "${1:?binary}")
ref=${2:?image reference}
runs=${3:-3}
sig=${4:-INT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq "$runs"); do
  rm -rf "$work/cache" "$work/out.json"
  "$bin" scan "$ref" --no-progress --no-db --cache-dir "$work/cache" -o "json=$work/out.json" \
    > /dev/null 2> "$work/err" &
  pid=$!
  if [ -n "${CANCEL_AFTER:-}" ]; then sleep "$CANCEL_AFTER"; fi
  while [ -z "${CANCEL_AFTER:-}" ] && [ "$(awk '/^rchar:/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)" -lt $((8 << 20)) ]; do
    kill -0 "$pid" 2>/dev/null || { echo "run $i: the scan ended before the signal" >&2; exit 1; }
    sleep 0.01
  done
  start=$(date +%s.%N)
  kill "-$sig" "$pid"
  code=0
  wait "$pid" || code=$?
  end=$(date +%s.%N)
  out=absent
  [ -e "$work/out.json" ] && out=present
  printf 'run %d: exit %d after %.3f s; last line: %s; output file %s\n' \
    "$i" "$code" "$(echo "$end - $start" | bc)" "$(tail -n 1 "$work/err")" "$out"
done
