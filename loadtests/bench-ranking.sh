#!/usr/bin/env bash
# The ranking benchmark: loadtests/bench-ranking.sh [participants]   (default 1,000,000)
# Self-contained: builds the bench in Release, starts its own redis-server on a free loopback
# port (no persistence), measures redis-benchmark ZADD (-P 16) on it, runs both engines, stops
# the server. The last line is the summary recorded in BENCHMARKS.md.
set -euo pipefail
participants="${1:-1000000}"
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "redis-server and redis-benchmark are needed: apt-get install -y redis-server redis-tools" >&2
  exit 1
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
dir="$(mktemp -d)"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no \
  --logfile "$dir/redis.log" &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null

dotnet build -c Release "$root/loadtests/Quiz.RankingBench" -v q -nologo >/dev/null

# ZADD of random members into one sorted set, 16 commands a pipeline, 50 clients (the default).
zadd="$(redis-benchmark -p "$port" -P 16 -t zadd -n 2000000 -r 1000000 -q | tr '\r' '\n' | awk '/ZADD/ && /requests per second/ {print $2}' | tail -1)"
redis-cli -p "$port" del myzset >/dev/null
echo "redis-benchmark -P 16 ZADD: ${zadd} requests per second"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(redis-server --version | awk '{print $3}'), $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet "$root/loadtests/Quiz.RankingBench/bin/Release/net10.0/Quiz.RankingBench.dll" "$participants" "127.0.0.1:$port" "$zadd"
