#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The browser-path benchmark (issue 13): 100 users in one room over STOMP/WebSocket (web-stomp), three
# targets measured in one run on one machine, see bench/README.md ("Browser path"):
#   relay  through chat-relayd (what the web client does)
#   topic  the broker's own fan-out over web-stomp, no relay (/topic anchor)
#   sio    a Socket.IO 4 server on Node (reference)
# For each: an open-loop rate sweep (highest send rate with p99 <= 50 ms and nothing lost, duplicated
# or reordered) and a flat-out point; CPU per delivery of the broker, the relay and the Socket.IO server.
#
#   bench/run-browser.sh        # writes bench/results/<date>-browser/ and updates bench/results/LATEST.md
#
# Starts the private broker with scripts/broker.sh if it is not running (stops it at the end only then)
# and build/chat-relayd with its own config (stopped by PID). Environment (defaults):
#   RELAY=build/chat-relayd  RELAY_ARGS="" (extra relay flags, e.g. --scheduler.policy=stealing)
#   BENCH_HTTP=127.0.0.1:18097 (relay's HTTP)  SIO_PORT=18197  TARGETS=relay,topic,sio
#   USERS=100 SENDERS=10 WORKERS=2 RATES=100,200,400,700,1000,1500,2000,3000,5000
#   POINT_SEC=5 FLAT_SEC=5 WINDOW=20 P99_MS=50 BATCH=0 (1: logins ask for "batch": true)
#   TIME_LIMIT=900 (seconds for the whole sweep)  LATEST=1 (0: leave bench/results/LATEST.md alone)
#   TAG="" (appended to the results directory's name)  OUT="" (the results directory instead)
#   RMQ_* as for scripts/broker.sh
#   (RMQ_WS_COMPRESS=true: the broker this script starts offers WebSocket compression)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RELAY="${RELAY:-$root/build/chat-relayd}"
RELAY_ARGS="${RELAY_ARGS:-}"
BENCH_HTTP="${BENCH_HTTP:-127.0.0.1:18097}"
SIO_PORT="${SIO_PORT:-18197}"
TARGETS="${TARGETS:-relay,topic,sio}"
USERS="${USERS:-100}"
SENDERS="${SENDERS:-10}"
WORKERS="${WORKERS:-2}"
RATES="${RATES:-100,200,400,700,1000,1500,2000,3000,5000}"
POINT_SEC="${POINT_SEC:-5}"
FLAT_SEC="${FLAT_SEC:-5}"
WINDOW="${WINDOW:-20}"
P99_MS="${P99_MS:-50}"
BATCH="${BATCH:-0}"
TIME_LIMIT="${TIME_LIMIT:-900}"

# shellcheck source=../scripts/lib/rabbitmq.sh
. "$root/scripts/lib/rabbitmq.sh"
rmq_defaults
# shellcheck source=lib.sh
. "$root/bench/lib.sh"

log() { printf '[run-browser %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x "$RELAY" ]] || die "relay binary $RELAY missing: cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2 --target chat-relayd"
if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$(dirname "$RELAY")/CMakeCache.txt" 2>/dev/null; then
  log "WARNING: $RELAY is a Debug build; numbers will not be representative"
fi
if [[ ! -d "$root/bench/browser/node_modules" ]]; then
  log "installing the load client's packages (npm ci)"
  (cd "$root/bench/browser" && npm ci --no-audit --no-fund >/dev/null)
fi

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
out="${OUT:-$root/bench/results/$stamp-browser${TAG:+-$TAG}}"
mkdir -p "$out"
log "results in $out"

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_start_broker 1
log "broker $RMQ_NODE beam.smp pid $broker_pid (open files $(awk '/Max open files/ {print $4}' "/proc/$broker_pid/limits")), ws port $RMQ_WS_PORT"
# stale chats of an earlier run would only be counted as noise
for q in login chat; do rmq_ctl purge_queue -q "$q" >/dev/null 2>&1 || true; done

bench_relay_ini "$out/relay.ini" bench-browser info
# shellcheck disable=SC2086  # RELAY_ARGS is a list of flags
bench_start_relay "$out/relay.ini" "$out/relay.log" $RELAY_ARGS
# shellcheck disable=SC2086
"$RELAY" --config-file="$out/relay.ini" $RELAY_ARGS --dump-config 2>/dev/null | sed -n '/^scheduler/,/^[a-z]/p' >"$out/scheduler.txt" || true

extra=()
[[ "$BATCH" == 1 ]] && extra+=(--batch)
log "sweep: targets $TARGETS, $USERS users, $SENDERS senders, rates $RATES (${POINT_SEC}s each), flat ${FLAT_SEC}s"
rc=0
timeout "$TIME_LIMIT" node "$root/bench/browser/bench.mjs" --target "$TARGETS" --users "$USERS" --senders "$SENDERS" \
  --workers "$WORKERS" --rates "$RATES" --point-sec "$POINT_SEC" --flat-sec "$FLAT_SEC" --window "$WINDOW" \
  --p99-limit-ms "$P99_MS" --ws-url "ws://127.0.0.1:$RMQ_WS_PORT/ws" --sio-port "$SIO_PORT" \
  --cpu-pid "broker:$broker_pid" --cpu-pid "relay:$relay_pid" --json "$out/results.json" "${extra[@]}" \
  2> >(tee "$out/bench.log" >&2) || rc=$?
[[ -s "$out/results.json" ]] || die "the load client wrote no results (exit $rc), see $out/bench.log"
relay_alive=yes
kill -0 "$relay_pid" 2>/dev/null || relay_alive=no

git_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
python3 "$root/bench/browser/report.py" "$out" "$stamp" "$git_rev" "$relay_alive" "$(nproc)" "$RELAY_ARGS"
gnuplot "$out/plot.gp" || log "gnuplot failed"
if [[ "${LATEST:-1}" == 1 ]]; then
  python3 "$root/bench/browser/report.py" --latest "$root/bench/results/LATEST.md" "$out" "$(basename "$out")"
fi
log "report: $out/report.md"
cat "$out/report.md"
