#!/usr/bin/env bash
# A local N-node RabbitMQ cluster for failover tests: cluster.sh start|stop|status [N]
#                                              cluster.sh start-node|stop-node|kill-node I
# Nodes clu1..cluN@localhost, all on loopback, node i (1-based) on:
#   AMQP 5700+i, STOMP 61700+i, web-stomp 15700+i, management 15800+i, Erlang dist 25700+i
# (clu1: 5701/61701/15701/15801/25701). Env: CLU_BASE (/tmp/chatrelay-rmq-cluster),
# CLU_MEMORY (512MB memory alarm per node), CLU_EPMD_PORT (4369), RMQ_START_TIMEOUT (60 s).
# Users (chat-relay, chat-web, guest) as for broker.sh, created once on the formed cluster.
# Policy chat-relay-ha (classic mirroring of login, chat and chat.user.*; CLU_HA_POLICY=0: none).
# Nodes share the Erlang cookie /var/lib/rabbitmq/.erlang.cookie (HOME of user rabbitmq).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/rabbitmq.sh
. "$here/lib/rabbitmq.sh"

CLU_BASE="${CLU_BASE:-/tmp/chatrelay-rmq-cluster}"
CLU_MEMORY="${CLU_MEMORY:-512MB}"   # ~130-150 MB RSS each when idle; bound the alarm per node
CLU_EPMD_PORT="${CLU_EPMD_PORT:-4369}"

usage() { echo "usage: $0 start|stop|status [N] | start-node|stop-node|kill-node I" >&2; exit 2; }
[[ "$(id -u)" == 0 ]] || { echo "cluster.sh must run as root (the Debian wrapper drops to rabbitmq)" >&2; exit 1; }

# Point the rmq_* functions at node i.
clu_node() {
  local i="$1"
  RMQ_NODE="clu$i@localhost"
  RMQ_BASE="$CLU_BASE/clu$i"
  RMQ_AMQP_PORT=$((5700 + i))
  RMQ_STOMP_PORT=$((61700 + i))
  RMQ_WS_PORT=$((15700 + i))
  RMQ_MGMT_PORT=$((15800 + i))
  RMQ_DIST_PORT=$((25700 + i))
  RMQ_EPMD_PORT="$CLU_EPMD_PORT"
  RMQ_MEMORY="$CLU_MEMORY"
}

# Node numbers that have a data dir (what an earlier start made), for stop/status without N.
clu_known() {
  local d
  for d in "$CLU_BASE"/clu*; do [[ -d "$d" ]] && echo "${d##*/clu}"; done | sort -n
}

# Running members as clu1 (or any node given) sees them.
clu_running_nodes() {
  clu_node "${1:-1}"
  rmq_ctl -q cluster_status --formatter json 2>/dev/null |
    grep -o '"running_nodes":\[[^]]*\]' | grep -o 'clu[0-9]*@localhost' || true
}

# Classic mirroring for what must survive a node: `login`/`chat` (seed STOMP clients re-declare
# them without arguments, so no x-queue-type=quorum) and the per-user queues. Without it a classic
# queue whose home node is down silently drops publishes that the broker still confirms
# (shared/RABBITMQ-NOTES.md). A policy, not queue arguments: clients' re-declarations still match.
# CLU_HA_POLICY=0 leaves it out (to reproduce the loss); docs/several-relays.md explains the choice.
CLU_HA_POLICY="${CLU_HA_POLICY:-1}"
clu_set_ha_policy() {
  if [[ "$CLU_HA_POLICY" != 1 ]]; then
    rmq_api DELETE policies/%2F/chat-relay-ha >/dev/null 2>&1 || true
    rmq_log "no mirroring policy (CLU_HA_POLICY=$CLU_HA_POLICY)"
    return 0
  fi
  rmq_api PUT policies/%2F/chat-relay-ha \
    '{"pattern":"^(login|chat)$|^chat\\.user\\.","apply-to":"queues","priority":0,"definition":{"ha-mode":"all","ha-sync-mode":"automatic"}}' \
    >/dev/null || rmq_die "could not set the mirroring policy" || return 1
  rmq_log "policy chat-relay-ha: ha-mode all, ha-sync-mode automatic on ^(login|chat)$ and ^chat\\.user\\."
}

