#!/usr/bin/env bash
# The project's PRIVATE RabbitMQ node: broker.sh start|stop|status|wait
#
# Own node name, data/log dirs, config and plugins, all listeners on 127.0.0.1; never the
# Debian system service. Settings (env):
#   RMQ_NODE (chatrelay@localhost)  RMQ_BASE (/tmp/chatrelay-rmq)  RMQ_AMQP_PORT (5672)
#   RMQ_STOMP_PORT (61613)  RMQ_WS_PORT (15674)  RMQ_MGMT_PORT (15672)  RMQ_DIST_PORT (25672)
#   RMQ_EPMD_PORT (4369)  RMQ_MEMORY (2GB, memory alarm)  RMQ_START_TIMEOUT (60 s)
#   RMQ_FRESH=1 (start: wipe the node's data first; it is kept across restarts otherwise)
# Users (idempotent): chat-relay/chat-relay (all), chat-web/chat-web (browsers), guest (loopback).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/rabbitmq.sh
. "$here/lib/rabbitmq.sh"
rmq_defaults

usage() { echo "usage: $0 start|stop|status|wait" >&2; exit 2; }

# The server drops to user rabbitmq through `su`, which only root can do without a password.
[[ "$(id -u)" == 0 ]] || { echo "broker.sh must run as root (the Debian wrapper drops to rabbitmq)" >&2; exit 1; }

case "${1:-}" in
  start)
    if ! rmq_start_node; then
      rmq_stop_node || true   # leave nothing half-started behind
      exit 1
    fi
    rmq_setup_users
    echo "broker $RMQ_NODE up: amqp://127.0.0.1:$RMQ_AMQP_PORT stomp 127.0.0.1:$RMQ_STOMP_PORT" \
      "ws://127.0.0.1:$RMQ_WS_PORT/ws http://127.0.0.1:$RMQ_MGMT_PORT/"
    ;;
  stop) rmq_stop_node ;;
  status)
    if rmq_is_running; then echo "broker $RMQ_NODE is running"; else echo "broker $RMQ_NODE is not running"; exit 1; fi
    ;;
  wait) rmq_wait_node ;;   # for callers that started it elsewhere: wait up to RMQ_START_TIMEOUT
  *) usage ;;
esac
