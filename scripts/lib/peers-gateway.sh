#!/usr/bin/env bash
# Started by peers.sh (pinned to one CPU, ORIGIN_PORT and GATEWAY_PORT set): one
# event loop proxying every path to the origin, in the foreground.
set -euo pipefail
config=$(mktemp /tmp/moongate-peers-XXXXXX.yaml)
cat > "$config" <<YAML
proxy:
  listen: ["127.0.0.1:${GATEWAY_PORT}"]
  workers: 1
upstreams:
  - name: origin
    targets: [{ address: "127.0.0.1:${ORIGIN_PORT}" }]
routes:
  - name: all
    match: { paths: ["/"] }
    upstream: origin
YAML
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.build/release/moongate" run -c "$config"
