#!/usr/bin/env bash
# Checks that the docker-compose install works, end to end, on a stack of its own (project
# bulwark-check, its own loopback ports and volumes, removed at the end):
#
#   1. scripts/compose-up.sh builds the images and starts PostgreSQL, two API servers, three
#      workers, and (profile `check`) Debian's docker-registry;
#   2. six real images (the Debian minbase plus one file each) are pushed to that registry
#      with skopeo and submitted as scans, alternately to each API server's port;
#   3. as soon as a worker is scanning one of them, its container is SIGKILLed;
#   4. every scan must succeed, with its report (matched against the advisory database the
#      stack built) readable through both servers; in PostgreSQL every job has exactly one
#      result, and the killed worker's attempt is recorded as `lease-expired` before another
#      claim finished the job.
#
#   scripts/compose-check.sh      # BULWARK_BIN=path: the binary for the image (else a release build)
#
# Exit 0 when all of that holds; otherwise 1 with the reason and the stack's logs.
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME="${BULWARK_CHECK_PROJECT:-bulwark-check}"
export COMPOSE_FILE="$PWD/deploy/compose/docker-compose.yml"
export COMPOSE_PROFILES=check
export BULWARK_IMAGE="${BULWARK_IMAGE:-bulwark:dev}"
export BULWARK_API1_PORT="${BULWARK_CHECK_API1_PORT:-18181}"
export BULWARK_API2_PORT="${BULWARK_CHECK_API2_PORT:-18182}"
export BULWARK_REGISTRY_PORT="${BULWARK_CHECK_REGISTRY_PORT:-18105}"
# The check's registry serves plain HTTP inside the compose network.
export BULWARK_INSECURE_REGISTRY=true
state=$(mktemp -d)
export BULWARK_COMPOSE_STATE="$state"
shared="${BULWARK_SHARED:-$(cd .. && pwd)/shared}"
export BULWARK_ADVISORIES="${BULWARK_ADVISORIES:-$shared/advisories}"
export BULWARK_PG_PASSWORD=unused-until-compose-up # compose-up.sh makes the real one
images=6

fail() {
  echo "compose-check: FAILED: $*" >&2
  docker-compose logs --no-color --tail 40 >&2 || true
  exit 1
}
cleanup() {
  docker-compose down -v --remove-orphans >/dev/null 2>&1 || true
  for i in $(seq 1 "$images"); do docker rmi -f "bulwark-check/app:$i" >/dev/null 2>&1 || true; done
  rm -rf "$state"
}
trap cleanup EXIT
# A stack left by an interrupted run would keep its volumes (and its admin user).
cleanup
mkdir -p "$state"
start=$(date +%s)

scripts/compose-up.sh
BULWARK_PG_PASSWORD=$(cat "$state/postgres-password")
token=$(cat "$state/admin-token")
api=("http://127.0.0.1:$BULWARK_API1_PORT/api/v1" "http://127.0.0.1:$BULWARK_API2_PORT/api/v1")
call() { # METHOD URL [BODY]
  curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$2"
}
sql() {
  docker-compose exec -T -e PGPASSWORD="$BULWARK_PG_PASSWORD" postgres \
    psql -h 127.0.0.1 -U bulwark -d bulwark -v ON_ERROR_STOP=1 -Atc "$1"
}

