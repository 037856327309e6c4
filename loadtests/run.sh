#!/usr/bin/env bash
# Load tests: loadtests/run.sh <burst|sustained|soak|baseline|smoke|live> [options]
#
# Self-contained: publishes the server in Release (into loadtests/results/server, with its own
# obj/ so it does not collide with other builds), builds the generator (loadtests/Quiz.LoadTests),
# starts the server on a free loopback port with a fresh data folder (and its own redis-server
# with --redis, its own PostgreSQL 15 with --store postgres), runs the scenario, stops everything it started, and ends with one line:
#   errors=<n> answers/s=<x> p99_ms=<y> echo_ratio=<r> connections=<c> [start_s=<s>, the burst only]
# or, for `live` (10,000 phones in one live session, 10 questions, after a warm-up session of 1,000
# phones that is not measured, --live-warmup; docs/live.md):
#   errors=<n> fanout_p99_ms=<x> answer_p99_ms=<y> board_ms=<z> audience=<n>
# The exit code is non-zero when any request failed: `loadtests/run.sh smoke` is the CI check
# (200 participants, full rounds, ~15 s).
#
# Options of this script (the others go to the generator: `--help` lists them):
#   --redis        rank on Redis (--Ranking:Engine=Redis) instead of in-process
#   --store S      sqlite (default) or postgres: a fresh PostgreSQL 15 cluster of its own (initdb in a
#                  temporary folder, run as the postgres user when root; --Storage:Provider=Postgres)
#   --cluster N    N nodes behind nginx instead of one server: deploy/cluster.sh up --nodes N in a
#                  temporary folder (PostgreSQL, Redis, RabbitMQ, the compose file's settings), the
#                  load through nginx from 64 loopback addresses (nginx is sticky by address)
#   --no-build     use the server and generator built by an earlier run
#   --counters     record dotnet-counters (System.Runtime, Kestrel, SignalR, the memory pool) of the server to a CSV
#   --trace S      record a dotnet-trace of the server for S seconds, --trace-after D seconds
#                  (default 20) after the server is up; --trace-profile P picks the profile
#                  (default dotnet-sampled-thread-time: where threads wait; gc-verbose: collections and
#                  allocation ticks; gc-collect: collections alone; CPU by function is perf's, as in BENCHMARKS.md)
# Both tools are the repository's own (dotnet-tools.json), restored on first use.
# The phones read their sockets on one epoll thread a core (QUIZ_PHONES_EPOLL_THREADS=N to choose).
# The report (Markdown and JSON), the server log and any counters or trace go to loadtests/results/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
results="$root/loadtests/results"
scenario="${1:-}"
if [ -z "$scenario" ] || [[ "$scenario" == -* ]]; then
  sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
shift

store=sqlite; redis=false; build=true; counters=false; trace=0; trace_after=20; trace_profile=dotnet-sampled-thread-time; cluster=0; pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --redis) redis=true ;;
    --store) store="$2"; shift ;;
    --cluster) cluster="$2"; shift ;;
    --no-build) build=false ;;
    --counters) counters=true ;;
    --trace) trace="$2"; shift ;;
    --trace-after) trace_after="$2"; shift ;;
    --trace-profile) trace_profile="$2"; shift ;;
    *) pass+=("$1") ;;
  esac
  shift
done

# 10,000 connections need 10,000 descriptors on each side; the hard limit here is 20,000.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 20000 ] || ulimit -n 20000 2>/dev/null || true

mkdir -p "$results"
log() { echo "[run.sh] $*" >&2; }

# Builds retry: other builds in the same checkout may hold a file for a moment.
retry() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    log "attempt $attempt of: $* failed; retrying in 5 s"
    sleep 5
  done
  return 1
}

[[ "$cluster" =~ ^[0-9]+$ ]] || { log "--cluster: a number of nodes"; exit 2; }
if [ "$cluster" -gt 0 ] && { $redis || [ "$store" != sqlite ] || $counters || [ "$trace" != 0 ]; }; then
  log "--cluster runs the compose settings (PostgreSQL, Redis, RabbitMQ): --redis, --store, --counters and --trace are for one server"
  exit 2
