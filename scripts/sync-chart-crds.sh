#!/usr/bin/env bash
# Copies the CRDs generated from the operator's C# types (crds/, see docs/operator.md) into the Helm chart
# (charts/fim/crds/). Fim.Deploy.Tests fails when the two differ; run this after regenerating crds/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shopt -s nullglob
src=("$root"/crds/*.yaml)
(( ${#src[@]} )) || { echo "sync-chart-crds: no CRDs in $root/crds" >&2; exit 1; }
rm -f "$root"/charts/fim/crds/*.yaml
cp "${src[@]}" "$root/charts/fim/crds/"
echo "sync-chart-crds: copied ${#src[@]} CRD(s) to charts/fim/crds/"
