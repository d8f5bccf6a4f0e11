// remote_observer: connects to a running chat-relayd that publishes its
// public interface (relay.remote-port), subscribes an observer and prints every
// chat event as one line of JSON on stdout.
//
//   remote_observer --remote.host=127.0.0.1 --remote.port=4242
//
// Exits 0 on SIGINT/SIGTERM, 1 when it cannot connect or the relay goes away.
#include <chatrelay/actors.hpp>
#include <chatrelay/relay.hpp>
#include <chatrelay/type_ids.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdint>
#include <iostream>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>

using namespace chatrelay;

namespace {

struct config : caf::actor_system_config {
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  config() {
    chatrelay::add_message_types(*this);
    load<caf::io::middleman>();
    caf::config_option_adder{custom_options_, "remote"}
        .add(host, "host", "host of the daemon's published relay")
        .add(port, "port", "port of the daemon's published relay");
    // Must match the daemon's: the versioned name of the typed interfaces.
    set("middleman.app-identifiers",
        std::vector<std::string>{chatrelay::app_identifier});
  }
};

/// Prints each event as one JSON line (stdout is flushed per line).
observer_actor::behavior_type printer(observer_actor::pointer) {
  return {
      [](event_atom, const chat_event& ev) {
        nlohmann::ordered_json j{{"type", to_string(ev.kind)},
                                 {"id", ev.id},
                                 {"ts", ev.ts},
                                 {"room", ev.room},
                                 {"sender", ev.sender},
                                 {"to", ev.to},
                                 {"text", ev.text},
                                 {"cid", ev.cid}};
        std::cout << j.dump() << std::endl;
      },
  };
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before CAF starts its threads; one thread waits.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "remote_observer: " << caf::actor_system_config::render(err)
              << "\n";
    return EXIT_FAILURE;
  }
  if (cfg.cli_helptext_printed) return EXIT_SUCCESS;
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
  self->monitor(*relay);
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
    // A thread turns a stop signal into a message, so one receive waits for
    // either the signal or the relay going away.
    auto me = caf::actor_cast<caf::actor>(self);
    std::thread signals{[me, &stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      caf::anon_send(me, sig);
    }};
    self->receive([&](int) {},
                  [&](const caf::down_msg& down) {
                    std::cerr << "remote_observer: relay gone: "
                              << sys.render(down.reason) << std::endl;
                    rc = EXIT_FAILURE;
                    kill(getpid(), SIGTERM); // wakes the signal thread
                  });
    signals.join();
  }
  caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
  return rc;
}
