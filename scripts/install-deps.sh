#!/usr/bin/env bash
# Installs what the tests and benchmarks need, idempotently: AIDE (the oracle and speed peer), rsyslog with its GnuTLS
# driver (the syslog sink's receiver in tests),
# nats-server, promtool, inotify-tools, chromium (the console's browser tests), setpriv, clang, bpftool and libbpf-dev (the agent's eBPF process table), rpm
# (apt, skipped when everything is present), the
# Kubernetes, prometheus-operator and KEDA schema validators from npm into .cache/k8s-models
# (scripts/fetch-k8s-models.sh; the Kubernetes API double validates built-in objects with them), and the
# OpenID Connect provider the manager's login tests run (npm oidc-provider into .cache/oidc-provider).
set -euo pipefail

need=()
command -v aide >/dev/null 2>&1 || need+=(aide)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v inotifywait >/dev/null 2>&1 || need+=(inotify-tools)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v sha256sum >/dev/null 2>&1 || need+=(coreutils)
# The agent's eBPF process table (who-data) is compiled at build time: clang -target bpf, bpftool for vmlinux.h,
# libbpf's headers; libbpf1 is what the agent loads it with at run time.
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || need+=(bpftool)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
# Package awareness tests build and query a test rpm database (dpkg-deb comes with dpkg).
{ command -v rpm >/dev/null 2>&1 && command -v rpmbuild >/dev/null 2>&1; } || need+=(rpm)
# The alert store's PostgreSQL tests and benchmarks start their own server from these binaries (never the system service).
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
# The syslog sink's tests start their own rsyslogd (never the system service) with a TLS listener (the gtls driver).
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need+=(rsyslog-gnutls)
# The web console's browser tests (Fim.Console.Tests) drive Debian's chromium through Playwright; Playwright's own
# browser download cannot reach its servers here.
[ -x /usr/bin/chromium ] || need+=(chromium)

if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # Installing prometheus must not start a server here; policy-rc.d keeps service starts off.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK (dotnet) is required and not on PATH" >&2
  exit 1
fi

# The API double's schema validation and the chart's schema tests need them: without them the double warns and
# accepts unvalidated objects, and the tests that need them fail (SchemaValidationTests) or skip, saying so.
if ! bash "$(dirname "${BASH_SOURCE[0]}")/fetch-k8s-models.sh" >/dev/null; then
  echo "install-deps: Kubernetes schema validators (npm kubernetes-models, @kubernetes-models/*) NOT installed" >&2
fi

# The manager's authentication tests need a real OpenID Connect provider; without it they fail and say why.
if ! bash "$(dirname "${BASH_SOURCE[0]}")/fetch-oidc-provider.sh" >/dev/null; then
  echo "install-deps: oidc-provider (npm) not installed into .cache/oidc-provider; the manager's authentication tests will fail" >&2
fi
