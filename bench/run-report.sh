#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Issue 13's benchmark report in ONE run: every target row with its anchor beside it, and the profiles that
# show what bounds a missed target. See bench/README.md ("run-report.sh").
#
#   bench/run-report.sh        # 11-13 minutes here (at most ~25); writes bench/results/<date>-report/ and updates LATEST.md
#
# In order, on one broker (started fresh here unless it runs; stopped at the end only then):
#   1. cpu/      relay CPU idle (IDLE_SEC) and per chat message at 200 msg/s x 100 users, AMQP seed clients
#                (chat-bench) and browser clients with batching (bench/browser), each point measured
#                without a profiler, then again under `perf record -g` (profile-*.txt: bench/profile.py's
#                summary and perf's own top symbols), with context switches per chat message per thread
#   2. browser/  bench/run-browser.sh with BATCH=1: relay, web-stomp /topic and Socket.IO, rate sweep
#                (highest rate with p99 <= 50 ms) and flat out, CPU of every process per point
#   3. amqp/     bench/run-matrix.sh with BATCH_RUNS=1: direct (the broker's own fan-out), relay with seed
#                consumers and relay with batching consumers at N = 10, 100, 1000 flat out; 200 msg/s x 100
#                users direct vs relay (relay-added p99); 10,000 logins on a fresh relay, then again with
#                relay.deliveries=transient (non-durable user queues)
# then report.md (bench/targets.py) with the targets table, copied into LATEST.md between the `report`
# markers. Every point checks nothing lost, duplicated or reordered.
# Environment (defaults): RELAY=build/chat-relayd  BENCH=build/bench/chat-bench  IDLE_SEC=30  RATE=200
#   POINT_SEC=10  PROFILE_SEC=8  LATEST=1  RMQ_* as for scripts/broker.sh; the relays' HTTP addresses
#   BENCH_HTTP=127.0.0.1:18117 (section 1)  BROWSER_HTTP=127.0.0.1:18127  MATRIX_HTTP=127.0.0.1:18137, SIO_PORT=18207;
#   BROWSER_ENV / MATRIX_ENV: extra VAR=value words for the two scripts (e.g. BROWSER_ENV="RATES=200,400")
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RELAY="${RELAY:-$root/build/chat-relayd}"
BENCH="${BENCH:-$root/build/bench/chat-bench}"
IDLE_SEC="${IDLE_SEC:-30}"
RATE="${RATE:-200}"
POINT_SEC="${POINT_SEC:-10}"
PROFILE_SEC="${PROFILE_SEC:-8}"
BENCH_HTTP="${BENCH_HTTP:-127.0.0.1:18117}"
BROWSER_HTTP="${BROWSER_HTTP:-127.0.0.1:18127}"
MATRIX_HTTP="${MATRIX_HTTP:-127.0.0.1:18137}"
SIO_PORT="${SIO_PORT:-18207}"
PERF="${PERF:-/usr/bin/perf}"

# shellcheck source=../scripts/lib/rabbitmq.sh
. "$root/scripts/lib/rabbitmq.sh"
rmq_defaults
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
log() { printf '[run-report %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x "$RELAY" ]] || die "relay binary $RELAY missing: cmake --build build -j2 --target chat-relayd chat-bench"
[[ -x "$BENCH" ]] || die "chat-bench $BENCH missing: cmake --build build -j2 --target chat-bench"
[[ -x "$PERF" ]] || die "perf ($PERF) missing: apt-get install linux-perf"
[[ -d "$root/bench/browser/node_modules" ]] || (cd "$root/bench/browser" && npm ci --no-audit --no-fund >/dev/null)

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
out="$root/bench/results/$stamp-report"
mkdir -p "$out/cpu"
log "results in $out"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
t0="$(date +%s)"
echo "{\"start\": {\"time\": \"$(date -u +%FT%TZ)\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}," >"$out/run.json"
bench_start_broker 1

# --- 1. relay CPU: idle and per chat message ---------------------------------------------------------
# per thread of the relay: "tid name voluntary+nonvoluntary context switches"
switches() {
  local t
  for t in /proc/"$relay_pid"/task/*; do
    echo "${t##*/} $(cat "$t/comm") $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status")"
  done
}