clu_start() {
  local n="$1" i pids=() failed=0
  # Boot all nodes in parallel (~7 s each, mostly waiting), then join 2..N to clu1.
  rmq_ensure_cookie   # before the parallel start, so all of them read the same cookie
  for ((i = 1; i <= n; i++)); do
    (clu_node "$i" && rmq_start_node) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  if ((failed)); then echo "cluster: a node failed to start; stopping" >&2; clu_stop; exit 1; fi

  local members
  members="$(clu_running_nodes 1)"
  for ((i = 2; i <= n; i++)); do
    if grep -qx "clu$i@localhost" <<<"$members"; then continue; fi
    clu_node "$i"
    rmq_log "joining clu1@localhost"
    # stop_app/reset/join_cluster/start_app: the documented way to add a node to a cluster.
    # The CLI prints harmless feature-flag warnings while joining: keep them in the node's log dir.
    if ! { rmq_ctl -q stop_app && rmq_ctl -q reset &&
      rmq_ctl -q join_cluster clu1@localhost && rmq_ctl -q start_app; } >"$RMQ_BASE/log/join.out" 2>&1; then
      echo "cluster: clu$i could not join:" >&2
      tail -n 20 "$RMQ_BASE/log/join.out" >&2
      clu_stop
      exit 1
    fi
  done
  clu_node 1
  rmq_setup_users   # once: users live in the cluster-wide schema
  clu_set_ha_policy
  members="$(clu_running_nodes 1)"
  local count
  count="$(grep -c . <<<"$members" || true)"
  if ((count < n)); then
    echo "cluster: only $count of $n nodes running: $(echo "$members" | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "cluster up: $count running nodes: $(echo "$members" | tr '\n' ' ')"
  local addrs=()
  for ((i = 1; i <= n; i++)); do
    clu_node "$i"
    echo "  $RMQ_NODE  amqp://127.0.0.1:$RMQ_AMQP_PORT  stomp 127.0.0.1:$RMQ_STOMP_PORT  ws://127.0.0.1:$RMQ_WS_PORT/ws  http://127.0.0.1:$RMQ_MGMT_PORT/"
    addrs+=("127.0.0.1:$RMQ_AMQP_PORT")
  done
  # For the relay: --relay.amqp-addresses=... (CAF list syntax).
  (IFS=,; echo "CHATRELAY_AMQP_ADDRESSES=${addrs[*]}")
}

clu_stop() {
  local i nodes
  nodes="$(clu_known)"
  [[ -n "$nodes" ]] || { echo "cluster: nothing to stop"; return 0; }
  # Stop in parallel: it is a throw-away test cluster and every start brings all nodes up together.
  local pids=()
  for i in $nodes; do
    (clu_node "$i" && rmq_stop_node) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  # The shared epmd carries the name of whichever node started it: offer it to each.
  for i in $nodes; do clu_node "$i"; rmq_stop_epmd; done
}

clu_status() {
  local members
  if [[ -z "$(clu_known)" ]]; then echo "cluster: not running"; exit 1; fi
  clu_node 1
  if ! rmq_is_running; then echo "cluster: clu1 not running"; exit 1; fi
  members="$(clu_running_nodes 1)"
  echo "cluster running nodes: $(echo "$members" | tr '\n' ' ')"
}

cmd="${1:-}"
arg="${2:-}"
case "$cmd" in
  start) n="${arg:-3}"; [[ "$n" =~ ^[1-9][0-9]?$ ]] || usage; clu_start "$n" ;;
  stop) clu_stop ;;
  status) clu_status ;;
  start-node) [[ "$arg" =~ ^[1-9][0-9]?$ ]] || usage; clu_node "$arg"; rmq_start_node ;;  # rejoins by itself
  stop-node) [[ "$arg" =~ ^[1-9][0-9]?$ ]] || usage; clu_node "$arg"; rmq_stop_node ;;
  kill-node)   # a crash, for failover tests: SIGKILL the node's VM
    [[ "$arg" =~ ^[1-9][0-9]?$ ]] || usage
    clu_node "$arg"
    victims="$(rmq_node_pids)"
    [[ -n "$victims" ]] || { echo "clu$arg@localhost is not running" >&2; exit 1; }
    # shellcheck disable=SC2086  # word splitting of the PID list is intended
    kill -KILL $victims
    echo "killed clu$arg@localhost ($(echo "$victims" | tr '\n' ' '))"
    ;;
  *) usage ;;
esac
