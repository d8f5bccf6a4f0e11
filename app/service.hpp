// The daemon as an installed service: its version, where its web client
// lives, and systemd's readiness protocol (sd_notify).
#pragma once

#include "app/config.hpp"
#include "chatrelay/metrics.hpp"

#include <string>

namespace chatrelay::app {

/// "chat-relayd 0.1.0" plus what it was built with.
std::string version_text();

/// The web client's directory: `configured` when set (relative to the
/// working directory), else the installed `<prefix>/share/chat-relay/web`
/// next to this binary, else the build tree's copy (developers). Returns ""
/// when none holds an index.html.
std::string resolve_web_root(const std::string& configured);

/// Logs where the web client is served from, or that it is missing.
void log_web_root(const std::string& web_root);

/// --check-config, once the configuration parsed and validated (the caller
/// made sure): says so and where the web client is. Returns the exit code.
int report_config_check(const relay_config& cfg);

/// Tells systemd (Type=notify) how the relay is doing: READY=1 once it is
/// connected (standby or active, as /readyz), STATUS= on each change of role,
/// STOPPING=1 on shutdown. Does nothing when not started by systemd or when
/// built without libsystemd.
class service_notifier {
public:
  /// Called periodically from the main thread.
  void update(const relay_metrics& metrics);

  void stopping();

  bool ready() const { return ready_; }

private:
  bool ready_ = false;
  std::string status_;
};

} // namespace chatrelay::app
