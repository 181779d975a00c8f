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
log=$(mktemp); trap 'rm -f "$log"' EXIT
# publish ARGS...: quiet on success, the build's own output on failure.
publish() { dotnet publish src/Fim.Agent -c Release -r "$rid" -v q -nologo "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }; }
if [[ "$mode" == jit ]]; then
  out=.cache/agent
  publish --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true -o "$out"
  echo "$PWD/$out/fim-agent.dll"
else
  out=.cache/agent-aot
  [[ "$rid" == linux-x64 ]] || out=".cache/agent-aot-$rid"
  # The native link takes minutes on a busy machine: skip it when no source is newer than the binary.
  if [[ ! -x "$out/fim-agent" ]] || [[ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$out/fim-agent" -type f \
        -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
    publish -o "$out"
  fi
  echo "$PWD/$out/fim-agent"
fi
