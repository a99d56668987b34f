#!/usr/bin/env bash
# Bulwark checks itself: its Cargo.lock (and the fuzz workspace's) scanned by Bulwark against
# the RustSec advisories in ../shared, failing (exit 1) on any dependency with a known
# vulnerability (scripts/self-check-policy.yaml). With BULWARK_SELF_IMAGE=TAG it also scans
# that image (scripts/build-image.sh), which carries the same Cargo.lock. About a second.
#
#   scripts/self-check.sh            # uses target/debug/bulwark (built if missing)
#   BULWARK_BIN=path scripts/self-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
bin="${BULWARK_BIN:-${CARGO_TARGET_DIR:-target}/debug/bulwark}"
[ -x "$bin" ] || cargo build --locked -p bulwark >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" db build --db "$work/rustsec.db" --osv "rustsec=$shared/advisories/rustsec-osv/crates" >/dev/null
# Only the lock files: a `dir:` scan of the checkout would walk target/ too.
mkdir -p "$work/src/fuzz"
cp Cargo.lock "$work/src/Cargo.lock"
[ -f fuzz/Cargo.lock ] && cp fuzz/Cargo.lock "$work/src/fuzz/Cargo.lock"
scan() {
  "$bin" scan "$1" --scanners vuln --db "$work/rustsec.db" --db-max-age-days 100000 \
    --policy scripts/self-check-policy.yaml --no-cache --no-progress --format table
}
scan "dir:$work/src"
if [ -n "${BULWARK_SELF_IMAGE:-}" ]; then
  scan "docker:$BULWARK_SELF_IMAGE"
fi
echo "self-check: no known vulnerability in Bulwark's dependencies" >&2
