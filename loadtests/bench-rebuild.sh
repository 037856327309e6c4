#!/usr/bin/env bash
# Rebuilds the rankings of a campaign from a real SQLite store, as `rankings rebuild` and a server
# start do: fills a fresh store with <rounds> finished rounds (default 1,000,000) of 200,000
# participants spread over the bundled unit hierarchy, then times
#   1. `Quiz.Server rankings rebuild 2024-june` (rebuild + reconcile against the store), and
#   2. a server start, whose in-process engine loads the boards before it answers /healthz.
# Loopback only; everything it starts, it stops. Needs python3 (to write the store quickly).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1000000}"
work="$(mktemp -d)"
trap 'pkill -f "$work/server/Quiz.Server.dll" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "building the server (Release)..."
dotnet build src/Quiz.Server -c Release -o "$work/server" -v quiet -nologo > "$work/build.log"
port=$(python3 deploy/free-ports.py)

# A first start seeds units, campaigns and questions; then stop it.
dotnet "$work/server/Quiz.Server.dll" --Storage:DataDir="$work/data" --Seed:Path="$PWD/question-bank" --urls "http://127.0.0.1:$port" > "$work/seed.log" 2>&1 &
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 1; done
pkill -f "$work/server/Quiz.Server.dll"; sleep 1

python3 - "$work/data/quiz.db" "$rounds" <<'PY'
import random, sqlite3, sys, time
db, rounds = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
random.seed(1)
counties = [r[0] for r in db.execute("SELECT code FROM regions r WHERE NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = r.code)")]
orgs = [r[0] for r in db.execute("SELECT code FROM organisations")]
people = 200_000
started = time.time()
db.executemany("INSERT INTO participants (id, mobile_hash, mobile_masked, nickname, region_code, organisation_code, track, registered_at) VALUES (?,?,?,?,?,?,?,?)",
    ((i, f"h{i}", "139****0000", f"p{i}", random.choice(counties), random.choice(orgs) if random.random() < 0.5 else None, "general", "2024-06-12T00:00:00Z")
     for i in range(1, people + 1)))
def results():
    for i in range(1, rounds + 1):
        day = 12 + random.randrange(10)
        yield (i, f"r{i}", "2024-june", "main", random.randrange(1, people + 1), f"2024-06-{day:02d}", random.randrange(6), 5, 0,
               random.randrange(5000, 120000), f"2024-06-{day:02d}T{random.randrange(16):02d}:{random.randrange(60):02d}:00.0000000+00:00", 0, None, 0, 0)
db.executemany("INSERT INTO results (id, round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms, finished_at, auto_finished, flagged, first_in_campaign, first_of_day) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", results())
# 2024-june ranks the best of each scene: every round is played in one of its four scenes.
db.execute("""INSERT INTO rounds (id, campaign_id, stage_id, participant_id, day, started_at, deadline, status, questions, scene)
    SELECT round_id, campaign_id, stage_id, participant_id, day, finished_at, finished_at, 'finished', '[]',
           CASE id % 4 WHEN 0 THEN 'campus' WHEN 1 THEN 'workplace' WHEN 2 THEN 'city' ELSE 'countryside' END FROM results""")
db.commit()
print(f"store filled: {rounds:,} rounds of {people:,} participants in {time.time() - started:.1f} s")
PY

echo "rankings rebuild (rebuild + reconcile):"
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "wall=%e s max_rss=%M KB"); else timer=(); fi
"${timer[@]}" dotnet "$work/server/Quiz.Server.dll" rankings rebuild 2024-june --Storage:DataDir="$work/data" 2>&1 | grep -v "^\s*$"

echo "server start with the in-process engine loading the boards:"
start=$(date +%s.%N)
dotnet "$work/server/Quiz.Server.dll" --Storage:DataDir="$work/data" --urls "http://127.0.0.1:$port" > "$work/start.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.2; done
ready=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true
grep -o "Rankings of 2024-june: .*" "$work/start.log" || true
echo "rebuild_rounds=$rounds start_to_healthy_s=$(awk "BEGIN { printf \"%.1f\", $ready - $start }") server_rss_kb=$rss"
