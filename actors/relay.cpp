#include "chatrelay/relay.hpp"

#include "actors/facade_actor.hpp"
#include "actors/registry_actor.hpp"
#include "broker/amqp_session.hpp"
#include "broker/broker_actor.hpp"
#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <stdexcept>

namespace chatrelay {

static_assert(
    caf::id_block::chatrelay_internal::end <= first_free_type_id,
    "the relay's type IDs overlap an embedder's (first_free_type_id)");

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::chatrelay>();
  cfg.add_message_types<caf::id_block::chatrelay_internal>();
}

relay_handles spawn_relay(caf::actor_system& sys, relay_options opts,
                          std::shared_ptr<relay_metrics> metrics) {
  assign_default_id(opts);
  if (auto err = validate(opts); !err.empty()) throw std::invalid_argument(err);
  log::set_level(opts.log_level);
  if (!metrics) metrics = std::make_shared<relay_metrics>();
  relay_handles h;
  auto bridge = sys.spawn<caf::detached>(broker::broker, opts, metrics);
  auto reg = sys.spawn(registry, std::move(opts), bridge, metrics);
  h.facade = sys.spawn(facade, reg, bridge);
  h.registry = caf::actor_cast<caf::actor>(reg);
  h.broker = caf::actor_cast<caf::actor>(bridge);
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
  stop(relay.registry);
  stop(relay.broker);
  stop(caf::actor_cast<caf::actor>(relay.facade));
}

} // namespace chatrelay
