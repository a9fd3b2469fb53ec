#!/usr/bin/env bash
# Started by peers.sh (pinned to one CPU, ORIGIN_PORT and GATEWAY_PORT set): one
# event loop proxying every path to the origin, in the foreground.
#
# PLUGIN=key-auth puts the bundled key-auth plugin on the route with peers.sh's
# consumers, doing what the nginx-lua and haproxy-lua rows do: read `apikey`, 401
# when unknown, X-Consumer-Username to the upstream.
set -euo pipefail
config=$(mktemp /tmp/moongate-peers-XXXXXX.yaml)
plugins=""
consumers=""
if [[ ${PLUGIN:-} == key-auth ]]; then
    plugins='    plugins: [{ name: key-auth }]'
    consumers='consumers:'
    for pair in alice:key-alice-123 bob:key-bob-456 carol:key-carol-789 dave:key-dave-000; do
        consumers+=$'\n'"  - { username: ${pair%%:*}, credentials: { key-auth: [{ key: ${pair#*:} }] } }"
    done
fi
cat > "$config" <<YAML
proxy:
  listen: ["127.0.0.1:${GATEWAY_PORT}"]
  workers: 1
${consumers}
upstreams:
  - name: origin
    targets: [{ address: "127.0.0.1:${ORIGIN_PORT}" }]
routes:
  - name: all
    match: { paths: ["/"] }
    upstream: origin
${plugins}
YAML
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.build/release/moongate" run -c "$config"
