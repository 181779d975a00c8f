#!/usr/bin/env bash
# Who-data, issue 13 (run as root: fanotify and eBPF need CAP_SYS_ADMIN). PARTS picks the parts (default all:
# "accuracy rapid tar dpkg"); ACCURACY=0 drops part 1 as before.
# 1. accuracy: 1,000 writes by short-lived processes (sh -c 'echo $$ >> FILE', exiting at once) under five uids,
#    and 1,000 writes from ten long-lived processes: how many events name the right pid, uid and executable, how
#    many say unknown, how many name a wrong process (the same scenario as the tests in
#    tests/Fim.Agent.Tests/WhoData/WhoDataAccuracyTests.cs, which assert <= 1% unknown and 0 wrong).
# 2. rapid: wazuh#22200's scenario, 1,000 files each created, modified and deleted at once (3,000 operations), on
#    fanotify who-data and on inotify: events by kind (tests/Fim.Agent.Tests/WhoData/RapidChangeTests.cs, which
#    asserts one added and one deleted event per file).
# 3. tar: overhead for the writer: unpack a tar of TREE (default /usr/share/doc and /usr/share/man) into a watched
#    directory with no agent, with the agent on inotify only, and with who-data (fanotify + eBPF process table),
#    interleaved, RUNS times each; prints the median unpack time per mode and the ratios to no agent (target
#    who-data <= 1.3x). The agent runs niced as the systemd unit runs it.
# 4. dpkg: package installs (wazuh#13920): a .deb of PKG_FILES files (default 3,000, taken from /usr/share/doc) built
#    once with dpkg-deb, installed and removed with `dpkg --root` into a test root inside the watched directory (the
#    machine's own dpkg database is never touched), with no agent, inotify only and who-data, interleaved, RUNS
#    times each; prints the median install and remove times and the ratios to no agent.
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}
TREES=(${TREE:-/usr/share/doc /usr/share/man})
PARTS=${PARTS:-accuracy rapid tar dpkg}
[ "${ACCURACY:-1}" = 0 ] && PARTS=${PARTS//accuracy/}
part() { [[ " $PARTS " == *" $1 "* ]]; }

if part accuracy; then
echo "== accuracy (real agent, real writers)"
dotnet build tests/Fim.Agent.Tests -c Release -v q -nologo >/dev/null
dotnet test tests/Fim.Agent.Tests -c Release --no-build --filter "FullyQualifiedName~WhoDataAccuracyTests.A_thousand" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "writers:|Passed!|Failed!" | sed 's/^ *//'
fi

if part rapid; then
echo "== rapid create/modify/delete: 1,000 files x 3 operations (Wazuh realtime: 2,367 of 3,000 alerts, wazuh#22200)"
dotnet build tests/Fim.Agent.Tests -c Release -v q -nologo >/dev/null
dotnet test tests/Fim.Agent.Tests -c Release --no-build --filter "FullyQualifiedName~RapidChangeTests" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "^ *(auto|inotify): |Passed!|Failed!" | sed 's/^ *//' | sort -u
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

mkdir -p "$WORK/watched"

# start_agent MODE RUN: the agent on $WORK/watched as deploy/systemd/fim-agent.service runs it (Nice=10,
# IOSchedulingClass=idle): the writer's cost is then the kernel's notification work plus what the scheduler still
# gives a niced agent on a busy machine. Sets AGENT_PID (empty for MODE none).
start_agent() {
  local mode=$1 run=$2
  AGENT_PID=""
  [ "$mode" = none ] && return 0
  local source_arg=auto
  [ "$mode" = inotify ] && source_arg=inotify
  nice -n 10 ionice -c 3 "${AGENT[@]}" watch "$WORK/watched" --json --who-data "$source_arg" --state "$WORK/state-$mode-$run" \
    --key-file "$WORK/key-$mode-$run/baseline.key" >"$WORK/alerts-$mode-$run.json" 2>"$WORK/agent-$mode-$run.log" &
  AGENT_PID=$!
  local deadline=$((SECONDS + 120))
  until grep -qs "realtime detection on" "$WORK/agent-$mode-$run.log"; do
    ((SECONDS < deadline)) || { echo "agent did not start:" >&2; cat "$WORK/agent-$mode-$run.log" >&2; exit 1; }
    sleep 0.2
  done
}

stop_agent() { # MODE RUN
  if [ -n "$AGENT_PID" ]; then
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK/state-$1-$2" "$WORK/key-$1-$2"
}

if part tar; then
echo "== overhead: tar -x of ${TREES[*]} into a watched directory, median of $RUNS"
tar -cf "$WORK/tree.tar" "${TREES[@]}" 2>/dev/null
entries=$(tar -tf "$WORK/tree.tar" | wc -l)
echo "archive: $entries entries, $(du -m "$WORK/tree.tar" | cut -f1) MB"
mkdir -p "$WORK/watched"

run_unpack() { # MODE RUN
  local mode=$1 run=$2 dest="$WORK/watched/$1-$2"
  start_agent "$mode" "$run"
  mkdir -p "$dest"
  sync
  local start end
  start=$(date +%s.%N)
  tar -xf "$WORK/tree.tar" -C "$dest"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}' >>"$WORK/times-$mode"
  if [ -n "$AGENT_PID" ]; then
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=""
    if [ "$mode" = whodata ]; then
      named=$(grep -c '"actor":{"uid"' "$WORK/alerts-$mode-$run.json" || true)
      total=$(wc -l <"$WORK/alerts-$mode-$run.json")
      echo "  whodata run $run: $total alerts, $named with a named writer"
    fi
  fi
  stop_agent "$mode" "$run"
  rm -rf "$dest"
}

