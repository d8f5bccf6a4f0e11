#include "actors/facade_actor.hpp"

#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>

namespace chatrelay {

namespace {

/// Asks the registry who is online in `room` and answers as room_users.
caf::typed_response_promise<room_users>
presence(relay_actor::stateful_pointer<facade_state> self, std::string room) {
  auto rp = self->make_response_promise<room_users>();
  self->request(self->state.registry, caf::infinite, presence_atom::value, room)
      .then(
          [rp, room](std::vector<std::string>& logins) mutable {
            rp.deliver(room_users{room, std::move(logins)});
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

relay_actor::behavior_type
facade(relay_actor::stateful_pointer<facade_state> self,
       registry_actor registry, broker_actor broker) {
  self->state.registry = registry;
  self->state.broker = broker;
  // Watches (not links): a facade killed through the middleman (exit_reason
  // ::kill cannot be trapped) must not take the relay with it.
  self->monitor(registry);
  self->monitor(broker);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.registry.address() &&
        msg.source != st.broker.address())
      return;
    if (msg.reason != caf::exit_reason::user_shutdown)
      CHATRELAY_LOG(error, "relay",
                    "a relay actor failed: " << caf::to_string(msg.reason));
    self->quit(msg.reason);
  });
  // Exit messages from others (a remote peer) are ignored: relay::stop stops
  // the relay through its registry.
  self->set_exit_handler([](caf::exit_msg&) {});
  // Messages outside the interface (sent dynamically typed, or by a peer
  // with a forged interface) are dropped, never answered or obeyed.
  self->set_default_handler(caf::drop);
  return {
      [=](subscribe_atom, observer_actor& obs) {
        self->send(self->state.registry, subscribe_atom::value, std::move(obs));
      },
      [=](inject_atom, chat_event& ev) {
        self->send(self->state.registry, inject_atom::value, std::move(ev));
      },
      [=](filter_atom, moderator_actor& mod) {
        self->send(self->state.registry, filter_atom::value, std::move(mod));
      },
      [=](presence_atom, std::string& room) {
        return presence(self, std::move(room));
      },
      [=](status_atom) {
        return self->delegate(self->state.registry, status_atom::value);
      },
  };
}

} // namespace chatrelay
