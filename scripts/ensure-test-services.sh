#!/usr/bin/env bash
# Make sure the real services the tests start privately are installed.
# As root on Debian/Ubuntu the missing packages are installed with apt-get;
# anywhere else a clear message says what to install.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
# tests/deploy: Debian's Compose (the version docs/operations.md names) and promtool.
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# tests/deploy/test_caddy.py: the reverse proxy of docker-compose.yml, run for real.
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
# tests/oidc: the single sign-on tests run a real OpenID provider on Node.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ -z "${WERKPLEK_TEST_DATABASE_URL:-}" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
    || missing+=(postgresql)
fi

# The provider (npm package oidc-provider) comes from tests/oidc's lock file; skipped
# while node_modules is newer than the lock file (npm ci rewrites it on every install).
install_oidc_provider() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/oidc"
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  echo "Installed tests/oidc/node_modules (oidc-provider)"
}

# Lighthouse 12.2.3 (tests/e2e/test_signage_lighthouse.py) from tests/lighthouse's lock file,
# the same way; it drives Debian's Chromium (CHROME_PATH), never a downloaded one.
install_lighthouse() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/lighthouse"
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  echo "Installed tests/lighthouse/node_modules (lighthouse)"
}

if [ ${#missing[@]} -eq 0 ]; then
  install_oidc_provider
  install_lighthouse
  exit 0
fi

echo "Test services missing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
  install_oidc_provider
  install_lighthouse
else
  echo "Install them with your package manager (Debian: sudo apt-get install ${missing[*]})," >&2
  echo "or run 'make test' as root on Debian so it can install them itself." >&2
  exit 1
fi
