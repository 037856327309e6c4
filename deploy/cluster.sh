#!/usr/bin/env bash
# The scale-out topology of docker-compose.yml as local processes, without containers:
#   deploy/cluster.sh up [--nodes N] [--no-build] [--skip-web]
#   deploy/cluster.sh kill-node I     SIGKILL node I (1-based), as a power cut would
#   deploy/cluster.sh start-node I    start node I again on its port and data folder
#   deploy/cluster.sh status          every process, its pid and port, and whether it answers
#   deploy/cluster.sh down            stop every process `up` started (data stays in the folder)
#
# `up` starts PostgreSQL 15, Redis, RabbitMQ (Debian's packages, installed with apt-get when
# missing), N Quiz nodes (default 3, published in Release) and nginx in front, each on a free
# loopback port, all under one folder: $QUIZ_CLUSTER_DIR, default deploy/.cluster. No system
# service is used or touched. Its last line is
#   cluster up: http://127.0.0.1:<port> nodes=<N>
# The nodes get the settings of deploy/topology.env (QUIZ_NODE_SETTINGS), with the values the
# compose file gives them but this machine's loopback hosts and ports; nginx runs deploy/nginx.conf
# with only its addresses and file paths rewritten (the same balancing, WebSocket upgrade and
# passive health checks). Each node has its own Server:NodeId (quiz1, quiz2, ...) and data folder.
#
# The shared secrets (deploy/topology.env SHARED_SECRETS) are kept in <folder>/secrets.env (0600)
# with the data: the first `up` of a folder takes them from the environment when set, else makes
# new ones.
# QUIZ_CLUSTER_NODE_ARGS: more settings for every node, as `--Section:Key=value` words (the load
# tests raise the per-address rate limits with it, since all their phones share a few addresses).
# QUIZ_CLUSTER_BUILD_DIR: where the Release build goes (default deploy/.cluster-build, shared by
# every cluster folder, so a second `up` builds incrementally).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Many phones mean many sockets on nginx and the nodes: the open-file limit up to its hard limit
# (containers get a high one; a login shell's soft limit may be 1024).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck source=topology.env
source "$root/deploy/topology.env"
dir="${QUIZ_CLUSTER_DIR:-$root/deploy/.cluster}"
build_dir="${QUIZ_CLUSTER_BUILD_DIR:-$root/deploy/.cluster-build}"
state="$dir/cluster.env"
pg_bin=/usr/lib/postgresql/15/bin
rabbitmq_server=/usr/lib/rabbitmq/bin/rabbitmq-server