# cpu_point NAME PROFILE(0|1) READY LOADGEN...: runs the load generator in the background, measures the relay
# over POINT_SEC (perf record over PROFILE_SEC instead when PROFILE=1) from 2 s after the load generator's
# stderr matched READY (its users are logged in; "" = 6 s after the start), and writes cpu/NAME.json
cpu_point() {
  local name="$1" profile="$2" ready="$3"
  shift 3
  "$@" >"$out/cpu/$name.out" 2>"$out/cpu/$name.err" &
  local load_pid=$! sec="$POINT_SEC"
  if [[ -n "$ready" ]]; then
    for _ in $(seq 600); do grep -q -- "$ready" "$out/cpu/$name.err" && break; sleep 0.1; done
    sleep 2
  else
    sleep 6
  fi
  [[ "$profile" == 1 ]] && sec="$PROFILE_SEC"
  switches >"$out/cpu/$name.switches0"
  local c0 c1 l0 l1
  c0="$(bench_cpu_ticks "$relay_pid")"
  l0="$(cut -d' ' -f1 /proc/loadavg)"
  if [[ "$profile" == 1 ]]; then
    "$PERF" record -F 999 -g -p "$relay_pid" -o "$out/cpu/$name.perf.data" -- sleep "$sec" 2>>"$out/cpu/$name.err"
  else
    sleep "$sec"
  fi
  c1="$(bench_cpu_ticks "$relay_pid")"
  l1="$(cut -d' ' -f1 /proc/loadavg)"
  switches >"$out/cpu/$name.switches1"
  local rc=0
  wait "$load_pid" || rc=$?
  # context switches per chat message, per thread (threads with at least 0.1 per chat)
  local chats=$((RATE * sec))
  join "$out/cpu/$name.switches0" "$out/cpu/$name.switches1" |
    awk -v c="$chats" '{ d = ($5 - $3) / c; if (d >= 0.1) { printf "%s%s %s: %.1f", sep, $2, $1, d; sep = "; " } }' \
      >"$out/cpu/$name.switches"
  local total
  total="$(join "$out/cpu/$name.switches0" "$out/cpu/$name.switches1" | awk -v c="$chats" '{ n += $5 - $3 } END { printf "%.1f", n / c }')"
  rm -f "$out/cpu/$name.switches0" "$out/cpu/$name.switches1"
  jq -n --arg name "$name" --argjson profile "$profile" --argjson ticks "$((c1 - c0))" --argjson sec "$sec" \
    --argjson rate "$RATE" --argjson rc "$rc" --argjson l0 "$l0" --argjson l1 "$l1" --argjson sw "$total" \
    --arg threads "$(cat "$out/cpu/$name.switches")" \
    '{name: $name, profiled: ($profile == 1), seconds: $sec, rate: $rate, exit_code: $rc,
      relay_cpu_s: ($ticks / 100), us_per_chat: ($ticks * 10000 / ($sec * $rate)),
      core_share: ($ticks / 100 / $sec), switches_per_chat: $sw, switches_by_thread: $threads,
      loadavg_1m: {before: $l0, after: $l1}}' >"$out/cpu/$name.json"
  if [[ "$profile" == 1 ]]; then
    {
      echo "# perf record -F 999 -g -p <relay> for ${sec} s at $RATE msg/s x 100 users ($name); load $l0 -> $l1"
      echo "# relay CPU in the window: $((c1 - c0)) ticks of 10 ms; context switches per chat message: $total ($(cat "$out/cpu/$name.switches"))"
      echo
      python3 "$root/bench/profile.py" "$out/cpu/$name.perf.data" 20
      echo
      echo "# perf report --no-children --stdio --sort comm,sym -g none (top 40 lines)"
      "$PERF" report -i "$out/cpu/$name.perf.data" --no-children --stdio --sort comm,sym -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | cut -c1-180 | head -40 || true   # head closes the pipe early
    } >"$out/cpu/profile-$name.txt"
    rm -f "$out/cpu/$name.perf.data"   # large; the summary is what the report uses
  fi
  log "  $name: $(jq -r '"relay \(.us_per_chat) us/chat (\(.core_share) cores), \(.switches_per_chat) switches/chat, exit \(.exit_code)"' "$out/cpu/$name.json")"
}

