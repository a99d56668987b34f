#!/bin/sh
# Secret scanner benchmark: throughput (MB/s) over the files of /usr/lib/python3* and
# /usr/share that the scanner wants, with the built-in rules and with the gitleaks rule file
# of ../shared/secrets/gitleaks, each against one SHA-256 pass over the same bytes in the
# same run. Release build; one thread.
set -eu
cd "$(dirname "$0")/.."
export BULWARK_SHARED="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
cargo run --release --locked -q -p bulwark-detect --example secret_throughput
