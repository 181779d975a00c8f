#!/usr/bin/env bash
# Publishes fim-agent ReadyToRun (precompiled, so a short scan does not spend its time in the JIT)
# into .cache/agent and prints the path of the dll. Idempotent; quiet unless it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/agent
dotnet publish src/Fim.Agent -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$out" -v q -nologo >/dev/null
echo "$PWD/$out/fim-agent.dll"
