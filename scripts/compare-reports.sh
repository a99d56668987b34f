#!/usr/bin/env bash
# Before/after check for refactors that must not change results: two Bulwark binaries build
# the advisory database from ../shared/advisories (OSV directories, Red Hat CSAF VEX, Debian
# tracker files, KEV, NVD; shared/ has no daily EPSS file) and scan the same images into
# every report format against one of those databases; every output must be byte-for-byte
# identical (bench/compare-formats.sh compares them), and so must the two databases' content digests.
#
#   scripts/compare-reports.sh OLD_BIN NEW_BIN [OUT_DIR]
#
# Images: the Debian minbase root filesystem (scripts/minbase.sh) imported into the local
# Docker engine, and a `dir:` image of a Debian 10 root (os-release from the claircore
# fixtures, the texlive dpkg status from the same fixtures: 357 real packages) plus old PyPI
# releases installed with pip (requests 2.19.1, urllib3 1.24.1, pyyaml 5.3), which match
# Debian ELTS, PyPA and tracker data. Exit code 0 when everything is identical, 1 otherwise.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
cd "$(dirname "$0")/.."
out=$(realpath -m "${3:-$(mktemp -d)}")
mkdir -p "$out"
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
a="$shared/advisories"
[ -d "$a" ] || { echo "compare-reports: no advisory data at $a (set BULWARK_SHARED)" >&2; exit 2; }
log() { echo "compare-reports: $*" >&2; }

dbargs=(
  --osv "$a/go-vulndb/data/osv" --osv "$a/rustsec-osv/crates" --osv "$a/pypa-advisory-db/vulns"
  --osv "$a/debian-elts-osv/advisories" --osv "$a/k8s-cve-feed-osv" --osv "$a/index-samples/ghsa-osv"
  --osv "$a/index-samples/ubuntu-osv" --csaf "$a/redhat-csaf-vex-samples"
  --debian-tracker "$a/index-samples/debian-tracker-cve"
  --kev "$a/cisa-kev/known_exploited_vulnerabilities.json"
  --nvd "$a/index-samples/nvd-json2"
)
for side in old new; do
  bin=${!side}
  log "building the database with the $side binary"
  "$bin" db build --db "$out/$side.db" "${dbargs[@]}" 2>"$out/$side.db.log"
  "$bin" db status --db "$out/$side.db" --format json >"$out/$side.db.json" 2>/dev/null || true
done
digest() { sqlite3 "$1" "SELECT value FROM meta WHERE key = 'content_digest'"; }
status=0
if [ "$(digest "$out/old.db")" = "$(digest "$out/new.db")" ]; then
  log "databases: same content digest $(digest "$out/old.db")"
else
  log "databases DIFFER: $(digest "$out/old.db") vs $(digest "$out/new.db")"
  status=1
fi

# The images.
minbase=$(scripts/minbase.sh)
# BULWARK_COMPARE_IMAGE names the imported image (shared Docker engines: use your own prefix).
tag="${BULWARK_COMPARE_IMAGE:-bulwark-compare-reports/minbase}:$(sha256sum "$minbase" | cut -c1-12)"
docker image inspect "$tag" >/dev/null 2>&1 || docker import "$minbase" "$tag" >/dev/null
root="$out/deb10-root"
if [ ! -e "$root/.complete" ]; then
  rm -rf "$root"
  mkdir -p "$root/etc" "$root/var/lib/dpkg" "$root/usr/lib/python3/dist-packages"
  fixtures="$shared/fixtures/os-pkgdb/claircore"
  sed -n '/^-- os-release --$/,/^-- Parsed --$/p' "$fixtures/osrelease/testdata/Buster.txtar" | sed '1d;$d' >"$root/etc/os-release"
  cp "$fixtures/dpkg/testdata/texlive.status" "$root/var/lib/dpkg/status"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$root/usr/lib/python3/dist-packages" requests==2.19.1 urllib3==1.24.1 pyyaml==5.3 >&2
  touch "$root/.complete"
fi
images=("docker:$tag" "dir:$root")

# Every format, its stderr and exit code, compared by the one comparison script.
bench/compare-formats.sh "$old" "$new" "${images[@]}" -- --db "$out/old.db" || status=1
exit $status
