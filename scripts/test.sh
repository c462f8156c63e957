#!/usr/bin/env bash
# Runs the test projects one after another (the machine has 2 cores; the cluster tests start
# three PostgreSQL servers each), shows each test's outcome and ends with one line of totals.
# Fails when any project fails or runs no test.
set -uo pipefail
cd "$(dirname "$0")/.."
projects=(
  tests/Appliance.Core.Tests
  tests/Appliance.Linux.Tests
  tests/Appliance.Etcd.Tests
  tests/Appliance.Postgres.Tests
  tests/Appliance.Agent.Tests
  tests/Appliance.Cli.Tests
  tests/Appliance.Cluster.Tests
)
passed=0 failed=0 skipped=0 status=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for p in "${projects[@]}"; do
  name=$(basename "$p")
  echo "=== $name"
  dotnet test "$p" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" >"$results/$name.log" 2>&1
  rc=$?
  # Each test's verdict, failures with their message and our own stack frames.
  grep -E '^\s+(Passed|Failed|Skipped) |Error Message|^\s+at Appliance|Exception|Total tests' "$results/$name.log" \
      | grep -vE '^\s+at (System|Microsoft|Xunit)\.' || true
  read -r p f s < <(sed -nE 's/.*<Counters total="[0-9]+" executed="[0-9]+" passed="([0-9]+)" failed="([0-9]+)".*notExecuted="([0-9]+)".*/\1 \2 \3/p' "$results/$name.trx" 2>/dev/null | head -1)
  if [ "$rc" -ne 0 ] || [ -z "${p:-}" ] || [ "${p:-0}" -eq 0 ] || [ "${f:-0}" -ne 0 ]; then
    status=1
    [ -z "${p:-}" ] && tail -30 "$results/$name.log"
  fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
