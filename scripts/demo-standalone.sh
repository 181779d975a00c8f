#!/usr/bin/env bash
# The lightweight demo (`scripts/demo.sh --standalone`): builds the agent and watches a demo directory in real time,
# standalone (embedded baseline store, no server). On a terminal it keeps watching: change a file under
# .cache/demo/etc in another terminal, Ctrl-C stops. Without a terminal (or with CI=true) it makes the
# changes itself, shows the alerts, shows that a change made while the agent was stopped is reported
# at the next start, and exits 0. Its baseline (.cache/demo-state) is its own, apart from the whole system's.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=.cache/demo
mkdir -p "$demo/etc/app" "$demo/bin"
[ -f "$demo/etc/app/app.conf" ] || printf 'listen=0.0.0.0:8080\nlog_level=info\n' > "$demo/etc/app/app.conf"
[ -f "$demo/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/bash\n' > "$demo/etc/passwd"
[ -f "$demo/bin/tool" ] || { printf '#!/bin/sh\necho tool\n' > "$demo/bin/tool"; chmod 755 "$demo/bin/tool"; }

agent=$(bash scripts/build-agent.sh)
watch=("$agent" watch "$PWD/$demo" --state "$PWD/$demo-state" --key-file "$PWD/.cache/demo-key/baseline.key")

if [[ "${CI:-}" != "true" && -t 0 && -t 1 ]]; then
  cat >&2 <<MSG
Watching $PWD/$demo. Try, in another terminal:
  echo 'log_level=debug' >> $PWD/$demo/etc/app/app.conf
  chmod 4755 $PWD/$demo/bin/tool
  rm $PWD/$demo/etc/passwd
Ctrl-C stops; the next start reports what changed while it was stopped.
MSG
  exec "${watch[@]}" "$@"
fi

# No terminal: the same demonstration, scripted, each wait bounded.
work=$(mktemp -d /tmp/fim-demo.XXXXXX)
pid=""
# TERM, not INT: a background job of a non-interactive shell starts with SIGINT ignored.
stop_agent() {
  if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
}
trap 'stop_agent; rm -rf "$work"' EXIT

wait_for() { # wait_for SECONDS WHAT COMMAND...
  local seconds=$1 what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "demo: no $what within $seconds s; agent log:" >&2; cat "$work/agent.log" >&2; exit 1
    fi
    sleep 0.2
  done
}
# One line per alert: level, kind, path, changed attributes, rule (a line in another shape is shown as is).
show() {
  sed -E 's/.*"rule":\{"id":"[^"]*","level":([0-9]+),"description":"([^"]*)".*"path":"([^"]*)","kind":"([^"]*)","changed":\[([^]]*)\].*/  level \1  \4  \3  [\5]  \2/' "$1" | tr -d '"'
}
ready() { grep -q 'realtime detection' "$work/agent.log"; }
alerted() { grep -q "\"path\":\"$PWD/$demo/$1\"" "$work/alerts.jsonl"; }

start_agent() {
  : > "$work/alerts.jsonl"; : > "$work/agent.log"
  "${watch[@]}" --json "$@" > "$work/alerts.jsonl" 2> "$work/agent.log" &
  pid=$!
  wait_for 120 "agent start" ready
}

echo "demo: watching $PWD/$demo (no terminal: making the changes myself)"
start_agent "$@"
echo 'log_level=debug' >> "$demo/etc/app/app.conf"
if [ -u "$demo/bin/tool" ]; then chmod 755 "$demo/bin/tool"; else chmod 4755 "$demo/bin/tool"; fi
rm "$demo/etc/passwd"
for p in etc/app/app.conf bin/tool etc/passwd; do wait_for 30 "alert for $p" alerted "$p"; done
stop_agent
echo "demo: alerts while watching:"
show "$work/alerts.jsonl"

echo "demo: agent stopped; recreating etc/passwd, then starting it again"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$demo/etc/passwd"
start_agent "$@"
wait_for 30 "alert for etc/passwd at start" alerted etc/passwd
stop_agent
echo "demo: reported at start (changed while stopped):"
show "$work/alerts.jsonl"
echo "demo: done"
