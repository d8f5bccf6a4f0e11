#include "chatrelay/options.hpp"

#include "chatrelay/internal/protocol.hpp"

#include <unistd.h>

#include <chrono>
#include <optional>

namespace chatrelay {

namespace {

std::optional<amqp_address> parse_address(const std::string& str) {
  auto colon = str.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == str.size())
    return std::nullopt;
  try {
    size_t used = 0;
    auto port = std::stoul(str.substr(colon + 1), &used);
    if (used != str.size() - colon - 1 || port == 0 || port > 65535)
      return std::nullopt;
    return amqp_address{str.substr(0, colon), static_cast<uint16_t>(port)};
  } catch (...) {
    return std::nullopt;
  }
}

std::string bad(const char* option, const std::string& why) {
  return std::string{"relay."} + option + ": " + why;
}

} // namespace

std::string validate(const relay_options& o) {
  using namespace std::chrono_literals;
  if (o.amqp_addresses.empty() && o.amqp_host.empty())
    return bad("amqp-host", "must not be empty");
  if (o.amqp_addresses.empty() && o.amqp_port == 0)
    return bad("amqp-port", "must be 1..65535");
  for (auto& addr : o.amqp_addresses)
    if (!parse_address(addr))
      return bad("amqp-addresses", "'" + addr + "' is not host:port");
  if (o.amqp_heartbeat < 0s || o.amqp_heartbeat > 3600s)
    return bad("amqp-heartbeat", "must be between 0s and 1h");
  if (o.max_in_flight < 1 || o.max_in_flight > 65535)
    return bad("max-in-flight", "must be 1..65535");
  if (o.confirm_timeout < 100ms || o.confirm_timeout > 600s)
    return bad("confirm-timeout", "must be between 100ms and 10min");
  if (o.login_queue.empty() || o.chat_queue.empty() ||
      o.login_queue == o.chat_queue)
    return bad("login-queue", "login and chat queues must be distinct names");
  if (o.events_exchange.empty())
    return bad("events-exchange", "must not be empty");
  if (o.room_exchange_prefix.empty())
    return bad("room-exchange-prefix", "must not be empty");
  if (o.queue_expiry < 1s) return bad("queue-expiry", "must be at least 1s");
  if (o.user_queue_type != "classic" && o.user_queue_type != "quorum")
    return bad("user-queue-type", "must be \"classic\" or \"quorum\"");
  if (!protocol::valid_room(o.default_room))
    return bad("default-room", "must match [A-Za-z0-9_-]{1,32}");
  if (o.presence_limit > 100000)
    return bad("presence-limit", "must be at most 100000");
  if (o.history_size > 100000)
    return bad("history-size", "must be at most 100000");
  if (o.keepalive_timeout < 100ms)
    return bad("keepalive-timeout", "must be at least 100ms");
  if (o.max_message_size < 1 || o.max_message_size > 1048576)
    return bad("max-message-size", "must be 1..1048576 bytes");
  if (o.rate_limit < 1 || o.rate_limit > 1000000)
    return bad("rate-limit", "must be 1..1000000 messages per second");
  if (o.rate_burst < 1 || o.rate_burst > 1000000)
    return bad("rate-burst", "must be 1..1000000 messages");
  if (o.duplicate_login != "replace" && o.duplicate_login != "reject" &&
      o.duplicate_login != "allow")
    return bad("duplicate-login",
               "must be \"replace\", \"reject\" or \"allow\"");
  if (o.failover < 100ms || o.failover > 60s)
    return bad("failover", "must be between 100ms and 60s");
  if (!parse_address(o.http)) return bad("http", "must be host:port");
  if (o.log_level != "debug" && o.log_level != "info" &&
      o.log_level != "warning" && o.log_level != "error")
    return bad("log-level", "must be debug, info, warning or error");
  return {};
}

std::vector<amqp_address> broker_addresses(const relay_options& o) {
  std::vector<amqp_address> result;
  for (auto& addr : o.amqp_addresses)
    if (auto parsed = parse_address(addr)) result.push_back(*parsed);
  if (result.empty()) result.push_back({o.amqp_host, o.amqp_port});
  return result;
}

void assign_default_id(relay_options& o) {
  if (!o.id.empty()) return;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  o.id = std::string{host} + "-" + std::to_string(getpid());
}

} // namespace chatrelay
