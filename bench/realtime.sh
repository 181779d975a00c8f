#!/usr/bin/env bash
# Realtime latency, end to end: 1,000 file writes to a tree the real agent watches; time from close() to
# the agent's alert line (target p99 <= 5 ms, once the agent is in its steady state). Then the watcher alone (close() -> inotify notification).
source "$(dirname "$0")/common.sh"
dotnet run -c Release --project bench/Fim.Bench.AgentLatency -- "${AGENT[-1]}" --files "${FILES:-1000}" --interval-ms "${INTERVAL_MS:-2}"
dotnet run -c Release --project bench/Fim.Bench.Realtime -- --files "${FILES:-1000}" --runs 1
