#!/bin/sh
# Malware scanner benchmark: rule compile time and scan throughput (MB/s) over this
# machine's /usr/bin and /usr/lib (up to 256 MB), with the bundled rules and with
# ../shared/malware/yara/signature-base loaded as well, each against one SHA-256 pass over
# the same bytes in the same run. Release build; one thread.
set -eu
cd "$(dirname "$0")/.."
export BULWARK_SHARED="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
cargo run --release --locked -q -p bulwark-detect --example malware_throughput
