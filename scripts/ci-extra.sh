#!/usr/bin/env bash
# Extra CI checks, run by .ci/run after `npm test`:
#   OpenTelemetry 3.x compatibility: a host on @opentelemetry/sdk-metrics 3.x (API 1.10) under
#   Node 22 (the 3.x line needs Node >= 22.15) receives the metrics of our built @tierkv/core and
#   @tierkv/storage, which depend on the API only. Node and the SDK are installed from the npm
#   registry into a temporary directory, never into the workspace.
# Env: TIERKV_COMPAT_NODE (default 22; 24 works too).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
node_major="${TIERKV_COMPAT_NODE:-22}"

work="$(mktemp -d "${TMPDIR:-/tmp}/tierkv-compat-sdk3.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "-- building @tierkv/core and @tierkv/storage (no-op when up to date)"
npx --no-install tsc -b packages/core packages/storage

# npm install with one retry: a registry hiccup should not fail CI.
npm_install() {
  npm install "$@" || { echo "   npm install failed; retrying once" >&2; sleep 5; npm install "$@"; }
}

# The `node` package only downloads this platform package in an install script; take it directly.
platform="$(node -p 'process.platform + "-" + process.arch')"
echo "-- installing Node ${node_major} (node-${platform}) and the 3.x SDK into ${work}"
npm_install --prefix "$work/node" --no-save --no-package-lock --no-fund --no-audit --loglevel=error "node-${platform}@${node_major}" >/dev/null
host_node="$work/node/node_modules/node-${platform}/bin/node"
[ -x "$host_node" ] || { echo "node-${platform}@${node_major} has no bin/node" >&2; exit 1; }
echo "   host node: $("$host_node" --version)"

mkdir -p "$work/host"
cp scripts/compat-sdk3/package.json scripts/compat-sdk3/host.mjs "$work/host/"
npm_install --prefix "$work/host" --no-package-lock --no-fund --no-audit --loglevel=error >/dev/null

echo "-- a 3.x SDK host receives tierkv's metrics"
(cd "$work/host" && timeout 120 "$host_node" host.mjs "$repo")
echo "-- compatibility check passed"
