#!/usr/bin/env bash
# Runs the test projects one after another (the machine has 2 cores; the cluster tests start
# three PostgreSQL servers each), shows each test's outcome and ends with one line of totals.
# Fails when any project fails or runs no test.
set -uo pipefail
cd "$(dirname "$0")/.."
projects=(
  tests/Appliance.Core.Tests
  tests/Appliance.Simulator.Tests
  tests/Appliance.Linux.Tests
  tests/Appliance.Etcd.Tests
  tests/Appliance.Postgres.Tests
  tests/Appliance.Agent.Tests
  tests/Appliance.Cli.Tests
  tests/Appliance.Lab.Tests
  tests/Appliance.Monitoring.Tests
  tests/Appliance.Balancer.Tests
  tests/Appliance.Proxy.Tests
  tests/Appliance.Cluster.Tests
  tests/Appliance.Netns.Tests
  tests/Appliance.Scenario.Tests
  tests/Appliance.Image.Tests
)
passed=0 failed=0 skipped=0 status=0
results=$(mktemp -d)
failures="$results/failures.txt"
: >"$failures"
trap 'rm -rf "$results"' EXIT
for project in "${projects[@]}"; do
  name=$(basename "$project")
  echo "=== $name"
  dotnet test "$project" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" >"$results/$name.log" 2>&1
  rc=$?
  # Each test's verdict, failures with their message and our own stack frames.
  grep -E '^\s+(Passed|Failed|Skipped) |Error Message|^\s+at Appliance|Exception|Total tests' "$results/$name.log" \
      | grep -vE '^\s+at (System|Microsoft|Xunit)\.' || true
  # Each failed test's block (name, message, stack), repeated at the end where a truncated log keeps it.
  awk '/^[[:space:]]+(Passed|Skipped) /{keep=0} /^[[:space:]]+Failed /{keep=1; n=0}
       keep && n++ < 60' "$results/$name.log" >>"$failures"
  # What the scenario tests measured (their output, kept in the TRX for passing tests too).
  grep -hoE '^scenario .*' "$results/$name.trx" 2>/dev/null | sed 's|</StdOut>$||' || true
  # Skipped tests count in "total" but in none of passed/failed.
  nt='' np='' nf=''
  read -r nt np nf < <(sed -nE 's/.*<Counters total="([0-9]+)" executed="[0-9]+" passed="([0-9]+)" failed="([0-9]+)".*/\1 \2 \3/p' "$results/$name.trx" 2>/dev/null | head -1)
  if [ "$rc" -ne 0 ] || [ -z "$np" ] || [ "${np:-0}" -eq 0 ] || [ "${nf:-0}" -ne 0 ]; then
    status=1
    [ -z "$np" ] && tail -30 "$results/$name.log"
  fi
  passed=$((passed + ${np:-0})); failed=$((failed + ${nf:-0})); skipped=$((skipped + ${nt:-0} - ${np:-0} - ${nf:-0}))
done
if [ -s "$failures" ]; then
  echo "=== failures"
  cat "$failures"
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