amqp_load() {
  "$BENCH" --mode relay --amqp "127.0.0.1:$RMQ_AMQP_PORT" --users 100 --senders 10 \
    --messages "$((RATE * (POINT_SEC + 10)))" --rate "$RATE" --json --cpu-pid "relay:$relay_pid" --timeout 60
}
browser_load() {
  node "$root/bench/browser/bench.mjs" --target relay --batch --users 100 --senders 10 --rates "$RATE" \
    --point-sec "$((POINT_SEC + 4))" --warmup-sec 0 --no-flat --ws-url "ws://127.0.0.1:$RMQ_WS_PORT/ws" \
    --cpu-pid "relay:$relay_pid" --json /dev/stdout
}

log "1. relay CPU: idle ${IDLE_SEC} s, then $RATE msg/s x 100 users (AMQP seed, browser with batching)"
bench_relay_ini "$out/cpu/relay.ini" bench-report warning
bench_start_relay "$out/cpu/relay.ini" "$out/cpu/relay.log"
sleep 3 # start-up work is not idle
i0="$(bench_cpu_ticks "$relay_pid")"
il0="$(cut -d' ' -f1 /proc/loadavg)"
sleep "$IDLE_SEC"
i1="$(bench_cpu_ticks "$relay_pid")"
jq -n --argjson t "$((i1 - i0))" --argjson s "$IDLE_SEC" --argjson l0 "$il0" --argjson l1 "$(cut -d' ' -f1 /proc/loadavg)" \
  '{idle_pct_of_core: ($t / $s), seconds: $s, loadavg_1m: {before: $l0, after: $l1}}' >"$out/cpu/idle.json"
log "  idle: $(jq .idle_pct_of_core "$out/cpu/idle.json")% of a core"
# the browser load client logs in through the relay too: the AMQP points first, each user set logs out
cpu_point amqp-seed 0 "" amqp_load
cpu_point amqp-seed-profiled 1 "" amqp_load
cpu_point browser-batch 0 "ready=" browser_load
cpu_point browser-batch-profiled 1 "ready=" browser_load
bench_stop_relay
echo "\"after_cpu\": {\"seconds\": $(($(date +%s) - t0)), \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}," >>"$out/run.json"

# --- 2. browser path, 3. AMQP matrix (their own scripts, into subdirectories) --------------------------
log "2. browser path (bench/run-browser.sh, BATCH=1)"
# shellcheck disable=SC2086  # BROWSER_ENV is a list of VAR=value words
env OUT="$out/browser" BATCH=1 LATEST=0 TIME_LIMIT="${BROWSER_TIME_LIMIT:-840}" BENCH_HTTP="$BROWSER_HTTP" \
  SIO_PORT="$SIO_PORT" ${BROWSER_ENV:-} \
  "$root/bench/run-browser.sh" >"$out/browser.log" 2>&1 || log "  run-browser.sh failed, see browser.log"
echo "\"after_browser\": {\"seconds\": $(($(date +%s) - t0)), \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}," >>"$out/run.json"
log "3. AMQP matrix (bench/run-matrix.sh, BATCH_RUNS=1)"
# shellcheck disable=SC2086
env OUT="$out/amqp" BATCH_RUNS=1 LOGIN_TRANSIENT=1 LATEST=0 BENCH="$BENCH" BENCH_HTTP="$MATRIX_HTTP" ${MATRIX_ENV:-} \
  "$root/bench/run-matrix.sh" >"$out/amqp.log" 2>&1 || log "  run-matrix.sh failed, see amqp.log"
echo "\"end\": {\"time\": \"$(date -u +%FT%TZ)\", \"seconds\": $(($(date +%s) - t0)), \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}}" >>"$out/run.json"

git_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
python3 "$root/bench/targets.py" "$out" "$stamp" "$git_rev"
[[ "${LATEST:-1}" == 1 ]] && python3 "$root/bench/targets.py" --latest "$root/bench/results/LATEST.md" "$out" "$stamp-report"
log "report: $out/report.md ($(($(date +%s) - t0)) s)"
cat "$out/report.md"
