#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install prerequisites, build Bulwark, build
# a real image locally (no registry can be pulled here): a Debian 12 root filesystem made
# by debootstrap, plus a layer of Python packages installed from PyPI at old versions, load
# it into the local Docker engine, build the advisory database from local feeds
# (../shared/advisories; osv.dev's feeds cannot be downloaded here), and scan the image.
# The root filesystem and the Python packages are cached between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-dev.sh
cargo build --release -p bulwark
bulwark=target/release/bulwark

cache="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/demo"
mkdir -p "$cache"
tarball=$(scripts/minbase.sh)
base=bulwark-demo/debian:bookworm
docker image inspect "$base" >/dev/null 2>&1 || docker import "$tarball" "$base" >/dev/null

# A second layer, as `RUN pip install` would make it: packages with published advisories.
app=bulwark-demo/app:1
if ! docker image inspect "$app" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$ctx/site-packages" \
    requests==2.19.1 urllib3==1.24.1 pyyaml==5.3 >&2
  printf 'FROM %s\nCOPY site-packages /usr/local/lib/python3.11/dist-packages/\nCMD ["bash"]\n' "$base" > "$ctx/Dockerfile"
  docker build --quiet -t "$app" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
db="$cache/bulwark.db"
if [ -d "$shared/advisories" ]; then
  a="$shared/advisories"
  "$bulwark" db build --db "$db" \
    --osv "$a/pypa-advisory-db" --osv "$a/debian-elts-osv" --osv "$a/go-vulndb" --osv "$a/rustsec-osv" \
    --kev "$a/cisa-kev/known_exploited_vulnerabilities.json" 2>/dev/null
  dbflags=(--db "$db")
elif "$bulwark" db update --db "$db" --ecosystem Debian:12 --ecosystem PyPI; then
  # A clone without ../shared: the demo image's ecosystems from osv.dev, plus KEV and EPSS.
  dbflags=(--db "$db")
else
  echo "demo: no advisory data at $shared/advisories and the download from osv.dev failed;" \
    "vulnerabilities will not be checked (offline? see \`bulwark db import\` in README.md)" >&2
  dbflags=(--no-db)
fi
# Every scanner, gated by the example policy; the reports are kept beside the image cache.
code=0
"$bulwark" scan "docker:$app" "${dbflags[@]}" --policy examples/policy.yaml \
  --output "json=$cache/report.json" --output "html=$cache/report.html" --output "sarif=$cache/report.sarif" \
  "$@" || code=$?
echo "demo: reports in $cache/report.{json,html,sarif}" >&2
case $code in
  0) echo "demo: the image passed examples/policy.yaml" >&2 ;;
  1) echo "demo: the image FAILED examples/policy.yaml (exit code 1, the CI gate); the reasons are above" >&2 ;;
  *) exit "$code" ;;
esac
