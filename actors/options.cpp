#include "chatrelay/options.hpp"

#include "chatrelay/config.hpp"
#include "chatrelay/internal/protocol.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>

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

using string_rule = rule<std::function<bool(const std::string&)>>;

string_rule room_name() {
  return {"a room name ([A-Za-z0-9_-]{1,32})", protocol::valid_room};
}

option_table<relay_options> make_relay_table() {
  using namespace std::chrono_literals;
  using o = relay_options;
  option_table<o> t{"relay"};
  t.add(&o::id, "id",
        "this relay's name in logs, metrics and the events other relays see")
      .notes("Empty: <hostname>-<pid>.");
  t.heading("the broker")
      .add(&o::amqp_host, "amqp-host", "broker host", not_empty())
      .add(&o::amqp_port, "amqp-port", "broker AMQP port", between(1, 65535))
      .add(&o::amqp_addresses, "amqp-addresses",
           "broker addresses, tried in turn (a cluster); overrides "
           "amqp-host/-port",
           host_ports())
      .example(R"(["127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703"])")
      .add(&o::amqp_vhost, "amqp-vhost", "broker virtual host")
      .add(&o::amqp_user, "amqp-user", "broker user")
      .notes("scripts/run.sh passes the relay's own broker user (chat-relay) "
             "as flags.")
      .add(&o::amqp_password, "amqp-password", "broker password")
      .add(&o::amqp_heartbeat, "amqp-heartbeat",
           "AMQP heartbeat interval (0s: none)", between(0s, 1h))
      .add(&o::max_in_flight, "max-in-flight",
           "login/chat deliveries in flight (AMQP prefetch)", between(1, 65535))
      .notes("Bounds the relay's memory when the broker is slow; also the "
             "publish window.")
      .add(&o::confirm_timeout, "confirm-timeout",
           "publishes waiting while the broker confirms nothing for this "
           "(or one waiting 10x this) are sent again on a fresh channel",
           between(100ms, 10min))
      .notes("A broker node crash can leave confirms that never come. The "
             "relay is reported stalled (/readyz 503) until the resent ones "
             "are confirmed, and reconnects if they time out too. Clients "
             "drop the copies (same cid/id).");
  t.heading("topology (docs/protocol.md)")
      .add(&o::login_queue, "login-queue", "queue clients log in through",
           not_empty())
      .add(&o::chat_queue, "chat-queue", "queue clients send chat messages to",
           not_empty())
      .require("different from login-queue",
               [](const o& x) { return x.chat_queue != x.login_queue; })
      .add(&o::events_exchange, "events-exchange",
           "fanout exchange relays share state through", not_empty())
      .add(&o::room_exchange_prefix, "room-exchange-prefix",
           "prefix of the per-room fanout exchanges", not_empty())
      .add(&o::queue_expiry, "queue-expiry",
           "user queues nobody consumes expire after this (x-expires)",
           at_least(1s))
      .notes("Vanished clients leak nothing, even when no relay is running.")
      .add(&o::user_queue_type, "user-queue-type",
           "type of the user queues the relay declares",
           one_of({"classic", "quorum"}))
      .notes("A quorum queue survives the loss of a minority of cluster nodes "
             "without classic mirroring, which RabbitMQ 4 removes "
             "(docs/several-relays.md). `login` and `chat` stay "
             "argument-free classic queues (browsers declare them).")
      .add(&o::deliveries, "deliveries",
           "what reaches users: persistent (durable classic queues) or "
           "transient (non-durable classic queues)",
           one_of({"persistent", "transient"}))
      .notes("Transient deliveries cost the broker less; a client that "
             "resumes with `since` still loses nothing from the history "
             "(docs/hardening.md, \"Persistent or transient deliveries\").");
  t.heading("chat")
      .add(&o::default_room, "default-room", "room of clients that name none",
           room_name())
      .add(&o::history_size, "history-size",
           "messages kept per room for the welcome and for resume (0: off)",
           between(0, 100000))
      .add(&o::presence_limit, "presence-limit",
           "presence (join/leave to every member, the member list in the "
           "welcome) is broadcast in rooms up to this size",
           between(0, 100000))
      .notes("Larger rooms only report their count, since every join would "
             "otherwise cost one delivery per member.")
      .add(&o::keepalive_timeout, "keepalive-timeout",
           "a user not heard from (ping or chat) for this long is logged out",
           at_least(100ms))
      .add(&o::max_message_size, "max-message-size",
           "largest chat message text, in bytes", between(1, 1048576))
      .add(&o::rate_limit, "rate-limit",
           "chat messages per second per user (token bucket)",
           between(1, 1000000))
      .add(&o::rate_burst, "rate-burst",
           "chat messages a user may send at once (token bucket size)",
           between(1, 1000000))
      .add(&o::require_token, "require-token",
           "reject chat without the session token")
      .notes("false: accept the seed's token-less chat (a token that is sent "
             "must match).")
      .add(&o::duplicate_login, "duplicate-login",
           "a second login of an online user with another queue",
           one_of({"replace", "reject", "allow"}))
      .notes("replace: the new session wins, the old one is told; reject: the "
             "new one is rejected; allow: both stay (tabs), one presence "
             "(docs/protocol.md).");
  t.heading("batching (docs/protocol.md)")
      .add(&o::batch_max, "batch-max",
           "messages of a room published together at most", at_least(1))
      .notes("A room publishes at once while the broker has confirmed all it "
             "sent, and batches what comes in meanwhile.")
      .add(&o::batch_max_bytes, "batch-max-bytes",
           "bytes of a batch at most (a larger message goes alone)",
           at_least(1))
      .add(&o::batch_linger, "batch-linger",
           "least time between two batches of a room; a quiet room still "
           "publishes at once (0s: no pacing)",
           at_least(0s));
  t.heading("several relays (docs/several-relays.md)")
      .add(&o::failover, "failover",
           "a standby relay takes over within this after the active one dies",
           between(100ms, 60s));
  return t;
}

} // namespace

