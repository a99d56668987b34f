# Sourced by the bench scripts: the one advisory database they measure against.
#
#   bench_db_build BULWARK_BIN DB SHARED_DIR [LOG]
#
# builds DB with that binary from every OSV feed in SHARED_DIR/advisories that the bench
# images can match (Go, RustSec, PyPA, Debian ELTS, Kubernetes) plus CISA KEV; the tool's
# output goes to LOG (default /dev/null) and is printed on failure. Returns non-zero when the
# feeds are missing or the build fails.
bench_db_build() {
  local bin=$1 db=$2 shared=$3 log=${4:-/dev/null} a d
  a="$shared/advisories"
  [ -d "$a" ] || { echo "bench: no $a: set BULWARK_SHARED" >&2; return 2; }
  local osv=()
  for d in go-vulndb rustsec-osv pypa-advisory-db debian-elts-osv k8s-cve-feed-osv; do osv+=(--osv "$a/$d"); done
  "$bin" db build --db "$db" "${osv[@]}" --kev "$a/cisa-kev/known_exploited_vulnerabilities.json" >"$log" 2>&1 || {
    [ "$log" = /dev/null ] || cat "$log" >&2
    return 2
  }
}