log() { echo "[cluster.sh] $*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# ------------------------------------------------------------------------------------ processes

# A pid file holds the pid and the start time of the process we started: a process is ours only
# while both match, so a recycled pid is never signalled.
start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# Alive, and not a zombie: the processes `up` leaves behind are reparented to PID 1, which may
# never reap them (it does not in some containers), and kill -0 succeeds on a zombie.
alive() { local s; s="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"; [ -n "$s" ] && [ "$s" != Z ]; }

pid_of() { # pid_of NAME → prints the pid when it is alive and ours
  local file="$dir/pids/$1.pid" pid started
  [ -f "$file" ] || return 1
  read -r pid started <"$file" || true
  [ -n "$pid" ] && [ -n "$started" ] && alive "$pid" || return 1
  [ "$(start_time "$pid")" = "$started" ] || return 1
  echo "$pid"
}

wait_gone() { # wait_gone PID SECONDS
  local i
  for i in $(seq $(($2 * 10))); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

stop_named() { # stop_named NAME SIGNAL SECONDS: the signal, then SIGKILL when it outlives the wait
  local pid
  pid="$(pid_of "$1")" || { rm -f "$dir/pids/$1.pid"; return 0; }
  kill -"$2" "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$3"; then
    log "$1 ($pid) did not stop within $3 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || true
  fi
  # What it started in its session (spawn made it the leader of its own process group) goes too:
  # an Erlang VM's helpers, a server's children.
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$dir/pids/$1.pid"
}

# Starts a command in a session of its own, detached from this script's terminal and pipes (so a
# caller reading our output is not held open by it), its output appended to a log file.
spawn() { # spawn NAME LOGFILE COMMAND...
  local name="$1" logfile="$2"; shift 2
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid $(start_time "$pid")" >"$dir/pids/$name.pid"
}

wait_until() { # wait_until SECONDS NAME COMMAND...: polls COMMAND every 0.2 s while NAME lives
  local seconds="$1" name="$2" i; shift 2
  for i in $(seq $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    pid_of "$name" >/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# -------------------------------------------------------------------------------- the engines

install_missing() {
  local packages=()
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  [ -x "$rabbitmq_server" ] || packages+=(rabbitmq-server)
  [ -x "$pg_bin/initdb" ] || packages+=(postgresql)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  command -v curl >/dev/null 2>&1 || packages+=(curl)
  # Only the programs are used: this script starts instances of its own, not Debian's services.
  # The installer does nothing when none is missing, and says what it could not install.
  "$root/deploy/install-packages.sh" "${packages[@]}" || exit 1
}

# PostgreSQL refuses to run as root: as root it runs as the postgres user, like the tests' fixture.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local data="$dir/postgres/data"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$dir/postgres"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir/postgres"
      runuser -u postgres -- test -w "$dir/postgres" || die "the postgres user cannot write $dir/postgres (a folder above it is closed to others): set QUIZ_CLUSTER_DIR elsewhere"
    fi
    # Local (socket) connections trusted, for this script's set-up; TCP ones, the nodes', need the password.
    as_postgres "$pg_bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$dir/logs/initdb.log" 2>&1 || { tail -n 20 "$dir/logs/initdb.log" >&2; die "initdb failed"; }
  fi
  # The image's defaults otherwise (fsync on): a finish is on disk before its reply. Connections:
  # every node's full pool (Npgsql's default Maximum Pool Size, 100) and a margin. At 200 for three
  # nodes, a burst of 240 round starts met "sorry, too many clients already" and the nodes answered
  # store-unavailable (the image's default, 100, is lower still).
  local run=(); [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  spawn postgres "$dir/logs/postgres.log" ${run[@]+"${run[@]}"} "$pg_bin/postgres" -D "$data" -p "$POSTGRES_LOCAL_PORT" -k "$dir/postgres" \
    -c listen_addresses=127.0.0.1 -c max_connections=$((NODES * 100 + 20))
  wait_until 60 postgres "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_LOCAL_PORT" \
    || { tail -n 20 "$dir/logs/postgres.log" >&2; die "PostgreSQL did not start"; }
  # The compose file's POSTGRES_USER and POSTGRES_DB, with its password; created once.
  local psql=("$pg_bin/psql" -h "$dir/postgres" -p "$POSTGRES_LOCAL_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'quiz'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE quiz LOGIN PASSWORD '$POSTGRES_PASSWORD'" >/dev/null
    "${psql[@]}" -c "CREATE DATABASE quiz OWNER quiz" >/dev/null
  fi
}

start_redis() {
  mkdir -p "$dir/redis"
  # As the compose file: a snapshot now and then only shortens a restart (rankings are rebuilt from the store).
  spawn redis "$dir/logs/redis.log" redis-server --port "$REDIS_LOCAL_PORT" --bind 127.0.0.1 --dir "$dir/redis" \
    --save 60 1000 --appendonly no --daemonize no
  wait_until 30 redis redis-cli -p "$REDIS_LOCAL_PORT" ping || { tail -n 20 "$dir/logs/redis.log" >&2; die "Redis did not start"; }
}

amqp_ready() { # the broker answers the AMQP 0-9-1 header with a method frame (Connection.Start)
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"AMQP\x00\x00\x09\x01")
sys.exit(0 if s.recv(1) == b"\x01" else 1)
EOF
}

rabbitmq_env() { # the broker's node name, files, Erlang cookie and epmd, all in the cluster folder
  local r="$dir/rabbitmq"
  rabbitmq_env=(env HOME="$r" ERL_EPMD_PORT="$EPMD_LOCAL_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_NODENAME="$RABBITMQ_NODENAME" RABBITMQ_NODE_PORT="$RABBITMQ_LOCAL_PORT" RABBITMQ_DIST_PORT="$RABBITMQ_DIST_LOCAL_PORT" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE="$r/mnesia" RABBITMQ_LOG_BASE="$r/log" \
    RABBITMQ_CONFIG_FILE="$r/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$r/enabled_plugins" RABBITMQ_CONF_ENV_FILE="$r/rabbitmq-env.conf" \
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}")
}

start_rabbitmq() {
  local r="$dir/rabbitmq"
  mkdir -p "$r"
  # The compose file's RABBITMQ_DEFAULT_USER and _PASS, as rabbitmq.conf says them (used when the
  # broker's database is first made).
  cat >"$r/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$RABBITMQ_LOCAL_PORT
default_user = quiz
default_pass = $RABBITMQ_PASSWORD
disk_free_limit.absolute = 1MB
log.console = false
log.file.level = warning
EOF
  echo "[]." >"$r/enabled_plugins"
  : >"$r/rabbitmq-env.conf"
  # An epmd of its own on a free port, in the foreground so it has a pid to stop.
  rabbitmq_env
  spawn epmd "$dir/logs/epmd.log" "${rabbitmq_env[@]}" epmd -address 127.0.0.1 -port "$EPMD_LOCAL_PORT" -relaxed_command_check
  spawn rabbitmq "$dir/logs/rabbitmq.log" "${rabbitmq_env[@]}" "$rabbitmq_server"
  wait_until 120 rabbitmq amqp_ready "$RABBITMQ_LOCAL_PORT" || { tail -n 30 "$dir/logs/rabbitmq.log" >&2; die "RabbitMQ did not start"; }
}

# ---------------------------------------------------------------------------------- the nodes

build_server() {
  local web=()
  $skip_web && web=(-p:SkipQuizWeb=true)
  log "publishing the server in Release into $build_dir/server"
  # Its own artifacts folder: no collision with a Debug build or a test run of the same checkout.
  # No MSBuild or compiler server left running after it: `down` could not stop them.
  dotnet publish "$root/src/Quiz.Server" -c Release "${web[@]}" -nologo -v q -nodeReuse:false -p:UseSharedCompilation=false \
    --artifacts-path "$build_dir/artifacts" -o "$build_dir/server" >&2 || die "the build failed"
}

# The settings every node gets: the names of deploy/topology.env QUIZ_NODE_SETTINGS (environment
# variables, `__` for `:`), the values of docker-compose.yml with loopback hosts and ports.
node_setting() { # node_setting NAME INDEX → the value
  case "$1" in
    Urls) echo "http://127.0.0.1:$(node_port "$2")" ;;
    Storage__Provider) echo Postgres ;;
    Storage__ConnectionString) echo "Host=127.0.0.1;Port=$POSTGRES_LOCAL_PORT;Database=quiz;Username=quiz;Password=$POSTGRES_PASSWORD" ;;
    Bus__Transport) echo RabbitMq ;;
    Bus__RabbitMq) echo "amqp://quiz:$RABBITMQ_PASSWORD@127.0.0.1:$RABBITMQ_LOCAL_PORT/" ;;
    Ranking__Engine) echo Redis ;;
    Ranking__Redis) echo "127.0.0.1:$REDIS_LOCAL_PORT" ;;
    Rounds__Store) echo Redis ;;
    Rounds__Redis) echo "127.0.0.1:$REDIS_LOCAL_PORT" ;;
    SignalR__Redis) echo "127.0.0.1:$REDIS_LOCAL_PORT" ;;
    Admin__ApiKey) echo "$QUIZ_ADMIN_KEY" ;;
    Participants__Secret) echo "$QUIZ_PARTICIPANT_SECRET" ;;
    Seed__Path) echo "$root/question-bank" ;;
    ASPNETCORE_FORWARDEDHEADERS_ENABLED) echo true ;;
    *) die "deploy/topology.env lists the node setting $1, which cluster.sh does not know: add it to node_setting" ;;
  esac
}

