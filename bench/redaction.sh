#!/bin/sh
# Redaction cost: Redactor::redact_report on the report of the Debian minbase image, as a
# share of the scan that made the report (same run). Release build.
set -eu
cd "$(dirname "$0")/.."
export BULWARK_SHARED="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
BULWARK_MINBASE_TAR="${BULWARK_MINBASE_TAR:-$(scripts/minbase.sh)}"
export BULWARK_MINBASE_TAR
cargo run --release --locked -q -p bulwark-scan --example redaction_cost
