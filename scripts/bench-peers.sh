#!/usr/bin/env bash
# Side-by-side benchmark: Moongate beside nginx, nginx+Lua and HAProxy, in one run of
# the team's peers.sh (../shared/bench/peers.sh; see its README for prerequisites).
#
#     scripts/bench-peers.sh                      # ~7 min
#     ROUNDS=5 PEERS="nginx nginx-lua" scripts/bench-peers.sh
#     PLUGIN=key-auth PEERS="nginx nginx-lua haproxy-lua" scripts/bench-peers.sh
#                                                 # the bundled key-auth on the route
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
swift build -c release --product moongate
PEERS_SH=${PEERS_SH:-../shared/bench/peers.sh}
export GATEWAY_CMD="$PWD/scripts/lib/peers-gateway.sh"
export GATEWAY_PORT=${GATEWAY_PORT:-18105}
export GATEWAY_NAME=${GATEWAY_NAME:-moongate${PLUGIN:+-$PLUGIN}}
export PLUGIN=${PLUGIN:-}
exec "$PEERS_SH"
