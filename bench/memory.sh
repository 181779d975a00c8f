#!/usr/bin/env bash
# Peak RSS of fim-agent recording and re-checking a baseline of N small files (default 100,000; target
# <= 60 MB at 100,000, <= 300 MB at 1,000,000), and how it grows: pass several counts, e.g.
# bench/memory.sh 100000 300000 1000000. Then the idle RSS of a watching agent holding that baseline
# (target <= 50 MB at 100,000): `fim-agent watch` is started on the tree and read once it watches and is quiet.
source "$(dirname "$0")/common.sh"
COUNTS=("$@"); [ ${#COUNTS[@]} -gt 0 ] || COUNTS=(100000)

for n in "${COUNTS[@]}"; do
  tree="$WORK/tree-$n"
  mkdir -p "$tree"
  # 1,000 files per directory, each with a little content so it is hashed.
  dirs=$(( (n + 999) / 1000 ))
  for d in $(seq 0 $((dirs - 1))); do
    mkdir -p "$tree/d$d"
    count=$(( n - d * 1000 < 1000 ? n - d * 1000 : 1000 ))
    (cd "$tree/d$d" && seq -f "file-%06g" 0 $((count - 1)) | xargs sh -c 'for f; do echo "$f" > "$f"; done' _)
  done
  measure "baseline of $n files" "${AGENT[@]}" scan "$tree" --state "$WORK/state-$n" --key-file "$WORK/key/k"
  base_rss=$LAST_RSS
  measure "unchanged rescan of $n files" "${AGENT[@]}" scan "$tree" --state "$WORK/state-$n" --key-file "$WORK/key/k"
  rescan_rss=$LAST_RSS
  "${AGENT[@]}" watch "$tree" --state "$WORK/state-$n" --key-file "$WORK/key/k" >/dev/null 2>"$WORK/watch.log" &
  watcher=$!
  for _ in $(seq 600); do grep -q 'realtime detection on' "$WORK/watch.log" && break; sleep 0.5; done
  grep -q 'realtime detection on' "$WORK/watch.log" || { cat "$WORK/watch.log" >&2; kill "$watcher"; exit 1; }
  # The package index is built in the background after the first watch: read the idle agent once it is built.
  for _ in $(seq 600); do grep -qE 'package databases indexed|indexing the package databases failed' "$WORK/watch.log" && break; sleep 0.5; done
  sleep 5   # let start-up garbage be collected; then read the resident set of the idle watcher
  idle_rss=$(awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$watcher/status")
  kill "$watcher"; wait "$watcher" 2>/dev/null || true
  echo "files=$n peak_rss_baseline=${base_rss}MB peak_rss_rescan=${rescan_rss}MB idle_rss_watch=${idle_rss}MB per_file=$(awk -v r="$base_rss" -v n="$n" 'BEGIN {printf "%.0f", r * 1048576 / n}') bytes"
  rm -rf "$tree"
done
