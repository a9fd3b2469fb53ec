#!/usr/bin/env bash
# Chaos run for balancing and resilience (issue 5; not part of CI):
#
#     scripts/chaos.sh            # ~1 min: a steady 20 s run, then a 20 s chaos run
#     DURATION=30 CONNECTIONS=64 scripts/chaos.sh
#     KEEP=1 scripts/chaos.sh     # keep the work directory (wrk output, gateway log)
#
# Three origins (nginx, one process each) behind the gateway. A steady run measures
# p99 with all three up; the chaos run kills one origin (SIGKILL) every 5 s and starts
# it again 2 s later, while wrk keeps GETs flowing. Reports the success rate (a
# request fails when it gets a non-2xx answer or a socket error) and p50/p99 of both
# runs. The gateway retries (connect-failure, reset, timeout, 502, 503), ejects a
# target after one failure and probes every 500 ms. The retry budget is 100%: when one
# of three targets dies, the requests in flight to it, and those that meet its dead
# pooled connections before it is ejected, need retries at once: up to half of the
# requests in flight here. A budget below that answers some of them 502 (the budget
# did its job: it caps retries); BUDGET_PERCENT=20 or 50 shows it.
#
# Needs nginx and wrk (apt-get install -y nginx wrk); installs nothing else.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
for tool in nginx wrk; do
    command -v "$tool" >/dev/null || { echo "chaos: '$tool' is needed (apt-get install -y nginx wrk)" >&2; exit 1; }
done
swift build -c release --product moongate >/dev/null

DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}
GATEWAY_PORT=${GATEWAY_PORT:-19100}
ORIGIN_PORTS=(19101 19102 19103)
work=$(mktemp -d /tmp/moongate-chaos-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}" ${victim_pid:-}; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "chaos: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# One nginx origin in the foreground, single process (killing it kills it all).
start_origin() {
    local port=$1 dir="$work/origin-$1"
    mkdir -p "$dir"
    cat > "$dir/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "hello from $port\n"; }
    }
}
NGINX
    nginx -c "$dir/nginx.conf" -p "$dir" >/dev/null 2>&1 &
    echo $!
}

for port in "${ORIGIN_PORTS[@]}"; do pids+=("$(start_origin "$port")"); done
victim_pid=${pids[2]}
pids=("${pids[@]:0:2}")

cat > "$work/moongate.yaml" <<YAML
proxy:
  listen: ["127.0.0.1:$GATEWAY_PORT"]
  workers: 1
upstreams:
  - name: origins
    targets:
      - { address: "127.0.0.1:${ORIGIN_PORTS[0]}" }
      - { address: "127.0.0.1:${ORIGIN_PORTS[1]}" }
      - { address: "127.0.0.1:${ORIGIN_PORTS[2]}" }
    timeouts: { connect: 500ms, read: 5s, write: 5s }
    retries: { attempts: 2, retry_on: [connect-failure, reset, timeout, 502, 503], per_try_timeout: 2s, backoff: 5ms, budget_percent: ${BUDGET_PERCENT:-100} }
    health:
      active: { path: /, interval: 500ms, timeout: 250ms, healthy_after: 1, unhealthy_after: 1 }
      passive: { failures: 1, ejection: 2s, max_ejection_percent: 50 }
routes:
  - name: all
    match: { paths: ["/"] }
    upstream: origins
YAML
.build/release/moongate run -c "$work/moongate.yaml" >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$GATEWAY_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
# Warm-up (connections, pools).
wrk -t1 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$GATEWAY_PORT/" >/dev/null

# Prints "requests failures p50 p99" from wrk's --latency output.
summarize() {
    awk '
        /requests in/ { total = $1 }
        /Non-2xx or 3xx responses/ { non2xx = $5 }
        /Socket errors/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        END { printf "%d %d %s %s\n", total, non2xx + errors, p50, p99 }
    ' "$1"
}

echo "steady: ${DURATION}s, ${CONNECTIONS} connections, 3 origins up" >&2
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$GATEWAY_PORT/" >"$work/steady.txt"

echo "chaos: ${DURATION}s, origin ${ORIGIN_PORTS[2]} killed every 5 s and restarted 2 s later" >&2
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$GATEWAY_PORT/" >"$work/chaos.txt" &
wrk_pid=$!
kills=0
elapsed=0
while [ $((elapsed + 5)) -le "$DURATION" ]; do
    sleep 3
    kill -9 "$victim_pid" 2>/dev/null || true
    wait "$victim_pid" 2>/dev/null || true
    kills=$((kills + 1))
    sleep 2
    victim_pid=$(start_origin "${ORIGIN_PORTS[2]}")
    elapsed=$((elapsed + 5))
done
wait "$wrk_pid"

read -r steady_total steady_failed steady_p50 steady_p99 < <(summarize "$work/steady.txt")
read -r chaos_total chaos_failed chaos_p50 chaos_p99 < <(summarize "$work/chaos.txt")
ratio() { awk -v a="$1" -v b="$2" 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    BEGIN { printf "%.2f", ms(a) / ms(b) }'; }
success() { awk -v t="$1" -v f="$2" 'BEGIN { printf "%.4f%%", t ? 100 * (t - f) / t : 0 }'; }
printf '\n%-8s %10s %8s %10s %9s %9s\n' run requests failed success p50 p99
printf '%-8s %10s %8s %10s %9s %9s\n' steady "$steady_total" "$steady_failed" "$(success "$steady_total" "$steady_failed")" "$steady_p50" "$steady_p99"
printf '%-8s %10s %8s %10s %9s %9s\n' chaos "$chaos_total" "$chaos_failed" "$(success "$chaos_total" "$chaos_failed")" "$chaos_p50" "$chaos_p99"
printf '\norigin kills: %d; p99 chaos/steady: %sx (bar: <= 2x); success bar: 100%%\n' "$kills" "$(ratio "$chaos_p99" "$steady_p99")"
echo "gateway log lines about targets:" >&2
grep -cE "ejected|readmitted|unhealthy|healthy" "$work/gateway.log" >&2 || true
