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
# tests/satellite: network namespaces, veth links and packet loss (as root).
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
if [ -z "${WERKPLEK_TEST_DATABASE_URL:-}" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
    || missing+=(postgresql)
fi

# npm packages the tests run, each from its folder's lock file: tests/oidc's oidc-provider
# (the single sign-on tests' OpenID provider) and tests/lighthouse's Lighthouse 12.2.3
# (tests/e2e/test_signage_lighthouse.py; it drives Debian's Chromium via CHROME_PATH, never
# a downloaded one). Skipped while node_modules is newer than the lock file (npm ci
# rewrites it on every install).
npm_ci_once() {  # <folder under tests/> <package named in the message>
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/$1"
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  echo "Installed tests/$1/node_modules ($2)"
}

install_npm_packages() {  # both at once; either failing fails the script
  local a b
  npm_ci_once oidc oidc-provider & a=$!
  npm_ci_once lighthouse lighthouse & b=$!
  wait "$a"
  wait "$b"
}

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

echo "Test services missing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
  install_npm_packages
else
  echo "Install them with your package manager (Debian: sudo apt-get install ${missing[*]})," >&2
  echo "or run 'make test' as root on Debian so it can install them itself." >&2
  exit 1
fi
