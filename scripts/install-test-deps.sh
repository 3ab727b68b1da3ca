#!/usr/bin/env bash
# Installs what the tests need on Debian: PostgreSQL (the server the
# PostgreSQL backend's tests start privately; scripts/lib/postgres.sh),
# Chromium from Debian's packages and
# Garage (an S3-compatible object store, the evidence tests' storage; built
# from crates.io with cargo, about 15 minutes once, then kept in cargo's bin
# folder), the Node packages of e2e/ (Playwright's core, without its own browser
# download, and axe-core) for the browser tests; Python's venv module for the
# independent proof check (scripts/independent-verify.sh installs sigstore
# into its own virtual environment). Safe to run again: it skips what is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
fc-list 2>/dev/null | grep -qi "vazirmatn\|noto sans arabic" || need_apt+=(fonts-noto-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${need_apt[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d e2e/node_modules/playwright-core ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  echo "Installing the browser tests' Node packages"
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

. scripts/lib/garage.sh
if ! garage --version 2>/dev/null | grep -q "$GARAGE_VERSION"; then
  echo "Building Garage $GARAGE_VERSION from crates.io (once; about 15 minutes on 2 cores)"
  cargo install garage --version "$GARAGE_VERSION" --locked --quiet
fi