fi

if [ "$cluster" -gt 0 ]; then
  $build && { log "building the generator (deploy/cluster.sh builds the server)"; retry dotnet build "$root/loadtests/Quiz.LoadTests" -c Release -nologo -v q >&2; }
elif $build; then
  log "publishing the server (Release, ReadyToRun) and building the generator"
  # ReadyToRun: the code is compiled ahead of time, so the opening burst does not run on the
  # first, unoptimised JIT tier while the JIT competes for the same two cores (issue 12).
  rid="$(dotnet --info | awk '/ RID:/{print $2; exit}')"
  retry dotnet publish "$root/src/Quiz.Server" -c Release -p:SkipQuizWeb=true -nologo -v q \
    -r "$rid" --self-contained false -p:PublishReadyToRun=true \
    --artifacts-path "$results/artifacts" -o "$results/server" >&2
  retry dotnet build "$root/loadtests/Quiz.LoadTests" -c Release -nologo -v q >&2
fi
server_dll="$results/server/Quiz.Server.dll"
generator_dll="$root/loadtests/Quiz.LoadTests/bin/Release/net10.0/Quiz.LoadTests.dll"
[ "$cluster" -gt 0 ] || [ -f "$server_dll" ] || { log "not built: run without --no-build"; exit 1; }
[ -f "$generator_dll" ] || { log "not built: run without --no-build"; exit 1; }

free_port() { python3 "$root/deploy/free-ports.py"; } # outside the ephemeral range: see that script
work="$(mktemp -d)"
stamp="$(date +%Y%m%d-%H%M%S)"
server_pid=""; redis_pid=""; counters_pid=""; trace_pid=""; pg_pid=""; pg_dir=""; cluster_dir=""

