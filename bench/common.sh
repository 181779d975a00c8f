# Shared by the bench scripts: build the agent once, time a command (wall seconds and peak RSS in MB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
# The native AOT agent (what ships); FIM_BENCH_JIT=1 measures the JIT build (dotnet fim-agent.dll) instead.
if [[ "${FIM_BENCH_JIT:-0}" == 1 ]]; then AGENT=(dotnet "$(bash scripts/build-agent.sh --jit)"); else AGENT=("$(bash scripts/build-agent.sh)"); fi
WORK=$(mktemp -d /tmp/fim-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# measure NAME CMD...: runs CMD under /usr/bin/time, prints "NAME wall_s rss_mb", sets LAST_WALL and LAST_RSS.
measure() {
  local name=$1; shift
  local out="$WORK/time.$$"
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$WORK/stderr.$$" || {
    local rc=$?
    # fim-agent and aide exit 1..7 to say what changed; only 14 and above are failures.
    if [ "$rc" -ge 14 ]; then cat "$WORK/stderr.$$" >&2; return "$rc"; fi
  }
  read -r LAST_WALL LAST_RSS_KB < <(tail -n 1 "$out")
  LAST_RSS=$((LAST_RSS_KB / 1024))
  printf '%-34s %8.2f s %7d MB\n' "$name" "$LAST_WALL" "$LAST_RSS"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
