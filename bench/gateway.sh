#!/usr/bin/env bash
# Reference gateway benchmark: proxied throughput and added latency, measured with wrk.
#
# What it runs: `loadgate gateway` (1 gateway process) with the built-in config,
# except a JWT rate limit so high that it never rejects (the APISIX way: price
# the plugins, not their rejections). The request is an authenticated GET,
# `GET /v1/orders/100123` with a JWT from the gateway's own token endpoint: it
# goes through routing, JWT verification (cached per token), the rate limiter,
# metrics, Server-Timing and a keep-alive upstream pool to the commerce upstream
# (uncached route). The baseline is the same request sent straight to that
# upstream instance, in the same run, on the same machine.
#
# Pinning: with 2+ CPUs the gateway process is pinned to CPU 0 and the upstream
# process and wrk to CPU 1, so "proxied req/s" is what one core of gateway
# does. The gateway's own CPU time per request is read from /proc.
#
# Added latency: this Debian wrk has no -R (fixed rate), so the fixed-rate run
# paces itself with a Lua delay(): C connections each wait C/RATE seconds after
# every response, which gives a little under RATE req/s (the rate achieved is
# printed). Added p50 = gateway p50 - direct-upstream p50, both measured this
# way at the same rate, so the wrk client's and the loopback's share cancels.
#
# Usage: bash bench/gateway.sh   (env: DURATION_S=10 CONNECTIONS=32 RATE=500)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
DURATION_S=${DURATION_S:-10}
CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-500}
PACED_CONNECTIONS=5
PATH_UNDER_TEST=/v1/orders/100123

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
gateway_pid=""
cleanup() {
    if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then
        kill -TERM "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json_field() { "$BIN/python" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

cat > "$work/bench.toml" <<'EOF'
[rate_limit]
jwt = { rate_per_s = 1000000000, burst = 1000000000 }
EOF

# Prints one machine-readable line at the end; paces requests when WRK_DELAY_MS is set.
cat > "$work/stats.lua" <<'EOF'
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay() return delay_ms end
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end
EOF

port=$(free_port); admin_port=$(free_port)
"$BIN/loadgate" gateway --port "$port" --admin-port "$admin_port" --config "$work/bench.toml" \
    > "$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$admin_port/health" >/dev/null 2>&1 && break
    sleep 0.1
done
health=$(curl -sf "http://127.0.0.1:$admin_port/health") || { cat "$work/gateway.log" >&2; exit 1; }
worker_pid=$(echo "$health" | json_field 'd["pids"]["gateway"][0]')
upstream_pid=$(echo "$health" | json_field 'd["pids"]["upstreams"]')
direct=$(echo "$health" | json_field 'd["upstreams"]["commerce"][0]')
token=$(curl -sf "http://127.0.0.1:$port/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"client_id":"web-frontend","client_secret":"test-client-secret","audience":"commerce-api","grant_type":"password","username":"loadtest_user_1@example.com","password":"P@ssw0rd123!"}' \
    | json_field 'd["access_token"]')
auth="Authorization: Bearer $token"

wrk_cpus=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    taskset -pc 0 "$worker_pid" >/dev/null
    taskset -pc 1 "$upstream_pid" >/dev/null
    wrk_cpus="taskset -c 1"
fi

# run_wrk CONNECTIONS DELAY_MS URL -> the RESULT line
run_wrk() {
    WRK_DELAY_MS=$2 $wrk_cpus wrk -t1 -c"$1" -d"${DURATION_S}s" -H "$auth" -s "$work/stats.lua" "$3" \
        | grep '^RESULT'
}
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
rate() { awk -v r="$(field "$1" requests)" -v d="$(field "$1" duration_us)" 'BEGIN {printf "%.0f", r / (d / 1e6)}'; }

echo "warming up..."
WRK_DELAY_MS=0 $wrk_cpus wrk -t1 -c"$CONNECTIONS" -d2s -H "$auth" "http://127.0.0.1:$port$PATH_UNDER_TEST" >/dev/null
WRK_DELAY_MS=0 $wrk_cpus wrk -t1 -c"$CONNECTIONS" -d2s "$direct$PATH_UNDER_TEST" >/dev/null

ticks_before=$(cpu_ticks "$worker_pid")
proxied=$(run_wrk "$CONNECTIONS" 0 "http://127.0.0.1:$port$PATH_UNDER_TEST")
ticks_after=$(cpu_ticks "$worker_pid")
baseline=$(run_wrk "$CONNECTIONS" 0 "$direct$PATH_UNDER_TEST")

delay_ms=$(awk -v c="$PACED_CONNECTIONS" -v r="$RATE" 'BEGIN {printf "%.3f", c * 1000 / r}')
paced_proxied=$(run_wrk "$PACED_CONNECTIONS" "$delay_ms" "http://127.0.0.1:$port$PATH_UNDER_TEST")
paced_direct=$(run_wrk "$PACED_CONNECTIONS" "$delay_ms" "$direct$PATH_UNDER_TEST")

cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" \
    -v n="$(field "$proxied" requests)" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
added_us=$(( $(field "$paced_proxied" p50_us) - $(field "$paced_direct" p50_us) ))

echo
echo "loadgate gateway benchmark: GET $PATH_UNDER_TEST with a JWT, ${DURATION_S}s per run"
echo "  cpus: $(nproc)$( [ -n "$wrk_cpus" ] && echo ', gateway pinned to cpu 0, upstream and wrk to cpu 1')"
printf '  proxied throughput      %7s req/s  (%d connections, p50 %s us, p99 %s us, errors %s, gateway cpu %s us/request)\n' \
    "$(rate "$proxied")" "$CONNECTIONS" "$(field "$proxied" p50_us)" "$(field "$proxied" p99_us)" \
    "$(field "$proxied" errors)" "$cpu_us"
printf '  direct upstream         %7s req/s  (%d connections, p50 %s us, p99 %s us, errors %s)\n' \
    "$(rate "$baseline")" "$CONNECTIONS" "$(field "$baseline" p50_us)" "$(field "$baseline" p99_us)" \
    "$(field "$baseline" errors)"
printf '  paced via gateway       %7s req/s  p50 %s us, p99 %s us\n' "$(rate "$paced_proxied")" \
    "$(field "$paced_proxied" p50_us)" "$(field "$paced_proxied" p99_us)"
printf '  paced direct upstream   %7s req/s  p50 %s us, p99 %s us\n' "$(rate "$paced_direct")" \
    "$(field "$paced_direct" p50_us)" "$(field "$paced_direct" p99_us)"
printf '  added latency at ~%s req/s: p50 %s us\n' "$RATE" "$added_us"
