#!/usr/bin/env bash
# README command two: installs what the tests need, builds, checks the formatting (dotnet format, counted
# as one check), runs every test project, and ends with one line "N passed, N failed, N skipped" computed
# from the TRX results and that check. Non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

results=TestResults
rm -rf "$results"
mkdir -p "$results"

dotnet build FimOperator.sln -c Release -v q -nologo 2>&1 | tail -n 3
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# One check: the code as .editorconfig says. A failure is counted and reported; the tests still run.
format=0
if dotnet format FimOperator.sln --verify-no-changes --no-restore >"$results/format.log" 2>&1; then
  echo "dotnet format: clean"
else
  format=1
  grep -E 'error|warning' "$results/format.log" | head -n 20
  echo "dotnet format: FAILED - run 'dotnet format FimOperator.sln' and commit the result (all findings: $results/format.log)"
fi

status=0
for proj in tests/*/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" -c Release --no-build --nologo -v q \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --blame-hang-timeout 5m 2>&1 | grep -E "^(Passed!|Failed!)|^\s+Failed |Error Message|^\s+(Assert|Expected|Actual)" | head -n 60
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
# The failing tests by name, close to the summary line, so a log cut to its last lines still says what failed.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -n 's/.*testName="\([^"]*\)".*/FAILED: \1/p'
done
expected=$(ls tests/*/*.Tests.csproj | wc -l)
found=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$found" -lt "$expected" ]; then
  echo "only $found of $expected test projects produced results"
  failed=$((failed + expected - found))
fi
passed=$((passed + 1 - format)); failed=$((failed + format))
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
