// The daemon's configuration: the relay's options and the daemon's own,
// each declared once in its option table.
#pragma once

#include "chatrelay/app.hpp"
#include "chatrelay/defaults.hpp"
#include "chatrelay/options.hpp"

#include <cstdint>
#include <ostream>
#include <string>

namespace chatrelay::app {

/// Options of the daemon alone, not of the embeddable relay (group "relay"
/// as well, so one [relay] section holds them all).
struct daemon_options {
  std::string http = defaults::http::address;      ///< host:port
  std::string web_root = defaults::http::web_root; ///< "": found (service.hpp)
  std::string web_stomp_url = defaults::http::web_stomp_url;
  std::string web_user = defaults::http::web_user;
  std::string web_password = defaults::http::web_password;
  std::string log_level = defaults::log_level;
  std::string log_format = defaults::log_format; ///< "text" or "json"
  /// Where the daemon publishes the relay through CAF's middleman (0: not);
  /// an embedding program publishes (or not) its own handles.
  uint16_t remote_port = defaults::remote::port;
  std::string remote_host = defaults::remote::host;
};

/// Every daemon option (group "relay").
const option_table<daemon_options>& daemon_option_table();

class relay_config : public program_config {
public:
  relay_config();

  relay_options options;
  daemon_options daemon;
  bool version = false;        ///< --version: print it and exit
  bool check_config = false;   ///< --check-config: validate and exit
  bool example_config = false; ///< --example-config: print it and exit
};

/// The commented example config (config/chat-relay.ini): every option at
/// its default, generated from the option tables.
void write_example_config(std::ostream& out);

} // namespace chatrelay::app
