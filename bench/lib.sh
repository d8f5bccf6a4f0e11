# shellcheck shell=bash
# Shared by bench/run-*.sh: the private broker (started only when it is not running, stopped at the end
# only then) and one relay process at a time (stopped by PID, never by name).
# The caller defines log() and die(), sets root, RELAY and BENCH_HTTP, and sources scripts/lib/rabbitmq.sh
# and calls rmq_defaults first. Then: trap bench_cleanup EXIT; bench_start_broker; bench_relay_ini ...;
# bench_start_relay ...

started_broker=0
relay_pid=""
broker_pid=""

bench_stop_relay() {
  if [[ -n "$relay_pid" ]] && kill -0 "$relay_pid" 2>/dev/null; then
    kill -TERM "$relay_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  relay_pid=""
}

bench_cleanup() {
  bench_stop_relay
  if [[ "$started_broker" == 1 ]]; then
    log "stopping the broker this script started"
    "$root/scripts/broker.sh" stop || true
  fi
}

# bench_start_broker [FRESH]: starts the private broker unless it runs (FRESH=1: from empty state); sets
# broker_pid to its beam.smp.
bench_start_broker() {
  if ! "$root/scripts/broker.sh" status >/dev/null 2>&1; then
    log "starting the private broker"
    RMQ_FRESH="${1:-${RMQ_FRESH:-0}}" "$root/scripts/broker.sh" start
    started_broker=1
  fi
  broker_pid="$(rmq_ctl eval 'os:getpid().' 2>/dev/null | tr -dc '0-9')"
  [[ -n "$broker_pid" && -d "/proc/$broker_pid" ]] || die "cannot find the broker's beam.smp pid"
}

# bench_relay_ini FILE ID LOG_LEVEL [LINE...]: the relay's defaults except what a load test needs (its own
# broker user, HTTP address and id; rate limiting off); extra [relay] lines after it.
bench_relay_ini() {
  local file="$1" id="$2" level="$3"
  shift 3
  # rate-limit/rate-burst (the relay accepts 1..1000000): a real64 in CAF's INI needs a decimal point, a
  # uint64 must not have one
  local big=1000000
  "$RELAY" --long-help 2>&1 | grep -q -- '--relay.rate-limit=<real64>' && big=1000000.0
  {
    echo "; written by $(basename "$0"): the relay's defaults except what a load test needs"
    echo "[relay]"
    echo "id=\"$id\""
    echo "amqp-host=\"127.0.0.1\""
    echo "amqp-port=$RMQ_AMQP_PORT"
    echo "amqp-user=\"chat-relay\""
    echo "amqp-password=\"chat-relay\""
    echo "http=\"$BENCH_HTTP\""
    echo "; senders publish faster than a person: per-user rate limiting would reject most of it"
    echo "rate-limit=$big"
    echo "rate-burst=$big"
    echo "log-level=\"$level\""
    printf '%s\n' "$@"
  } >"$file"
}

# bench_start_relay INI LOG [FLAG...]: starts $RELAY, sets relay_pid, waits (30 s) for /readyz on BENCH_HTTP.
bench_start_relay() {
  local ini="$1" logf="$2"
  shift 2
  "$RELAY" --config-file="$ini" "$@" >>"$logf" 2>&1 &
  relay_pid=$!
  for _ in $(seq 300); do
    if curl -sf "http://$BENCH_HTTP/readyz" >/dev/null 2>&1; then
      log "relay pid $relay_pid ready $*"
      return 0
    fi
    kill -0 "$relay_pid" 2>/dev/null || die "relay exited at start, see $logf"
    sleep 0.1
  done
  die "relay not ready after 30 s, see $logf"
}

# bench_cpu_ticks PID: utime + stime of a process, in 10 ms ticks (/proc/PID/stat)
bench_cpu_ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
