#!/usr/bin/env bash
# Extra CI checks, run by .ci/run after `npm test`:
#   The host matrix (scripts/host-matrix/run.mjs): every publishable package packed and installed
#   into a fresh app on Node 22 and on Node 24 with the OpenTelemetry 3.x SDK (sdk-node, sdk-metrics)
#   and @opentelemetry/api 1.10; the full metric set must arrive from startTelemetry(), from
#   `tierkv demo`, and from the host's own NodeSDK started before and after tierkv's modules.
#   Node binaries come from the npm registry (node-<platform>-<arch>) and are cached in
#   ~/.cache/tierkv/node (TIERKV_NODE_CACHE); under CI=true a Node that cannot be had is a failure.
# Env: TIERKV_HOST_MATRIX_NODES (default 22,24).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "-- host matrix: packed tarballs in a fresh app, Node ${TIERKV_HOST_MATRIX_NODES:-22,24}, OpenTelemetry SDK 3.x"
node scripts/host-matrix/run.mjs --node "${TIERKV_HOST_MATRIX_NODES:-22,24}"
echo "-- host matrix passed"
