// chat-relayd: the relay as a standalone daemon. Only wiring: configuration,
// the relay's actors, the HTTP port and signals.
#include "app/config.hpp"
#include "app/http_server.hpp"
#include "app/service.hpp"
#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/relay_access.hpp"
#include "chatrelay/internal/type_ids.hpp"
#include "chatrelay/relay.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

using namespace chatrelay;

namespace {

/// Waits for a stop signal or for the relay to fail, whichever comes first.
/// Returns the failure (none: a signal came).
caf::error serve_until_stopped(caf::actor_system& sys, const relay& relay,
                               stop_signals& signals,
                               const relay_metrics& metrics) {
  // Readiness for systemd follows the relay's role (as /readyz does).
  app::service_notifier service;
  // The relay's own actors (the published facade could be killed by a
  // remote peer without the relay failing).
  auto failure = signals.wait_or_down(sys,
                                      {internal::relay_access::registry(relay),
                                       internal::relay_access::broker(relay)},
                                      [&] { service.update(metrics); });
  if (!failure) CHATRELAY_LOG(info, "main", "stop signal: shutting down");
  service.stopping();
  return failure;
}

/// Test hook (the reliability suite): CHATRELAY_TEST_FAIL_REGISTRY_MS=N ends
/// the registry N ms after the start as an exception would, to show that the
/// daemon then drops its broker connection and exits 1.
void arm_failure_hook(const caf::actor& registry) {
  auto* ms = std::getenv("CHATRELAY_TEST_FAIL_REGISTRY_MS");
  if (!ms || !*ms) return;
  auto delay = std::chrono::milliseconds{std::atoll(ms)};
  CHATRELAY_LOG(warning, "main",
                "test hook: the registry fails in " << ms << " ms");
  std::thread{[registry, delay] {
    std::this_thread::sleep_for(delay);
    caf::anon_send_exit(registry, caf::exit_reason::unhandled_exception);
  }}.detach();
}

/// Whether the relay's actors answer (the facade asks the registry).
bool relay_answers(caf::actor_system& sys, const relay_actor& facade) {
  caf::scoped_actor self{sys};
  bool ok = false;
  self->request(facade, std::chrono::seconds(1), status_atom::value)
      .receive([&](relay_role) { ok = true; }, [](const caf::error&) {});
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  // Block the signals before any thread starts so only stop_signals sees them.
  stop_signals signals;
  app::relay_config cfg;
  if (auto exit_status = cfg.read(argc, argv)) return *exit_status;
  if (cfg.version) {
    std::cout << app::version_text() << "\n";
    return EXIT_SUCCESS;
  }
  if (cfg.example_config) {
    app::write_example_config(std::cout);
    return EXIT_SUCCESS;
  }
  auto& opts = cfg.options;
  auto& daemon = cfg.daemon;
  assign_default_id(opts);
  daemon.web_root = app::resolve_web_root(daemon.web_root);
  if (cfg.check_config) return app::report_config_check(cfg);
  log::set_level(daemon.log_level);
  log::set_format(daemon.log_format);
  auto metrics = std::make_shared<relay_metrics>();
  app::http_server http{opts, daemon, metrics};
  if (auto err = http.start(); !err.empty()) {
    std::cerr << "chat-relayd: " << err << "\n";
    return EXIT_FAILURE;
  }
  caf::actor_system sys{cfg};
  auto spawned = spawn_relay(sys, opts, metrics);
  if (!spawned) {
    std::cerr << "chat-relayd: " << sys.render(spawned.error()) << "\n";
    http.stop();
    return EXIT_FAILURE;
  }
  auto relay = std::move(*spawned);
  http.set_probe(
      [&sys, facade = relay.facade()] { return relay_answers(sys, facade); });
  if (daemon.remote_port != 0) {
    // Remote observers and bots reach the relay's public interface (only
    // that: the facade) through the middleman.
    auto port = sys.middleman().publish(relay.facade(), daemon.remote_port,
                                        daemon.remote_host.c_str(), true);
    if (!port) {
      std::cerr << "chat-relayd: cannot publish the relay on "
                << daemon.remote_host << ":" << daemon.remote_port
                << " (relay.remote-host/remote-port): "
                << sys.render(port.error()) << "\n";
      http.set_probe({});
      relay.stop();
      http.stop();
      return EXIT_FAILURE;
    }
    CHATRELAY_LOG(info, "main",
                  "relay published on " << daemon.remote_host << ":" << *port);
  }
  CHATRELAY_LOG(info, "main",
                app::version_text()
                    << ": " << opts.id << " serving; HTTP on " << daemon.http);
  app::log_web_root(daemon.web_root);
  arm_failure_hook(internal::relay_access::registry(relay));
  auto failure = serve_until_stopped(sys, relay, signals, *metrics);
  http.set_probe({});
  if (failure) {
    // The links already ended the other actors and closed the broker
    // connection: unacked deliveries return to the broker, and a standby
    // takes over within relay.failover. Exit so a supervisor restarts us.
    CHATRELAY_LOG(error, "main",
                  "the relay failed (" << sys.render(failure) << "): exiting");
  }
  relay.stop();
  http.stop();
  CHATRELAY_LOG(info, "main", "stopped");
  return failure ? EXIT_FAILURE : EXIT_SUCCESS;
}
