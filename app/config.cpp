#include "app/config.hpp"

#include <caf/config_option_adder.hpp>
#include <caf/config_value.hpp>

#include <fstream>

namespace chatrelay::app {

relay_config::relay_config() {
  auto& o = options;
  caf::config_option_adder{custom_options_, "relay"}
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
      .add(o.login_queue, "login-queue", "queue clients log in through")
      .add(o.chat_queue, "chat-queue", "queue clients send chat messages to")
      .add(o.events_exchange, "events-exchange",
           "fanout exchange relays share state through")
      .add(o.room_exchange_prefix, "room-exchange-prefix",
           "prefix of the per-room fanout exchanges")
      .add(o.queue_expiry, "queue-expiry",
           "unused user queues expire after this (x-expires)")
      .add(o.default_room, "default-room", "room of clients that name none")
      .add(o.history_size, "history-size",
           "messages kept per room for welcome and resume (0 = off)")
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

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

std::string relay_config::check_file() const {
  if (config_file_path.empty()) return {};
  std::ifstream in{config_file_path};
  if (!in) return {}; // CAF already reported a missing explicit file
  std::string line;
  std::string section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto text = trim(line);
    if (text.empty() || text[0] == ';' || text[0] == '#') continue;
    auto where = config_file_path + ":" + std::to_string(lineno) + ": ";
    if (text.front() == '[') {
      if (text.back() != ']') return where + "malformed section header";
      section = trim(text.substr(1, text.size() - 2));
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos) return where + "expected key=value";
    auto key = trim(text.substr(0, eq));
    auto value = trim(text.substr(eq + 1));
    // Strip a trailing comment outside of strings.
    if (auto sc = value.find(" ;");
        sc != std::string::npos && value.find('"') == std::string::npos)
      value = trim(value.substr(0, sc));
    auto name = section.empty() ? key : section + "." + key;
    auto* opt = custom_options_.qualified_name_lookup(name);
    if (!opt) return where + "unknown option '" + name + "'";
    auto parsed = caf::config_value::parse(value);
    if (!parsed)
      return where + "option '" + name + "': cannot parse value " + value;
    if (auto err = opt->check(*parsed))
      return where + "option '" + name + "': value " + value +
             " is not a valid " +
             std::string(opt->type_name().data(), opt->type_name().size());
  }
  return {};
}

} // namespace chatrelay::app
