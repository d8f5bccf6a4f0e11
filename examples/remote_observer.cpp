// remote_observer: connects to a running chat-relayd that publishes its
// public interface (relay.remote-port), subscribes an observer and prints every
// chat event as one line of JSON on stdout.
//
//   remote_observer --remote.host=127.0.0.1 --remote.port=4242
//
// Exits 0 on SIGINT/SIGTERM, 1 when it cannot connect or the relay goes away.
#include <chatrelay/actors.hpp>
#include <chatrelay/app.hpp>
#include <chatrelay/json.hpp>

#include <caf/actor_system.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <string>

using namespace chatrelay;

namespace {

// program_config sets middleman.app-identifiers as the daemon does: the
// versioned name of the typed interfaces, which peers must share.
struct config : program_config {
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  config() : program_config("remote_observer") {
    caf::config_option_adder{custom_options_, "remote"}
        .add(host, "host", "host of the daemon's published relay")
        .add(port, "port", "port of the daemon's published relay");
  }
};

/// Prints each event as one JSON line (stdout is flushed per line).
observer_actor::behavior_type printer(observer_actor::pointer) {
  return {
      [](event_atom, const chat_event& ev) {
        // The relay's own codec: the shape users get (docs/protocol.md).
        std::cout << nlohmann::json(ev).dump() << std::endl;
      },
  };
}

} // namespace

int main(int argc, char** argv) {
  // Before CAF starts its threads: they inherit the blocked signals.
  stop_signals signals;
  config cfg;
  if (auto exit_status = cfg.read(argc, argv)) return *exit_status;
  if (cfg.port == 0) {
    std::cerr << "remote_observer: --remote.port is required\n";
    return EXIT_FAILURE;
  }
  caf::actor_system sys{cfg};
  auto relay = sys.middleman().remote_actor<relay_actor>(cfg.host, cfg.port);
  if (!relay) {
    std::cerr << "remote_observer: cannot reach the relay at " << cfg.host
              << ":" << cfg.port << ": " << sys.render(relay.error()) << "\n";
    return EXIT_FAILURE;
  }
  caf::scoped_actor self{sys};
  auto observer = sys.spawn(printer);
  // Same sender, same receiver: the status reply comes after the subscribe.
  self->send(*relay, subscribe_atom::value, observer);
  auto rc = EXIT_SUCCESS;
  self->request(*relay, std::chrono::seconds(5), status_atom::value)
      .receive(
          [&](relay_role role) {
            std::cerr << "remote_observer: subscribed to " << cfg.host << ":"
                      << cfg.port << " (relay " << to_string(role) << ")"
                      << std::endl;
          },
          [&](const caf::error& err) {
            std::cerr << "remote_observer: no answer from the relay: "
                      << sys.render(err) << std::endl;
            rc = EXIT_FAILURE;
          });
  if (rc == EXIT_SUCCESS) {
    auto gone =
        signals.wait_or_down(sys, {caf::actor_cast<caf::actor>(*relay)});
    if (gone) {
      std::cerr << "remote_observer: relay gone: " << sys.render(gone)
                << std::endl;
      rc = EXIT_FAILURE;
    }
  }
  caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
  return rc;
}
