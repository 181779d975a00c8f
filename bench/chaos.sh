#!/usr/bin/env bash
# Chaos mode at scale (issue 18, acceptance 6): the operator deletes a ready manager pod of a three-manager pool every
# 1-3 s (spec.chaos.podKillInterval 2s) while EVENTS events (default 100,000) are published at RATE per second; every
# event must end as exactly one alert, none dead-lettered. It is ChaosTests' exactly-once test with a larger count (the
# CI runs it with 6,000); the figures are in its last output line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh >/dev/null
FIM_CHAOS_EVENTS="${EVENTS:-100000}" FIM_CHAOS_RATE="${RATE:-3000}" FIM_CHAOS_INTERVAL="${INTERVAL:-2s}" \
  nice -n 10 dotnet test tests/Fim.Operator.Tests -c Release -nologo \
    --filter "FullyQualifiedName~ChaosTests.With_chaos_on_a_pool_of_three_managers" \
    --logger "console;verbosity=detailed" 2>&1 | grep -E "published [0-9]+ events|every event once|^\s+(Passed|Failed) |Error Message|Assert" | sed 's/^\[xUnit[^]]*\] *//' | sort -u
