#!/bin/sh
# Malware scanner benchmark: rule compile time and scan throughput (MB/s) over this
# machine's /usr/bin and /usr/lib (up to 256 MB), with the bundled rules and with
# ../shared/malware/yara/signature-base loaded as well. Release build; one thread.
set -eu
cd "$(dirname "$0")/.."
cargo test --release -p bulwark-detect --test malware -- --ignored --exact throughput --nocapture
