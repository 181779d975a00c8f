#!/usr/bin/env bash
# Peak RSS of fim-agent recording and re-checking a baseline of N small files (default 100,000; target
# <= 150 MB), and how it grows: pass several counts, e.g. bench/memory.sh 100000 300000 1000000.
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
  echo "files=$n peak_rss_baseline=${base_rss}MB peak_rss_rescan=${LAST_RSS}MB per_file=$(awk -v r="$base_rss" -v n="$n" 'BEGIN {printf "%.0f", r * 1048576 / n}') bytes"
  rm -rf "$tree"
done