for run in $(seq "$RUNS"); do
  for mode in none inotify whodata; do run_unpack "$mode" "$run"; done
done
none=$(median <"$WORK/times-none"); ino=$(median <"$WORK/times-inotify"); who=$(median <"$WORK/times-whodata")
printf '%-26s %8.3f s\n' "no agent" "$none" "inotify only" "$ino" "who-data (fanotify+eBPF)" "$who"
echo "inotify / no agent:  $(ratio "$ino" "$none")"
echo "who-data / no agent: $(ratio "$who" "$none")   (target <= 1.3)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if part dpkg; then
PKG_FILES=${PKG_FILES:-3000}
echo "== package install/remove: a .deb of $PKG_FILES files, dpkg --root inside the watched directory, median of $RUNS"
staging="$WORK/pkg"
mkdir -p "$staging/DEBIAN" "$staging/usr/share/fim-bench"
printf 'Package: fim-bench-whodata\nVersion: 1.0\nArchitecture: all\nMaintainer: FIM bench <bench@fim.invalid>\nDescription: who-data install bench\n' >"$staging/DEBIAN/control"
find /usr/share/doc -type f >"$WORK/pkg-files"  # not piped into head: under pipefail, find's SIGPIPE would end the script
head -n "$PKG_FILES" "$WORK/pkg-files" | while read -r f; do
  dest="$staging/usr/share/fim-bench${f#/usr/share/doc}"; mkdir -p "$(dirname "$dest")"; cp "$f" "$dest"
done
dpkg-deb --root-owner-group -Zgzip --build "$staging" "$WORK/bench.deb" >/dev/null
echo "package: $(dpkg-deb -c "$WORK/bench.deb" | grep -c '^-') files, $(du -k "$WORK/bench.deb" | cut -f1) KB"

run_dpkg() { # MODE RUN
  local mode=$1 run=$2 root="$WORK/watched/dpkgroot-$1-$2"
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
  : >"$root/var/lib/dpkg/status"
  start_agent "$mode" "$run"
  local dpkg=(dpkg "--root=$root" "--admindir=$root/var/lib/dpkg" "--log=$root/var/log/dpkg.log" --force-script-chrootless --force-not-root --no-triggers)
  sync
  local t0 t1 t2
  t0=$(date +%s.%N)
  "${dpkg[@]}" --install "$WORK/bench.deb" >/dev/null
  t1=$(date +%s.%N)
  local t_install=$t1
  # The install's dirty pages are written back before the remove is timed, not charged to it.
  sync
  t1=$(date +%s.%N)
  "${dpkg[@]}" --remove fim-bench-whodata >/dev/null
  t2=$(date +%s.%N)
  awk -v a="$t0" -v b="$t_install" 'BEGIN {printf "%.3f\n", b - a}' >>"$WORK/install-$mode"
  awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.3f\n", b - a}' >>"$WORK/remove-$mode"
  stop_agent "$mode" "$run"
  rm -rf "$root"
}

# The order of the modes rotates from run to run: whatever the previous mode left to the kernel (writeback of a
# removed tree, a stopping agent) does not always fall on the same mode.
orders=("none inotify whodata" "inotify whodata none" "whodata none inotify")
for run in $(seq "$RUNS"); do
  for mode in ${orders[$(((run - 1) % 3))]}; do sync; run_dpkg "$mode" "$run"; done
done
for op in install remove; do
  none=$(median <"$WORK/$op-none"); ino=$(median <"$WORK/$op-inotify"); who=$(median <"$WORK/$op-whodata")
  printf 'dpkg %-7s no agent %7.3f s, inotify only %7.3f s (%sx), who-data %7.3f s (%sx)\n' \
    "$op" "$none" "$ino" "$(ratio "$ino" "$none")" "$who" "$(ratio "$who" "$none")"
  for mode in none inotify whodata; do echo "  $op $mode runs: $(sort -g "$WORK/$op-$mode" | tr '\n' ' ')"; done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
