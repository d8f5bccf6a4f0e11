// The embedding API: spawn the relay's actors into an existing actor_system.
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <caf/actor_system.hpp>

#include <memory>

namespace chatrelay {

/// Handles to a running relay.
struct relay_handles {
  registry_actor registry; ///< observe, inject, presence, status
  broker_actor broker;     ///< the AMQP bridge
};

/// Spawns the broker bridge and the registry; the relay connects and serves
/// at once. Requires the type ID block `caf::id_block::chatrelay` loaded
/// (`cfg.add_message_types<caf::id_block::chatrelay>()`).
/// @returns the handles, or throws std::invalid_argument naming a bad option.
relay_handles spawn_relay(caf::actor_system& sys, relay_options opts,
                          std::shared_ptr<relay_metrics> metrics = nullptr);

/// Stops a relay: exits its actors and waits until they are gone (the AMQP
/// thread is joined). Unacknowledged deliveries go back to the broker.
void stop_relay(caf::actor_system& sys, const relay_handles& relay);

} // namespace chatrelay
