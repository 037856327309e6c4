#!/usr/bin/env bash
# Runs every test of the solution. Installs what the tests need when it is missing (Debian
# packages through apt-get), then runs `dotnet test` and the load smoke test, and prints the
# totals as its last line:
#   <N> passed, <M> failed
# Exit status is non-zero when a test failed, the build failed, or no test ran.
set -uo pipefail
cd "$(dirname "$0")"

# Debian packages the tests talk to: a real redis-server, rabbitmq-server and PostgreSQL 15 (tests
# start their own on free loopback ports in temporary folders, so nothing is left running), nginx
# for the cluster tests (deploy/cluster.sh runs it in front of three nodes, as the containers do);
# chromium and a Chinese font for the browser tests.
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || packages+=(rabbitmq-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || packages+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
fc-list 2>/dev/null | grep -qi wqy || packages+=(fonts-wqy-microhei)
# (It says what it could not install; with nothing missing it does nothing.)
deploy/install-packages.sh "${packages[@]}" || { echo "0 passed, 1 failed"; exit 1; }

# dotnet-dump (dotnet-tools.json): a test that waits in vain for a server process to exit prints
# what that process waits on (its async and thread stacks), the only witness of a hang. The tests pass without it.
dotnet tool restore >/dev/null 2>&1 || echo "dotnet tool restore failed: a hung server's stacks will be missing from its test's failure"

results="$(pwd)/TestResults"
rm -rf "$results"
dotnet test Quiz.sln --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?

# The scale-out engines: the play, season, durability, projection, ranking, registration, account,
# live-session, circular and survey tests
# again on PostgreSQL and RabbitMQ, each test class on a database and a virtual host of its own on
# a PostgreSQL and a broker the tests start (QUIZ_TEST_STORE=postgres QUIZ_TEST_BUS=rabbitmq).
# Skipped, like the load smoke test, when dotnet test got arguments.
if [ $# -eq 0 ]; then
  echo "The store and bus tests again on PostgreSQL and RabbitMQ (QUIZ_TEST_STORE=postgres QUIZ_TEST_BUS=rabbitmq) ..."
  # The same features in both suites: the in-memory server's and the processes' (same namespaces).
  for suite in Server Process; do
    QUIZ_TEST_STORE=postgres QUIZ_TEST_BUS=rabbitmq dotnet test "tests/Quiz.$suite.Tests" --no-build --logger "trx" --logger "console;verbosity=minimal" \
      --results-directory "$results/postgres/$suite" \
      --filter "FullyQualifiedName~Quiz.Server.Tests.Play|FullyQualifiedName~Quiz.Server.Tests.Campaigns.SeasonTests|FullyQualifiedName~Quiz.Server.Tests.Events|FullyQualifiedName~Quiz.Server.Tests.Rankings|FullyQualifiedName~Quiz.Server.Tests.Participants|FullyQualifiedName~Quiz.Server.Tests.Accounts.AccountTests|FullyQualifiedName~Quiz.Server.Tests.Accounts.AdminCommandTests|FullyQualifiedName~Quiz.Server.Tests.Live|FullyQualifiedName~Quiz.Server.Tests.Circulars|FullyQualifiedName~Quiz.Server.Tests.Dashboard|FullyQualifiedName~Quiz.Server.Tests.Surveys"
    [ $? -eq 0 ] || status=1
  done
fi

passed=0; failed=0
for trx in "$results"/*.trx "$results"/postgres/*/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # the build or a test host failed
# The failed tests by name and the first lines of their messages, near the end where a truncated
# log still shows them.
for trx in "$results"/*.trx "$results"/postgres/*/*.trx; do
  [ -f "$trx" ] || continue
  awk '/<UnitTestResult / { failed = /outcome="Failed"/; if (failed) { name = $0; sub(/.* testName="/, "", name); sub(/".*/, "", name); print "failed: " name } }
       failed && /<Message>/ { lines = 4; sub(/.*<Message>/, "") }
       lines > 0 { done = sub(/<\/Message>.*/, ""); print "  " substr($0, 1, 300); lines = done ? 0 : lines - 1 }
       /<\/UnitTestResult>/ { failed = 0; lines = 0 }' "$trx"
done

# The load smoke test counts as one test: the server in Release under 200 players playing full
# rounds for about 15 s, loopback only; any error fails it. Skipped when dotnet test got arguments
# (a filtered run).
if [ $# -eq 0 ]; then
  echo "Load smoke test (loadtests/run.sh smoke) ..."
  if loadtests/run.sh smoke > "$results/load-smoke.log" 2>&1; then
    passed=$((passed + 1)); tail -n 1 "$results/load-smoke.log"
  else
    failed=$((failed + 1)); echo "load smoke test failed:"; tail -n 15 "$results/load-smoke.log"
  fi
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
