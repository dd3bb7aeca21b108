#!/usr/bin/env bash
# Install JupyterHub's proxy, configurable-http-proxy, at the version pinned in proxy/package.json
# (and every dependency at the version in proxy/package-lock.json) into proxy/node_modules, with
# `npm ci`. Needs Node.js >= 20 and npm (Debian: `apt-get install nodejs npm`, or NodeSource's
# packages); no root. A second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/proxy"
proxy=node_modules/.bin/configurable-http-proxy
wanted=$(node -p 'require("./package.json").dependencies["configurable-http-proxy"]' 2>/dev/null || true)
if [ -x "$proxy" ] && [ "$("$proxy" --version 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "install-proxy: Node.js and npm are not installed (Debian: apt-get install nodejs npm); the hub cannot start without its proxy" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "install-proxy: configurable-http-proxy $wanted needs Node.js 20 or newer, found $(node --version)" >&2
  exit 1
fi
echo "install-proxy: installing configurable-http-proxy $wanted into $(pwd)/node_modules"
npm ci --omit=dev --no-audit --no-fund --loglevel=error
"$proxy" --version >/dev/null
