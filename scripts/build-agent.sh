#!/usr/bin/env bash
# Publishes fim-agent and prints the path of what to run. Idempotent; quiet unless it fails.
#   scripts/build-agent.sh          native AOT, trimmed (what the image and the host install ship): .cache/agent-aot/fim-agent
#   scripts/build-agent.sh --jit    ReadyToRun on the shared runtime (the development build): .cache/agent/fim-agent.dll
# Optional: --rid linux-arm64 (AOT for another architecture needs that target's native toolchain and sysroot).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=aot rid=linux-x64
while (($#)); do
  case "$1" in
    --jit) mode=jit; shift ;;
    --aot) mode=aot; shift ;;
    --rid) rid="${2:?--rid needs a runtime identifier}"; shift 2 ;;
    *) echo "build-agent: unknown argument '$1' (--aot, --jit, --rid RID)" >&2; exit 2 ;;
  esac
done
if [[ "$mode" == jit ]]; then
  out=.cache/agent
  dotnet publish src/Fim.Agent -c Release -r "$rid" --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true \
    -o "$out" -v q -nologo >/dev/null
  echo "$PWD/$out/fim-agent.dll"
else
  out=.cache/agent-aot
  [[ "$rid" == linux-x64 ]] || out=".cache/agent-aot-$rid"
  dotnet publish src/Fim.Agent -c Release -r "$rid" -o "$out" -v q -nologo >/dev/null
  echo "$PWD/$out/fim-agent"
fi