std::string duration_text(caf::timespan d) {
  auto ns = d.count();
  if (ns == 0) return "0s";
  struct unit {
    int64_t ns;
    const char* name;
  };
  static constexpr unit units[] = {
      {3600'000'000'000, "h"}, {60'000'000'000, "min"}, {1'000'000'000, "s"},
      {1'000'000, "ms"},       {1'000, "us"},           {1, "ns"}};
  for (auto& u : units)
    if (ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  return std::to_string(ns) + "ns"; // not reached: every count divides by 1
}

std::string value_text(const caf::config_value& v) {
  if (auto d = caf::get_if<caf::timespan>(&v)) return duration_text(*d);
  return caf::to_string(v);
}

std::string comment_lines(const std::string& text, size_t width) {
  std::istringstream words{text};
  std::string out;
  std::string line = ";";
  for (std::string word; words >> word;) {
    if (line.size() > 1 && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = ";";
    }
    line += " " + word;
  }
  return out + line + "\n";
}

rule<std::function<bool(const std::string&)>>
one_of(std::initializer_list<const char*> choices) {
  std::vector<std::string> valid{choices.begin(), choices.end()};
  std::string text;
  for (size_t i = 0; i < valid.size(); ++i) {
    if (i > 0) text += i + 1 == valid.size() ? " or " : ", ";
    text += "\"" + valid[i] + "\"";
  }
  return {text, [valid](const std::string& v) {
            return std::find(valid.begin(), valid.end(), v) != valid.end();
          }};
}

rule<std::function<bool(const std::string&)>> not_empty() {
  return {"not empty", [](const std::string& v) { return !v.empty(); }};
}

rule<std::function<bool(const std::string&)>> host_port() {
  return {"host:port",
          [](const std::string& v) { return parse_address(v).has_value(); }};
}

rule<std::function<bool(const std::vector<std::string>&)>> host_ports() {
  return {"host:port each", [](const std::vector<std::string>& v) {
            return std::all_of(v.begin(), v.end(), [](auto& addr) {
              return parse_address(addr).has_value();
            });
          }};
}

const option_table<relay_options>& relay_option_table() {
  static const auto table = make_relay_table();
  return table;
}

std::string validate(const relay_options& o) {
  return relay_option_table().validate(o).message();
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
