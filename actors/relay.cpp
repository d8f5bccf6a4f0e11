#include "chatrelay/relay.hpp"

#include "actors/facade_actor.hpp"
#include "actors/registry_actor.hpp"
#include "broker/amqp_session.hpp"
#include "broker/broker_actor.hpp"
#include "chatrelay/logging.hpp"
#include "chatrelay/type_ids.hpp"

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <stdexcept>

namespace chatrelay {

relay_handles spawn_relay(caf::actor_system& sys, relay_options opts,
                          std::shared_ptr<relay_metrics> metrics) {
  assign_default_id(opts);
  if (auto err = validate(opts); !err.empty()) throw std::invalid_argument(err);
  if (!metrics) metrics = std::make_shared<relay_metrics>();
  relay_handles h;
  h.broker = sys.spawn<caf::detached>(broker::broker, opts, metrics);
  h.registry = sys.spawn(registry, std::move(opts), h.broker, metrics);
  h.facade = sys.spawn(facade, h.registry, h.broker);
  return h;
}

void stop_relay(caf::actor_system& sys, const relay_handles& relay) {
  caf::scoped_actor self{sys};
  // The registry first (it stops feeding the bridge); its link then ends the
  // bridge, and the facade follows both. An actor already gone is reported
  // down at once.
  auto stop = [&](const caf::actor& a) {
    if (!a) return;
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  };
  stop(caf::actor_cast<caf::actor>(relay.registry));
  stop(caf::actor_cast<caf::actor>(relay.broker));
  stop(caf::actor_cast<caf::actor>(relay.facade));
}

} // namespace chatrelay
