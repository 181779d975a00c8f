#!/usr/bin/env bash
# Publishes one of the programs that ship as single native binaries and prints the path of what to run. Idempotent;
# quiet unless it fails. Called as scripts/build-agent.sh and scripts/build-fimctl.sh (PROGRAM is agent or fimctl):
#   publish-native.sh PROGRAM          native AOT, trimmed (what ships): .cache/PROGRAM-aot/<binary>
#   publish-native.sh PROGRAM --jit    ReadyToRun on the shared runtime (the development build): .cache/PROGRAM/<binary>.dll
# Optional: --rid linux-arm64 (AOT for another architecture needs that target's native toolchain and sysroot).
set -euo pipefail
cd "$(dirname "$0")/.."
program="${1:?publish-native: name the program (agent or fimctl)}"; shift
case "$program" in
  agent) project=src/Fim.Agent binary=fim-agent ;;
  fimctl) project=src/Fim.Ctl binary=fimctl ;;
  *) echo "publish-native: unknown program '$program' (agent, fimctl)" >&2; exit 2 ;;
esac
mode=aot rid=linux-x64
while (($#)); do
  case "$1" in
    --jit) mode=jit; shift ;;
    --aot) mode=aot; shift ;;
    --rid) rid="${2:?--rid needs a runtime identifier}"; shift 2 ;;
    *) echo "build-$program: unknown argument '$1' (--aot, --jit, --rid RID)" >&2; exit 2 ;;
  esac
done
log=$(mktemp); trap 'rm -f "$log"' EXIT
# publish ARGS...: quiet on success, the build's own output on failure.
publish() { dotnet publish "$project" -c Release -r "$rid" -v q -nologo "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }; }
if [[ "$mode" == jit ]]; then
  out=".cache/$program"
  publish --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true -o "$out"
  echo "$PWD/$out/$binary.dll"
else
  out=".cache/$program-aot"
  [[ "$rid" == linux-x64 ]] || out=".cache/$program-aot-$rid"
  # The native link takes minutes on a busy machine: skip it when no source is newer than the binary.
  if [[ ! -x "$out/$binary" ]] || [[ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$out/$binary" -type f \
        -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
    publish -o "$out"
  fi
  echo "$PWD/$out/$binary"
fi
