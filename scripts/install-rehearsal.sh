#!/usr/bin/env bash
# Install rehearsal without a cluster: the chart rendered by the real helm and applied by the real kubectl to the
# Kubernetes API double (tests/Fim.Testing.KubeApi; every built-in object the chart and the operator write is validated
# against its Kubernetes schema: scripts/fetch-k8s-models.sh), a real nats-server with JetStream, and the operator run
# locally against both. Passes when the default FimManagerPool's Deployment/Service/PDB/ServiceAccount and its SQLite
# claim appear (the default store: one manager, no HPA; autoscaling needs store.backend=postgres) and the sample FimPolicy reports Accepted=True with a published revision.
#
#   scripts/install-rehearsal.sh --operator <fim-operator executable or fim-operator.dll> [--timeout 120] [--keep]
#   scripts/install-rehearsal.sh --no-operator    # only render + apply (checks the API objects are accepted)
#
# Every process it starts is stopped by its PID on exit. Exit code 0 = rehearsal passed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

operator="" timeout=120 keep=0 no_operator=0
while (($#)); do
  case "$1" in
    --operator) operator="${2:-}"; shift 2 ;;
    --timeout) timeout="${2:-}"; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-operator) no_operator=1; shift ;;
    *) echo "usage: $0 --operator PATH | --no-operator [--timeout S] [--keep]" >&2; exit 2 ;;
  esac
done
[[ "$timeout" =~ ^[0-9]+$ ]] || { echo "--timeout: seconds" >&2; exit 2; }
if ((!no_operator)); then
  [[ -n "$operator" && -e "$operator" ]] || { echo "install-rehearsal: --operator PATH (fim-operator or fim-operator.dll) is required" >&2; exit 2; }
fi

bash scripts/fetch-k8s-models.sh >/dev/null
eval "$(bash scripts/fetch-kube-tools.sh | grep -E '^(KUBECTL|HELM)=/')"
work="$(mktemp -d /tmp/fim-rehearsal.XXXXXX)"
pids=()
cleanup() {
  # newest first: the operator stops before the API server and NATS it talks to
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((keep)); then echo "install-rehearsal: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "install-rehearsal: FAILED waiting for $what" >&2; return 1; fi
    sleep 1
  done
  echo "install-rehearsal: ok - $what"
}

# 1. The API double and NATS.
api_port="$(free_port)"; nats_port="$(free_port)"
kc="$work/kubeconfig"
dotnet build tests/Fim.Testing.KubeApi -c Release -v q -nologo >/dev/null
dotnet tests/Fim.Testing.KubeApi/bin/Release/net10.0/Fim.Testing.KubeApi.dll --port "$api_port" --kubeconfig "$kc" --schema-validation required >"$work/kubeapi.log" 2>&1 &
pids+=($!)
mkdir -p "$work/js"
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/js" >"$work/nats.log" 2>&1 &
pids+=($!)
k() { "$KUBECTL" --kubeconfig "$kc" "$@"; }
wait_for 60 "API double answers" k get namespaces

# 2. CRDs (ours, and stand-ins for prometheus-operator's so the monitors apply), namespace, chart.
k create namespace fim
k apply -f charts/fim/crds/
k apply -f tests/Fim.Deploy.Tests/Fixtures/prometheus-operator-crds.stand-in.yaml >/dev/null
wait_for 30 "CRDs established" k wait --for=condition=Established crd/fimpolicies.fim.io crd/fimmanagerpools.fim.io --timeout=5s
"$HELM" template fim charts/fim --namespace fim \
  --set nats.external.url="nats://127.0.0.1:$nats_port" \
  > "$work/rendered.yaml"
k apply -f "$work/rendered.yaml"
k -n fim get deployments,daemonsets,serviceaccounts,networkpolicies,fimmanagerpools

if ((no_operator)); then
  k apply -f charts/fim/examples/fimpolicy-pci.yaml
  k -n fim get fimpolicies
  echo "install-rehearsal: PASSED (render + apply; operator not run)"
  exit 0
fi

# 3. The operator, run the way the chart runs it (docs/operator.md: `fim-operator run` flags; Lease in $POD_NAMESPACE).
run=("$operator"); [[ "$operator" == *.dll ]] && run=(dotnet "$operator")
POD_NAMESPACE=fim "${run[@]}" run --kubeconfig "$kc" --nats-url "nats://127.0.0.1:$nats_port" --metrics-port "$(free_port)" \
  >"$work/operator.log" 2>&1 &
pids+=($!)

# 4. The sample policy and what should follow.
k apply -f charts/fim/examples/fimpolicy-pci.yaml
pool=fim-managers
wait_for "$timeout" "Lease fim-operator held" k -n fim get lease fim-operator
for kind in deployment service persistentvolumeclaim poddisruptionbudget serviceaccount; do
  wait_for "$timeout" "$kind/$pool created by the operator" k -n fim get "$kind" "$pool"
done
accepted() { [[ "$(k -n fim get fimpolicy pci-critical-system-files -o 'jsonpath={.status.conditions[?(@.type=="Accepted")].status}')" == "True" ]]; }
published() { [[ -n "$(k -n fim get fimpolicy pci-critical-system-files -o 'jsonpath={.status.publishedRevision}')" ]]; }
wait_for "$timeout" "FimPolicy Accepted=True" accepted
wait_for "$timeout" "FimPolicy revision published to KV fim-policies" published
k -n fim get fimpolicies
k -n fim get fimmanagerpools
echo "install-rehearsal: PASSED"
