#!/usr/bin/env bash
# The ranking benchmark: loadtests/bench-ranking.sh [participants] [--shards K] [--shard-by Participant|Province]
#   (default 1,000,000, K = 1, by participant; --shard-by is Ranking:ShardBy)
# Self-contained: builds the bench in Release, starts its own redis-server (K of them with
# --shards: the campaign spread over them, ShardedRankingEngine) on free loopback ports (no persistence), measures redis-benchmark ZADD (-P 16) on it, runs both engines, stops
# the server. The last line is the summary recorded in BENCHMARKS.md.
set -euo pipefail
participants=1000000
shards=1
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="$2"; shift 2 ;;
    --shard-by) export BENCH_SHARD_BY="$2"; shift 2 ;;
    [0-9]*) participants="$1"; shift ;;
    *) echo "usage: loadtests/bench-ranking.sh [participants] [--shards K] [--shard-by Participant|Province]" >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"

# redis-server and redis-benchmark (Debian's redis-tools), installed when missing.
needed=()
command -v redis-server >/dev/null || needed+=(redis-server)
command -v redis-benchmark >/dev/null || needed+=(redis-tools)
"$root/deploy/install-packages.sh" "${needed[@]}" || exit 1

# One redis-server a shard, each on a free loopback port, without persistence.
dir="$(mktemp -d)"
pids=()
ports=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"' EXIT
mapfile -t free < <(python3 "$root/deploy/free-ports.py" "$shards") # distinct, outside the ephemeral range
for i in $(seq 1 "$shards"); do
  port="${free[$((i - 1))]}"
  mkdir -p "$dir/$i"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/$i" --daemonize no \
    --logfile "$dir/$i/redis.log" &
  pids+=($!)
  ports+=("$port")
done
for port in "${ports[@]}"; do
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" ping >/dev/null
done
port="${ports[0]}"
addresses="$(printf '127.0.0.1:%s;' "${ports[@]}")"

dotnet build -c Release "$root/loadtests/Quiz.RankingBench" -v q -nologo >/dev/null

# ZADD of random members into one sorted set, 16 commands a pipeline, 50 clients (the default).
zadd="$(redis-benchmark -p "$port" -P 16 -t zadd -n 2000000 -r 1000000 -q | tr '\r' '\n' | awk '/ZADD/ && /requests per second/ {print $2}' | tail -1)"
redis-cli -p "$port" del myzset >/dev/null
echo "redis-benchmark -P 16 ZADD: ${zadd} requests per second"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(redis-server --version | awk '{print $3}'), $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet "$root/loadtests/Quiz.RankingBench/bin/Release/net10.0/Quiz.RankingBench.dll" "$participants" "$addresses" "$zadd"
