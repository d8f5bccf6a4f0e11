#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Relay CPU under CAF scheduler settings (issue 13: "a scheduler that does not spin"): for each variant,
# the relay's CPU while idle (no users, IDLE_SEC) and per chat message at RATE msg/s to USERS users in
# one room for POINT_SEC, with the load average beside each figure. LOAD=amqp (default): the users are
# chat-bench's AMQP clients (C++, cheap: on 2 cores 100 Node STOMP clients would take more CPU than the
# relay and the broker; the relay's work per chat is the same whichever way clients reach the broker);
# LOAD=browser: bench/browser's STOMP-over-WebSocket users (relay target).
#
#   bench/run-scheduler.sh      # writes bench/results/<date>-scheduler/{report.md,results.json}, updates LATEST.md
#
# Variants run in turn, ROUNDS times (ABC ABC: noise from other work on the machine hits all of them).
# Environment (defaults): RELAY=build/chat-relayd  BENCH=build/bench/chat-bench  LOAD=amqp  IDLE_SEC=30  RATE=200  USERS=100  POINT_SEC=10
#   ROUNDS=1  BENCH_HTTP=127.0.0.1:18097  VARIANTS (one per line, flags for the relay; "default" = none)
#   RMQ_* as for scripts/broker.sh (the broker must be running, or is started and stopped here)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RELAY="${RELAY:-$root/build/chat-relayd}"
BENCH="${BENCH:-$root/build/bench/chat-bench}"
LOAD="${LOAD:-amqp}"
IDLE_SEC="${IDLE_SEC:-30}"
RATE="${RATE:-200}"
USERS="${USERS:-100}"
POINT_SEC="${POINT_SEC:-10}"
ROUNDS="${ROUNDS:-1}"
BENCH_HTTP="${BENCH_HTTP:-127.0.0.1:18097}"
VARIANTS="${VARIANTS:-default
--scheduler.policy=stealing --scheduler.max-threads=4
--scheduler.policy=stealing --scheduler.max-threads=2 --work-stealing.aggressive-poll-attempts=1 --work-stealing.moderate-poll-attempts=0
--scheduler.policy=sharing --scheduler.max-threads=4
--scheduler.policy=sharing --scheduler.max-threads=2}"