# local_tool NAME: the path of a repository-local tool's assembly (dotnet-tools.json), restored
# when it is not there yet. Run as `dotnet <path>` rather than `dotnet tool run`, which starts the
# tool as a child process: the pid this script stops must be the tool's own.
local_tool() {
  local name="$1" version dll
  version="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tools"][sys.argv[2]]["version"])' \
    "$root/dotnet-tools.json" "$name" 2>/dev/null)" || return 1
  # NUGET_PACKAGES, when set, is not always where `dotnet tool restore` leaves a tool: look in both.
  find_dll() { ls {"${NUGET_PACKAGES:-$HOME/.nuget/packages}","$HOME/.nuget/packages"}/"$name/$version"/tools/*/any/"$name.dll" 2>/dev/null | head -n 1; }
  dll="$(find_dll)"
  [ -n "$dll" ] || { (cd "$root" && dotnet tool restore >/dev/null 2>&1) && dll="$(find_dll)"; }
  [ -n "$dll" ] && echo "$dll"
}

stop_pid() { # stop_pid PID: TERM, then KILL after 20 s; only processes this script started
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$trace_pid"; stop_pid "$counters_pid"; stop_pid "$server_pid"; stop_pid "$redis_pid"
  if [ -n "$cluster_dir" ]; then
    QUIZ_CLUSTER_DIR="$cluster_dir" "$root/deploy/cluster.sh" down >&2 || true
    for f in "$cluster_dir"/logs/quiz*.log; do [ -f "$f" ] && cp "$f" "$results/$scenario-$stamp.$(basename "$f" .log).server.log"; done
    rm -rf "$cluster_dir"; cluster_dir=""
  fi
  if [ -n "$pg_pid" ]; then # a fast shutdown to the postmaster itself (runuser stands between)
    [ -f "$pg_dir/postmaster.pid" ] && kill -INT "$(head -n 1 "$pg_dir/postmaster.pid")" 2>/dev/null || true
    stop_pid "$pg_pid"
  fi
  [ -n "$pg_dir" ] && rm -rf "$pg_dir"
  [ -f "$work/server.log" ] && cp "$work/server.log" "$results/$scenario-$stamp.server.log"
  rm -rf "$work"
  trace_pid=""; counters_pid=""; server_pid=""; redis_pid=""; pg_pid=""; pg_dir=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine=()
if $redis; then
  command -v redis-server >/dev/null || "$root/deploy/install-packages.sh" redis-server || exit 1
  redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --logfile "$work/redis.log" --daemonize no &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$redis_port" ping >/dev/null
  engine=(--Ranking:Engine=Redis "--Ranking:Redis=127.0.0.1:$redis_port")
fi

storage=()
case "$store" in
  sqlite) ;;
  postgres)
    pg_bin=/usr/lib/postgresql/15/bin
    [ -x "$pg_bin/initdb" ] || "$root/deploy/install-packages.sh" postgresql || exit 1
    pg_dir="$(mktemp -d /tmp/quiz-load-pg.XXXXXX)"
    as_pg=(); [ "$(id -u)" -eq 0 ] && { chown postgres: "$pg_dir"; as_pg=(runuser -u postgres --); }
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
      || { log "initdb failed:"; tail -n 20 "$work/initdb.log" >&2; exit 1; }
    pg_port="$(free_port)"
    # Defaults otherwise (fsync on, synchronous_commit on): a finish is on disk before its reply, as on SQLite.
    "${as_pg[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -p "$pg_port" -k "$pg_dir" -c listen_addresses=127.0.0.1 \
      -c max_connections=200 >"$work/postgres.log" 2>&1 &
    pg_pid=$!
    for _ in $(seq 300); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { log "PostgreSQL did not start:"; tail -n 20 "$work/postgres.log" >&2; exit 1; }
    # A store shared by nodes needs the participant secret set (one node here, the same rule).
    storage=(--Storage:Provider=Postgres "--Storage:ConnectionString=Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
      "--Participants:Secret=load-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')")
    ;;
  *) log "--store: sqlite or postgres"; exit 2 ;;
esac

if [ "$cluster" -gt 0 ]; then
  # The cluster's nodes run the compose settings; only the per-address limits are raised, as below
  # for one server (64 addresses carry every phone). Its own folder, brought down by cleanup.
  cluster_dir="$work/cluster"
  mkdir -p "$cluster_dir"; chmod 755 "$work"
  up_build=(--no-build); $build && up_build=()
  up="$(QUIZ_CLUSTER_DIR="$cluster_dir" QUIZ_CLUSTER_NODE_ARGS="--RateLimits:RegistrationsPerMinutePerAddress=1000000 --RateLimits:RoundStartsPerMinutePerAddress=1000000 --RateLimits:RoundStartsPerMinutePerParticipant=1000 --Logging:LogLevel:Default=Warning" \
    "$root/deploy/cluster.sh" up --nodes "$cluster" --skip-web "${up_build[@]}" | tail -n 1)" || { log "deploy/cluster.sh up failed"; exit 1; }
  url="$(sed -n 's|^cluster up: \(http://[^ ]*\) nodes=.*|\1|p' <<<"$up")"
  [ -n "$url" ] || { log "deploy/cluster.sh up said: $up"; exit 1; }
  admin_key="$(sed -n 's/^QUIZ_ADMIN_KEY=//p' "$cluster_dir/secrets.env")"
  logs="$(ls "$cluster_dir"/logs/quiz*.log | paste -sd, -)"
  log "cluster of $cluster nodes behind $url"
  summary_status=0
  set +e
  summary="$(timeout --kill-after=15 6h dotnet "$generator_dll" "$scenario" --url "$url" --server-log "$logs" --admin-key "$admin_key" \
    --source-addresses 64 --out "$results" --command "loadtests/run.sh $scenario --cluster $cluster ${pass[*]:-}" "${pass[@]}")"
  summary_status=$?
  set -e
  cleanup
  [ $summary_status -eq 0 ] || log "the generator exited with $summary_status"
  echo "${summary##*$'\n'}"
  exit $summary_status
fi

port="$(free_port)"
admin_key="load-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
url="http://127.0.0.1:$port"
# All load comes from 127.0.0.1: the per-address limits are raised; per participant, the
# load campaign allows 100 rounds a day and this allows as many starts a minute.
# Run from the published folder (its content root holds its wwwroot); the bank comes from the checkout.
(cd "$results/server" && exec dotnet "$server_dll" --urls "$url" "--Storage:DataDir=$work/data" "--Admin:ApiKey=$admin_key" \
  "--Seed:Path=$root/question-bank" \
  --RateLimits:RegistrationsPerMinutePerAddress=1000000 --RateLimits:RoundStartsPerMinutePerAddress=1000000 \
  --RateLimits:RoundStartsPerMinutePerParticipant=1000 --Live:JoinsPerSecondPerAddress=1000000 --Logging:LogLevel:Default=Warning --Logging:LogLevel:Quiz.Server.Live=Information "${engine[@]}" "${storage[@]}" \
  >"$work/server.log" 2>&1) &
server_pid=$!
up=false
for _ in $(seq 600); do
  curl -fs "$url/healthz" >/dev/null 2>&1 && { up=true; break; }
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
$up || { log "the server did not come up within 60 s:"; tail -n 30 "$work/server.log" >&2; exit 1; }
log "server $server_pid on $url$($redis && echo ", ranking on redis-server $redis_pid :$redis_port")$([ -n "$pg_pid" ] && echo ", store on PostgreSQL :$pg_port")"

if $counters; then
  if counters_dll="$(local_tool dotnet-counters)"; then
    dotnet "$counters_dll" collect -p "$server_pid" --format csv \
      -o "$results/$scenario-$stamp.counters.csv" --refresh-interval 1 \
      --counters System.Runtime,Microsoft.AspNetCore.Server.Kestrel,Microsoft.AspNetCore.Http.Connections,Microsoft.AspNetCore.MemoryPool >/dev/null 2>&1 &
    counters_pid=$!
  else
    log "--counters: dotnet-counters could not be restored (dotnet tool restore, dotnet-tools.json)"
  fi
fi
if [ "$trace" != 0 ]; then
  if tracer="$(local_tool dotnet-trace)"; then
    (sleep "$trace_after"; exec dotnet "$tracer" collect -p "$server_pid" --profile "$trace_profile" --duration "00:00:$(printf %02d "$trace")" \
      -o "$results/$scenario-$stamp.nettrace" >"$results/$scenario-$stamp.trace.log" 2>&1) &
    trace_pid=$!
  else
    log "--trace: dotnet-trace could not be restored (dotnet tool restore, dotnet-tools.json)"
  fi
fi

# Registration proves each number with a code the server writes to its log (Verification:Provider=Log):
# the generator reads the codes from the server's console output.
# The live scenario's 10,000 phones read their frames on the socket engine's threads instead of a
# thread-pool hop a frame (they only parse and record what arrives): the stand-in for the phones
# takes less of the two cores it shares with the server.
generator_env=()
[ "$scenario" = live ] && generator_env=(env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)
generator=("${generator_env[@]}" dotnet "$generator_dll" "$scenario" --url "$url" --server-pid "$server_pid" --server-log "$work/server.log" --admin-key "$admin_key"
  --out "$results" --command "loadtests/run.sh $scenario ${pass[*]:-}")
[ -n "$redis_pid" ] && generator+=(--redis-pid "$redis_pid")
set +e
# The generator stops itself (--max-seconds); timeout is the backstop.
summary="$(timeout --kill-after=15 6h "${generator[@]}" "${pass[@]}")"
status=$?
set -e
cleanup
[ $status -eq 0 ] || log "the generator exited with $status"
echo "${summary##*$'\n'}"
exit $status
