#!/usr/bin/env bash
# Installs Kubernetes schema validators from npm into .cache/k8s-models/ (git-ignored; K8S_MODELS_DIR elsewhere).
# Idempotent: does nothing when the pinned versions are present.
#   kubernetes-models: validators generated from the Kubernetes OpenAPI schemas of every built-in kind; the
#     Kubernetes API double (tests/Fim.Testing.KubeApi) validates every built-in object it is sent with them.
#   @kubernetes-models/prometheus-operator: PrometheusRule, ServiceMonitor, PodMonitor (the chart's monitoring).
#   @kubernetes-models/keda: ScaledObject, TriggerAuthentication (the pools' KEDA autoscaling).
# scripts/validate-k8s-models.mjs runs them (strictly: undeclared fields are errors).
# No registry reachable here ships Velero's CRDs; tests that need them skip (see tests/Fim.Deploy.Tests).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${K8S_MODELS_DIR:-$root/.cache/k8s-models}"
packages=("kubernetes-models@5.1.0" "@kubernetes-models/prometheus-operator@6.0.0" "@kubernetes-models/keda@2.0.0")

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
