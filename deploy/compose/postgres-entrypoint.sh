#!/bin/bash
# Entrypoint of bulwark-postgres (scripts/compose-up.sh builds it from Debian's postgresql
# package): creates the cluster on first start, with the role and database named by
# POSTGRES_USER / POSTGRES_DB and the password in the file POSTGRES_PASSWORD_FILE, then runs
# the server in the foreground as the postgres user. Clients authenticate with SCRAM-SHA-256.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
user="${POSTGRES_USER:-bulwark}"
db="${POSTGRES_DB:-bulwark}"
case "$user$db" in *[!a-z0-9_]*) echo "postgres: POSTGRES_USER and POSTGRES_DB: lower-case letters, digits and _ only" >&2; exit 2 ;; esac
[ -s "${POSTGRES_PASSWORD_FILE:-}" ] || { echo "postgres: POSTGRES_PASSWORD_FILE must name a non-empty file" >&2; exit 2; }
# setpriv execs in place: the server is PID 1 and gets `docker stop`'s SIGTERM itself.
as_pg="setpriv --reuid=postgres --regid=postgres --init-groups"
mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  pwfile=$(mktemp)
  tr -d '\n' <"$POSTGRES_PASSWORD_FILE" >"$pwfile"
  chown postgres "$pwfile"
  # The superuser is the application's role: this cluster serves Bulwark only.
  $as_pg "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  cat >>"$data/pg_hba.conf" <<HBA
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0 scram-sha-256
HBA
  $as_pg "$bin/postgres" --single -D "$data" -c listen_addresses='' postgres \
    <<<"CREATE DATABASE $db OWNER $user;" >/dev/null
  echo "postgres: created the cluster, role $user and database $db" >&2
fi
exec $as_pg "$bin/postgres" -D "$data" -c listen_addresses='*' \
  -c password_encryption=scram-sha-256 -c max_connections=200
