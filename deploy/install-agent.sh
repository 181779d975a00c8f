#!/usr/bin/env bash
# Installs fim-agent as a hardened systemd service on a host outside Kubernetes. Idempotent: re-running with the
# same arguments changes nothing; with new arguments it updates the config and restarts the agent.
#
#   sudo deploy/install-agent.sh --from ./fim-agent-publish --nats-url tls://fim-nats.example.com:4222 \
#       --ca-file ca.crt --cert-file host.crt --key-file host.key [--agent-id web-01] [--label env=prod]...
#
# --from      directory with the published agent: the native AOT executable fim-agent
#             (dotnet publish src/Fim.Agent -c Release -r linux-x64 -o DIR, or scripts/build-agent.sh); no .NET runtime
#             is needed on the host. A JIT publish (with fim-agent.dll) still works where the .NET 10 runtime is installed.
# --nats-url  the NATS servers the managers consume from (nats:// or tls://, comma-separated).
# --ca-file / --cert-file / --key-file   TLS: CA of the NATS servers and this host's client certificate, whose DNS
#             SAN is <agentId>.agents.fim (see docs/agent-connected.md, `fim-agent nats-authz`).
# --root DIR  install below DIR instead of / and do not touch systemd (for tests and image builds).
# --no-start  install and enable, but do not (re)start.
#
# Every argument is validated against a strict pattern and written as data; nothing from the command line is
# ever evaluated by a shell. The HMAC key that seals the baselines is created once and never replaced.
set -euo pipefail
umask 077

die() { echo "install-agent: $*" >&2; exit 2; }

from="" nats_url="" ca="" cert="" key="" agent_id="" root="" start=1
labels=()
while (($#)); do
  case "$1" in
    --from) from="${2:-}"; shift 2 ;;
    --nats-url) nats_url="${2:-}"; shift 2 ;;
    --ca-file) ca="${2:-}"; shift 2 ;;
    --cert-file) cert="${2:-}"; shift 2 ;;
    --key-file) key="${2:-}"; shift 2 ;;
    --agent-id) agent_id="${2:-}"; shift 2 ;;
    --label) labels+=("${2:-}"); shift 2 ;;
    --root) root="${2:-}"; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

from="${from%/}"
[[ -n "$from" && -f "$from/fim-agent" ]] || die "--from must be a directory holding a published fim-agent (the native executable fim-agent)"
[[ "$nats_url" =~ ^(nats|tls)://[A-Za-z0-9.-]+(:[0-9]{1,5})?(,(nats|tls)://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$ ]] \
  || die "--nats-url '$nats_url' is not a NATS URL list (nats://host:port or tls://host:port, comma-separated)"
[[ -z "$agent_id" || "$agent_id" =~ ^[a-z0-9_-]{1,128}$ ]] || die "--agent-id '$agent_id': lower-case letters, digits, '-' and '_' only"
for l in "${labels[@]}"; do
  [[ "$l" =~ ^[A-Za-z0-9._/-]{1,253}=[A-Za-z0-9._-]{0,63}$ ]] || die "--label '$l' is not key=value (letters, digits, . _ - /)"
done
if [[ -n "$ca$cert$key" ]]; then
  for f in "$ca" "$cert" "$key"; do
    [[ -n "$f" && -f "$f" ]] || die "TLS needs all of --ca-file, --cert-file and --key-file as readable files"
  done
fi
if [[ -z "$root" && "$(id -u)" -ne 0 ]]; then
  die "run as root (or use --root DIR)"
fi

prefix="${root%/}"
opt="$prefix/opt/fim-agent"
etc="$prefix/etc/fim-agent"
state="$prefix/var/lib/fim-agent"
unit_dir="$prefix/etc/systemd/system"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
changed=0

# install_file SRC DEST MODE: copies when the content or mode differs; counts changes.
install_file() {
  if [[ -f "$2" ]] && cmp -s "$1" "$2" && [[ "$(stat -c %a "$2")" == "$3" ]]; then
    return 0
  fi
  install -D -m "$3" "$1" "$2"
  changed=1
  echo "install-agent: wrote $2"
}

mkdir -p "$opt" "$etc" "$state" "$unit_dir"
chmod 0755 "$opt"; chmod 0750 "$etc"; chmod 0700 "$state"

# 1. The agent's files (only what differs), then drop files the new version no longer has.
while IFS= read -r -d '' f; do
  rel="${f#"$from"/}"
  mode=644
  [[ "$rel" == "fim-agent" ]] && mode=755
  install_file "$f" "$opt/$rel" "$mode"
done < <(find "$from" -type f -print0)
while IFS= read -r -d '' f; do
  rel="${f#"$opt"/}"
  if [[ ! -f "$from/$rel" ]]; then rm -f -- "$f"; changed=1; echo "install-agent: removed $f"; fi
done < <(find "$opt" -type f -print0)

# 2. The HMAC key sealing the baselines: created once, outside the state directory, never replaced.
if [[ ! -s "$etc/hmac.key" ]]; then
  head -c 32 /dev/urandom > "$etc/hmac.key.tmp"
  chmod 0400 "$etc/hmac.key.tmp"
  mv "$etc/hmac.key.tmp" "$etc/hmac.key"
  changed=1
  echo "install-agent: created the baseline key $etc/hmac.key"
fi

# 3. TLS material for NATS.
if [[ -n "$ca" ]]; then
  install_file "$ca" "$etc/nats/ca.crt" 644
  install_file "$cert" "$etc/nats/tls.crt" 644
  install_file "$key" "$etc/nats/tls.key" 400
fi

# 4. The configuration (docs/agent-connected.md). Values were validated above; they are written quoted.
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
{
  echo "# Written by deploy/install-agent.sh; re-run it to change these settings."
  if [[ -n "$agent_id" ]]; then printf 'agentId: "%s"\n' "$agent_id"; fi
  echo "nats:"
  printf '  url: "%s"\n' "$nats_url"
  if [[ -n "$ca" ]]; then
    echo "  tls:"
    echo "    caFile: /etc/fim-agent/nats/ca.crt"
    echo "    certFile: /etc/fim-agent/nats/tls.crt"
    echo "    keyFile: /etc/fim-agent/nats/tls.key"
  fi
  echo "stateDir: /var/lib/fim-agent"
  echo "keyFile: /etc/fim-agent/hmac.key"
  if ((${#labels[@]})); then
    echo "labels:"
    for l in "${labels[@]}"; do printf '  "%s": "%s"\n' "${l%%=*}" "${l#*=}"; done
  fi
} > "$tmp"
install_file "$tmp" "$etc/agent.yaml" 640

# 5. The unit.
install_file "$here/systemd/fim-agent.service" "$unit_dir/fim-agent.service" 644

if [[ -n "$root" ]]; then
  echo "install-agent: installed below $root ($([[ $changed -eq 1 ]] && echo changed || echo unchanged)); systemd not touched"
  exit 0
fi
command -v systemctl >/dev/null || die "systemctl not found: start /opt/fim-agent/fim-agent run --config /etc/fim-agent/agent.yaml yourself"
systemctl daemon-reload
systemctl enable fim-agent.service >/dev/null
if ((start)); then
  if ((changed)); then systemctl restart fim-agent.service; else systemctl start fim-agent.service; fi
fi
echo "install-agent: fim-agent $([[ $changed -eq 1 ]] && echo installed/updated || echo unchanged); systemctl status fim-agent"
