#!/usr/bin/env bash
# Runs the test projects one after another (the machine has 2 cores; the cluster tests start
# three PostgreSQL servers each) and prints one closing line with the totals.
set -uo pipefail
cd "$(dirname "$0")/.."
projects=(
  tests/Appliance.Core.Tests
  tests/Appliance.Etcd.Tests
  tests/Appliance.Postgres.Tests
  tests/Appliance.Agent.Tests
  tests/Appliance.Cluster.Tests
)
passed=0 failed=0 skipped=0 status=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for p in "${projects[@]}"; do
  name=$(basename "$p")
  echo "=== $name"
  dotnet test "$p" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --logger "console;verbosity=normal" 2>&1 | grep -vE '^\s*$' | grep -E 'Passed |Failed |Skipped |error|Error Message|Total tests|Passed!|Failed!|^\s+at |Assert|Exception' | grep -vE '^\s+at (System|Microsoft|Xunit)\.' || true
  rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] && status=1
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    read -r t p f s < <(python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as ET
c = ET.parse(sys.argv[1]).getroot().find('.//{*}Counters')
print(c.get('total'), c.get('passed'), c.get('failed'), int(c.get('notExecuted', 0)))
PY
)
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  else
    status=1
  fi
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
