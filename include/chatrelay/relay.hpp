// The embedding API: spawn the relay's actors into an existing actor_system.
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <memory>

namespace chatrelay {

/// Handles to a running relay.
struct relay_handles {
  /// The relay's public interface (observe, inject, moderate, presence,
  /// status): the one handle to use and to publish. Monitor it: it goes
  /// down, with the failing actor's exit reason, when the relay fails.
  relay_actor facade;
  caf::actor registry; ///< internal: the registry (to monitor)
  caf::actor broker;   ///< internal: the AMQP bridge (to monitor)
};

/// Registers the relay's type ID blocks (public and internal) with `cfg`:
/// call it before the actor system starts.
void add_message_types(caf::actor_system_config& cfg);

/// Spawns the broker bridge, the registry and their facade; the relay
/// connects and serves at once. Requires the type ID block
/// the relay's type IDs loaded (add_message_types(cfg)).
/// The registry and the bridge are linked: should either fail, both end
/// (the broker connection closes, so another relay takes over), and the
/// facade follows with the same exit reason: monitor it to learn of it.
/// @returns the handles, or throws std::invalid_argument naming a bad option.
relay_handles spawn_relay(caf::actor_system& sys, relay_options opts,
                          std::shared_ptr<relay_metrics> metrics = nullptr);

/// Stops a relay: exits its actors and waits until they are gone (the AMQP
/// thread is joined); returns at once for a relay that already failed.
/// Unacknowledged deliveries go back to the broker.
void stop_relay(caf::actor_system& sys, const relay_handles& relay);

} // namespace chatrelay
