// chat-relayd: the relay as a standalone daemon. Only wiring: configuration,
// the relay's actors, the HTTP port and signals.
#include "app/config.hpp"
#include "app/http_server.hpp"
#include "app/service.hpp"
#include "chatrelay/logging.hpp"
#include "chatrelay/relay.hpp"
#include "chatrelay/type_ids.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>

using namespace chatrelay;

namespace {

/// Blocks SIGINT/SIGTERM in every thread and waits for one of them.
class signal_waiter {
public:
  signal_waiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }

  /// The signal, or 0 when none came within `timeout`.
  int wait_for(std::chrono::milliseconds timeout) {
    auto ms = timeout.count();
    timespec ts{static_cast<time_t>(ms / 1000), (ms % 1000) * 1000000L};
    auto sig = sigtimedwait(&set_, nullptr, &ts);
    return sig > 0 ? sig : 0;
  }

private:
  sigset_t set_;
};

} // namespace

int main(int argc, char** argv) {
  // Block the signals before any thread starts so only sigwait sees them.
  signal_waiter signals;
  app::relay_config cfg;
  cfg.add_message_types<caf::id_block::chatrelay>();
  cfg.load<caf::io::middleman>();
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "chat-relayd: " << caf::actor_system_config::render(err)
              << "\n";
    return EXIT_FAILURE;
  }
  if (cfg.cli_helptext_printed) return EXIT_SUCCESS;
  if (cfg.daemon.version) {
    std::cout << app::version_text() << "\n";
    return EXIT_SUCCESS;
  }
  if (auto err = cfg.check_file(); !err.empty()) {
    std::cerr << "chat-relayd: " << err << "\n";
    return EXIT_FAILURE;
  }
  auto& opts = cfg.options;
  assign_default_id(opts);
  if (auto err = validate(opts); !err.empty()) {
    std::cerr << "chat-relayd: " << err << "\n";
    return EXIT_FAILURE;
  }
  if (auto err = cfg.validate_daemon(); !err.empty()) {
    std::cerr << "chat-relayd: " << err << "\n";
    return EXIT_FAILURE;
  }
  opts.web_root = app::resolve_web_root(opts.web_root);
  if (cfg.daemon.check_config) return app::report_config_check(cfg);
  log::set_level(opts.log_level);
  log::set_format(cfg.daemon.log_format);
  auto metrics = std::make_shared<relay_metrics>();
  app::http_server http{opts, metrics};
  if (auto err = http.start(); !err.empty()) {
    std::cerr << "chat-relayd: " << err << "\n";
    return EXIT_FAILURE;
  }
  caf::actor_system sys{cfg};
  auto relay = spawn_relay(sys, opts, metrics);
  if (cfg.remote.port != 0) {
    // Remote observers and bots reach the registry through the middleman.
    auto& r = cfg.remote;
    auto port =
        sys.middleman().publish(relay.registry, r.port, r.host.c_str(), true);
    if (!port) {
      std::cerr << "chat-relayd: cannot publish the registry on " << r.host
                << ":" << r.port << " (relay.remote-host/remote-port): "
                << sys.render(port.error()) << "\n";
      stop_relay(sys, relay);
      http.stop();
      return EXIT_FAILURE;
    }
    CHATRELAY_LOG(info, "main",
                  "registry published on " << r.host << ":" << *port);
  }
  CHATRELAY_LOG(info, "main",
                app::version_text()
                    << ": " << opts.id << " serving; HTTP on " << opts.http);
  app::log_web_root(opts.web_root);
  // Readiness for systemd follows the relay's role (as /readyz does).
  app::service_notifier service;
  int sig = 0;
  while ((sig = signals.wait_for(std::chrono::milliseconds{200})) == 0)
    service.update(*metrics);
  service.stopping();
  CHATRELAY_LOG(info, "main", "signal " << sig << ": shutting down");
  stop_relay(sys, relay);
  http.stop();
  CHATRELAY_LOG(info, "main", "stopped");
  return EXIT_SUCCESS;
}
