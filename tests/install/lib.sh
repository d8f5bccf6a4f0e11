# Shared by tests/install/*.sh (sourced).

# relay_broker_flags NAMES: sets the array relay_flags to the flags that point
# a relay at $AMQP_URL with queues and exchanges of its own (NAMES.login,
# NAMES.chat, NAMES.events, NAMES.room.*), so it never takes over (or leaves
# behind) those of a relay that serves on the same broker.
relay_broker_flags() {
  local names="$1"
  if [[ ! "$AMQP_URL" =~ ^amqp://([^:@/]*):([^@/]*)@([^:/]+)(:([0-9]+))?(/.*)?$ ]]; then
    echo "cannot parse AMQP_URL=$AMQP_URL (amqp://user:pass@host[:port])" >&2
    return 1
  fi
  relay_flags=(
    "--relay.amqp-host=${BASH_REMATCH[3]}" "--relay.amqp-port=${BASH_REMATCH[5]:-5672}"
    "--relay.amqp-user=${BASH_REMATCH[1]}" "--relay.amqp-password=${BASH_REMATCH[2]}"
    "--relay.login-queue=$names.login" "--relay.chat-queue=$names.chat"
    "--relay.events-exchange=$names.events" "--relay.room-exchange-prefix=$names.room.")
}
