// The smallest program embedding the relay (quoted in docs/embedding.md):
// spawn it into an actor system, wait until it serves, and leave: the relay
// handle stops the relay when it goes out of scope (the install test bounds
// this program with a timeout).
#include <chatrelay/config.hpp>
#include <chatrelay/relay.hpp>
#include <chatrelay/type_ids.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <iostream>
#include <thread>

using namespace chatrelay;
using namespace std::chrono_literals;

struct config : caf::actor_system_config {
  relay_options relay; // --relay.amqp-host=..., or [relay] in a config file

  config() {
    chatrelay::add_message_types(*this);
    caf::config_option_adder group{custom_options_, "relay"};
    add_options(group, relay);
  }
};

int main(int argc, char** argv) {
  config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << caf::actor_system_config::render(err) << "\n";
    return 1;
  }
  caf::actor_system sys{cfg};
  auto relay = spawn_relay(sys, cfg.relay);
  if (!relay) {
    std::cerr << sys.render(relay.error()) << "\n";
    return 1;
  }
  auto role = relay_role::disconnected;
  caf::scoped_actor self{sys};
  for (int i = 0; i < 100 && role != relay_role::active; ++i) {
    std::this_thread::sleep_for(100ms);
    self->request(relay->facade(), 1s, status_atom::value)
        .receive([&](relay_role r) { role = r; }, [](caf::error&) {});
  }
  std::cout << "relay " << to_string(role) << "\n";
  // No stop: *relay stops the relay before sys goes out of scope.
  return role == relay_role::active ? 0 : 1;
}
