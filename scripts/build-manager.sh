#!/usr/bin/env bash
# Publishes fim-manager (Release, on the shared .NET runtime, the console's assets in wwwroot) into .cache/manager and
# prints the path of fim-manager.dll; run it from that folder (its content root, where wwwroot is). Idempotent and quiet
# unless it fails: skipped when no source is newer than the published dll.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/manager
dll="$out/fim-manager.dll"
if [[ ! -f "$dll" ]] || [[ -n "$(find src protos Directory.Build.props Directory.Packages.props -newer "$dll" -type f \
      -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
  log=$(mktemp); trap 'rm -f "$log"' EXIT
  dotnet publish src/Fim.Manager -c Release -v q -nologo -o "$out" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # publish keeps the dll's build time: mark the moment it was published, which the check above compares with.
  touch "$dll"
fi
echo "$PWD/$dll"
