// The daemon's configuration: CAF's config file and command line, bound to
// relay_options, plus the strict re-check CAF 0.17 lacks.
#pragma once

#include "chatrelay/defaults.hpp"
#include "chatrelay/options.hpp"

#include <caf/actor_system_config.hpp>

#include <cstdint>
#include <string>

namespace chatrelay::app {

/// Where the daemon publishes its registry through CAF's middleman. Daemon
/// only: an embedding program publishes (or not) its own handles.
struct remote_options {
  uint16_t port = defaults::remote::port; ///< 0 = not published
  std::string host = defaults::remote::host;
};

/// Options of the daemon alone (not of the embeddable relay).
struct daemon_options {
  std::string log_format = "text"; ///< relay.log-format: "text" or "json"
  bool version = false;            ///< --version: print it and exit
  bool check_config = false;       ///< --check-config: validate and exit
};

class relay_config : public caf::actor_system_config {
public:
  relay_config();

  /// Re-reads the config file CAF used and refuses unknown keys and values
  /// CAF silently dropped; returns an error naming the key, or "".
  std::string check_file() const;

  /// Checks the daemon's own options; returns an error naming one, or "".
  std::string validate_daemon() const;

  relay_options options;
  remote_options remote;
  daemon_options daemon;
};

} // namespace chatrelay::app