node_port() { local v="NODE${1}_PORT"; echo "${!v}"; }

start_node() { # start_node I
  local i="$1" name="quiz$1" env=() setting
  [ -f "$build_dir/server/Quiz.Server.dll" ] || die "no build in $build_dir/server: run up without --no-build"
  pid_of "$name" >/dev/null && die "node $i ($name) is running already"
  mkdir -p "$dir/$name/data"
  for setting in $QUIZ_NODE_SETTINGS; do env+=("$setting=$(node_setting "$setting" "$i")"); done
  # Per node: its name on the rounds it holds in play, and its own data folder (a volume per node in compose).
  env+=("Server__NodeId=$name" "Storage__DataDir=$dir/$name/data")
  local extra=()
  [ -n "${NODE_ARGS:-}" ] && read -r -a extra <<<"$NODE_ARGS"
  # From the published folder (its content root holds wwwroot), as the image's WORKDIR /app.
  (cd "$build_dir/server" && spawn "$name" "$dir/logs/$name.log" env "${env[@]}" dotnet "$build_dir/server/Quiz.Server.dll" ${extra[@]+"${extra[@]}"})
  echo "$(date -u +%FT%TZ) started" >>"$dir/logs/$name.events"
}

node_healthy() { curl -fs --max-time 2 "http://127.0.0.1:$(node_port "$1")/healthz" >/dev/null; }

