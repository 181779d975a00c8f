#!/usr/bin/env bash
# Installs the schema validators of the third-party custom resources the chart renders, from npm, into
# .cache/k8s-models/ (git-ignored). Idempotent: does nothing when the pinned versions are present.
# @kubernetes-models/prometheus-operator: validators generated from prometheus-operator's API types
# (PrometheusRule, ServiceMonitor, PodMonitor); scripts/validate-k8s-models.mjs runs them.
# No registry reachable here ships Velero's CRDs; tests that need them skip (see tests/Fim.Deploy.Tests).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${K8S_MODELS_DIR:-$root/.cache/k8s-models}"
packages=("@kubernetes-models/prometheus-operator@6.0.0")

installed() { # installed NAME@VERSION
  local name="${1%@*}" version="${1##*@}"
  grep -q "\"version\": \"$version\"" "$dest/node_modules/$name/package.json" 2>/dev/null
}

mkdir -p "$dest"
# Serialise concurrent installs (parallel test runs) on a lock file.
exec 9>"$dest/.lock"
flock 9

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "fetch-k8s-models: '$tool' is required" >&2; exit 1; }
  done
  [ -f "$dest/package.json" ] || echo '{ "private": true }' > "$dest/package.json"
  npm install --prefix "$dest" --no-audit --no-fund --loglevel=error "${missing[@]}" >/dev/null
  for p in "${missing[@]}"; do installed "$p" || { echo "fetch-k8s-models: $p did not install" >&2; exit 1; }; done
fi
echo "K8S_MODELS=$dest"
