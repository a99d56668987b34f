#!/usr/bin/env bash
# Store benchmark (issue 13): loads BENCH_IMAGES (default 10,000) images built from real
# package sets into a fresh SQLite store and a fresh PostgreSQL database, then prints p50/p99
# of "which images have vulnerability X" and "where is package P" (by purl, and by name with
# a version range), and the store size per image. Target: p99 <= 50 ms on both stores.
# See crates/bulwark-store/examples/store_bench.rs for how the images are built.
#
#   BULWARK_MINBASE_TAR=$(scripts/minbase.sh) bench/store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BULWARK_MINBASE_TAR:?set it: BULWARK_MINBASE_TAR=\$(scripts/minbase.sh)}"
export BULWARK_SHARED="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
export BENCH_IMAGES="${BENCH_IMAGES:-10000}"
work=$(mktemp -d)
pg_pid=""
cleanup() {
  [ -n "$pg_pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" stop -m fast -D "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
tar -xOf "$BULWARK_MINBASE_TAR" ./var/lib/dpkg/status > "$work/status"
export BENCH_DPKG_STATUS="$work/status"
# The dev profile optimises every dependency (sqlx, SQLite, the PostgreSQL driver) at -O2.
cargo build -q -p bulwark-store --example store_bench
bin="${CARGO_TARGET_DIR:-target}/debug/examples/store_bench"

echo "== SQLite"
BENCH_URL="sqlite://$work/bench.db" "$bin"
sqlite_bytes=$(du -cb "$work"/bench.db* | tail -1 | cut -f1)
echo "store size: $sqlite_bytes bytes, $((sqlite_bytes / BENCH_IMAGES)) bytes per image"

echo "== PostgreSQL"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
run "$pgbin/initdb" -D "$work/pg" -U bulwark --auth=trust --no-sync >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run "$pgbin/pg_ctl" start -w -D "$work/pg" -l "$work/pg.log" \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" >/dev/null
pg_pid=1
BENCH_URL="postgres://bulwark@127.0.0.1:$port/postgres" "$bin"
pg_bytes=$(run psql -h 127.0.0.1 -p "$port" -U bulwark -d postgres -Atc "SELECT pg_database_size('postgres')")
echo "store size: $pg_bytes bytes, $((pg_bytes / BENCH_IMAGES)) bytes per image"
