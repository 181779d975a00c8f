#!/usr/bin/env bash
# README command one: builds the agent and watches a demo directory in real time, standalone
# (embedded baseline store, no server). Change a file under .cache/demo/etc in another terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=.cache/demo
mkdir -p "$demo/etc/app" "$demo/bin"
[ -f "$demo/etc/app/app.conf" ] || printf 'listen=0.0.0.0:8080\nlog_level=info\n' > "$demo/etc/app/app.conf"
[ -f "$demo/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/bash\n' > "$demo/etc/passwd"
[ -f "$demo/bin/tool" ] || { printf '#!/bin/sh\necho tool\n' > "$demo/bin/tool"; chmod 755 "$demo/bin/tool"; }

agent=$(bash scripts/build-agent.sh)
cat >&2 <<MSG
Watching $PWD/$demo. Try, in another terminal:
  echo 'log_level=debug' >> $PWD/$demo/etc/app/app.conf
  chmod 4755 $PWD/$demo/bin/tool
  rm $PWD/$demo/etc/passwd
Ctrl-C stops; the next start reports what changed while it was stopped.
MSG
exec dotnet "$agent" watch "$PWD/$demo" \
  --state "$PWD/$demo-state" --key-file "$PWD/.cache/demo-key/baseline.key" "$@"
