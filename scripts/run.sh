#!/usr/bin/env bash
# THE run command: installs what is missing, starts the private broker, builds the daemon
# (Release) and the web client, runs chat-relayd in the foreground until Ctrl-C, then stops the
# daemon and the broker it started. Env: RELAY_HTTP_PORT (8080), the RMQ_* of scripts/broker.sh.
# Writes no tracked file: only the git-ignored build/, web/node_modules and web/dist.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

RELAY_HTTP_PORT="${RELAY_HTTP_PORT:-8080}"
export RMQ_NODE="${RMQ_NODE:-chatrelay@localhost}"
export RMQ_AMQP_PORT="${RMQ_AMQP_PORT:-5672}"
export RMQ_WS_PORT="${RMQ_WS_PORT:-15674}"

broker_started=0
relay_pid=""
# shellcheck disable=SC2317  # only reached through the traps below
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$relay_pid" ]] && kill -0 "$relay_pid" 2>/dev/null; then
    echo "run.sh: stopping chat-relayd (pid $relay_pid)"
    kill -TERM "$relay_pid" 2>/dev/null || true
    # It stops within 1 s on SIGTERM; don't hang if it does not.
    for _ in $(seq 1 50); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  if ((broker_started)); then "$ROOT/scripts/broker.sh" stop || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "run.sh: stopping"; exit 0' INT TERM

if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$RELAY_HTTP_PORT/healthz" 2>/dev/null; then
  echo "run.sh: something already serves port $RELAY_HTTP_PORT (another chat-relayd?); set RELAY_HTTP_PORT" >&2
  exit 1
fi

scripts/install-deps.sh

if scripts/broker.sh status >/dev/null 2>&1; then
  echo "run.sh: using the broker already running as $RMQ_NODE (it stays running afterwards)"
  scripts/broker.sh start   # idempotent: makes sure the users exist
else
  broker_started=1
  scripts/broker.sh start
fi

echo "run.sh: building chat-relayd (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2

if [[ -f web/package.json ]]; then
  echo "run.sh: building the web client"
  # npm ci only when the lock file changed since the last install (it wipes node_modules).
  if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    npm ci --prefix web --no-audit --no-fund --loglevel=error
  fi
  npm run --prefix web build
fi

args=()
if [[ -f config/chat-relay.ini ]]; then args+=(--config-file=config/chat-relay.ini); fi
args+=(
  --relay.amqp-user=chat-relay --relay.amqp-password=chat-relay
  --relay.amqp-port="$RMQ_AMQP_PORT"
  --relay.http="127.0.0.1:$RELAY_HTTP_PORT"
  --relay.web-stomp-url="ws://127.0.0.1:$RMQ_WS_PORT/ws"
)
echo "run.sh: starting build/chat-relayd ${args[*]}"
build/chat-relayd "${args[@]}" &
relay_pid=$!

# Ready = connected to the broker and consuming (GET /readyz answers 200).
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$RELAY_HTTP_PORT/readyz" 2>/dev/null; then break; fi
  if ! kill -0 "$relay_pid" 2>/dev/null; then
    wait "$relay_pid" || true
    echo "run.sh: chat-relayd exited during start" >&2
    exit 1
  fi
  sleep 0.5
done
if ! curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$RELAY_HTTP_PORT/readyz"; then
  echo "run.sh: chat-relayd not ready after 60 s" >&2
  exit 1
fi

echo
echo "Open http://127.0.0.1:$RELAY_HTTP_PORT/ in two browser tabs to chat."
echo "(Ctrl-C stops the relay and the broker.)"
# `wait` returns when the daemon exits or a signal arrives (the trap then cleans up).
rc=0
wait "$relay_pid" || rc=$?
relay_pid=""
echo "run.sh: chat-relayd exited with status $rc" >&2
exit "$rc"
