#!/usr/bin/env bash
# Downloads Debian 12's packages of well-known Java libraries, most of which ship jars
# without META-INF/maven/**/pom.properties, and unpacks their jars into a cache directory
# (never into the repository). Prints the directory. Idempotent: a filled directory is
# reused. Used by the Java coordinate tests (crates/bulwark-catalog/tests/it/java_debian.rs),
# the Syft comparison (docs/syft-differences.md) and bench/java-coords.sh.
#
#   JARS=$(scripts/debian-jars.sh)          # default: ${XDG_CACHE_HOME:-~/.cache}/bulwark-test/debian-jars
set -euo pipefail

dir="${BULWARK_DEBIAN_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/bulwark-test/debian-jars}"
packages=(
  libspring-beans-java libspring-core-java libspring-context-java libspring-web-java
  libbcprov-java libbcpkix-java
  libcommons-lang3-java libcommons-collections3-java libcommons-codec-java
  liblog4j2-java liblog4j1.2-java
  libjackson2-databind-java libjackson2-core-java libjackson2-annotations-java
  libslf4j-java libyaml-snake-java libxstream-java libnetty-java libh2-java
)
if [ -f "$dir/.done" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir/debs" "$dir/root"
(
  cd "$dir/debs"
  for p in "${packages[@]}"; do
    if ! ls "${p}"_*.deb >/dev/null 2>&1; then
      # apt warns that root downloads unsandboxed; the download itself is what matters.
      apt-get download -q "$p" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
      ls "${p}"_*.deb >/dev/null || { echo "debian-jars: could not download $p" >&2; exit 1; }
    fi
  done
)
for deb in "$dir"/debs/*.deb; do
  dpkg-deb -x "$deb" "$dir/root"
done
# One place for the jars: the real files (Debian's unversioned names are symlinks), and a
# listing of which package shipped which jar, with the package version.
: > "$dir/packages.tsv"
for deb in "$dir"/debs/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  ver=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -c "$deb" | awk '{print $6}' | grep -E '\.jar$' | while read -r f; do
    f=${f#./}
    [ -L "$dir/root/$f" ] && continue
    printf '%s\t%s\t/%s\n' "$pkg" "$ver" "$f" >> "$dir/packages.tsv"
  done
done
sort -o "$dir/packages.tsv" "$dir/packages.tsv"
touch "$dir/.done"
echo "$dir"
