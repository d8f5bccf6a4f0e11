// Binds relay_options to CAF config options, so a program that embeds the
// relay reads the same keys (file and flags) as the daemon.
#pragma once

#include "chatrelay/options.hpp"

#include <caf/config_option_adder.hpp>

namespace chatrelay {

/// Adds every relay option to `adder` (usually the group "relay"), bound to
/// the members of `opts`: `relay.amqp-host`, `relay.login-queue`, ...
/// `opts` must outlive the config that holds `adder`'s options.
inline caf::config_option_adder& add_options(caf::config_option_adder& adder,
                                             relay_options& opts) {
  auto& o = opts;
  return adder
      .add(o.id, "id",
           "this relay's name in logs and events (default host-pid)")
      .add(o.amqp_host, "amqp-host", "broker host")
      .add(o.amqp_port, "amqp-port", "broker AMQP port")
      .add(o.amqp_addresses, "amqp-addresses",
           "broker addresses host:port, tried in turn (overrides host/port)")
      .add(o.amqp_vhost, "amqp-vhost", "broker virtual host")
      .add(o.amqp_user, "amqp-user", "broker user")
      .add(o.amqp_password, "amqp-password", "broker password")
      .add(o.amqp_heartbeat, "amqp-heartbeat", "AMQP heartbeat interval")
      .add(o.max_in_flight, "max-in-flight",
           "login/chat deliveries in flight (prefetch); bounds memory")
      .add(o.confirm_timeout, "confirm-timeout",
           "a publish unconfirmed this long is sent again on a new channel")
      .add(o.login_queue, "login-queue", "queue clients log in through")
      .add(o.chat_queue, "chat-queue", "queue clients send chat messages to")
      .add(o.events_exchange, "events-exchange",
           "fanout exchange relays share state through")
      .add(o.room_exchange_prefix, "room-exchange-prefix",
           "prefix of the per-room fanout exchanges")
      .add(o.queue_expiry, "queue-expiry",
           "unused user queues expire after this (x-expires)")
      .add(o.user_queue_type, "user-queue-type",
           "type of the user queues: \"classic\" or \"quorum\"")
      .add(o.deliveries, "deliveries",
           "messages to users: \"persistent\" or \"transient\"")
      .add(o.default_room, "default-room", "room of clients that name none")
      .add(o.history_size, "history-size",
           "messages kept per room for welcome and resume (0 = off)")
      .add(o.presence_limit, "presence-limit",
           "rooms larger than this get no join/leave broadcast")
      .add(o.keepalive_timeout, "keepalive-timeout",
           "a user silent this long is logged out")
      .add(o.max_message_size, "max-message-size",
           "largest chat message text in bytes")
      .add(o.rate_limit, "rate-limit", "chat messages per second per user")
      .add(o.rate_burst, "rate-burst", "messages a user may send at once")
      .add(o.require_token, "require-token",
           "refuse chat without the session token (false: seed clients)")
      .add(o.duplicate_login, "duplicate-login",
           "a second login of an online user: \"replace\" or \"reject\"")
      .add(o.failover, "failover", "a standby relay takes over within this")
      .add(o.http, "http", "HTTP address host:port (health, metrics, web)")
      .add(o.web_root, "web-root", "directory of the built web client")
      .add(o.web_stomp_url, "web-stomp-url", "web-stomp URL given to browsers")
      .add(o.web_user, "web-user", "broker user given to browsers")
      .add(o.web_password, "web-password", "broker password given to browsers")
      .add(o.log_level, "log-level", "debug, info, warning or error");
}

} // namespace chatrelay
