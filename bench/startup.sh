#!/usr/bin/env bash
# Start-up to first watch: from exec of `fim-agent watch` to its "realtime detection on" line (the log line's own
# timestamp), for a policy of N small files (default 10,000; target <= 0.3 s), RUNS times each (default 5), median.
# "restart" has the baseline on disk (the usual start of a node's agent); "first" records the baseline first.
# Also prints the peak RSS of the watcher once it is on (VmHWM).
source "$(dirname "$0")/common.sh"
N=${1:-10000}
RUNS=${RUNS:-5}
tree="$WORK/tree-$N"
dirs=$(( (N + 999) / 1000 ))
for d in $(seq 0 $((dirs - 1))); do
  mkdir -p "$tree/d$d"
  count=$(( N - d * 1000 < 1000 ? N - d * 1000 : 1000 ))
  (cd "$tree/d$d" && seq -f "file-%06g" 0 $((count - 1)) | xargs sh -c 'for f; do echo "$f" > "$f"; done' _)
done

# watch_once STATE: starts the watcher, waits for "realtime detection on", prints "seconds peak_rss_mb", stops it.
watch_once() {
  local log="$WORK/watch.log" start pid on
  : > "$log"
  start=$(date +%s.%N)
  "${AGENT[@]}" watch "$tree" --state "$1" --key-file "$WORK/key/k" >/dev/null 2>"$log" &
  pid=$!
  for _ in $(seq 3000); do grep -q 'realtime detection on' "$log" && break; sleep 0.01; done
  on=$(grep -m1 'realtime detection on' "$log" | grep -o '"@t":"[^"]*"' | cut -d'"' -f4) || { cat "$log" >&2; kill "$pid"; exit 1; }
  local hwm
  hwm=$(awk '/^VmHWM/ {printf "%d", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v s="$start" -v e="$(date -d "$on" +%s.%N)" -v m="$hwm" 'BEGIN {printf "%.3f %d\n", e - s, m}'
}

declare -a first restart
for i in $(seq "$RUNS"); do
  rm -rf "$WORK/state" "$WORK/key"
  read -r t m < <(watch_once "$WORK/state"); first+=("$t"); printf '%-40s %8.3f s %7d MB\n' "first start (records the baseline) #$i" "$t" "$m"
  read -r t m < <(watch_once "$WORK/state"); restart+=("$t"); printf '%-40s %8.3f s %7d MB\n' "restart (baseline on disk) #$i" "$t" "$m"
done
echo
echo "files=$N start-up to first watch, median of $RUNS: first $(printf '%s\n' "${first[@]}" | median) s, restart $(printf '%s\n' "${restart[@]}" | median) s (target <= 0.3 s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
