# Shared by the bench scripts: build the agent once, time a command (wall seconds and peak RSS in MB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
# The native AOT agent (what ships); FIM_BENCH_JIT=1 measures the JIT build (dotnet fim-agent.dll) instead.
if [[ "${FIM_BENCH_JIT:-0}" == 1 ]]; then AGENT=(dotnet "$(bash scripts/build-agent.sh --jit)"); else AGENT=("$(bash scripts/build-agent.sh)"); fi
WORK=$(mktemp -d /tmp/fim-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# measure NAME CMD...: runs CMD under /usr/bin/time, prints "NAME wall_s rss_mb cpu_s", sets LAST_WALL, LAST_RSS and
# LAST_CPU (user + system seconds: on a shared machine the wall time includes waiting for a core, CPU time does not).
measure() {
  local name=$1; shift
  local out="$WORK/time.$$"
  /usr/bin/time -f "%e %M %U %S" -o "$out" "$@" >/dev/null 2>"$WORK/stderr.$$" || {
    local rc=$?
    # fim-agent and aide exit 1..7 to say what changed; only 14 and above are failures.
    if [ "$rc" -ge 14 ]; then cat "$WORK/stderr.$$" >&2; return "$rc"; fi
  }
  local user sys
  read -r LAST_WALL LAST_RSS_KB user sys < <(tail -n 1 "$out")
  LAST_RSS=$((LAST_RSS_KB / 1024))
  LAST_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
  printf '%-40s %8.2f s %7d MB %8.2f s cpu\n' "$name" "$LAST_WALL" "$LAST_RSS" "$LAST_CPU"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
