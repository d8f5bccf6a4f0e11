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

#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <signal.h>
#include <unistd.h>

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

  int wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

private:
  sigset_t set_;
};

/// Waits for a stop signal or for the relay to fail, whichever comes first.
/// Returns the failure (none: a signal came).
caf::error serve_until_stopped(caf::actor_system& sys, const relay& relay,
                               signal_waiter& signals,
                               const relay_metrics& metrics) {
  // Readiness for systemd follows the relay's role (as /readyz does).
  app::service_notifier service;
  caf::scoped_actor self{sys};
  // The relay's own actors (the published facade could be killed by a
  // remote peer without the relay failing).
  self->monitor(internal::relay_access::registry(relay));
  self->monitor(internal::relay_access::broker(relay));
  // A thread turns the signal into a message, so one receive waits for both.
  auto me = caf::actor_cast<caf::actor>(self);
  std::thread waiter{[me, &signals] {
    auto sig = signals.wait();
    caf::anon_send(me, sig);
  }};
  caf::error failure;
  bool done = false;
  while (!done)
    self->receive(
        [&](int sig) {
          CHATRELAY_LOG(info, "main", "signal " << sig << ": shutting down");
          done = true;
        },
        [&](const caf::down_msg& down) {
          failure = down.reason ? down.reason : caf::exit_reason::unknown;
          kill(getpid(), SIGTERM); // wakes the signal thread
        },
        caf::after(std::chrono::milliseconds{200}) >>
            [&] { service.update(metrics); });
  service.stopping();
  waiter.join();
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
  // Block the signals before any thread starts so only sigwait sees them.
  signal_waiter signals;
  app::relay_config cfg;
  chatrelay::add_message_types(cfg);
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
  auto spawned = spawn_relay(sys, opts, metrics);
  if (!spawned) {
    std::cerr << "chat-relayd: " << sys.render(spawned.error()) << "\n";
    http.stop();
    return EXIT_FAILURE;
  }
  auto relay = std::move(*spawned);
  http.set_probe(
      [&sys, facade = relay.facade()] { return relay_answers(sys, facade); });
  if (cfg.remote.port != 0) {
    // Remote observers and bots reach the relay's public interface (only
    // that: the facade) through the middleman.
    auto& r = cfg.remote;
    auto port =
        sys.middleman().publish(relay.facade(), r.port, r.host.c_str(), true);
    if (!port) {
      std::cerr << "chat-relayd: cannot publish the relay on " << r.host << ":"
                << r.port << " (relay.remote-host/remote-port): "
                << sys.render(port.error()) << "\n";
      http.set_probe({});
      relay.stop();
      http.stop();
      return EXIT_FAILURE;
    }
    CHATRELAY_LOG(info, "main",
                  "relay published on " << r.host << ":" << *port);
  }
  CHATRELAY_LOG(info, "main",
                app::version_text()
                    << ": " << opts.id << " serving; HTTP on " << opts.http);
  app::log_web_root(opts.web_root);
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