# The images: the Debian minbase (imported by compose-up.sh), a layer of Python packages at
# versions with published advisories (as `pip install` makes it; downloaded from PyPI once and
# cached), and one file of their own, so each has its own digest and top layer. Pushed
# through the registry's loopback port.
ctx=$(mktemp -d "$state/img.XXXXXX")
pycache="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/compose-check/site-packages"
if [ ! -d "$pycache" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$pycache.tmp" \
    requests==2.19.1 urllib3==1.24.1 pyyaml==5.3 >&2
  mv "$pycache.tmp" "$pycache"
fi
cp -a "$pycache" "$ctx/site-packages"
for i in $(seq 1 "$images"); do
  echo "compose-check image $i" >"$ctx/check.txt"
  # 48 MiB of random bytes of its own in each image: every scanner reads them, and no layer
  # cache has them yet, so each scan lasts long enough for the kill below to land while a
  # worker holds the job.
  head -c $((48 << 20)) /dev/urandom >"$ctx/noise.bin"
  printf '%s\n' 'FROM bulwark-base:bookworm-minbase' \
    'COPY site-packages /usr/local/lib/python3.11/dist-packages/' 'COPY noise.bin /opt/noise.bin' \
    'COPY check.txt /etc/bulwark-check.txt' |
    DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "bulwark-check/app:$i" -f - "$ctx" >/dev/null
  for _ in $(seq 1 20); do
    skopeo copy --quiet --insecure-policy --dest-tls-verify=false \
      "docker-daemon:bulwark-check/app:$i" "docker://127.0.0.1:$BULWARK_REGISTRY_PORT/check/app:$i" 2>"$state/skopeo.err" && break
    sleep 0.5 # the registry may still be starting
  done || true
  [ ! -s "$state/skopeo.err" ] || fail "skopeo could not push image $i: $(cat "$state/skopeo.err")"
done

# The workers get a fifth of a CPU each until one has been killed: a scan of these images
# then lasts seconds, not the fraction of a second it takes on a free core, so the kill below
# lands while a worker holds a job instead of racing it.
worker_containers=$(docker-compose ps -q worker1 worker2 worker3)
# shellcheck disable=SC2086
docker update --cpus 0.2 $worker_containers >/dev/null

# Submit: alternately to each server, through its published port.
ids=()
jobs=()
for i in $(seq 1 "$images"); do
  server=${api[$(((i - 1) % 2))]}
  res=$(call POST "$server/scans" "{\"reference\":\"registry:registry:5000/check/app:$i\"}") ||
    fail "POST $server/scans: $res"
  ids+=("$(jq -r .id <<<"$res")")
  jobs+=("$(jq -r .job <<<"$res")")
done
echo "compose-check: submitted ${#ids[@]} scans (jobs ${jobs[*]})" >&2

# Kill a worker while it holds a job. The store says who holds what: an attempt with no
# outcome yet (the workers' logs lag too far behind on a busy machine to race them). A
# worker can finish between the query and the kill; then its attempt has an outcome, the
# worker is started again and the next held job is tried.
victim=""
victim_job=""
for _ in $(seq 1 10); do
  held=""
  for _ in $(seq 1 600); do
    held=$(sql "SELECT worker || ' ' || job_id FROM job_attempts WHERE outcome IS NULL ORDER BY started_at DESC LIMIT 1")
    [ -n "$held" ] && break
    # Nothing held and nothing left to claim: every job is done, no worker to kill over one.
    [ "$(sql "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" != 0 ] || break
    sleep 0.1
  done
  [ -n "$held" ] || break
  attempt_worker=${held% *}
  job=${held#* }
  w=$(sed -E 's/^worker-([^-]+)-[0-9]+$/\1/' <<<"$attempt_worker")
  case $w in worker1 | worker2 | worker3) ;; *) fail "an attempt by an unknown worker: $attempt_worker" ;; esac
  docker kill "$(docker-compose ps -q "$w")" >/dev/null
  still=$(sql "SELECT count(*) FROM job_attempts WHERE job_id = $job AND worker = '$attempt_worker' AND outcome IS NULL")
  if [ "$still" = 1 ]; then
    victim=$w
    victim_job=$job
    break
  fi
  echo "compose-check: $w finished job $job before the kill; starting it again" >&2
  docker-compose start "$w" >/dev/null
done
[ -n "$victim" ] || fail "no worker was killed while it held a job (10 tries)"
echo "compose-check: killed $victim (SIGKILL) while it scanned job $victim_job" >&2
# The others get their CPUs back (0 is no limit) and finish the run.
for w in worker1 worker2 worker3; do
  [ "$w" = "$victim" ] || docker update --cpus 0 "$(docker-compose ps -q "$w")" >/dev/null
done

# Every scan must succeed; the long poll returns as soon as one is final.
for idx in "${!ids[@]}"; do
  id=${ids[$idx]}
  state_now=""
  for _ in $(seq 1 6); do
    res=$(call GET "${api[$((idx % 2))]}/scans/$id?wait=30") || fail "GET /scans/$id: $res"
    state_now=$(jq -r .state <<<"$res")
    case $state_now in queued | running) ;; *) break ;; esac
  done
  [ "$state_now" = succeeded ] || fail "scan $id ended $state_now: $res"
  # The report, through the other server: a real scan of the image, matched against the
  # advisory database the stack built.
  report=$(call GET "${api[$(((idx + 1) % 2))]}/scans/$id/report?format=json") || fail "GET /scans/$id/report: $report"
  [ "$(jq -r '.os.id' <<<"$report")" = debian ] || fail "scan $id: the report has no Debian OS: $(head -c 300 <<<"$report")"
  [ "$(jq '[.packages[]?] | length' <<<"$report")" -gt 50 ] || fail "scan $id: too few packages in the report"
  jq -e '.database != null and ([.not_checked[]? | select(.reason == "no-database" or .reason == "lookup-failed")] | length == 0)' \
    <<<"$report" >/dev/null || fail "scan $id: vulnerabilities were not checked: $(jq -c .not_checked <<<"$report")"
  jq -e '[.vulnerabilities[]? | select(.package.name == "urllib3")] | length > 0' \
    <<<"$report" >/dev/null || fail "scan $id: no advisory matched urllib3 1.24.1"
done

# The store: exactly one result per job, each matched against the database, and the killed
# worker's attempt expired before another claim finished the job.
[ "$(sql "SELECT count(*) FROM jobs WHERE state <> 'succeeded'")" = 0 ] || fail "unfinished jobs: $(sql 'SELECT id, state, error FROM jobs')"
[ "$(sql "SELECT count(*) FROM jobs")" = "$images" ] || fail "expected $images jobs: $(sql 'SELECT id, reference FROM jobs')"
[ "$(sql "SELECT count(*) FROM scans WHERE origin = 'worker' AND db_digest IS NOT NULL")" = "$images" ] ||
  fail "expected $images results with a database: $(sql 'SELECT job_id, db_digest FROM scans')"
[ "$(sql "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM scans s WHERE s.job_id = j.id) <> 1")" = 0 ] ||
  fail "a job without exactly one result"
attempts=$(sql "SELECT string_agg(worker || ':' || coalesce(outcome, 'none'), ' ' ORDER BY attempt) FROM job_attempts WHERE job_id = $victim_job")
case "$attempts" in
  worker-"$victim"-*:lease-expired*:succeeded) ;;
  *) fail "job $victim_job: attempts $attempts (expected $victim's to expire, then another to succeed)" ;;
esac
echo "compose-check: ok: $images scans through 2 servers, $victim killed mid-scan (job $victim_job: $attempts), $(($(date +%s) - start)) s" >&2