# shellcheck source=../scripts/lib/rabbitmq.sh
. "$root/scripts/lib/rabbitmq.sh"
rmq_defaults
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
log() { printf '[run-scheduler %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ -x "$RELAY" ]] || die "relay binary $RELAY missing"
if [[ "$LOAD" == browser ]]; then
  [[ -d "$root/bench/browser/node_modules" ]] || (cd "$root/bench/browser" && npm ci --no-audit --no-fund >/dev/null)
else
  [[ -x "$BENCH" ]] || die "chat-bench $BENCH missing: cmake --build build -j2 --target chat-bench"
fi

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
out="$root/bench/results/$stamp-scheduler"
mkdir -p "$out/raw"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_start_broker 1
bench_relay_ini "$out/relay.ini" bench-scheduler warning


n=0
for round in $(seq "$ROUNDS"); do
  while IFS= read -r variant; do
    [[ -n "$variant" ]] || continue
    n=$((n + 1))
    flags=""
    [[ "$variant" == default ]] || flags="$variant"
    # shellcheck disable=SC2086  # flags is a list
    bench_start_relay "$out/relay.ini" "$out/relay.log" $flags
    threads="$(find "/proc/$relay_pid/task" -mindepth 1 -maxdepth 1 | wc -l)"
    sleep 3   # start-up work (declarations, first timers) is not idle
    l0="$(cut -d' ' -f1 /proc/loadavg)"
    c0="$(bench_cpu_ticks "$relay_pid")"
    sleep "$IDLE_SEC"
    c1="$(bench_cpu_ticks "$relay_pid")"
    l1="$(cut -d' ' -f1 /proc/loadavg)"
    idle_pct="$(awk -v a="$c0" -v b="$c1" -v s="$IDLE_SEC" 'BEGIN { printf "%.2f", (b - a) / s }')"   # ticks are 10 ms
    log "[$variant] idle: ${idle_pct}% of a core over ${IDLE_SEC}s (load $l0 -> $l1), $threads threads"
    if [[ "$LOAD" == browser ]]; then
      node "$root/bench/browser/bench.mjs" --target relay --users "$USERS" --senders 10 --rates "$RATE" \
        --point-sec "$POINT_SEC" --no-flat --ws-url "ws://127.0.0.1:$RMQ_WS_PORT/ws" \
        --cpu-pid "broker:$broker_pid" --cpu-pid "relay:$relay_pid" --json "$out/raw/$n.json" 2>>"$out/bench.log" || true
      point='(.targets[0].points[0] // null)'
    else
      lb="$(cut -d' ' -f1 /proc/loadavg)"
      "$BENCH" --mode relay --amqp "127.0.0.1:$RMQ_AMQP_PORT" --users "$USERS" --senders 10 \
        --messages "$((RATE * POINT_SEC))" --rate "$RATE" --json --cpu-pid "broker:$broker_pid" \
        --cpu-pid "relay:$relay_pid" >"$out/raw/$n.json" 2>>"$out/bench.log" || true
      la="$(cut -d' ' -f1 /proc/loadavg)"
      # the same shape as a bench/browser point
      point="{deliveries_per_s, latency_ms, missing, chats_sent: $((RATE * POINT_SEC)), loadavg_1m: {before: $lb, after: $la},
        cpu: {relay: {us_per_chat: ((.cpu.relay.cpu_s // 0) * 1e6 / $((RATE * POINT_SEC))), cpu_s: .cpu.relay.cpu_s, core_share: ((.cpu.relay.cpu_s // 0) / $POINT_SEC)},
              broker: {us_per_delivery: ((.cpu.broker.cpu_s // 0) * 1e6 / ((.deliveries // .unique_deliveries // 1)))}}}"
    fi
    jq -c --arg v "$variant" --argjson r "$round" --argjson idle "$idle_pct" --argjson l0 "$l0" --argjson l1 "$l1" \
      --argjson th "$threads" \
      "{variant:\$v, round:\$r, threads:\$th, idle_pct_of_core:\$idle, idle_loadavg_1m:{before:\$l0, after:\$l1},
        point:$point}" "$out/raw/$n.json" >"$out/raw/$n.summary.json" 2>/dev/null ||
      echo "{\"variant\":\"$variant\",\"round\":$round,\"idle_pct_of_core\":$idle_pct,\"point\":null}" >"$out/raw/$n.summary.json"
    log "[$variant] $RATE msg/s: $(jq -r '.point | "relay \(.cpu.relay.us_per_chat) us/chat, p99 \(.latency_ms.p99) ms, missing \(.missing), load \(.loadavg_1m.after)"' "$out/raw/$n.summary.json")"
    bench_stop_relay
    sleep 2
  done <<<"$VARIANTS"
done
jq -s . "$out"/raw/*.summary.json >"$out/results.json"
{
  echo "# Relay CPU by CAF scheduler setting, $stamp"
  echo
  echo "Idle: relay with no users, ${IDLE_SEC} s, after 3 s of start-up. Load: $USERS users in one room ($LOAD clients:"
  echo "chat-bench over AMQP or bench/browser over web-stomp), 10 senders, $RATE msg/s for ${POINT_SEC} s. CPU from /proc/PID/stat (10 ms ticks)."
  echo "Machine: $(nproc) cores shared with other work: compare the rows (same run), with the load average beside them."
  echo
  echo "| variant | round | relay threads | idle % of a core | load 1m (idle) | relay µs CPU/chat at $RATE msg/s | relay cores | p50 ms | p99 ms | missing | broker µs/delivery | load 1m (run) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  jq -r 'def r(d): if . == null then "-" else (. * d | round / d | tostring) end;
    .[] | "| `\(.variant)` | \(.round) | \(.threads // "-") | \(.idle_pct_of_core) | \(.idle_loadavg_1m.after // "-") | \(.point.cpu.relay.us_per_chat | r(1)) | \(.point.cpu.relay.core_share | r(1000)) | \(.point.latency_ms.p50 | r(10)) | \(.point.latency_ms.p99 | r(10)) | \(.point.missing // "-") | \(.point.cpu.broker.us_per_delivery | r(10)) | \(.point.loadavg_1m.after // "-") |"' "$out/results.json"
} >"$out/report.md"
python3 "$root/bench/browser/report.py" --latest "$root/bench/results/LATEST.md" "$out" "$stamp-scheduler" \
  scheduler "Relay CPU by scheduler setting (bench/run-scheduler.sh)"
cat "$out/report.md"
