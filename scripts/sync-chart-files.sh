#!/usr/bin/env bash
# Copies into the Helm chart what it must carry but other parts own (Helm reads only files inside the chart):
#   crds/*.yaml                          -> charts/fim/crds/        (generated from the operator's C# types)
#   deploy/nats/authorization.conf.tmpl  -> charts/fim/files/nats/  (the connected-mode NATS permissions template)
# Fim.Deploy.Tests fails when a copy differs from its source; run this after changing a source.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shopt -s nullglob
src=("$root"/crds/*.yaml)
(( ${#src[@]} )) || { echo "sync-chart-files: no CRDs in $root/crds" >&2; exit 1; }
rm -f "$root"/charts/fim/crds/*.yaml
cp "${src[@]}" "$root/charts/fim/crds/"
echo "sync-chart-files: copied ${#src[@]} CRD(s) to charts/fim/crds/"
tmpl="$root/deploy/nats/authorization.conf.tmpl"
if [[ -f "$tmpl" ]]; then
  mkdir -p "$root/charts/fim/files/nats"
  cp "$tmpl" "$root/charts/fim/files/nats/authorization.conf.tmpl"
  echo "sync-chart-files: copied deploy/nats/authorization.conf.tmpl to charts/fim/files/nats/"
else
  echo "sync-chart-files: deploy/nats/authorization.conf.tmpl not in this tree yet; kept the chart's copy"
fi