wait_node() { # wait_node I
  wait_until 120 "quiz$1" node_healthy "$1" || { tail -n 30 "$dir/logs/quiz$1.log" >&2; die "node $1 did not answer /healthz within 120 s"; }
}

# --------------------------------------------------------------------------------------- nginx

# deploy/nginx.conf with this machine's addresses and paths: the same upstreams and their rules
# (ip_hash, the live rooms' hash, max_fails, keepalive), the same locations, headers, upgrade and
# timeouts.
write_nginx_conf() {
  local conf="$dir/nginx/nginx.conf" servers="" i params
  mkdir -p "$dir/nginx/temp"
  params="$(grep -E "^\s*server ${QUIZ_NODES%% *}:$QUIZ_NODE_PORT\b" "$root/deploy/nginx.conf" | sed -E "s/^\s*server [^ ;]+ ?//; s/;.*//")"
  for i in $(seq "$NODES"); do servers+="        server 127.0.0.1:$(node_port "$i") $params;\n"; done
  {
    echo "# Generated by deploy/cluster.sh from deploy/nginx.conf: only addresses and paths differ."
    echo "pid $dir/nginx/nginx.pid;"
    echo "error_log $dir/logs/nginx.error.log warn;"
    [ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;"
    awk -v servers="$servers" -v listen="127.0.0.1:$NGINX_LOCAL_PORT" -v d="$dir" -v nodes="$QUIZ_NODES" -v port="$QUIZ_NODE_PORT" '
      BEGIN { n = split(nodes, names, " "); for (k = 1; k <= n; k++) node[names[k] ":" port] = 1 }
      /^[[:space:]]*upstream[[:space:]]/ { done = 0 }
      /^[[:space:]]*server[[:space:]]+[^[:space:];]+/ {
        split($0, w, /[[:space:]]+/); addr = (w[1] == "" ? w[3] : w[2]); sub(/;$/, "", addr)
        if (addr in node) { if (!done) { printf "%s", servers; done = 1 } next }
      }
      /^[[:space:]]*listen[[:space:]]/ { sub(/listen[[:space:]]+[^[:space:];]+/, "listen " listen) }
      /^[[:space:]]*access_log[[:space:]]+\// { sub(/access_log[[:space:]]+[^;]+;/, "access_log " d "/logs/nginx.access.log;") }
      { print }
      /^http[[:space:]]*\{/ {
        print "    client_body_temp_path " d "/nginx/temp/body;"
        print "    proxy_temp_path " d "/nginx/temp/proxy;"
        print "    fastcgi_temp_path " d "/nginx/temp/fastcgi;"
        print "    uwsgi_temp_path " d "/nginx/temp/uwsgi;"
        print "    scgi_temp_path " d "/nginx/temp/scgi;"
      }
    ' "$root/deploy/nginx.conf"
  } >"$conf"
  [ -f /etc/nginx/mime.types ] || sed -i 's|include /etc/nginx/mime.types;|types { text/html html; application/javascript js; text/css css; }|' "$conf"
  grep -q "server 127.0.0.1:$(node_port 1) " "$conf" || die "could not rewrite the upstream of deploy/nginx.conf"
  # The workers (nobody when we are root) write request bodies there.
  [ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$dir/nginx/temp"
  nginx_bin -t -p "$dir/nginx" -c "$conf" -e "$dir/logs/nginx.error.log" >/dev/null 2>"$dir/logs/nginx-test.log" \
    || { cat "$dir/logs/nginx-test.log" >&2; die "nginx rejects $conf"; }
}

nginx_bin() { if command -v nginx >/dev/null 2>&1; then nginx "$@"; else /usr/sbin/nginx "$@"; fi; }

start_nginx() {
  local bin; bin="$(command -v nginx || echo /usr/sbin/nginx)"
  spawn nginx "$dir/logs/nginx.log" "$bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/logs/nginx.error.log" -g "daemon off;"
  wait_until 30 nginx curl -fs --max-time 2 "http://127.0.0.1:$NGINX_LOCAL_PORT/nginx-health" \
    || { tail -n 20 "$dir/logs/nginx.error.log" >&2; die "nginx did not start"; }
}

# ---------------------------------------------------------------------------------- the state

load_state() {
  [ -f "$state" ] || die "no cluster in $dir (run: deploy/cluster.sh up)"
  # shellcheck source=/dev/null
  source "$state"
  # shellcheck source=/dev/null
  source "$dir/secrets.env"
}

load_secrets() { # those kept in the folder (its database has them), else the environment's, else new ones
  local name
  [ -f "$dir/secrets.env" ] && source "$dir/secrets.env"
  for name in $SHARED_SECRETS; do
    [ -n "${!name:-}" ] || printf -v "$name" '%s' "$(secret)"
  done
  ( umask 077; for name in $SHARED_SECRETS; do echo "$name=${!name}"; done >"$dir/secrets.env" )
}

write_state() {
  local i
  {
    echo "# Written by deploy/cluster.sh up; read by its other commands and the cluster tests."
    echo "NODES=$NODES"
    echo "NGINX_LOCAL_PORT=$NGINX_LOCAL_PORT"
    echo "POSTGRES_LOCAL_PORT=$POSTGRES_LOCAL_PORT"
    echo "REDIS_LOCAL_PORT=$REDIS_LOCAL_PORT"
    echo "RABBITMQ_LOCAL_PORT=$RABBITMQ_LOCAL_PORT"
    echo "RABBITMQ_DIST_LOCAL_PORT=$RABBITMQ_DIST_LOCAL_PORT"
    echo "EPMD_LOCAL_PORT=$EPMD_LOCAL_PORT"
    echo "RABBITMQ_NODENAME=$RABBITMQ_NODENAME"
    for i in $(seq "$NODES"); do echo "NODE${i}_PORT=$(node_port "$i")"; done
    printf 'NODE_ARGS=%q\n' "${NODE_ARGS:-}"
  } >"$state"
}

# ------------------------------------------------------------------------------------ commands

cmd_up() {
  NODES=3; build=true; skip_web=false
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) NODES="${2:-}"; shift ;;
      --no-build) build=false ;;
      --skip-web) skip_web=true ;;
      *) usage ;;
    esac
    shift
  done
  [[ "$NODES" =~ ^[1-9][0-9]?$ ]] || die "--nodes: 1 to 99"
  mkdir -p "$dir/pids" "$dir/logs"
  if [ -f "$state" ] && (source "$state"; for n in postgres redis rabbitmq nginx; do pid_of "$n" >/dev/null && exit 0; done; exit 1); then
    die "a cluster is running in $dir: deploy/cluster.sh down first"
  fi
  install_missing
  $build && build_server
  load_secrets
  NODE_ARGS="${QUIZ_CLUSTER_NODE_ARGS:-}"
  local ports; mapfile -t ports < <(python3 "$root/deploy/free-ports.py" $((6 + NODES))) # distinct, outside the ephemeral range
  [ "${#ports[@]}" -eq $((6 + NODES)) ] || die "no free loopback ports"
  NGINX_LOCAL_PORT=${ports[0]}; POSTGRES_LOCAL_PORT=${ports[1]}; REDIS_LOCAL_PORT=${ports[2]}
  RABBITMQ_LOCAL_PORT=${ports[3]}; RABBITMQ_DIST_LOCAL_PORT=${ports[4]}; EPMD_LOCAL_PORT=${ports[5]}
  RABBITMQ_NODENAME="quiz-cluster-$(secret | cut -c1-8)@localhost"
  [ -f "$state" ] && grep -q '^RABBITMQ_NODENAME=' "$state" && RABBITMQ_NODENAME="$(sed -n 's/^RABBITMQ_NODENAME=//p' "$state")" # its data is named after it
  for i in $(seq "$NODES"); do printf -v "NODE${i}_PORT" '%s' "${ports[$((5 + i))]}"; done
  write_state

  # Anything that fails from here, or an interrupt, stops what was started.
  up_finished=false
  trap '[ "$up_finished" = true ] || { log "up failed: stopping what it started"; cmd_down >&2 || true; }' EXIT
  trap 'exit 130' INT TERM
  log "PostgreSQL :$POSTGRES_LOCAL_PORT, Redis :$REDIS_LOCAL_PORT, RabbitMQ :$RABBITMQ_LOCAL_PORT"
  start_postgres
  start_redis
  start_rabbitmq
  # As compose: the first node alone (it applies the migrations and seeds an empty store), then the others.
  log "node 1 of $NODES"
  start_node 1
  wait_node 1
  for i in $(seq 2 "$NODES"); do start_node "$i"; done
  for i in $(seq 2 "$NODES"); do log "node $i of $NODES"; wait_node "$i"; done
  write_nginx_conf
  start_nginx
  up_finished=true
  echo "cluster up: http://127.0.0.1:$NGINX_LOCAL_PORT nodes=$NODES"
}

