#!/usr/bin/env bash
# Makes the real language-package fixtures for tests/lang_*.rs in a cache directory outside
# the repository: ${BULWARK_FIXTURE_CACHE:-$HOME/.cache/bulwark-fixtures}/lang-v1.
#
# - python/site-packages: `pip install --target --no-deps` of pinned wheels from PyPI (needs
#   network the first time only). pythonnet's wheel also ships a real .NET `*.deps.json`.
# - node/package-lock-v{1,2,3}.json: `npm shrinkwrap --offline` run on a copy of the npm that
#   ships with node (its own installed node_modules tree), once per lockfile version. No network.
# - ruby/Gemfile.lock: Bundler's `lock --local` over gems Debian's ruby installs. No network.
#
# Idempotent: a complete cache is left alone. Usage: make-lang-fixtures.sh [--print-dir]
set -euo pipefail

dir="${BULWARK_FIXTURE_CACHE:-$HOME/.cache/bulwark-fixtures}/lang-v1"
if [ "${1:-}" = "--print-dir" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "${dir%/*}"
# Test binaries run in parallel: one makes the fixtures, the others wait for it.
exec 9>"${dir%/*}/.lang-v1.lock"
flock 9
if [ -f "$dir/.complete" ]; then
  exit 0
fi
tmp="$(mktemp -d "${dir%/*}/.lang-v1.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Python: pinned versions, so that tests can hard-code what the files contain.
python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
  --target "$tmp/python/site-packages" six==1.16.0 requests==2.31.0 pythonnet==3.0.3

# Node: the npm bundled with node is a real installed tree; npm writes a lockfile for it
# from node_modules alone.
npm_dir="$(dirname "$(readlink -f "$(command -v node)")")/../lib/node_modules/npm"
mkdir -p "$tmp/node"
for v in 1 2 3; do
  rm -rf "$tmp/node/npm"
  cp -r "$npm_dir" "$tmp/node/npm"
  (cd "$tmp/node/npm" && npm shrinkwrap --offline --lockfile-version "$v" --ignore-scripts \
    --no-audit --no-fund --loglevel=error >/dev/null)
  mv "$tmp/node/npm/npm-shrinkwrap.json" "$tmp/node/package-lock-v$v.json"
done
rm -rf "$tmp/node/npm"

# Ruby: a Gemfile.lock resolved by Bundler against the installed gems only.
if command -v ruby >/dev/null; then
  mkdir -p "$tmp/ruby"
  printf 'source "https://rubygems.org"\ngem "rake"\ngem "minitest"\ngem "test-unit"\n' >"$tmp/ruby/Gemfile"
  (cd "$tmp/ruby" && ruby -e 'load Gem.bin_path("bundler", "bundle")' -- lock --local >/dev/null)
fi

touch "$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "lang fixtures: $dir"
