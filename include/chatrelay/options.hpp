// The relay's options: one struct, filled from the CAF config file and flags
// by the daemon, or by hand by a program that embeds the relay.
#pragma once

#include "chatrelay/defaults.hpp"

#include <caf/timespan.hpp>

#include <string>
#include <vector>

namespace chatrelay {

/// A broker address.
struct amqp_address {
  std::string host;
  uint16_t port = 0;
};

/// Every option of the relay's actors (declared in relay_option_table(),
/// chatrelay/config.hpp; documented in config/chat-relay.ini). What only the
/// daemon uses (HTTP, web client, logging) is not here.
struct relay_options {
  std::string id; ///< This relay's name in logs and events; empty = host-pid.
  std::string amqp_host = defaults::amqp::host;
  uint16_t amqp_port = defaults::amqp::port;
  std::vector<std::string> amqp_addresses; ///< "host:port", overrides host/port
  std::string amqp_vhost = defaults::amqp::vhost;
  std::string amqp_user = defaults::amqp::user;
  std::string amqp_password = defaults::amqp::password;
  caf::timespan amqp_heartbeat = defaults::amqp::heartbeat;
  size_t max_in_flight = defaults::amqp::max_in_flight;
  caf::timespan confirm_timeout = defaults::amqp::confirm_timeout;
  std::string login_queue = defaults::topology::login_queue;
  std::string chat_queue = defaults::topology::chat_queue;
  std::string events_exchange = defaults::topology::events_exchange;
  std::string room_exchange_prefix = defaults::topology::room_exchange_prefix;
  caf::timespan queue_expiry = defaults::topology::queue_expiry;
  std::string user_queue_type = defaults::topology::user_queue_type;
  std::string default_room = defaults::chat::default_room;
  size_t history_size = defaults::chat::history_size;
  /// Rooms with more members are "large": no join/leave broadcast, and the
  /// welcome lists only this many members (plus the count).
  size_t presence_limit = defaults::chat::presence_limit;
  caf::timespan keepalive_timeout = defaults::chat::keepalive_timeout;
  size_t max_message_size = defaults::chat::max_message_size;
  size_t rate_limit = defaults::chat::rate_limit; ///< messages per second
  size_t rate_burst = defaults::chat::rate_burst; ///< token bucket size
  bool require_token = defaults::chat::require_token;
  std::string duplicate_login = defaults::chat::duplicate_login;
  caf::timespan failover = defaults::cluster::failover;
  /// Per-room batching (messages published together while the broker
  /// confirms earlier ones): at most this many messages and bytes a batch,
  /// and how long a message may wait for others (0: published at once when
  /// nothing is unconfirmed).
  size_t batch_max = defaults::batch::max_messages;
  size_t batch_max_bytes = defaults::batch::max_bytes;
  caf::timespan batch_linger = defaults::batch::linger;
};

/// Checks every option against the rules of relay_option_table(); returns
/// an error message naming the option ("relay.rate-limit: must be ..."), or
/// an empty string when all are valid.
std::string validate(const relay_options& opts);

/// The broker addresses to try, in order (from amqp-addresses or host/port).
/// @pre `validate(opts).empty()`
std::vector<amqp_address> broker_addresses(const relay_options& opts);

/// Fills `opts.id` with host-pid when empty.
void assign_default_id(relay_options& opts);

} // namespace chatrelay