node_index() { # validates I against the cluster's nodes
  [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] && [ "$1" -le "$NODES" ] || die "node: 1 to $NODES"
}

cmd_kill_node() {
  load_state; node_index "${1:-}"
  local pid; pid="$(pid_of "quiz$1")" || die "node $1 is not running"
  kill -KILL "$pid"
  wait_gone "$pid" 10 || die "node $1 ($pid) outlived SIGKILL"
  rm -f "$dir/pids/quiz$1.pid"
  echo "$(date -u +%FT%TZ) killed" >>"$dir/logs/quiz$1.events"
  echo "killed node $1 (quiz$1, pid $pid)"
}

cmd_start_node() {
  load_state; node_index "${1:-}"
  start_node "$1"
  wait_node "$1"
  echo "started node $1 (quiz$1) on http://127.0.0.1:$(node_port "$1")"
}

cmd_status() {
  load_state
  local name pid port health
  for name in postgres redis epmd rabbitmq $(for i in $(seq "$NODES"); do echo "quiz$i"; done) nginx; do
    case "$name" in
      postgres) port=$POSTGRES_LOCAL_PORT ;; redis) port=$REDIS_LOCAL_PORT ;; epmd) port=$EPMD_LOCAL_PORT ;;
      rabbitmq) port=$RABBITMQ_LOCAL_PORT ;; nginx) port=$NGINX_LOCAL_PORT ;; *) port="$(node_port "${name#quiz}")" ;;
    esac
    if pid="$(pid_of "$name")"; then
      health=running
      [[ "$name" == quiz* ]] && { node_healthy "${name#quiz}" && health=healthy || health=unhealthy; }
      echo "$name pid=$pid port=$port $health"
    else
      echo "$name port=$port stopped"
    fi
  done
  echo "balancer: http://127.0.0.1:$NGINX_LOCAL_PORT nodes=$NODES"
}

