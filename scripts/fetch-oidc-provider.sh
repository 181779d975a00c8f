#!/usr/bin/env bash
# Installs oidc-provider (a certified OpenID Connect provider, 9.x) from npm into .cache/oidc-provider/ (git-ignored).
# The manager's authentication tests run tests/oidc/provider.mjs with it on 127.0.0.1 and log in through it.
# Idempotent: does nothing when the pinned version is present.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${OIDC_PROVIDER_DIR:-$root/.cache/oidc-provider}"
package="oidc-provider@9.13.3"

installed() {
  grep -q "\"version\": \"${package##*@}\"" "$dest/node_modules/oidc-provider/package.json" 2>/dev/null
}

mkdir -p "$dest"
exec 9>"$dest/.lock"
flock 9

if ! installed; then
  for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "fetch-oidc-provider: '$tool' is required" >&2; exit 1; }
  done
  [ -f "$dest/package.json" ] || echo '{ "private": true, "type": "module" }' > "$dest/package.json"
  npm install --prefix "$dest" --no-audit --no-fund --loglevel=error "$package" >/dev/null
  installed || { echo "fetch-oidc-provider: $package did not install" >&2; exit 1; }
fi
echo "OIDC_PROVIDER=$dest"
