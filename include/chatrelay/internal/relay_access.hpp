// Internal (not installed): a relay's own actors behind its public handle,
// for the daemon and the tests. An embedder watches relay::facade() instead.
#pragma once

#include "chatrelay/relay.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <utility>

namespace chatrelay::internal {

struct relay_access {
  /// A handle owning these running actors of `sys` (spawn_relay).
  static relay make(caf::actor_system& sys, relay_actor facade,
                    caf::actor registry, caf::actor broker) {
    relay r;
    r.sys_ = &sys;
    r.facade_ = std::move(facade);
    r.registry_ = std::move(registry);
    r.broker_ = std::move(broker);
    return r;
  }

  /// The registry: sessions, rooms, the state shared with other relays.
  static const caf::actor& registry(const relay& r) { return r.registry_; }

  /// The broker bridge (AMQP).
  static const caf::actor& broker(const relay& r) { return r.broker_; }
};

} // namespace chatrelay::internal