cmd_down() {
  [ -f "$state" ] || { log "no cluster in $dir"; return 0; }
  load_state
  local i stopping=()
  stop_named nginx QUIT 10
  # The nodes in parallel; waited for by pid (a bare `wait` would also wait for the services a
  # failed `up` of this same shell started).
  for i in $(seq "$NODES"); do stop_named "quiz$i" TERM 30 & stopping+=($!); done
  wait "${stopping[@]}"
  stop_named rabbitmq TERM 30
  stop_named epmd TERM 5
  stop_named redis TERM 10
  # A fast shutdown, to the postmaster itself (runuser stands between it and our pid file).
  local postmaster
  if [ -f "$dir/postgres/data/postmaster.pid" ] && postmaster="$(head -n 1 "$dir/postgres/data/postmaster.pid")" \
    && tr '\0' ' ' <"/proc/$postmaster/cmdline" 2>/dev/null | grep -qF "$dir/postgres/data"; then
    kill -INT "$postmaster" 2>/dev/null || true
    wait_gone "$postmaster" 30 || kill -KILL "$postmaster" 2>/dev/null || true
  fi
  stop_named postgres TERM 10
  echo "cluster down: $dir (its data and logs are kept)"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  up) cmd_up "$@" ;;
  kill-node) cmd_kill_node "$@" ;;
  start-node) cmd_start_node "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) usage ;;
esac
