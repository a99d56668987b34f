#!/usr/bin/env bash
# Bulwark on one host in one command: builds the images locally (nothing is pulled) and
# starts deploy/compose/docker-compose.yml: PostgreSQL, two API servers and three workers.
#
#   scripts/compose-up.sh            # then: curl -H "Authorization: Bearer $(cat …/admin-token)" …
#   scripts/compose-up.sh down       # stop and remove the containers (volumes are kept)
#
# Images:
#   bulwark:dev           scripts/build-image.sh: a debootstrap minbase root filesystem
#                         (scripts/minbase.sh) + the release binary (BULWARK_BIN, else
#                         `cargo build --release`)
#   bulwark-postgres:dev  the same base + Debian's postgresql package
#   bulwark-registry:dev  the same base + Debian's docker-registry (COMPOSE_PROFILES=check only)
# The package layers need the Debian mirror the first time (as debootstrap does); later runs
# reuse Docker's build cache.
#
# State on the host: BULWARK_COMPOSE_STATE (default ~/.local/state/bulwark/compose) keeps the
# database password (made once) and the first admin's token, both mode 0600. The advisory
# database is built in the stack from BULWARK_ADVISORIES (default ../shared/advisories),
# mounted read-only. COMPOSE_PROJECT_NAME (default bulwark), BULWARK_API1_PORT and
# BULWARK_API2_PORT (8081, 8082, on 127.0.0.1) allow a second stack beside the first.
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-bulwark}"
export COMPOSE_FILE="$PWD/deploy/compose/docker-compose.yml"
export BULWARK_IMAGE="${BULWARK_IMAGE:-bulwark:dev}"
export BULWARK_COMPOSE_STATE="${BULWARK_COMPOSE_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/bulwark/compose}"
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
export BULWARK_ADVISORIES="${BULWARK_ADVISORIES:-$shared/advisories}"
command -v docker-compose >/dev/null || { echo "compose-up: docker-compose is missing (scripts/setup-dev.sh installs it)" >&2; exit 2; }

umask 077
mkdir -p "$BULWARK_COMPOSE_STATE"
pwfile="$BULWARK_COMPOSE_STATE/postgres-password"
if [ ! -s "$pwfile" ]; then
  # Hex: safe in the database URL without escaping.
  od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$pwfile"
fi
BULWARK_PG_PASSWORD=$(cat "$pwfile")
export BULWARK_PG_PASSWORD

if [ "${1:-}" = down ]; then
  docker-compose down --remove-orphans
  exit 0
fi
[ -d "$BULWARK_ADVISORIES" ] || {
  echo "compose-up: no advisory feeds at $BULWARK_ADVISORIES (set BULWARK_ADVISORIES or BULWARK_SHARED)" >&2
  exit 2
}

# Bulwark's image first (it imports the Debian minbase as bulwark-base:bookworm-minbase),
# unless it already holds this binary (build-image.sh labels the image with its SHA-256).
bin="${BULWARK_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --locked -p bulwark >&2
  bin="${CARGO_TARGET_DIR:-target}/release/bulwark"
fi
[ -x "$bin" ] || { echo "compose-up: $bin is not an executable" >&2; exit 2; }
if [ "$(docker image inspect -f '{{index .Config.Labels "dev.bulwark.binary-sha256"}}' "$BULWARK_IMAGE" 2>/dev/null)" != "$(sha256sum "$bin" | cut -d' ' -f1)" ] ||
  ! docker image inspect bulwark-base:bookworm-minbase >/dev/null 2>&1; then
  BULWARK_BIN="$bin" scripts/build-image.sh "$BULWARK_IMAGE" >/dev/null
fi
base=bulwark-base:bookworm-minbase
version=$(sed -n 's/^version = "\(.*\)"/\1/p' crates/bulwark/Cargo.toml | head -1)

build_on_base() { # TAG CONTEXT-DIR (Dockerfile on stdin)
  DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "$1" -f - "$2" >/dev/null
}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp deploy/compose/postgres-entrypoint.sh deploy/compose/registry.yml "$ctx/"
chmod 0755 "$ctx/postgres-entrypoint.sh" # readable in the image whatever the umask
chmod 0644 "$ctx/registry.yml"
build_on_base bulwark-postgres:dev "$ctx" <<EOF
FROM $base
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 /etc/postgresql/15/main
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title=bulwark-postgres org.opencontainers.image.version="$version"
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
EOF
if [[ ",${COMPOSE_PROFILES:-}," == *,check,* ]]; then
  build_on_base bulwark-registry:dev "$ctx" <<EOF
FROM $base
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY registry.yml /etc/bulwark-check-registry.yml
USER docker-registry
EXPOSE 5000
ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/bulwark-check-registry.yml"]
EOF
fi

echo "compose-up: images ready after $SECONDS s; starting the stack" >&2
docker-compose up -d --remove-orphans >&2

# Wait for both API servers to answer /readyz (their health checks).
wait_healthy() {
  local id status
  id=$(docker-compose ps -q "$1")
  for _ in $(seq 1 120); do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
    [ "$status" = healthy ] && return 0
    [ "$(docker inspect -f '{{.State.Status}}' "$id")" = exited ] && break
    sleep 1
  done
  echo "compose-up: $1 is not healthy ($status); its log:" >&2
  docker-compose logs --no-color --tail 30 "$1" >&2
  exit 1
}
wait_healthy api1
wait_healthy api2

# The first server to find the store empty wrote the admin token to the shared volume.
token="$BULWARK_COMPOSE_STATE/admin-token"
if docker-compose exec -T api1 cat /run/bulwark-admin/admin-token >"$token.new" 2>/dev/null && [ -s "$token.new" ]; then
  mv "$token.new" "$token"
else
  rm -f "$token.new"
fi
[ -s "$token" ] || echo "compose-up: no admin token in the admin volume or in $token (the store already had users)" >&2
cat >&2 <<EOF
compose-up: Bulwark is up after $SECONDS s (project $COMPOSE_PROJECT_NAME):
  API: http://127.0.0.1:${BULWARK_API1_PORT:-8081}/api/v1 and http://127.0.0.1:${BULWARK_API2_PORT:-8082}/api/v1
  admin token: $token
  logs: COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME docker-compose -f $COMPOSE_FILE logs -f
  stop: scripts/compose-up.sh down
EOF
